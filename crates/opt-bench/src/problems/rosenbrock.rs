//! The chained Rosenbrock function (`rosenbrock[:dim=N]`):
//!
//! `f(x) = sum_{i=0}^{n-2} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2`,
//!
//! minimum `f(1, ..., 1) = 0`, start `(-1.2, 1, -1.2, 1, ...)`. With
//! `t_i = x_{i+1} - x_i^2`, the term `i` contributes
//! `-400 t_i x_i - 2 (1 - x_i)` to `g_i` and `200 t_i` to `g_{i+1}`; the
//! Hessian is tridiagonal with
//! `H_ii = [i < n-1] (1200 x_i^2 - 400 x_{i+1} + 2) + [i > 0] 200` and
//! `H_{i,i+1} = H_{i+1,i} = -400 x_i`.
//!
//! (MGH problem 1 is the `n = 2` case; the MGH "extended Rosenbrock" is the
//! block form, a different function for `n > 2`.)

use ndarray::Array1;
use opt_core::{Objective, check_len};

use crate::error::{BenchError, Result};

/// The chained Rosenbrock function of dimension `dim >= 2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rosenbrock {
    dim: usize,
    name: String,
}

impl Rosenbrock {
    /// The chained Rosenbrock function in `dim >= 2` variables.
    pub fn new(dim: usize) -> Result<Self> {
        if dim < 2 {
            return Err(BenchError::InvalidArgument {
                kind: "problem",
                name: "rosenbrock".to_owned(),
                key: "dim".to_owned(),
                value: dim.to_string(),
                reason: "must be at least 2".to_owned(),
            });
        }
        Ok(Self {
            dim,
            name: format!("rosenbrock:dim={dim}"),
        })
    }

    /// The standard start `(-1.2, 1, -1.2, 1, ...)`.
    pub fn start(&self) -> Array1<f64> {
        Array1::from_shape_fn(self.dim, |i| if i % 2 == 0 { -1.2 } else { 1.0 })
    }

    /// The canonical spec, `rosenbrock:dim=N`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Objective for Rosenbrock {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&self, x: &Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim, x.len())?;
        Ok(x.windows(2)
            .into_iter()
            .map(|pair| {
                let (xi, next) = (pair[0], pair[1]);
                100.0 * (next - xi * xi).powi(2) + (1.0 - xi).powi(2)
            })
            .sum())
    }

    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim, x.len())?;
        check_len("gradient buffer", self.dim, grad.len())?;
        grad.fill(0.0);
        let mut f = 0.0;
        for i in 0..self.dim - 1 {
            let xi = x[i];
            let t = x[i + 1] - xi * xi;
            let u = 1.0 - xi;
            f += 100.0 * t * t + u * u;
            grad[i] += -400.0 * t * xi - 2.0 * u;
            grad[i + 1] += 200.0 * t;
        }
        Ok(f)
    }

    /// The analytic (tridiagonal) Hessian times `v`.
    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.dim, x.len())?;
        check_len("Hessian-vector direction", self.dim, v.len())?;
        check_len("Hessian-vector output", self.dim, out.len())?;
        out.fill(0.0);
        for i in 0..self.dim - 1 {
            let xi = x[i];
            let diagonal = 1200.0 * xi * xi - 400.0 * x[i + 1] + 2.0;
            let off_diagonal = -400.0 * xi;
            out[i] += diagonal * v[i] + off_diagonal * v[i + 1];
            out[i + 1] += off_diagonal * v[i] + 200.0 * v[i + 1];
        }
        Ok(())
    }
}
