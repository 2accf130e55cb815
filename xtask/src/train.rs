//! `cargo xtask train`: a network of `opt-models` trained on digits or an
//! MNIST-style IDX directory by any optimizer of the workspace, in `f32`.
//!
//! First-order specs (`sgd:lr=0.1,momentum=0.9`, `adam:lr=1e-3`, ...) run
//! as steppers over shuffled mini-batches of `--batch-size` (gradient
//! accumulated over micro-batches of `--accumulate` when given). `scg`,
//! `lbfgs`, `cg` and `newton-cg` run as solvers: one epoch is one
//! iteration on the whole training set; `scg:batch_size=B[,batches_every=K]`
//! is minibatched SCG, where one epoch is `ceil(n / B)` iterations (each of
//! its two gradient evaluations on a batch of `B`). `newton-cg` takes its
//! Hessian-vector products by central differences of gradients (two
//! full-batch gradients each). Definitions of the per-epoch figures:
//! `opt_models::train`.
//!
//! Checkpoints: `--checkpoint DIR` writes `DIR/weights.safetensors` and
//! `DIR/state.json` after every epoch (`opt_models::checkpoint`); `--resume
//! DIR` loads them, checks that model, data, optimizer spec, batch size,
//! `--accumulate` and seed are the same, and runs the epochs after the
//! checkpoint's up to `--epochs`, bit for bit as the uninterrupted run on
//! the CPU. A solver's state is saved as `{"solver": KIND, "state": ...}`
//! (KIND `scg`, `minibatch-scg`, `lbfgs`, `cg` or `newton-cg`) and resumed
//! by `opt_models::train::train_solver_from`. A resumed run keeps writing
//! checkpoints to the `--resume` directory unless `--checkpoint` names
//! another; its summary lists all epochs, its trace the new ones.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use candle_core::Device;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use opt_bench::Spec;
use opt_bench::optimizers::CheckpointStepper;
use opt_bench::training::{self, TrainingMethod, training_method};
use opt_core::FiniteSum;
use opt_models::checkpoint::{RunSettings, load_checkpoint, save_checkpoint};
use opt_models::data::{Dataset, digits, load_idx_dir};
use opt_models::loss::Loss;
use opt_models::network::Network;
use opt_models::train::{
    CheckpointSolver, EpochRecord, SolverEpochs, TrainConfig, TrainReport, TrainStart,
    objective_on, train_solver_from, train_stepper_from,
};
use serde_json::{Value, json};

/// What a training run is: the arguments `train` and `landscape` share.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The network: `mlp` (inputs-128-classes, ReLU) or `cnn` (two
    /// conv-ReLU-pool blocks of 16 and 32 channels, then 64, then classes).
    #[arg(long)]
    pub model: String,
    /// The data: `digits` (1437 train / 360 test) or `idx:DIR` (an MNIST or
    /// Fashion-MNIST directory of `*-ubyte` files, gzipped or not).
    #[arg(long)]
    pub data: String,
    /// The optimizer: a first-order spec (`adam:lr=0.001`,
    /// `sgd:lr=0.1,momentum=0.9`, ...), `scg[:batch_size=B,...]`,
    /// `lbfgs[:m=10]`, `cg[:variant=prplus]` or
    /// `newton-cg[:forcing=superlinear|quadratic][,eta=E][,max_cg_iters=N]`.
    #[arg(long)]
    pub optimizer: String,
    /// Epochs (passes over the training set; one iteration for full-batch
    /// solvers).
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Samples per step of a first-order method.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Accumulate each batch's gradient over micro-batches of at most M samples.
    #[arg(long, value_name = "M")]
    pub accumulate: Option<usize>,
    /// Seed of the initialisation and the shuffles (and of `landscape`'s
    /// random directions).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// `cpu` or `cuda` (needs a build with the `cuda` feature of opt-models).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Write one JSON object per epoch to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Print the summary as one JSON object on the last line of stdout.
    #[arg(long)]
    json: bool,
    /// Write a checkpoint (weights.safetensors, state.json) into DIR after
    /// every epoch.
    #[arg(long, value_name = "DIR")]
    checkpoint: Option<PathBuf>,
    /// Continue the run whose checkpoint is in DIR up to --epochs (same
    /// model, data, optimizer, batch size, accumulation and seed).
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
}

impl RunArgs {
    /// The optimizer spec, after checking the sizes: at least one epoch and
    /// one sample per batch, and micro-batches no larger than the batch
    /// (for `scg`, whose batch size is in its spec, any positive size).
    pub(crate) fn checked_spec(&self) -> Result<Spec, String> {
        if self.epochs == 0 {
            return Err("invalid --epochs 0: must be at least 1".into());
        }
        if self.batch_size == 0 {
            return Err("invalid --batch-size 0: must be at least 1".into());
        }
        let spec = Spec::parse("optimizer", &self.optimizer).map_err(|e| e.to_string())?;
        // scg takes its batch size from its spec (MinibatchScg checks M <= B)
        let batch_size = if spec.name == "scg" {
            usize::MAX
        } else {
            self.batch_size
        };
        if let Some(micro) = self.accumulate
            && (micro == 0 || micro > batch_size)
        {
            return Err(format!(
                "invalid --accumulate {micro}: must be between 1 and the batch size {}",
                self.batch_size
            ));
        }
        Ok(spec)
    }
}

impl TrainArgs {
    /// The arguments of a plain CPU run (no trace, checkpoint or resume),
    /// for commands that train as `train` does.
    pub(crate) fn plain(run: RunArgs) -> Self {
        Self {
            run,
            device: "cpu".to_owned(),
            trace: None,
            json: false,
            checkpoint: None,
            resume: None,
        }
    }
}

/// Run `cargo xtask train`; an error is the one line to print.
pub fn train(args: TrainArgs) -> Result<(), String> {
    let spec = args.run.checked_spec()?;
    let device = device(&args.device)?;
    let (train_set, test_set) = load_data(&args.run.data)?;
    let network = build_network(&args.run.model, &train_set, args.run.seed, &device)?;
    let objective =
        objective_on(network, Loss::cross_entropy(), &train_set).map_err(|e| e.to_string())?;

    let mut trace = match &args.trace {
        Some(path) => {
            Some(BufWriter::new(File::create(path).map_err(|e| {
                format!("cannot write {}: {e}", path.display())
            })?))
        }
        None => None,
    };
    let mut trace_error = None;
    let print_epochs = !args.json;
    if print_epochs {
        println!(
            "{:>5}  {:>11}  {:>10}  {:>8}  {:>9}",
            "epoch", "train_loss", "test_loss", "test_acc", "seconds"
        );
    }
    let progress = epoch_progress(args.run.epochs);
    let on_epoch = |record: &EpochRecord| {
        if let Some(writer) = trace.as_mut() {
            let line = serde_json::to_string(record).unwrap_or_default();
            if let Err(error) = writeln!(writer, "{line}") {
                trace_error.get_or_insert(error);
            }
        }
        if print_epochs {
            progress.suspend(|| {
                println!(
                    "{:>5}  {:>11.6}  {:>10.6}  {:>8.4}  {:>9.4}",
                    record.epoch,
                    record.train_loss,
                    record.test_loss,
                    record.test_accuracy,
                    record.seconds
                );
            });
        }
        progress.set_position(record.epoch as u64);
        progress.set_message(format!("test accuracy {:.4}", record.test_accuracy));
    };
    let report = run_optimizer(&spec, objective, &test_set, &args, on_epoch);
    progress.finish_and_clear();
    let report = report?;
    if let Some(mut writer) = trace {
        if let Some(error) = trace_error {
            return Err(format!("cannot write the trace: {error}"));
        }
        writer
            .flush()
            .map_err(|e| format!("cannot write the trace: {e}"))?;
    }
    let last = report.epochs.last().ok_or("training ran no epoch")?.clone();
    if args.json {
        let summary = json!({
            "model": args.run.model,
            "data": args.run.data,
            "optimizer": args.run.optimizer,
            "batch_size": args.run.batch_size,
            "accumulate": args.run.accumulate,
            "seed": args.run.seed,
            "device": args.device,
            "epochs": report.epochs.len(),
            "train_loss": last.train_loss,
            "test_loss": last.test_loss,
            "test_accuracy": last.test_accuracy,
            "epoch_time_s": report.median_epoch_seconds(),
            "samples_seen": last.samples_seen,
            "stopped_early": report.stopped_early,
            "records": report.epochs,
        });
        println!("{summary}");
    } else {
        if let Some(reason) = &report.stopped_early {
            println!("stopped early: {reason}");
        }
        println!(
            "test accuracy {:.4}, median epoch {:.4} s",
            last.test_accuracy,
            report.median_epoch_seconds()
        );
    }
    Ok(())
}

fn device(name: &str) -> Result<Device, String> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => {
            if !candle_core::utils::cuda_is_available() {
                return Err("--device cuda: this build has no CUDA support \
                            (build with `--features opt-models/cuda`)"
                    .into());
            }
            Device::new_cuda(0).map_err(|e| format!("--device cuda: {e}"))
        }
        other => Err(format!("unknown device `{other}`; expected cpu or cuda")),
    }
}

pub(crate) fn load_data(name: &str) -> Result<(Dataset, Dataset), String> {
    if name == "digits" {
        return digits().map_err(|e| e.to_string());
    }
    if let Some(dir) = name.strip_prefix("idx:") {
        let dir = Path::new(dir);
        if !dir.is_dir() {
            return Err(format!(
                "--data {name}: {} is not a directory",
                dir.display()
            ));
        }
        return load_idx_dir(dir).map_err(|e| e.to_string());
    }
    Err(format!("unknown data `{name}`; expected digits or idx:DIR"))
}

pub(crate) fn build_network(
    name: &str,
    data: &Dataset,
    seed: u64,
    device: &Device,
) -> Result<Box<dyn Network>, String> {
    training::build_network(name, data, seed, device).map_err(|e| e.to_string())
}

pub(crate) use opt_bench::training::TrainObjective as Objective;

pub(crate) fn run_optimizer(
    spec: &Spec,
    objective: Objective,
    test: &Dataset,
    args: &TrainArgs,
    on_epoch: impl FnMut(&EpochRecord),
) -> Result<TrainReport, String> {
    let method = training_method(
        spec,
        objective.num_samples(),
        args.run.seed,
        args.run.accumulate,
    )
    .map_err(|e| e.to_string())?;
    match method {
        TrainingMethod::Stepper(stepper) => run_stepper(stepper, objective, test, args, on_epoch),
        TrainingMethod::Solver {
            kind,
            mut solver,
            iterations_per_epoch,
        } => {
            let schedule = SolverEpochs {
                epochs: args.run.epochs,
                iterations_per_epoch,
            };
            run_solver(
                kind,
                &mut *solver,
                objective,
                test,
                &schedule,
                args,
                on_epoch,
            )
        }
    }
}

/// Train with a first-order `stepper` over shuffled batches of
/// `--batch-size`, writing a checkpoint after every epoch with
/// `--checkpoint` and continuing one with `--resume` (module doc).
fn run_stepper(
    mut stepper: Box<dyn CheckpointStepper>,
    objective: Objective,
    test: &Dataset,
    args: &TrainArgs,
    on_epoch: impl FnMut(&EpochRecord),
) -> Result<TrainReport, String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let config = TrainConfig {
        epochs: args.run.epochs,
        batch_size: args.run.batch_size,
        micro_batch: args.run.accumulate,
        seed: args.run.seed,
    };
    let settings = run_settings(args);
    let mut start = TrainStart::default();
    let mut records = Vec::new();
    if let Some(dir) = &args.resume {
        let resumed = |e: &dyn std::fmt::Display| format!("--resume {}: {e}", dir.display());
        let state =
            load_checkpoint(dir, objective.network(), &settings).map_err(|e| resumed(&e))?;
        if state.epochs_done >= args.run.epochs {
            return Err(resumed(&format!(
                "the checkpoint has {} epochs done; give --epochs above that",
                state.epochs_done
            )));
        }
        stepper
            .restore_state_json(&state.optimizer_state.to_string())
            .map_err(|e| resumed(&e))?;
        start = TrainStart {
            epochs_done: state.epochs_done,
            samples_seen: state.samples_seen(),
        };
        records = state.records;
    }
    let checkpoint_dir = args.checkpoint.as_ref().or(args.resume.as_ref());
    let mut on_epoch = on_epoch;
    let report = train_stepper_from(
        &objective,
        test,
        &mut stepper,
        &config,
        start,
        |record, stepper| {
            on_epoch(record);
            records.push(record.clone());
            if let Some(dir) = checkpoint_dir {
                let state = stepper.state_json()?;
                save_checkpoint(dir, objective.network(), &settings, &records, &state)?;
            }
            Ok(())
        },
    )
    .map_err(|e| text(&e))?;
    Ok(TrainReport {
        epochs: records,
        stopped_early: report.stopped_early,
    })
}

/// A bar over the epochs on stderr when it is a terminal, hidden otherwise.
fn epoch_progress(epochs: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(epochs as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} epochs  {msg}  [{elapsed}]")
    {
        bar.set_style(style);
    }
    bar
}

/// What a checkpoint of this run must share with the run resuming it.
fn run_settings(args: &TrainArgs) -> RunSettings {
    RunSettings {
        model: args.run.model.clone(),
        data: args.run.data.clone(),
        optimizer: args.run.optimizer.clone(),
        batch_size: args.run.batch_size,
        micro_batch: args.run.accumulate,
        seed: args.run.seed,
    }
}

/// Train with `solver` (`kind` names it in checkpoints), writing a
/// checkpoint after every epoch with `--checkpoint` and continuing one with
/// `--resume` (module doc).
fn run_solver<S>(
    kind: &'static str,
    solver: &mut S,
    objective: Objective,
    test: &Dataset,
    schedule: &SolverEpochs,
    args: &TrainArgs,
    mut on_epoch: impl FnMut(&EpochRecord),
) -> Result<TrainReport, String>
where
    S: CheckpointSolver<Objective> + ?Sized,
{
    let settings = run_settings(args);
    let mut start = TrainStart::default();
    let mut records = Vec::new();
    let mut solver_state = None;
    if let Some(dir) = &args.resume {
        let resumed = |e: &dyn std::fmt::Display| format!("--resume {}: {e}", dir.display());
        let state =
            load_checkpoint(dir, objective.network(), &settings).map_err(|e| resumed(&e))?;
        if state.epochs_done >= args.run.epochs {
            return Err(resumed(&format!(
                "the checkpoint has {} epochs done; give --epochs above that",
                state.epochs_done
            )));
        }
        let saved_kind = state.optimizer_state.get("solver").and_then(Value::as_str);
        if saved_kind != Some(kind) {
            return Err(resumed(&format!(
                "the checkpoint holds the state of {}, not of {kind}",
                saved_kind.unwrap_or("a first-order method")
            )));
        }
        solver_state = Some(state.optimizer_state["state"].to_string());
        start = TrainStart {
            epochs_done: state.epochs_done,
            samples_seen: state.samples_seen(),
        };
        records = state.records;
    }
    let checkpoint_dir = args.checkpoint.as_ref().or(args.resume.as_ref());
    let (report, _) = train_solver_from(
        objective,
        test,
        solver,
        schedule,
        start,
        solver_state.as_deref(),
        |record, objective, solver| {
            on_epoch(record);
            records.push(record.clone());
            if let Some(dir) = checkpoint_dir {
                let state = format!(
                    "{{\"solver\":{},\"state\":{}}}",
                    Value::from(kind),
                    solver.state_json()?
                );
                save_checkpoint(dir, objective.network(), &settings, &records, &state)?;
            }
            Ok(())
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(TrainReport {
        epochs: records,
        stopped_early: report.stopped_early,
    })
}
