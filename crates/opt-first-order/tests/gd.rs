//! Gradient descent: closed form, convergence, resume, bad input.

use ndarray::{Array1, array};
use opt_core::line_search::MoreThuente;
use opt_core::state::{restore_state_from_json, state_to_json};
use opt_core::{
    Counted, FiniteSum, Objective, OptError, Result, Runner, Stepper, StepperSolver, StopReason,
    check_batch,
};
use opt_first_order::{GradientDescent, LineSearchDescent, LineSearchKind};

/// f(x) = 0.5 sum_i a_i x_i^2.
#[derive(Debug)]
struct Diagonal(Array1<f64>);

impl Objective for Diagonal {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        self.0.len()
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(0.5 * (&self.0 * x * x).sum())
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad.assign(&(&self.0 * x));
        self.value(x)
    }
}

impl FiniteSum for Diagonal {
    fn num_samples(&self) -> usize {
        1
    }
    fn batch_value_and_grad(
        &self,
        x: &Array1<f64>,
        indices: &[usize],
        grad: &mut Array1<f64>,
    ) -> Result<f64> {
        check_batch(indices, 1)?;
        self.value_and_grad(x, grad)
    }
}

/// Rosenbrock in 2-D.
#[derive(Debug)]
struct Rosenbrock;

impl Objective for Rosenbrock {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        Ok(100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2))
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        grad[0] = -400.0 * x[0] * (x[1] - x[0] * x[0]) - 2.0 * (1.0 - x[0]);
        grad[1] = 200.0 * (x[1] - x[0] * x[0]);
        self.value(x)
    }
}

#[test]
fn fixed_steps_follow_the_closed_form() {
    // x_k = (1 - lr a_i)^k x_0
    let problem = Counted::finite_sum(Diagonal(array![1.0, 4.0, 0.25]));
    let lr = 0.1;
    let mut solver = StepperSolver::full_batch(GradientDescent::new(lr).unwrap());
    let x0 = array![1.0, -2.0, 3.0];
    let report = Runner::new()
        .max_iters(25)
        .run(&problem, &mut solver, x0.clone())
        .unwrap();
    for i in 0..3 {
        let expected = (1.0 - lr * problem.inner().0[i]).powi(25) * x0[i];
        assert!((report.x[i] - expected).abs() <= 1e-15 * x0[i].abs(), "{i}");
    }
    assert_eq!(report.evals.grad, 26);
}

#[test]
fn the_stepper_works_in_f32() {
    let mut gd = GradientDescent::new(0.5).unwrap();
    let mut x = array![1.0f32, 2.0];
    gd.step(&mut x, &array![2.0f32, -4.0]).unwrap();
    assert_eq!(x, array![0.0f32, 4.0]);
}

fn line_search_run(kind: LineSearchKind, max_iters: usize) -> opt_core::RunReport<Array1<f64>> {
    // condition number 100
    let problem = Counted::new(Diagonal(array![1.0, 10.0, 100.0]));
    let mut solver = LineSearchDescent::new(kind);
    Runner::new()
        .max_iters(max_iters)
        .gtol(1e-10)
        .unwrap()
        .run(&problem, &mut solver, array![1.0, 1.0, 1.0])
        .unwrap()
}

#[test]
fn line_searches_converge_on_an_ill_conditioned_quadratic() {
    for kind in [
        LineSearchKind::default(),
        LineSearchKind::Wolfe(MoreThuente::default()),
    ] {
        let name = format!("{kind:?}");
        let report = line_search_run(kind, 5000);
        assert_eq!(report.stop_reason, StopReason::GradientTolerance, "{name}");
        assert!(
            report.x.iter().all(|v| v.abs() < 1e-10),
            "{name}: {:?}",
            report.x
        );
        // steepest descent contracts at best by (k-1)/(k+1) per step on this problem;
        // needing far more than the worst case means the step choice is wrong.
        assert!(report.iterations < 3000, "{name}: {}", report.iterations);
    }
}

#[test]
fn line_search_descent_solves_rosenbrock() {
    for kind in [
        LineSearchKind::default(),
        LineSearchKind::Wolfe(MoreThuente::default()),
    ] {
        let name = format!("{kind:?}");
        let problem = Counted::new(Rosenbrock);
        let mut solver = LineSearchDescent::new(kind);
        let report = Runner::new()
            .max_iters(50_000)
            .gtol(1e-6)
            .unwrap()
            .run(&problem, &mut solver, array![-1.2, 1.0])
            .unwrap();
        assert_eq!(report.stop_reason, StopReason::GradientTolerance, "{name}");
        assert!(
            (report.x[0] - 1.0).abs() < 1e-4 && (report.x[1] - 1.0).abs() < 1e-4,
            "{name}"
        );
        assert!(report.f < 1e-10, "{name}: {}", report.f);
    }
}

#[test]
fn the_objective_never_increases_under_a_line_search() {
    let problem = Counted::new(Rosenbrock);
    let mut solver = LineSearchDescent::new(LineSearchKind::default());
    let mut previous = f64::INFINITY;
    let mut x = array![-1.2, 1.0];
    for _ in 0..50 {
        let report = Runner::new()
            .max_iters(1)
            .run(&problem, &mut solver, x)
            .unwrap();
        assert!(report.f < previous);
        previous = report.f;
        x = report.x;
    }
}

#[test]
fn a_resumed_run_is_bit_identical() {
    let problem = Counted::new(Rosenbrock);
    let mut whole = LineSearchDescent::new(LineSearchKind::default());
    let straight = Runner::new()
        .max_iters(40)
        .run(&problem, &mut whole, array![-1.2, 1.0])
        .unwrap();

    let mut first = LineSearchDescent::new(LineSearchKind::default());
    let halfway = Runner::new()
        .max_iters(15)
        .run(&problem, &mut first, array![-1.2, 1.0])
        .unwrap();
    let saved = state_to_json(&first).unwrap();
    let mut second = LineSearchDescent::new(LineSearchKind::default());
    restore_state_from_json(&mut second, &saved).unwrap();
    let resumed = Runner::new()
        .max_iters(25)
        .run(&problem, &mut second, halfway.x)
        .unwrap();
    assert_eq!(resumed.x, straight.x);
    assert_eq!(resumed.f.to_bits(), straight.f.to_bits());

    let mut fresh = LineSearchDescent::<Array1<f64>>::new(LineSearchKind::default());
    assert!(
        restore_state_from_json(&mut fresh, "{\"initial_step\": -1, \"last_step\": 0}").is_err()
    );
    assert!(restore_state_from_json(&mut fresh, "not json").is_err());
}

#[test]
fn bad_input_is_an_error_and_leaves_parameters_untouched() {
    for lr in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            GradientDescent::new(lr),
            Err(OptError::InvalidHyperparameter { name: "lr", .. })
        ));
    }
    let mut gd = GradientDescent::new(0.1).unwrap();
    let mut x = array![1.0, 2.0];
    let err = gd.step(&mut x, &array![f64::NAN, 1.0]).unwrap_err();
    assert!(matches!(
        err,
        OptError::NonFinite {
            what: "gradient",
            ..
        }
    ));
    assert_eq!(x, array![1.0, 2.0]);
    let err = gd.step(&mut x, &array![1.0, 2.0, 3.0]).unwrap_err();
    assert!(matches!(err, OptError::ShapeMismatch { .. }));
    assert_eq!(x, array![1.0, 2.0]);
    assert!(Stepper::<Array1<f64>>::set_learning_rate(&mut gd, -0.5).is_err());
    assert_eq!(Stepper::<Array1<f64>>::learning_rate(&gd), 0.1);
}

#[test]
fn a_stationary_start_stops_without_an_error() {
    let problem = Counted::new(Diagonal(array![1.0, 2.0]));
    let mut solver = LineSearchDescent::new(LineSearchKind::default());
    let report = Runner::new()
        .max_iters(10)
        .run(&problem, &mut solver, array![0.0, 0.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::GradientTolerance);
    assert_eq!(report.iterations, 0);
}
