//! Small problems with known solutions, for tests and examples.

use ndarray::{Array1, Array2};
use opt_core::{Objective, OptError, Result, check_len};

use crate::linalg;

/// `f(x) = 0.5 x'Ax - b'x` with a dense symmetric `A`: gradient `Ax - b`,
/// Hessian `A`, minimizer `A^{-1} b` when `A` is positive definite.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseQuadratic {
    a: Array2<f64>,
    b: Array1<f64>,
}

impl DenseQuadratic {
    /// The quadratic of a square symmetric `a` and a `b` of matching length.
    pub fn new(a: Array2<f64>, b: Array1<f64>) -> Result<Self> {
        check_len("quadratic columns", a.nrows(), a.ncols())?;
        check_len("quadratic b", a.nrows(), b.len())?;
        let asymmetry = a
            .indexed_iter()
            .map(|((i, j), v)| (v - a[[j, i]]).abs())
            .fold(0.0, f64::max);
        if asymmetry > 1e-12 * a.iter().fold(1.0f64, |m, v| m.max(v.abs())) {
            return Err(OptError::InvalidState(format!(
                "quadratic matrix is not symmetric (largest |A_ij - A_ji| = {asymmetry:e})"
            )));
        }
        Ok(Self { a, b })
    }

    /// A positive definite quadratic in `n` variables whose eigenvalues are
    /// spaced geometrically from 1 to `condition`, with random (seeded)
    /// eigenvectors and `b` of standard normal-like entries.
    pub fn with_condition(n: usize, condition: f64, seed: u64) -> Self {
        let mut random = SplitMix64(seed);
        let gaussian = Array2::from_shape_fn((n, n), |_| random.uniform_pm1());
        let (q, _) = linalg::qr_thin(&gaussian).expect("a finite square matrix");
        let eigenvalues = Array1::from_shape_fn(n, |i| {
            if n == 1 {
                1.0
            } else {
                condition.powf(i as f64 / (n - 1) as f64)
            }
        });
        let scaled = &q * &eigenvalues;
        let mut a = scaled.dot(&q.t());
        // Exact symmetry, so that methods which assume it see it.
        for i in 0..n {
            for j in 0..i {
                let mean = 0.5 * (a[[i, j]] + a[[j, i]]);
                a[[i, j]] = mean;
                a[[j, i]] = mean;
            }
        }
        let b = Array1::from_shape_fn(n, |_| random.uniform_pm1());
        Self { a, b }
    }

    /// The matrix `A`.
    pub fn matrix(&self) -> &Array2<f64> {
        &self.a
    }

    /// The vector `b`.
    pub fn rhs(&self) -> &Array1<f64> {
        &self.b
    }

    /// The minimizer `A^{-1} b` (`None` when `A` is not positive definite).
    pub fn minimizer(&self) -> Option<Array1<f64>> {
        let factor = linalg::cholesky(&self.a).ok()??;
        Some(factor.solve(&self.b))
    }
}

impl Objective for DenseQuadratic {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.b.len()
    }

    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        check_len("parameters", self.b.len(), x.len())?;
        Ok(0.5 * x.dot(&self.a.dot(x)) - self.b.dot(x))
    }

    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        check_len("parameters", self.b.len(), x.len())?;
        check_len("gradient buffer", self.b.len(), grad.len())?;
        let ax = self.a.dot(x);
        let f = 0.5 * x.dot(&ax) - self.b.dot(x);
        grad.assign(&(ax - &self.b));
        Ok(f)
    }

    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> Result<()> {
        check_len("parameters", self.b.len(), x.len())?;
        check_len("Hessian-vector direction", self.b.len(), v.len())?;
        check_len("Hessian-vector output", self.b.len(), out.len())?;
        out.assign(&self.a.dot(v));
        Ok(())
    }
}

/// The chained Rosenbrock function
/// `f(x) = sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2`, minimum 0 at all ones,
/// with its analytic tridiagonal Hessian-vector product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rosenbrock {
    /// Number of variables (at least 2).
    pub dim: usize,
}

impl Rosenbrock {
    /// The standard start `(-1.2, 1, -1.2, 1, ...)`.
    pub fn start(&self) -> Array1<f64> {
        Array1::from_shape_fn(self.dim, |i| if i % 2 == 0 { -1.2 } else { 1.0 })
    }
}

impl Objective for Rosenbrock {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        let mut grad = Array1::zeros(self.dim);
        self.value_and_grad(x, &mut grad)
    }

    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        check_len("parameters", self.dim, x.len())?;
        check_len("gradient buffer", self.dim, grad.len())?;
        grad.fill(0.0);
        let mut f = 0.0;
        for i in 0..self.dim - 1 {
            let t = x[i + 1] - x[i] * x[i];
            let u = 1.0 - x[i];
            f += 100.0 * t * t + u * u;
            grad[i] += -400.0 * t * x[i] - 2.0 * u;
            grad[i + 1] += 200.0 * t;
        }
        Ok(f)
    }

    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> Result<()> {
        check_len("parameters", self.dim, x.len())?;
        check_len("Hessian-vector direction", self.dim, v.len())?;
        check_len("Hessian-vector output", self.dim, out.len())?;
        out.fill(0.0);
        for i in 0..self.dim - 1 {
            let diagonal = 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
            let off_diagonal = -400.0 * x[i];
            out[i] += diagonal * v[i] + off_diagonal * v[i + 1];
            out[i + 1] += off_diagonal * v[i] + 200.0 * v[i + 1];
        }
        Ok(())
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a seeded stream that never
/// changes with a dependency's version.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform on [-1, 1).
    fn uniform_pm1(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opt_core::gradient::check_gradient;

    #[test]
    fn quadratic_with_condition_has_the_requested_spectrum() {
        let q = DenseQuadratic::with_condition(6, 100.0, 3);
        let (w, _) = linalg::symmetric_eigen(q.matrix()).unwrap();
        assert!(
            (w[0] - 1.0).abs() < 1e-12 && (w[5] - 100.0).abs() < 1e-10,
            "{w}"
        );
        let x = q.minimizer().unwrap();
        let mut g = Array1::zeros(6);
        q.value_and_grad(&x, &mut g).unwrap();
        assert!(g.iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn rosenbrock_gradient_checks() {
        let p = Rosenbrock { dim: 5 };
        let report = check_gradient(&p, &p.start()).unwrap();
        assert!(report.relative_error < 1e-8, "{report:?}");
    }
}
