//! The `least-squares` suite of `cargo xtask bench`: Levenberg-Marquardt and
//! Gauss-Newton on the 27 NIST StRD nonlinear regression problems from both
//! certified starts (54 pairs).
//!
//! For each run: the log relative error (LRE, `-log10(|b - c| / |c|)`,
//! capped at the certified digits) of every parameter against the certified
//! values (the table shows the smallest), the LRE of the residual sum of
//! squares, Jacobian evaluations and seconds. A pair is **solved** when
//! every parameter has LRE >= 6 (NIST's usual bar).
//!
//! LM runs twice: with MINPACK's default tolerances (`sqrt(eps)`), which
//! stop some fits early on the harder problems exactly as MINPACK does, and
//! with `ftol = xtol = gtol = 1e-15`, the setting that solves all 54.

use std::fmt::Write as _;

use serde::Serialize;

use crate::error::Result;
use crate::problems::{NIST_NAMES, Nist};
use crate::run::{RunOptions, run_specs};

/// The LRE that counts as solved.
pub const SOLVED_LRE: f64 = 6.0;

/// The methods of the suite.
pub const METHODS: &[&str] = &[
    "lm:ftol=1e-15,xtol=1e-15,gtol=1e-15",
    "lm",
    "lm:ftol=1e-15,xtol=1e-15,gtol=1e-15,geodesic=true",
    "gauss-newton",
];

/// The problems of the quick (CI) run.
const QUICK: &[&str] = &[
    "Misra1a", "Chwirut2", "DanWood", "Thurber", "BoxBOD", "Eckerle4",
];

/// One (method, problem, start) run.
#[derive(Debug, Clone, Serialize)]
pub struct NistRun {
    pub optimizer: String,
    pub problem: String,
    pub start: usize,
    pub difficulty: String,
    /// Smallest parameter LRE (0 when the run failed).
    pub min_lre: f64,
    /// The LRE of each parameter (empty when the run failed).
    pub parameter_lre: Vec<f64>,
    pub rss_lre: f64,
    pub solved: bool,
    pub jacobians: u64,
    pub residual_evaluations: u64,
    pub iterations: usize,
    pub time_s: f64,
    pub stop: String,
}

/// The suite's results.
#[derive(Debug, Clone, Serialize)]
pub struct LeastSquaresResult {
    pub max_iters: usize,
    pub runs: Vec<NistRun>,
}

/// Run the suite.
pub fn run_least_squares_suite(quick: bool) -> Result<LeastSquaresResult> {
    let max_iters = 2000;
    let names: Vec<&str> = if quick {
        QUICK.to_vec()
    } else {
        NIST_NAMES.to_vec()
    };
    let mut runs = Vec::new();
    for name in names {
        for start in [1, 2] {
            let problem = Nist::new(name, start)?;
            for method in METHODS {
                let options = RunOptions {
                    max_iters: Some(max_iters),
                    ..RunOptions::default()
                };
                let spec = format!("nist:{name},start={start}");
                let run = match run_specs(&spec, method, &options) {
                    Ok(record) => {
                        let x = ndarray::Array1::from(record.x.clone());
                        let min_lre = problem.min_parameter_lre(&x);
                        NistRun {
                            optimizer: (*method).to_owned(),
                            problem: name.to_owned(),
                            start,
                            difficulty: problem.difficulty().as_str().to_owned(),
                            min_lre,
                            parameter_lre: problem.parameter_lre(&x),
                            rss_lre: problem.rss_lre(record.f),
                            solved: min_lre >= SOLVED_LRE,
                            jacobians: record.evals.jac,
                            residual_evaluations: record.evals.f,
                            iterations: record.iterations,
                            time_s: record.time_s,
                            stop: record.stop_reason.to_string(),
                        }
                    }
                    Err(error) => NistRun {
                        optimizer: (*method).to_owned(),
                        problem: name.to_owned(),
                        start,
                        difficulty: problem.difficulty().as_str().to_owned(),
                        min_lre: 0.0,
                        parameter_lre: Vec::new(),
                        rss_lre: 0.0,
                        solved: false,
                        jacobians: 0,
                        residual_evaluations: 0,
                        iterations: 0,
                        time_s: 0.0,
                        stop: format!("error: {error}"),
                    },
                };
                runs.push(run);
            }
        }
    }
    Ok(LeastSquaresResult { max_iters, runs })
}

fn median(mut values: Vec<u64>) -> String {
    if values.is_empty() {
        return "-".to_owned();
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    let median = if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) as f64 / 2.0
    } else {
        values[mid] as f64
    };
    format!("{median}")
}

/// The suite's section of `report.md`.
pub fn render_least_squares(result: &LeastSquaresResult) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Suite `least-squares` (NIST StRD nonlinear regression)\n"
    );
    let _ = writeln!(
        text,
        "Every problem from both certified starts; solved = every parameter's LRE >= \
         {SOLVED_LRE} against the certified values. Budget {} iterations. The peer is \
         `python3 benches/peers/scipy_nist.py` (SciPy's MINPACK `lm`).\n",
        result.max_iters
    );
    let _ = writeln!(
        text,
        "| method | solved | of | median Jacobians (all runs) | total seconds |"
    );
    let _ = writeln!(text, "|---|---:|---:|---:|---:|");
    for method in METHODS {
        let runs: Vec<&NistRun> = result
            .runs
            .iter()
            .filter(|r| r.optimizer == *method)
            .collect();
        let solved = runs.iter().filter(|r| r.solved).count();
        let seconds: f64 = runs.iter().map(|r| r.time_s).sum();
        let _ = writeln!(
            text,
            "| `{method}` | {solved} | {} | {} | {seconds:.3} |",
            runs.len(),
            median(runs.iter().map(|r| r.jacobians).collect())
        );
    }
    let _ = writeln!(
        text,
        "\n| problem | start | difficulty | method | min parameter LRE | RSS LRE | Jacobians | residuals | ms | stop |"
    );
    let _ = writeln!(text, "|---|---:|---|---|---:|---:|---:|---:|---:|---|");
    for run in &result.runs {
        let _ = writeln!(
            text,
            "| {} | {} | {} | `{}` | {:.1} | {:.1} | {} | {} | {:.2} | {} |",
            run.problem,
            run.start,
            run.difficulty,
            run.optimizer,
            run.min_lre,
            run.rss_lre,
            run.jacobians,
            run.residual_evaluations,
            run.time_s * 1e3,
            run.stop
        );
    }
    let _ = writeln!(text);
    text
}
