//! Per-iteration trace of mini-batch SCG on the embedded digits, the
//! experiment behind docs/algorithms/minibatch-scg.md:
//!
//! ```text
//! cargo run --release -p opt-models --example minibatch_scg_trace -- \
//!     mlp|cnn BATCH BATCHES_EVERY RESTART LAMBDA_MIN ITERATIONS
//! ```
//!
//! prints, every few iterations, the samples evaluated so far, the batch
//! value, SCG's `lambda`, the last step `alpha`, the comparison `Delta`,
//! and the rejected passes and restarts so far; at the end the test
//! accuracy.

use std::env;

use opt_core::{Counted, IterState, Solver};
use opt_models::data::digits;
use opt_models::loss::Loss;
use opt_models::network::{Cnn, CnnConfig, Mlp, MlpConfig, Network};
use opt_models::objective::NetworkObjective;
use opt_models::train::{evaluate, objective_on};
use opt_second_order::scg::{MinibatchScg, MinibatchScgConfig};

fn argument<T: std::str::FromStr>(args: &[String], index: usize, default: T) -> T {
    args.get(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn metric(metrics: &[(&'static str, f64)], name: &str) -> f64 {
    metrics
        .iter()
        .find(|(key, _)| *key == name)
        .map_or(f64::NAN, |(_, value)| *value)
}

fn run<N: Network>(
    objective: NetworkObjective<N, f32>,
    config: MinibatchScgConfig,
    iterations: usize,
) {
    let (_, test) = digits().expect("digits");
    let problem = Counted::finite_sum(objective);
    let mut state = IterState::new(problem.inner().current_parameters().expect("parameters"));
    let mut solver = MinibatchScg::new(config).expect("config");
    solver.init(&problem, &mut state).expect("init");
    println!("iter  samples  batch_f  lambda  alpha  Delta  rejections  restarts");
    for iteration in 1..=iterations {
        if let Some(reason) = solver.next_iter(&problem, &mut state).expect("iteration") {
            println!("stopped: {reason}");
            break;
        }
        if iteration % 10 == 0 || iteration == iterations {
            let m = Solver::<NetworkObjective<N, f32>>::metrics(&solver);
            println!(
                "{iteration:>5} {:>8} {:>8.4} {:>9.3e} {:>9.3e} {:>7.3} {:>5} {:>5}",
                problem.evals().samples,
                metric(&m, "batch_value"),
                metric(&m, "lambda"),
                metric(&m, "alpha"),
                metric(&m, "comparison"),
                metric(&m, "rejections"),
                metric(&m, "restarts"),
            );
        }
    }
    problem.inner().load_parameters(&state.x).expect("load");
    let inner = problem.inner();
    let tested = evaluate(inner.network(), inner.loss(), &test).expect("evaluate");
    println!("test accuracy {:.4}", tested.accuracy);
}

fn main() {
    let args: Vec<String> = env::args().collect();
    let model = args.get(1).map_or("mlp", String::as_str).to_owned();
    let config = MinibatchScgConfig {
        batch_size: Some(argument(&args, 2, 256)),
        batches_every: argument(&args, 3, 5),
        restart: args
            .get(4)
            .and_then(|a| a.parse().ok())
            .filter(|&r: &usize| r > 0),
        lambda_min: argument(&args, 5, 0.0),
        full_objective: false,
        ..MinibatchScgConfig::default()
    };
    let iterations = argument(&args, 6, 100);
    let (train, _) = digits().expect("digits");
    let loss = Loss::cross_entropy();
    if model == "cnn" {
        let network = Cnn::new(&CnnConfig::new([1, 8, 8], 10), 0).expect("cnn");
        run(
            objective_on(network, loss, &train).expect("objective"),
            config,
            iterations,
        );
    } else {
        let network = Mlp::new(&MlpConfig::new(64, &[128], 10), 0).expect("mlp");
        run(
            objective_on(network, loss, &train).expect("objective"),
            config,
            iterations,
        );
    }
}
