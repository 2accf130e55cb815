//! Training loops: a network objective driven by a first-order
//! [`Stepper`] over shuffled mini-batches, or by any [`Solver`] (SCG,
//! L-BFGS, CG, minibatched SCG) iteration by iteration, with one
//! [`EpochRecord`] per epoch.
//!
//! **Steppers** ([`train_stepper`]). Epoch `e` shuffles the training
//! indices `0..n` with a `StdRng` (ChaCha12) whose 32-byte key is
//! [`TrainConfig::seed`] and `e` (little-endian `u64`s) followed by zeros,
//! so its order is a function of the seed and `e` alone and a resumed run
//! ([`train_stepper_from`]) re-derives it without saved RNG state; it cuts
//! them into batches of
//! `B` samples (the last one smaller when `B` does not divide `n`) and takes
//! one step per batch with the mean gradient of the batch,
//! `g_B = (1/|B|) sum_{i in B} grad f_i(w)`. With a micro-batch size `M`
//! the gradient is accumulated over micro-batches of at most `M` samples
//! ([`accumulate_batch_gradient`]); it equals `g_B` up to rounding.
//!
//! **Solvers** ([`train_solver`]). One epoch is
//! [`SolverEpochs::iterations_per_epoch`] iterations of the solver: 1 for a
//! full-batch method (an iteration then costs one or a few passes over the
//! training set; [`EpochRecord::samples_seen`] says how many samples it
//! evaluated), `ceil(n / B)` for a mini-batch method so that an epoch sees
//! about `n` samples per gradient evaluation.
//! A resumed solver run ([`train_solver_from`]) initialises the solver at
//! the saved parameters and then restores its saved state
//! ([`CheckpointSolver`]), which continues the saved run bit for bit on the
//! CPU: `init` recomputes the objective and gradient there exactly as the
//! saved run had them, and every solver's state holds the rest.
//!
//! **Per epoch.** `train_loss` is, for steppers, the mean of the batch
//! losses met during the epoch weighted by batch size (each at the
//! parameters *before* its step, as PyTorch scripts usually report it: no
//! extra pass); for solvers the full training objective at the end of the
//! epoch (evaluated after the epoch's timing, on the uncounted problem). `test_loss` is the loss's data term (mean,
//! without L2) on the whole test set at the end of the epoch and
//! `test_accuracy` the fraction of test samples whose largest output is the
//! label (ties to the lowest index). `seconds` is the wall-clock time of the
//! epoch's optimization only, without the test evaluation (for a solver the
//! first epoch includes its `init`, one full evaluation).
//!
//! A non-finite batch loss stops training with [`OptError::NonFinite`]
//! before the step, so the parameters stay finite.

use std::time::Instant;

use candle_core::{DType, Device};
use ndarray::Array1;
use opt_core::gradient::{GradientAccumulator, accumulate_batch_gradient};
use opt_core::{Counted, FiniteSum, IterState, Objective, OptError, SaveState, Solver, Stepper};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::data::{BatchLayout, Dataset};
use crate::error::{ModelError, Result};
use crate::loss::Loss;
use crate::network::Network;
use crate::objective::NetworkObjective;

/// Test samples per forward pass when evaluating.
const EVALUATION_CHUNK: usize = 1024;

/// How a stepper trains: epochs, batch and micro-batch sizes, shuffle seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainConfig {
    /// Passes over the training set (at least 1).
    pub epochs: usize,
    /// Samples per step `B` (at least 1; capped by the training set's size).
    pub batch_size: usize,
    /// Micro-batch size `M <= B` for gradient accumulation; `None` evaluates
    /// each batch at once.
    pub micro_batch: Option<usize>,
    /// Seed of the shuffles.
    pub seed: u64,
}

impl TrainConfig {
    /// `Ok` when the sizes are usable, an [`ModelError::InvalidArgument`]
    /// naming the first bad one otherwise.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(invalid("epochs", 0, "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(invalid("batch size", 0, "must be at least 1"));
        }
        if let Some(micro) = self.micro_batch {
            if micro == 0 {
                return Err(invalid("micro-batch size", 0, "must be at least 1"));
            }
            if micro > self.batch_size {
                return Err(invalid(
                    "micro-batch size",
                    micro,
                    &format!("must not exceed the batch size {}", self.batch_size),
                ));
            }
        }
        Ok(())
    }
}

/// How many solver iterations make one epoch, and how many epochs to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SolverEpochs {
    /// Epochs to run (at least 1); fewer when the solver stops by itself.
    pub epochs: usize,
    /// Solver iterations per epoch (at least 1; module doc).
    pub iterations_per_epoch: usize,
}

/// What one epoch measured (module doc for each field's definition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1 for the first epoch.
    pub epoch: usize,
    /// Training loss of the epoch.
    pub train_loss: f64,
    /// Loss data term on the test set after the epoch.
    pub test_loss: f64,
    /// Fraction of test samples classified correctly after the epoch.
    pub test_accuracy: f64,
    /// Wall-clock seconds of the epoch's optimization.
    pub seconds: f64,
    /// Samples whose gradient (or value) was evaluated so far, all epochs.
    pub samples_seen: u64,
}

/// A finished training run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    /// One record per epoch run.
    pub epochs: Vec<EpochRecord>,
    /// Why a solver stopped before its last epoch, if it did.
    pub stopped_early: Option<String>,
}

impl TrainReport {
    /// The median of the epochs' `seconds` (the mean of the middle two for
    /// an even count); 0 without epochs.
    pub fn median_epoch_seconds(&self) -> f64 {
        let mut seconds: Vec<f64> = self.epochs.iter().map(|e| e.seconds).collect();
        seconds.sort_by(f64::total_cmp);
        let n = seconds.len();
        match n {
            0 => 0.0,
            _ if n % 2 == 1 => seconds[n / 2],
            _ => 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]),
        }
    }
}

/// Loss and accuracy of a network on a data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean of the loss's data term (no L2).
    pub loss: f64,
    /// Fraction of samples whose argmax output is the label.
    pub accuracy: f64,
}

/// The layout a network takes its inputs in: flat for one input
/// dimension (MLP), images otherwise (CNN).
pub fn layout_for<N: Network + ?Sized>(network: &N) -> BatchLayout {
    if network.input_shape().len() == 1 {
        BatchLayout::Flat
    } else {
        BatchLayout::Image
    }
}

/// The objective of `network` under `loss` on the whole of `data`, in the
/// network's layout, dtype `f32` and device.
///
/// Errors: those of [`NetworkObjective::new`] (a data set the network does
/// not fit is a [`ModelError::ShapeMismatch`]).
pub fn objective_on<N: Network>(
    network: N,
    loss: Loss,
    data: &Dataset,
) -> Result<NetworkObjective<N, f32>> {
    let (images, labels) = data.batch_range(
        0..data.len(),
        layout_for(&network),
        DType::F32,
        &network.device(),
    )?;
    NetworkObjective::new(network, loss, &images, &labels)
}

/// Loss and accuracy of `network` (its current parameters) on `data`,
/// forwarded in chunks of 1024 samples.
pub fn evaluate<N: Network + ?Sized>(
    network: &N,
    loss: &Loss,
    data: &Dataset,
) -> Result<Evaluation> {
    let layout = layout_for(network);
    let device: Device = network.device();
    let mut loss_sum = 0.0;
    let mut correct = 0usize;
    let mut start = 0;
    while start < data.len() {
        let end = (start + EVALUATION_CHUNK).min(data.len());
        let (images, labels) = data.batch_range(start..end, layout, network.dtype(), &device)?;
        network.check_input(images.dims())?;
        let outputs = network.forward(&images)?;
        let chunk_loss = loss
            .data_term(&outputs, &labels)?
            .to_dtype(DType::F64)?
            .to_scalar::<f64>()?;
        loss_sum += chunk_loss * (end - start) as f64;
        let predicted = outputs.argmax(1)?.to_dtype(DType::U32)?.to_vec1::<u32>()?;
        correct += predicted
            .iter()
            .zip(&data.labels()[start..end])
            .filter(|(p, l)| p == l)
            .count();
        start = end;
    }
    let n = data.len() as f64;
    Ok(Evaluation {
        loss: loss_sum / n,
        accuracy: correct as f64 / n,
    })
}

/// Where a stepper or solver run starts: after `epochs_done` epochs that evaluated
/// `samples_seen` samples (both 0 for a fresh run; a checkpoint's figures
/// for a resumed one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrainStart {
    /// Epochs already run; training continues with epoch `epochs_done + 1`.
    pub epochs_done: usize,
    /// Samples evaluated by those epochs ([`EpochRecord::samples_seen`]).
    pub samples_seen: u64,
}

/// The order of the training indices `0..order.len()` in epoch `epoch`
/// (module doc): reset to `0..n`, then shuffled by an RNG keyed by `seed`
/// and `epoch`.
pub fn epoch_order(seed: u64, epoch: usize, order: &mut [usize]) {
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
    order.shuffle(&mut StdRng::from_seed(key));
}

/// Train `objective` (built on the training set, e.g. by [`objective_on`])
/// with `stepper` over shuffled mini-batches (module doc), starting from the
/// network's current parameters, evaluating on `test` after each epoch and
/// handing each record to `on_epoch`. The network holds the final
/// parameters afterwards.
///
/// Errors: a bad `config` ([`TrainConfig::validate`]); a non-finite batch
/// loss or gradient ([`OptError::NonFinite`], before the step); a test set
/// the network does not fit; the stepper's and candle's errors.
pub fn train_stepper<N, S>(
    objective: &NetworkObjective<N, f32>,
    test: &Dataset,
    stepper: &mut S,
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochRecord),
) -> Result<TrainReport>
where
    N: Network,
    S: Stepper<Array1<f32>> + ?Sized,
{
    train_stepper_from(
        objective,
        test,
        stepper,
        config,
        TrainStart::default(),
        |record, _| {
            on_epoch(record);
            Ok(())
        },
    )
}

/// [`train_stepper`] from `start`: runs epochs `start.epochs_done + 1` to
/// `config.epochs` with the same batches as an uninterrupted run (module
/// doc), so that with the network's parameters and the stepper's state as
/// they were after `start.epochs_done` epochs it continues that run bit for
/// bit on the CPU. After each epoch the network holds the epoch's
/// parameters and `on_epoch` gets the record and the stepper (to write a
/// checkpoint); an error it returns stops training. The report holds the
/// epochs run by this call.
///
/// Errors: those of [`train_stepper`]; `start.epochs_done >= config.epochs`
/// ([`ModelError::InvalidArgument`]); `on_epoch`'s.
pub fn train_stepper_from<N, S>(
    objective: &NetworkObjective<N, f32>,
    test: &Dataset,
    stepper: &mut S,
    config: &TrainConfig,
    start: TrainStart,
    mut on_epoch: impl FnMut(&EpochRecord, &S) -> Result<()>,
) -> Result<TrainReport>
where
    N: Network,
    S: Stepper<Array1<f32>> + ?Sized,
{
    config.validate()?;
    if start.epochs_done >= config.epochs {
        return Err(invalid(
            "epochs done",
            start.epochs_done,
            &format!("leaves no epoch to run up to {} epochs", config.epochs),
        ));
    }
    let n = objective.num_samples();
    let mut x = objective.current_parameters()?;
    let mut grad = Array1::<f32>::zeros(x.len());
    let mut scratch = Array1::<f32>::zeros(x.len());
    let mut accumulator = GradientAccumulator::new(&x);
    let mut order: Vec<usize> = (0..n).collect();
    let mut report = TrainReport {
        epochs: Vec::with_capacity(config.epochs - start.epochs_done),
        stopped_early: None,
    };
    let mut samples_seen = start.samples_seen;
    for epoch in start.epochs_done + 1..=config.epochs {
        let started = Instant::now();
        epoch_order(config.seed, epoch, &mut order);
        let mut weighted_loss = 0.0f64;
        for batch in order.chunks(config.batch_size) {
            let value = match config.micro_batch {
                Some(micro) => accumulate_batch_gradient(
                    objective,
                    &x,
                    batch,
                    micro,
                    &mut accumulator,
                    &mut scratch,
                    &mut grad,
                )?,
                None => objective.batch_value_and_grad(&x, batch, &mut grad)?,
            };
            if !value.is_finite() {
                return Err(OptError::NonFinite {
                    what: "batch loss",
                    iteration: epoch,
                }
                .into());
            }
            stepper.step(&mut x, &grad)?;
            weighted_loss += f64::from(value) * batch.len() as f64;
            samples_seen += batch.len() as u64;
        }
        let seconds = started.elapsed().as_secs_f64();
        objective.load_parameters(&x)?;
        let tested = evaluate(objective.network(), objective.loss(), test)?;
        let record = EpochRecord {
            epoch,
            train_loss: weighted_loss / n as f64,
            test_loss: tested.loss,
            test_accuracy: tested.accuracy,
            seconds,
            samples_seen,
        };
        on_epoch(&record, stepper)?;
        report.epochs.push(record);
    }
    Ok(report)
}

/// A [`Solver`] whose state can be saved to and restored from JSON through
/// a trait object or a generic bound (checkpoints of solver runs,
/// [`train_solver_from`]); every `Solver + SaveState` is one.
pub trait CheckpointSolver<P: Objective>: Solver<P> {
    /// The solver's state as JSON text ([`opt_core::state::state_to_json`]).
    fn state_json(&self) -> opt_core::Result<String>;

    /// Restore a state written by [`CheckpointSolver::state_json`], after
    /// `init` at the point where it was saved; a state that does not fit is
    /// an [`OptError::InvalidState`].
    fn restore_state_json(&mut self, json: &str) -> opt_core::Result<()>;
}

impl<P: Objective, S: Solver<P> + SaveState + ?Sized> CheckpointSolver<P> for S {
    fn state_json(&self) -> opt_core::Result<String> {
        opt_core::state::state_to_json(self)
    }

    fn restore_state_json(&mut self, json: &str) -> opt_core::Result<()> {
        opt_core::state::restore_state_from_json(self, json)
    }
}

/// Train `objective` with a [`Solver`] (module doc: one epoch is
/// `schedule.iterations_per_epoch` iterations), starting from the network's
/// current parameters, evaluating on `test` after each epoch. A solver that
/// stops by itself (converged, line search failed, ...) ends training after
/// that epoch, with the reason in [`TrainReport::stopped_early`]. Returns the
/// report and the objective (the network holds the final parameters).
///
/// Errors: zero epochs or iterations per epoch
/// ([`ModelError::InvalidArgument`]); a diverged solver
/// ([`OptError::NonFinite`]); the solver's and candle's errors.
pub fn train_solver<N, S>(
    objective: NetworkObjective<N, f32>,
    test: &Dataset,
    solver: &mut S,
    schedule: &SolverEpochs,
    mut on_epoch: impl FnMut(&EpochRecord),
) -> Result<(TrainReport, NetworkObjective<N, f32>)>
where
    N: Network,
    S: Solver<NetworkObjective<N, f32>> + ?Sized,
{
    run_solver(
        objective,
        test,
        solver,
        schedule,
        TrainStart::default(),
        |_| Ok(()),
        |record, _, _| {
            on_epoch(record);
            Ok(())
        },
    )
}

/// [`train_solver`] from `start`: runs epochs `start.epochs_done + 1` to
/// `schedule.epochs`. For a resumed run (`start.epochs_done > 0`) the
/// network holds the parameters after `start.epochs_done` epochs and
/// `solver_state` the solver's state then ([`CheckpointSolver::state_json`]);
/// the solver is initialised at those parameters (which recomputes the
/// objective and its gradient there, deterministically on the CPU), then
/// given the state, so the run continues the saved one bit for bit.
/// [`EpochRecord::samples_seen`] continues from `start.samples_seen`,
/// without the evaluations of that `init` (the uninterrupted run did not
/// make them). After each epoch the network holds the epoch's parameters
/// and `on_epoch` gets the record, the problem (for its network) and the
/// solver (to write a checkpoint); an error it returns stops training. The
/// report holds the epochs run by this call.
///
/// Errors: those of [`train_solver`]; `start.epochs_done >= schedule.epochs`,
/// or a resumed run without a solver state ([`ModelError::InvalidArgument`]);
/// a state that does not fit ([`OptError::InvalidState`]); `on_epoch`'s.
pub fn train_solver_from<N, S>(
    objective: NetworkObjective<N, f32>,
    test: &Dataset,
    solver: &mut S,
    schedule: &SolverEpochs,
    start: TrainStart,
    solver_state: Option<&str>,
    on_epoch: impl FnMut(&EpochRecord, &NetworkObjective<N, f32>, &S) -> Result<()>,
) -> Result<(TrainReport, NetworkObjective<N, f32>)>
where
    N: Network,
    S: CheckpointSolver<NetworkObjective<N, f32>> + ?Sized,
{
    if start.epochs_done > 0 && solver_state.is_none() {
        return Err(invalid(
            "solver state",
            "none",
            &format!(
                "resuming after {} epochs needs the solver's saved state",
                start.epochs_done
            ),
        ));
    }
    run_solver(
        objective,
        test,
        solver,
        schedule,
        start,
        |solver| match solver_state {
            Some(json) => Ok(solver.restore_state_json(json)?),
            None => Ok(()),
        },
        on_epoch,
    )
}

/// The loop of [`train_solver`] and [`train_solver_from`]: `restore` runs
/// right after `init`.
fn run_solver<N, S>(
    objective: NetworkObjective<N, f32>,
    test: &Dataset,
    solver: &mut S,
    schedule: &SolverEpochs,
    start: TrainStart,
    restore: impl FnOnce(&mut S) -> Result<()>,
    mut on_epoch: impl FnMut(&EpochRecord, &NetworkObjective<N, f32>, &S) -> Result<()>,
) -> Result<(TrainReport, NetworkObjective<N, f32>)>
where
    N: Network,
    S: Solver<NetworkObjective<N, f32>> + ?Sized,
{
    if schedule.epochs == 0 {
        return Err(invalid("epochs", 0, "must be at least 1"));
    }
    if schedule.iterations_per_epoch == 0 {
        return Err(invalid("iterations per epoch", 0, "must be at least 1"));
    }
    if start.epochs_done >= schedule.epochs {
        return Err(invalid(
            "epochs done",
            start.epochs_done,
            &format!("leaves no epoch to run up to {} epochs", schedule.epochs),
        ));
    }
    let problem = Counted::finite_sum(objective);
    let mut state = IterState::new(problem.inner().current_parameters()?);
    let mut report = TrainReport {
        epochs: Vec::with_capacity(schedule.epochs - start.epochs_done),
        stopped_early: None,
    };
    let mut started = Instant::now();
    solver.init(&problem, &mut state)?;
    // A resumed run's `init` repeats evaluations the saved run made
    // already: count from after it.
    let uncounted = if start.epochs_done > 0 {
        problem.evals().samples
    } else {
        0
    };
    restore(solver)?;
    state.iter = start.epochs_done * schedule.iterations_per_epoch;
    'epochs: for epoch in start.epochs_done + 1..=schedule.epochs {
        let mut stop = None;
        for _ in 0..schedule.iterations_per_epoch {
            // as the runner: a solver that stops leaves the state at its
            // last valid point and the iteration is not counted
            if let Some(reason) = solver.next_iter(&problem, &mut state)? {
                stop = Some(reason);
                break;
            }
            state.iter += 1;
            if !state.f.is_finite() {
                return Err(OptError::NonFinite {
                    what: "training loss",
                    iteration: state.iter,
                }
                .into());
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let inner = problem.inner();
        // the full training objective, whatever the solver reports in
        // `state.f` (a mini-batch method may report its batch's value)
        let train_loss = inner.value(&state.x)?;
        inner.load_parameters(&state.x)?;
        let tested = evaluate(inner.network(), inner.loss(), test)?;
        let record = EpochRecord {
            epoch,
            train_loss: f64::from(train_loss),
            test_loss: tested.loss,
            test_accuracy: tested.accuracy,
            seconds,
            samples_seen: start.samples_seen + (problem.evals().samples - uncounted),
        };
        on_epoch(&record, inner, solver)?;
        report.epochs.push(record);
        if let Some(reason) = stop {
            report.stopped_early = Some(reason.to_string());
            break 'epochs;
        }
        started = Instant::now();
    }
    Ok((report, problem.into_inner()))
}

fn invalid(name: &'static str, value: impl ToString, reason: &str) -> ModelError {
    ModelError::InvalidArgument {
        name,
        value: value.to_string(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::digits;
    use crate::network::{Mlp, MlpConfig};
    use opt_core::Objective;

    /// A small SGD stepper written here so the tests need no optimizer crate.
    #[derive(Debug)]
    struct PlainSgd {
        lr: f32,
    }

    impl Stepper<Array1<f32>> for PlainSgd {
        fn step(&mut self, params: &mut Array1<f32>, grad: &Array1<f32>) -> opt_core::Result<()> {
            params.scaled_add(-self.lr, grad);
            Ok(())
        }
        fn learning_rate(&self) -> f64 {
            f64::from(self.lr)
        }
        fn set_learning_rate(&mut self, lr: f64) -> opt_core::Result<()> {
            self.lr = lr as f32;
            Ok(())
        }
    }

    fn small_digits() -> (Dataset, Dataset) {
        let (train, test) = digits().expect("digits");
        let train = train.subset(&(0..200).collect::<Vec<_>>()).expect("subset");
        let test = test.subset(&(0..100).collect::<Vec<_>>()).expect("subset");
        (train, test)
    }

    fn run(config: TrainConfig) -> TrainReport {
        let (train, test) = small_digits();
        let network = Mlp::new(&MlpConfig::new(64, &[16], 10), 3).expect("mlp");
        let objective = objective_on(network, Loss::cross_entropy(), &train).expect("objective");
        let mut stepper = PlainSgd { lr: 0.5 };
        train_stepper(&objective, &test, &mut stepper, &config, |_| {}).expect("training")
    }

    const CONFIG: TrainConfig = TrainConfig {
        epochs: 3,
        batch_size: 32,
        micro_batch: None,
        seed: 7,
    };

    #[test]
    fn the_same_seed_gives_the_same_losses_and_another_seed_other_ones() {
        let first = run(CONFIG);
        let second = run(CONFIG);
        let losses = |r: &TrainReport| -> Vec<(f64, f64, f64)> {
            r.epochs
                .iter()
                .map(|e| (e.train_loss, e.test_loss, e.test_accuracy))
                .collect()
        };
        assert_eq!(losses(&first), losses(&second));
        let other = run(TrainConfig { seed: 8, ..CONFIG });
        assert_ne!(losses(&first), losses(&other));
        // 200 samples in batches of 32: 7 steps, the last of 8 samples.
        assert_eq!(first.epochs[2].samples_seen, 600);
        // the network learns: the test loss falls below ln(10) ~ 2.303
        assert!(first.epochs[2].test_loss < 1.7, "{:?}", first.epochs);
        assert!(first.epochs[2].test_loss < first.epochs[0].test_loss);
        assert!(first.epochs[2].train_loss < first.epochs[0].train_loss);
    }

    #[test]
    fn micro_batches_follow_the_one_batch_trajectory_to_rounding() {
        let whole = run(CONFIG);
        let split = run(TrainConfig {
            micro_batch: Some(5),
            ..CONFIG
        });
        for (a, b) in whole.epochs.iter().zip(&split.epochs) {
            assert!((a.train_loss - b.train_loss).abs() < 1e-4, "{a:?} vs {b:?}");
            assert!((a.test_loss - b.test_loss).abs() < 1e-4, "{a:?} vs {b:?}");
        }
        assert_ne!(
            whole.epochs[2].train_loss, split.epochs[2].train_loss,
            "rounding differs: the accumulated path was taken"
        );
    }

    #[test]
    fn a_full_batch_solver_takes_one_iteration_per_epoch() {
        use opt_second_order::scg::{Scg, ScgConfig};
        let (train, test) = small_digits();
        let network = Mlp::new(&MlpConfig::new(64, &[16], 10), 3).expect("mlp");
        let objective = objective_on(network, Loss::cross_entropy(), &train).expect("objective");
        let start_loss = objective
            .value(&objective.current_parameters().expect("x0"))
            .expect("f0");
        let mut solver = Scg::<Array1<f32>>::new(ScgConfig::default()).expect("scg");
        let schedule = SolverEpochs {
            epochs: 4,
            iterations_per_epoch: 1,
        };
        let (report, objective) =
            train_solver(objective, &test, &mut solver, &schedule, |_| {}).expect("training");
        assert_eq!(report.epochs.len(), 4);
        assert_eq!(report.stopped_early, None);
        // SCG evaluates two full gradients per iteration (at w and at the
        // probe) plus the one at x0: each counts 200 samples
        let seen = report.epochs[3].samples_seen;
        assert!(seen >= 4 * 2 * 200 && seen % 200 == 0, "{seen}");
        // the network holds the final parameters, whose loss is the last record's
        let end = objective.current_parameters().expect("x");
        let end_loss = objective.value(&end).expect("f");
        assert_eq!(f64::from(end_loss), report.epochs[3].train_loss);
        assert!(end_loss < start_loss, "{end_loss} vs {start_loss}");
        let bad = SolverEpochs {
            epochs: 1,
            iterations_per_epoch: 0,
        };
        let mut solver = Scg::<Array1<f32>>::new(ScgConfig::default()).expect("scg");
        assert!(matches!(
            train_solver(objective, &test, &mut solver, &bad, |_| {}),
            Err(ModelError::InvalidArgument { .. })
        ));
    }

    /// Two epochs of `solver()` in one run, and one epoch, its parameters
    /// and solver state, a fresh network loaded with them and the second
    /// epoch: the same parameters and records, bit for bit.
    fn resumed_solver_run_is_bit_identical<S>(
        solver: impl Fn() -> S,
        iterations_per_epoch: usize,
        name: &str,
    ) where
        S: CheckpointSolver<NetworkObjective<Mlp, f32>>,
    {
        let (train, test) = small_digits();
        let objective_with = |seed| {
            let network = Mlp::new(&MlpConfig::new(64, &[16], 10), seed).expect("mlp");
            objective_on(network, Loss::cross_entropy(), &train).expect("objective")
        };
        let schedule = SolverEpochs {
            epochs: 2,
            iterations_per_epoch,
        };
        let figures = |r: &EpochRecord| {
            (
                r.epoch,
                r.train_loss.to_bits(),
                r.test_loss.to_bits(),
                r.test_accuracy.to_bits(),
                r.samples_seen,
            )
        };
        let bits = |x: &Array1<f32>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let (whole, objective) =
            train_solver(objective_with(3), &test, &mut solver(), &schedule, |_| {})
                .expect("two epochs");
        let whole_parameters = objective.current_parameters().expect("x");

        let mut saved = None;
        let one = SolverEpochs {
            epochs: 1,
            ..schedule
        };
        let (first, objective) = train_solver_from(
            objective_with(3),
            &test,
            &mut solver(),
            &one,
            TrainStart::default(),
            None,
            |_, _, solver| {
                saved = Some(solver.state_json()?);
                Ok(())
            },
        )
        .expect("one epoch");
        assert_eq!(
            figures(&first.epochs[0]),
            figures(&whole.epochs[0]),
            "{name}"
        );
        let parameters = objective.current_parameters().expect("x");
        let saved = saved.expect("a saved state");

        // a network of another initialisation, loaded with the parameters
        let resumed_objective = objective_with(99);
        resumed_objective
            .load_parameters(&parameters)
            .expect("load");
        let start = TrainStart {
            epochs_done: 1,
            samples_seen: first.epochs[0].samples_seen,
        };
        let (second, resumed_objective) = train_solver_from(
            resumed_objective,
            &test,
            &mut solver(),
            &schedule,
            start,
            Some(&saved),
            |_, _, _| Ok(()),
        )
        .expect("the second epoch");
        assert_eq!(second.epochs.len(), 1, "{name}");
        assert_eq!(
            figures(&second.epochs[0]),
            figures(&whole.epochs[1]),
            "{name}"
        );
        let resumed_parameters = resumed_objective.current_parameters().expect("x");
        assert_eq!(bits(&resumed_parameters), bits(&whole_parameters), "{name}");
        assert_ne!(whole.epochs[0].train_loss, whole.epochs[1].train_loss);

        // without the state the resumed run is refused
        let objective = objective_with(3);
        let refused = train_solver_from(
            objective,
            &test,
            &mut solver(),
            &schedule,
            start,
            None,
            |_, _, _| Ok(()),
        );
        assert!(
            matches!(
                refused,
                Err(ModelError::InvalidArgument {
                    name: "solver state",
                    ..
                })
            ),
            "{name}"
        );
    }

    #[test]
    fn resumed_solver_runs_are_bit_identical() {
        use opt_second_order::lbfgs::Lbfgs;
        use opt_second_order::nonlinear_cg::{NonlinearCg, NonlinearCgConfig};
        use opt_second_order::scg::{MinibatchScg, MinibatchScgConfig, Scg, ScgConfig};
        resumed_solver_run_is_bit_identical(
            || Scg::<Array1<f32>>::new(ScgConfig::default()).expect("scg"),
            2,
            "scg",
        );
        // batches of 64 of 200 samples, a new one every 3 iterations: the
        // second epoch starts in the middle of a batch
        resumed_solver_run_is_bit_identical(
            || {
                MinibatchScg::<Array1<f32>>::new(MinibatchScgConfig {
                    batch_size: Some(64),
                    batches_every: 3,
                    seed: 4,
                    full_objective: false,
                    ..MinibatchScgConfig::default()
                })
                .expect("minibatch scg")
            },
            4,
            "minibatch scg",
        );
        resumed_solver_run_is_bit_identical(
            || Lbfgs::<Array1<f32>>::new(3).expect("lbfgs"),
            2,
            "lbfgs",
        );
        resumed_solver_run_is_bit_identical(
            || NonlinearCg::<Array1<f32>, _>::new(NonlinearCgConfig::default()).expect("cg"),
            2,
            "cg",
        );
    }

    #[test]
    fn a_resume_past_the_last_epoch_is_refused() {
        use opt_second_order::scg::{Scg, ScgConfig};
        let (train, test) = small_digits();
        let network = Mlp::new(&MlpConfig::new(64, &[16], 10), 3).expect("mlp");
        let objective = objective_on(network, Loss::cross_entropy(), &train).expect("objective");
        let mut solver = Scg::<Array1<f32>>::new(ScgConfig::default()).expect("scg");
        let schedule = SolverEpochs {
            epochs: 2,
            iterations_per_epoch: 1,
        };
        let start = TrainStart {
            epochs_done: 2,
            samples_seen: 800,
        };
        let result = train_solver_from(
            objective,
            &test,
            &mut solver,
            &schedule,
            start,
            Some("null"),
            |_, _, _| Ok(()),
        );
        assert!(matches!(
            result,
            Err(ModelError::InvalidArgument {
                name: "epochs done",
                ..
            })
        ));
    }

    #[test]
    fn bad_sizes_are_refused_by_name() {
        for (config, name) in [
            (
                TrainConfig {
                    epochs: 0,
                    ..CONFIG
                },
                "epochs",
            ),
            (
                TrainConfig {
                    batch_size: 0,
                    ..CONFIG
                },
                "batch size",
            ),
            (
                TrainConfig {
                    micro_batch: Some(33),
                    ..CONFIG
                },
                "micro-batch size",
            ),
        ] {
            match config.validate() {
                Err(ModelError::InvalidArgument { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{config:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn evaluation_counts_argmax_hits() {
        let (_, test) = small_digits();
        let network = Mlp::new(&MlpConfig::new(64, &[], 10), 1).expect("mlp");
        let result = evaluate(&network, &Loss::cross_entropy(), &test).expect("evaluation");
        let (images, _) = test
            .batch_range(0..test.len(), BatchLayout::Flat, DType::F32, &Device::Cpu)
            .expect("batch");
        let outputs = network
            .forward(&images)
            .expect("forward")
            .to_vec2::<f32>()
            .expect("vec");
        let hits = outputs
            .iter()
            .zip(test.labels())
            .filter(|&(row, &label)| {
                let best = row
                    .iter()
                    .enumerate()
                    .fold(0, |best, (j, &v)| if v > row[best] { j } else { best });
                best == label as usize
            })
            .count();
        assert_eq!(result.accuracy, hits as f64 / test.len() as f64);
        assert!(result.loss.is_finite() && result.loss > 0.0);
    }

    #[test]
    fn median_of_epoch_times() {
        let record = |seconds| EpochRecord {
            epoch: 1,
            train_loss: 0.0,
            test_loss: 0.0,
            test_accuracy: 0.0,
            seconds,
            samples_seen: 0,
        };
        let mut report = TrainReport {
            epochs: vec![record(3.0), record(1.0), record(2.0)],
            stopped_early: None,
        };
        assert_eq!(report.median_epoch_seconds(), 2.0);
        report.epochs.push(record(10.0));
        assert_eq!(report.median_epoch_seconds(), 2.5);
    }
}
