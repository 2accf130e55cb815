//! Nonlinear CG: every variant on quadratics (with the strong Wolfe search
//! and with the exact search, where all reproduce linear CG), PR+ on
//! Rosenbrock, restarts, and bad input.

use ndarray::{Array1, array};
use opt_core::line_search::{ExactQuadratic, LineSearch, LineSearchOutcome, MoreThuente};
use opt_core::{
    Counted, IterState, Objective, OptError, Result, Runner, Solver, StopReason, VectorSpace,
};
use opt_second_order::nonlinear_cg::{CgVariant, NonlinearCg, NonlinearCgConfig};
use opt_second_order::testing::{DenseQuadratic, Rosenbrock};

fn config(variant: CgVariant) -> NonlinearCgConfig {
    NonlinearCgConfig {
        variant,
        ..NonlinearCgConfig::default()
    }
}

fn metric(metrics: &[(&'static str, f64)], name: &str) -> f64 {
    metrics
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| *value)
        .unwrap_or_else(|| panic!("no metric {name} in {metrics:?}"))
}

/// Condition 100, the strong Wolfe search: `||g||_inf <= 1e-6` within `3n`
/// iterations for every variant. Steepest descent with the same search
/// needs hundreds of iterations here (`~ (kappa / 2) ln(1/eps)`), so a
/// wrong `beta` fails the bound.
///
/// Measured (iterations / evaluations): n = 50: FR 69/130, PR 70/133,
/// PR+ 70/133, HS 71/135, DY 70/132 (linear CG: 46 iterations); n = 100:
/// 70-72 / 138-141 (linear CG: 58). With `c2 = 0.1` the first trial step is
/// sometimes accepted although not exact, which costs the finite
/// termination, so the count follows CG's rate bound
/// `((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^k` (about 70 iterations for
/// `1e-6`) rather than `n`; for n = 20 that is above `3n` (57-65 against 60;
/// linear CG 23), so the test uses n >= 50.
#[test]
fn every_variant_solves_a_condition_100_quadratic_within_3n_iterations() {
    for n in [50, 100] {
        let quadratic = DenseQuadratic::with_condition(n, 100.0, 11);
        let x0 = Array1::zeros(n);
        for variant in CgVariant::ALL {
            let problem = Counted::new(quadratic.clone());
            let mut cg = NonlinearCg::new(config(variant)).unwrap();
            let report = Runner::new()
                .gtol(1e-6)
                .unwrap()
                .max_iters(3 * n)
                .run(&problem, &mut cg, x0.clone())
                .unwrap();
            println!(
                "n = {n}, {variant}: {} iterations, evals {:?}, restarts {}",
                report.iterations,
                report.evals,
                cg.restarts()
            );
            assert_eq!(
                report.stop_reason,
                StopReason::GradientTolerance,
                "{variant} n = {n}: {report:?}"
            );
            assert!(report.grad_inf <= 1e-6);
            let solution = quadratic.minimizer().unwrap();
            let error = (&report.x - &solution).norm_inf();
            assert!(error < 1e-5, "{variant}: |x - x*|_inf = {error:e}");
        }
    }
}

/// Linear CG (Nocedal & Wright 2006, Algorithm 5.2) on `Ax = b` from 0:
/// the iterates `x_0, ..., x_n`.
fn linear_cg_iterates(a: &ndarray::Array2<f64>, b: &Array1<f64>, steps: usize) -> Vec<Array1<f64>> {
    let mut x = Array1::zeros(b.len());
    let mut r = a.dot(&x) - b;
    let mut p = -&r;
    let mut iterates = vec![x.clone()];
    for _ in 0..steps {
        let ap = a.dot(&p);
        let rr = r.dot(&r);
        let alpha = rr / p.dot(&ap);
        x = &x + &(&p * alpha);
        r = &r + &(&ap * alpha);
        let beta = r.dot(&r) / rr;
        p = &p * beta - &r;
        iterates.push(x.clone());
    }
    iterates
}

/// With the exact line search on a quadratic, FR, PR, PR+, HS and DY all
/// generate the linear-CG iterates, and terminate in `n` steps. The sizes
/// are those where linear CG itself still terminates to about `1e-10` in
/// floating point (with condition 100 and n = 8 it reaches only
/// `||r_n|| / ||r_0|| ~ 3e-10`, at n = 10 `~ 2e-8`: lost orthogonality).
#[test]
fn with_an_exact_search_every_variant_reproduces_linear_cg() {
    for (n, condition, seed) in [(6, 100.0, 5), (6, 100.0, 6), (6, 100.0, 7), (12, 10.0, 3)] {
        exact_search_matches_linear_cg(n, condition, seed);
    }
}

fn exact_search_matches_linear_cg(n: usize, condition: f64, seed: u64) {
    let quadratic = DenseQuadratic::with_condition(n, condition, seed);
    let expected = linear_cg_iterates(quadratic.matrix(), quadratic.rhs(), n);
    let scale = expected[n].norm_inf();
    for variant in CgVariant::ALL {
        let problem = Counted::new(quadratic.clone());
        let mut cg = NonlinearCg::with_line_search(config(variant), ExactQuadratic).unwrap();
        let mut state = IterState::new(Array1::zeros(n));
        cg.init(&problem, &mut state).unwrap();
        let g0 = state.grad.dot(&state.grad).sqrt();
        for (k, expected_x) in expected.iter().enumerate().skip(1) {
            assert_eq!(cg.next_iter(&problem, &mut state).unwrap(), None);
            let error = (&state.x - expected_x).norm_inf();
            assert!(
                error <= 1e-10 * scale,
                "{variant}, iteration {k}: |x - x_cg|_inf = {error:e}"
            );
        }
        let g_n = state.grad.dot(&state.grad).sqrt();
        assert!(
            g_n <= 1e-10 * g0,
            "{variant}: ||g_n|| / ||g_0|| = {:e}",
            g_n / g0
        );
        // No restart before termination: the gradients stay orthogonal.
        let metrics = Solver::<DenseQuadratic>::metrics(&cg);
        assert!(
            metric(&metrics, "restarts") <= 1.0,
            "{variant}: {metrics:?}"
        );
    }
}

/// PR+ on the chained Rosenbrock function from the standard start, to
/// `||g||_inf <= 1e-6`, within bounds set from measured counts (with room).
#[test]
fn prplus_converges_on_rosenbrock() {
    // Measured: dim 2, 36 iterations, 115 evaluations; dim 100, 856
    // iterations, 1834 evaluations. (SciPy's CG, PR+ with c2 = 0.4 and no
    // periodic restart: 37/80 and 1295/1982.)
    for (dim, bound) in [(2, 50), (100, 1000)] {
        let rosenbrock = Rosenbrock { dim };
        let problem = Counted::new(rosenbrock);
        let mut cg = NonlinearCg::new(NonlinearCgConfig::default()).unwrap();
        let report = Runner::new()
            .gtol(1e-6)
            .unwrap()
            .max_iters(bound)
            .run(&problem, &mut cg, rosenbrock.start())
            .unwrap();
        println!(
            "Rosenbrock dim {dim}: {} iterations, evals {:?}, restarts {}, f = {:e}",
            report.iterations,
            report.evals,
            cg.restarts(),
            report.f
        );
        assert_eq!(
            report.stop_reason,
            StopReason::GradientTolerance,
            "{report:?}"
        );
        let error = report.x.mapv(|v| v - 1.0).norm_inf();
        assert!(error < 1e-5, "dim {dim}: |x - 1|_inf = {error:e}");
    }
}

/// `restart = 1` makes every direction `-g` (beta = 0): each step is then
/// parallel to the gradient at its start.
#[test]
fn restarting_every_iteration_is_steepest_descent() {
    let problem = Counted::new(Rosenbrock { dim: 4 });
    let cfg = NonlinearCgConfig {
        restart: Some(1),
        ..NonlinearCgConfig::default()
    };
    let mut cg = NonlinearCg::new(cfg).unwrap();
    let mut state = IterState::new(Rosenbrock { dim: 4 }.start());
    cg.init(&problem, &mut state).unwrap();
    for _ in 0..10 {
        let (x, g) = (state.x.clone(), state.grad.clone());
        assert_eq!(cg.next_iter(&problem, &mut state).unwrap(), None);
        let step = &state.x - &x;
        let cosine = -step.dot(&g) / (step.dot(&step).sqrt() * g.dot(&g).sqrt());
        assert!((cosine - 1.0).abs() < 1e-12, "cos = {cosine}");
        let metrics = Solver::<Rosenbrock>::metrics(&cg);
        assert_eq!(metric(&metrics, "beta"), 0.0);
    }
}

/// The orthogonality test restarts PR+ on Rosenbrock (successive gradients
/// are far from orthogonal in the curved valley): with periodic restarts
/// off, it restarts 14 times with `nu = 0.2` and once (a direction that was
/// not a descent direction) with the test off (huge `nu`); both converge.
#[test]
fn the_orthogonality_test_triggers_restarts() {
    let rosenbrock = Rosenbrock { dim: 2 };
    let run = |nu: f64| {
        let problem = Counted::new(rosenbrock);
        let cfg = NonlinearCgConfig {
            nu,
            restart: Some(usize::MAX),
            ..NonlinearCgConfig::default()
        };
        let mut cg = NonlinearCg::new(cfg).unwrap();
        let report = Runner::new()
            .gtol(1e-6)
            .unwrap()
            .max_iters(500)
            .run(&problem, &mut cg, rosenbrock.start())
            .unwrap();
        (report, cg.restarts())
    };
    let (with_test, restarts_with) = run(0.2);
    let (without_test, restarts_without) = run(1e300);
    println!("restarts with nu = 0.2: {restarts_with}, without: {restarts_without}");
    assert!(
        restarts_with > restarts_without,
        "{restarts_with} vs {restarts_without}"
    );
    assert!(with_test.converged && without_test.converged);
}

#[test]
fn bad_hyperparameters_are_rejected_by_name() {
    let cases = [
        (
            NonlinearCgConfig {
                c1: 0.0,
                ..NonlinearCgConfig::default()
            },
            "c1",
        ),
        (
            NonlinearCgConfig {
                c2: 1e-5,
                ..NonlinearCgConfig::default()
            },
            "c2",
        ),
        (
            NonlinearCgConfig {
                c2: 1.0,
                ..NonlinearCgConfig::default()
            },
            "c2",
        ),
        (
            NonlinearCgConfig {
                restart: Some(0),
                ..NonlinearCgConfig::default()
            },
            "restart",
        ),
        (
            NonlinearCgConfig {
                nu: 0.0,
                ..NonlinearCgConfig::default()
            },
            "nu",
        ),
        (
            NonlinearCgConfig {
                nu: f64::NAN,
                ..NonlinearCgConfig::default()
            },
            "nu",
        ),
    ];
    for (cfg, expected) in cases {
        match NonlinearCg::<Array1<f64>>::new(cfg.clone()) {
            Err(OptError::InvalidHyperparameter { name, .. }) => assert_eq!(name, expected),
            other => panic!("{cfg:?}: expected an invalid `{expected}`, got {other:?}"),
        }
    }
    // With another line search the Wolfe constants are unused, the rest checked.
    assert!(
        NonlinearCg::<Array1<f64>, _>::with_line_search(
            NonlinearCgConfig {
                c2: 5.0,
                ..NonlinearCgConfig::default()
            },
            ExactQuadratic
        )
        .is_ok()
    );
    assert!(matches!(
        NonlinearCg::<Array1<f64>, _>::with_line_search(
            NonlinearCgConfig {
                restart: Some(0),
                ..NonlinearCgConfig::default()
            },
            ExactQuadratic
        ),
        Err(OptError::InvalidHyperparameter {
            name: "restart",
            ..
        })
    ));
}

#[test]
fn a_wrong_length_start_is_a_shape_mismatch() {
    let problem = Counted::new(Rosenbrock { dim: 3 });
    let mut cg = NonlinearCg::new(NonlinearCgConfig::default()).unwrap();
    let err = Runner::new()
        .max_iters(5)
        .run(&problem, &mut cg, array![1.0, 2.0])
        .unwrap_err();
    assert!(matches!(
        err,
        OptError::ShapeMismatch {
            expected: 3,
            got: 2,
            ..
        }
    ));
    let mut state = IterState::new(array![1.0, 2.0]);
    assert!(matches!(
        Solver::init(&mut cg, &problem, &mut state),
        Err(OptError::ShapeMismatch { .. })
    ));
}

/// `f = (x - 3)^2` for `x < 1` and NaN from 1 on: the minimizer along the
/// first direction is out of the domain, so the search must stay below 1,
/// never report a NaN point, and the run ends without corrupting `x`.
#[derive(Debug, Clone, Copy)]
struct NanWall;

impl Objective for NanWall {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        1
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(if x[0] >= 1.0 {
            f64::NAN
        } else {
            (x[0] - 3.0).powi(2)
        })
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad[0] = if x[0] >= 1.0 {
            f64::NAN
        } else {
            2.0 * (x[0] - 3.0)
        };
        self.value(x)
    }
}

#[test]
fn non_finite_values_never_reach_the_state() {
    let problem = Counted::new(NanWall);
    let mut cg = NonlinearCg::new(NonlinearCgConfig::default()).unwrap();
    let report = Runner::new()
        .max_iters(50)
        .run(&problem, &mut cg, array![0.0])
        .unwrap();
    assert!(report.f.is_finite() && report.x[0] < 1.0, "{report:?}");
    assert_eq!(
        report.stop_reason,
        StopReason::LineSearchFailed,
        "{report:?}"
    );

    // A start where f is NaN: the runner stops at once as diverged.
    let mut cg = NonlinearCg::new(NonlinearCgConfig::default()).unwrap();
    let report = Runner::new()
        .max_iters(5)
        .run(&Counted::new(NanWall), &mut cg, array![2.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::Diverged);
    assert_eq!(report.iterations, 0);
}

/// More-Thuente, except that the calls numbered in `fail_on` report a
/// failure; records the cosine between each direction and `-g`.
#[derive(Debug)]
struct FlakySearch {
    inner: MoreThuente,
    fail_on: Vec<usize>,
    cosines: Vec<f64>,
}

impl LineSearch<Array1<f64>> for FlakySearch {
    fn search<P: Objective<Vector = Array1<f64>> + ?Sized>(
        &mut self,
        problem: &P,
        x: &Array1<f64>,
        value: f64,
        grad: &Array1<f64>,
        direction: &Array1<f64>,
        initial_step: f64,
        x_new: &mut Array1<f64>,
        grad_new: &mut Array1<f64>,
    ) -> Result<LineSearchOutcome<f64>> {
        let call = self.cosines.len();
        self.cosines
            .push(-grad.dot(direction) / (grad.norm2() * direction.norm2()));
        if self.fail_on.contains(&call) {
            return Err(OptError::LineSearch {
                reason: "failure injected by the test",
            });
        }
        self.inner.search(
            problem,
            x,
            value,
            grad,
            direction,
            initial_step,
            x_new,
            grad_new,
        )
    }
}

/// A failed search along a conjugate direction is retried once along `-g`;
/// when that fails too the solver stops with `LineSearchFailed` and leaves
/// the state at the last iterate.
#[test]
fn a_failed_search_is_retried_once_along_steepest_descent() {
    let rosenbrock = Rosenbrock { dim: 4 };
    let problem = Counted::new(rosenbrock);
    let search = |fail_on: Vec<usize>| FlakySearch {
        inner: MoreThuente::new(1e-4, 0.1).unwrap(),
        fail_on,
        cosines: Vec::new(),
    };
    // Call 0: the first (steepest-descent) step; call 1: the first conjugate
    // direction, which fails; call 2 must be along -g and succeeds.
    let mut cg =
        NonlinearCg::with_line_search(NonlinearCgConfig::default(), search(vec![1])).unwrap();
    let mut state = IterState::new(rosenbrock.start());
    cg.init(&problem, &mut state).unwrap();
    assert_eq!(cg.next_iter(&problem, &mut state).unwrap(), None);
    let x1 = state.x.clone();
    assert_eq!(cg.next_iter(&problem, &mut state).unwrap(), None);
    assert_ne!(state.x, x1);
    assert_eq!(cg.restarts(), 1);
    let cosines = &cg.line_search().cosines;
    assert_eq!(cosines.len(), 3);
    assert!((cosines[0] - 1.0).abs() < 1e-12 && (cosines[2] - 1.0).abs() < 1e-12);
    assert!(cosines[1] < 1.0 - 1e-6, "{cosines:?}");

    // Both the conjugate direction and the retry fail: stop, state kept.
    let mut cg =
        NonlinearCg::with_line_search(NonlinearCgConfig::default(), search(vec![1, 2])).unwrap();
    let mut state = IterState::new(rosenbrock.start());
    cg.init(&problem, &mut state).unwrap();
    assert_eq!(cg.next_iter(&problem, &mut state).unwrap(), None);
    let (x1, f1) = (state.x.clone(), state.f);
    assert_eq!(
        cg.next_iter(&problem, &mut state).unwrap(),
        Some(StopReason::LineSearchFailed)
    );
    assert_eq!((state.x.clone(), state.f), (x1, f1));
    assert_eq!(cg.line_search().cosines.len(), 3);

    // A failure along -g itself is not retried.
    let mut cg =
        NonlinearCg::with_line_search(NonlinearCgConfig::default(), search(vec![0])).unwrap();
    let mut state = IterState::new(rosenbrock.start());
    cg.init(&problem, &mut state).unwrap();
    assert_eq!(
        cg.next_iter(&problem, &mut state).unwrap(),
        Some(StopReason::LineSearchFailed)
    );
    assert_eq!(state.x, rosenbrock.start());
}

/// `f(x) = sum_i (c_i x_i^2 / 2 - x_i)` in `f32`, `c_i` from 1 to 100.
#[derive(Debug, Clone, Copy)]
struct DiagonalF32 {
    n: usize,
}

impl Objective for DiagonalF32 {
    type Vector = Array1<f32>;
    fn dim(&self) -> usize {
        self.n
    }
    fn value(&self, x: &Array1<f32>) -> Result<f32> {
        let mut grad = Array1::zeros(self.n);
        self.value_and_grad(x, &mut grad)
    }
    fn value_and_grad(&self, x: &Array1<f32>, grad: &mut Array1<f32>) -> Result<f32> {
        let mut f = 0.0;
        for i in 0..self.n {
            let c = 100f32.powf(i as f32 / (self.n - 1) as f32);
            grad[i] = c * x[i] - 1.0;
            f += 0.5 * c * x[i] * x[i] - x[i];
        }
        Ok(f)
    }
}

/// The same solver in `f32`, to `||g||_inf <= 1e-2` (from 1). Not much
/// further: near `||g|| ~ 1e-3` the decrease per step is about one ulp of
/// `f` (`|f| ~ 3.4`), and the strong Wolfe search, which compares values,
/// fails there for PR (measured: 1.3e-3 after 40 iterations).
#[test]
fn every_variant_runs_in_f32() {
    for variant in CgVariant::ALL {
        let problem = Counted::new(DiagonalF32 { n: 30 });
        let mut cg = NonlinearCg::<Array1<f32>>::new(config(variant)).unwrap();
        let report = Runner::new()
            .gtol(1e-2)
            .unwrap()
            .max_iters(90)
            .run(&problem, &mut cg, Array1::zeros(30))
            .unwrap();
        println!(
            "f32 {variant}: {} iterations, {} {}",
            report.iterations, report.grad_inf, report.stop_reason
        );
        assert_eq!(
            report.stop_reason,
            StopReason::GradientTolerance,
            "{variant}: {report:?}"
        );
    }
}
