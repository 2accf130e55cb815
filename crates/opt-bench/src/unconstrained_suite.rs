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
//!
//! A separate figure, `rosenbrock-paths.{svg,png,gif}`, draws the paths
//! of [`FIGURE_METHODS`] (first-order methods with fixed steps beside
//! CG, SCG, BFGS and Newton) from `(-1.2, 1)` on the 2-D Rosenbrock
//! function, the GIF growing them together iteration by iteration.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use opt_core::Objective;
use serde::Serialize;

use crate::error::Result;
use crate::landscape_plot::{HeatMapChart, PathStyle, Shading, grid, write_gif};
use crate::plot::{Chart, ProfileChart, Series, TrajectoryChart, performance_profile, write_chart};
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
    /// The runs of the Rosenbrock paths figure ([`FIGURE_METHODS`]).
    pub figure_runs: Vec<FigureRun>,
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
    let (figure_runs, figure_files) = rosenbrock_paths_figure(out)?;
    let result = UnconstrainedResult {
        max_iters,
        problems,
        methods: METHODS.iter().map(|m| m.spec).collect(),
        runs,
        skipped,
        figure_runs,
    };
    let mut files = plot_profile(&result, out)?;
    files.extend(plot_paths(&result, out)?);
    files.extend(figure_files);
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

/// The methods of `rosenbrock-paths.{svg,png,gif}`: spec and label.
/// The fixed steps are chosen so that both reach the minimum's
/// neighbourhood within a few thousand iterations from `(-1.2, 1)`:
/// heavy ball `lr = 0.002, momentum = 0.9` stops at `||grad||_inf <= 1e-6`
/// after about 1500 iterations (`lr = 0.001`: about 3000), Adam `lr =
/// 0.02` after about 3900 (`lr = 0.01` is at `f ~ 5e-10` after 5000). GD
/// uses its default Armijo backtracking.
pub const FIGURE_METHODS: &[(&str, &str)] = &[
    ("gd", "GD (Armijo)"),
    ("sgd:lr=0.002,momentum=0.9", "momentum"),
    ("adam:lr=0.02", "Adam"),
    ("cg", "CG"),
    ("scg", "SCG"),
    ("bfgs", "BFGS"),
    ("newton", "Newton"),
];

/// Iteration budget of each run of the paths figure.
pub const FIGURE_MAX_ITERS: usize = 10_000;

/// Frames of the paths animation (its last frame held a little longer).
const FIGURE_FRAMES: usize = 50;

/// One run of the paths figure.
#[derive(Debug, Clone, Serialize)]
pub struct FigureRun {
    pub label: &'static str,
    pub spec: &'static str,
    pub iterations: usize,
    pub f: f64,
    pub stop_reason: String,
    /// The iterates, the start first.
    #[serde(skip)]
    pub path: Vec<(f64, f64)>,
}

/// Run [`FIGURE_METHODS`] on `rosenbrock:dim=2` from `(-1.2, 1)` (each to
/// `||grad f||_inf <= 1e-6` or [`FIGURE_MAX_ITERS`] iterations) and draw
/// `rosenbrock-paths.svg`, `.png` and the animated `.gif` in `out`: the
/// paths over banded contours of `log10(1 + f)`; the GIF's frames show
/// the first `k` iterations of every method, with `k` spaced
/// logarithmically from 0 to the longest run so that the slow methods
/// still move.
pub fn rosenbrock_paths_figure(out: &Path) -> Result<(Vec<FigureRun>, Vec<PathBuf>)> {
    let runs = run_figure_methods()?;
    let files = draw_paths_figure(&runs, out)?;
    Ok((runs, files))
}

/// The runs of [`rosenbrock_paths_figure`], with their iterates.
pub fn run_figure_methods() -> Result<Vec<FigureRun>> {
    let mut runs = Vec::with_capacity(FIGURE_METHODS.len());
    for &(spec, label) in FIGURE_METHODS {
        let options = RunOptions {
            max_iters: Some(FIGURE_MAX_ITERS),
            gtol: Some(SOLVED_GTOL),
            time_limit_s: Some(10.0),
            keep_history: true,
            ..RunOptions::default()
        };
        let record = run_specs("rosenbrock:dim=2", spec, &options)?;
        let path = record
            .history
            .as_ref()
            .map(|h| h.iterates.iter().map(|x| (x[0], x[1])).collect())
            .unwrap_or_default();
        runs.push(FigureRun {
            label,
            spec,
            iterations: record.iterations,
            f: record.f,
            stop_reason: record.stop_reason.to_string(),
            path,
        });
    }
    Ok(runs)
}

/// Draw `rosenbrock-paths.{svg,png,gif}` of `runs` in `out` (module doc of
/// [`rosenbrock_paths_figure`]); returns the three paths.
pub fn draw_paths_figure(runs: &[FigureRun], out: &Path) -> Result<Vec<PathBuf>> {
    // the plotted window: every iterate, within reason
    let (mut x0, mut x1, mut y0, mut y1) = (-1.5_f64, 1.5_f64, -0.5_f64, 1.5_f64);
    for &(x, y) in runs.iter().flat_map(|r| &r.path) {
        if x.is_finite() && y.is_finite() {
            (x0, x1) = (x0.min(x.max(-5.0)), x1.max(x.min(5.0)));
            (y0, y1) = (y0.min(y.max(-5.0)), y1.max(y.min(5.0)));
        }
    }
    let (pad_x, pad_y) = (0.04 * (x1 - x0), 0.04 * (y1 - y0));
    let xs = grid(x0 - pad_x, x1 + pad_x, 161);
    let ys = grid(y0 - pad_y, y1 + pad_y, 107);
    let values: Vec<Vec<f64>> = ys
        .iter()
        .map(|&y| {
            xs.iter()
                .map(|&x| (1.0 + 100.0 * (y - x * x).powi(2) + (1.0 - x).powi(2)).log10())
                .collect()
        })
        .collect();
    let labelled = |count: &dyn Fn(&FigureRun) -> usize| -> Vec<Series> {
        runs.iter()
            .map(|run| Series {
                label: format!("{} ({} it.)", run.label, run.iterations),
                points: run.path[..count(run).min(run.path.len())].to_vec(),
            })
            .collect()
    };
    let marks = [((1.0, 1.0), " minimum (1, 1)")];
    let full = labelled(&|run| run.path.len());
    let chart = HeatMapChart {
        title: "rosenbrock from (-1.2, 1): GD, momentum, Adam, CG, SCG, BFGS, Newton",
        x_label: "x1",
        y_label: "x2",
        value_label: "log10(1 + f)",
        xs: &xs,
        ys: &ys,
        values: &values,
        levels: 14,
        banded: true,
        shading: Shading::Light,
        paths: &full,
        path_style: PathStyle::default(),
        marks: &marks,
    };
    let mut files = write_chart(&chart, &out.join("rosenbrock-paths"))?;
    let longest = runs.iter().map(|r| r.path.len()).max().unwrap_or(1);
    let frame_iterations: Vec<usize> = (0..FIGURE_FRAMES)
        .map(|f| {
            let u = f as f64 / (FIGURE_FRAMES - 1) as f64;
            ((longest as f64).powf(u).round() as usize).saturating_sub(1)
        })
        .collect();
    // the last frame is shown this many times more
    const HOLD: usize = 5;
    let gif = write_gif(
        &out.join("rosenbrock-paths.gif"),
        (640, 400),
        120,
        FIGURE_FRAMES + HOLD,
        |frame, area| {
            let k = frame_iterations[frame.min(FIGURE_FRAMES - 1)];
            let paths = labelled(&|_| k + 1);
            let title = format!("rosenbrock from (-1.2, 1): iteration {k}");
            HeatMapChart {
                title: &title,
                paths: &paths,
                path_style: PathStyle {
                    mark_last: true,
                    ..PathStyle::default()
                },
                ..chart.clone()
            }
            .draw(area)
        },
    )?;
    files.push(gif);
    Ok(files)
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
    if !result.figure_runs.is_empty() {
        let _ = writeln!(
            text,
            "Paths from (-1.2, 1) on the 2-D Rosenbrock function, each run to \
             `||grad f||_inf <= {SOLVED_GTOL:e}` or {FIGURE_MAX_ITERS} iterations \
             (animated: [rosenbrock-paths.gif](rosenbrock-paths.gif), iterations \
             spaced logarithmically):\n"
        );
        let _ = writeln!(text, "| method | spec | iterations | f | stop |");
        let _ = writeln!(text, "|---|---|---:|---:|---|");
        for run in &result.figure_runs {
            let _ = writeln!(
                text,
                "| {} | `{}` | {} | {:.3e} | {} |",
                run.label, run.spec, run.iterations, run.f, run.stop_reason
            );
        }
        let _ = writeln!(text, "\n![rosenbrock-paths.svg](rosenbrock-paths.svg)\n");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_of_the_paths_figure_reaches_the_minimum_from_the_standard_start() {
        let runs = run_figure_methods().expect("runs");
        assert_eq!(runs.len(), FIGURE_METHODS.len());
        for run in &runs {
            assert_eq!(run.path.first(), Some(&(-1.2, 1.0)), "{}", run.spec);
            assert_eq!(run.path.len(), run.iterations + 1, "{}", run.spec);
            let &(x, y) = run.path.last().expect("a last point");
            assert!(
                run.f < 1e-6 && (x - 1.0).abs() < 1e-3 && (y - 1.0).abs() < 2e-3,
                "{}: f = {}, ({x}, {y}) after {} iterations",
                run.spec,
                run.f,
                run.iterations
            );
        }
        // the fixed-step methods are the slow ones, but within the budget
        let momentum = &runs[1];
        let adam = &runs[2];
        assert!(momentum.iterations < FIGURE_MAX_ITERS / 2 && momentum.iterations > 100);
        assert!(adam.iterations < FIGURE_MAX_ITERS / 2 && adam.iterations > 100);
    }
}
