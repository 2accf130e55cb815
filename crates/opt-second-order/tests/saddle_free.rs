//! Saddle-free Newton against plain Newton at a saddle, on quadratics and on
//! Rosenbrock, and its bad-input behaviour.

use ndarray::{Array1, array};
use opt_core::{Counted, Objective, OptError, Result, Runner, StopReason, check_len};
use opt_second_order::saddle_free::{SaddleFreeNewton, SaddleFreeNewtonConfig};
use opt_second_order::testing::{DenseQuadratic, Rosenbrock};

/// `f(x, y) = x^2/2 - y^2/2 + y^4/4`: a saddle at the origin (Hessian
/// `diag(1, -1)`), minima `f = -1/4` at `(0, +-1)`.
#[derive(Debug, Clone, Copy)]
struct SaddleQuartic;

impl SaddleQuartic {
    fn gradient(p: &Array1<f64>) -> Array1<f64> {
        array![p[0], -p[1] + p[1].powi(3)]
    }

    /// The Hessian is diagonal: `diag(1, -1 + 3 y^2)`.
    fn hessian_diagonal(p: &Array1<f64>) -> Array1<f64> {
        array![1.0, -1.0 + 3.0 * p[1] * p[1]]
    }
}

impl Objective for SaddleQuartic {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        2
    }

    fn value(&self, p: &Array1<f64>) -> Result<f64> {
        check_len("parameters", 2, p.len())?;
        Ok(0.5 * p[0] * p[0] - 0.5 * p[1] * p[1] + 0.25 * p[1].powi(4))
    }

    fn value_and_grad(&self, p: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad.assign(&Self::gradient(p));
        self.value(p)
    }

    fn hvp(&self, p: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> Result<()> {
        out.assign(&(Self::hessian_diagonal(p) * v));
        Ok(())
    }
}

/// Plain Newton, `x <- x - H^{-1} g`, with the 2 x 2 (diagonal) Hessian.
fn plain_newton(mut p: Array1<f64>, iterations: usize) -> Array1<f64> {
    for _ in 0..iterations {
        let step = SaddleQuartic::gradient(&p) / SaddleQuartic::hessian_diagonal(&p);
        p -= &step;
    }
    p
}

fn sfn(config: SaddleFreeNewtonConfig) -> SaddleFreeNewton<Array1<f64>> {
    SaddleFreeNewton::new(config).unwrap()
}

#[test]
fn newton_converges_to_the_saddle_while_saddle_free_newton_reaches_a_minimum() {
    for start in [array![0.5, 1e-3], array![1.0, 0.1], array![-0.8, -0.05]] {
        // Plain Newton: attracted by the saddle.
        let newton = plain_newton(start.clone(), 8);
        assert!(
            newton.iter().all(|c| c.abs() < 1e-12),
            "Newton from {start} ended at {newton}"
        );
        let h = SaddleQuartic::hessian_diagonal(&newton);
        assert!(h[0] > 0.5 && h[1] < -0.5, "indefinite there: {h}");

        // Saddle-free Newton: repelled along y, to a minimum (measured: 15, 7
        // and 8 iterations from the three starts).
        let problem = Counted::new(SaddleQuartic);
        let mut solver = sfn(SaddleFreeNewtonConfig::default());
        let report = Runner::new()
            .max_iters(20)
            .gtol(1e-12)
            .unwrap()
            .run(&problem, &mut solver, start.clone())
            .unwrap();
        assert_eq!(report.stop_reason, StopReason::GradientTolerance, "{start}");
        assert!(report.x[0].abs() < 1e-12, "{}", report.x);
        assert!((report.x[1].abs() - 1.0).abs() < 1e-12, "{}", report.x);
        assert_eq!(report.x[1].signum(), start[1].signum());
        assert!((report.f + 0.25).abs() < 1e-15, "f = {}", report.f);
    }
}

#[test]
fn first_step_at_the_saddle_region_is_repelled_by_the_exact_factor() {
    // At (0.5, 1e-3): H = diag(1, -1 + 3e-6), g = (0.5, -1e-3 + 1e-9). The
    // undamped saddle-free step is -|H|^{-1} g = (-0.5, g_y / |h_y|), which
    // decreases f, so the search keeps lambda = 0: x -> 0 and y doubles.
    let problem = Counted::new(SaddleQuartic);
    let mut solver = sfn(SaddleFreeNewtonConfig::default());
    let start = array![0.5, 1e-3];
    let report = Runner::new()
        .max_iters(1)
        .run(&problem, &mut solver, start)
        .unwrap();
    let y0: f64 = 1e-3;
    let h = -1.0 + 3.0 * y0 * y0;
    let expected_y = y0 - (-y0 + y0.powi(3)) / h.abs();
    assert_eq!(solver.last_damping(), 0.0);
    assert!(report.x[0].abs() < 1e-15, "{}", report.x);
    assert!((report.x[1] - expected_y).abs() < 1e-16, "{}", report.x);
}

#[test]
fn one_step_solves_a_convex_quadratic_in_the_full_krylov_space() {
    let n = 12;
    let quadratic = DenseQuadratic::with_condition(n, 1e4, 5);
    let minimizer = quadratic.minimizer().unwrap();
    let problem = Counted::new(quadratic);
    let config = SaddleFreeNewtonConfig {
        k: Some(n),
        ..SaddleFreeNewtonConfig::default()
    };
    let mut solver = sfn(config);
    let report = Runner::new()
        .max_iters(1)
        .run(&problem, &mut solver, Array1::zeros(n))
        .unwrap();
    let error = (&report.x - &minimizer)
        .iter()
        .fold(0.0_f64, |m, e| m.max(e.abs()));
    let scale = minimizer.iter().fold(0.0_f64, |m, e| m.max(e.abs()));
    assert!(error < 1e-10 * scale, "error {error:e}, scale {scale:e}");
    assert_eq!(solver.last_damping(), 0.0);
    let evals = problem.evals();
    assert_eq!(evals.hvp, n as u64);
    assert_eq!(evals.grad, 2);
}

/// Measured: 21 (n = 2) and 25 (n = 3) iterations to `||g||_inf <= 1e-9`.
#[test]
fn converges_on_rosenbrock() {
    // (From the standard start the chained function of dimension 4 and more
    // has a local minimum with f near 3.7 that a local method may reach.)
    for (dim, max_iters) in [(2, 30), (3, 30)] {
        let rosenbrock = Rosenbrock { dim };
        let problem = Counted::new(rosenbrock);
        let mut solver = sfn(SaddleFreeNewtonConfig::default());
        let report = Runner::new()
            .max_iters(max_iters)
            .gtol(1e-9)
            .unwrap()
            .run(&problem, &mut solver, rosenbrock.start())
            .unwrap();
        assert_eq!(
            report.stop_reason,
            StopReason::GradientTolerance,
            "dim {dim}: {report:?}"
        );
        assert!(report.f < 1e-16, "dim {dim}: f = {:e}", report.f);
        assert!(
            report.x.iter().all(|v| (v - 1.0).abs() < 1e-8),
            "{}",
            report.x
        );
    }
}

#[test]
fn works_in_f32() {
    /// `f(x) = 0.5 sum d_i x_i^2 - sum x_i` in f32.
    #[derive(Debug)]
    struct Diagonal32;
    impl Objective for Diagonal32 {
        type Vector = Array1<f32>;
        fn dim(&self) -> usize {
            3
        }
        fn value(&self, x: &Array1<f32>) -> Result<f32> {
            let d = array![1.0f32, 10.0, 100.0];
            Ok(0.5 * (&d * x * x).sum() - x.sum())
        }
        fn value_and_grad(&self, x: &Array1<f32>, grad: &mut Array1<f32>) -> Result<f32> {
            let d = array![1.0f32, 10.0, 100.0];
            grad.assign(&(&d * x - 1.0));
            self.value(x)
        }
        fn hvp(&self, _: &Array1<f32>, v: &Array1<f32>, out: &mut Array1<f32>) -> Result<()> {
            out.assign(&(array![1.0f32, 10.0, 100.0] * v));
            Ok(())
        }
    }
    let problem = Counted::new(Diagonal32);
    let mut solver =
        SaddleFreeNewton::<Array1<f32>>::new(SaddleFreeNewtonConfig::default()).unwrap();
    let report = Runner::new()
        .max_iters(1)
        .run(&problem, &mut solver, Array1::zeros(3))
        .unwrap();
    for (x, d) in report.x.iter().zip([1.0f32, 10.0, 100.0]) {
        assert!((x * d - 1.0).abs() < 1e-5, "{}", report.x);
    }
}

/// A problem whose gradient points uphill: no candidate can decrease `f`.
#[derive(Debug)]
struct WrongGradient;

impl Objective for WrongGradient {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(x.dot(x))
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad.assign(&(-2.0 * x));
        self.value(x)
    }
    fn hvp(&self, _: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> Result<()> {
        out.assign(&(2.0 * v));
        Ok(())
    }
}

/// A quadratic whose Hessian-vector product is NaN.
#[derive(Debug)]
struct NanCurvature;

impl Objective for NanCurvature {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(0.5 * x.dot(x))
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad.assign(x);
        self.value(x)
    }
    fn hvp(&self, _: &Array1<f64>, _: &Array1<f64>, out: &mut Array1<f64>) -> Result<()> {
        out.fill(f64::NAN);
        Ok(())
    }
}

#[test]
fn no_decrease_stops_with_line_search_failed_and_keeps_x() {
    let problem = Counted::new(WrongGradient);
    let mut solver = sfn(SaddleFreeNewtonConfig::default());
    let start = array![1.0, -2.0];
    let report = Runner::new()
        .max_iters(10)
        .run(&problem, &mut solver, start.clone())
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::LineSearchFailed);
    assert_eq!(report.iterations, 0);
    assert_eq!(report.x, start);
}

#[test]
fn bad_input_is_an_error() {
    let bad = [
        (
            SaddleFreeNewtonConfig {
                k: Some(0),
                ..Default::default()
            },
            "k",
        ),
        (
            SaddleFreeNewtonConfig {
                damping_min: 0.0,
                ..Default::default()
            },
            "damping_min",
        ),
        (
            SaddleFreeNewtonConfig {
                damping_min: -1.0,
                ..Default::default()
            },
            "damping_min",
        ),
        (
            SaddleFreeNewtonConfig {
                damping_min: f64::NAN,
                ..Default::default()
            },
            "damping_min",
        ),
        (
            SaddleFreeNewtonConfig {
                damping_max: 1e-9,
                ..Default::default()
            },
            "damping_max",
        ),
        (
            SaddleFreeNewtonConfig {
                damping_max: f64::INFINITY,
                ..Default::default()
            },
            "damping_max",
        ),
        (
            SaddleFreeNewtonConfig {
                damping_candidates: 0,
                ..Default::default()
            },
            "damping_candidates",
        ),
    ];
    for (config, name) in bad {
        match SaddleFreeNewton::<Array1<f64>>::new(config) {
            Err(OptError::InvalidHyperparameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{config:?}: {other:?}"),
        }
    }

    // A start of the wrong length.
    let problem = Counted::new(SaddleQuartic);
    let mut solver = sfn(SaddleFreeNewtonConfig::default());
    let result = Runner::new()
        .max_iters(1)
        .run(&problem, &mut solver, Array1::zeros(3));
    assert!(
        matches!(result, Err(OptError::ShapeMismatch { .. })),
        "{result:?}"
    );

    // A non-finite Hessian-vector product.
    let problem = Counted::new(NanCurvature);
    let mut solver = sfn(SaddleFreeNewtonConfig::default());
    let result = Runner::new()
        .max_iters(1)
        .run(&problem, &mut solver, array![1.0, 2.0]);
    assert!(
        matches!(result, Err(OptError::NonFinite { .. })),
        "{result:?}"
    );

    // A non-finite start value stops the run as diverged before any step.
    let problem = Counted::new(SaddleQuartic);
    let mut solver = sfn(SaddleFreeNewtonConfig::default());
    let report = Runner::new()
        .max_iters(5)
        .run(&problem, &mut solver, array![f64::NAN, 0.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::Diverged);
    assert_eq!(problem.evals().hvp, 0);
}
