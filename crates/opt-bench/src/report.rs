//! `cargo xtask bench`: the methods side by side on the built-in problems,
//! written as `report.md` (tables), `results.json` (every run's record) and
//! plots (loss against iterations, gradient evaluations and time; iterate
//! paths on 2-D problems).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use opt_core::runner::HistoryRecord;

use crate::error::{BenchError, Result};
use crate::finite_sum_suite::{FiniteSumResult, render_finite_sum, run_finite_sum_suite};
use crate::first_order_suite::{ProblemResult, render_first_order, run_first_order_suite};
use crate::least_squares_suite::{
    LeastSquaresResult, render_least_squares, run_least_squares_suite,
};
use crate::networks_suite::{NetworksResult, render_networks, run_networks_suite};
use crate::plot::{LogChart, Series, TrajectoryChart, write_chart};
use crate::run::{RunOptions, RunRecord, run_specs};
use crate::throughput::{ThroughputRow, measure_all, render_throughput};
use crate::unconstrained_suite::{
    UnconstrainedResult, render_unconstrained, run_unconstrained_suite,
};

/// A problem and the methods compared on it.
#[derive(Debug, Clone)]
pub struct Suite {
    /// A short name for files (`rosenbrock-2d`).
    pub slug: &'static str,
    pub problem: &'static str,
    /// The optimal value when known (reports then show `f - f*`).
    pub f_star: Option<f64>,
    pub optimizers: &'static [&'static str],
    pub max_iters: usize,
    pub quick_max_iters: usize,
    pub gtol: Option<f64>,
}

/// `f*` of `logistic:data=breast-cancer,l2=0.001`: Newton-polished reference
/// (`data/breast-cancer/README.md`).
pub const BREAST_CANCER_L2_1E3_F_STAR: f64 = 0.05983977454242227;

/// `f*` of `logistic:data=breast-cancer,l2=0.0001`, from SciPy's L-BFGS-B
/// polished by Newton steps to `||grad||_inf = 7e-18`
/// (`benches/peers/reference_optima.py`).
pub const BREAST_CANCER_L2_1E4_F_STAR: f64 = 0.04344631442865036;

/// `f*` of `logistic:data=synthetic,l2=0.0001`, from SciPy's L-BFGS-B
/// polished by Newton steps to `||grad||_inf = 6e-18` on the CSV of
/// `cargo xtask data synthetic` (`benches/peers/reference_optima.py`).
pub const SYNTHETIC_L2_1E4_F_STAR: f64 = 0.4627711468605868;

/// `f*` of `softmax:data=digits,l2=0.001`, from SciPy's L-BFGS-B to
/// `||grad||_inf = 4e-10` (`benches/peers/reference_optima.py`).
pub const DIGITS_SOFTMAX_L2_1E3_F_STAR: f64 = 0.26455443911904697;

/// The suites `cargo xtask bench` runs.
pub fn suites() -> Vec<Suite> {
    vec![
        Suite {
            slug: "rosenbrock-2d",
            problem: "rosenbrock",
            f_star: Some(0.0),
            optimizers: &["gd:lr=0.001", "gd", "gd:line_search=wolfe"],
            max_iters: 20_000,
            quick_max_iters: 500,
            gtol: Some(1e-6),
        },
        Suite {
            slug: "rosenbrock-10d",
            problem: "rosenbrock:dim=10",
            f_star: Some(0.0),
            optimizers: &["gd:lr=0.001", "gd", "gd:line_search=wolfe"],
            max_iters: 20_000,
            quick_max_iters: 500,
            gtol: Some(1e-6),
        },
        Suite {
            slug: "logistic-breast-cancer",
            problem: "logistic:data=breast-cancer,l2=0.001",
            f_star: Some(BREAST_CANCER_L2_1E3_F_STAR),
            optimizers: &["gd:lr=0.1", "gd", "gd:line_search=wolfe"],
            max_iters: 20_000,
            quick_max_iters: 300,
            gtol: Some(1e-6),
        },
        Suite {
            slug: "softmax-digits",
            problem: "softmax:data=digits,l2=0.001",
            f_star: Some(DIGITS_SOFTMAX_L2_1E3_F_STAR),
            optimizers: &["gd:lr=0.5", "gd", "gd:line_search=wolfe"],
            max_iters: 2_000,
            quick_max_iters: 60,
            gtol: Some(1e-6),
        },
    ]
}

/// What `run_bench` does.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub quick: bool,
    pub out_dir: PathBuf,
}

/// What `run_bench` did.
#[derive(Debug, Clone)]
pub struct BenchSummary {
    pub runs: usize,
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Serialize)]
struct SuiteResult<'a> {
    slug: &'a str,
    problem: &'a str,
    f_star: Option<f64>,
    max_iters: usize,
    gtol: Option<f64>,
    runs: Vec<RunResult<'a>>,
}

#[derive(Debug, Serialize)]
struct RunResult<'a> {
    #[serde(flatten)]
    record: &'a RunRecord,
    f_gap: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Results<'a> {
    quick: bool,
    suites: Vec<SuiteResult<'a>>,
    first_order: Vec<ProblemResult>,
    finite_sum: Vec<FiniteSumResult>,
    unconstrained: UnconstrainedResult,
    least_squares: LeastSquaresResult,
    networks: NetworksResult,
    throughput: Vec<ThroughputRow>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BenchError + '_ {
    move |source| BenchError::Io {
        file: path.display().to_string(),
        source,
    }
}

/// Run every suite and write the report, the JSON and the plots.
pub fn run_bench(options: &BenchOptions) -> Result<BenchSummary> {
    let out = &options.out_dir;
    fs::create_dir_all(out).map_err(io(out))?;
    let suites = suites();
    let mut all_records = Vec::with_capacity(suites.len());
    for suite in &suites {
        let max_iters = if options.quick {
            suite.quick_max_iters
        } else {
            suite.max_iters
        };
        let run_options = RunOptions {
            max_iters: Some(max_iters),
            gtol: suite.gtol,
            keep_history: true,
            ..RunOptions::default()
        };
        let records = suite
            .optimizers
            .iter()
            .map(|optimizer| run_specs(suite.problem, optimizer, &run_options))
            .collect::<Result<Vec<_>>>()?;
        all_records.push((max_iters, records));
    }

    let mut files = Vec::new();
    for (suite, (_, records)) in suites.iter().zip(&all_records) {
        files.extend(plot_suite(suite, records, out)?);
    }
    let (first_order, first_order_files) = run_first_order_suite(options.quick, out)?;
    files.extend(first_order_files);
    let (finite_sum, finite_sum_files) = run_finite_sum_suite(options.quick, out)?;
    files.extend(finite_sum_files);
    let (unconstrained, unconstrained_files) = run_unconstrained_suite(options.quick, out)?;
    files.extend(unconstrained_files);
    let least_squares = run_least_squares_suite(options.quick)?;
    let (networks, networks_files) = run_networks_suite(options.quick, out)?;
    files.extend(networks_files);
    let sizes: &[usize] = if options.quick {
        &[100_000, 1_000_000]
    } else {
        &[1_000_000, 10_000_000]
    };
    let throughput = measure_all(sizes, if options.quick { 5 } else { 15 })?;

    let results = Results {
        quick: options.quick,
        suites: suites
            .iter()
            .zip(&all_records)
            .map(|(suite, (max_iters, records))| SuiteResult {
                slug: suite.slug,
                problem: suite.problem,
                f_star: suite.f_star,
                max_iters: *max_iters,
                gtol: suite.gtol,
                runs: records
                    .iter()
                    .map(|record| RunResult {
                        record,
                        f_gap: suite.f_star.map(|f_star| record.f - f_star),
                    })
                    .collect(),
            })
            .collect(),
        first_order,
        finite_sum,
        unconstrained,
        least_squares,
        networks,
        throughput,
    };
    let json_path = out.join("results.json");
    let json = serde_json::to_string_pretty(&results)
        .map_err(|e| io(&json_path)(std::io::Error::other(e.to_string())))?;
    fs::write(&json_path, json).map_err(io(&json_path))?;

    let report_path = out.join("report.md");
    fs::write(&report_path, render_report(&results, &files, out)).map_err(io(&report_path))?;

    let runs = all_records.iter().map(|(_, r)| r.len()).sum::<usize>()
        + results
            .first_order
            .iter()
            .flat_map(|p| &p.best)
            .map(|b| b.grid.len())
            .sum::<usize>()
        + results
            .finite_sum
            .iter()
            .map(|p| p.runs.len())
            .sum::<usize>()
        + results.unconstrained.runs.len()
        + results.least_squares.runs.len()
        + results.networks.runs.len();
    let mut written = vec![report_path, json_path];
    written.extend(files);
    Ok(BenchSummary {
        runs,
        files: written,
    })
}

/// The y value plotted for a record point: `f - f*` when `f*` is known.
fn loss(suite: &Suite, f: f64) -> f64 {
    match suite.f_star {
        Some(f_star) => (f - f_star).max(1e-16),
        None => f,
    }
}

/// Reads a plot's x coordinate off a history record.
type XAxis = fn(&HistoryRecord) -> f64;

fn plot_suite(suite: &Suite, records: &[RunRecord], out: &Path) -> Result<Vec<PathBuf>> {
    let y_label = if suite.f_star.is_some() {
        "f - f*"
    } else {
        "f"
    };
    let axes: [(&str, &str, XAxis); 3] = [
        ("iterations", "iteration", |r| r.iter as f64),
        ("grad-evals", "gradient evaluations", |r| {
            r.evals.grad as f64
        }),
        ("time", "time (s)", |r| r.time_s),
    ];
    let mut files = Vec::new();
    for (suffix, x_label, x_of) in axes {
        let series: Vec<Series> = records
            .iter()
            .map(|record| Series {
                label: record.optimizer.clone(),
                points: record
                    .history
                    .iter()
                    .flat_map(|h| h.records.iter())
                    .map(|r| (x_of(r), loss(suite, r.f)))
                    .collect(),
            })
            .collect();
        let title = format!("{} ({y_label} against {x_label})", suite.problem);
        let chart = LogChart {
            title: &title,
            x_label,
            y_label,
            series: &series,
        };
        files.extend(write_chart(
            &chart,
            &out.join(format!("{}-{suffix}", suite.slug)),
        )?);
    }
    if suite.problem == "rosenbrock" {
        let paths: Vec<Series> = records
            .iter()
            .map(|record| Series {
                label: record.optimizer.clone(),
                points: record
                    .history
                    .iter()
                    .flat_map(|h| h.iterates.iter())
                    .filter(|x| x.len() == 2)
                    .map(|x| (x[0], x[1]))
                    .collect(),
            })
            .collect();
        let chart = TrajectoryChart::rosenbrock("rosenbrock: iterate paths from (-1.2, 1)", &paths);
        files.extend(write_chart(
            &chart,
            &out.join(format!("{}-paths", suite.slug)),
        )?);
    }
    Ok(files)
}

fn render_report(results: &Results<'_>, files: &[PathBuf], out: &Path) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# opt benchmark report\n");
    let _ = writeln!(
        text,
        "{} run. Every method starts from the problem's standard point and stops at \
         `||grad f||_inf <= gtol` or its iteration budget. Evaluation counts come from one \
         counting wrapper; times are wall-clock on this machine, one run each.\n",
        if results.quick {
            "Quick (CI-sized)"
        } else {
            "Full"
        }
    );
    for suite in &results.suites {
        let _ = writeln!(text, "## `{}`\n", suite.problem);
        let _ = writeln!(
            text,
            "Budget {} iterations, gtol {}{}.\n",
            suite.max_iters,
            suite.gtol.map_or("none".into(), |g| format!("{g:e}")),
            suite
                .f_star
                .map_or(String::new(), |f| format!(", f* = {f}"))
        );
        let _ = writeln!(
            text,
            "| optimizer | iterations | f | f - f* | grad inf-norm | f evals | grad evals | time (ms) | stop |"
        );
        let _ = writeln!(text, "|---|---:|---:|---:|---:|---:|---:|---:|---|");
        for run in &suite.runs {
            let r = run.record;
            let _ = writeln!(
                text,
                "| `{}` | {} | {:.10e} | {} | {:.3e} | {} | {} | {:.1} | {} |",
                r.optimizer,
                r.iterations,
                r.f,
                run.f_gap.map_or("-".into(), |g| format!("{g:.3e}")),
                r.grad_inf,
                r.evals.f,
                r.evals.grad,
                r.time_s * 1e3,
                r.stop_reason
            );
        }
        let _ = writeln!(text);
        for file in files.iter().filter(|f| {
            f.extension().is_some_and(|e| e == "svg")
                && f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{}-", suite.slug)))
        }) {
            let name = file.strip_prefix(out).unwrap_or(file).display().to_string();
            let _ = writeln!(text, "![{name}]({name})");
        }
        let _ = writeln!(text);
    }
    text.push_str(&render_first_order(&results.first_order));
    text.push_str(&render_finite_sum(&results.finite_sum));
    text.push_str(&render_unconstrained(&results.unconstrained));
    text.push_str(&render_least_squares(&results.least_squares));
    text.push_str(&render_networks(&results.networks));
    text.push_str(&render_throughput(&results.throughput));
    text
}
