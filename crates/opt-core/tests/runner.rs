//! The runner's stopping rules, stepper adapter and observers.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use ndarray::{Array1, array};
use opt_core::runner::{History, JsonLinesTrace, SharedHistory};
use opt_core::schedule::LrSchedule;
use opt_core::{
    Counted, FiniteSum, Objective, OptError, Result, Runner, Stepper, StepperSolver, StopReason,
    check_batch,
};

/// f(x) = (1/n) sum_i 0.5 w_i ||x - c||^2 with weights w_i = i + 1, i < n:
/// a finite sum whose full gradient is w_mean (x - c).
#[derive(Debug)]
struct Bowl {
    center: Array1<f64>,
    samples: usize,
}

impl Bowl {
    fn mean_weight(&self) -> f64 {
        (self.samples + 1) as f64 / 2.0
    }
}

impl Objective for Bowl {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        self.center.len()
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        let d = x - &self.center;
        Ok(0.5 * self.mean_weight() * d.dot(&d))
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        let d = x - &self.center;
        grad.assign(&(&d * self.mean_weight()));
        Ok(0.5 * self.mean_weight() * d.dot(&d))
    }
}

impl FiniteSum for Bowl {
    fn num_samples(&self) -> usize {
        self.samples
    }
    fn batch_value_and_grad(
        &self,
        x: &Array1<f64>,
        indices: &[usize],
        grad: &mut Array1<f64>,
    ) -> Result<f64> {
        check_batch(indices, self.samples)?;
        let w = indices.iter().map(|&i| (i + 1) as f64).sum::<f64>() / indices.len() as f64;
        let d = x - &self.center;
        grad.assign(&(&d * w));
        Ok(0.5 * w * d.dot(&d))
    }
}

/// x <- x - lr g.
#[derive(Debug)]
struct PlainStep {
    lr: f64,
}

impl Stepper<Array1<f64>> for PlainStep {
    fn step(&mut self, params: &mut Array1<f64>, grad: &Array1<f64>) -> Result<()> {
        params.scaled_add(-self.lr, grad);
        Ok(())
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.lr = lr;
        Ok(())
    }
}

fn bowl(samples: usize) -> Counted<Bowl> {
    Counted::finite_sum(Bowl {
        center: array![1.0, -2.0],
        samples,
    })
}

#[test]
fn full_batch_iterates_follow_the_closed_form() {
    // n = 1: w = 1, x_k - c = (1 - lr)^k (x_0 - c).
    let problem = bowl(1);
    let mut solver = StepperSolver::full_batch(PlainStep { lr: 0.25 });
    let report = Runner::new()
        .max_iters(7)
        .run(&problem, &mut solver, array![5.0, 2.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::MaxIterations);
    assert_eq!(report.iterations, 7);
    let shrink = 0.75f64.powi(7);
    assert!((report.x[0] - (1.0 + 4.0 * shrink)).abs() < 1e-15);
    assert!((report.x[1] - (-2.0 + 4.0 * shrink)).abs() < 1e-15);
    // one evaluation at the start and one per iteration, n samples each
    assert_eq!(report.evals.grad, 8);
    assert_eq!(report.evals.samples, 8);
    assert!(!report.converged);
}

#[test]
fn schedules_set_the_learning_rate_before_each_step() {
    // lr_k = 0.5 * 0.5^floor(k / 2): factors (1 - lr_k) = 0.5, 0.5, 0.75, 0.75, 0.875.
    let problem = bowl(1);
    let schedule = LrSchedule::step(0.5, 2, 0.5).unwrap();
    let mut solver = StepperSolver::full_batch(PlainStep { lr: 123.0 }).with_schedule(schedule);
    let report = Runner::new()
        .max_iters(5)
        .run(&problem, &mut solver, array![2.0, -2.0])
        .unwrap();
    let factor = 0.5 * 0.5 * 0.75 * 0.75 * 0.875;
    assert!((report.x[0] - (1.0 + factor)).abs() < 1e-15);
    assert_eq!(solver.stepper().lr, 0.125);
}

#[test]
fn gradient_tolerance_is_checked_at_the_start_and_after_each_iteration() {
    let problem = bowl(1);
    let mut solver = StepperSolver::full_batch(PlainStep { lr: 0.5 });
    let at_optimum = Runner::new()
        .gtol(1e-12)
        .unwrap()
        .run(&problem, &mut solver, array![1.0, -2.0])
        .unwrap();
    assert_eq!(at_optimum.stop_reason, StopReason::GradientTolerance);
    assert_eq!(at_optimum.iterations, 0);
    assert!(at_optimum.converged);

    // |g|_inf = 4 * 0.5^k <= 1e-3 first at k = 12
    let report = Runner::new()
        .gtol(1e-3)
        .unwrap()
        .max_iters(100)
        .run(&problem, &mut solver, array![5.0, -2.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::GradientTolerance);
    assert_eq!(report.iterations, 12);
    assert!(report.grad_inf <= 1e-3 && report.grad_inf > 0.5e-3);
}

#[test]
fn function_tolerance_time_and_epochs_stop_a_run() {
    let problem = bowl(1);
    let mut solver = StepperSolver::full_batch(PlainStep { lr: 0.5 });
    // f_k = 8 * 0.25^k; |f_{k-1} - f_k| = 24 * 0.25^k <= 1e-6 * 1 first at k = 13
    let report = Runner::new()
        .ftol(1e-6)
        .unwrap()
        .run(&problem, &mut solver, array![5.0, -2.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::FunctionTolerance);
    assert_eq!(report.iterations, 13);

    let report = Runner::new()
        .time_budget(Duration::ZERO)
        .run(&problem, &mut solver, array![5.0, -2.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::TimeBudget);
    assert_eq!(report.iterations, 1);

    // 10 samples, batches of 4: samples counted 4, 4, 2, 4, ... -> 2 epochs after 5 steps
    let problem = bowl(10);
    let mut solver = StepperSolver::full_batch(PlainStep { lr: 0.01 })
        .with_batches(4, 7)
        .unwrap();
    let report = Runner::new()
        .max_epochs(2.0)
        .unwrap()
        .run(&problem, &mut solver, array![5.0, -2.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::MaxEpochs);
    assert_eq!(report.iterations, 6);
    assert_eq!(report.evals.samples, 4 + 4 + 2 + 4 + 4 + 2);
    assert_eq!(
        report.evals.grad, 6,
        "monitoring evaluations are not counted"
    );
}

#[test]
fn a_diverging_run_stops_with_that_reason() {
    let problem = bowl(1);
    let mut solver = StepperSolver::full_batch(PlainStep { lr: 1e200 });
    let report = Runner::new()
        .max_iters(50)
        .run(&problem, &mut solver, array![5.0, -2.0])
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::Diverged);
    assert!(!report.converged);
}

#[test]
fn bad_runner_input_is_an_error() {
    assert!(matches!(
        Runner::<Array1<f64>>::new().gtol(-1.0),
        Err(OptError::InvalidHyperparameter { name: "gtol", .. })
    ));
    assert!(Runner::<Array1<f64>>::new().ftol(f64::NAN).is_err());
    assert!(Runner::<Array1<f64>>::new().max_epochs(-2.0).is_err());
    let problem = bowl(1);
    let mut solver = StepperSolver::full_batch(PlainStep { lr: 0.5 });
    let err = Runner::new()
        .max_iters(3)
        .run(&problem, &mut solver, array![1.0, 2.0, 3.0])
        .unwrap_err();
    assert!(matches!(
        err,
        OptError::ShapeMismatch {
            expected: 2,
            got: 3,
            ..
        }
    ));
    assert!(
        StepperSolver::full_batch(PlainStep { lr: 0.5 })
            .with_batches(0, 1)
            .is_err()
    );
}

#[test]
fn mini_batches_are_seeded_and_cover_each_epoch() {
    let run = |seed| {
        let problem = bowl(9);
        let mut solver = StepperSolver::full_batch(PlainStep { lr: 0.05 })
            .with_batches(2, seed)
            .unwrap();
        Runner::new()
            .max_iters(10)
            .run(&problem, &mut solver, array![5.0, -2.0])
            .unwrap()
            .x
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn epoch_iterations_take_a_whole_pass_of_steps_per_iteration() {
    // n = 9, batches of 2: an epoch is 5 steps (the last of one sample), so
    // 3 epoch iterations are the 15 steps of plain mini-batch iterations,
    // with the schedule counting steps, not iterations.
    let schedule = LrSchedule::inverse_time(0.05, 0.1).unwrap();
    let run = |epochs: bool, iterations: usize| {
        let problem = bowl(9);
        let solver = StepperSolver::full_batch(PlainStep { lr: 1.0 })
            .with_batches(2, 5)
            .unwrap()
            .with_schedule(schedule.clone());
        let mut solver = if epochs {
            solver.with_epoch_iterations()
        } else {
            solver
        };
        let report = Runner::new()
            .max_iters(iterations)
            .run(&problem, &mut solver, array![5.0, -2.0])
            .unwrap();
        (report, solver.stepper().lr)
    };
    let (by_epoch, lr_by_epoch) = run(true, 3);
    let (by_step, lr_by_step) = run(false, 15);
    assert_eq!(by_epoch.x, by_step.x);
    assert_eq!(by_epoch.iterations, 3);
    assert_eq!(by_epoch.evals.samples, 27);
    assert_eq!(by_epoch.evals.grad, 15);
    assert_eq!(by_step.evals, by_epoch.evals);
    assert_eq!(lr_by_epoch, lr_by_step);
    assert_eq!(lr_by_epoch, 0.05 / (1.0 + 0.1 * 14.0));
}

#[test]
fn the_trace_has_one_line_per_iteration_with_the_contract_keys() {
    let problem = bowl(1);
    let mut solver = StepperSolver::full_batch(PlainStep { lr: 0.5 });
    let buffer = Rc::new(RefCell::new(Vec::<u8>::new()));
    struct Shared(Rc<RefCell<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let history: SharedHistory = Rc::new(RefCell::new(History::new(true)));
    Runner::new()
        .max_iters(3)
        .observe(Box::new(JsonLinesTrace::new(Shared(buffer.clone()))))
        .observe(Box::new(history.clone()))
        .run(&problem, &mut solver, array![3.0, -2.0])
        .unwrap();
    let text = String::from_utf8(buffer.borrow().clone()).unwrap();
    insta::assert_snapshot!(text, @r#"
    {"iter":0,"f":2.0,"grad_norm":2.0,"x":[3.0,-2.0]}
    {"iter":1,"f":0.5,"grad_norm":1.0,"x":[2.0,-2.0]}
    {"iter":2,"f":0.125,"grad_norm":0.5,"x":[1.5,-2.0]}
    {"iter":3,"f":0.03125,"grad_norm":0.25,"x":[1.25,-2.0]}
    "#);
    let history = history.borrow();
    assert_eq!(history.records.len(), 4);
    assert_eq!(history.iterates[3], vec![1.25, -2.0]);
    assert_eq!(history.records[3].evals.grad, 4);
}
