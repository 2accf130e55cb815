//! LAPACK through ndarray-linalg (feature `lapack`, OpenBLAS from the system).

use ndarray::{Array1, Array2};
use ndarray_linalg::{Cholesky, Eigh, QR, UPLO};
use opt_core::{OptError, Result};

/// `L` with `A = L L'`, or `None` when `A` is not positive definite.
pub fn cholesky_lower(a: &Array2<f64>) -> Option<Array2<f64>> {
    let lower = a.cholesky(UPLO::Lower).ok()?;
    let usable = lower.diag().iter().all(|d| d.is_finite() && *d > 0.0);
    usable.then_some(lower)
}

/// Ascending eigenvalues and eigenvectors (columns) of a symmetric matrix.
pub fn symmetric_eigen(a: &Array2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    a.eigh(UPLO::Lower)
        .map_err(|error| OptError::Factorization(format!("LAPACK dsyevd: {error}")))
}

/// Thin `Q` (`m x n`) and `R` (`n x n`) of an `m x n` matrix, `m >= n`.
pub fn qr_thin(a: &Array2<f64>) -> Result<(Array2<f64>, Array2<f64>)> {
    a.qr()
        .map_err(|error| OptError::Factorization(format!("LAPACK dgeqrf: {error}")))
}
