//! The `networks` suite of `cargo xtask bench`: the MLP and the CNN of
//! `opt-models` (as `cargo xtask train --model mlp|cnn` builds them) trained
//! on the embedded digits split (1437 train / 360 test) by first-order
//! steppers and by full-batch and mini-batched second-order solvers, from
//! the same initialisation (seed 0).
//!
//! - **Steppers** (`sgd:lr=0.1,momentum=0.9`, `adam:lr=0.001`,
//!   `adamw:lr=0.001,weight_decay=0.01`, `rmsprop:lr=0.001`): batches of 32
//!   samples drawn without replacement, one step per batch
//!   ([`opt_models::train::train_stepper`]).
//! - **Full-batch solvers** (`scg`, Moller 1993; `lbfgs`, Nocedal & Wright
//!   2006 Alg. 7.5): one iteration per epoch on the whole training set
//!   ([`opt_models::train::train_solver`]); an iteration evaluates one or
//!   more full gradients.
//! - **Mini-batched SCG** ([`MINIBATCH_SCG_SPEC`]): `ceil(n / B)` iterations
//!   per epoch, each on a batch of `B` samples.
//!
//! Every run records, per epoch, the training loss, the test loss and
//! accuracy and the optimization seconds ([`EpochRecord`]; definitions in
//! [`opt_models::train`]), and the **samples seen**: the number of
//! per-sample gradient (or value) evaluations since the start, which puts
//! steppers and solvers on one cost axis (a full-batch gradient costs `n`).
//! The report has one table per model and, per model, the training loss
//! against epochs, samples seen and seconds, and the test error
//! (1 - accuracy) against samples seen, all on log axes.
//!
//! [`train_with_spec`] is what `cargo xtask train` does for one model and
//! one optimizer spec ([`crate::training`]), without its checkpoints.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use opt_core::{FiniteSum, OptError};
use opt_models::data::{Dataset, digits};
use opt_models::loss::Loss;
use opt_models::train::{
    EpochRecord, SolverEpochs, TrainConfig, TrainReport, objective_on, train_solver, train_stepper,
};
use serde::Serialize;

use crate::error::{BenchError, Result};
use crate::plot::{LogChart, Series, write_chart};
use crate::spec::Spec;
use crate::training::{TrainObjective, TrainingMethod, build_network, training_method};

/// The mini-batched SCG run of the suite: batches of 128, a new batch
/// (and a restart of the conjugate directions) every 5 iterations, the
/// setting found in docs/algorithms/minibatch-scg.md.
pub const MINIBATCH_SCG_SPEC: &str = "scg:batch_size=128,batches_every=5";

/// Samples per step of the steppers.
pub const BATCH_SIZE: usize = 32;

/// Seed of the initialisation, the shuffles and the SCG batches.
pub const SEED: u64 = 0;

/// The methods of the full run on the MLP, in report order.
pub const METHODS: &[&str] = &[
    "sgd:lr=0.1,momentum=0.9",
    "adam:lr=0.001",
    "adamw:lr=0.001,weight_decay=0.01",
    "rmsprop:lr=0.001",
    "scg",
    MINIBATCH_SCG_SPEC,
    "lbfgs",
];

/// Mini-batched SCG on the CNN: batches of 64 (docs/algorithms/minibatch-scg.md:
/// the CNN wants more, smaller batches than the MLP).
pub const CNN_MINIBATCH_SCG_SPEC: &str = "scg:batch_size=64,batches_every=5";

/// The methods of the full run on the CNN: those of the MLP, with
/// [`CNN_MINIBATCH_SCG_SPEC`].
pub const CNN_METHODS: &[&str] = &[
    "sgd:lr=0.1,momentum=0.9",
    "adam:lr=0.001",
    "adamw:lr=0.001,weight_decay=0.01",
    "rmsprop:lr=0.001",
    "scg",
    CNN_MINIBATCH_SCG_SPEC,
    "lbfgs",
];

/// The methods of the quick run: one momentum and one adaptive stepper,
/// and the three solvers.
pub const QUICK_METHODS: &[&str] = &[
    "sgd:lr=0.1,momentum=0.9",
    "adam:lr=0.001",
    "scg",
    MINIBATCH_SCG_SPEC,
    "lbfgs",
];

/// Epochs of the MLP in the full run.
pub const MLP_EPOCHS: usize = 20;

/// Epochs of the CNN in the full run, as many as the MLP's (the issue's
/// setting: 20 epochs of batches of 32).
pub const CNN_EPOCHS: usize = 20;

/// Epochs of the quick run (MLP only).
pub const QUICK_EPOCHS: usize = 3;

/// One model of a plan and what it is trained with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPlan {
    /// [`MODEL_NAMES`].
    pub model: &'static str,
    /// Epochs of every method.
    pub epochs: usize,
    /// Optimizer specs, in report order.
    pub methods: Vec<&'static str>,
}

/// What the suite runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworksPlan {
    pub models: Vec<ModelPlan>,
    /// Train on the first this many training samples only (`None`: all).
    pub train_samples: Option<usize>,
}

impl NetworksPlan {
    /// The full run: the MLP for [`MLP_EPOCHS`] with [`METHODS`], the CNN
    /// for [`CNN_EPOCHS`] with [`CNN_METHODS`].
    pub fn full() -> Self {
        Self {
            models: vec![
                ModelPlan {
                    model: "mlp",
                    epochs: MLP_EPOCHS,
                    methods: METHODS.to_vec(),
                },
                ModelPlan {
                    model: "cnn",
                    epochs: CNN_EPOCHS,
                    methods: CNN_METHODS.to_vec(),
                },
            ],
            train_samples: None,
        }
    }

    /// The quick (CI) run: the MLP only, [`QUICK_EPOCHS`] epochs,
    /// [`QUICK_METHODS`].
    pub fn quick() -> Self {
        Self {
            models: vec![ModelPlan {
                model: "mlp",
                epochs: QUICK_EPOCHS,
                methods: QUICK_METHODS.to_vec(),
            }],
            train_samples: None,
        }
    }
}

/// How [`train_with_spec`] trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainOptions {
    /// Epochs (passes over the training set for steppers and mini-batched
    /// SCG, one iteration for full-batch solvers).
    pub epochs: usize,
    /// Samples per step of a first-order stepper (SCG takes its batch from
    /// its spec).
    pub batch_size: usize,
    /// Seed of the shuffles and of SCG's batches (unless its spec gives `seed`).
    pub seed: u64,
}

/// One model of a run.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// `mlp` or `cnn`.
    pub model: String,
    /// Trainable parameters.
    pub parameters: usize,
    /// Epochs each method was given.
    pub epochs: usize,
    /// The optimizer specs it was trained with.
    pub methods: Vec<String>,
}

/// The figures of one finished run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Test accuracy after the last epoch.
    pub test_accuracy: f64,
    /// Training loss of the last epoch.
    pub train_loss: f64,
    /// Test loss after the last epoch.
    pub test_loss: f64,
    /// Epochs run (fewer than planned when a solver stopped by itself).
    pub epochs: usize,
    /// Per-sample gradient or value evaluations over the whole run.
    pub samples_seen: u64,
    /// Median of the epochs' optimization seconds.
    pub median_epoch_seconds: f64,
    /// Wall-clock seconds of the whole run: building the network and the
    /// objective, training, and the test evaluation after each epoch.
    pub total_seconds: f64,
    /// Why a solver stopped before its last epoch, if it did.
    pub stopped_early: Option<String>,
}

/// One (model, optimizer) run.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkRun {
    pub model: String,
    pub optimizer: String,
    pub summary: RunSummary,
    /// One record per epoch.
    pub records: Vec<EpochRecord>,
}

/// A (model, optimizer) run that ended with an error.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkFailure {
    pub model: String,
    pub optimizer: String,
    pub error: String,
}

/// The suite's results.
#[derive(Debug, Clone, Serialize)]
pub struct NetworksResult {
    pub seed: u64,
    /// Samples per step of the steppers.
    pub batch_size: usize,
    pub train_samples: usize,
    pub test_samples: usize,
    pub models: Vec<ModelInfo>,
    pub runs: Vec<NetworkRun>,
    pub failures: Vec<NetworkFailure>,
}

/// Train `objective` (built on the training set) with the optimizer `spec`
/// names ([`training_method`]: an `f32` stepper over batches of
/// `options.batch_size`, or a solver for its iterations per epoch),
/// evaluating on `test` after every epoch and handing each record to
/// `on_epoch`; the network holds the final parameters afterwards. This is
/// `cargo xtask train` without its checkpoints.
///
/// Errors: an unknown name or argument, an invalid hyperparameter (the
/// registry's errors); a training error ([`BenchError::Model`]).
pub fn train_with_spec(
    spec: &Spec,
    objective: TrainObjective,
    test: &Dataset,
    options: &TrainOptions,
    on_epoch: impl FnMut(&EpochRecord),
) -> Result<TrainReport> {
    match training_method(spec, objective.num_samples(), options.seed, None)? {
        TrainingMethod::Stepper(mut stepper) => {
            let config = TrainConfig {
                epochs: options.epochs,
                batch_size: options.batch_size,
                micro_batch: None,
                seed: options.seed,
            };
            Ok(train_stepper(
                &objective,
                test,
                &mut stepper,
                &config,
                on_epoch,
            )?)
        }
        TrainingMethod::Solver {
            mut solver,
            iterations_per_epoch,
            ..
        } => {
            let schedule = SolverEpochs {
                epochs: options.epochs,
                iterations_per_epoch,
            };
            let (report, _) = train_solver(objective, test, &mut *solver, &schedule, on_epoch)?;
            Ok(report)
        }
    }
}

/// Run `plan` on the digits split.
///
/// Errors: an unknown model or a malformed method spec (the plan's own
/// fault). A run that fails while training is listed in
/// [`NetworksResult::failures`] and the others go on.
pub fn run_plan(plan: &NetworksPlan) -> Result<NetworksResult> {
    let (train_set, test_set) = digits()?;
    let train_set = match plan.train_samples {
        Some(count) if count < train_set.len() => {
            train_set.subset(&(0..count).collect::<Vec<_>>())?
        }
        _ => train_set,
    };
    let mut result = NetworksResult {
        seed: SEED,
        batch_size: BATCH_SIZE,
        train_samples: train_set.len(),
        test_samples: test_set.len(),
        models: Vec::with_capacity(plan.models.len()),
        runs: Vec::new(),
        failures: Vec::new(),
    };
    for model_plan in &plan.models {
        let model = model_plan.model;
        let specs = model_plan
            .methods
            .iter()
            .map(|method| Spec::parse("optimizer", method))
            .collect::<Result<Vec<_>>>()?;
        result.models.push(ModelInfo {
            model: model.to_owned(),
            parameters: build_network(model, &train_set, SEED, &Device::Cpu)?.num_parameters(),
            epochs: model_plan.epochs,
            methods: model_plan.methods.iter().map(|m| (*m).to_owned()).collect(),
        });
        let options = TrainOptions {
            epochs: model_plan.epochs,
            batch_size: BATCH_SIZE,
            seed: SEED,
        };
        for (method, spec) in model_plan.methods.iter().zip(&specs) {
            let started = Instant::now();
            let report = build_network(model, &train_set, SEED, &Device::Cpu)
                .and_then(|network| Ok(objective_on(network, Loss::cross_entropy(), &train_set)?))
                .and_then(|objective| {
                    train_with_spec(spec, objective, &test_set, &options, |_| {})
                });
            let total_seconds = started.elapsed().as_secs_f64();
            match report {
                Ok(report) => {
                    result
                        .runs
                        .push(network_run(model, method, report, total_seconds));
                }
                Err(
                    error @ (BenchError::UnknownName { .. }
                    | BenchError::UnknownArgument { .. }
                    | BenchError::InvalidArgument { .. }
                    | BenchError::Spec { .. }
                    | BenchError::Opt(OptError::InvalidHyperparameter { .. })),
                ) => return Err(error),
                Err(error) => result.failures.push(NetworkFailure {
                    model: model.to_owned(),
                    optimizer: (*method).to_owned(),
                    error: error.to_string(),
                }),
            }
        }
    }
    Ok(result)
}

fn network_run(model: &str, method: &str, report: TrainReport, total_seconds: f64) -> NetworkRun {
    let last = report.epochs.last();
    NetworkRun {
        model: model.to_owned(),
        optimizer: method.to_owned(),
        summary: RunSummary {
            test_accuracy: last.map_or(f64::NAN, |e| e.test_accuracy),
            train_loss: last.map_or(f64::NAN, |e| e.train_loss),
            test_loss: last.map_or(f64::NAN, |e| e.test_loss),
            epochs: report.epochs.len(),
            samples_seen: last.map_or(0, |e| e.samples_seen),
            median_epoch_seconds: report.median_epoch_seconds(),
            total_seconds,
            stopped_early: report.stopped_early.clone(),
        },
        records: report.epochs,
    }
}

/// Run the suite ([`NetworksPlan::quick`] or [`NetworksPlan::full`]) and
/// write its plots into `out`.
pub fn run_networks_suite(quick: bool, out: &Path) -> Result<(NetworksResult, Vec<PathBuf>)> {
    let plan = if quick {
        NetworksPlan::quick()
    } else {
        NetworksPlan::full()
    };
    let result = run_plan(&plan)?;
    let files = plot_networks(&result, out)?;
    Ok((result, files))
}

/// Reads a plot's coordinate off the records of a run up to and including
/// record `index`.
type Coordinate = fn(&[EpochRecord], usize) -> f64;

/// The four figures of each model: `networks-{model}-loss-epochs`,
/// `-loss-samples`, `-loss-seconds` and `-test-error-samples` (SVG and PNG).
pub fn plot_networks(result: &NetworksResult, out: &Path) -> Result<Vec<PathBuf>> {
    let epochs: Coordinate = |records, i| records[i].epoch as f64;
    let samples: Coordinate = |records, i| records[i].samples_seen as f64;
    let seconds: Coordinate = |records, i| records[..=i].iter().map(|r| r.seconds).sum();
    let train_loss: Coordinate = |records, i| records[i].train_loss;
    let test_error: Coordinate = |records, i| 1.0 - records[i].test_accuracy;
    let figures: [(&str, &str, Coordinate, &str, Coordinate); 4] = [
        ("loss-epochs", "epoch", epochs, "training loss", train_loss),
        (
            "loss-samples",
            "samples seen (per-sample gradient evaluations)",
            samples,
            "training loss",
            train_loss,
        ),
        (
            "loss-seconds",
            "optimization seconds",
            seconds,
            "training loss",
            train_loss,
        ),
        (
            "test-error-samples",
            "samples seen (per-sample gradient evaluations)",
            samples,
            "test error (1 - accuracy)",
            test_error,
        ),
    ];
    let mut files = Vec::new();
    for model in &result.models {
        let runs: Vec<&NetworkRun> = result
            .runs
            .iter()
            .filter(|run| run.model == model.model)
            .collect();
        for (suffix, x_label, x_of, y_label, y_of) in figures {
            let series: Vec<Series> = runs
                .iter()
                .map(|run| Series {
                    label: run.optimizer.clone(),
                    points: (0..run.records.len())
                        .map(|i| (x_of(&run.records, i), y_of(&run.records, i)))
                        .collect(),
                })
                .collect();
            let title = format!("{} on digits: {y_label} against {x_label}", model.model);
            let chart = LogChart {
                title: &title,
                x_label,
                y_label,
                series: &series,
            };
            files.extend(write_chart(
                &chart,
                &out.join(format!("networks-{}-{suffix}", model.model)),
            )?);
        }
    }
    Ok(files)
}

/// The suite's section of `report.md`.
pub fn render_networks(result: &NetworksResult) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# Suite `networks` (MLP and CNN on digits)\n");
    let _ = writeln!(
        text,
        "Digits, {} training / {} test samples; every run starts from the same \
         initialisation (seed {}). Steppers take batches of {} drawn without replacement; \
         `scg` and `lbfgs` take one full-batch iteration per epoch; mini-batched SCG takes \
         `ceil(n / B)` iterations per epoch. Samples seen = per-sample gradient (or value) \
         evaluations over the run. Train loss: steppers, the mean of the batch losses met \
         during the last epoch; solvers, the full training objective after it. Median epoch = \
         optimization seconds only; total = wall-clock of the run, test evaluations \
         included.\n",
        result.train_samples, result.test_samples, result.seed, result.batch_size
    );
    for model in &result.models {
        let _ = writeln!(
            text,
            "## `{}` ({} parameters, {} epochs)\n",
            model.model, model.parameters, model.epochs
        );
        let _ = writeln!(
            text,
            "| model | method | test accuracy | train loss | test loss | epochs | samples seen | median epoch (s) | total (s) |"
        );
        let _ = writeln!(text, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for run in result.runs.iter().filter(|r| r.model == model.model) {
            let s = &run.summary;
            let stopped = s
                .stopped_early
                .as_ref()
                .map_or(String::new(), |reason| format!(" (stopped: {reason})"));
            let _ = writeln!(
                text,
                "| `{}` | `{}` | {:.4} | {:.4e} | {:.4e} | {}{stopped} | {} | {:.4} | {:.2} |",
                run.model,
                run.optimizer,
                s.test_accuracy,
                s.train_loss,
                s.test_loss,
                s.epochs,
                s.samples_seen,
                s.median_epoch_seconds,
                s.total_seconds
            );
        }
        for failure in result.failures.iter().filter(|f| f.model == model.model) {
            let _ = writeln!(text, "\n`{}` failed: {}", failure.optimizer, failure.error);
        }
        let _ = writeln!(text);
        for suffix in [
            "loss-epochs",
            "loss-samples",
            "loss-seconds",
            "test-error-samples",
        ] {
            let name = format!("networks-{}-{suffix}.svg", model.model);
            let _ = writeln!(text, "![{name}]({name})");
        }
        let _ = writeln!(text);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_plan() -> NetworksPlan {
        NetworksPlan {
            models: vec![ModelPlan {
                model: "mlp",
                epochs: 2,
                methods: vec!["sgd:lr=0.1,momentum=0.9", "lbfgs"],
            }],
            train_samples: Some(200),
        }
    }

    #[test]
    fn a_tiny_networks_run_fills_the_table_and_the_records() {
        let result = run_plan(&tiny_plan()).expect("tiny suite");
        assert!(result.failures.is_empty(), "{:?}", result.failures);
        assert_eq!(result.train_samples, 200);
        assert_eq!(result.test_samples, 360);
        // 64 inputs -> 128 -> 10
        assert_eq!(result.models[0].parameters, 64 * 128 + 128 + 128 * 10 + 10);
        assert_eq!(result.runs.len(), 2);
        for run in &result.runs {
            let seen: Vec<u64> = run.records.iter().map(|r| r.samples_seen).collect();
            assert_eq!(run.records.len(), 2, "{}", run.optimizer);
            assert!(
                seen[0] > 0 && seen[0] < seen[1],
                "{}: {seen:?}",
                run.optimizer
            );
            assert_eq!(run.summary.samples_seen, seen[1]);
            assert_eq!(run.summary.epochs, 2);
        }
        // the stepper sees each of the 200 samples once per epoch
        let sgd = &result.runs[0];
        assert_eq!(
            sgd.records
                .iter()
                .map(|r| r.samples_seen)
                .collect::<Vec<_>>(),
            vec![200, 400]
        );
        // a full-batch L-BFGS iteration evaluates whole gradients
        assert_eq!(result.runs[1].summary.samples_seen % 200, 0);

        let text = render_networks(&result);
        let rows: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("| `mlp` |"))
            .collect();
        assert_eq!(rows.len(), 2, "{text}");
        assert!(rows[0].starts_with("| `mlp` | `sgd:lr=0.1,momentum=0.9` |"));
        assert!(rows[1].starts_with("| `mlp` | `lbfgs` |"));
        let cells: Vec<&str> = rows[0].split('|').map(str::trim).collect();
        // | model | method | accuracy | train | test | epochs | samples | ...
        assert_eq!(cells[6], "2");
        assert_eq!(cells[7], "400");
        assert!(text.contains("![networks-mlp-loss-samples.svg]"));
    }

    #[test]
    fn unknown_optimizers_and_arguments_are_refused_by_name() {
        let (train_set, test_set) = digits().expect("digits");
        let train_set = train_set.subset(&[0, 1, 2, 3]).expect("subset");
        let options = TrainOptions {
            epochs: 1,
            batch_size: 2,
            seed: 0,
        };
        let attempt = |text: &str| {
            let network = build_network("mlp", &train_set, 0, &Device::Cpu).expect("mlp");
            let objective =
                objective_on(network, Loss::cross_entropy(), &train_set).expect("objective");
            let spec = Spec::parse("optimizer", text).expect("spec");
            train_with_spec(&spec, objective, &test_set, &options, |_| {})
        };
        assert!(matches!(
            attempt("newton"),
            Err(BenchError::UnknownName { name, .. }) if name == "newton"
        ));
        assert!(matches!(
            attempt("lbfgs:q=3"),
            Err(BenchError::UnknownArgument { key, .. }) if key == "q"
        ));
        assert!(matches!(
            attempt("scg:batch_size=2,nope=1"),
            Err(BenchError::UnknownArgument { key, .. }) if key == "nope"
        ));
    }
}
