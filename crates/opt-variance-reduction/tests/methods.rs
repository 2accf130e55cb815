//! SAG, SAGA and SVRG on small problems written in `common`: the scalar
//! (generalized-linear) and dense paths agree, every method reaches the
//! Newton optimum, mini-batches converge, a pass is `n` sample gradients,
//! SAGA's proximal step solves a lasso, and bad input is an error.

mod common;

use common::{Glm, Loss, Opaque, relative_difference, run};
use ndarray::Array1;
use opt_core::{Counted, FiniteSum, IterState, Objective, OptError, Solver};
use opt_variance_reduction::{
    Init, Memory, Sag, SagConfig, SagStep, Saga, SagaConfig, SagaStep, Sampling, Snapshot, Svrg,
    SvrgConfig, SvrgStep, WarmStart,
};

fn sag(config: SagConfig) -> Sag {
    Sag::new(config).expect("valid")
}
fn saga(config: SagaConfig) -> Saga {
    Saga::new(config).expect("valid")
}
fn svrg(config: SvrgConfig) -> Svrg {
    Svrg::new(config).expect("valid")
}

const SAMPLINGS: [Sampling; 2] = [Sampling::Lipschitz, Sampling::Uniform];

/// Solvers with their names.
type Named<P> = Vec<(&'static str, Box<dyn Solver<P>>)>;

/// `value <= tolerance`, false for NaN.
fn within(value: f64, tolerance: f64) -> bool {
    value <= tolerance
}

#[test]
fn scalar_and_dense_tables_give_the_same_iterates_without_ridge() {
    let problem = Glm::random(40, 5, 0.0, Loss::Logistic, 1);
    let mut failures = Vec::new();
    let mut check = |name: String, scalar: &Array1<f64>, dense: &Array1<f64>| {
        let difference = relative_difference(scalar, dense);
        if !within(difference, 1e-10) {
            failures.push(format!("{name}: relative difference {difference:e}"));
        }
    };
    for sampling in SAMPLINGS {
        for batch_size in [1, 4] {
            for init in [Init::Zeros, Init::Sgd] {
                let config = SagConfig {
                    batch_size,
                    sampling,
                    init,
                    seed: 3,
                    ..SagConfig::default()
                };
                let mut scalar = sag(config.clone());
                let (a, _) = run(problem.clone(), &mut scalar, 6);
                assert_eq!(scalar.uses_scalar_table(), Some(true));
                let mut dense = sag(SagConfig {
                    memory: Memory::Dense,
                    ..config
                });
                let (b, _) = run(problem.clone(), &mut dense, 6);
                assert_eq!(dense.uses_scalar_table(), Some(false));
                check(
                    format!("sag {sampling:?} b={batch_size} {init:?}"),
                    &a.x,
                    &b.x,
                );

                let config = SagaConfig {
                    batch_size,
                    sampling,
                    init,
                    seed: 3,
                    ..SagaConfig::default()
                };
                let (a, _) = run(problem.clone(), &mut saga(config.clone()), 6);
                let dense = SagaConfig {
                    memory: Memory::Dense,
                    ..config
                };
                let (b, _) = run(problem.clone(), &mut saga(dense), 6);
                check(
                    format!("saga {sampling:?} b={batch_size} {init:?}"),
                    &a.x,
                    &b.x,
                );
            }
            // SVRG: pass 1 is SGD, pass 2 the snapshot, then m = 2n inner
            // steps take 2 passes on the scalar path (one sample gradient
            // each) and 4 on the dense path (two each): compare the ends of
            // the first and second epochs.
            let config = SvrgConfig {
                batch_size,
                sampling,
                seed: 3,
                ..SvrgConfig::default()
            };
            let dense = SvrgConfig {
                memory: Memory::Dense,
                ..config.clone()
            };
            for (scalar_passes, dense_passes) in [(4, 6), (7, 11)] {
                let mut scalar = svrg(config.clone());
                let (a, _) = run(problem.clone(), &mut scalar, scalar_passes);
                assert_eq!(scalar.uses_scalar_snapshot(), Some(true));
                let mut dense_solver = svrg(dense.clone());
                let (b, _) = run(problem.clone(), &mut dense_solver, dense_passes);
                assert_eq!(scalar.epochs(), dense_solver.epochs());
                check(
                    format!("svrg {sampling:?} b={batch_size} after {scalar_passes} passes"),
                    &a.x,
                    &b.x,
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each method, by name, with a configuration.
fn methods(batch_size: usize, sampling: Sampling) -> Named<Glm> {
    vec![
        (
            "sag",
            Box::new(sag(SagConfig {
                batch_size,
                sampling,
                ..SagConfig::default()
            })),
        ),
        (
            "saga",
            Box::new(saga(SagaConfig {
                batch_size,
                sampling,
                ..SagaConfig::default()
            })),
        ),
        (
            "svrg",
            Box::new(svrg(SvrgConfig {
                batch_size,
                sampling,
                ..SvrgConfig::default()
            })),
        ),
    ]
}

/// `||x - x*||_inf` after `passes` passes.
fn distance_to_optimum<P: FiniteSum<Vector = Array1<f64>>>(
    problem: P,
    solver: &mut dyn Solver<P>,
    passes: usize,
    x_star: &Array1<f64>,
) -> f64 {
    let (state, _) = run_dyn(problem, solver, passes);
    (&state.x - x_star)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
}

fn run_dyn<P: FiniteSum<Vector = Array1<f64>>>(
    problem: P,
    solver: &mut dyn Solver<P>,
    passes: usize,
) -> (IterState<Array1<f64>>, Counted<P>) {
    let problem = Counted::finite_sum(problem);
    let mut state = IterState::new(Array1::zeros(problem.dim()));
    solver.init(&problem, &mut state).unwrap();
    for _ in 0..passes {
        assert!(solver.next_iter(&problem, &mut state).unwrap().is_none());
    }
    (state, problem)
}

#[test]
fn every_method_reaches_the_newton_optimum_on_both_paths() {
    let mut failures = Vec::new();
    for loss in [Loss::Logistic, Loss::Squares] {
        let problem = Glm::random(60, 6, 0.05, loss, 2);
        let x_star = problem.newton();
        for sampling in SAMPLINGS {
            // Uniform sampling steps by 1/L_max: slower on this problem,
            // whose first row has 4 times the squared norm of the others.
            let passes = if sampling == Sampling::Uniform {
                600
            } else {
                150
            };
            for (name, mut solver) in methods(1, sampling) {
                let error = distance_to_optimum(problem.clone(), solver.as_mut(), passes, &x_star);
                if !within(error, 1e-9) {
                    failures.push(format!("{name} {loss:?} {sampling:?}: {error:e}"));
                }
            }
            // The dense path on a problem that hides its generalized-linear view.
            let opaque = Opaque {
                inner: problem.clone(),
                constants: true,
            };
            let dense: Named<Opaque<Glm>> = vec![
                (
                    "sag",
                    Box::new(sag(SagConfig {
                        sampling,
                        ..SagConfig::default()
                    })),
                ),
                (
                    "saga",
                    Box::new(saga(SagaConfig {
                        sampling,
                        ..SagaConfig::default()
                    })),
                ),
                (
                    "svrg",
                    Box::new(svrg(SvrgConfig {
                        sampling,
                        ..SvrgConfig::default()
                    })),
                ),
            ];
            for (name, mut solver) in dense {
                let error = distance_to_optimum(opaque.clone(), solver.as_mut(), passes, &x_star);
                if !within(error, 1e-9) {
                    failures.push(format!("{name} dense {loss:?} {sampling:?}: {error:e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn mini_batches_and_the_other_options_converge() {
    let problem = Glm::random(60, 6, 0.05, Loss::Logistic, 4);
    let x_star = problem.newton();
    let mut failures = Vec::new();
    let mut check = |name: &str, solver: &mut dyn Solver<Glm>, passes: usize| {
        let error = distance_to_optimum(problem.clone(), solver, passes, &x_star);
        if !within(error, 1e-8) {
            failures.push(format!("{name}: {error:e}"));
        }
    };
    // b = 7 does not divide n = 60: the last step of each pass is smaller.
    for sampling in SAMPLINGS {
        let passes = if sampling == Sampling::Uniform {
            1500
        } else {
            400
        };
        for (name, mut solver) in methods(7, sampling) {
            check(&format!("{name} b=7 {sampling:?}"), solver.as_mut(), passes);
        }
    }
    let options: Named<Glm> = vec![
        (
            "sag linesearch",
            Box::new(sag(SagConfig {
                step: SagStep::Linesearch,
                ..SagConfig::default()
            })),
        ),
        (
            "sag linesearch dense",
            Box::new(sag(SagConfig {
                step: SagStep::Linesearch,
                memory: Memory::Dense,
                ..SagConfig::default()
            })),
        ),
        (
            "sag sgd init",
            Box::new(sag(SagConfig {
                init: Init::Sgd,
                ..SagConfig::default()
            })),
        ),
        (
            "saga theory step",
            Box::new(saga(SagaConfig {
                step: SagaStep::Theory,
                ..SagaConfig::default()
            })),
        ),
        (
            "svrg average snapshot",
            Box::new(svrg(SvrgConfig {
                snapshot: Snapshot::Average,
                ..SvrgConfig::default()
            })),
        ),
        (
            "svrg no warm start, m = n/2",
            Box::new(svrg(SvrgConfig {
                init: WarmStart::None,
                m: Some(30),
                ..SvrgConfig::default()
            })),
        ),
        (
            "svrg lr",
            Box::new(svrg(SvrgConfig {
                lr: Some(0.05),
                ..SvrgConfig::default()
            })),
        ),
    ];
    for (name, mut solver) in options {
        check(name, solver.as_mut(), 400);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn one_iteration_is_n_sample_gradients_and_monitoring_is_free() {
    let problem = Glm::random(30, 4, 0.01, Loss::Logistic, 5);
    let n = 30u64;
    for batch_size in [1, 4, 30] {
        for memory in [Memory::Auto, Memory::Dense] {
            for sampling in SAMPLINGS {
                let (_, counted) = run(
                    problem.clone(),
                    &mut sag(SagConfig {
                        batch_size,
                        memory,
                        sampling,
                        ..SagConfig::default()
                    }),
                    3,
                );
                assert_eq!(
                    counted.evals().samples,
                    3 * n,
                    "sag {memory:?} b={batch_size}"
                );
                assert_eq!(counted.passes(), 3.0);
                let (_, counted) = run(
                    problem.clone(),
                    &mut saga(SagaConfig {
                        batch_size,
                        memory,
                        sampling,
                        init: Init::Sgd,
                        ..SagaConfig::default()
                    }),
                    3,
                );
                assert_eq!(
                    counted.evals().samples,
                    3 * n,
                    "saga {memory:?} b={batch_size}"
                );
                // SVRG: a pass ends at the first unit of work that reaches
                // k n; the excess is less than one inner step (2b on the
                // dense path) and is taken from the next pass.
                let cost = if memory == Memory::Dense { 2 } else { 1 } * batch_size as u64;
                for passes in [1, 2, 5, 9] {
                    let (_, counted) = run(
                        problem.clone(),
                        &mut svrg(SvrgConfig {
                            batch_size,
                            memory,
                            sampling,
                            ..SvrgConfig::default()
                        }),
                        passes,
                    );
                    let samples = counted.evals().samples;
                    let target = passes as u64 * n;
                    assert!(
                        samples >= target && samples < target + cost,
                        "svrg {memory:?} b={batch_size}: {samples} samples after {passes} passes"
                    );
                }
            }
        }
    }
}

#[test]
fn a_run_is_reproducible_from_its_seed() {
    let problem = Glm::random(30, 4, 0.01, Loss::Logistic, 6);
    let config = SagaConfig {
        seed: 11,
        ..SagaConfig::default()
    };
    let mut solver = saga(config.clone());
    let (first, _) = run(problem.clone(), &mut solver, 3);
    // init starts over: same tables, same random stream.
    let (again, _) = run(problem.clone(), &mut solver, 3);
    assert_eq!(first.x, again.x);
    let (other, _) = run(problem, &mut saga(SagaConfig { seed: 12, ..config }), 3);
    assert_ne!(first.x, other.x);
}

/// `min (1/2n) ||Ax - y||^2 + (l2/2)||x||^2 + l1 ||x||_1` by SAGA: the
/// optimality conditions `g_j + l1 sign(x_j) = 0` (`x_j != 0`) and
/// `|g_j| <= l1` (`x_j = 0`) hold, with some `x_j` exactly zero.
#[test]
fn saga_proximal_step_solves_a_lasso() {
    let problem = Glm::random(50, 8, 0.0, Loss::Squares, 7);
    let l1 = 0.3;
    for memory in [Memory::Auto, Memory::Dense] {
        for init in [Init::Zeros, Init::Sgd] {
            let (state, _) = run(
                problem.clone(),
                &mut saga(SagaConfig {
                    l1,
                    memory,
                    init,
                    ..SagaConfig::default()
                }),
                300,
            );
            let mut grad = Array1::zeros(8);
            problem.value_and_grad(&state.x, &mut grad).unwrap();
            let zeros = state.x.iter().filter(|v| **v == 0.0).count();
            assert!((1..8).contains(&zeros), "{zeros} zeros in {}", state.x);
            for (x, g) in state.x.iter().zip(&grad) {
                let violation = if *x == 0.0 {
                    (g.abs() - l1).max(0.0)
                } else {
                    (g + l1 * x.signum()).abs()
                };
                assert!(violation <= 1e-9, "{memory:?} {init:?}: x {x}, g {g}");
            }
        }
    }
}

fn invalid_name(error: OptError) -> &'static str {
    match error {
        OptError::InvalidHyperparameter { name, .. } => name,
        other => panic!("expected an invalid hyperparameter, got {other}"),
    }
}

fn init_error<P, S>(problem: P, solver: &mut S) -> OptError
where
    P: FiniteSum<Vector = Array1<f64>>,
    S: Solver<P>,
{
    let problem = Counted::finite_sum(problem);
    let mut state = IterState::new(Array1::zeros(problem.dim()));
    solver
        .init(&problem, &mut state)
        .expect_err("init must fail")
}

#[test]
fn bad_hyperparameters_are_errors_that_name_the_parameter() {
    for lr in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let lr = Some(lr);
        assert_eq!(
            invalid_name(
                Sag::<f64>::new(SagConfig {
                    lr,
                    ..SagConfig::default()
                })
                .unwrap_err()
            ),
            "lr"
        );
        assert_eq!(
            invalid_name(
                Saga::<f64>::new(SagaConfig {
                    lr,
                    ..SagaConfig::default()
                })
                .unwrap_err()
            ),
            "lr"
        );
        assert_eq!(
            invalid_name(
                Svrg::<f64>::new(SvrgConfig {
                    lr,
                    ..SvrgConfig::default()
                })
                .unwrap_err()
            ),
            "lr"
        );
    }
    let batch_size = 0;
    assert_eq!(
        invalid_name(
            Sag::<f64>::new(SagConfig {
                batch_size,
                ..SagConfig::default()
            })
            .unwrap_err()
        ),
        "batch_size"
    );
    assert_eq!(
        invalid_name(
            Saga::<f64>::new(SagaConfig {
                batch_size,
                ..SagaConfig::default()
            })
            .unwrap_err()
        ),
        "batch_size"
    );
    assert_eq!(
        invalid_name(
            Svrg::<f64>::new(SvrgConfig {
                batch_size,
                ..SvrgConfig::default()
            })
            .unwrap_err()
        ),
        "batch_size"
    );
    assert_eq!(
        invalid_name(sag(SagConfig::default()).set_batch_size(0).unwrap_err()),
        "batch_size"
    );
    let linesearch_with_lr = SagConfig {
        lr: Some(0.1),
        step: SagStep::Linesearch,
        ..SagConfig::default()
    };
    assert_eq!(
        invalid_name(Sag::<f64>::new(linesearch_with_lr).unwrap_err()),
        "lr"
    );
    assert_eq!(
        invalid_name(
            Svrg::<f64>::new(SvrgConfig {
                m: Some(0),
                ..SvrgConfig::default()
            })
            .unwrap_err()
        ),
        "m"
    );
    for l1 in [-0.1, f64::NAN] {
        assert_eq!(
            invalid_name(
                Saga::<f64>::new(SagaConfig {
                    l1,
                    ..SagaConfig::default()
                })
                .unwrap_err()
            ),
            "l1"
        );
    }
    let _ = SvrgStep::Theory;
}

#[test]
fn bad_problems_are_errors() {
    // An empty data set.
    let empty = Glm {
        a: ndarray::Array2::zeros((0, 3)),
        y: Array1::zeros(0),
        l2: 0.1,
        loss: Loss::Squares,
    };
    assert_eq!(
        invalid_name(init_error(empty.clone(), &mut sag(SagConfig::default()))),
        "num_samples"
    );
    assert_eq!(
        invalid_name(init_error(empty.clone(), &mut saga(SagaConfig::default()))),
        "num_samples"
    );
    assert_eq!(
        invalid_name(init_error(empty, &mut svrg(SvrgConfig::default()))),
        "num_samples"
    );

    // A batch larger than the data set.
    let small = Glm::random(5, 3, 0.1, Loss::Logistic, 8);
    let batch_size = 6;
    assert_eq!(
        invalid_name(init_error(
            small.clone(),
            &mut sag(SagConfig {
                batch_size,
                ..SagConfig::default()
            })
        )),
        "batch_size"
    );
    assert_eq!(
        invalid_name(init_error(
            small.clone(),
            &mut saga(SagaConfig {
                batch_size,
                ..SagaConfig::default()
            })
        )),
        "batch_size"
    );
    assert_eq!(
        invalid_name(init_error(
            small.clone(),
            &mut svrg(SvrgConfig {
                batch_size,
                ..SvrgConfig::default()
            })
        )),
        "batch_size"
    );

    // No Lipschitz constants: the default steps and Lipschitz sampling need
    // them; a given `lr` with uniform (or automatic) sampling does not.
    let opaque = Opaque {
        inner: small.clone(),
        constants: false,
    };
    let unsupported = |error: OptError| {
        assert!(
            matches!(error, OptError::Unsupported(what) if what.contains("Lipschitz")),
            "{error}"
        );
    };
    unsupported(init_error(opaque.clone(), &mut sag(SagConfig::default())));
    unsupported(init_error(opaque.clone(), &mut saga(SagaConfig::default())));
    unsupported(init_error(opaque.clone(), &mut svrg(SvrgConfig::default())));
    unsupported(init_error(
        opaque.clone(),
        &mut sag(SagConfig {
            lr: Some(0.1),
            sampling: Sampling::Lipschitz,
            ..SagConfig::default()
        }),
    ));
    let lr = Some(0.05);
    run(
        opaque.clone(),
        &mut sag(SagConfig {
            lr,
            ..SagConfig::default()
        }),
        2,
    );
    run(
        opaque.clone(),
        &mut saga(SagaConfig {
            lr,
            ..SagaConfig::default()
        }),
        2,
    );
    run(
        opaque.clone(),
        &mut svrg(SvrgConfig {
            lr,
            ..SvrgConfig::default()
        }),
        2,
    );
    run(
        opaque,
        &mut sag(SagConfig {
            step: SagStep::Linesearch,
            ..SagConfig::default()
        }),
        2,
    );

    // A starting point of the wrong length, and next_iter before init.
    let problem = Counted::finite_sum(small);
    let mut state = IterState::new(Array1::zeros(2));
    assert!(matches!(
        Solver::init(&mut sag(SagConfig::default()), &problem, &mut state),
        Err(OptError::ShapeMismatch { .. })
    ));
    let mut state = IterState::new(Array1::zeros(3));
    assert!(matches!(
        Solver::next_iter(&mut svrg(SvrgConfig::default()), &problem, &mut state),
        Err(OptError::InvalidState(_))
    ));
}
