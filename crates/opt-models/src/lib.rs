//! `opt-models`: candle networks trained by the optimizers of this workspace.
//!
//! - [`data`]: the embedded digits split (1437 train / 360 test, pixels / 16)
//!   and a loader for MNIST / Fashion-MNIST IDX files (gzipped or not);
//! - [`network`]: an MLP and a small CNN on candle, f32 on the CPU by
//!   default (f64 for gradient checks), seeded initialisation;
//! - [`loss`]: mean cross-entropy and MSE, optional L2;
//! - [`objective`]: (model, loss, data) as an `opt_core::Objective` /
//!   `FiniteSum` over the flattened parameter vector, value and gradient by
//!   candle's backprop, so every solver of the workspace trains a network;
//! - [`ModelError`]: one error type naming the file, tensor or argument at
//!   fault.
//!
//! Still to come (issue 8): the vector-space trait on candle tensors with
//! the fused first-order kernels, minibatched SCG experiments,
//! `cargo xtask train`, the `networks` bench suite and loss landscapes.

pub mod data;
pub mod error;
pub mod loss;
pub mod network;
pub mod objective;

pub use error::{ModelError, Result};
