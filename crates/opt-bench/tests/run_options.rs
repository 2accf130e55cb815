//! `RunOptions` that shape a stepper's run: a learning-rate schedule and one
//! iteration per pass over the data.

use opt_bench::run::{RunOptions, run_specs};
use opt_core::StopReason;
use opt_core::schedule::LrSchedule;

const PROBLEM: &str = "logistic:data=breast-cancer,l2=0.001";

#[test]
fn a_schedule_sets_the_steppers_learning_rate() {
    // lr = 0 from the schedule overrides the spec's lr: nothing moves.
    let options = RunOptions {
        max_iters: Some(5),
        batch_size: Some(10),
        schedule: Some(LrSchedule::constant(0.0).unwrap()),
        ..RunOptions::default()
    };
    let frozen = run_specs(PROBLEM, "sgd:lr=0.5", &options).unwrap();
    assert!(frozen.x.iter().all(|&v| v == 0.0));
    assert!((frozen.f - std::f64::consts::LN_2).abs() < 1e-15);

    let moving = RunOptions {
        schedule: Some(LrSchedule::inverse_time(0.5, 0.1).unwrap()),
        ..options.clone()
    };
    assert!(run_specs(PROBLEM, "sgd:lr=0.5", &moving).unwrap().f < frozen.f);

    let invalid = RunOptions {
        schedule: Some(LrSchedule::InverseTime {
            base_lr: -1.0,
            decay_rate: 0.0,
        }),
        ..options
    };
    let error = run_specs(PROBLEM, "sgd:lr=0.5", &invalid)
        .unwrap_err()
        .to_string();
    assert!(error.contains("base_lr"), "{error}");
}

#[test]
fn epoch_iterations_record_the_objective_once_per_pass() {
    let run = |epoch_iterations| {
        let options = RunOptions {
            epochs: Some(3.0),
            batch_size: Some(100),
            epoch_iterations,
            keep_history: true,
            seed: 4,
            ..RunOptions::default()
        };
        run_specs(PROBLEM, "sgd:lr=0.5", &options).unwrap()
    };
    let by_pass = run(true);
    let by_step = run(false);
    // 569 = 5 * 100 + 69: six steps a pass.
    assert_eq!(by_pass.iterations, 3);
    assert_eq!(by_step.iterations, 18);
    assert_eq!(by_pass.stop_reason, StopReason::MaxEpochs);
    assert_eq!(by_pass.evals.samples, 3 * 569);
    assert_eq!(by_pass.x, by_step.x);
    let points = by_pass.history.unwrap().records.len();
    assert_eq!(points, 4, "the start and one point per pass");
}
