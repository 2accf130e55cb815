//! Dense linear algebra for the second-order methods, in `f64`.
//!
//! Three factorizations, each behind one function so that a method never
//! names a backend:
//!
//! | function | computes | used by |
//! |---|---|---|
//! | [`cholesky`] | `A = L L'` of a symmetric positive definite `A` (`None` when it is not) | Newton, damped Newton, TONGA |
//! | [`symmetric_eigen`] | `A = V diag(w) V'`, `w` ascending | saddle-free Newton |
//! | [`qr_thin`] | `A = Q R`, `Q` `m x n` with orthonormal columns, `R` upper triangular | Gauss-Newton, Levenberg-Marquardt |
//!
//! The backend is faer (pure Rust) by default and LAPACK through
//! ndarray-linalg (OpenBLAS from the system) with the `lapack` feature. Both
//! are always reachable as [`backends::faer`] and, with the feature,
//! `backends::lapack`, so a test can check that they agree. Triangular
//! solves are written here once: they are O(n^2) loops that do not need a
//! backend.

pub mod backends;

use ndarray::{Array1, Array2};
use opt_core::{OptError, Result};

#[cfg(not(feature = "lapack"))]
use backends::faer as active;
#[cfg(feature = "lapack")]
use backends::lapack as active;

/// The backend the public functions use: `"faer"` or `"lapack"`.
pub const BACKEND: &str = if cfg!(feature = "lapack") {
    "lapack"
} else {
    "faer"
};

/// A Cholesky factor `L` (lower triangular, positive diagonal) of `A = L L'`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cholesky {
    lower: Array2<f64>,
}

impl Cholesky {
    /// Wraps a lower-triangular factor computed elsewhere.
    pub fn from_lower(lower: Array2<f64>) -> Self {
        Self { lower }
    }

    /// The factor `L`.
    pub fn lower(&self) -> &Array2<f64> {
        &self.lower
    }

    /// Solves `A x = b` in place (`b` becomes `x`) by `L y = b`, `L' x = y`.
    pub fn solve_in_place(&self, b: &mut Array1<f64>) {
        let l = &self.lower;
        let n = l.nrows();
        for i in 0..n {
            let mut sum = b[i];
            for k in 0..i {
                sum -= l[[i, k]] * b[k];
            }
            b[i] = sum / l[[i, i]];
        }
        for i in (0..n).rev() {
            let mut sum = b[i];
            for k in i + 1..n {
                sum -= l[[k, i]] * b[k];
            }
            b[i] = sum / l[[i, i]];
        }
    }

    /// `A^{-1} b`.
    pub fn solve(&self, b: &Array1<f64>) -> Array1<f64> {
        let mut x = b.clone();
        self.solve_in_place(&mut x);
        x
    }
}

fn check_square(what: &'static str, a: &Array2<f64>) -> Result<()> {
    if a.nrows() != a.ncols() {
        return Err(OptError::ShapeMismatch {
            what,
            expected: a.nrows(),
            got: a.ncols(),
        });
    }
    Ok(())
}

fn check_finite(what: &'static str, a: &Array2<f64>) -> Result<()> {
    if a.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(OptError::NonFinite { what, iteration: 0 })
    }
}

/// The Cholesky factor of the symmetric matrix `a` (its lower triangle is
/// read), or `Ok(None)` when `a` is not numerically positive definite.
/// Errors: `a` not square or not finite.
pub fn cholesky(a: &Array2<f64>) -> Result<Option<Cholesky>> {
    check_square("matrix to factor (columns)", a)?;
    check_finite("matrix to factor", a)?;
    Ok(active::cholesky_lower(a).map(Cholesky::from_lower))
}

/// Eigenvalues (ascending) and orthonormal eigenvectors (columns) of the
/// symmetric matrix `a`. Errors: `a` not square, not finite, or the
/// backend's iteration failing to converge.
pub fn symmetric_eigen(a: &Array2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    check_square("matrix to diagonalize (columns)", a)?;
    check_finite("matrix to diagonalize", a)?;
    active::symmetric_eigen(a)
}

/// The thin QR factorization of an `m x n` matrix with `m >= n`:
/// `Q` (`m x n`, orthonormal columns) and `R` (`n x n`, upper triangular).
/// Signs are the backend's (a column of `Q` and the row of `R` may be
/// negated together). Errors: `m < n` or a non-finite entry.
pub fn qr_thin(a: &Array2<f64>) -> Result<(Array2<f64>, Array2<f64>)> {
    if a.nrows() < a.ncols() {
        return Err(OptError::ShapeMismatch {
            what: "rows of the matrix to factor (at least its columns)",
            expected: a.ncols(),
            got: a.nrows(),
        });
    }
    check_finite("matrix to factor", a)?;
    active::qr_thin(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn spd() -> Array2<f64> {
        array![[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        let a = spd();
        let x_true = array![1.0, -2.0, 0.5];
        let b = a.dot(&x_true);
        let factor = cholesky(&a).unwrap().expect("positive definite");
        let x = factor.solve(&b);
        for (xi, ti) in x.iter().zip(&x_true) {
            assert!((xi - ti).abs() < 1e-14, "{x}");
        }
        let l = factor.lower();
        let rebuilt = l.dot(&l.t());
        assert!((&rebuilt - &a).iter().all(|d| d.abs() < 1e-14));
    }

    #[test]
    fn cholesky_reports_an_indefinite_matrix_as_none() {
        let a = array![[1.0, 2.0], [2.0, 1.0]];
        assert!(cholesky(&a).unwrap().is_none());
        assert!(cholesky(&array![[1.0, 0.0], [0.0, 0.0]]).unwrap().is_none());
    }

    #[test]
    fn bad_matrices_are_errors() {
        assert!(matches!(
            cholesky(&Array2::zeros((2, 3))),
            Err(OptError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            symmetric_eigen(&array![[1.0, f64::NAN], [f64::NAN, 1.0]]),
            Err(OptError::NonFinite { .. })
        ));
        assert!(matches!(
            qr_thin(&Array2::zeros((2, 3))),
            Err(OptError::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn symmetric_eigen_of_a_known_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3, vectors (1, -1)/sqrt2, (1, 1)/sqrt2.
        let (w, v) = symmetric_eigen(&array![[2.0, 1.0], [1.0, 2.0]]).unwrap();
        assert!(
            (w[0] - 1.0).abs() < 1e-14 && (w[1] - 3.0).abs() < 1e-14,
            "{w}"
        );
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!((v[[0, 0]].abs() - s).abs() < 1e-14);
        assert!((v[[0, 0]] + v[[1, 0]]).abs() < 1e-14);
        assert!((v[[0, 1]] - v[[1, 1]]).abs() < 1e-14);
    }

    #[test]
    fn qr_thin_reconstructs_and_is_orthonormal() {
        let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.5], [0.5, -1.0]];
        let (q, r) = qr_thin(&a).unwrap();
        assert_eq!((q.dim(), r.dim()), ((4, 2), (2, 2)));
        assert!((q.dot(&r) - &a).iter().all(|d| d.abs() < 1e-13));
        let qtq = q.t().dot(&q);
        assert!(
            (qtq - Array2::<f64>::eye(2))
                .iter()
                .all(|d| d.abs() < 1e-14)
        );
        assert_eq!(r[[1, 0]], 0.0);
    }

    /// With the `lapack` feature both backends are compiled: they must agree.
    #[cfg(feature = "lapack")]
    #[test]
    fn faer_and_lapack_agree() {
        use super::backends::{faer, lapack};
        let n = 7;
        let g = Array2::from_shape_fn((n + 3, n), |(i, j)| {
            ((i * 7 + j * 3) % 11) as f64 - 4.7 + if i == j { 3.0 } else { 0.0 }
        });
        let a = g.t().dot(&g) + Array2::<f64>::eye(n);
        let close = |x: &Array2<f64>, y: &Array2<f64>, tol: f64| {
            x.iter()
                .zip(y)
                .all(|(p, q)| (p - q).abs() <= tol * (1.0 + q.abs()))
        };
        let l_faer = faer::cholesky_lower(&a).unwrap();
        let l_lapack = lapack::cholesky_lower(&a).unwrap();
        assert!(close(&l_faer, &l_lapack, 1e-12));
        let (w_faer, v_faer) = faer::symmetric_eigen(&a).unwrap();
        let (w_lapack, v_lapack) = lapack::symmetric_eigen(&a).unwrap();
        assert!(
            w_faer
                .iter()
                .zip(&w_lapack)
                .all(|(p, q)| (p - q).abs() <= 1e-11 * q.abs())
        );
        // Eigenvectors agree up to sign.
        for j in 0..n {
            let sign = v_faer.column(j).dot(&v_lapack.column(j)).signum();
            for i in 0..n {
                assert!((v_faer[[i, j]] - sign * v_lapack[[i, j]]).abs() < 1e-9);
            }
        }
        let (q_faer, r_faer) = faer::qr_thin(&g).unwrap();
        let (q_lapack, r_lapack) = lapack::qr_thin(&g).unwrap();
        // R agrees up to the sign of each row (Q's columns flip with it).
        for i in 0..n {
            let sign = (r_faer[[i, i]] * r_lapack[[i, i]]).signum();
            for j in 0..n {
                assert!(
                    (r_faer[[i, j]] - sign * r_lapack[[i, j]]).abs()
                        < 1e-10 * (1.0 + r_lapack[[i, j]].abs())
                );
            }
            for k in 0..n + 3 {
                assert!((q_faer[[k, i]] - sign * q_lapack[[k, i]]).abs() < 1e-10);
            }
        }
        assert!(faer::cholesky_lower(&array![[1.0, 2.0], [2.0, 1.0]]).is_none());
        assert!(lapack::cholesky_lower(&array![[1.0, 2.0], [2.0, 1.0]]).is_none());
    }
}
