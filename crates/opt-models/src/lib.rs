//! `opt-models`: candle networks trained by the optimizers of this workspace.
//!
//! What goes here: networks (CPU by default, CUDA behind a feature), losses,
//! data sets (MNIST / Fashion-MNIST IDX files, the embedded digits), a
//! training loop, the `VectorSpace` implementation for a set of candle
//! tensors, and adapters so that every stepper and solver can train a
//! network; loss-landscape plots.
//!
//! Nothing is implemented yet, and candle is not a dependency until it is:
//! the crate compiles so that the workspace's layout is in place.
