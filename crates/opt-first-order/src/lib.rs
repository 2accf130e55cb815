//! `opt-first-order`: methods that use only gradients.
//!
//! - [`gd`]: plain gradient descent, with a fixed learning rate (a
//!   [`Stepper`](opt_core::Stepper)) or a line search (a
//!   [`Solver`](opt_core::Solver));
//! - the `torch.optim` methods, with PyTorch's argument names, defaults and
//!   update equations: [`Sgd`] (momentum, Nesterov), [`Adagrad`],
//!   [`Rmsprop`], [`Adadelta`], [`Adam`] (AMSGrad, AdamW), [`Adamax`],
//!   [`Nadam`], [`Radam`];
//! - for large batches, [`Lars`] and [`Lamb`] with layer-wise trust ratios;
//! - proximal gradient for an L1 term: [`Ista`], [`Fista`].
//!
//! Each method is a hyperparameter struct implementing [`Method`]; an
//! [`Optimizer`] holds it over one or more parameter arrays in
//! [`ParamGroup`]s and runs each step as one fused pass ([`kernel`]).
//!
//! ```
//! use ndarray::array;
//! use opt_core::Stepper;
//! use opt_first_order::{Adam, Optimizer};
//!
//! let mut adam = Optimizer::<Adam, f32>::new(Adam { lr: 0.1, ..Adam::default() })?;
//! let mut x = array![1.0f32, -2.0];
//! for _ in 0..200 {
//!     let grad = &x * 2.0; // f = ||x||^2
//!     adam.step(&mut x, &grad)?;
//! }
//! assert!(x.iter().all(|v| v.abs() < 0.05));
//! # Ok::<(), opt_core::OptError>(())
//! ```

pub mod adadelta;
pub mod adagrad;
pub mod adam;
pub mod adamax;
pub mod gd;
pub mod kernel;
pub mod lamb;
pub mod lars;
pub mod nadam;
pub mod optimizer;
pub mod proximal;
pub mod radam;
pub mod rmsprop;
pub mod sgd;
#[cfg(test)]
mod testing;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use gd::{GradientDescent, LineSearchDescent, LineSearchKind};
pub use lamb::Lamb;
pub use lars::Lars;
pub use nadam::Nadam;
pub use optimizer::{ArrayState, Method, Optimizer, OptimizerState, ParamGroup};
pub use proximal::{Fista, Ista};
pub use radam::Radam;
pub use rmsprop::Rmsprop;
pub use sgd::Sgd;

/// The README's library example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExample;
