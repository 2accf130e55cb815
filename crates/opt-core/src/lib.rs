//! `opt-core`: the vocabulary every crate of the `opt` workspace speaks.
//!
//! - [`VectorSpace`]: what an iterative method needs of a parameter vector;
//! - [`Objective`], [`FiniteSum`], [`LeastSquares`]: the problems a user implements;
//! - [`Counted`]: evaluation counting, done once;
//! - [`schedule`]: learning-rate schedules, pure functions of the step;
//! - [`line_search`]: backtracking Armijo, strong Wolfe, exact and 1-D searches;
//! - [`gradient`]: gradient checking, accumulation and clipping;
//! - [`runner`]: one loop that drives steppers and solvers under stopping rules,
//!   with observers;
//! - [`OptError`]: the typed error every fallible call returns.

pub mod counting;
pub mod error;
pub mod gradient;
pub mod line_search;
pub mod problem;
pub mod runner;
pub mod scalar;
pub mod schedule;
pub mod state;
pub mod vector;

pub use counting::{Counted, Evals};
pub use error::{OptError, Result, check_len};
pub use num_traits;
pub use problem::{
    FiniteSum, GeneralizedLinear, LeastSquares, Objective, ScalarOf, SumOfSquares,
    central_difference_hvp, check_batch,
};
pub use runner::{IterState, RunReport, Runner, Solver, Stepper, StepperSolver, StopReason};
pub use scalar::Scalar;
pub use state::SaveState;
pub use vector::{VectorSpace, all_finite};
