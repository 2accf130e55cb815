//! Every first-order method against PyTorch's `torch.optim`: 200 full-batch
//! steps in f64 on Rosenbrock and on logistic regression, iterates compared
//! at checkpoints to 1e-12 relative.
//!
//! The reference file is produced by `benches/peers/torch_reference.py`
//! (torch 2.15, `foreach=False`, gradients in closed form); see that script
//! for the specs and problems.

use ndarray::Array1;
use opt_bench::optimizers::build_stepper;
use opt_bench::{Spec, build_problem};
use opt_core::Objective;
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    checkpoints: Vec<u64>,
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Run {
    problem: String,
    optimizer: String,
    iterates: std::collections::BTreeMap<String, Vec<f64>>,
}

const TOLERANCE: f64 = 1e-12;

fn relative_error(ours: &Array1<f64>, theirs: &[f64]) -> f64 {
    let difference: f64 = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    let scale: f64 = theirs.iter().map(|b| b * b).sum::<f64>().sqrt();
    difference / scale.max(f64::MIN_POSITIVE)
}

#[test]
fn iterates_match_torch_optim() {
    let reference: Reference =
        serde_json::from_str(include_str!("data/torch_reference.json")).expect("reference JSON");
    let last = *reference.checkpoints.last().expect("checkpoints");
    let mut failures = Vec::new();
    let mut worst = 0.0f64;
    for run in &reference.runs {
        let problem = build_problem(&Spec::parse("problem", &run.problem).unwrap()).unwrap();
        let mut stepper =
            match build_stepper(&Spec::parse("optimizer", &run.optimizer).unwrap(), 0.0) {
                Ok(stepper) => stepper,
                Err(error) => {
                    failures.push(format!("{} on {}: {error}", run.optimizer, run.problem));
                    continue;
                }
            };
        let mut x = problem.start();
        let mut grad = Array1::zeros(x.len());
        for step in 1..=last {
            problem.value_and_grad(&x, &mut grad).unwrap();
            stepper.step(&mut x, &grad).unwrap();
            if let Some(expected) = run.iterates.get(&step.to_string()) {
                let error = relative_error(&x, expected);
                if std::env::var_os("TORCH_EQUIVALENCE_VERBOSE").is_some() {
                    println!(
                        "{} on {} step {step}: {error:.3e}",
                        run.optimizer, run.problem
                    );
                }
                worst = worst.max(error);
                if error.is_nan() || error > TOLERANCE {
                    failures.push(format!(
                        "{} on {} at step {step}: relative error {error:.3e}",
                        run.optimizer, run.problem
                    ));
                    break;
                }
            }
        }
    }
    println!(
        "worst relative error over {} runs: {worst:.3e}",
        reference.runs.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
