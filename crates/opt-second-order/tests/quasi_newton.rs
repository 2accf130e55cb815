//! BFGS and L-BFGS: closed-form properties on quadratics, agreement of the
//! two methods where theory says they agree, convergence on Rosenbrock with
//! measured bounds, and bad input.

use std::cell::Cell;

use ndarray::{Array1, Array2};
use opt_core::line_search::{ExactQuadratic, MoreThuente};
use opt_core::{
    Counted, IterState, Objective, OptError, Result, Runner, Solver, StopReason, VectorSpace,
};
use opt_second_order::bfgs::{Bfgs, QuasiNewtonLineSearch};
use opt_second_order::lbfgs::{Lbfgs, Scaling};
use opt_second_order::linalg;
use opt_second_order::testing::{DenseQuadratic, Rosenbrock};

fn exact() -> QuasiNewtonLineSearch {
    QuasiNewtonLineSearch::Exact(ExactQuadratic)
}

fn relative_distance(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    (a - b).norm2() / b.norm2().max(1.0)
}

/// The iterates of `iterations` steps of `solver` from `x0` (fewer when the
/// solver stops on its own), `x_0` first.
fn iterates<P, S>(
    problem: &Counted<P>,
    solver: &mut S,
    x0: Array1<f64>,
    iterations: usize,
) -> Vec<Array1<f64>>
where
    P: Objective<Vector = Array1<f64>>,
    S: Solver<P>,
{
    let mut state = IterState::new(x0);
    solver.init(problem, &mut state).unwrap();
    let mut path = vec![state.x.clone()];
    for _ in 0..iterations {
        if solver.next_iter(problem, &mut state).unwrap().is_some() {
            break;
        }
        path.push(state.x.clone());
    }
    path
}

// ---------------------------------------------------------------- closed form

/// With exact line searches on a strictly convex quadratic BFGS ends at the
/// minimizer in `n` steps and `H_n = A^{-1}` (Nocedal & Wright 2006,
/// Theorem 6.4 and the remark after it: `H_n y_j = s_j` for all `j < n`).
#[test]
fn bfgs_with_exact_steps_recovers_the_inverse_hessian_in_n_steps() {
    for (n, seed) in [(6, 1), (7, 2), (8, 3)] {
        let quadratic = DenseQuadratic::with_condition(n, 100.0, seed);
        let factor = linalg::cholesky(quadratic.matrix()).unwrap().unwrap();
        let mut inverse = Array2::<f64>::eye(n);
        for mut column in inverse.columns_mut() {
            let solved = factor.solve(&column.to_owned());
            column.assign(&solved);
        }
        let minimizer = quadratic.minimizer().unwrap();
        let problem = Counted::new(quadratic);
        let mut solver = Bfgs::with_line_search(exact()).unwrap();
        let mut state = IterState::new(Array1::zeros(n));
        solver.init(&problem, &mut state).unwrap();
        let g0 = state.grad.norm2();
        for k in 1..=n {
            assert_eq!(solver.next_iter(&problem, &mut state).unwrap(), None);
            let g = state.grad.norm2();
            if k < n {
                assert!(g > 1e-6 * g0, "n = {n}: |g_{k}| = {g:e} already small");
            }
        }
        let g = state.grad.norm2();
        assert!(g <= 1e-11 * g0, "n = {n}: |g_n| / |g_0| = {:e}", g / g0);
        assert!(relative_distance(&state.x, &minimizer) <= 1e-11);
        let h = solver.inverse_hessian();
        let error = (h - &inverse).iter().map(|v| v * v).sum::<f64>().sqrt()
            / inverse.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(
            error <= 1e-9,
            "n = {n}: ||H_n - A^-1|| / ||A^-1|| = {error:e}"
        );
        assert_eq!(solver.skipped_updates(), 0);
    }
}

/// The runner stops BFGS with exact steps after exactly `n` iterations.
#[test]
fn bfgs_with_exact_steps_terminates_in_n_iterations() {
    let n = 7;
    // Rounding spoils finite termination as the condition number grows
    // (after 7 steps |g|_inf is 2e-12 at condition 100, 3e-7 at 1000;
    // a textbook numpy BFGS does the same), so the matrix is moderate.
    let problem = Counted::new(DenseQuadratic::with_condition(n, 100.0, 11));
    let mut solver = Bfgs::with_line_search(exact()).unwrap();
    let mut runner = Runner::new().gtol(1e-9).unwrap().max_iters(3 * n);
    let report = runner.run(&problem, &mut solver, Array1::zeros(n)).unwrap();
    assert_eq!(
        report.stop_reason,
        StopReason::GradientTolerance,
        "{report:?}"
    );
    assert_eq!(report.iterations, n);
}

/// With exact line searches on a quadratic, L-BFGS with any memory
/// `m >= 1` and either scaling produces the conjugate-gradient iterates,
/// hence those of BFGS (Nocedal & Wright 2006, section 7.2 and Theorem
/// 5.3): the directions differ only by positive factors that the exact step
/// removes.
#[test]
fn lbfgs_with_exact_steps_follows_bfgs_for_any_memory() {
    let n = 8;
    let problem = Counted::new(DenseQuadratic::with_condition(n, 50.0, 5));
    let x0 = Array1::from_elem(n, 0.5);
    let reference = iterates(
        &problem,
        &mut Bfgs::with_line_search(exact()).unwrap(),
        x0.clone(),
        n,
    );
    assert_eq!(reference.len(), n + 1);
    for m in [1, 3, 8] {
        for scaling in [Scaling::EachIteration, Scaling::FirstPair] {
            let mut solver = Lbfgs::new(m)
                .unwrap()
                .with_line_search(exact())
                .unwrap()
                .with_scaling(scaling);
            let path = iterates(&problem, &mut solver, x0.clone(), n);
            assert_eq!(path.len(), n + 1, "m = {m}, {scaling:?}");
            for (k, (a, b)) in path.iter().zip(&reference).enumerate() {
                let d = relative_distance(a, b);
                assert!(d <= 1e-9, "m = {m}, {scaling:?}: x_{k} differs by {d:e}");
            }
        }
    }
}

// ---------------------------------------------------------------- L-BFGS = BFGS

/// With inexact (strong Wolfe) steps the two methods agree only when they
/// use the same initial matrix: BFGS scales `H_0` once, by the first pair
/// (eq. 6.20), so L-BFGS must use `Scaling::FirstPair`, and keep every pair
/// (`m` at least the number of iterations compared). With L-BFGS's usual
/// `gamma_k` (eq. 7.20) the iterates differ, which the test checks too, so
/// that the agreement is not an accident of the problem.
fn assert_lbfgs_matches_bfgs(
    problem: &Counted<impl Objective<Vector = Array1<f64>>>,
    x0: Array1<f64>,
    iterations: usize,
) {
    let reference = iterates(problem, &mut Bfgs::new(), x0.clone(), iterations);
    assert!(
        reference.len() > iterations / 2,
        "BFGS stopped after {} steps",
        reference.len()
    );
    let mut first_pair = Lbfgs::new(iterations + 1)
        .unwrap()
        .with_scaling(Scaling::FirstPair);
    let path = iterates(problem, &mut first_pair, x0.clone(), iterations);
    assert_eq!(path.len(), reference.len());
    for (k, (a, b)) in path.iter().zip(&reference).enumerate() {
        let d = relative_distance(a, b);
        assert!(d <= 1e-10, "x_{k} differs by {d:e}");
    }
    let mut each_iteration = Lbfgs::new(iterations + 1).unwrap();
    let path = iterates(problem, &mut each_iteration, x0, iterations);
    let largest = path
        .iter()
        .zip(&reference)
        .map(|(a, b)| relative_distance(a, b))
        .fold(0.0, f64::max);
    assert!(
        largest > 1e-4,
        "gamma_k scaling should give other iterates ({largest:e})"
    );
}

#[test]
fn lbfgs_matches_bfgs_on_a_quadratic() {
    let problem = Counted::new(DenseQuadratic::with_condition(8, 1e3, 7));
    assert_lbfgs_matches_bfgs(&problem, Array1::from_elem(8, 1.0), 12);
}

#[test]
fn lbfgs_matches_bfgs_on_rosenbrock() {
    let rosenbrock = Rosenbrock { dim: 4 };
    let problem = Counted::new(rosenbrock);
    assert_lbfgs_matches_bfgs(&problem, rosenbrock.start(), 30);
}

// ---------------------------------------------------------------- convergence

/// Runs to `||g||_inf <= 1e-6` and returns (iterations, evaluations).
fn solve<S: Solver<Rosenbrock>>(dim: usize, solver: &mut S) -> (usize, u64) {
    let problem = Counted::new(Rosenbrock { dim });
    let mut runner = Runner::new().gtol(1e-6).unwrap().max_iters(100_000);
    let report = runner
        .run(&problem, solver, problem.inner().start())
        .unwrap();
    assert_eq!(
        report.stop_reason,
        StopReason::GradientTolerance,
        "dim {dim}"
    );
    assert!(report.grad_inf <= 1e-6);
    assert!(report.f <= 1e-12, "dim {dim}: f = {:e}", report.f);
    assert!((&report.x - 1.0).norm_inf() <= 1e-5);
    assert_eq!(report.evals.f, report.evals.grad);
    (report.iterations, report.evals.f)
}

/// Bounds a little above the measured counts (iterations, evaluations
/// including the start). Measured with m = 10, strong Wolfe `c1 = 1e-4`,
/// `c2 = 0.9`: dim 2: 37, 45 (the same as SciPy 1.17's L-BFGS-B with
/// `maxcor = 10`, `ftol = 0`, to the digits of the final `f`); dim 100:
/// 528, 617 (SciPy: 527, 628). L-BFGS with BFGS's scaling
/// (`Scaling::FirstPair`) needs 708, 736 at dim 100, so the bounds also
/// tell the two scalings apart.
#[test]
fn lbfgs_converges_on_rosenbrock() {
    for (dim, max_iterations, max_evaluations) in [(2, 40, 48), (100, 560, 650)] {
        let (iterations, evaluations) = solve(dim, &mut Lbfgs::new(10).unwrap());
        assert!(
            iterations <= max_iterations && evaluations <= max_evaluations,
            "dim {dim}: {iterations} iterations, {evaluations} evaluations"
        );
    }
}

/// As above at dim 1000: measured 4950 iterations, 5769 evaluations (SciPy:
/// 4953, 5807). About 5 s in a debug build (most of it the problem's
/// gradient), so it runs in release builds only: `cargo test --release`.
#[test]
#[cfg_attr(debug_assertions, ignore = "slow in a debug build; run with --release")]
fn lbfgs_converges_on_rosenbrock_dim_1000() {
    let (iterations, evaluations) = solve(1000, &mut Lbfgs::new(10).unwrap());
    assert!(
        iterations <= 5200 && evaluations <= 6100,
        "{iterations} iterations, {evaluations} evaluations"
    );
}

/// Measured (strong Wolfe `c1 = 1e-4`, `c2 = 0.9`): dim 2: 39 iterations,
/// 46 evaluations; dim 100: 595, 664 (SciPy 1.17's BFGS, with an unscaled
/// `H_0` and another first step: 542, 648).
#[test]
fn bfgs_converges_on_rosenbrock() {
    for (dim, max_iterations, max_evaluations) in [(2, 42, 50), (100, 640, 700)] {
        let (iterations, evaluations) = solve(dim, &mut Bfgs::new());
        assert!(
            iterations <= max_iterations && evaluations <= max_evaluations,
            "dim {dim}: {iterations} iterations, {evaluations} evaluations"
        );
    }
}

/// `f(x) = 1/2 sum_i d_i x_i^2 - sum_i x_i` in `f32`, `d_i = 1 .. 20`.
#[derive(Debug)]
struct DiagonalF32;

impl Objective for DiagonalF32 {
    type Vector = Array1<f32>;
    fn dim(&self) -> usize {
        20
    }
    fn value(&self, x: &Array1<f32>) -> Result<f32> {
        Ok(x.iter()
            .enumerate()
            .map(|(i, &v)| 0.5 * (i as f32 + 1.0) * v * v - v)
            .sum())
    }
    fn value_and_grad(&self, x: &Array1<f32>, grad: &mut Array1<f32>) -> Result<f32> {
        for (i, (g, &v)) in grad.iter_mut().zip(x).enumerate() {
            *g = (i as f32 + 1.0) * v - 1.0;
        }
        self.value(x)
    }
}

#[test]
fn both_work_in_f32() {
    let problem = Counted::new(DiagonalF32);
    let solution = Array1::from_shape_fn(20, |i| 1.0 / (i as f32 + 1.0));
    let mut runner = Runner::new().gtol(1e-5).unwrap().max_iters(60);
    let report = runner
        .run(&problem, &mut Lbfgs::new(5).unwrap(), Array1::zeros(20))
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::GradientTolerance);
    assert!((&report.x - &solution).norm_inf() <= 1e-5);
    let report = runner
        .run(&problem, &mut Bfgs::<f32>::new(), Array1::zeros(20))
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::GradientTolerance);
    assert!((&report.x - &solution).norm_inf() <= 1e-5);
}

// ---------------------------------------------------------------- bad input

#[test]
fn invalid_hyperparameters_are_rejected() {
    match Lbfgs::<Array1<f64>>::new(0) {
        Err(OptError::InvalidHyperparameter { name: "m", .. }) => {}
        other => panic!("m = 0 accepted: {other:?}"),
    }
    assert!(matches!(
        QuasiNewtonLineSearch::strong_wolfe(0.5, 0.1),
        Err(OptError::InvalidHyperparameter { name: "c2", .. })
    ));
    let bad = QuasiNewtonLineSearch::StrongWolfe(MoreThuente {
        c1: 0.0,
        ..MoreThuente::default()
    });
    assert!(matches!(
        Bfgs::<f64>::with_line_search(bad),
        Err(OptError::InvalidHyperparameter { name: "c1", .. })
    ));
    assert!(matches!(
        Lbfgs::<Array1<f64>>::new(3).unwrap().with_line_search(bad),
        Err(OptError::InvalidHyperparameter { name: "c1", .. })
    ));
}

#[test]
fn a_starting_point_of_the_wrong_length_is_a_shape_mismatch() {
    let problem = Counted::new(Rosenbrock { dim: 4 });
    let x0 = Array1::zeros(3);
    let mut runner = Runner::new().max_iters(5);
    assert!(matches!(
        runner.run(&problem, &mut Lbfgs::new(3).unwrap(), x0.clone()),
        Err(OptError::ShapeMismatch {
            expected: 4,
            got: 3,
            ..
        })
    ));
    assert!(matches!(
        runner.run(&problem, &mut Bfgs::new(), x0.clone()),
        Err(OptError::ShapeMismatch {
            expected: 4,
            got: 3,
            ..
        })
    ));
    // Called directly, init checks too.
    let mut state = IterState::new(x0);
    assert!(matches!(
        Solver::init(&mut Lbfgs::new(3).unwrap(), &problem, &mut state),
        Err(OptError::ShapeMismatch { .. })
    ));
    assert_eq!(problem.evals().f, 0);
}

/// A quadratic whose gradient is NaN in the half space `x_0 > 2`, or everywhere.
#[derive(Debug)]
struct NanGradient {
    everywhere: bool,
}

impl Objective for NanGradient {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(0.5 * (x[0] - 3.0).powi(2) + 0.5 * x[1] * x[1])
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad[0] = x[0] - 3.0;
        grad[1] = x[1];
        if self.everywhere || x[0] > 2.0 {
            grad[0] = f64::NAN;
        }
        self.value(x)
    }
}

#[test]
fn a_non_finite_gradient_stops_the_run_without_touching_the_iterate() {
    let problem = Counted::new(NanGradient { everywhere: true });
    let x0 = ndarray::array![0.0, 1.0];
    let mut runner = Runner::new().max_iters(10);
    for report in [
        runner
            .run(&problem, &mut Lbfgs::new(3).unwrap(), x0.clone())
            .unwrap(),
        runner.run(&problem, &mut Bfgs::new(), x0.clone()).unwrap(),
    ] {
        assert_eq!(report.stop_reason, StopReason::Diverged);
        assert_eq!(report.x, x0);
        assert_eq!(report.iterations, 0);
    }
    // A solver driven by hand refuses the state with a typed error.
    let mut state = IterState::new(x0.clone());
    let mut solver = Lbfgs::new(3).unwrap();
    solver.init(&problem, &mut state).unwrap();
    assert!(matches!(
        solver.next_iter(&problem, &mut state),
        Err(OptError::NonFinite { .. })
    ));
    assert_eq!(state.x, x0);
    let mut solver = Bfgs::new();
    solver.init(&problem, &mut state).unwrap();
    assert!(matches!(
        solver.next_iter(&problem, &mut state),
        Err(OptError::NonFinite { .. })
    ));
}

/// Trial points where the gradient is NaN count as too long: the search
/// backs off, so the iterates stay where everything is finite while `f`
/// decreases (the minimizer, `x_0 = 3`, lies in the NaN region).
#[test]
fn trial_points_with_a_nan_gradient_are_avoided() {
    let problem = Counted::new(NanGradient { everywhere: false });
    let x0 = ndarray::array![0.0, 1.0];
    let f0 = problem.inner().value(&x0).unwrap();
    let mut runner = Runner::new().max_iters(50);
    for report in [
        runner
            .run(&problem, &mut Lbfgs::new(3).unwrap(), x0.clone())
            .unwrap(),
        runner.run(&problem, &mut Bfgs::new(), x0.clone()).unwrap(),
    ] {
        assert!(report.x[0] <= 2.0, "{:?}", report.x);
        assert!(report.f.is_finite() && report.f < 0.6 * f0, "{report:?}");
        assert_ne!(report.stop_reason, StopReason::Diverged);
    }
}

/// `f = 1/2 sum_i (i + 1)^2 x_i^2` whose gradient is right for the first `honest` calls
/// and then points uphill (`-x`): a line search along the solver's
/// direction then fails, the retry along `-g` fails too.
#[derive(Debug)]
struct TurnsDishonest {
    honest: usize,
    calls: Cell<usize>,
}

impl Objective for TurnsDishonest {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        3
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(0.5 * (x[0] * x[0] + 4.0 * x[1] * x[1] + 9.0 * x[2] * x[2]))
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        self.calls.set(self.calls.get() + 1);
        let sign = if self.calls.get() <= self.honest {
            1.0
        } else {
            -1.0
        };
        grad.assign(&(ndarray::array![x[0], 4.0 * x[1], 9.0 * x[2]] * sign));
        self.value(x)
    }
}

// `Counted` is `Sync`-agnostic here: the test problem is used on one thread.
#[test]
fn a_failed_line_search_resets_once_then_stops() {
    let x0 = ndarray::array![1.0, -2.0, 0.5];
    let make = || {
        Counted::new(TurnsDishonest {
            honest: 3,
            calls: Cell::new(0),
        })
    };
    let problem = make();
    let mut lbfgs = Lbfgs::new(5).unwrap();
    let mut runner = Runner::new().max_iters(20);
    let report = runner.run(&problem, &mut lbfgs, x0.clone()).unwrap();
    assert_eq!(report.stop_reason, StopReason::LineSearchFailed);
    assert_eq!(lbfgs.resets(), 1);
    assert_eq!(lbfgs.stored_pairs(), 0);
    assert!(
        report.f < 0.5 * 9.0 * x0.dot(&x0),
        "no progress before the failure"
    );

    let problem = make();
    let mut bfgs = Bfgs::new();
    let report = runner.run(&problem, &mut bfgs, x0.clone()).unwrap();
    assert_eq!(report.stop_reason, StopReason::LineSearchFailed);
    assert_eq!(bfgs.resets(), 1);
    assert_eq!(bfgs.inverse_hessian(), &Array2::<f64>::eye(3));
}
