//! One run of one optimizer on one problem, as `cargo xtask run` does it.

use std::cell::RefCell;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use opt_core::runner::{History, JsonLinesTrace, ProgressObserver, SharedHistory};
use opt_core::{Counted, Evals, Runner, Solver, StopReason};
use opt_second_order::levenberg_marquardt::fit_summary;
use serde::Serialize;

use crate::error::{BenchError, Result};
use crate::optimizers::{Optimizer, build_optimizer};
use crate::problems::{Problem, build_problem};
use crate::spec::Spec;

/// The iteration budget of a run that names neither `--max-iters` nor `--epochs`.
pub const DEFAULT_MAX_ITERS: usize = 1000;

/// Stopping rules and outputs of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub max_iters: Option<usize>,
    pub epochs: Option<f64>,
    pub batch_size: Option<usize>,
    pub gtol: Option<f64>,
    pub ftol: Option<f64>,
    pub seed: u64,
    pub time_limit_s: Option<f64>,
    /// Write a JSON-lines trace here.
    pub trace: Option<PathBuf>,
    /// Draw a progress bar (only ever on a terminal).
    pub progress: bool,
    /// Keep every point (and, for problems of dimension 2, every iterate).
    pub keep_history: bool,
    /// A learning-rate schedule for a stepper (evaluated at the step count);
    /// ignored by full-batch solvers.
    pub schedule: Option<opt_core::schedule::LrSchedule>,
    /// With `batch_size`, one iteration of a stepper is one pass over the
    /// data, and the full objective is evaluated once per pass for the
    /// trace, the history and the stopping tests
    /// (`StepperSolver::with_epoch_iterations`) instead of after every step.
    pub epoch_iterations: bool,
}

/// The record of a run: the `--json` summary, plus the history when kept.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub problem: String,
    pub optimizer: String,
    pub iterations: usize,
    pub f: f64,
    pub grad_norm: f64,
    pub grad_inf: f64,
    pub x: Vec<f64>,
    pub evals: Evals,
    pub converged: bool,
    pub stop_reason: StopReason,
    pub time_s: f64,
    /// Standard errors of the estimates, `sqrt(diag s^2 (J'J)^{-1})`, after
    /// a Gauss-Newton or Levenberg-Marquardt fit of a least-squares problem
    /// with more residuals than parameters and a Jacobian of full rank
    /// (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_errors: Option<Vec<f64>>,
    #[serde(skip)]
    pub history: Option<History>,
}

/// Parse both specs, build the problem and the optimizer, and run.
pub fn run_specs(
    problem_spec: &str,
    optimizer_spec: &str,
    options: &RunOptions,
) -> Result<RunRecord> {
    let problem = build_problem(&Spec::parse("problem", problem_spec)?)?;
    let optimizer = build_optimizer(&Spec::parse("optimizer", optimizer_spec)?, problem.l1())?;
    run(
        problem,
        problem_spec.trim(),
        optimizer,
        optimizer_spec.trim(),
        options,
    )
}

/// Run a built optimizer on a built problem; the names label the record.
pub fn run(
    problem: Problem,
    problem_name: &str,
    optimizer: Optimizer,
    optimizer_name: &str,
    options: &RunOptions,
) -> Result<RunRecord> {
    let start = problem.start();
    let keep_iterates = problem_dim(&problem) == 2;
    let problem = Counted::finite_sum(problem);
    let mut runner = Runner::new();
    let mut max_iters = options.max_iters;
    if max_iters.is_none() && options.epochs.is_none() {
        max_iters = Some(DEFAULT_MAX_ITERS);
    }
    if let Some(n) = max_iters {
        runner = runner.max_iters(n);
    }
    if let Some(epochs) = options.epochs {
        runner = runner.max_epochs(epochs)?;
    }
    if let Some(gtol) = options.gtol {
        runner = runner.gtol(gtol)?;
    }
    if let Some(ftol) = options.ftol {
        runner = runner.ftol(ftol)?;
    }
    if let Some(seconds) = options.time_limit_s {
        let budget = Duration::try_from_secs_f64(seconds).map_err(|_| {
            opt_core::OptError::invalid(
                "time_limit",
                seconds,
                "must be a non-negative number of seconds",
            )
        })?;
        runner = runner.time_budget(budget);
    }
    if options.progress {
        runner = runner.observe(Box::new(ProgressObserver::new(max_iters)));
    }
    if let Some(path) = &options.trace {
        let file = File::create(path).map_err(|source| BenchError::Io {
            file: path.display().to_string(),
            source,
        })?;
        runner = runner.observe(Box::new(JsonLinesTrace::new(BufWriter::new(file))));
    }
    let history: Option<SharedHistory> = options
        .keep_history
        .then(|| Rc::new(RefCell::new(History::new(keep_iterates))));
    if let Some(history) = &history {
        runner = runner.observe(Box::new(history.clone()));
    }

    let report = match optimizer {
        Optimizer::Stepper(stepper) => {
            let mut solver = match options.batch_size {
                Some(batch_size) if options.epoch_iterations => stepper
                    .with_batches(batch_size, options.seed)?
                    .with_epoch_iterations(),
                Some(batch_size) => stepper.with_batches(batch_size, options.seed)?,
                None => *stepper,
            };
            if let Some(schedule) = &options.schedule {
                schedule.validate()?;
                solver = solver.with_schedule(schedule.clone());
            }
            runner.run(&problem, &mut solver as &mut dyn Solver<Problem>, start)?
        }
        Optimizer::VarianceReduced(mut solver) => {
            solver.configure(options.batch_size.unwrap_or(1), options.seed)?;
            runner.run(&problem, solver.as_solver(), start)?
        }
        Optimizer::FullBatch(mut solver) => {
            if options.batch_size.is_some() {
                return Err(BenchError::InvalidArgument {
                    kind: "optimizer",
                    name: optimizer_name.to_owned(),
                    key: "--batch-size".into(),
                    value: format!("{:?}", options.batch_size),
                    reason:
                        "this method is full-batch; --batch-size applies to stochastic optimizers"
                            .into(),
                });
            }
            runner.run(&problem, solver.as_solver(), start)?
        }
    };
    drop(runner);
    let least_squares_fit = ["gauss-newton", "lm"]
        .iter()
        .any(|name| optimizer_name.split(':').next() == Some(*name));
    let standard_errors = problem
        .inner()
        .as_least_squares()
        .filter(|_| least_squares_fit)
        .and_then(|fit| fit_summary(fit, &report.x).ok())
        .map(|summary| summary.standard_errors.to_vec());
    Ok(RunRecord {
        problem: problem_name.to_owned(),
        optimizer: optimizer_name.to_owned(),
        iterations: report.iterations,
        f: report.f,
        grad_norm: report.grad_norm,
        grad_inf: report.grad_inf,
        x: report.x.to_vec(),
        evals: report.evals,
        converged: report.converged,
        stop_reason: report.stop_reason,
        time_s: report.time_s,
        standard_errors,
        history: history.map(|h| h.take()),
    })
}

fn problem_dim(problem: &Problem) -> usize {
    opt_core::Objective::dim(problem)
}
