//! Newton (plain and modified), damped Newton and Newton-CG: one step on a
//! quadratic, fast local convergence on Rosenbrock, indefinite Hessians,
//! state save/restore, and bad input.

use ndarray::{Array1, Array2, array};
use opt_core::line_search::BacktrackingArmijo;
use opt_core::{
    Counted, IterState, Objective, OptError, Result, Runner, SaveState, Solver, StopReason,
    VectorSpace, check_len,
};
use opt_second_order::newton::{
    DampedNewton, DampedNewtonConfig, DampingUpdate, Newton, NewtonConfig, NewtonMode,
    dense_hessian,
};
use opt_second_order::newton_cg::{Forcing, NewtonCg, NewtonCgConfig, NewtonCgLineSearch};
use opt_second_order::testing::{DenseQuadratic, Rosenbrock};

/// `||g||_inf` at every iterate of a run, from `x0`, and how it ended.
struct Run {
    grad_inf: Vec<f64>,
    values: Vec<f64>,
    stop: Option<StopReason>,
    x: Array1<f64>,
}

impl Run {
    fn iterations(&self) -> usize {
        self.grad_inf.len() - 1
    }
}

/// Drive `solver` until `||g||_inf <= gtol`, its own stop, or `max_iters`.
fn run<P: Objective<Vector = Array1<f64>>, S: Solver<P>>(
    solver: &mut S,
    problem: P,
    x0: Array1<f64>,
    gtol: f64,
    max_iters: usize,
) -> Result<Run> {
    let problem = Counted::new(problem);
    let mut state = IterState::new(x0);
    solver.init(&problem, &mut state)?;
    let mut grad_inf = vec![state.grad.norm_inf()];
    let mut values = vec![state.f];
    let mut stop = None;
    while state.grad.norm_inf() > gtol && grad_inf.len() <= max_iters {
        if let Some(reason) = solver.next_iter(&problem, &mut state)? {
            stop = Some(reason);
            break;
        }
        grad_inf.push(state.grad.norm_inf());
        values.push(state.f);
    }
    Ok(Run {
        grad_inf,
        values,
        stop,
        x: state.x,
    })
}

fn newton(mode: NewtonMode) -> Newton<f64> {
    Newton::new(NewtonConfig {
        mode,
        ..NewtonConfig::default()
    })
    .unwrap()
}

fn damped(update: DampingUpdate) -> DampedNewton<f64> {
    DampedNewton::new(DampedNewtonConfig {
        update,
        ..DampedNewtonConfig::default()
    })
    .unwrap()
}

/// A metric of `solver` (the problem only fixes the `Solver<P>` impl).
fn metric<P: Objective, S: Solver<P>>(_problem: &Counted<P>, solver: &S, name: &str) -> f64 {
    solver
        .metrics()
        .into_iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .expect("metric present")
}

/// `f(x, y) = x^2 - y^2`: Hessian `diag(2, -2)`, unbounded below.
#[derive(Debug, Clone, Copy)]
struct Saddle;

impl Objective for Saddle {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(x[0] * x[0] - x[1] * x[1])
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad[0] = 2.0 * x[0];
        grad[1] = -2.0 * x[1];
        self.value(x)
    }
    fn hvp(&self, _x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> Result<()> {
        out[0] = 2.0 * v[0];
        out[1] = -2.0 * v[1];
        Ok(())
    }
}

/// `f(x, y) = x^4/4 - x^2/2 + y^2/2`: minima at `(+-1, 0)` with `f = -1/4`,
/// Hessian `diag(3 x^2 - 1, 1)`, indefinite for `|x| < 1/sqrt(3)`.
#[derive(Debug, Clone, Copy)]
struct DoubleWell;

impl Objective for DoubleWell {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        check_len("parameters", 2, x.len())?;
        Ok(0.25 * x[0].powi(4) - 0.5 * x[0] * x[0] + 0.5 * x[1] * x[1])
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        check_len("parameters", 2, x.len())?;
        grad[0] = x[0].powi(3) - x[0];
        grad[1] = x[1];
        self.value(x)
    }
    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> Result<()> {
        out[0] = (3.0 * x[0] * x[0] - 1.0) * v[0];
        out[1] = v[1];
        Ok(())
    }
}

#[test]
fn one_newton_step_solves_a_quadratic() {
    for mode in [NewtonMode::Modified, NewtonMode::Plain] {
        let q = DenseQuadratic::with_condition(10, 1e3, 11);
        let expected = q.minimizer().unwrap();
        let problem = Counted::new(q);
        let mut solver = newton(mode);
        let mut state = IterState::new(Array1::from_elem(10, 3.0));
        solver.init(&problem, &mut state).unwrap();
        assert_eq!(solver.next_iter(&problem, &mut state).unwrap(), None);
        let error = (&state.x - &expected).norm_inf();
        assert!(error <= 1e-12, "{mode:?}: {error:e}");
        assert_eq!(metric(&problem, &solver, "tau"), 0.0);
        assert_eq!(metric(&problem, &solver, "step"), 1.0);
        // n Hessian-vector products for the Hessian, one trial evaluation.
        let evals = problem.evals();
        assert_eq!((evals.hvp, evals.grad), (10, 2));
    }
}

#[test]
fn damped_newton_first_step_on_a_quadratic_by_hand() {
    // f = (x^2 + 4 y^2)/2 - (x + y) from (0, 0): g = (-1, -1), H = diag(1, 4),
    // eps_0 = 1e-3 * 4, p = ((1 + eps)^-1, (4 + eps)^-1). On a quadratic the
    // model is exact, so rho = 1 and Nielsen's rule divides eps by 3.
    let a = Array2::from_diag(&array![1.0, 4.0]);
    let problem = DenseQuadratic::new(a, array![1.0, 1.0]).unwrap();
    let problem = Counted::new(problem);
    let mut solver = damped(DampingUpdate::Nielsen);
    let mut state = IterState::new(Array1::zeros(2));
    solver.init(&problem, &mut state).unwrap();
    assert_eq!(solver.next_iter(&problem, &mut state).unwrap(), None);
    let eps = 4e-3;
    let expected = array![1.0 / (1.0 + eps), 1.0 / (4.0 + eps)];
    assert!((&state.x - &expected).norm_inf() < 1e-15, "{}", state.x);
    assert_eq!(metric(&problem, &solver, "damping"), eps);
    assert!((metric(&problem, &solver, "rho") - 1.0).abs() < 1e-12);
    let saved = solver.save_state();
    assert!((saved.damping.unwrap() - eps / 3.0).abs() < 1e-18);
    assert_eq!(saved.nu, 2.0);
}

#[test]
fn newton_converges_quadratically_on_rosenbrock() {
    // Measured: 25 iterations from (-1.2, 1) to ||g||_inf = 4.4e-14 in both
    // modes (the Hessian stays positive definite along the path, tau = 0);
    // the last ||g||_inf are 3.4e-2, 8.1e-2, 4.3e-5, 1.3e-7, 4.4e-14, so
    // ||g_{k+1}|| / ||g_k||^2 = 68, 6.6e-3, 71, 2.6.
    for mode in [NewtonMode::Modified, NewtonMode::Plain] {
        let problem = Rosenbrock { dim: 2 };
        let out = run(&mut newton(mode), problem, problem.start(), 1e-10, 100).unwrap();
        assert_eq!(out.stop, None);
        assert!(out.iterations() <= 25, "{mode:?}: {}", out.iterations());
        assert!(*out.grad_inf.last().unwrap() <= 1e-10);
        assert!((&out.x - &array![1.0, 1.0]).norm_inf() < 1e-12, "{}", out.x);
        let tail = &out.grad_inf[out.grad_inf.len() - 5..];
        for pair in tail.windows(2) {
            // A linearly convergent method would show ratios of 1e5 and more.
            assert!(pair[1] <= 1e3 * pair[0] * pair[0], "{mode:?}: {tail:?}");
        }
        for pair in out.values.windows(2) {
            assert!(pair[1] < pair[0]);
        }
    }
}

#[test]
fn damped_newton_converges_on_rosenbrock() {
    // Measured: 22 iterations (Nielsen) and 23 (Marquardt) to ||g||_inf <= 1e-10.
    for (update, bound) in [(DampingUpdate::Nielsen, 22), (DampingUpdate::Marquardt, 23)] {
        let problem = Rosenbrock { dim: 2 };
        let out = run(&mut damped(update), problem, problem.start(), 1e-10, 100).unwrap();
        assert_eq!(out.stop, None);
        assert!(
            out.iterations() <= bound,
            "{update:?}: {}",
            out.iterations()
        );
        assert!((&out.x - &array![1.0, 1.0]).norm_inf() < 1e-10, "{}", out.x);
        for pair in out.values.windows(2) {
            assert!(pair[1] < pair[0], "{update:?}: accepted an increase");
        }
    }
}

#[test]
fn plain_newton_refuses_an_indefinite_hessian() {
    let problem = Counted::new(Saddle);
    let mut solver = newton(NewtonMode::Plain);
    let mut state = IterState::new(array![1.0, 1.0]);
    solver.init(&problem, &mut state).unwrap();
    let err = solver.next_iter(&problem, &mut state).unwrap_err();
    assert!(
        matches!(
            err,
            OptError::NotPositiveDefinite {
                what: "Hessian",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(state.x, array![1.0, 1.0]);
}

#[test]
fn modified_and_damped_newton_descend_where_the_hessian_is_indefinite() {
    // On the saddle both decrease f from (1, 1), where f = 0.
    let start = array![1.0, 1.0];
    let modified = run(
        &mut newton(NewtonMode::Modified),
        Saddle,
        start.clone(),
        0.0,
        3,
    )
    .unwrap();
    let damped_run = run(&mut damped(DampingUpdate::Nielsen), Saddle, start, 0.0, 3).unwrap();
    for out in [&modified, &damped_run] {
        assert_eq!(out.iterations(), 3);
        for pair in out.values.windows(2) {
            assert!(pair[1] < pair[0], "{:?}", out.values);
        }
    }
    // Modified Newton's first shift is -min H_ii + beta = 2.001 (Algorithm 3.3).
    let problem = Counted::new(Saddle);
    let mut solver = newton(NewtonMode::Modified);
    let mut state = IterState::new(array![1.0, 1.0]);
    solver.init(&problem, &mut state).unwrap();
    solver.next_iter(&problem, &mut state).unwrap();
    assert_eq!(metric(&problem, &solver, "tau"), 2.001);

    // On the double well from x = 0.1 (H_11 = -0.97) both reach a minimum,
    // (+-1, 0) with f = -1/4, while plain Newton refuses to start. Measured:
    // 5 iterations (modified) and 12 (damped, whose first steps are short
    // while eps is raised above the negative curvature) to ||g||_inf <= 1e-12.
    for (name, bound, out) in [
        (
            "modified",
            5,
            run(
                &mut newton(NewtonMode::Modified),
                DoubleWell,
                array![0.1, 1.0],
                1e-12,
                50,
            ),
        ),
        (
            "damped",
            12,
            run(
                &mut damped(DampingUpdate::Nielsen),
                DoubleWell,
                array![0.1, 1.0],
                1e-12,
                50,
            ),
        ),
    ] {
        let out = out.unwrap();
        assert_eq!(out.stop, None, "{name}");
        assert!(out.iterations() <= bound, "{name}: {}", out.iterations());
        assert!(
            (out.x[0].abs() - 1.0).abs() < 1e-12 && out.x[1].abs() < 1e-12,
            "{name}: {}",
            out.x
        );
    }
    assert!(matches!(
        run(
            &mut newton(NewtonMode::Plain),
            DoubleWell,
            array![0.1, 1.0],
            1e-12,
            50
        ),
        Err(OptError::NotPositiveDefinite { .. })
    ));
}

#[test]
fn dense_hessian_matches_the_analytic_one_and_is_symmetric() {
    let problem = Rosenbrock { dim: 4 };
    let x = array![0.5, -1.0, 2.0, 0.3];
    let mut hessian = Array2::zeros((4, 4));
    dense_hessian(&problem, &x, &mut hessian).unwrap();
    // Tridiagonal: H_ii = 1200 x_i^2 - 400 x_{i+1} + 2 (+ 200 for i > 0),
    // H_{i,i+1} = -400 x_i.
    let mut expected = Array2::zeros((4, 4));
    for i in 0..3 {
        expected[[i, i]] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        expected[[i + 1, i + 1]] += 200.0;
        expected[[i, i + 1]] = -400.0 * x[i];
        expected[[i + 1, i]] = -400.0 * x[i];
    }
    assert!((&hessian - &expected).iter().all(|d| d.abs() < 1e-12));

    // The central-difference default hvp is not exactly symmetric; the
    // assembled matrix is.
    struct NoHvp;
    impl Objective for NoHvp {
        type Vector = Array1<f64>;
        fn dim(&self) -> usize {
            3
        }
        fn value(&self, x: &Array1<f64>) -> Result<f64> {
            Ok(x[0] * x[1] * x[2] + x[0].exp() + x[1].sin() * x[2])
        }
        fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
            grad[0] = x[1] * x[2] + x[0].exp();
            grad[1] = x[0] * x[2] + x[1].cos() * x[2];
            grad[2] = x[0] * x[1] + x[1].sin();
            self.value(x)
        }
    }
    let mut hessian = Array2::zeros((3, 3));
    dense_hessian(&NoHvp, &array![0.3, 0.7, -1.1], &mut hessian).unwrap();
    assert_eq!(hessian, hessian.t());
    assert!(matches!(
        dense_hessian(&problem, &x, &mut Array2::zeros((4, 3))),
        Err(OptError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        dense_hessian(&problem, &array![1.0, 2.0], &mut Array2::zeros((4, 4))),
        Err(OptError::ShapeMismatch { .. })
    ));
}

#[test]
fn damped_newton_resumes_bit_identically() {
    let problem = Counted::new(Rosenbrock { dim: 2 });
    let mut solver = damped(DampingUpdate::Nielsen);
    let mut state = IterState::new(array![-1.2, 1.0]);
    solver.init(&problem, &mut state).unwrap();
    for _ in 0..4 {
        solver.next_iter(&problem, &mut state).unwrap();
    }
    let saved = solver.save_state();
    let mut resumed_state = IterState::new(state.x.clone());
    for _ in 0..4 {
        solver.next_iter(&problem, &mut state).unwrap();
    }
    let mut resumed = damped(DampingUpdate::Nielsen);
    resumed.init(&problem, &mut resumed_state).unwrap();
    resumed.restore_state(saved).unwrap();
    for _ in 0..4 {
        resumed.next_iter(&problem, &mut resumed_state).unwrap();
    }
    assert_eq!(resumed_state.x, state.x);
    for bad in [
        opt_second_order::newton::DampedNewtonState {
            damping: Some(-1.0),
            nu: 2.0,
        },
        opt_second_order::newton::DampedNewtonState {
            damping: None,
            nu: f64::NAN,
        },
    ] {
        assert!(matches!(
            resumed.restore_state(bad),
            Err(OptError::InvalidState(_))
        ));
    }
}

/// A problem whose gradient is NaN everywhere.
struct NanGradient;

impl Objective for NanGradient {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, _x: &Array1<f64>) -> Result<f64> {
        Ok(1.0)
    }
    fn value_and_grad(&self, _x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad.fill(f64::NAN);
        Ok(1.0)
    }
}

#[test]
fn bad_input_is_an_error() {
    // Hyperparameters.
    for config in [
        NewtonConfig {
            beta: 0.0,
            ..NewtonConfig::default()
        },
        NewtonConfig {
            beta: f64::NAN,
            ..NewtonConfig::default()
        },
        NewtonConfig {
            max_shifts: 0,
            ..NewtonConfig::default()
        },
    ] {
        assert!(matches!(
            Newton::<f64>::new(config),
            Err(OptError::InvalidHyperparameter { .. })
        ));
    }
    let mut bad_search = NewtonConfig::default();
    bad_search.line_search.c1 = 1.5;
    assert!(matches!(
        Newton::<f64>::new(bad_search),
        Err(OptError::InvalidHyperparameter { name: "c1", .. })
    ));
    let default = DampedNewtonConfig::default();
    for (config, name) in [
        (
            DampedNewtonConfig {
                initial_damping: 0.0,
                ..default
            },
            "initial_damping",
        ),
        (
            DampedNewtonConfig {
                initial_damping: f64::INFINITY,
                ..default
            },
            "initial_damping",
        ),
        (
            DampedNewtonConfig {
                min_damping: 0.0,
                ..default
            },
            "min_damping",
        ),
        (
            DampedNewtonConfig {
                eta: -0.1,
                ..default
            },
            "eta",
        ),
        (
            DampedNewtonConfig {
                eta: 0.25,
                ..default
            },
            "eta",
        ),
        (
            DampedNewtonConfig {
                max_trials: 0,
                ..default
            },
            "max_trials",
        ),
    ] {
        match DampedNewton::<f64>::new(config) {
            Err(OptError::InvalidHyperparameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: {other:?}"),
        }
    }

    // Wrong-length starting point, through the runner and through init.
    let problem = Counted::new(Rosenbrock { dim: 2 });
    let mut solver = newton(NewtonMode::Modified);
    let err = Runner::new()
        .max_iters(5)
        .run(&problem, &mut solver, array![1.0, 2.0, 3.0])
        .unwrap_err();
    assert!(matches!(err, OptError::ShapeMismatch { .. }), "{err:?}");
    let mut state = IterState::new(array![1.0]);
    assert!(matches!(
        solver.init(&problem, &mut state),
        Err(OptError::ShapeMismatch { .. })
    ));
    let mut damped_solver = damped(DampingUpdate::Nielsen);
    assert!(matches!(
        damped_solver.init(&problem, &mut state),
        Err(OptError::ShapeMismatch { .. })
    ));

    // next_iter before init.
    let mut state = IterState::new(array![1.0, 2.0]);
    assert!(matches!(
        newton(NewtonMode::Modified).next_iter(&problem, &mut state),
        Err(OptError::InvalidState(_))
    ));

    // A non-finite gradient: an error from next_iter, `diverged` from the runner.
    let problem = Counted::new(NanGradient);
    let solvers: Vec<Box<dyn Solver<NanGradient>>> = vec![
        Box::new(newton(NewtonMode::Modified)),
        Box::new(damped(DampingUpdate::Nielsen)),
    ];
    for mut solver in solvers {
        let mut state = IterState::new(array![0.0, 0.0]);
        solver.init(&problem, &mut state).unwrap();
        assert!(matches!(
            solver.next_iter(&problem, &mut state),
            Err(OptError::NonFinite {
                what: "gradient",
                ..
            })
        ));
        let report = Runner::new()
            .max_iters(5)
            .run(&problem, solver.as_mut(), array![0.0, 0.0])
            .unwrap();
        assert_eq!(report.stop_reason, StopReason::Diverged);
    }
}

/// `f(x) = sum_i (i + 1) (x_i - 1)^2 / 2` in `f32`.
struct ScaledSquares;

impl Objective for ScaledSquares {
    type Vector = Array1<f32>;
    fn dim(&self) -> usize {
        3
    }
    fn value(&self, x: &Array1<f32>) -> Result<f32> {
        Ok(x.iter()
            .enumerate()
            .map(|(i, v)| 0.5 * (i as f32 + 1.0) * (v - 1.0) * (v - 1.0))
            .sum())
    }
    fn value_and_grad(&self, x: &Array1<f32>, grad: &mut Array1<f32>) -> Result<f32> {
        for (i, (g, v)) in grad.iter_mut().zip(x).enumerate() {
            *g = (i as f32 + 1.0) * (v - 1.0);
        }
        self.value(x)
    }
}

#[test]
fn works_in_f32_with_the_default_hessian_vector_product() {
    let problem = Counted::new(ScaledSquares);
    let report = Runner::new()
        .max_iters(10)
        .gtol(1e-4)
        .unwrap()
        .run(
            &problem,
            &mut Newton::<f32>::new(NewtonConfig::default()).unwrap(),
            Array1::zeros(3),
        )
        .unwrap();
    assert!(report.converged, "{report:?}");
    assert!(
        report.x.iter().all(|v| (v - 1.0).abs() < 1e-3),
        "{}",
        report.x
    );
    let report = Runner::new()
        .max_iters(20)
        .gtol(1e-4)
        .unwrap()
        .run(
            &problem,
            &mut DampedNewton::<f32>::new(DampedNewtonConfig::default()).unwrap(),
            Array1::zeros(3),
        )
        .unwrap();
    assert!(report.converged, "{report:?}");
}

// ---------------------------------------------------------------- Newton-CG

fn newton_cg(config: NewtonCgConfig) -> NewtonCg<Array1<f64>> {
    NewtonCg::new(config).unwrap()
}

fn armijo() -> NewtonCgLineSearch {
    NewtonCgLineSearch::Armijo(BacktrackingArmijo::default())
}

#[test]
fn newton_cg_with_a_tiny_forcing_term_solves_a_quadratic_in_one_iteration() {
    let q = DenseQuadratic::with_condition(20, 100.0, 5);
    let expected = q.minimizer().unwrap();
    let problem = Counted::new(q);
    // In floating point CG needs more than n = 20 products here (rounding
    // loses the finite termination: measured 26 at condition 100), so the
    // inner limit is raised.
    let mut solver = newton_cg(NewtonCgConfig {
        forcing: Forcing::Constant(1e-12),
        max_cg_iters: Some(60),
        ..NewtonCgConfig::default()
    });
    let mut state = IterState::new(Array1::zeros(20));
    solver.init(&problem, &mut state).unwrap();
    assert_eq!(solver.next_iter(&problem, &mut state).unwrap(), None);
    assert!(state.grad.norm_inf() <= 1e-10, "{}", state.grad.norm_inf());
    assert!((&state.x - &expected).norm_inf() <= 1e-10);
    assert_eq!(metric(&problem, &solver, "step"), 1.0);
    // One product per CG iteration (the zero start needs none for r_0).
    let cg_iterations = metric(&problem, &solver, "cg_iterations");
    assert!(cg_iterations <= 30.0, "{cg_iterations}");
    assert_eq!(problem.evals().hvp as f64, cg_iterations);
}

#[test]
fn newton_cg_step_after_one_cg_iteration_is_the_cauchy_point() {
    // f = (x^2 + 2 y^2)/2 + x + y from 0: g = (1, 1), and one CG step gives
    // p = -(g'g / g'Ag) g = -(2/3) (1, 1), with residual
    // ||(1/3, -1/3)|| = ||g|| / 3 <= 0.5 ||g||, so CG stops there; p is the
    // minimizer along -g, so both searches accept the unit step.
    for line_search in [armijo(), NewtonCgLineSearch::default()] {
        let a = Array2::from_diag(&array![1.0, 2.0]);
        let problem = Counted::new(DenseQuadratic::new(a, array![-1.0, -1.0]).unwrap());
        let mut solver = newton_cg(NewtonCgConfig {
            forcing: Forcing::Constant(0.5),
            line_search,
            ..NewtonCgConfig::default()
        });
        let mut state = IterState::new(Array1::zeros(2));
        solver.init(&problem, &mut state).unwrap();
        solver.next_iter(&problem, &mut state).unwrap();
        assert_eq!(metric(&problem, &solver, "cg_iterations"), 1.0);
        assert!(
            (&state.x - &array![-2.0 / 3.0, -2.0 / 3.0]).norm_inf() < 1e-15,
            "{}",
            state.x
        );
    }
}

#[test]
fn newton_cg_converges_on_rosenbrock() {
    // Measured from the standard start to ||g||_inf <= 1e-8 (default
    // superlinear forcing): 2-D, 77 iterations with Wolfe and 78 with
    // Armijo; chained, 100-D, 292 (Wolfe) and 499 (Armijo), both ending at
    // the global minimizer (all ones). SciPy's newton-cg: 86 and 228.
    for (dim, line_search, bound) in [
        (2, NewtonCgLineSearch::default(), 77),
        (2, armijo(), 78),
        (100, NewtonCgLineSearch::default(), 292),
        (100, armijo(), 499),
    ] {
        let problem = Rosenbrock { dim };
        let mut solver = newton_cg(NewtonCgConfig {
            line_search,
            ..NewtonCgConfig::default()
        });
        let out = run(&mut solver, problem, problem.start(), 1e-8, 1000).unwrap();
        assert_eq!(out.stop, None, "{dim}");
        assert!(
            out.iterations() <= bound,
            "{dim} {line_search:?}: {}",
            out.iterations()
        );
        assert!(
            *out.values.last().unwrap() < 1e-15,
            "{dim}: {:?}",
            out.values.last()
        );
        assert!((out.x.mapv(|v| v - 1.0)).norm_inf() < 1e-7, "{dim}");
        // Superlinear at the end: with eta_k = sqrt(||g_k||),
        // ||g_{k+1}|| <~ ||g_k||^1.5 (measured constants 0.1-5 over the last
        // two steps), where a linear rate would keep a fixed ratio.
        let tail = &out.grad_inf[out.grad_inf.len() - 3..];
        for pair in tail.windows(2) {
            assert!(pair[1] <= 10.0 * pair[0].powf(1.5), "{dim}: {tail:?}");
        }
    }
}

#[test]
fn newton_cg_takes_steepest_descent_on_negative_curvature_at_the_first_cg_step() {
    // Saddle at (1, 2): g = (2, -4), d = -g has d'Hd = 8 - 32 < 0, so
    // p = -g, and Armijo accepts the unit step: x_1 = (-1, 6).
    let problem = Counted::new(Saddle);
    let mut solver = newton_cg(NewtonCgConfig {
        line_search: armijo(),
        ..NewtonCgConfig::default()
    });
    let mut state = IterState::new(array![1.0, 2.0]);
    solver.init(&problem, &mut state).unwrap();
    assert_eq!(solver.next_iter(&problem, &mut state).unwrap(), None);
    assert_eq!(metric(&problem, &solver, "negative_curvature"), 1.0);
    assert_eq!(metric(&problem, &solver, "cg_iterations"), 0.0);
    assert_eq!(state.x, array![-1.0, 6.0]);
    assert_eq!(state.f, 1.0 - 36.0);
}

#[test]
fn newton_cg_keeps_the_last_cg_iterate_on_later_negative_curvature() {
    // f = (x^2 - y^2)/2 + x + 0.1 y from 0: g = (1, 0.1), H = diag(1, -1).
    // The first CG direction -g has curvature 0.99 > 0 and gives
    // z_1 = -(1.01 / 0.99) g; the second has negative curvature, so
    // p = z_1, the minimizer along -g (unit step accepted).
    let a = Array2::from_diag(&array![1.0, -1.0]);
    let problem = Counted::new(DenseQuadratic::new(a, array![-1.0, -0.1]).unwrap());
    // (With the default eta = 0.5 the first iterate, with ||r|| = 0.2 ||g||,
    // would already satisfy the forcing test.)
    let mut solver = newton_cg(NewtonCgConfig {
        forcing: Forcing::Constant(1e-6),
        ..NewtonCgConfig::default()
    });
    let mut state = IterState::new(Array1::zeros(2));
    solver.init(&problem, &mut state).unwrap();
    assert_eq!(solver.next_iter(&problem, &mut state).unwrap(), None);
    assert_eq!(metric(&problem, &solver, "negative_curvature"), 1.0);
    assert_eq!(metric(&problem, &solver, "cg_iterations"), 1.0);
    let expected = array![-1.0, -0.1] * (1.01 / 0.99);
    assert!((&state.x - &expected).norm_inf() < 1e-15, "{}", state.x);
}

#[test]
fn newton_cg_escapes_an_indefinite_region() {
    // Double well from x = 0.1 (H_11 < 0): reaches a minimizer (+-1, 0).
    // Measured: 6 iterations (Wolfe) and 8 (Armijo) to ||g||_inf <= 1e-10.
    for (line_search, bound) in [(NewtonCgLineSearch::default(), 6), (armijo(), 8)] {
        let mut solver = newton_cg(NewtonCgConfig {
            line_search,
            ..NewtonCgConfig::default()
        });
        let out = run(&mut solver, DoubleWell, array![0.1, 1.0], 1e-10, 50).unwrap();
        assert_eq!(out.stop, None);
        assert!(
            (out.x[0].abs() - 1.0).abs() < 1e-9 && out.x[1].abs() < 1e-9,
            "{}",
            out.x
        );
        assert!(
            out.iterations() <= bound,
            "{line_search:?}: {}",
            out.iterations()
        );
    }
}

#[test]
fn newton_cg_bad_input_is_an_error() {
    for (config, name) in [
        (
            NewtonCgConfig {
                forcing: Forcing::Constant(0.0),
                ..NewtonCgConfig::default()
            },
            "eta",
        ),
        (
            NewtonCgConfig {
                forcing: Forcing::Constant(1.0),
                ..NewtonCgConfig::default()
            },
            "eta",
        ),
        (
            NewtonCgConfig {
                forcing: Forcing::Constant(f64::NAN),
                ..NewtonCgConfig::default()
            },
            "eta",
        ),
        (
            NewtonCgConfig {
                max_cg_iters: Some(0),
                ..NewtonCgConfig::default()
            },
            "max_cg_iters",
        ),
        (
            NewtonCgConfig {
                line_search: NewtonCgLineSearch::Armijo(BacktrackingArmijo {
                    shrink: 1.0,
                    ..BacktrackingArmijo::default()
                }),
                ..NewtonCgConfig::default()
            },
            "shrink",
        ),
        (
            NewtonCgConfig {
                line_search: NewtonCgLineSearch::Wolfe(opt_core::line_search::MoreThuente {
                    c2: 1e-5,
                    ..Default::default()
                }),
                ..NewtonCgConfig::default()
            },
            "c2",
        ),
    ] {
        match NewtonCg::<Array1<f64>>::new(config) {
            Err(OptError::InvalidHyperparameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: {other:?}"),
        }
    }

    let problem = Counted::new(Rosenbrock { dim: 3 });
    let mut solver = newton_cg(NewtonCgConfig::default());
    let err = Runner::new()
        .max_iters(3)
        .run(&problem, &mut solver, array![1.0, 2.0])
        .unwrap_err();
    assert!(matches!(err, OptError::ShapeMismatch { .. }), "{err:?}");
    let mut state = IterState::new(array![1.0, 2.0, 3.0]);
    assert!(matches!(
        newton_cg(NewtonCgConfig::default()).next_iter(&problem, &mut state),
        Err(OptError::InvalidState(_))
    ));

    let problem = Counted::new(NanGradient);
    let mut state = IterState::new(array![0.0, 0.0]);
    solver.init(&problem, &mut state).unwrap();
    assert!(matches!(
        solver.next_iter(&problem, &mut state),
        Err(OptError::NonFinite {
            what: "gradient",
            ..
        })
    ));
    let report = Runner::new()
        .max_iters(3)
        .run(&problem, &mut solver, array![0.0, 0.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::Diverged);
}

#[test]
fn newton_cg_works_in_f32() {
    let problem = Counted::new(ScaledSquares);
    let report = Runner::new()
        .max_iters(20)
        .gtol(1e-4)
        .unwrap()
        .run(
            &problem,
            &mut NewtonCg::<Array1<f32>>::new(NewtonCgConfig::default()).unwrap(),
            Array1::zeros(3),
        )
        .unwrap();
    assert!(report.converged, "{report:?}");
    assert!(report.evals.hvp > 0);
}
