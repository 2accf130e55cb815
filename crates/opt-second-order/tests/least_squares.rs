//! Gauss-Newton, Levenberg-Marquardt (dense, geodesic, matrix-free) and the
//! standard errors of a fit: one step on linear least squares, recovery of
//! a synthetic exponential model, Rosenbrock as residuals, the trust-region
//! step's defining equations, evaluation counts, and bad input.

use ndarray::{Array1, Array2, array};
use opt_core::{
    Counted, Evals, IterState, LeastSquares, Objective, OptError, Result, Runner, Solver,
    StopReason, check_len,
};
use opt_second_order::gauss_newton::{GaussNewton, GaussNewtonConfig};
use opt_second_order::levenberg_marquardt::{
    LevenbergMarquardt, LevenbergMarquardtConfig, MatrixFreeConfig, MatrixFreeLevenbergMarquardt,
    Scaling, Termination, fit_summary,
};
use opt_second_order::linalg;

// ---------------------------------------------------------------- problems

/// `f = c ||r||^2`, `grad = 2c J'r`, for the test problems' `Objective` impls.
fn value_of<L: LeastSquares<Scalar = f64>>(problem: &L, x: &Array1<f64>) -> Result<f64> {
    let mut r = Array1::zeros(problem.num_residuals());
    problem.residuals(x, &mut r)?;
    Ok(problem.value_scale() * r.dot(&r))
}

fn value_and_grad_of<L: LeastSquares<Scalar = f64>>(
    problem: &L,
    x: &Array1<f64>,
    grad: &mut Array1<f64>,
) -> Result<f64> {
    let mut r = Array1::zeros(problem.num_residuals());
    problem.residuals(x, &mut r)?;
    let mut j = Array2::zeros((problem.num_residuals(), problem.num_parameters()));
    problem.jacobian(x, &mut j)?;
    let c = problem.value_scale();
    grad.assign(&(j.t().dot(&r) * (2.0 * c)));
    Ok(c * r.dot(&r))
}

/// `r(x) = A x - b`.
#[derive(Debug, Clone)]
struct Linear {
    a: Array2<f64>,
    b: Array1<f64>,
}

impl Linear {
    fn example() -> Self {
        Self {
            a: array![
                [1.0, 2.0, 0.5],
                [3.0, -1.0, 2.0],
                [0.5, 4.0, -3.0],
                [2.0, 0.0, 1.0],
                [-1.0, 1.5, 0.25],
                [0.3, 0.7, 1.1]
            ],
            b: array![1.0, -2.0, 0.5, 3.0, 0.0, 2.0],
        }
    }

    /// `argmin ||Ax - b||` from the normal equations (fine for this
    /// well-conditioned `A`; the methods themselves never form `A'A`).
    fn solution(&self) -> Array1<f64> {
        let normal = self.a.t().dot(&self.a);
        linalg::cholesky(&normal)
            .unwrap()
            .unwrap()
            .solve(&self.a.t().dot(&self.b))
    }
}

impl LeastSquares for Linear {
    type Scalar = f64;
    fn num_parameters(&self) -> usize {
        self.a.ncols()
    }
    fn num_residuals(&self) -> usize {
        self.a.nrows()
    }
    fn residuals(&self, x: &Array1<f64>, r: &mut Array1<f64>) -> Result<()> {
        check_len("parameters", self.a.ncols(), x.len())?;
        r.assign(&(self.a.dot(x) - &self.b));
        Ok(())
    }
    fn jacobian(&self, x: &Array1<f64>, j: &mut Array2<f64>) -> Result<()> {
        check_len("parameters", self.a.ncols(), x.len())?;
        j.assign(&self.a);
        Ok(())
    }
}

impl Objective for Linear {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        self.a.ncols()
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        value_of(self, x)
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        value_and_grad_of(self, x, grad)
    }
}

/// `y = a exp(-b t) + c` sampled at `t_i = 0.25 i`, `i < 40`, with a fixed
/// deterministic perturbation of amplitude `noise`.
#[derive(Debug, Clone)]
struct Exponential {
    t: Vec<f64>,
    y: Vec<f64>,
    /// When set, `jacobian()` refuses (to prove the matrix-free method
    /// uses only `J v` and `J'u`).
    products_only: bool,
}

const TRUE_PARAMETERS: [f64; 3] = [2.5, 1.3, 0.5];

impl Exponential {
    fn new(noise: f64) -> Self {
        let t: Vec<f64> = (0..40).map(|i| 0.25 * i as f64).collect();
        let [a, b, c] = TRUE_PARAMETERS;
        let y = t
            .iter()
            .enumerate()
            .map(|(i, &t)| a * (-b * t).exp() + c + noise * ((i * 7 % 11) as f64 - 5.0) / 5.0)
            .collect();
        Self {
            t,
            y,
            products_only: false,
        }
    }

    fn start() -> Array1<f64> {
        array![1.0, 0.2, 0.0]
    }

    fn dense_jacobian(&self, x: &Array1<f64>) -> Array2<f64> {
        Array2::from_shape_fn((self.t.len(), 3), |(i, j)| {
            let e = (-x[1] * self.t[i]).exp();
            match j {
                0 => e,
                1 => -x[0] * self.t[i] * e,
                _ => 1.0,
            }
        })
    }
}

impl LeastSquares for Exponential {
    type Scalar = f64;
    fn num_parameters(&self) -> usize {
        3
    }
    fn num_residuals(&self) -> usize {
        self.t.len()
    }
    fn residuals(&self, x: &Array1<f64>, r: &mut Array1<f64>) -> Result<()> {
        check_len("parameters", 3, x.len())?;
        for i in 0..self.t.len() {
            r[i] = x[0] * (-x[1] * self.t[i]).exp() + x[2] - self.y[i];
        }
        Ok(())
    }
    fn jacobian(&self, x: &Array1<f64>, j: &mut Array2<f64>) -> Result<()> {
        if self.products_only {
            return Err(OptError::Unsupported("a dense Jacobian"));
        }
        check_len("parameters", 3, x.len())?;
        j.assign(&self.dense_jacobian(x));
        Ok(())
    }
    fn jvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> Result<()> {
        out.assign(&self.dense_jacobian(x).dot(v));
        Ok(())
    }
    fn jtvp(&self, x: &Array1<f64>, u: &Array1<f64>, out: &mut Array1<f64>) -> Result<()> {
        out.assign(&self.dense_jacobian(x).t().dot(u));
        Ok(())
    }
}

impl Objective for Exponential {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        3
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        value_of(self, x)
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        let mut r = Array1::zeros(self.t.len());
        self.residuals(x, &mut r)?;
        grad.assign(&(self.dense_jacobian(x).t().dot(&r)));
        Ok(0.5 * r.dot(&r))
    }
}

/// Rosenbrock as residuals: `r = (10 (x2 - x1^2), 1 - x1)`, `c = 1`, so
/// `f` is the usual Rosenbrock function.
#[derive(Debug, Clone)]
struct RosenbrockResiduals;

impl LeastSquares for RosenbrockResiduals {
    type Scalar = f64;
    fn num_parameters(&self) -> usize {
        2
    }
    fn num_residuals(&self) -> usize {
        2
    }
    fn residuals(&self, x: &Array1<f64>, r: &mut Array1<f64>) -> Result<()> {
        r[0] = 10.0 * (x[1] - x[0] * x[0]);
        r[1] = 1.0 - x[0];
        Ok(())
    }
    fn jacobian(&self, x: &Array1<f64>, j: &mut Array2<f64>) -> Result<()> {
        j.assign(&array![[-20.0 * x[0], 10.0], [-1.0, 0.0]]);
        Ok(())
    }
    fn value_scale(&self) -> f64 {
        1.0
    }
}

impl Objective for RosenbrockResiduals {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        value_of(self, x)
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        value_and_grad_of(self, x, grad)
    }
}

/// What can go wrong with a user's problem.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// `jacobian()` replaces the buffer by one with an extra row.
    JacobianShape,
    /// Residuals are NaN everywhere.
    NanResiduals,
    /// The Jacobian is infinite everywhere.
    InfiniteJacobian,
    /// Residuals are NaN where `x[1] > 2` (a model undefined there).
    NanBeyond,
    /// No residuals at all: `num_residuals() == 0` and `residuals()` is
    /// unsupported (an objective that is not a sum of squares).
    NoResiduals,
}

/// [`Exponential`] with a fault.
#[derive(Debug, Clone)]
struct Faulty {
    inner: Exponential,
    fault: Fault,
}

impl LeastSquares for Faulty {
    type Scalar = f64;
    fn num_parameters(&self) -> usize {
        3
    }
    fn num_residuals(&self) -> usize {
        if self.fault == Fault::NoResiduals {
            0
        } else {
            self.inner.num_residuals()
        }
    }
    fn residuals(&self, x: &Array1<f64>, r: &mut Array1<f64>) -> Result<()> {
        if self.fault == Fault::NoResiduals {
            return Err(OptError::Unsupported("residuals"));
        }
        self.inner.residuals(x, r)?;
        if self.fault == Fault::NanResiduals || (self.fault == Fault::NanBeyond && x[1] > 2.0) {
            r[0] = f64::NAN;
        }
        Ok(())
    }
    fn jacobian(&self, x: &Array1<f64>, j: &mut Array2<f64>) -> Result<()> {
        match self.fault {
            Fault::JacobianShape => {
                *j = Array2::zeros((self.num_residuals() + 1, 3));
                Ok(())
            }
            Fault::InfiniteJacobian => {
                j.fill(f64::INFINITY);
                Ok(())
            }
            _ => self.inner.jacobian(x, j),
        }
    }
}

impl Objective for Faulty {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        3
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        value_of(self, x)
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        value_and_grad_of(self, x, grad)
    }
}

// ---------------------------------------------------------------- helpers

fn lm() -> LevenbergMarquardt {
    LevenbergMarquardt::new(LevenbergMarquardtConfig::default()).unwrap()
}

fn gn() -> GaussNewton {
    GaussNewton::new(GaussNewtonConfig::default()).unwrap()
}

struct Fit {
    x: Array1<f64>,
    f: f64,
    grad_inf: f64,
    iterations: usize,
    stop: StopReason,
    evals: Evals,
}

fn fit<P, S>(solver: &mut S, problem: P, x0: Array1<f64>, max_iters: usize) -> Result<Fit>
where
    P: Objective<Vector = Array1<f64>>,
    S: Solver<P>,
{
    let problem = Counted::new(problem);
    let report = Runner::new()
        .max_iters(max_iters)
        .run(&problem, solver, x0)?;
    Ok(Fit {
        x: report.x,
        f: report.f,
        grad_inf: report.grad_inf,
        iterations: report.iterations,
        stop: report.stop_reason,
        evals: report.evals,
    })
}

fn max_relative_error(x: &Array1<f64>, reference: &[f64]) -> f64 {
    x.iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1e-300))
        .fold(0.0, f64::max)
}

// ---------------------------------------------------------------- closed form

#[test]
fn one_step_solves_linear_least_squares() {
    let problem = Linear::example();
    let solution = problem.solution();
    let x0 = array![5.0, -3.0, 2.0];
    for (name, result) in [
        (
            "gauss-newton",
            fit(&mut gn(), problem.clone(), x0.clone(), 1),
        ),
        ("lm", fit(&mut lm(), problem.clone(), x0.clone(), 1)),
    ] {
        let result = result.unwrap();
        assert_eq!(result.iterations, 1, "{name}");
        let error = (&result.x - &solution)
            .mapv(f64::abs)
            .fold(0.0, |a: f64, &b| a.max(b));
        assert!(error < 1e-12, "{name}: {} vs {solution}", result.x);
        // One Jacobian at the start and one at the new iterate.
        assert_eq!(result.evals.jac, 2, "{name}");
    }
}

#[test]
fn lm_trust_region_step_solves_the_damped_system_on_the_radius() {
    // factor = 1e-3 makes the first radius 1e-3 ||D x0||, far inside the
    // Gauss-Newton step: the step is p = -(J'J + lambda D'D)^{-1} J'r with
    // ||D p|| within 10% of the radius and D = diag(||A e_j||).
    let problem = Linear::example();
    let x0 = array![5.0, -3.0, 2.0];
    let config = LevenbergMarquardtConfig {
        factor: 1e-3,
        ..LevenbergMarquardtConfig::default()
    };
    let mut solver = LevenbergMarquardt::new(config).unwrap();
    let counted = Counted::new(problem.clone());
    let mut state = IterState::new(x0.clone());
    solver.init(&counted, &mut state).unwrap();
    let d = Array1::from_shape_fn(3, |j| problem.a.column(j).dot(&problem.a.column(j)).sqrt());
    let radius = 1e-3 * (&d * &x0).dot(&(&d * &x0)).sqrt();
    assert!(solver.next_iter(&counted, &mut state).unwrap().is_none());
    let lambda = solver.lambda();
    let p = &state.x - &x0;
    let scaled = (&d * &p).dot(&(&d * &p)).sqrt();
    assert!(
        (scaled - radius).abs() <= 0.1 * radius,
        "||Dp|| = {scaled}, radius {radius}"
    );
    // lambda was taken at the step (a full-ratio step halves it afterwards:
    // rho = 1 on a linear problem).
    let lambda_at_step = 2.0 * lambda;
    let mut matrix = problem.a.t().dot(&problem.a);
    for j in 0..3 {
        matrix[[j, j]] += lambda_at_step * d[j] * d[j];
    }
    let residual = matrix.dot(&p) + problem.a.t().dot(&(problem.a.dot(&x0) - &problem.b));
    let scale = problem
        .a
        .t()
        .dot(&(problem.a.dot(&x0) - &problem.b))
        .mapv(f64::abs)
        .sum();
    assert!(
        residual.iter().all(|v| v.abs() < 1e-10 * scale),
        "{residual} (lambda {lambda_at_step})"
    );
}

// ---------------------------------------------------------------- convergence

#[test]
fn gauss_newton_and_lm_recover_a_synthetic_exponential() {
    for (name, result) in [
        (
            "gauss-newton",
            fit(&mut gn(), Exponential::new(0.0), Exponential::start(), 50),
        ),
        (
            "lm",
            fit(&mut lm(), Exponential::new(0.0), Exponential::start(), 50),
        ),
        (
            "lm-geodesic",
            fit(
                &mut LevenbergMarquardt::new(LevenbergMarquardtConfig {
                    geodesic: true,
                    ..LevenbergMarquardtConfig::default()
                })
                .unwrap(),
                Exponential::new(0.0),
                Exponential::start(),
                50,
            ),
        ),
        (
            "lm-matrix-free",
            fit(
                &mut MatrixFreeLevenbergMarquardt::new(MatrixFreeConfig::default()).unwrap(),
                Exponential {
                    products_only: true,
                    ..Exponential::new(0.0)
                },
                Exponential::start(),
                200,
            ),
        ),
    ] {
        let result = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let error = max_relative_error(&result.x, &TRUE_PARAMETERS);
        assert!(
            error < 1e-9,
            "{name}: {} after {} iterations ({})",
            result.x,
            result.iterations,
            result.stop
        );
        assert!(result.stop.is_converged(), "{name}: {}", result.stop);
        assert!(
            result.iterations < 40,
            "{name}: {} iterations",
            result.iterations
        );
    }
}

#[test]
fn noisy_exponential_fits_match_between_methods() {
    // With noise the optimum is not the true parameters; both methods must
    // agree on it, with a vanishing gradient.
    let problem = Exponential::new(0.02);
    let lm_fit = fit(&mut lm(), problem.clone(), Exponential::start(), 100).unwrap();
    let gn_fit = fit(&mut gn(), problem.clone(), Exponential::start(), 100).unwrap();
    // ftol = 1.5e-8 on f ~ 3e-3 leaves gradients of a few 1e-8.
    assert!(lm_fit.grad_inf < 1e-7 && gn_fit.grad_inf < 1e-7);
    let truth: Vec<f64> = lm_fit.x.to_vec();
    assert!(
        max_relative_error(&gn_fit.x, &truth) < 1e-7,
        "{} vs {}",
        gn_fit.x,
        lm_fit.x
    );
    assert!((lm_fit.f - gn_fit.f).abs() <= 1e-12 * lm_fit.f);
    assert!(max_relative_error(&lm_fit.x, &TRUE_PARAMETERS) < 0.05);
}

#[test]
fn lm_solves_rosenbrock_residuals_like_minpack() {
    // MINPACK's lmder needs about 20 function evaluations here; a wrong
    // lambda or radius update costs far more or stalls.
    let result = fit(&mut lm(), RosenbrockResiduals, array![-1.2, 1.0], 100).unwrap();
    assert!(
        max_relative_error(&result.x, &[1.0, 1.0]) < 1e-12,
        "{}",
        result.x
    );
    assert!(result.stop.is_converged());
    assert!(
        result.evals.f <= 30,
        "{} residual evaluations",
        result.evals.f
    );
    assert!(result.iterations <= 25, "{} iterations", result.iterations);
    assert_eq!(result.evals.jac as usize, result.iterations + 1);
}

#[test]
fn gauss_newton_converges_quadratically_on_rosenbrock_residuals() {
    // m = n and J is invertible: near the solution the Gauss-Newton step is
    // Newton's step on r(x) = 0 and the line search takes it whole, so the
    // error squares from one iteration to the next (a wrong step, e.g. the
    // gradient, would converge linearly at best).
    let counted = Counted::new(RosenbrockResiduals);
    let mut solver = gn();
    let mut state = IterState::new(array![-1.2, 1.0]);
    solver.init(&counted, &mut state).unwrap();
    let error = |x: &Array1<f64>| ((x[0] - 1.0).powi(2) + (x[1] - 1.0).powi(2)).sqrt();
    let mut errors = vec![error(&state.x)];
    for _ in 0..30 {
        match solver.next_iter(&counted, &mut state).unwrap() {
            None => errors.push(error(&state.x)),
            Some(_) => break,
        }
        if errors.last() == Some(&0.0) {
            break;
        }
    }
    assert!(*errors.last().unwrap() < 1e-14, "{errors:?}");
    assert!(errors.len() <= 20, "{} iterations", errors.len() - 1);
    for pair in errors.windows(2) {
        if pair[0] < 1e-2 && pair[1] > 0.0 {
            assert!(pair[1] <= 10.0 * pair[0] * pair[0], "{errors:?}");
        }
    }
}

#[test]
fn geodesic_acceleration_is_rejected_when_alpha_is_tiny() {
    // With alpha = 1e-12 no curved step passes the test 2|a|/|v| <= alpha,
    // so every trial is rejected and x never moves; on a linear problem
    // (a = 0) the same setting changes nothing.
    let config = LevenbergMarquardtConfig {
        geodesic: true,
        geodesic_alpha: 1e-12,
        ..LevenbergMarquardtConfig::default()
    };
    let mut solver = LevenbergMarquardt::new(config).unwrap();
    let result = fit(&mut solver, Exponential::new(0.0), Exponential::start(), 20).unwrap();
    // The ratio is about ||v|| times the curvature, so only tiny steps pass:
    // after 20 iterations x has hardly moved (the default alpha converges in
    // fewer, see the recovery test).
    let moved = (&result.x - &Exponential::start()).mapv(f64::abs).sum();
    assert!(moved < 1e-3, "{}", result.x);
    assert!(solver.rejected_trials() > 0);
    let linear = Linear::example();
    let mut solver = LevenbergMarquardt::new(config).unwrap();
    let result = fit(&mut solver, linear.clone(), array![5.0, -3.0, 2.0], 1).unwrap();
    assert!(max_relative_error(&result.x, linear.solution().as_slice().unwrap()) < 1e-12);
}

#[test]
fn lm_steps_over_a_region_where_residuals_are_nan() {
    // Trial points with x[1] > 2 have NaN residuals: LM must shrink its
    // radius and still converge (the start is far enough that the first
    // radius reaches that region).
    let problem = Faulty {
        inner: Exponential::new(0.0),
        fault: Fault::NanBeyond,
    };
    let result = fit(&mut lm(), problem, array![1.0, 1.9, 0.0], 100).unwrap();
    assert!(
        max_relative_error(&result.x, &TRUE_PARAMETERS) < 1e-9,
        "{}",
        result.x
    );
}

#[test]
fn identity_scaling_also_converges() {
    let config = LevenbergMarquardtConfig {
        scaling: Scaling::Identity,
        ..LevenbergMarquardtConfig::default()
    };
    let mut solver = LevenbergMarquardt::new(config).unwrap();
    let result = fit(
        &mut solver,
        Exponential::new(0.0),
        Exponential::start(),
        100,
    )
    .unwrap();
    assert!(max_relative_error(&result.x, &TRUE_PARAMETERS) < 1e-9);
}

#[test]
fn lm_reports_why_it_stopped() {
    let mut solver = lm();
    let result = fit(
        &mut solver,
        Exponential::new(0.02),
        Exponential::start(),
        200,
    )
    .unwrap();
    let termination = solver.termination().expect("stopped on its own");
    assert_eq!(termination.stop_reason(), result.stop);
    assert!(matches!(
        termination,
        Termination::FunctionTolerance
            | Termination::StepTolerance
            | Termination::FunctionAndStepTolerance
            | Termination::GradientTolerance
    ));
    assert!((1..=4).contains(&termination.minpack_info()));
}

#[test]
fn rank_deficient_jacobians_give_finite_steps() {
    // Columns 1 and 3 identical: J has rank 2, the minimizer set is a line.
    // Gauss-Newton takes the minimum-norm step, LM the basic solution; both
    // reach the least-squares value in one step.
    let mut problem = Linear::example();
    for i in 0..problem.a.nrows() {
        problem.a[[i, 2]] = problem.a[[i, 0]];
    }
    let reduced = Linear {
        a: Array2::from_shape_fn((problem.a.nrows(), 2), |(i, j)| problem.a[[i, j]]),
        b: problem.b.clone(),
    };
    let best = reduced.value(&reduced.solution()).unwrap();
    let mut gauss_newton = gn();
    let gn_fit = fit(&mut gauss_newton, problem.clone(), Array1::zeros(3), 1).unwrap();
    assert_eq!(gauss_newton.rank(), 2);
    let lm_fit = fit(&mut lm(), problem.clone(), Array1::zeros(3), 5).unwrap();
    for (name, f) in [("gauss-newton", gn_fit.f), ("lm", lm_fit.f)] {
        assert!((f - best).abs() <= 1e-12 * best, "{name}: {f} vs {best}");
    }
    // From 0 the minimum-norm solution splits the shared coefficient evenly.
    assert!((gn_fit.x[0] - gn_fit.x[2]).abs() < 1e-12, "{}", gn_fit.x);
}

#[test]
fn gauss_newton_handles_fewer_residuals_than_parameters() {
    // One equation, three unknowns: the minimum-norm solution of a . x = 1
    // from 0 is a / ||a||^2.
    let problem = Linear {
        a: array![[1.0, 2.0, 2.0]],
        b: array![1.0],
    };
    let result = fit(&mut gn(), problem.clone(), Array1::zeros(3), 1).unwrap();
    let expected = [1.0 / 9.0, 2.0 / 9.0, 2.0 / 9.0];
    assert!(
        max_relative_error(&result.x, &expected) < 1e-12,
        "{}",
        result.x
    );
    let lm_fit = fit(&mut lm(), problem, Array1::zeros(3), 20).unwrap();
    assert!(lm_fit.f < 1e-20, "{}", lm_fit.f);
}

#[test]
fn matrix_free_lm_counts_only_products() {
    let problem = Exponential {
        products_only: true,
        ..Exponential::new(0.02)
    };
    let dense = fit(&mut lm(), Exponential::new(0.02), Exponential::start(), 200).unwrap();
    let mut solver = MatrixFreeLevenbergMarquardt::new(MatrixFreeConfig::default()).unwrap();
    let result = fit(&mut solver, problem, Exponential::start(), 500).unwrap();
    assert!(
        max_relative_error(&result.x, dense.x.as_slice().unwrap()) < 1e-6,
        "{}",
        result.x
    );
    // Each CG iteration costs two products, each trial one more, each
    // accepted step one J'r, and the start J'r plus one J g.
    assert!(result.evals.jac as usize >= 2 * solver.cg_iterations());
    assert_eq!(result.evals.grad, 0);
}

// ---------------------------------------------------------------- standard errors

#[test]
fn standard_errors_of_linear_regression_match_the_textbook_formula() {
    let problem = Linear::example();
    let x = problem.solution();
    let summary = fit_summary(&problem, &x).unwrap();
    let r = problem.a.dot(&x) - &problem.b;
    let rss = r.dot(&r);
    let s2 = rss / 3.0;
    let normal = problem.a.t().dot(&problem.a);
    let factor = linalg::cholesky(&normal).unwrap().unwrap();
    for j in 0..3 {
        let mut e = Array1::zeros(3);
        e[j] = 1.0;
        let column = factor.solve(&e);
        for k in 0..3 {
            let expected = s2 * column[k];
            assert!(
                (summary.covariance[[k, j]] - expected).abs() < 1e-12 * expected.abs().max(1e-3),
                "cov[{k},{j}]"
            );
        }
        assert!((summary.standard_errors[j] - (s2 * column[j]).sqrt()).abs() < 1e-12);
    }
    assert!((summary.rss - rss).abs() < 1e-12 * rss);
    assert_eq!(summary.degrees_of_freedom, 3);
    assert!(summary.to_string().contains("+/-"));
}

#[test]
fn standard_errors_refuse_rank_deficiency_and_no_degrees_of_freedom() {
    let mut problem = Linear::example();
    for i in 0..problem.a.nrows() {
        problem.a[[i, 2]] = 2.0 * problem.a[[i, 1]];
    }
    assert!(matches!(
        fit_summary(&problem, &Array1::zeros(3)),
        Err(OptError::NotPositiveDefinite { .. })
    ));
    let square = Linear {
        a: array![[1.0, 0.0], [0.0, 1.0]],
        b: array![1.0, 1.0],
    };
    assert!(matches!(
        fit_summary(&square, &Array1::zeros(2)),
        Err(OptError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        fit_summary(&Linear::example(), &Array1::zeros(2)),
        Err(OptError::ShapeMismatch { .. })
    ));
}

// ---------------------------------------------------------------- bad input

#[test]
fn invalid_hyperparameters_are_errors() {
    let lm_cases = [
        LevenbergMarquardtConfig {
            ftol: -1.0,
            ..Default::default()
        },
        LevenbergMarquardtConfig {
            xtol: f64::NAN,
            ..Default::default()
        },
        LevenbergMarquardtConfig {
            gtol: f64::INFINITY,
            ..Default::default()
        },
        LevenbergMarquardtConfig {
            factor: 0.0,
            ..Default::default()
        },
        LevenbergMarquardtConfig {
            geodesic_alpha: -0.5,
            ..Default::default()
        },
        LevenbergMarquardtConfig {
            geodesic_h: 0.0,
            ..Default::default()
        },
    ];
    for config in lm_cases {
        assert!(matches!(
            LevenbergMarquardt::new(config),
            Err(OptError::InvalidHyperparameter { .. })
        ));
    }
    let gn_cases = [
        GaussNewtonConfig {
            c1: 1.0,
            ..Default::default()
        },
        GaussNewtonConfig {
            shrink: 0.0,
            ..Default::default()
        },
        GaussNewtonConfig {
            min_step: 1.0,
            ..Default::default()
        },
        GaussNewtonConfig {
            max_evaluations: 0,
            ..Default::default()
        },
        GaussNewtonConfig {
            xtol: -1e-3,
            ..Default::default()
        },
    ];
    for config in gn_cases {
        assert!(matches!(
            GaussNewton::new(config),
            Err(OptError::InvalidHyperparameter { .. })
        ));
    }
    for config in [
        MatrixFreeConfig {
            tau: 0.0,
            ..Default::default()
        },
        MatrixFreeConfig {
            cg_tol: 1.0,
            ..Default::default()
        },
        MatrixFreeConfig {
            max_cg_iters: Some(0),
            ..Default::default()
        },
    ] {
        assert!(matches!(
            MatrixFreeLevenbergMarquardt::new(config),
            Err(OptError::InvalidHyperparameter { .. })
        ));
    }
    let error = LevenbergMarquardt::new(LevenbergMarquardtConfig {
        factor: -2.0,
        ..Default::default()
    })
    .unwrap_err();
    assert!(error.to_string().contains("factor"), "{error}");
}

#[test]
fn wrong_length_start_is_a_shape_mismatch() {
    for result in [
        fit(&mut lm(), Exponential::new(0.0), array![1.0, 2.0], 5).map(|_| ()),
        fit(&mut gn(), Exponential::new(0.0), array![1.0, 2.0], 5).map(|_| ()),
        fit(
            &mut MatrixFreeLevenbergMarquardt::new(MatrixFreeConfig::default()).unwrap(),
            Exponential::new(0.0),
            array![1.0, 2.0],
            5,
        )
        .map(|_| ()),
    ] {
        assert!(matches!(result, Err(OptError::ShapeMismatch { .. })));
    }
}

#[test]
fn faulty_problems_give_clear_errors() {
    let faulty = |fault| Faulty {
        inner: Exponential::new(0.0),
        fault,
    };
    for (name, result) in [
        (
            "lm",
            fit(
                &mut lm(),
                faulty(Fault::JacobianShape),
                Exponential::start(),
                5,
            )
            .map(|_| ()),
        ),
        (
            "gn",
            fit(
                &mut gn(),
                faulty(Fault::JacobianShape),
                Exponential::start(),
                5,
            )
            .map(|_| ()),
        ),
    ] {
        match result {
            Err(OptError::ShapeMismatch {
                what,
                expected,
                got,
            }) => {
                assert!(what.contains("Jacobian"), "{name}: {what}");
                assert_eq!((expected, got), (40, 41), "{name}");
            }
            other => panic!(
                "{name}: expected a Jacobian shape error, got {:?}",
                other.err()
            ),
        }
    }
    for fault in [Fault::NanResiduals, Fault::InfiniteJacobian] {
        for result in [
            fit(&mut lm(), faulty(fault), Exponential::start(), 5).map(|_| ()),
            fit(&mut gn(), faulty(fault), Exponential::start(), 5).map(|_| ()),
        ] {
            match result {
                Err(OptError::NonFinite { what, .. }) => {
                    assert!(
                        what.contains("residuals") || what.contains("Jacobian"),
                        "{what}"
                    );
                }
                other => panic!("{fault:?}: expected NonFinite, got {:?}", other.err()),
            }
        }
    }
    for result in [
        fit(
            &mut lm(),
            faulty(Fault::NoResiduals),
            Exponential::start(),
            5,
        )
        .map(|_| ()),
        fit(
            &mut gn(),
            faulty(Fault::NoResiduals),
            Exponential::start(),
            5,
        )
        .map(|_| ()),
        fit(
            &mut MatrixFreeLevenbergMarquardt::new(MatrixFreeConfig::default()).unwrap(),
            faulty(Fault::NoResiduals),
            Exponential::start(),
            5,
        )
        .map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(OptError::Unsupported(_))),
            "{:?}",
            result.err()
        );
    }
    let mut solver = lm();
    let counted = Counted::new(Exponential::new(0.0));
    let mut state = IterState::new(Exponential::start());
    assert!(matches!(
        solver.next_iter(&counted, &mut state),
        Err(OptError::InvalidState(_))
    ));
}
