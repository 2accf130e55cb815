//! `opt-first-order`: methods that use only gradients.
//!
//! Here now: plain gradient descent ([`gd`]), with a fixed learning rate (a
//! [`Stepper`](opt_core::Stepper)) or with a line search (a
//! [`Solver`](opt_core::Solver)). The SGD family (momentum, Nesterov),
//! AdaGrad, RMSProp, Adadelta, Adam, AdamW, AdaMax, NAdam, RAdam, LARS, LAMB
//! and proximal gradient (ISTA/FISTA) come here too, one module per method,
//! with `torch.optim`'s names, defaults and update equations.

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
