//! The `first-order` suite of `cargo xtask bench`: every first-order method
//! on Rosenbrock (full batch), logistic breast cancer and softmax digits
//! (mini-batches of 32, by epochs), each over a small learning-rate grid;
//! the best final loss per method and plots of loss against epochs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use opt_core::FiniteSum;

use crate::error::Result;
use crate::plot::{LogChart, Series, write_chart};
use crate::problems::build_problem;
use crate::report::{BREAST_CANCER_L2_1E3_F_STAR, DIGITS_SOFTMAX_L2_1E3_F_STAR};
use crate::run::{RunOptions, RunRecord, run_specs};
use crate::spec::Spec;

/// A method and the learning rates tried.
#[derive(Debug, Clone, Copy)]
pub struct GridMethod {
    /// The optimizer spec without `lr` (`"sgd:momentum=0.9"`).
    pub spec: &'static str,
    pub learning_rates: &'static [f64],
}

/// The grid most methods are tried on.
const GRID: &[f64] = &[1e-3, 1e-2, 1e-1, 1.0];
/// Adadelta's lr scales a step that already has the parameters' units.
const ADADELTA_GRID: &[f64] = &[0.1, 1.0, 10.0];
/// LARS's lr multiplies the trust ratio `trust_coefficient ||w|| / ||g||`
/// (`trust_coefficient = 1e-3`).
const LARS_GRID: &[f64] = &[1.0, 10.0, 100.0];

/// The methods of the suite, with their grids.
pub const METHODS: &[GridMethod] = &[
    GridMethod {
        spec: "sgd",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "sgd:momentum=0.9",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "sgd:momentum=0.9,nesterov=true",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "adagrad",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "rmsprop",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "rmsprop:centered=true",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "adadelta",
        learning_rates: ADADELTA_GRID,
    },
    GridMethod {
        spec: "adam",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "adam:amsgrad=true",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "adamw",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "adamax",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "nadam",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "radam",
        learning_rates: GRID,
    },
    GridMethod {
        spec: "lars",
        learning_rates: LARS_GRID,
    },
    GridMethod {
        spec: "lamb",
        learning_rates: GRID,
    },
];

/// One problem of the suite.
#[derive(Debug, Clone, Copy)]
struct GridProblem {
    slug: &'static str,
    problem: &'static str,
    f_star: f64,
    batch_size: Option<usize>,
    /// Epochs (mini-batch problems) or iterations (full batch): full, quick.
    budget: (f64, f64),
}

const PROBLEMS: &[GridProblem] = &[
    GridProblem {
        slug: "first-order-rosenbrock",
        problem: "rosenbrock",
        f_star: 0.0,
        batch_size: None,
        budget: (3000.0, 300.0),
    },
    GridProblem {
        slug: "first-order-logistic",
        problem: "logistic:data=breast-cancer,l2=0.001",
        f_star: BREAST_CANCER_L2_1E3_F_STAR,
        batch_size: Some(32),
        budget: (30.0, 3.0),
    },
    GridProblem {
        slug: "first-order-softmax",
        problem: "softmax:data=digits,l2=0.001",
        f_star: DIGITS_SOFTMAX_L2_1E3_F_STAR,
        batch_size: Some(32),
        budget: (20.0, 2.0),
    },
];

/// The best run of one method on one problem, with the grid around it.
#[derive(Debug, Clone, Serialize)]
pub struct BestRun {
    pub method: &'static str,
    pub best_lr: f64,
    /// `(lr, final f)` for every point of the grid.
    pub grid: Vec<(f64, f64)>,
    pub record: RunRecord,
    pub f_gap: f64,
}

/// The suite's results on one problem.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemResult {
    pub slug: &'static str,
    pub problem: &'static str,
    pub f_star: f64,
    pub batch_size: Option<usize>,
    pub budget: f64,
    pub best: Vec<BestRun>,
}

fn with_lr(spec: &str, lr: f64) -> String {
    if spec.contains(':') {
        format!("{spec},lr={lr}")
    } else {
        format!("{spec}:lr={lr}")
    }
}

/// The final loss used to rank a run (a diverged run ranks last).
fn final_loss(record: &RunRecord) -> f64 {
    if record.f.is_finite() {
        record.f
    } else {
        f64::INFINITY
    }
}

/// Run the suite; returns its results and the plots written under `out`.
pub fn run_first_order_suite(
    quick: bool,
    out: &Path,
) -> Result<(Vec<ProblemResult>, Vec<PathBuf>)> {
    let mut results = Vec::new();
    let mut files = Vec::new();
    for grid_problem in PROBLEMS {
        let budget = if quick {
            grid_problem.budget.1
        } else {
            grid_problem.budget.0
        };
        let options = match grid_problem.batch_size {
            // one recorded point per epoch: the full objective is evaluated
            // once per pass, not after every mini-batch step
            Some(batch_size) => RunOptions {
                epochs: Some(budget),
                batch_size: Some(batch_size),
                epoch_iterations: true,
                keep_history: true,
                ..RunOptions::default()
            },
            None => RunOptions {
                max_iters: Some(budget as usize),
                keep_history: true,
                ..RunOptions::default()
            },
        };
        let mut best = Vec::new();
        for method in METHODS {
            let mut grid = Vec::new();
            let mut best_record: Option<(f64, RunRecord)> = None;
            for &lr in method.learning_rates {
                let record = run_specs(grid_problem.problem, &with_lr(method.spec, lr), &options)?;
                grid.push((lr, record.f));
                if best_record
                    .as_ref()
                    .is_none_or(|(_, b)| final_loss(&record) < final_loss(b))
                {
                    best_record = Some((lr, record));
                }
            }
            if let Some((best_lr, record)) = best_record {
                best.push(BestRun {
                    method: method.spec,
                    best_lr,
                    grid,
                    f_gap: record.f - grid_problem.f_star,
                    record,
                });
            }
        }
        let samples_per_epoch = FiniteSum::num_samples(&build_problem(&Spec::parse(
            "problem",
            grid_problem.problem,
        )?)?) as f64;
        files.extend(plot_problem(grid_problem, samples_per_epoch, &best, out)?);
        results.push(ProblemResult {
            slug: grid_problem.slug,
            problem: grid_problem.problem,
            f_star: grid_problem.f_star,
            batch_size: grid_problem.batch_size,
            budget,
            best,
        });
    }
    Ok((results, files))
}

fn plot_problem(
    problem: &GridProblem,
    samples_per_epoch: f64,
    best: &[BestRun],
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let series: Vec<Series> = best
        .iter()
        .map(|run| Series {
            label: format!("{} (lr={})", run.method, run.best_lr),
            points: run
                .record
                .history
                .iter()
                .flat_map(|h| h.records.iter())
                .map(|r| {
                    let x = match problem.batch_size {
                        Some(_) => r.evals.samples as f64 / samples_per_epoch,
                        None => r.iter as f64,
                    };
                    (x, (r.f - problem.f_star).max(1e-16))
                })
                .collect(),
        })
        .collect();
    let x_label = if problem.batch_size.is_some() {
        "epochs"
    } else {
        "iterations"
    };
    let title = format!(
        "{} (f - f* against {x_label}, best lr per method)",
        problem.problem
    );
    let chart = LogChart {
        title: &title,
        x_label,
        y_label: "f - f*",
        series: &series,
    };
    write_chart(&chart, &out.join(format!("{}-epochs", problem.slug)))
}

/// The suite's section of `report.md`.
pub fn render_first_order(results: &[ProblemResult]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# Suite `first-order`\n");
    let _ = writeln!(
        text,
        "Each method over its learning-rate grid; the table shows the best final loss. \
         Mini-batch problems draw batches of 32 without replacement (seed 0) and run by \
         epochs, with the full objective recorded once per epoch; Rosenbrock runs full batch by iterations.\n"
    );
    for problem in results {
        let budget = match problem.batch_size {
            Some(b) => format!("{} epochs, batch {b}", problem.budget),
            None => format!("{} iterations, full batch", problem.budget),
        };
        let _ = writeln!(text, "## `{}` ({budget})\n", problem.problem);
        let _ = writeln!(
            text,
            "| method | best lr | final f | f - f* | grid (lr: final f) | time (ms) |"
        );
        let _ = writeln!(text, "|---|---:|---:|---:|---|---:|");
        let mut rows: Vec<&BestRun> = problem.best.iter().collect();
        rows.sort_by(|a, b| final_loss(&a.record).total_cmp(&final_loss(&b.record)));
        for run in rows {
            let grid: Vec<String> = run
                .grid
                .iter()
                .map(|(lr, f)| format!("{lr}: {f:.4e}"))
                .collect();
            let _ = writeln!(
                text,
                "| `{}` | {} | {:.8e} | {:.3e} | {} | {:.1} |",
                run.method,
                run.best_lr,
                run.record.f,
                run.f_gap,
                grid.join(", "),
                run.record.time_s * 1e3
            );
        }
        let _ = writeln!(text, "\n![{0}-epochs.svg]({0}-epochs.svg)\n", problem.slug);
    }
    text
}
