//! OGR (online gradient regression): exact curvature on quadratics, escape
//! from a saddle, convergence where SGD at the same learning rate is slow,
//! and bad input.

use ndarray::{Array1, Array2, array};
use opt_core::{
    Counted, FiniteSum, Objective, OptError, Result, Runner, Stepper, StepperSolver, StopReason,
    check_batch,
};
use opt_second_order::ogr::{Ogr, OgrConfig};
use opt_second_order::testing::{DenseQuadratic, Rosenbrock};

/// Plain SGD for comparisons.
fn sgd<P: Objective<Vector = Array1<f64>>>(
    problem: &P,
    x0: Array1<f64>,
    lr: f64,
    steps: usize,
) -> Array1<f64> {
    let mut x = x0;
    let mut g = Array1::zeros(x.len());
    for _ in 0..steps {
        problem.value_and_grad(&x, &mut g).unwrap();
        x.scaled_add(-lr, &g);
    }
    x
}

/// `steps` OGR steps with exact gradients; the iterates, start included.
fn ogr_path<P: Objective<Vector = Array1<f64>>>(
    problem: &P,
    ogr: &mut Ogr<Array1<f64>>,
    x0: Array1<f64>,
    steps: usize,
) -> Vec<Array1<f64>> {
    let mut x = x0;
    let mut g = Array1::zeros(x.len());
    let mut path = vec![x.clone()];
    for _ in 0..steps {
        problem.value_and_grad(&x, &mut g).unwrap();
        ogr.step(&mut x, &g).unwrap();
        path.push(x.clone());
    }
    path
}

fn max_abs(v: &Array1<f64>) -> f64 {
    v.iter().fold(0.0, |m, e| m.max(e.abs()))
}

fn ogr(config: OgrConfig) -> Ogr<Array1<f64>> {
    Ogr::new(config).unwrap()
}

/// `f(x) = a (x - p)^2 / 2` in one variable.
#[derive(Debug)]
struct Parabola {
    a: f64,
    p: f64,
}

impl Objective for Parabola {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        1
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(0.5 * self.a * (x[0] - self.p).powi(2))
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad[0] = self.a * (x[0] - self.p);
        self.value(x)
    }
}

#[test]
fn on_a_parabola_the_regression_is_exact_and_each_step_moves_eta_of_the_way() {
    // Step 1 is SGD: x_1 = x_0 - lr a (x_0 - p). From step 2 on the fitted
    // curvature is a exactly, whatever beta, and x_{k+1} - p = (1 - eta)(x_k - p).
    for (a, p, lr, eta) in [
        (3.0, 2.0, 0.1, 0.5),
        (0.2, -1.0, 0.5, 1.0),
        (50.0, 0.3, 0.001, 0.8),
    ] {
        for beta in [0.1, 0.5, 0.9] {
            let config = OgrConfig {
                lr,
                beta,
                eta,
                max_lr: 1e3,
                ..OgrConfig::default()
            };
            let mut method = ogr(config);
            let path = ogr_path(&Parabola { a, p }, &mut method, array![0.0], 5);
            let x1 = 0.0 - lr * a * (0.0 - p);
            assert!((path[1][0] - x1).abs() < 1e-15);
            for k in 1..5 {
                let expected = p + (1.0 - eta) * (path[k][0] - p);
                assert!(
                    (path[k + 1][0] - expected).abs() < 1e-13 * (1.0 + p.abs()),
                    "a {a} beta {beta} step {k}: {} vs {expected}",
                    path[k + 1][0]
                );
            }
            assert_eq!(method.curvatures().len(), 1);
            assert!(
                (method.curvatures()[0] - a).abs() < 1e-9 * a,
                "{:?}",
                method.curvatures()
            );
        }
    }
}

#[test]
fn with_d_equal_to_n_the_fitted_hessian_is_exact_and_the_step_is_newtons() {
    // Diagonal quadratic, curvatures 1, 10, 100; no rotation. The three
    // directions are born from the first three gradients; after that the
    // regression recovers the Hessian and eta = 1 jumps to the minimizer.
    let problem = DenseQuadratic::new(
        Array2::from_diag(&array![1.0, 10.0, 100.0]),
        array![1.0, 1.0, 1.0],
    )
    .unwrap();
    let minimizer = problem.minimizer().unwrap();
    let config = OgrConfig {
        lr: 0.005,
        d: 3,
        rotation: 0.0,
        eta: 1.0,
        max_lr: 10.0,
        ..OgrConfig::default()
    };
    let mut method = ogr(config);
    let path = ogr_path(&problem, &mut method, Array1::zeros(3), 6);
    assert!(
        max_abs(&(&path[3] - &minimizer)) > 0.5,
        "not before the basis is complete"
    );
    assert!(max_abs(&(&path[5] - &minimizer)) < 1e-14, "{}", path[5]);
    let curvatures = method.curvatures();
    for (c, e) in curvatures.iter().zip([1.0, 10.0, 100.0]) {
        assert!((c - e).abs() < 1e-9 * e, "{curvatures:?}");
    }
    // With rotation the basis turns every step; the rotated statistics keep
    // the fit exact enough to converge just as fast.
    let mut rotating = ogr(OgrConfig {
        rotation: 0.1,
        ..config
    });
    let path = ogr_path(&problem, &mut rotating, Array1::zeros(3), 8);
    assert!(max_abs(&(&path[8] - &minimizer)) < 1e-8, "{}", path[8]);
}

#[test]
fn beats_sgd_at_the_same_learning_rate_on_a_condition_100_quadratic() {
    // Measured: SGD (lr = 0.01, about 2/L) has max error 9.1e-3 after 300
    // steps; OGR with one direction 3.1e-9, and with d = n = 10 (max_lr = 1)
    // 3.2e-11 after 30 steps.
    let problem = DenseQuadratic::with_condition(10, 100.0, 3);
    let minimizer = problem.minimizer().unwrap();
    let x0 = Array1::zeros(10);
    let sgd_error = max_abs(&(sgd(&problem, x0.clone(), 0.01, 300) - &minimizer));
    assert!(sgd_error > 5e-3, "SGD error {sgd_error:e}");

    let mut one = ogr(OgrConfig {
        lr: 0.01,
        ..OgrConfig::default()
    });
    let path = ogr_path(&problem, &mut one, x0.clone(), 300);
    let error = max_abs(&(&path[300] - &minimizer));
    assert!(error < 1e-8, "OGR d = 1 error {error:e}");

    let mut full = ogr(OgrConfig {
        lr: 0.01,
        d: 10,
        max_lr: 1.0,
        ..OgrConfig::default()
    });
    let path = ogr_path(&problem, &mut full, x0, 30);
    let error = max_abs(&(&path[30] - &minimizer));
    assert!(error < 1e-10, "OGR d = 10 error {error:e}");
}

/// A deterministic objective as a finite sum of one term, so that
/// [`StepperSolver`] can drive it.
#[derive(Debug)]
struct OneTerm<P>(P);

impl<P: Objective> Objective for OneTerm<P> {
    type Vector = P::Vector;
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn value(&self, x: &P::Vector) -> Result<opt_core::ScalarOf<P::Vector>> {
        self.0.value(x)
    }
    fn value_and_grad(
        &self,
        x: &P::Vector,
        grad: &mut P::Vector,
    ) -> Result<opt_core::ScalarOf<P::Vector>> {
        self.0.value_and_grad(x, grad)
    }
}

impl<P: Objective> FiniteSum for OneTerm<P> {
    fn num_samples(&self) -> usize {
        1
    }
    fn batch_value_and_grad(
        &self,
        x: &P::Vector,
        indices: &[usize],
        grad: &mut P::Vector,
    ) -> Result<opt_core::ScalarOf<P::Vector>> {
        check_batch(indices, 1)?;
        self.0.value_and_grad(x, grad)
    }
}

#[test]
fn converges_on_rosenbrock_through_the_runner_where_sgd_does_not() {
    // Measured with the defaults (lr = 1e-3, d = 1): f < 1e-10 at step 239;
    // SGD at lr = 1e-3 still has f = 0.45 after 1000 steps.
    let rosenbrock = Rosenbrock { dim: 2 };
    let problem = Counted::finite_sum(OneTerm(rosenbrock));
    let mut solver = StepperSolver::full_batch(ogr(OgrConfig::default()));
    let report = Runner::new()
        .max_iters(300)
        .ftol(0.0)
        .unwrap()
        .run(&problem, &mut solver, rosenbrock.start())
        .unwrap();
    assert!(
        report.f < 1e-10,
        "OGR f = {:e} ({:?})",
        report.f,
        report.stop_reason
    );
    let x_sgd = sgd(&rosenbrock, rosenbrock.start(), 1e-3, 300);
    let f_sgd = rosenbrock.value(&x_sgd).unwrap();
    assert!(f_sgd > 0.1, "SGD f = {f_sgd:e}");
}

/// `f(x, y) = x^2/2 - y^2/2 + c y^4/4`: a saddle at the origin; minima at
/// `(0, +-1/sqrt(c))` when `c > 0`.
#[derive(Debug)]
struct Saddle {
    quartic: f64,
}

impl Objective for Saddle {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, p: &Array1<f64>) -> Result<f64> {
        Ok(0.5 * p[0] * p[0] - 0.5 * p[1] * p[1] + 0.25 * self.quartic * p[1].powi(4))
    }
    fn value_and_grad(&self, p: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad[0] = p[0];
        grad[1] = -p[1] + self.quartic * p[1].powi(3);
        self.value(p)
    }
}

#[test]
fn repels_from_a_saddle_and_reaches_a_minimum() {
    // On the indefinite quadratic the two-direction model finds curvatures
    // -1 and +1 and pushes y away: |y| grows by (1 + eta) per step, against
    // (1 + lr) for SGD.
    let start = array![0.5, 1e-3];
    let config = OgrConfig {
        lr: 1e-2,
        d: 2,
        eta: 0.7,
        max_lr: 1.0,
        ..OgrConfig::default()
    };
    let mut method = ogr(config);
    let path = ogr_path(&Saddle { quartic: 0.0 }, &mut method, start.clone(), 12);
    let curvatures = method.curvatures();
    assert_eq!(curvatures.len(), 2);
    assert!(
        (curvatures[0] + 1.0).abs() < 1e-6 && (curvatures[1] - 1.0).abs() < 1e-6,
        "{curvatures:?}"
    );
    let y = path[12][1];
    assert!(y > 50.0 * start[1], "y = {y:e}");
    assert!(path[12][0].abs() < 1e-3, "{}", path[12]);
    let x_sgd = sgd(&Saddle { quartic: 0.0 }, start.clone(), 1e-2, 12);
    assert!(x_sgd[1] < 1.2 * start[1]);

    // With the quartic term it settles in the minimum (0, 1), f = -1/4,
    // where SGD at the same learning rate is still near the saddle.
    for d in [1, 2] {
        let mut method = ogr(OgrConfig {
            lr: 1e-2,
            d,
            ..OgrConfig::default()
        });
        let problem = Saddle { quartic: 1.0 };
        let path = ogr_path(&problem, &mut method, start.clone(), 300);
        let end = &path[300];
        assert!(
            end[0].abs() < 1e-6 && (end[1] - 1.0).abs() < 1e-6,
            "d = {d}: {end}"
        );
        assert!((problem.value(end).unwrap() + 0.25).abs() < 1e-12);
        let x_sgd = sgd(&problem, start.clone(), 1e-2, 300);
        assert!(
            problem.value(&x_sgd).unwrap() > -1e-3,
            "SGD reached {x_sgd}"
        );
    }
}

#[test]
fn works_in_f32() {
    let mut method = Ogr::<Array1<f32>>::new(OgrConfig {
        lr: 0.05,
        max_lr: 1.0,
        ..OgrConfig::default()
    })
    .unwrap();
    // f = 0.5 (x0^2 + 10 x1^2): gradient (x0, 10 x1).
    let mut x = Array1::from_vec(vec![1.0f32, 1.0]);
    for _ in 0..100 {
        let g = Array1::from_vec(vec![x[0], 10.0 * x[1]]);
        method.step(&mut x, &g).unwrap();
    }
    assert!(x.iter().all(|v| v.abs() < 1e-3), "{x}");
}

#[test]
fn bad_input_is_an_error() {
    let base = OgrConfig::default();
    let bad = [
        (OgrConfig { lr: 0.0, ..base }, "lr"),
        (
            OgrConfig {
                lr: f64::NAN,
                ..base
            },
            "lr",
        ),
        (OgrConfig { beta: 0.0, ..base }, "beta"),
        (OgrConfig { beta: 1.0, ..base }, "beta"),
        (OgrConfig { d: 0, ..base }, "d"),
        (OgrConfig { eta: 0.0, ..base }, "eta"),
        (OgrConfig { eta: 2.0, ..base }, "eta"),
        (
            OgrConfig {
                max_lr: -1.0,
                ..base
            },
            "max_lr",
        ),
        (
            OgrConfig {
                max_lr: f64::INFINITY,
                ..base
            },
            "max_lr",
        ),
        (
            OgrConfig {
                rotation: 1.0,
                ..base
            },
            "rotation",
        ),
        (
            OgrConfig {
                rotation: -0.1,
                ..base
            },
            "rotation",
        ),
    ];
    for (config, name) in bad {
        match Ogr::<Array1<f64>>::new(config) {
            Err(OptError::InvalidHyperparameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{config:?}: {other:?}"),
        }
    }

    // More directions than parameters: an error at the first step.
    let mut method = ogr(OgrConfig { d: 3, ..base });
    let mut x = array![1.0, 2.0];
    assert!(matches!(
        method.step(&mut x, &array![1.0, 1.0]),
        Err(OptError::InvalidHyperparameter { name: "d", .. })
    ));
    assert_eq!(x, array![1.0, 2.0]);

    // Wrong gradient length and non-finite gradients leave x untouched.
    let mut method = ogr(base);
    assert!(matches!(
        method.step(&mut x, &array![1.0]),
        Err(OptError::ShapeMismatch { .. })
    ));
    method.step(&mut x, &array![1.0, -1.0]).unwrap();
    let before = x.clone();
    assert!(matches!(
        method.step(&mut x, &array![f64::NAN, 1.0]),
        Err(OptError::NonFinite { .. })
    ));
    assert!(matches!(
        method.step(&mut x, &array![f64::INFINITY, 1.0]),
        Err(OptError::NonFinite { .. })
    ));
    assert_eq!(x, before);
    let mut longer = array![1.0, 2.0, 3.0];
    assert!(matches!(
        method.step(&mut longer, &array![1.0, 1.0, 1.0]),
        Err(OptError::ShapeMismatch { .. })
    ));

    // The learning rate is validated when changed.
    assert!(method.set_learning_rate(-1.0).is_err());
    assert_eq!(method.learning_rate(), base.lr);
    method.set_learning_rate(0.5).unwrap();
    assert_eq!(method.learning_rate(), 0.5);

    // A diverging run is reported by the runner, not hidden.
    let problem = Counted::finite_sum(OneTerm(Parabola { a: 1.0, p: 0.0 }));
    let mut solver = StepperSolver::full_batch(ogr(base));
    let report = Runner::new()
        .max_iters(3)
        .run(&problem, &mut solver, array![f64::NAN])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::Diverged);
}
