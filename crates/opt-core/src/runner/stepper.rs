//! First-order steppers and the adapter that lets the runner drive them.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{IterState, Solver, StopReason};
use crate::counting::Counted;
use crate::error::{OptError, Result};
use crate::problem::{FiniteSum, Objective};
use crate::schedule::{LrSchedule, Schedule};
use crate::vector::VectorSpace;

/// A first-order optimizer as a state machine: `params <- update(params, grad)`.
///
/// The runner (or the user's training loop) owns the learning rate's
/// schedule and sets it between steps; a stepper carries no schedule.
pub trait Stepper<V: VectorSpace>: std::fmt::Debug {
    /// One update of `params` with the gradient `grad` at `params`.
    /// A non-finite gradient or a length mismatch is an error and leaves
    /// `params` untouched.
    fn step(&mut self, params: &mut V, grad: &V) -> Result<()>;
    /// The learning rate the next step uses.
    fn learning_rate(&self) -> f64;
    /// Change the learning rate for the following steps.
    fn set_learning_rate(&mut self, lr: f64) -> Result<()>;
}

impl<V: VectorSpace, S: Stepper<V> + ?Sized> Stepper<V> for Box<S> {
    fn step(&mut self, params: &mut V, grad: &V) -> Result<()> {
        (**self).step(params, grad)
    }
    fn learning_rate(&self) -> f64 {
        (**self).learning_rate()
    }
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        (**self).set_learning_rate(lr)
    }
}

/// Drives a [`Stepper`] as a [`Solver`]: full batch (iteration k uses the
/// gradient at `x_k` exactly, as `torch.optim` does), or mini-batches of a
/// [`FiniteSum`] drawn without replacement from a seeded shuffle, reshuffled
/// every epoch.
///
/// In mini-batch mode the full value and gradient the runner reports at each
/// iterate are monitoring, evaluated on the uncounted inner problem, so the
/// evaluation counts are the method's own. That monitoring costs a full pass
/// per iteration; [`StepperSolver::with_epoch_iterations`] makes one
/// iteration a whole pass of mini-batch steps instead, monitored once.
///
/// The schedule is evaluated at the step count (steps since `init`), which is
/// the iteration count unless iterations are epochs.
#[derive(Debug)]
pub struct StepperSolver<S, T = LrSchedule> {
    stepper: S,
    schedule: Option<T>,
    batches: Option<BatchSampler>,
    epoch_iterations: bool,
    steps: u64,
}

impl<S> StepperSolver<S> {
    /// Full-batch steps with the stepper's own learning rate.
    pub fn full_batch(stepper: S) -> Self {
        Self {
            stepper,
            schedule: None,
            batches: None,
            epoch_iterations: false,
            steps: 0,
        }
    }
}

impl<S, T: Schedule> StepperSolver<S, T> {
    /// Set the learning rate before step `k` to `schedule.learning_rate(k)`.
    pub fn with_schedule<U: Schedule>(self, schedule: U) -> StepperSolver<S, U> {
        StepperSolver {
            stepper: self.stepper,
            schedule: Some(schedule),
            batches: self.batches,
            epoch_iterations: self.epoch_iterations,
            steps: self.steps,
        }
    }

    /// With mini-batches, make one iteration a whole epoch: mini-batch steps
    /// until every sample has been drawn once (`ceil(n / batch_size)` steps),
    /// then one evaluation of the full value and gradient, so the trace, the
    /// history and the stopping tests see the objective once per pass (as
    /// the variance-reduced methods report it). Without mini-batches an
    /// iteration is already one full-gradient step and nothing changes.
    pub fn with_epoch_iterations(mut self) -> Self {
        self.epoch_iterations = true;
        self
    }

    /// Mini-batches of `batch_size` samples (the last of an epoch may be
    /// smaller), shuffled with `seed`.
    pub fn with_batches(mut self, batch_size: usize, seed: u64) -> Result<Self> {
        if batch_size == 0 {
            return Err(OptError::invalid("batch_size", 0, "must be at least 1"));
        }
        self.batches = Some(BatchSampler::new(batch_size, seed));
        Ok(self)
    }

    /// The stepper inside.
    pub fn stepper(&self) -> &S {
        &self.stepper
    }

    /// Unwrap the stepper.
    pub fn into_stepper(self) -> S {
        self.stepper
    }
}

impl<P, S, T> Solver<P> for StepperSolver<S, T>
where
    P: FiniteSum,
    S: Stepper<P::Vector>,
    T: Schedule,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<P::Vector>) -> Result<()> {
        self.steps = 0;
        match &mut self.batches {
            None => state.f = problem.value_and_grad(&state.x, &mut state.grad)?,
            Some(sampler) => {
                sampler.reset(problem.num_samples());
                state.f = problem.inner().value_and_grad(&state.x, &mut state.grad)?;
            }
        }
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<P::Vector>,
    ) -> Result<Option<StopReason>> {
        match &mut self.batches {
            None => {
                scheduled(&mut self.stepper, self.schedule.as_ref(), self.steps)?;
                self.steps += 1;
                self.stepper.step(&mut state.x, &state.grad)?;
                state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
            }
            Some(sampler) => {
                loop {
                    scheduled(&mut self.stepper, self.schedule.as_ref(), self.steps)?;
                    self.steps += 1;
                    let batch = sampler.next_batch();
                    problem.batch_value_and_grad(&state.x, batch, &mut state.grad)?;
                    self.stepper.step(&mut state.x, &state.grad)?;
                    if !self.epoch_iterations || sampler.epoch_done() {
                        break;
                    }
                }
                state.f = problem.inner().value_and_grad(&state.x, &mut state.grad)?;
            }
        }
        Ok(None)
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![("lr", self.stepper.learning_rate())]
    }
}

/// Set the stepper's learning rate to the schedule's value at `step`, if
/// there is a schedule.
fn scheduled<V: VectorSpace, S: Stepper<V>, T: Schedule>(
    stepper: &mut S,
    schedule: Option<&T>,
    step: u64,
) -> Result<()> {
    match schedule {
        Some(schedule) => stepper.set_learning_rate(schedule.learning_rate(step)),
        None => Ok(()),
    }
}

/// Mini-batches drawn without replacement, reshuffled each epoch.
#[derive(Debug)]
struct BatchSampler {
    batch_size: usize,
    rng: StdRng,
    order: Vec<usize>,
    position: usize,
}

impl BatchSampler {
    fn new(batch_size: usize, seed: u64) -> Self {
        Self {
            batch_size,
            rng: StdRng::seed_from_u64(seed),
            order: Vec::new(),
            position: 0,
        }
    }

    fn reset(&mut self, num_samples: usize) {
        self.order = (0..num_samples).collect();
        self.order.shuffle(&mut self.rng);
        self.position = 0;
    }

    /// Whether the last batch drawn ended an epoch.
    fn epoch_done(&self) -> bool {
        self.position >= self.order.len()
    }

    fn next_batch(&mut self) -> &[usize] {
        if self.position >= self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.position = 0;
        }
        let start = self.position;
        let end = (start + self.batch_size).min(self.order.len());
        self.position = end;
        &self.order[start..end]
    }
}
