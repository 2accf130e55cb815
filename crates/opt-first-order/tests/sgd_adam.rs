//! SGD and Adam: hand-computed first steps, parameter groups, bad input,
//! resume. (Agreement with torch.optim over 200 steps is tested in
//! `opt-bench/tests/torch_equivalence.rs`.)

use ndarray::{Array1, array};
use opt_core::{OptError, SaveState, Stepper};
use opt_first_order::{Adam, Optimizer, ParamGroup, Sgd};

/// Steps on f(x) = 0.5 a x^2 (gradient a x) from x0.
fn quadratic_steps<M: opt_first_order::Method>(
    config: M,
    a: f64,
    x0: f64,
    steps: usize,
) -> Vec<f64> {
    let mut optimizer = Optimizer::<M, f64>::new(config).unwrap();
    let mut x = array![x0];
    (0..steps)
        .map(|_| {
            let grad = &x * a;
            optimizer.step(&mut x, &grad).unwrap();
            x[0]
        })
        .collect()
}

fn assert_close(got: &[f64], expected: &[f64]) {
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-15 * e.abs().max(1e-300),
            "step {}: {g} vs {e}",
            k + 1
        );
    }
}

#[test]
fn sgd_momentum_nesterov_and_dampening_by_hand() {
    let heavy_ball = Sgd {
        lr: 0.1,
        momentum: 0.9,
        ..Sgd::default()
    };
    // b1 = 1, x1 = 0.9; b2 = 0.9 + 0.9 = 1.8, x2 = 0.72; b3 = 1.62 + 0.72 = 2.34, x3 = 0.486
    assert_close(
        &quadratic_steps(heavy_ball, 1.0, 1.0, 3),
        &[0.9, 0.72, 0.486],
    );
    let nesterov = Sgd {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        ..Sgd::default()
    };
    // d1 = 1 + 0.9 = 1.9, x1 = 0.81; b2 = 0.9 + 0.81 = 1.71, d2 = 0.81 + 1.539, x2 = 0.5751
    assert_close(&quadratic_steps(nesterov, 1.0, 1.0, 2), &[0.81, 0.5751]);
    // dampening applies from the second step: b2 = 0.9 * 1 + 0.5 * 0.9 = 1.35
    let damped = Sgd {
        lr: 0.1,
        momentum: 0.9,
        dampening: 0.5,
        ..Sgd::default()
    };
    assert_close(&quadratic_steps(damped, 1.0, 1.0, 2), &[0.9, 0.9 - 0.135]);
    // weight decay adds wd x to the gradient; maximize ascends
    let decayed = Sgd {
        lr: 0.1,
        weight_decay: 0.5,
        ..Sgd::default()
    };
    assert_close(&quadratic_steps(decayed, 1.0, 1.0, 1), &[1.0 - 0.1 * 1.5]);
    let ascent = Sgd {
        lr: 0.1,
        maximize: true,
        ..Sgd::default()
    };
    assert_close(&quadratic_steps(ascent, 1.0, 1.0, 1), &[1.1]);
}

#[test]
fn three_adam_steps_by_hand() {
    let (lr, b1, b2, eps, a) = (0.1, 0.9, 0.999, 1e-8, 2.0);
    let (mut x, mut m, mut v) = (1.0f64, 0.0f64, 0.0f64);
    let mut expected = Vec::new();
    for t in 1..=3 {
        let g = a * x;
        m += (1.0 - b1) * (g - m);
        v = b2 * v + (1.0 - b2) * g * g;
        let denom = v.sqrt() / (1.0 - b2.powi(t)).sqrt() + eps;
        x -= lr / (1.0 - b1.powi(t)) * (m / denom);
        expected.push(x);
    }
    // the first Adam step has magnitude lr (up to eps): m_hat / sqrt(v_hat) = sign(g)
    assert!((expected[0] - 0.9).abs() < 1e-8);
    let adam = Adam {
        lr,
        ..Adam::default()
    };
    let got = quadratic_steps(adam, a, 1.0, 3);
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() <= 4e-16, "{g} vs {e}");
    }
}

#[test]
fn adamw_decays_the_parameters_before_the_adam_step() {
    // x1 = x0 (1 - lr wd) - (lr / (1 - beta1)) m1 / (sqrt(v1 / (1 - beta2)) + eps)
    //    = 0.95 - (0.1 / 0.1) * 0.2 / (2 + 1e-8)
    let adamw = Adam {
        lr: 0.1,
        weight_decay: 0.5,
        ..Adam::adamw()
    };
    let got = quadratic_steps(adamw, 2.0, 1.0, 1)[0];
    let expected = 1.0 * (1.0 - 0.1 * 0.5) - (0.1 / 0.1) * 0.2 / (2.0 + 1e-8);
    assert!((got - expected).abs() < 1e-15, "{got} vs {expected}");
    // with L2 weight decay instead, the decay enters the moments: the first step is still lr
    let l2 = Adam {
        lr: 0.1,
        weight_decay: 0.5,
        ..Adam::default()
    };
    assert!((quadratic_steps(l2, 2.0, 1.0, 1)[0] - 0.9).abs() < 1e-8);
}

#[test]
fn amsgrad_keeps_the_largest_second_moment() {
    // gradients 10 then 0.1: v = 0.1, then 0.0999 + 1e-5 < 0.1; v_max stays
    // 0.1, so AMSGrad's second step is smaller
    let run = |amsgrad| {
        let mut optimizer = Optimizer::<Adam, f64>::new(Adam {
            lr: 0.1,
            amsgrad,
            ..Adam::default()
        })
        .unwrap();
        let mut x = array![0.0];
        optimizer.step(&mut x, &array![10.0]).unwrap();
        let after_first = x[0];
        optimizer.step(&mut x, &array![0.1]).unwrap();
        after_first - x[0]
    };
    assert!(run(true) < run(false));
    assert!(run(true) > 0.0);
}

#[test]
fn parameter_groups_use_their_own_settings() {
    let groups = vec![
        ParamGroup {
            config: Sgd {
                lr: 0.1,
                ..Sgd::default()
            },
            arrays: 2,
        },
        ParamGroup {
            config: Sgd {
                lr: 0.01,
                momentum: 0.9,
                ..Sgd::default()
            },
            arrays: 1,
        },
    ];
    let mut optimizer = Optimizer::<Sgd, f32>::with_groups(groups).unwrap();
    let mut params = vec![
        array![1.0f32, 2.0],
        array![3.0f32],
        array![4.0f32, 5.0, 6.0],
    ];
    let grads = vec![
        array![1.0f32, 1.0],
        array![2.0f32],
        array![10.0f32, 10.0, 10.0],
    ];
    optimizer.step_arrays(&mut params, &grads).unwrap();
    assert_eq!(params[0], array![0.9f32, 1.9]);
    assert_eq!(params[1], array![2.8f32]);
    assert_eq!(params[2], array![3.9f32, 4.9, 5.9]);
    optimizer.set_group_lr(0, 0.0).unwrap();
    optimizer.step_arrays(&mut params, &grads).unwrap();
    assert_eq!(params[0], array![0.9f32, 1.9]);
    // momentum: b = 0.9 * 10 + 10 = 19, step 0.19
    assert!((params[2][0] - (3.9 - 0.19)).abs() < 1e-6);

    let err = optimizer
        .step_arrays(&mut params[..2], &grads[..2])
        .unwrap_err();
    assert!(matches!(
        err,
        OptError::ShapeMismatch {
            expected: 3,
            got: 2,
            ..
        }
    ));
    assert!(optimizer.set_group_lr(5, 0.1).is_err());
    assert!(Optimizer::<Sgd, f32>::with_groups(vec![]).is_err());
    assert!(
        Optimizer::<Sgd, f32>::with_groups(vec![ParamGroup {
            config: Sgd::default(),
            arrays: 0
        }])
        .is_err()
    );
}

#[test]
fn bad_hyperparameters_are_refused_with_their_name() {
    type Built = Result<Optimizer<Adam, f64>, OptError>;
    let cases: Vec<(Built, &str)> = vec![
        (
            Optimizer::new(Adam {
                lr: -1.0,
                ..Adam::default()
            }),
            "lr",
        ),
        (
            Optimizer::new(Adam {
                beta1: 1.0,
                ..Adam::default()
            }),
            "beta1",
        ),
        (
            Optimizer::new(Adam {
                beta2: -0.1,
                ..Adam::default()
            }),
            "beta2",
        ),
        (
            Optimizer::new(Adam {
                eps: 0.0,
                ..Adam::default()
            }),
            "eps",
        ),
        (
            Optimizer::new(Adam {
                weight_decay: f64::NAN,
                ..Adam::default()
            }),
            "weight_decay",
        ),
    ];
    for (result, expected) in cases {
        match result {
            Err(OptError::InvalidHyperparameter { name, .. }) => assert_eq!(name, expected),
            other => panic!("{expected}: {other:?}"),
        }
    }
    let nesterov = Optimizer::<Sgd, f64>::new(Sgd {
        nesterov: true,
        ..Sgd::default()
    });
    assert!(matches!(
        nesterov,
        Err(OptError::InvalidHyperparameter {
            name: "nesterov",
            ..
        })
    ));
    assert!(
        Optimizer::<Sgd, f64>::new(Sgd {
            momentum: -0.5,
            ..Sgd::default()
        })
        .is_err()
    );
    let mut adam = Optimizer::<Adam, f64>::new(Adam::default()).unwrap();
    assert!(adam.set_learning_rate(-0.1).is_err());
    assert_eq!(adam.learning_rate(), 1e-3);
}

#[test]
fn a_non_finite_gradient_touches_nothing() {
    for config in [
        Adam::default(),
        Adam {
            amsgrad: true,
            ..Adam::adamw()
        },
    ] {
        let mut optimizer = Optimizer::<Adam, f64>::new(config).unwrap();
        let mut x = array![1.0, 2.0, 3.0];
        optimizer.step(&mut x, &array![0.1, 0.2, 0.3]).unwrap();
        let (x_before, state_before) = (x.clone(), optimizer.save_state());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = optimizer.step(&mut x, &array![0.1, bad, 0.3]).unwrap_err();
            assert!(matches!(
                err,
                OptError::NonFinite {
                    what: "gradient",
                    ..
                }
            ));
            assert_eq!(x, x_before);
            assert_eq!(optimizer.save_state(), state_before);
        }
        let err = optimizer.step(&mut x, &array![0.1, 0.2]).unwrap_err();
        assert!(matches!(err, OptError::ShapeMismatch { .. }));
        assert_eq!(x, x_before);
    }
}

fn resume_is_bit_identical<M: opt_first_order::Method>(config: M) {
    let grad_at = |x: &Array1<f64>| x.mapv(|v| 3.0 * v - 1.0 + 0.1 * v * v);
    let run = |optimizer: &mut Optimizer<M, f64>, x: &mut Array1<f64>, steps: usize| {
        for _ in 0..steps {
            let grad = grad_at(x);
            optimizer.step(x, &grad).unwrap();
        }
    };
    let mut straight = Optimizer::<M, f64>::new(config.clone()).unwrap();
    let mut x_straight = array![0.5, -1.5, 2.0];
    run(&mut straight, &mut x_straight, 10);

    let mut first = Optimizer::<M, f64>::new(config.clone()).unwrap();
    let mut x = array![0.5, -1.5, 2.0];
    run(&mut first, &mut x, 4);
    let saved = serde_json::to_string(&first.save_state()).unwrap();
    let mut second = Optimizer::<M, f64>::new(config).unwrap();
    second
        .restore_state(serde_json::from_str(&saved).unwrap())
        .unwrap();
    run(&mut second, &mut x, 6);
    assert_eq!(x, x_straight);
}

#[test]
fn sgd_and_adam_resume_bit_identically() {
    resume_is_bit_identical(Sgd {
        lr: 0.05,
        momentum: 0.9,
        nesterov: true,
        ..Sgd::default()
    });
    resume_is_bit_identical(Sgd {
        lr: 0.05,
        ..Sgd::default()
    });
    resume_is_bit_identical(Adam {
        lr: 0.05,
        amsgrad: true,
        ..Adam::default()
    });
    resume_is_bit_identical(Adam {
        lr: 0.05,
        ..Adam::adamw()
    });
}

#[test]
fn a_restored_state_must_fit() {
    let mut adam = Optimizer::<Adam, f64>::new(Adam::default()).unwrap();
    let mut x = array![1.0, 2.0];
    adam.step(&mut x, &array![1.0, 1.0]).unwrap();
    let mut state = adam.save_state();
    state.arrays[0].buffer.pop();
    assert!(matches!(
        adam.restore_state(state),
        Err(OptError::InvalidState(_))
    ));
    let mut state = adam.save_state();
    state.arrays.push(state.arrays[0].clone());
    assert!(adam.restore_state(state).is_err());
    // a state for three parameters does not fit two
    let mut bigger = Optimizer::<Adam, f64>::new(Adam::default()).unwrap();
    let mut y = array![1.0, 2.0, 3.0];
    bigger.step(&mut y, &array![1.0, 1.0, 1.0]).unwrap();
    adam.restore_state(bigger.save_state()).unwrap();
    assert!(matches!(
        adam.step(&mut x, &array![1.0, 1.0]),
        Err(OptError::ShapeMismatch { .. })
    ));
}
