//! Standard errors of least-squares estimates.
//!
//! At the estimate `x` with `m` residuals and `n` parameters, the usual
//! (asymptotic, Gauss-Newton) covariance is
//!
//! ```text
//! Cov(x) = s^2 (J'J)^{-1},   s^2 = RSS / (m - n),   RSS = ||r(x)||^2,
//! ```
//!
//! and the standard errors are `sqrt(diag Cov)` (NIST's certified standard
//! deviations are these). `(J'J)^{-1}` is formed from the QR factorization
//! with column pivoting `J P = Q R` as `P R^{-1} R^{-T} P'`, so `J'J` itself
//! is never formed (its condition number is that of `J` squared).

use ndarray::{Array1, Array2};
use opt_core::{LeastSquares, OptError, Result, check_len};

use super::qr::{PivotedQr, norm};
use super::{evaluate_jacobian, evaluate_residuals};

/// Parameters of a fit with their standard errors.
#[derive(Debug, Clone, PartialEq)]
pub struct FitSummary {
    /// The estimate `x`.
    pub parameters: Array1<f64>,
    /// `sqrt(diag Cov(x))`.
    pub standard_errors: Array1<f64>,
    /// `s^2 (J'J)^{-1}`.
    pub covariance: Array2<f64>,
    /// The residual sum of squares `||r(x)||^2` (whatever the problem's
    /// value scale).
    pub rss: f64,
    /// `m - n`.
    pub degrees_of_freedom: usize,
    /// `s = sqrt(RSS / (m - n))`.
    pub residual_std_dev: f64,
}

impl std::fmt::Display for FitSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (j, (value, error)) in self
            .parameters
            .iter()
            .zip(&self.standard_errors)
            .enumerate()
        {
            writeln!(f, "x{} = {value:.10e} +/- {error:.4e}", j + 1)?;
        }
        write!(
            f,
            "RSS = {:.10e}, s = {:.6e} on {} degrees of freedom",
            self.rss, self.residual_std_dev, self.degrees_of_freedom
        )
    }
}

/// Standard errors at the estimate `x` (module docs): one residual and one
/// Jacobian evaluation.
///
/// Errors: `x` of the wrong length, `m <= n` (no degrees of freedom left),
/// non-finite residuals or Jacobian, and a Jacobian of numerical rank below
/// `n` (a pivot of `R` at most `n eps |R_00|`), where the covariance does
/// not exist ([`OptError::NotPositiveDefinite`]).
pub fn fit_summary<L: LeastSquares<Scalar = f64> + ?Sized>(
    problem: &L,
    x: &Array1<f64>,
) -> Result<FitSummary> {
    let (m, n) = (problem.num_residuals(), problem.num_parameters());
    check_len("parameters", n, x.len())?;
    if m <= n {
        return Err(OptError::ShapeMismatch {
            what: "residuals for standard errors (more than the parameters)",
            expected: n + 1,
            got: m,
        });
    }
    let mut residuals = Array1::zeros(m);
    if !evaluate_residuals(problem, x, &mut residuals)? {
        return Err(OptError::NonFinite {
            what: "residuals at the estimate",
            iteration: 0,
        });
    }
    let mut jacobian = Array2::zeros((m, n));
    evaluate_jacobian(problem, x, &mut jacobian, 0)?;
    let mut qr = PivotedQr::new(m, n);
    qr.factor(&jacobian);
    let rank = qr.rank(n as f64 * f64::EPSILON);
    if rank < n {
        return Err(OptError::NotPositiveDefinite {
            what: "J'J at the estimate",
            detail: format!(
                " (the Jacobian has numerical rank {rank} < {n}): the standard errors are undefined"
            ),
        });
    }

    // R^{-1}, upper triangular, column by column.
    let r = qr.r();
    let mut inverse = Array2::<f64>::zeros((n, n));
    for column in 0..n {
        inverse[[column, column]] = 1.0 / r[[column, column]];
        for i in (0..column).rev() {
            let sum: f64 = (i + 1..=column)
                .map(|k| r[[i, k]] * inverse[[k, column]])
                .sum();
            inverse[[i, column]] = -sum / r[[i, i]];
        }
    }
    let rss_norm = norm(residuals.iter().copied());
    let rss = rss_norm * rss_norm;
    let degrees_of_freedom = m - n;
    let variance = rss / degrees_of_freedom as f64;
    // Cov = s^2 P (R^{-1} R^{-T}) P'.
    let permutation = qr.permutation();
    let mut covariance = Array2::zeros((n, n));
    for a in 0..n {
        for b in 0..n {
            let start = a.max(b);
            let sum: f64 = (start..n).map(|k| inverse[[a, k]] * inverse[[b, k]]).sum();
            covariance[[permutation[a], permutation[b]]] = variance * sum;
        }
    }
    let standard_errors = Array1::from_shape_fn(n, |j| covariance[[j, j]].sqrt());
    Ok(FitSummary {
        parameters: x.clone(),
        standard_errors,
        covariance,
        rss,
        degrees_of_freedom,
        residual_std_dev: variance.sqrt(),
    })
}
