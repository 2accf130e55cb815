//! Our L-BFGS on the chained Rosenbrock function: evaluations, iterations
//! and seconds to `||grad f||_inf <= 1e-6`, the figures that
//! `benches/peers/scipy_lbfgs.py` prints for SciPy's L-BFGS-B.
//!
//! ```text
//! cargo run --release -p opt-second-order --example lbfgs_rosenbrock -- \
//!     [--dims 2,100,1000,10000] [--repeats 5] [--m 10] [--c1 1e-4] [--c2 0.9] [--json]
//! ```
//!
//! Seconds are the best of `--repeats` runs of the runner (initial
//! evaluation included), on one thread.

use opt_core::{Counted, Runner};
use opt_second_order::bfgs::QuasiNewtonLineSearch;
use opt_second_order::lbfgs::Lbfgs;
use opt_second_order::testing::Rosenbrock;

const GTOL: f64 = 1e-6;

struct Options {
    dims: Vec<usize>,
    repeats: usize,
    m: usize,
    c1: f64,
    c2: f64,
    json: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        dims: vec![2, 100, 1000, 10000],
        repeats: 5,
        m: 10,
        c1: 1e-4,
        c2: 0.9,
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--json" {
            options.json = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--dims" => {
                options.dims = value
                    .split(',')
                    .map(|d| d.parse().map_err(|e| bad(&e)))
                    .collect::<Result<_, _>>()?;
            }
            "--repeats" => options.repeats = value.parse().map_err(|e| bad(&e))?,
            "--m" => options.m = value.parse().map_err(|e| bad(&e))?,
            "--c1" => options.c1 = value.parse().map_err(|e| bad(&e))?,
            "--c2" => options.c2 = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(options)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse_options()?;
    if !options.json {
        println!(
            "lbfgs:m={} (strong Wolfe c1={:e}, c2={}), gtol={GTOL:e}; seconds: best of {}",
            options.m, options.c1, options.c2, options.repeats
        );
        println!();
        println!("| problem | nfev | nit | f | grad_inf | seconds | stop |");
        println!("|---|---:|---:|---:|---:|---:|---|");
    }
    for &dim in &options.dims {
        let mut best = f64::INFINITY;
        let mut last = None;
        for _ in 0..options.repeats.max(1) {
            let problem = Counted::new(Rosenbrock { dim });
            let mut solver = Lbfgs::new(options.m)?
                .with_line_search(QuasiNewtonLineSearch::strong_wolfe(options.c1, options.c2)?)?;
            let mut runner = Runner::new().gtol(GTOL)?.max_iters(1_000_000);
            let report = runner.run(&problem, &mut solver, problem.inner().start())?;
            best = best.min(report.time_s);
            last = Some(report);
        }
        let report = last.expect("at least one repeat");
        let name = format!("rosenbrock:dim={dim}");
        if options.json {
            println!(
                "{}",
                serde_json::json!({
                    "problem": name,
                    "nfev": report.evals.f,
                    "ngev": report.evals.grad,
                    "nit": report.iterations,
                    "f": report.f,
                    "grad_inf": report.grad_inf,
                    "seconds": best,
                    "stop_reason": report.stop_reason.as_str(),
                })
            );
        } else {
            println!(
                "| `{name}` | {} | {} | {:.3e} | {:.2e} | {:.3e} | {} |",
                report.evals.f,
                report.iterations,
                report.f,
                report.grad_inf,
                best,
                report.stop_reason
            );
        }
    }
    Ok(())
}
