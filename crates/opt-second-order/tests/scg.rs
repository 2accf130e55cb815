//! Moller's SCG: the paper's steps by hand, convergence on quadratics and
//! Rosenbrock, the comparison test near the optimum (rounding), mini-batch
//! SCG with gradient accumulation, and bad input.

use std::cell::RefCell;

use ndarray::{Array1, Array2, array};
use opt_core::gradient::{GradientAccumulator, accumulate_batch_gradient};
use opt_core::{
    Counted, FiniteSum, IterState, Objective, OptError, Result, Runner, Solver, StopReason,
    VectorSpace, check_batch, check_len,
};
use opt_second_order::scg::{MinibatchScg, MinibatchScgConfig, Scg, ScgConfig};
use opt_second_order::testing::{DenseQuadratic, Rosenbrock};

fn metric(metrics: &[(&'static str, f64)], name: &str) -> f64 {
    metrics
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| *value)
        .unwrap_or_else(|| panic!("no metric {name} in {metrics:?}"))
}

fn scg_metrics<P: Objective<Vector = Array1<f64>>>(
    scg: &Scg<Array1<f64>>,
) -> Vec<(&'static str, f64)> {
    Solver::<P>::metrics(scg)
}

fn relative_error(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    (a - b).norm2() / b.norm2().max(1e-300)
}

// ---------------------------------------------------------------------------
// The paper's steps by hand.

/// Two iterations on `f = 1/2 x'Ax - b'x`, written out from the paper's
/// steps. On a quadratic the difference quotient of step 2 is `A p` up to
/// rounding, `Delta = 2 - p'Ap / delta ~ 1`, so `lambda` is quartered each
/// time (step 7) and step 8 does not apply.
#[test]
fn two_iterations_on_a_quadratic_follow_the_paper() {
    let a = array![[4.0, 1.0, 0.5], [1.0, 3.0, -0.5], [0.5, -0.5, 2.0]];
    let b = array![1.0, -2.0, 0.5];
    let quadratic = DenseQuadratic::new(a.clone(), b.clone()).unwrap();
    let problem = Counted::new(quadratic.clone());
    let mut scg = Scg::new(ScgConfig::default()).unwrap();
    let x0 = array![0.3, 0.2, -0.1];
    let mut state = IterState::new(x0.clone());
    scg.init(&problem, &mut state).unwrap();

    let gradient = |x: &Array1<f64>| a.dot(x) - &b;
    let lambda1 = 1e-6;
    // Iteration 1: p_1 = r_1 = -g(x_0).
    let r1 = -gradient(&x0);
    let p1 = r1.clone();
    let delta1 = p1.dot(&a.dot(&p1)) + lambda1 * p1.dot(&p1);
    let mu1 = p1.dot(&r1);
    let x1 = &x0 + &(&p1 * (mu1 / delta1));
    assert_eq!(scg.next_iter(&problem, &mut state).unwrap(), None);
    assert!(relative_error(&state.x, &x1) < 1e-10, "{} vs {x1}", state.x);
    let metrics = scg_metrics::<DenseQuadratic>(&scg);
    let comparison = metric(&metrics, "comparison");
    assert!((comparison - (2.0 - p1.dot(&a.dot(&p1)) / delta1)).abs() < 1e-8);
    let lambda2 = lambda1 / 4.0;
    assert!((metric(&metrics, "lambda") - lambda2).abs() < 1e-18);

    // Iteration 2: beta_1 = (|r_2|^2 - r_2'r_1) / mu_1, p_2 = r_2 + beta_1 p_1.
    let r2 = -gradient(&x1);
    let beta1 = (r2.dot(&r2) - r2.dot(&r1)) / mu1;
    let p2 = &r2 + &(&p1 * beta1);
    let delta2 = p2.dot(&a.dot(&p2)) + lambda2 * p2.dot(&p2);
    let x2 = &x1 + &(&p2 * (p2.dot(&r2) / delta2));
    assert_eq!(scg.next_iter(&problem, &mut state).unwrap(), None);
    assert!(relative_error(&state.x, &x2) < 1e-10, "{} vs {x2}", state.x);
    assert!((metric(&scg_metrics::<DenseQuadratic>(&scg), "lambda") - lambda2 / 4.0).abs() < 1e-18);
    // One evaluation at x_0, then a probe and a trial per iteration.
    let evals = problem.evals();
    assert_eq!((evals.f, evals.grad), (5, 5));
}

/// A floor under lambda: the first step uses `lambda_1 = lambda_min`
/// (raised from the paper's 1e-6), step 7's quartering stops at the floor,
/// and the step along `p` is `mu / (p'Ap + lambda_min |p|^2)`, shorter
/// than the paper's.
#[test]
fn lambda_min_floors_the_scale_and_shortens_the_step() {
    let a = array![[4.0, 1.0, 0.5], [1.0, 3.0, -0.5], [0.5, -0.5, 2.0]];
    let b = array![1.0, -2.0, 0.5];
    let problem = Counted::new(DenseQuadratic::new(a.clone(), b.clone()).unwrap());
    let lambda_min = 2.0;
    let mut scg = Scg::new(ScgConfig {
        lambda_min,
        ..ScgConfig::default()
    })
    .unwrap();
    let x0 = array![0.3, 0.2, -0.1];
    let mut state = IterState::new(x0.clone());
    scg.init(&problem, &mut state).unwrap();
    let r1 = b.clone() - a.dot(&x0);
    let delta1 = r1.dot(&a.dot(&r1)) + lambda_min * r1.dot(&r1);
    let x1 = &x0 + &(&r1 * (r1.dot(&r1) / delta1));
    assert_eq!(scg.next_iter(&problem, &mut state).unwrap(), None);
    assert!(relative_error(&state.x, &x1) < 1e-10, "{} vs {x1}", state.x);
    for _ in 0..200 {
        if scg.next_iter(&problem, &mut state).unwrap().is_some() {
            break;
        }
        let lambda = metric(&scg_metrics::<DenseQuadratic>(&scg), "lambda");
        assert!(lambda >= lambda_min, "lambda {lambda} below the floor");
    }
    // still converges: the floor damps, it does not stop the method
    assert!(state.grad.norm_inf() < 1e-8, "{}", state.grad);
}

/// Step 4 along a direction of negative curvature: `f = (-x_1^2 + 2 x_2^2)/2`
/// from `(1, 0.1)`, where `p'Ap = -0.92 |p|^2 / 1.04 < 0`.
#[test]
fn negative_curvature_is_handled_as_in_step_4() {
    let a = array![[-1.0, 0.0], [0.0, 2.0]];
    let quadratic = DenseQuadratic::new(a.clone(), array![0.0, 0.0]).unwrap();
    let problem = Counted::new(quadratic.clone());
    let mut scg = Scg::new(ScgConfig::default()).unwrap();
    let x0 = array![1.0, 0.1];
    let mut state = IterState::new(x0.clone());
    scg.init(&problem, &mut state).unwrap();

    let lambda = 1e-6;
    let p = -a.dot(&x0);
    let p_sq = p.dot(&p);
    let delta = p.dot(&a.dot(&p)) + lambda * p_sq;
    assert!(delta < 0.0);
    let lambda_bar = 2.0 * (lambda - delta / p_sq);
    let delta = -delta + lambda * p_sq;
    let alpha = p_sq / delta; // mu = p'r = |p|^2
    let x1 = &x0 + &(&p * alpha);
    let f = |x: &Array1<f64>| 0.5 * x.dot(&a.dot(x));
    let comparison = 2.0 * delta * (f(&x0) - f(&x1)) / (p_sq * p_sq);
    assert!(comparison >= 0.75);

    assert_eq!(scg.next_iter(&problem, &mut state).unwrap(), None);
    assert!(relative_error(&state.x, &x1) < 1e-9, "{} vs {x1}", state.x);
    let metrics = scg_metrics::<DenseQuadratic>(&scg);
    assert!((metric(&metrics, "comparison") - comparison).abs() < 1e-8 * comparison);
    // lambda_k = lambda_bar_k (step 4), then quartered (step 7).
    let expected_lambda = lambda_bar / 4.0;
    assert!((metric(&metrics, "lambda") - expected_lambda).abs() < 1e-8 * expected_lambda);
}

/// `f(x) = sqrt(1 + x^2)`: from `x = 3` the local quadratic model jumps far
/// past the minimum, so the first passes fail (`Delta < 0`).
#[derive(Debug, Clone, Copy)]
struct Hyperbola;

impl Objective for Hyperbola {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        1
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok((1.0 + x[0] * x[0]).sqrt())
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        let f = self.value(x)?;
        grad[0] = x[0] / f;
        Ok(f)
    }
}

/// The paper's steps 2-9 for a function of one variable, written plainly:
/// passes until the first success; returns the new `w`, the failures and
/// `lambda` after the pass.
fn paper_iteration_1d(
    f: impl Fn(f64) -> f64,
    df: impl Fn(f64) -> f64,
    w: f64,
    sigma: f64,
    mut lambda: f64,
) -> (f64, usize, f64) {
    let mut lambda_bar = 0.0;
    let mut success = true;
    let mut delta = 0.0;
    let r = -df(w);
    let p = r;
    let mut failures = 0;
    loop {
        if success {
            let sigma_k = sigma / p.abs();
            let s = (df(w + sigma_k * p) - df(w)) / sigma_k;
            delta = p * s;
        }
        delta += (lambda - lambda_bar) * p * p;
        if delta <= 0.0 {
            lambda_bar = 2.0 * (lambda - delta / (p * p));
            delta = -delta + lambda * p * p;
            lambda = lambda_bar;
        }
        let mu = p * r;
        let alpha = mu / delta;
        let comparison = 2.0 * delta * (f(w) - f(w + alpha * p)) / (mu * mu);
        let moved = comparison >= 0.0;
        if moved {
            if comparison >= 0.75 {
                lambda /= 4.0;
            }
        } else {
            lambda_bar = lambda;
            success = false;
            failures += 1;
        }
        if comparison < 0.25 {
            lambda += delta * (1.0 - comparison) / (p * p);
        }
        if moved {
            return (w + alpha * p, failures, lambda);
        }
    }
}

#[test]
fn failed_passes_raise_lambda_and_cost_one_evaluation_each() {
    let problem = Counted::new(Hyperbola);
    let config = ScgConfig {
        f_noise: Some(0.0),
        ..ScgConfig::default()
    };
    let mut scg = Scg::new(config).unwrap();
    let mut state = IterState::new(array![3.0]);
    scg.init(&problem, &mut state).unwrap();
    assert_eq!(scg.next_iter(&problem, &mut state).unwrap(), None);

    let f = |x: f64| (1.0 + x * x).sqrt();
    let df = |x: f64| x / f(x);
    let (w1, failures, lambda) = paper_iteration_1d(f, df, 3.0, 1e-4, 1e-6);
    let metrics = scg_metrics::<Hyperbola>(&scg);
    println!("hyperbola: w1 = {w1}, failures = {failures}, lambda = {lambda:e}");
    assert!(failures >= 2, "{failures}");
    assert_eq!(metric(&metrics, "rejections"), failures as f64);
    assert!(
        (state.x[0] - w1).abs() < 1e-10 * w1.abs().max(1.0),
        "{} vs {w1}",
        state.x[0]
    );
    assert!((metric(&metrics, "lambda") - lambda).abs() < 1e-9 * lambda);
    assert!(state.f < f(3.0));
    // Init, the first pass (probe + trial), one trial per later pass.
    let evals = problem.evals();
    assert_eq!(evals.grad, 1 + 2 + failures as u64);
    assert_eq!(evals.f, evals.grad);
}

// ---------------------------------------------------------------------------
// Convergence.

/// Measured (iterations, evaluations): see the output; SCG with exact
/// curvature on a quadratic is close to linear CG with exact steps.
#[test]
fn scg_solves_condition_100_quadratics_within_3n_iterations() {
    for n in [20, 50, 100] {
        let quadratic = DenseQuadratic::with_condition(n, 100.0, 11);
        let problem = Counted::new(quadratic.clone());
        let mut scg = Scg::new(ScgConfig::default()).unwrap();
        let report = Runner::new()
            .gtol(1e-6)
            .unwrap()
            .max_iters(3 * n)
            .run(&problem, &mut scg, Array1::zeros(n))
            .unwrap();
        let metrics = scg_metrics::<DenseQuadratic>(&scg);
        println!(
            "quadratic n = {n}: {} iterations, evals {:?}, rejections {}, trapezoid {}",
            report.iterations,
            report.evals,
            metric(&metrics, "rejections"),
            metric(&metrics, "trapezoid")
        );
        assert_eq!(
            report.stop_reason,
            StopReason::GradientTolerance,
            "{report:?}"
        );
        let solution = quadratic.minimizer().unwrap();
        assert!((&report.x - &solution).norm_inf() < 1e-5);
    }
}

/// `f + c` for a large constant `c`: the same minimizer and gradients, but
/// differences of `f` below `|c| eps` are lost to rounding.
#[derive(Debug, Clone)]
struct Offset<P> {
    inner: P,
    constant: f64,
}

impl<P: Objective<Vector = Array1<f64>>> Objective for Offset<P> {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(self.inner.value(x)? + self.constant)
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        Ok(self.inner.value_and_grad(x, grad)? + self.constant)
    }
}

/// With a constant `1e6` added to the condition-100 quadratic (ulp 1.2e-10,
/// while the decrease per step near `||g||_inf = 1e-6` is about 1e-12),
/// the paper's comparison (`f_noise = 0`) stalls: the rounded decrease is
/// 0 or one ulp either way, `lambda` grows and the steps shrink. The
/// trapezoid estimate keeps SCG converging within `3n` iterations.
#[test]
fn the_comparison_survives_differences_below_rounding() {
    let n = 50;
    let quadratic = DenseQuadratic::with_condition(n, 100.0, 11);
    let run = |f_noise: Option<f64>, constant: f64, budget: usize| {
        let problem = Counted::new(Offset {
            inner: quadratic.clone(),
            constant,
        });
        let mut scg = Scg::new(ScgConfig {
            f_noise,
            ..ScgConfig::default()
        })
        .unwrap();
        let report = Runner::new()
            .gtol(1e-6)
            .unwrap()
            .max_iters(budget)
            .run(&problem, &mut scg, Array1::zeros(n))
            .unwrap();
        let metrics = Solver::<Offset<DenseQuadratic>>::metrics(&scg);
        println!(
            "offset {constant:e}, f_noise {f_noise:?}: {} iterations ({}), ||g||_inf {:.2e}, \
             evals {:?}, rejections {}, trapezoid {}, lambda {:.2e}",
            report.iterations,
            report.stop_reason,
            report.grad_inf,
            report.evals,
            metric(&metrics, "rejections"),
            metric(&metrics, "trapezoid"),
            metric(&metrics, "lambda"),
        );
        report
    };
    for constant in [1e6, 1e12] {
        // Without the fix: no convergence even in ten times the budget.
        let paper = run(Some(0.0), constant, 30 * n);
        assert!(!paper.converged, "{paper:?}");
        assert!(paper.grad_inf > 1e-6);
        // With it (the default f_noise):
        let fixed = run(None, constant, 3 * n);
        assert_eq!(
            fixed.stop_reason,
            StopReason::GradientTolerance,
            "{fixed:?}"
        );
        let solution = quadratic.minimizer().unwrap();
        assert!((&fixed.x - &solution).norm_inf() < 1e-5);
    }
}

#[test]
fn scg_converges_on_rosenbrock() {
    // Measured: dim 2, 81 iterations, 181 evaluations (18 rejected passes);
    // dim 100, 795 iterations, 1613 evaluations (22 rejected).
    for (dim, bound) in [(2, 120), (100, 1200)] {
        let rosenbrock = Rosenbrock { dim };
        let problem = Counted::new(rosenbrock);
        let mut scg = Scg::new(ScgConfig::default()).unwrap();
        let report = Runner::new()
            .gtol(1e-6)
            .unwrap()
            .max_iters(bound)
            .run(&problem, &mut scg, rosenbrock.start())
            .unwrap();
        let metrics = scg_metrics::<Rosenbrock>(&scg);
        println!(
            "Rosenbrock dim {dim}: {} iterations, evals {:?}, rejections {}, trapezoid {}",
            report.iterations,
            report.evals,
            metric(&metrics, "rejections"),
            metric(&metrics, "trapezoid")
        );
        assert_eq!(
            report.stop_reason,
            StopReason::GradientTolerance,
            "{report:?}"
        );
        assert!(report.x.mapv(|v| v - 1.0).norm_inf() < 1e-5);
    }
}

// ---------------------------------------------------------------------------
// Bad input and non-finite values.

#[test]
fn bad_hyperparameters_are_rejected_by_name() {
    let base = ScgConfig::default();
    let cases = [
        (
            ScgConfig {
                sigma: 0.0,
                ..base.clone()
            },
            "sigma",
        ),
        (
            ScgConfig {
                sigma: 2e-4,
                ..base.clone()
            },
            "sigma",
        ),
        (
            ScgConfig {
                lambda_min: -1.0,
                ..base.clone()
            },
            "lambda_min",
        ),
        (
            ScgConfig {
                lambda_min: f64::INFINITY,
                ..base.clone()
            },
            "lambda_min",
        ),
        (
            ScgConfig {
                sigma: f64::NAN,
                ..base.clone()
            },
            "sigma",
        ),
        (
            ScgConfig {
                lambda: -1e-7,
                ..base.clone()
            },
            "lambda",
        ),
        (
            ScgConfig {
                lambda: 1e-5,
                ..base.clone()
            },
            "lambda",
        ),
        (
            ScgConfig {
                restart: Some(0),
                ..base.clone()
            },
            "restart",
        ),
        (
            ScgConfig {
                f_noise: Some(-1e-3),
                ..base.clone()
            },
            "f_noise",
        ),
        (
            ScgConfig {
                f_noise: Some(f64::NAN),
                ..base.clone()
            },
            "f_noise",
        ),
    ];
    for (config, expected) in cases {
        match Scg::<Array1<f64>>::new(config.clone()) {
            Err(OptError::InvalidHyperparameter { name, .. }) => assert_eq!(name, expected),
            other => panic!("{config:?}: expected invalid `{expected}`, got {other:?}"),
        }
    }
    let base = MinibatchScgConfig::default();
    let cases = [
        (
            MinibatchScgConfig {
                batch_size: Some(0),
                ..base.clone()
            },
            "batch_size",
        ),
        (
            MinibatchScgConfig {
                micro_batch: Some(0),
                ..base.clone()
            },
            "micro_batch",
        ),
        (
            MinibatchScgConfig {
                batches_every: 0,
                ..base.clone()
            },
            "batches_every",
        ),
        (
            MinibatchScgConfig {
                sigma: 1.0,
                ..base.clone()
            },
            "sigma",
        ),
    ];
    for (config, expected) in cases {
        match MinibatchScg::<Array1<f64>>::new(config.clone()) {
            Err(OptError::InvalidHyperparameter { name, .. }) => assert_eq!(name, expected),
            other => panic!("{config:?}: expected invalid `{expected}`, got {other:?}"),
        }
    }
}

#[test]
fn a_wrong_length_start_is_a_shape_mismatch() {
    let problem = Counted::new(Rosenbrock { dim: 3 });
    let mut scg = Scg::new(ScgConfig::default()).unwrap();
    let err = Runner::new()
        .max_iters(3)
        .run(&problem, &mut scg, array![1.0, 2.0])
        .unwrap_err();
    assert!(matches!(
        err,
        OptError::ShapeMismatch {
            expected: 3,
            got: 2,
            ..
        }
    ));
    let mut state = IterState::new(array![0.0]);
    assert!(matches!(
        scg.next_iter(&problem, &mut state),
        Err(OptError::InvalidState(_))
    ));
}

/// `sqrt(1 + 100 (x - 0.9)^2)` below `nan_from` and NaN (gradient too) from
/// there: from 0 the quadratic model's step lands near `x = 74`.
#[derive(Debug, Clone, Copy)]
struct NanWall {
    nan_from: f64,
}

impl Objective for NanWall {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        1
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(if x[0] >= self.nan_from {
            f64::NAN
        } else {
            (1.0 + 100.0 * (x[0] - 0.9).powi(2)).sqrt()
        })
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        let f = self.value(x)?;
        grad[0] = 100.0 * (x[0] - 0.9) / f;
        Ok(f)
    }
}

#[test]
fn non_finite_trial_points_are_rejected_and_a_non_finite_probe_is_an_error() {
    // Trials past 1 are NaN: rejected, and SCG still finds 0.9.
    let problem = Counted::new(NanWall { nan_from: 1.0 });
    let mut scg = Scg::new(ScgConfig::default()).unwrap();
    let report = Runner::new()
        .gtol(1e-8)
        .unwrap()
        .max_iters(100)
        .run(&problem, &mut scg, array![0.0])
        .unwrap();
    let metrics = Solver::<NanWall>::metrics(&scg);
    println!("NaN wall: {report:?}, {metrics:?}");
    assert!(metric(&metrics, "rejections") >= 1.0, "{metrics:?}");
    assert_eq!(
        report.stop_reason,
        StopReason::GradientTolerance,
        "{report:?}"
    );
    assert!((report.x[0] - 0.9).abs() < 1e-9);

    // The probe w + sigma_k p (at distance 1e-4) is already NaN.
    let problem = Counted::new(NanWall { nan_from: 5e-5 });
    let mut scg = Scg::new(ScgConfig::default()).unwrap();
    let mut state = IterState::new(array![0.0]);
    scg.init(&problem, &mut state).unwrap();
    assert!(matches!(
        scg.next_iter(&problem, &mut state),
        Err(OptError::NonFinite { .. })
    ));
    assert_eq!(state.x, array![0.0]);
}

// ---------------------------------------------------------------------------
// Mini-batch SCG.

/// `f_i(x) = 1/2 (a_i'x - y_i)^2 + (l2/2) ||x||^2`, the mean over samples;
/// records the index sets of every batch call.
#[derive(Debug)]
struct LeastSquaresSum {
    features: Array2<f64>,
    targets: Array1<f64>,
    l2: f64,
    calls: RefCell<Vec<Vec<usize>>>,
}

impl LeastSquaresSum {
    /// `n x d` features from a fixed stream; targets `A x_true + noise`.
    fn new(n: usize, d: usize, noise: f64) -> Self {
        let mut state = 0x1234_5678_u64;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let features = Array2::from_shape_fn((n, d), |_| uniform());
        let truth = Array1::from_shape_fn(d, |j| 1.0 + j as f64 * 0.25);
        let targets = Array1::from_shape_fn(n, |i| features.row(i).dot(&truth) + noise * uniform());
        Self {
            features,
            targets,
            l2: if noise > 0.0 { 1e-3 } else { 0.0 },
            calls: RefCell::new(Vec::new()),
        }
    }

    fn truth(&self) -> Array1<f64> {
        Array1::from_shape_fn(self.features.ncols(), |j| 1.0 + j as f64 * 0.25)
    }
}

impl Objective for LeastSquaresSum {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        self.features.ncols()
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        let mut grad = x.zeros_like();
        self.value_and_grad(x, &mut grad)
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        let all: Vec<usize> = (0..self.targets.len()).collect();
        let value = self.batch_value_and_grad(x, &all, grad);
        self.calls.borrow_mut().pop();
        value
    }
}

impl FiniteSum for LeastSquaresSum {
    fn num_samples(&self) -> usize {
        self.targets.len()
    }
    fn batch_value_and_grad(
        &self,
        x: &Array1<f64>,
        indices: &[usize],
        grad: &mut Array1<f64>,
    ) -> Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        check_batch(indices, self.num_samples())?;
        self.calls.borrow_mut().push(indices.to_vec());
        grad.fill(0.0);
        let mut value = 0.0;
        for &i in indices {
            let row = self.features.row(i);
            let residual = row.dot(x) - self.targets[i];
            value += 0.5 * residual * residual;
            grad.scaled_add(residual, &row);
        }
        let count = indices.len() as f64;
        grad.mapv_inplace(|g| g / count);
        grad.scaled_add(self.l2, x);
        Ok(value / count + 0.5 * self.l2 * x.dot(x))
    }
}

/// Micro-batch accumulation gives the one-call batch gradient to rounding.
#[test]
fn accumulated_micro_batches_equal_the_batch_gradient() {
    let problem = LeastSquaresSum::new(40, 5, 0.1);
    let x = array![0.3, -0.2, 0.5, 1.0, -1.5];
    let batch = [3, 17, 17, 0, 39, 22, 8, 11, 5, 30, 2];
    let mut whole = x.zeros_like();
    let whole_value = problem
        .batch_value_and_grad(&x, &batch, &mut whole)
        .unwrap();
    for micro in [1, 2, 3, 4, 10] {
        let mut accumulator = GradientAccumulator::new(&x);
        let (mut scratch, mut grad) = (x.zeros_like(), x.zeros_like());
        let value = accumulate_batch_gradient(
            &problem,
            &x,
            &batch,
            micro,
            &mut accumulator,
            &mut scratch,
            &mut grad,
        )
        .unwrap();
        assert!((value - whole_value).abs() < 1e-14 * whole_value.abs());
        assert!(relative_error(&grad, &whole) < 1e-14, "micro {micro}");
    }
}

/// With the whole set as its batch, mini-batch SCG makes the iterates of
/// full-batch SCG, whatever the micro-batch size: bit for bit with one call
/// per batch; with micro-batches the accumulated gradient differs in the
/// last bits, which the difference quotient of step 2 amplifies by about
/// `|g| / (sigma |Hp|)`, so iterates agree to `~1e-11` (measured: at most
/// 1.7e-12 with M = 1, 1.1e-11 with M = 5, identical once converged).
#[test]
fn the_full_set_as_batch_reproduces_full_batch_scg() {
    let data = || LeastSquaresSum::new(12, 4, 0.1);
    let iterations = 12;
    let reference = {
        let problem = Counted::new(data());
        let mut scg = Scg::new(ScgConfig::default()).unwrap();
        let mut state = IterState::new(Array1::zeros(4));
        scg.init(&problem, &mut state).unwrap();
        let mut iterates = vec![state.x.clone()];
        for _ in 0..iterations {
            assert_eq!(scg.next_iter(&problem, &mut state).unwrap(), None);
            iterates.push(state.x.clone());
        }
        (
            iterates,
            metric(&Solver::<LeastSquaresSum>::metrics(&scg), "restarts"),
        )
    };
    let (reference, reference_restarts) = reference;
    for (batch_size, micro_batch) in [(None, None), (Some(12), Some(1)), (Some(100), Some(5))] {
        let problem = Counted::finite_sum(data());
        let mut scg = MinibatchScg::new(MinibatchScgConfig {
            batch_size,
            micro_batch,
            ..MinibatchScgConfig::default()
        })
        .unwrap();
        let mut state = IterState::new(Array1::zeros(4));
        scg.init(&problem, &mut state).unwrap();
        for (k, expected) in reference.iter().enumerate().skip(1) {
            assert_eq!(scg.next_iter(&problem, &mut state).unwrap(), None);
            let error = relative_error(&state.x, expected);
            let tolerance = if micro_batch.is_some() { 5e-11 } else { 0.0 };
            assert!(
                error <= tolerance,
                "B {batch_size:?}, M {micro_batch:?}, iteration {k}: {error:e}"
            );
        }
        // No restart for "new" batches: the batch never changes.
        let restarts = metric(&Solver::<LeastSquaresSum>::metrics(&scg), "restarts");
        assert_eq!(restarts, reference_restarts);
    }
}

/// Every evaluation of one iteration uses the same batch (as a union of
/// its micro-batches), a new batch comes every `batches_every` iterations,
/// the state holds the full objective, and the counts are the batch calls.
#[test]
fn one_batch_serves_every_evaluation_of_an_iteration() {
    let (n, d, batch_size, micro_batch, every) = (30, 4, 8, 3, 2);
    let problem = Counted::finite_sum(LeastSquaresSum::new(n, d, 0.1));
    let mut scg = MinibatchScg::new(MinibatchScgConfig {
        batch_size: Some(batch_size),
        micro_batch: Some(micro_batch),
        batches_every: every,
        seed: 7,
        ..MinibatchScgConfig::default()
    })
    .unwrap();
    let mut state = IterState::new(Array1::zeros(d));
    scg.init(&problem, &mut state).unwrap();
    let mut batches = Vec::new();
    for iteration in 0..6 {
        problem.inner().calls.borrow_mut().clear();
        let before = problem.evals();
        assert_eq!(scg.next_iter(&problem, &mut state).unwrap(), None);
        let batch = scg.batch().unwrap().to_vec();
        assert_eq!(batch.len(), batch_size);
        let calls = problem.inner().calls.borrow().clone();
        // Each batch evaluation is ceil(8 / 3) = 3 micro-batch calls that
        // together are the batch.
        assert_eq!(calls.len() % 3, 0);
        for evaluation in calls.chunks(3) {
            let union: Vec<usize> = evaluation.concat();
            assert_eq!(union, batch, "iteration {iteration}");
            assert!(evaluation.iter().all(|m| m.len() <= micro_batch));
        }
        let after = problem.evals();
        assert_eq!(after.grad - before.grad, calls.len() as u64);
        assert_eq!(
            after.samples - before.samples,
            (calls.len() / 3 * batch_size) as u64
        );
        // The state holds the full objective at the new point.
        let mut grad = state.x.zeros_like();
        let f = problem.inner().value_and_grad(&state.x, &mut grad).unwrap();
        assert_eq!(f, state.f);
        assert_eq!(grad, state.grad);
        batches.push(batch);
    }
    for pair in batches.chunks(2) {
        assert_eq!(pair[0], pair[1], "a batch serves {every} iterations");
    }
    assert_ne!(batches[0], batches[2]);
    let restarts = metric(&Solver::<LeastSquaresSum>::metrics(&scg), "restarts");
    assert!(
        restarts >= 2.0,
        "a new batch restarts the directions: {restarts}"
    );
}

/// On a consistent least-squares problem (every `f_i` minimized at
/// `x_true`), mini-batch SCG converges to `x_true` although each iteration
/// sees a quarter of the data; the same seed gives the same run.
#[test]
fn minibatch_scg_converges_on_a_consistent_problem() {
    let run = |seed: u64| {
        let problem = Counted::finite_sum(LeastSquaresSum::new(40, 5, 0.0));
        let truth = problem.inner().truth();
        let mut scg = MinibatchScg::new(MinibatchScgConfig {
            batch_size: Some(10),
            micro_batch: Some(4),
            batches_every: 3,
            seed,
            ..MinibatchScgConfig::default()
        })
        .unwrap();
        let report = Runner::new()
            .gtol(1e-9)
            .unwrap()
            .max_iters(300)
            .run(&problem, &mut scg, Array1::zeros(5))
            .unwrap();
        println!(
            "minibatch seed {seed}: {} iterations, evals {:?}, passes {:.1}",
            report.iterations,
            report.evals,
            problem.passes()
        );
        (report, truth)
    };
    let (report, truth) = run(1);
    assert_eq!(
        report.stop_reason,
        StopReason::GradientTolerance,
        "{report:?}"
    );
    assert!((&report.x - &truth).norm_inf() < 1e-7);
    let (again, _) = run(1);
    assert_eq!(again.x, report.x);
    assert_eq!(again.iterations, report.iterations);
    let (other, _) = run(2);
    assert_ne!(other.x, report.x);
}

/// `f(x) = sum_i (c_i x_i^2 / 2 - x_i)` in `f32`, `c_i` from 1 to 100.
#[derive(Debug, Clone, Copy)]
struct DiagonalF32 {
    n: usize,
}

impl DiagonalF32 {
    fn curvature(&self, i: usize) -> f32 {
        100f32.powf(i as f32 / (self.n - 1) as f32)
    }
}

impl Objective for DiagonalF32 {
    type Vector = Array1<f32>;
    fn dim(&self) -> usize {
        self.n
    }
    fn value(&self, x: &Array1<f32>) -> Result<f32> {
        Ok((0..self.n)
            .map(|i| 0.5 * self.curvature(i) * x[i] * x[i] - x[i])
            .sum())
    }
    fn value_and_grad(&self, x: &Array1<f32>, grad: &mut Array1<f32>) -> Result<f32> {
        for i in 0..self.n {
            grad[i] = self.curvature(i) * x[i] - 1.0;
        }
        self.value(x)
    }
}

/// The same solver in `f32` (its own `sqrt(eps)` band, 3.5e-4): to
/// `||g||_inf <= 1e-4` in 45 iterations (measured). The paper's comparison
/// (`f_noise = 0`) stalls here near `||g||_inf = 5e-4`, where the decrease
/// per step is about one ulp of `|f| ~ 3.4`, until `lambda` overflows
/// (measured: 156 iterations, then `line_search_failed`).
#[test]
fn scg_runs_in_f32() {
    let run = |f_noise: Option<f64>, budget: usize| {
        let problem = Counted::new(DiagonalF32 { n: 30 });
        let config = ScgConfig {
            f_noise,
            ..ScgConfig::default()
        };
        let mut scg = Scg::<Array1<f32>>::new(config).unwrap();
        let report = Runner::new()
            .gtol(1e-4)
            .unwrap()
            .max_iters(budget)
            .run(&problem, &mut scg, Array1::zeros(30))
            .unwrap();
        println!(
            "f32, f_noise {f_noise:?}: {} iterations ({}), ||g||_inf {:.1e}, {:?}",
            report.iterations, report.stop_reason, report.grad_inf, report.evals
        );
        report
    };
    let report = run(None, 90);
    assert_eq!(
        report.stop_reason,
        StopReason::GradientTolerance,
        "{report:?}"
    );
    assert!(!run(Some(0.0), 900).converged);
}
