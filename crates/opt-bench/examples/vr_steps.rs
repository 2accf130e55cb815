//! The measurements behind the default step sizes of SAG, SAGA and SVRG
//! (`opt_variance_reduction` crate and module docs): effective passes
//! (batch 1, or `BATCH`) to reach `f - f* <= TARGET` (default `1e-10`) for each
//! optimizer spec given, over `SEEDS` seeds (default 1; min, median, max),
//! with `f*` from Newton's method (dense Hessian from Hessian-vector
//! products, Cholesky solve, Armijo backtracking, until `f` stops falling).
//!
//! `[SEEDS=9] [TARGET=1e-10] [BATCH=b] cargo run --release -p opt-bench --example vr_steps -- PROBLEM [PASSES] [OPTIMIZER...]`
//!
//! In optimizer specs, `{L}` is replaced by `L_max = max_i L_i`, `{Lmean}`
//! by the mean of the `L_i` and `{Lq}` by `max_i L_i / (n p_i)` for the
//! Lipschitz sampling `p_i = 1/(2n) + L_i / (2 sum_j L_j)`, e.g.
//! `svrg:lr=0.5/{Lq}` is `lr = 0.5 / L_q`.

use opt_bench::run::{RunOptions, run_specs};
use opt_bench::{Spec, build_problem};
use opt_core::FiniteSum;

#[path = "../tests/support/newton.rs"]
mod support;

fn main() {
    let mut args = std::env::args().skip(1);
    let problem = args
        .next()
        .unwrap_or_else(|| "logistic:data=breast-cancer,l2=0.01".to_owned());
    let passes: f64 = args.next().map_or(100.0, |p| p.parse().unwrap());
    let mut optimizers: Vec<String> = args.collect();
    if optimizers.is_empty() {
        optimizers = ["sag", "saga", "svrg"].map(String::from).to_vec();
    }
    let seeds: u64 = std::env::var("SEEDS").map_or(1, |s| s.parse().unwrap());
    let target: f64 = std::env::var("TARGET").map_or(1e-10, |s| s.parse().unwrap());
    let batch_size: Option<usize> = std::env::var("BATCH").ok().map(|s| s.parse().unwrap());

    let built = build_problem(&Spec::parse("problem", &problem).unwrap()).unwrap();
    let constants = built.lipschitz_constants().unwrap();
    let n = constants.len() as f64;
    let l_max = constants.iter().copied().fold(0.0, f64::max);
    let l_mean = constants.iter().sum::<f64>() / n;
    let l_q = constants
        .iter()
        .map(|l| l / (n * (0.5 / n + 0.5 * l / (n * l_mean))))
        .fold(0.0, f64::max);
    let f_star = support::newton_optimum(&built).1;
    println!(
        "{problem}: L_max = {l_max:.4}, L_mean = {l_mean:.4}, L_q = {l_q:.4}, f* = {f_star:.17}"
    );
    for spec in optimizers {
        let expanded = expand(&spec, l_max, l_mean, l_q);
        let mut reached = Vec::new();
        let mut time_s = 0.0;
        for seed in 0..seeds {
            let options = RunOptions {
                epochs: Some(passes),
                keep_history: true,
                batch_size,
                seed,
                ..RunOptions::default()
            };
            let record = run_specs(&problem, &expanded, &options).expect("run");
            time_s += record.time_s;
            let history = record.history.expect("history");
            reached.push(
                history
                    .records
                    .iter()
                    .position(|r| r.f - f_star <= target)
                    .unwrap_or(usize::MAX),
            );
        }
        reached.sort_unstable();
        let show = |p: usize| {
            if p == usize::MAX {
                format!("> {passes}")
            } else {
                p.to_string()
            }
        };
        println!(
            "  {spec:<32} passes to {target:e} over {seeds} seeds: min {:>5}  median {:>5}  max {:>5}   {:.3} s/run",
            show(reached[0]),
            show(reached[reached.len() / 2]),
            show(reached[reached.len() - 1]),
            time_s / seeds as f64
        );
    }
}

/// `lr=c/{L}`, `lr=c/{Lmean}`, `lr=c/{Lq}` as numbers.
fn expand(spec: &str, l_max: f64, l_mean: f64, l_q: f64) -> String {
    let Some((head, lr)) = spec.split_once("lr=") else {
        return spec.to_owned();
    };
    let (value, rest) = lr.split_once(',').unwrap_or((lr, ""));
    let number = match value.split_once('/') {
        Some((c, "{L}")) => c.parse::<f64>().unwrap() / l_max,
        Some((c, "{Lmean}")) => c.parse::<f64>().unwrap() / l_mean,
        Some((c, "{Lq}")) => c.parse::<f64>().unwrap() / l_q,
        _ => value.parse().unwrap(),
    };
    if rest.is_empty() {
        format!("{head}lr={number}")
    } else {
        format!("{head}lr={number},{rest}")
    }
}
