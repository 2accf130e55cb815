//! The adaptive methods (Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam)
//! across modules: invalid hyperparameters, non-finite gradients, resume.
//! Closed-form steps are unit tests in each method's module.

use opt_core::state::{restore_state_from_json, state_to_json};
use opt_core::{OptError, SaveState, Stepper};
use opt_first_order::{Adadelta, Adagrad, Adamax, Method, Nadam, Optimizer, Radam, Rmsprop};

/// f(x) = 0.5 (x_0^2 + 3 x_1^2).
fn gradient(x: &[f64; 2]) -> [f64; 2] {
    [x[0], 3.0 * x[1]]
}

fn run<M: Method>(optimizer: &mut Optimizer<M, f64>, x: &mut [f64; 2], steps: usize) {
    for _ in 0..steps {
        let g = gradient(x);
        optimizer.step_slices(&mut [&mut x[..]], &[&g[..]]).unwrap();
    }
}

#[track_caller]
fn rejects<M: Method>(config: M, name: &str) {
    match Optimizer::<M, f64>::new(config) {
        Err(OptError::InvalidHyperparameter { name: got, .. }) => assert_eq!(got, name),
        Err(other) => panic!("expected an invalid `{name}`, got {other}"),
        Ok(_) => panic!("expected an invalid `{name}`, got a valid optimizer"),
    }
}

#[test]
fn invalid_hyperparameters_are_named_errors() {
    rejects(
        Adagrad {
            lr: -1e-3,
            ..Default::default()
        },
        "lr",
    );
    rejects(
        Adagrad {
            lr_decay: -0.1,
            ..Default::default()
        },
        "lr_decay",
    );
    rejects(
        Adagrad {
            weight_decay: -0.1,
            ..Default::default()
        },
        "weight_decay",
    );
    rejects(
        Adagrad {
            initial_accumulator_value: -0.1,
            ..Default::default()
        },
        "initial_accumulator_value",
    );
    rejects(
        Adagrad {
            eps: 0.0,
            ..Default::default()
        },
        "eps",
    );

    rejects(
        Rmsprop {
            lr: f64::NAN,
            ..Default::default()
        },
        "lr",
    );
    rejects(
        Rmsprop {
            alpha: 1.0,
            ..Default::default()
        },
        "alpha",
    );
    rejects(
        Rmsprop {
            alpha: -0.1,
            ..Default::default()
        },
        "alpha",
    );
    rejects(
        Rmsprop {
            eps: -1e-8,
            ..Default::default()
        },
        "eps",
    );
    rejects(
        Rmsprop {
            weight_decay: -1.0,
            ..Default::default()
        },
        "weight_decay",
    );
    rejects(
        Rmsprop {
            momentum: -0.9,
            ..Default::default()
        },
        "momentum",
    );

    rejects(
        Adadelta {
            lr: -1.0,
            ..Default::default()
        },
        "lr",
    );
    rejects(
        Adadelta {
            rho: 1.0,
            ..Default::default()
        },
        "rho",
    );
    rejects(
        Adadelta {
            eps: 0.0,
            ..Default::default()
        },
        "eps",
    );
    rejects(
        Adadelta {
            weight_decay: -1.0,
            ..Default::default()
        },
        "weight_decay",
    );

    rejects(
        Adamax {
            lr: -1.0,
            ..Default::default()
        },
        "lr",
    );
    rejects(
        Adamax {
            beta1: 1.0,
            ..Default::default()
        },
        "beta1",
    );
    rejects(
        Adamax {
            beta2: -0.5,
            ..Default::default()
        },
        "beta2",
    );
    rejects(
        Adamax {
            eps: 0.0,
            ..Default::default()
        },
        "eps",
    );
    rejects(
        Adamax {
            weight_decay: -1.0,
            ..Default::default()
        },
        "weight_decay",
    );

    rejects(
        Nadam {
            lr: -1.0,
            ..Default::default()
        },
        "lr",
    );
    rejects(
        Nadam {
            beta1: 1.5,
            ..Default::default()
        },
        "beta1",
    );
    rejects(
        Nadam {
            beta2: 1.0,
            ..Default::default()
        },
        "beta2",
    );
    rejects(
        Nadam {
            eps: 0.0,
            ..Default::default()
        },
        "eps",
    );
    rejects(
        Nadam {
            weight_decay: -1.0,
            ..Default::default()
        },
        "weight_decay",
    );
    rejects(
        Nadam {
            momentum_decay: -4e-3,
            ..Default::default()
        },
        "momentum_decay",
    );

    rejects(
        Radam {
            lr: -1.0,
            ..Default::default()
        },
        "lr",
    );
    rejects(
        Radam {
            beta1: -0.1,
            ..Default::default()
        },
        "beta1",
    );
    rejects(
        Radam {
            beta2: 1.0,
            ..Default::default()
        },
        "beta2",
    );
    rejects(
        Radam {
            eps: f64::INFINITY,
            ..Default::default()
        },
        "eps",
    );
    rejects(
        Radam {
            weight_decay: -1.0,
            ..Default::default()
        },
        "weight_decay",
    );
}

#[test]
fn a_negative_learning_rate_is_refused_and_the_old_one_kept() {
    let mut optimizer = Optimizer::<Rmsprop, f64>::new(Rmsprop::default()).unwrap();
    assert!(optimizer.set_learning_rate(-0.5).is_err());
    assert_eq!(
        Stepper::<ndarray::Array1<f64>>::learning_rate(&optimizer),
        1e-2
    );
    optimizer.set_learning_rate(0.5).unwrap();
    assert_eq!(optimizer.groups()[0].config.lr, 0.5);
}

/// A non-finite gradient, on the first step or later, is an error that
/// leaves the parameters and the whole state as they were.
fn refuses_non_finite_gradients<M: Method>(config: M) {
    let mut optimizer = Optimizer::<M, f64>::new(config).unwrap();
    for steps in [0, 3] {
        let mut x = [1.0, -2.0];
        run(&mut optimizer, &mut x, steps);
        let (x_before, state_before) = (x, optimizer.save_state());
        for bad in [[f64::NAN, 1.0], [1.0, f64::NEG_INFINITY]] {
            let err = optimizer
                .step_slices(&mut [&mut x[..]], &[&bad[..]])
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    OptError::NonFinite {
                        what: "gradient",
                        ..
                    }
                ),
                "{}: {err}",
                M::NAME
            );
            assert_eq!(
                x.map(f64::to_bits),
                x_before.map(f64::to_bits),
                "{}",
                M::NAME
            );
            assert_eq!(optimizer.save_state(), state_before, "{}", M::NAME);
        }
    }
}

#[test]
fn non_finite_gradients_touch_nothing() {
    refuses_non_finite_gradients(Adagrad::default());
    refuses_non_finite_gradients(Rmsprop {
        centered: true,
        momentum: 0.9,
        ..Default::default()
    });
    refuses_non_finite_gradients(Adadelta::default());
    refuses_non_finite_gradients(Adamax::default());
    refuses_non_finite_gradients(Nadam::default());
    refuses_non_finite_gradients(Radam::default());
}

/// 10 steps in one go equal 4 steps, a JSON round trip of the state into an
/// optimizer built with other (default) hyperparameters, and 6 more steps.
fn resumes_bit_identically<M: Method + Default>(config: M) {
    let x0 = [1.0, -2.0];
    let mut straight = Optimizer::<M, f64>::new(config.clone()).unwrap();
    let mut x_straight = x0;
    run(&mut straight, &mut x_straight, 10);

    let mut first = Optimizer::<M, f64>::new(config).unwrap();
    let mut x = x0;
    run(&mut first, &mut x, 4);
    let json = state_to_json(&first).unwrap();
    let mut resumed = Optimizer::<M, f64>::new(M::default()).unwrap();
    restore_state_from_json(&mut resumed, &json).unwrap();
    assert_eq!(resumed.save_state(), first.save_state(), "{}", M::NAME);
    run(&mut resumed, &mut x, 6);

    assert_eq!(
        x.map(f64::to_bits),
        x_straight.map(f64::to_bits),
        "{}",
        M::NAME
    );
    assert_eq!(resumed.save_state(), straight.save_state(), "{}", M::NAME);
    assert_ne!(x, x0, "{} moved", M::NAME);
}

#[test]
fn a_resumed_run_is_bit_identical() {
    resumes_bit_identically(Adagrad {
        lr: 0.1,
        lr_decay: 0.1,
        weight_decay: 0.01,
        initial_accumulator_value: 0.1,
        ..Default::default()
    });
    resumes_bit_identically(Rmsprop {
        centered: true,
        momentum: 0.9,
        ..Default::default()
    });
    resumes_bit_identically(Rmsprop {
        alpha: 0.9,
        ..Default::default()
    });
    resumes_bit_identically(Adadelta {
        rho: 0.95,
        ..Default::default()
    });
    resumes_bit_identically(Adamax {
        weight_decay: 0.01,
        ..Default::default()
    });
    resumes_bit_identically(Nadam {
        lr: 0.05,
        weight_decay: 0.01,
        decoupled_weight_decay: true,
        ..Default::default()
    });
    // crosses rho_t > 5 at step 6, after the restore
    resumes_bit_identically(Radam {
        lr: 0.05,
        ..Default::default()
    });
}
