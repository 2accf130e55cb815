//! Levenberg-Marquardt (and Gauss-Newton) on the 54 NIST StRD
//! (problem, start) pairs: per pair the smallest log relative error over the
//! parameters, the LRE of the residual sum of squares, Jacobian and residual
//! evaluations, and whether it is solved (every parameter LRE >= 6); then the
//! solved count and the median number of Jacobians.
//!
//! ```text
//! cargo run --release -p opt-bench --example nist_lm -- [lm|lm-geodesic|gauss-newton] \
//!     [tol=T | ftol=F xtol=X gtol=G] [--json]
//! ```
//!
//! The peer is `benches/peers/scipy_nist.py` (MINPACK through SciPy).

use ndarray::Array1;
use opt_bench::problems::nist::{NIST_NAMES, Nist};
use opt_core::{Counted, Runner, Solver};
use opt_second_order::gauss_newton::{GaussNewton, GaussNewtonConfig};
use opt_second_order::levenberg_marquardt::{
    LevenbergMarquardt, LevenbergMarquardtConfig, Termination,
};

struct Row {
    problem: String,
    start: usize,
    min_lre: f64,
    rss_lre: f64,
    jac: u64,
    f: u64,
    iterations: usize,
    stop: String,
}

/// Run `solver` on `p` (at most 1000 iterations); `termination` names the
/// method's own reason for stopping, when it has one.
fn run<S: Solver<Nist>>(
    p: &Nist,
    solver: &mut S,
    termination: impl Fn(&S) -> Option<Termination>,
) -> Row {
    let counted = Counted::new(p.clone());
    let result = Runner::new()
        .max_iters(1000)
        .run(&counted, solver, p.start());
    let (x, f, iterations, stop) = match result {
        Ok(report) => (
            report.x,
            report.f,
            report.iterations,
            report.stop_reason.to_string(),
        ),
        Err(error) => (
            Array1::from_elem(p.start().len(), f64::NAN),
            f64::NAN,
            0,
            format!("error: {error}"),
        ),
    };
    let stop = match termination(solver) {
        Some(reason) => format!("{stop} ({reason})"),
        None => stop,
    };
    let evals = counted.evals();
    Row {
        problem: p.dataset().to_owned(),
        start: p.start_index(),
        min_lre: p.min_parameter_lre(&x),
        rss_lre: p.rss_lre(f),
        jac: evals.jac,
        f: evals.f,
        iterations,
        stop,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let method = args
        .iter()
        .find(|a| !a.starts_with("--") && !a.contains('='))
        .map_or("lm", String::as_str)
        .to_owned();
    // `ftol=`, `xtol=`, `gtol=` (or `tol=` for all three) override
    // Levenberg-Marquardt's tolerances.
    let mut lm_config = LevenbergMarquardtConfig::default();
    for arg in args.iter().filter(|a| a.contains('=')) {
        let (key, value) = arg.split_once('=').unwrap_or_default();
        let Ok(value) = value.parse::<f64>() else {
            eprintln!("`{arg}`: not a number");
            std::process::exit(2);
        };
        match key {
            "tol" => {
                lm_config.ftol = value;
                lm_config.xtol = value;
                lm_config.gtol = value;
            }
            "ftol" => lm_config.ftol = value,
            "xtol" => lm_config.xtol = value,
            "gtol" => lm_config.gtol = value,
            _ => {
                eprintln!("unknown option `{key}`: tol, ftol, xtol, gtol");
                std::process::exit(2);
            }
        }
    }
    let mut rows = Vec::new();
    for name in NIST_NAMES {
        for start in [1, 2] {
            let p = Nist::new(name, start).expect("embedded problem");
            let row = match method.as_str() {
                "lm" => run(
                    &p,
                    &mut LevenbergMarquardt::new(lm_config).unwrap(),
                    LevenbergMarquardt::termination,
                ),
                "lm-geodesic" => run(
                    &p,
                    &mut LevenbergMarquardt::new(LevenbergMarquardtConfig {
                        geodesic: true,
                        ..lm_config
                    })
                    .unwrap(),
                    LevenbergMarquardt::termination,
                ),
                "gauss-newton" => run(
                    &p,
                    &mut GaussNewton::new(GaussNewtonConfig::default()).unwrap(),
                    GaussNewton::termination,
                ),
                other => {
                    eprintln!("unknown method `{other}`: lm, lm-geodesic or gauss-newton");
                    std::process::exit(2);
                }
            };
            rows.push(row);
        }
    }
    let solved: Vec<&Row> = rows.iter().filter(|r| r.min_lre >= 6.0).collect();
    let mut jacobians: Vec<u64> = rows.iter().map(|r| r.jac).collect();
    jacobians.sort_unstable();
    let median = if jacobians.len() % 2 == 1 {
        jacobians[jacobians.len() / 2] as f64
    } else {
        let k = jacobians.len() / 2;
        0.5 * (jacobians[k - 1] + jacobians[k]) as f64
    };
    if json {
        let records: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "problem": r.problem, "start": r.start, "min_lre": r.min_lre,
                    "rss_lre": r.rss_lre, "njev": r.jac, "nfev": r.f,
                    "iterations": r.iterations, "stop": r.stop, "solved": r.min_lre >= 6.0,
                })
            })
            .collect();
        let summary = serde_json::json!({
            "method": method, "runs": records, "solved": solved.len(), "total": rows.len(),
            "median_njev": median,
        });
        println!("{summary}");
        return;
    }
    println!(
        "{:<10} {:>5} {:>8} {:>8} {:>6} {:>6} {:>6}  {:<6} stop",
        "problem", "start", "min LRE", "RSS LRE", "njev", "nfev", "iters", "solved"
    );
    for r in &rows {
        println!(
            "{:<10} {:>5} {:>8.2} {:>8.2} {:>6} {:>6} {:>6}  {:<6} {}",
            r.problem,
            r.start,
            r.min_lre,
            r.rss_lre,
            r.jac,
            r.f,
            r.iterations,
            if r.min_lre >= 6.0 { "yes" } else { "no" },
            r.stop
        );
    }
    println!(
        "{method}: solved {} of {} (parameter LRE >= 6); median Jacobian evaluations {median}",
        solved.len(),
        rows.len()
    );
}
