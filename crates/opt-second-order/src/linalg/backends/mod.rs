//! The factorization backends; see the parent module.

pub mod faer;
#[cfg(feature = "lapack")]
pub mod lapack;
