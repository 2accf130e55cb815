//! faer (pure Rust), the default backend.

use ::faer::{Mat, Side};
use ndarray::{Array1, Array2};
use opt_core::{OptError, Result};

fn to_faer(a: &Array2<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn to_ndarray(a: ::faer::MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((a.nrows(), a.ncols()), |(i, j)| a[(i, j)])
}

/// `L` with `A = L L'`, or `None` when `A` is not positive definite.
pub fn cholesky_lower(a: &Array2<f64>) -> Option<Array2<f64>> {
    let factor = to_faer(a).llt(Side::Lower).ok()?;
    let lower = to_ndarray(factor.L());
    // faer reports success for some matrices that are singular to working
    // precision; a zero or non-finite pivot is not a usable factor.
    let usable = lower.diag().iter().all(|d| d.is_finite() && *d > 0.0);
    usable.then_some(lower)
}

/// Ascending eigenvalues and eigenvectors (columns) of a symmetric matrix.
pub fn symmetric_eigen(a: &Array2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let eigen = to_faer(a)
        .self_adjoint_eigen(Side::Lower)
        .map_err(|error| {
            OptError::Factorization(format!("faer symmetric eigensolver: {error:?}"))
        })?;
    let values = eigen.S();
    let values = Array1::from_shape_fn(a.nrows(), |i| values[i]);
    Ok((values, to_ndarray(eigen.U())))
}

/// Thin `Q` (`m x n`) and `R` (`n x n`) of an `m x n` matrix, `m >= n`.
pub fn qr_thin(a: &Array2<f64>) -> Result<(Array2<f64>, Array2<f64>)> {
    let qr = to_faer(a).qr();
    Ok((
        to_ndarray(qr.compute_thin_Q().as_ref()),
        to_ndarray(qr.thin_R()),
    ))
}
