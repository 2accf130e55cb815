//! The `unconstrained` suite of `cargo xtask bench`: every full-batch
//! method of the workspace on the More-Garbow-Hillstrom problems (default
//! sizes) and on the chained Rosenbrock function at dims 2, 100, 1000 and
//! 10000.
//!
//! A run is **solved** when it ends with `||grad f||_inf <= 1e-6`, or with
//! `|f - f*| <= 1e-8 max(1, |f*|)` where the problem's minimum `f*` is
//! known. Its **cost** is its number of evaluations: objective values
//! (with or without a gradient; one `value_and_grad` counts one),
//! Hessian-vector products and Jacobians, each counted as one. The
//! Dolan-More performance profile (Dolan & More 2002, "Benchmarking
//! optimization software with performance profiles", *Math. Program.*
//! 91) plots, for each method, the fraction of problems it solved within a
//! factor `tau` of the cheapest method on that problem.
//!
//! Every run stops at `||grad f||_inf <= 1e-6`, 100000 iterations or 20
//! seconds. Newton (an `n x n` factorization from `n` Hessian-vector
//! products per iteration) is run up to `n = 100`, BFGS (an `n x n`
//! update) up to `n = 1000`; Gauss-Newton and Levenberg-Marquardt (with
//! tolerances 1e-15, so that the gradient test decides) only on sums of
//! squares (the MGH set). Pairs not run are listed with the reason.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use opt_core::Objective;
use serde::Serialize;

use crate::error::Result;
use crate::plot::{ProfileChart, Series, TrajectoryChart, performance_profile, write_chart};
use crate::problems::{MGH_NAMES, build_problem};
use crate::run::{RunOptions, RunRecord, run_specs};
use crate::spec::Spec;

/// `||grad f||_inf` that counts as solved.
pub const SOLVED_GTOL: f64 = 1e-6;
/// `|f - f*| / max(1, |f*|)` that counts as solved.
pub const SOLVED_FTOL: f64 = 1e-8;

/// A method of the suite.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Method {
    /// The optimizer spec.
    pub spec: &'static str,
    /// The largest dimension it is run at: Newton factors an `n x n`
    /// matrix from `n` Hessian-vector products every iteration (`O(n^3)`),
    /// BFGS updates one (`O(n^2)`).
    pub max_dim: Option<usize>,
    /// Needs a sum-of-squares problem.
    pub least_squares: bool,
}

const fn method(spec: &'static str) -> Method {
    Method {
        spec,
        max_dim: None,
        least_squares: false,
    }
}

/// The methods compared, in report order.
pub const METHODS: &[Method] = &[
    method("gd"),
    Method {
        max_dim: Some(100),
        ..method("newton")
    },
    Method {
        max_dim: Some(100),
        ..method("newton:mode=damped")
    },
    method("newton-cg"),
    method("cg"),
    method("cg:variant=fr"),
    method("cg:variant=pr"),
    method("cg:variant=hs"),
    method("cg:variant=dy"),
    method("scg"),
    Method {
        max_dim: Some(1000),
        ..method("bfgs")
    },
    method("lbfgs"),
    method("sfn"),
    method("ogr"),
    method("tonga"),
    Method {
        least_squares: true,
        ..method("gauss-newton")
    },
    Method {
        least_squares: true,
        ..method("lm:ftol=1e-15,xtol=1e-15,gtol=1e-15")
    },
];

/// The methods drawn on the 2-D Rosenbrock figure.
pub const PATH_METHODS: &[&str] = &["gd", "cg", "scg", "bfgs", "lbfgs", "newton", "sfn"];

/// The chained Rosenbrock dimensions of the suite.
pub const ROSENBROCK_DIMS: &[usize] = &[2, 100, 1000, 10_000];

/// The problems of the quick (CI) run.
const QUICK_MGH: &[&str] = &[
    "rosenbrock",
    "beale",
    "helical-valley",
    "wood",
    "powell-singular",
];

/// One problem of the suite.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemInfo {
    pub spec: String,
    pub dim: usize,
    pub f_star: Option<f64>,
    pub least_squares: bool,
}

/// One (method, problem) run.
#[derive(Debug, Clone, Serialize)]
pub struct UnconstrainedRun {
    pub solved: bool,
    /// Evaluations: f (with or without gradient) + Hessian-vector products + Jacobians.
    pub cost: u64,
    #[serde(flatten)]
    pub record: RunRecord,
}

/// A (method, problem) pair not run or that stopped with an error, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub problem: String,
    pub optimizer: String,
    pub reason: String,
}

/// The suite's results.
#[derive(Debug, Clone, Serialize)]
pub struct UnconstrainedResult {
    pub max_iters: usize,
    pub problems: Vec<ProblemInfo>,
    pub methods: Vec<&'static str>,
    pub runs: Vec<UnconstrainedRun>,
    pub skipped: Vec<Skipped>,
}

fn problem_list(quick: bool) -> Result<Vec<ProblemInfo>> {
    let mgh: &[&str] = if quick { QUICK_MGH } else { MGH_NAMES };
    let dims: &[usize] = if quick {
        &ROSENBROCK_DIMS[..2]
    } else {
        ROSENBROCK_DIMS
    };
    let mut specs: Vec<String> = mgh.iter().map(|name| format!("mgh:{name}")).collect();
    specs.extend(dims.iter().map(|dim| format!("rosenbrock:dim={dim}")));
    specs
        .into_iter()
        .map(|spec| {
            let problem = build_problem(&Spec::parse("problem", &spec)?)?;
            Ok(ProblemInfo {
                dim: problem.dim(),
                f_star: problem.known_minimum(),
                least_squares: problem.as_least_squares().is_some(),
                spec,
            })
        })
        .collect()
}

/// Whether a record meets the suite's definition of solved.
pub fn is_solved(record: &RunRecord, f_star: Option<f64>) -> bool {
    let gradient = record.grad_inf <= SOLVED_GTOL;
    let value = f_star
        .is_some_and(|f_star| (record.f - f_star).abs() <= SOLVED_FTOL * f_star.abs().max(1.0));
    gradient || value
}

/// Run the suite.
pub fn run_unconstrained_suite(
    quick: bool,
    out: &Path,
) -> Result<(UnconstrainedResult, Vec<PathBuf>)> {
    let max_iters = if quick { 2_000 } else { 100_000 };
    let problems = problem_list(quick)?;
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for problem in &problems {
        for method in METHODS {
            let skip = |reason: &str| Skipped {
                problem: problem.spec.clone(),
                optimizer: method.spec.to_owned(),
                reason: reason.to_owned(),
            };
            if let Some(max_dim) = method.max_dim.filter(|&max| problem.dim > max) {
                skipped.push(skip(&format!(
                    "dense n x n method, run up to n = {max_dim}"
                )));
                continue;
            }
            if method.least_squares && !problem.least_squares {
                skipped.push(skip("not a sum of squares"));
                continue;
            }
            let options = RunOptions {
                max_iters: Some(max_iters),
                gtol: Some(SOLVED_GTOL),
                time_limit_s: Some(if quick { 5.0 } else { 20.0 }),
                keep_history: problem.dim == 2,
                ..RunOptions::default()
            };
            let record = match run_specs(&problem.spec, method.spec, &options) {
                Ok(record) => record,
                Err(error) => {
                    skipped.push(skip(&format!("failed: {error}")));
                    continue;
                }
            };
            runs.push(UnconstrainedRun {
                solved: is_solved(&record, problem.f_star),
                cost: record.evals.f + record.evals.hvp + record.evals.jac,
                record,
            });
        }
    }
    let result = UnconstrainedResult {
        max_iters,
        problems,
        methods: METHODS.iter().map(|m| m.spec).collect(),
        runs,
        skipped,
    };
    let mut files = plot_profile(&result, out)?;
    files.extend(plot_paths(&result, out)?);
    Ok((result, files))
}

fn plot_profile(result: &UnconstrainedResult, out: &Path) -> Result<Vec<PathBuf>> {
    let costs: Vec<Vec<Option<f64>>> = result
        .methods
        .iter()
        .map(|method| {
            result
                .problems
                .iter()
                .map(|problem| {
                    result
                        .runs
                        .iter()
                        .find(|r| r.record.optimizer == *method && r.record.problem == problem.spec)
                        .filter(|r| r.solved)
                        .map(|r| r.cost as f64)
                })
                .collect()
        })
        .collect();
    let curves = performance_profile(&costs, 10.0);
    let series: Vec<Series> = result
        .methods
        .iter()
        .zip(curves)
        .map(|(method, points)| Series {
            label: (*method).to_owned(),
            points,
        })
        .collect();
    let chart = ProfileChart {
        title: "performance profile over evaluations (MGH + rosenbrock)",
        x_label: "log2(tau): evaluations within tau x the best method's",
        series: &series,
    };
    write_chart(&chart, &out.join("unconstrained-profile"))
}

fn plot_paths(result: &UnconstrainedResult, out: &Path) -> Result<Vec<PathBuf>> {
    let paths: Vec<Series> = PATH_METHODS
        .iter()
        .filter_map(|method| {
            let run = result.runs.iter().find(|r| {
                r.record.optimizer == *method && r.record.problem == "rosenbrock:dim=2"
            })?;
            let iterates = &run.record.history.as_ref()?.iterates;
            Some(Series {
                label: format!("{method} ({} it.)", run.record.iterations),
                points: iterates.iter().map(|x| (x[0], x[1])).collect(),
            })
        })
        .collect();
    let chart = TrajectoryChart::rosenbrock(
        "rosenbrock: paths of second-order methods from (-1.2, 1)",
        &paths,
    );
    write_chart(&chart, &out.join("unconstrained-rosenbrock-paths"))
}

/// The suite's section of `report.md`.
pub fn render_unconstrained(result: &UnconstrainedResult) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# Suite `unconstrained` (MGH + chained Rosenbrock)\n");
    let _ = writeln!(
        text,
        "Budget {} iterations; solved: `||grad f||_inf <= {SOLVED_GTOL:e}` or \
         `|f - f*| <= {SOLVED_FTOL:e} max(1, |f*|)`. Cost = f (with or without gradient) + \
         Hessian-vector products + Jacobians.\n",
        result.max_iters
    );
    let _ = writeln!(
        text,
        "| method | solved | of | median cost (solved) | total seconds |"
    );
    let _ = writeln!(text, "|---|---:|---:|---:|---:|");
    for method in &result.methods {
        let runs: Vec<&UnconstrainedRun> = result
            .runs
            .iter()
            .filter(|r| r.record.optimizer == *method)
            .collect();
        let mut costs: Vec<u64> = runs.iter().filter(|r| r.solved).map(|r| r.cost).collect();
        costs.sort_unstable();
        let median = costs
            .get(costs.len() / 2)
            .map_or("-".to_owned(), u64::to_string);
        let seconds: f64 = runs.iter().map(|r| r.record.time_s).sum();
        let seconds = if runs.is_empty() {
            "-".to_owned()
        } else {
            format!("{seconds:.3}")
        };
        let _ = writeln!(
            text,
            "| `{method}` | {} | {} | {median} | {seconds} |",
            costs.len(),
            runs.len()
        );
    }
    let _ = writeln!(
        text,
        "\n![unconstrained-profile.svg](unconstrained-profile.svg)\n\n\
         ![unconstrained-rosenbrock-paths.svg](unconstrained-rosenbrock-paths.svg)\n"
    );
    let _ = writeln!(
        text,
        "| problem | n | method | solved | iterations | f | grad inf-norm | f evals | grad evals | Hv | J | ms | stop |"
    );
    let _ = writeln!(
        text,
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for problem in &result.problems {
        for run in result
            .runs
            .iter()
            .filter(|r| r.record.problem == problem.spec)
        {
            let r = &run.record;
            let _ = writeln!(
                text,
                "| `{}` | {} | `{}` | {} | {} | {:.6e} | {:.1e} | {} | {} | {} | {} | {:.2} | {} |",
                problem.spec,
                problem.dim,
                r.optimizer,
                if run.solved { "yes" } else { "no" },
                r.iterations,
                r.f,
                r.grad_inf,
                r.evals.f,
                r.evals.grad,
                r.evals.hvp,
                r.evals.jac,
                r.time_s * 1e3,
                r.stop_reason
            );
        }
    }
    if !result.skipped.is_empty() {
        let _ = writeln!(text, "\nNot run:\n");
        for skip in &result.skipped {
            let _ = writeln!(
                text,
                "- `{}` on `{}`: {}",
                skip.optimizer, skip.problem, skip.reason
            );
        }
    }
    let _ = writeln!(text);
    text
}
