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
//! - [`params`]: a model's parameters as an `opt_core::VectorSpace`
//!   (in place on the CPU storage of the candle tensors), so solvers generic
//!   over the vector space (SCG, CG, L-BFGS, ...) run on them directly, and
//!   `update_with` for the fused first-order kernels on the same storage;
//! - [`train`]: the training loop behind `cargo xtask train` (steppers by
//!   seeded mini-batches with optional micro-batch accumulation, solvers by
//!   iterations per epoch), per-epoch train loss, test loss and accuracy;
//! - [`checkpoint`]: checkpoints of a training run (weights as safetensors,
//!   the optimizer's or solver's state, settings and records as JSON) and
//!   their resume, bit for bit on the CPU;
//! - [`landscape`]: loss along a line between two parameter vectors and on
//!   a plane of filter-normalised random (or principal) directions, with a
//!   trajectory projected on it (Li et al. 2018);
//! - [`ModelError`]: one error type naming the file, tensor or argument at
//!   fault.
//!
//! **Set `RAYON_NUM_THREADS`** in programs that train with candle on the
//! CPU: candle 0.11.1 reads it at every matrix product and, when it is
//! unset, counts the CPUs again each time (from /proc and the affinity
//! mask), which took 8 of the 13 ms of an MLP epoch on digits. `cargo xtask`
//! sets it (`--threads`).
//!
//! Feature `cuda` builds candle's CUDA backend (`--device cuda` in `cargo
//! xtask train`); everything builds and passes without it.

pub mod checkpoint;
pub mod data;
pub mod error;
pub mod landscape;
pub mod loss;
pub mod network;
pub mod objective;
pub mod params;
pub mod train;

pub use error::{ModelError, Result};
