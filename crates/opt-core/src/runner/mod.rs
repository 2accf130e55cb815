//! One loop that drives every method under the same stopping rules.
//!
//! A first-order optimizer is a [`Stepper`] (`step(params, grad)`); a
//! full-batch method is a [`Solver`] that owns its loop state and advances an
//! [`IterState`]. [`StepperSolver`] turns a stepper into a solver (full batch
//! or mini-batches of a [`FiniteSum`], with an optional learning-rate
//! schedule), so [`Runner::run`] drives both alike and reports a [`RunReport`]
//! with a closed [`StopReason`].

mod observer;
mod stepper;

use std::time::{Duration, Instant};

use num_traits::Float;
use serde::{Deserialize, Serialize};

pub use observer::{
    History, HistoryRecord, JsonLinesTrace, Observer, ProgressObserver, SharedHistory,
    TRACE_MAX_DIM,
};
pub use stepper::{Stepper, StepperSolver};

use crate::counting::{Counted, Evals};
use crate::error::{OptError, Result, check_len};
use crate::problem::{Objective, ScalarOf};
use crate::scalar::Scalar;
use crate::vector::VectorSpace;

/// Where a run is: the iterate with its full objective value and gradient.
#[derive(Debug, Clone)]
pub struct IterState<V: VectorSpace> {
    /// Iterations completed (0 at the start).
    pub iter: usize,
    /// The current iterate `x_k`.
    pub x: V,
    /// `f(x_k)`.
    pub f: ScalarOf<V>,
    /// `grad f(x_k)`.
    pub grad: V,
}

impl<V: VectorSpace> IterState<V> {
    /// A state at `x0` with value and gradient still to be computed.
    pub fn new(x0: V) -> Self {
        let grad = x0.zeros_like();
        Self {
            iter: 0,
            x: x0,
            f: ScalarOf::<V>::nan(),
            grad,
        }
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `||grad f||_inf <= gtol`.
    GradientTolerance,
    /// `|f_{k-1} - f_k| <= ftol max(|f_{k-1}|, |f_k|, 1)`.
    FunctionTolerance,
    /// The iteration budget was spent.
    MaxIterations,
    /// The budget of passes over the data was spent.
    MaxEpochs,
    /// The wall-clock budget was spent.
    TimeBudget,
    /// The line search found no acceptable step.
    LineSearchFailed,
    /// The objective or its gradient became NaN or infinite.
    Diverged,
}

impl StopReason {
    /// Whether the stop means the tolerance was met.
    pub fn is_converged(self) -> bool {
        matches!(
            self,
            StopReason::GradientTolerance | StopReason::FunctionTolerance
        )
    }

    /// The snake-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::GradientTolerance => "gradient_tolerance",
            StopReason::FunctionTolerance => "function_tolerance",
            StopReason::MaxIterations => "max_iterations",
            StopReason::MaxEpochs => "max_epochs",
            StopReason::TimeBudget => "time_budget",
            StopReason::LineSearchFailed => "line_search_failed",
            StopReason::Diverged => "diverged",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method that owns its loop state: `init` once, then `next_iter` until
/// the runner or the method stops.
pub trait Solver<P: Objective> {
    /// Called once with `state.x = x0`. Must leave `state.f` and `state.grad`
    /// at the full objective's value and gradient at `x0`; the default does
    /// one counted evaluation.
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<P::Vector>) -> Result<()> {
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        Ok(())
    }

    /// One iteration: move `state.x` and update `state.f`, `state.grad` to
    /// the full objective there. `Ok(Some(reason))` stops the run with the
    /// state unchanged or at its last valid point.
    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<P::Vector>,
    ) -> Result<Option<StopReason>>;

    /// Method-specific quantities worth reporting (step size, damping, ...).
    fn metrics(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}

/// What a run ended with (the `--json` summary of `cargo xtask run`).
#[derive(Debug, Clone)]
pub struct RunReport<V: VectorSpace> {
    pub iterations: usize,
    pub x: V,
    pub f: ScalarOf<V>,
    /// Euclidean norm of the final gradient.
    pub grad_norm: ScalarOf<V>,
    /// Infinity norm of the final gradient.
    pub grad_inf: ScalarOf<V>,
    pub evals: Evals,
    pub stop_reason: StopReason,
    pub converged: bool,
    pub time_s: f64,
}

/// The stopping rules and observers of a run, builder style.
///
/// Rules are checked after every iteration (the gradient test also at the
/// start), in this order: non-finite values, gradient tolerance, function
/// tolerance, the method's own stop, iterations, epochs, time. With no
/// budget at all a run goes on until a tolerance or the method stops it.
pub struct Runner<V: VectorSpace> {
    max_iters: Option<usize>,
    max_epochs: Option<f64>,
    gtol: Option<f64>,
    ftol: Option<f64>,
    time_budget: Option<Duration>,
    observers: Vec<Box<dyn Observer<V>>>,
}

impl<V: VectorSpace> std::fmt::Debug for Runner<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("max_iters", &self.max_iters)
            .field("max_epochs", &self.max_epochs)
            .field("gtol", &self.gtol)
            .field("ftol", &self.ftol)
            .field("time_budget", &self.time_budget)
            .field("observers", &self.observers.len())
            .finish()
    }
}

impl<V: VectorSpace> Default for Runner<V> {
    fn default() -> Self {
        Self::new()
    }
}

fn non_negative(name: &'static str, value: f64) -> Result<f64> {
    if value >= 0.0 && !value.is_nan() {
        Ok(value)
    } else {
        Err(OptError::invalid(
            name,
            value,
            "must be a non-negative number",
        ))
    }
}

impl<V: VectorSpace> Runner<V> {
    /// A runner with no stopping rule and no observer.
    pub fn new() -> Self {
        Self {
            max_iters: None,
            max_epochs: None,
            gtol: None,
            ftol: None,
            time_budget: None,
            observers: Vec::new(),
        }
    }

    /// Stop after `n` iterations.
    pub fn max_iters(mut self, n: usize) -> Self {
        self.max_iters = Some(n);
        self
    }

    /// Stop after `epochs` effective passes over the data (sample
    /// evaluations / n; for a problem that is not a finite sum, gradient
    /// evaluations).
    pub fn max_epochs(mut self, epochs: f64) -> Result<Self> {
        self.max_epochs = Some(non_negative("epochs", epochs)?);
        Ok(self)
    }

    /// Stop when `||grad f||_inf <= gtol` (SciPy's convention).
    pub fn gtol(mut self, gtol: f64) -> Result<Self> {
        self.gtol = Some(non_negative("gtol", gtol)?);
        Ok(self)
    }

    /// Stop when `|f_{k-1} - f_k| <= ftol max(|f_{k-1}|, |f_k|, 1)`.
    pub fn ftol(mut self, ftol: f64) -> Result<Self> {
        self.ftol = Some(non_negative("ftol", ftol)?);
        Ok(self)
    }

    /// Stop once the run has taken `budget` of wall-clock time.
    pub fn time_budget(mut self, budget: Duration) -> Self {
        self.time_budget = Some(budget);
        self
    }

    /// Add an observer, called at the start and after every iteration.
    pub fn observe(mut self, observer: Box<dyn Observer<V>>) -> Self {
        self.observers.push(observer);
        self
    }

    /// Run `solver` on `problem` from `x0`.
    pub fn run<P, S>(&mut self, problem: &Counted<P>, solver: &mut S, x0: V) -> Result<RunReport<V>>
    where
        P: Objective<Vector = V>,
        S: Solver<P> + ?Sized,
    {
        check_len("starting point", problem.dim(), x0.len())?;
        let started = Instant::now();
        let mut state = IterState::new(x0);
        solver.init(problem, &mut state)?;
        self.notify(&state, problem, started)?;

        let mut stop = self.check_start(&state);
        while stop.is_none() {
            let previous_f = state.f;
            let own_stop = solver.next_iter(problem, &mut state)?;
            if own_stop.is_none() {
                state.iter += 1;
                self.notify(&state, problem, started)?;
            }
            stop = self.check(&state, previous_f, own_stop, problem, started);
        }
        let stop_reason = stop.unwrap_or(StopReason::MaxIterations);
        let time_s = started.elapsed().as_secs_f64();
        let report = RunReport {
            iterations: state.iter,
            grad_norm: state.grad.norm2(),
            grad_inf: state.grad.norm_inf(),
            f: state.f,
            x: state.x,
            evals: problem.evals(),
            stop_reason,
            converged: stop_reason.is_converged(),
            time_s,
        };
        for observer in &mut self.observers {
            observer.finish(&report)?;
        }
        Ok(report)
    }

    fn notify<P>(
        &mut self,
        state: &IterState<V>,
        problem: &Counted<P>,
        started: Instant,
    ) -> Result<()> {
        let evals = problem.evals();
        let elapsed = started.elapsed().as_secs_f64();
        for observer in &mut self.observers {
            observer.observe(state, &evals, elapsed)?;
        }
        Ok(())
    }

    fn check_start(&self, state: &IterState<V>) -> Option<StopReason> {
        if !(state.f.is_finite() && state.grad.is_finite()) {
            return Some(StopReason::Diverged);
        }
        if self.gradient_converged(state) {
            return Some(StopReason::GradientTolerance);
        }
        if self.max_iters == Some(0) {
            return Some(StopReason::MaxIterations);
        }
        None
    }

    fn gradient_converged(&self, state: &IterState<V>) -> bool {
        self.gtol
            .is_some_and(|gtol| state.grad.norm_inf().to_f64_lossless() <= gtol)
    }

    fn check<P>(
        &self,
        state: &IterState<V>,
        previous_f: ScalarOf<V>,
        own_stop: Option<StopReason>,
        problem: &Counted<P>,
        started: Instant,
    ) -> Option<StopReason> {
        if !(state.f.is_finite() && state.grad.is_finite()) {
            return Some(StopReason::Diverged);
        }
        if self.gradient_converged(state) {
            return Some(StopReason::GradientTolerance);
        }
        if let Some(ftol) = self.ftol {
            let (a, b) = (previous_f.to_f64_lossless(), state.f.to_f64_lossless());
            if own_stop.is_none() && (a - b).abs() <= ftol * a.abs().max(b.abs()).max(1.0) {
                return Some(StopReason::FunctionTolerance);
            }
        }
        if own_stop.is_some() {
            return own_stop;
        }
        if self.max_iters.is_some_and(|n| state.iter >= n) {
            return Some(StopReason::MaxIterations);
        }
        if self.max_epochs.is_some_and(|e| problem.passes() >= e) {
            return Some(StopReason::MaxEpochs);
        }
        if self.time_budget.is_some_and(|t| started.elapsed() >= t) {
            return Some(StopReason::TimeBudget);
        }
        None
    }
}
