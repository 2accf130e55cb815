//! Saving and restoring the state of the full-batch solvers (SCG,
//! mini-batch SCG, L-BFGS, nonlinear CG, Newton-CG): `k` iterations, the
//! state through JSON, a fresh solver initialised at the saved point and
//! restored, then `m` more iterations give the iterates of `k + m`
//! iterations in one run, bit for bit; states that do not fit are
//! refused by name.

use ndarray::{Array1, Array2};
use opt_core::state::{restore_state_from_json, state_to_json};
use opt_core::{
    Counted, FiniteSum, IterState, Objective, OptError, Result, SaveState, Solver, VectorSpace,
    check_len,
};
use opt_second_order::lbfgs::Lbfgs;
use opt_second_order::newton_cg::{NewtonCg, NewtonCgConfig};
use opt_second_order::nonlinear_cg::{NonlinearCg, NonlinearCgConfig};
use opt_second_order::scg::{MinibatchScg, MinibatchScgConfig, Scg, ScgConfig};
use opt_second_order::testing::Rosenbrock;

/// Regularised logistic regression on a fixed stream of features: a
/// finite sum for mini-batch SCG.
#[derive(Debug)]
struct Logistic {
    features: Array2<f64>,
    labels: Array1<f64>,
    l2: f64,
}

impl Logistic {
    fn new(n: usize, d: usize) -> Self {
        let mut state = 0x9e37_79b9_u64;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let features = Array2::from_shape_fn((n, d), |_| uniform());
        let labels = Array1::from_shape_fn(n, |_| if uniform() > 0.0 { 1.0 } else { -1.0 });
        Self {
            features,
            labels,
            l2: 1e-2,
        }
    }
}

impl Objective for Logistic {
    type Vector = Array1<f64>;
    fn dim(&self) -> usize {
        self.features.ncols()
    }
    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        let mut grad = x.zeros_like();
        self.value_and_grad(x, &mut grad)
    }
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        let all: Vec<usize> = (0..self.labels.len()).collect();
        self.batch_value_and_grad(x, &all, grad)
    }
}

impl FiniteSum for Logistic {
    fn num_samples(&self) -> usize {
        self.labels.len()
    }
    fn batch_value_and_grad(
        &self,
        x: &Array1<f64>,
        indices: &[usize],
        grad: &mut Array1<f64>,
    ) -> Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        grad.fill(0.0);
        let mut value = 0.0;
        for &i in indices {
            let row = self.features.row(i);
            let margin = self.labels[i] * row.dot(x);
            // log(1 + e^-m) and its derivative -1 / (1 + e^m)
            value += (-margin).exp().ln_1p();
            grad.scaled_add(-self.labels[i] / (1.0 + margin.exp()), &row);
        }
        let count = indices.len() as f64;
        grad.mapv_inplace(|g| g / count);
        grad.scaled_add(self.l2, x);
        Ok(value / count + 0.5 * self.l2 * x.dot(x))
    }
}

fn bits(x: &Array1<f64>) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Per iteration: the iterate's, the value's and the metrics' bits.
type Trace = Vec<(Vec<u64>, u64, Vec<(&'static str, u64)>)>;

fn step<P, S>(solver: &mut S, problem: &Counted<P>, state: &mut IterState<Array1<f64>>) -> Trace
where
    P: Objective<Vector = Array1<f64>>,
    S: Solver<P>,
{
    assert_eq!(
        solver.next_iter(problem, state).expect("an iteration"),
        None
    );
    let metrics = solver
        .metrics()
        .into_iter()
        .map(|(name, value)| (name, value.to_bits()))
        .collect();
    vec![(bits(&state.x), state.f.to_bits(), metrics)]
}

/// `k + m` iterations in one run against `k`, a JSON round trip of the
/// state into a fresh solver initialised at the `k`-th iterate, and `m`
/// more. Returns the resumed trace and the trace of a fresh solver at the
/// `k`-th iterate *without* the restore, so callers can show the state
/// matters.
fn resume<P, S>(
    problem: impl Fn() -> Counted<P>,
    solver: impl Fn() -> S,
    x0: &Array1<f64>,
    k: usize,
    m: usize,
) -> (Trace, Trace)
where
    P: Objective<Vector = Array1<f64>>,
    S: Solver<P> + SaveState,
{
    let whole_problem = problem();
    let mut whole = solver();
    let mut state = IterState::new(x0.clone());
    whole.init(&whole_problem, &mut state).expect("init");
    let mut whole_trace = Trace::new();
    for _ in 0..k + m {
        whole_trace.extend(step(&mut whole, &whole_problem, &mut state));
    }

    let first_problem = problem();
    let mut first = solver();
    let mut state = IterState::new(x0.clone());
    first.init(&first_problem, &mut state).expect("init");
    for _ in 0..k {
        step(&mut first, &first_problem, &mut state);
    }
    let json = state_to_json(&first).expect("state as JSON");
    let saved_x = state.x.clone();

    let resumed_problem = problem();
    let mut resumed = solver();
    let mut state = IterState::new(saved_x.clone());
    resumed.init(&resumed_problem, &mut state).expect("init");
    restore_state_from_json(&mut resumed, &json).expect("restore");
    let mut resumed_trace = Trace::new();
    for _ in 0..m {
        resumed_trace.extend(step(&mut resumed, &resumed_problem, &mut state));
    }
    assert_eq!(resumed_trace[..], whole_trace[k..], "resumed vs whole run");
    // and the states end equal too
    assert_eq!(
        state_to_json(&resumed).expect("JSON"),
        state_to_json(&whole).expect("JSON")
    );

    let fresh_problem = problem();
    let mut fresh = solver();
    let mut state = IterState::new(saved_x);
    fresh.init(&fresh_problem, &mut state).expect("init");
    let mut fresh_trace = Trace::new();
    for _ in 0..m {
        fresh_trace.extend(step(&mut fresh, &fresh_problem, &mut state));
    }
    (resumed_trace, fresh_trace)
}

fn rosenbrock() -> Counted<Rosenbrock> {
    Counted::new(Rosenbrock { dim: 6 })
}

fn start() -> Array1<f64> {
    Rosenbrock { dim: 6 }.start()
}

fn invalid_state<T: std::fmt::Debug>(result: Result<T>, needle: &str) {
    match result {
        Err(OptError::InvalidState(text)) => assert!(text.contains(needle), "{text}"),
        other => panic!("expected an invalid state naming `{needle}`, got {other:?}"),
    }
}

#[test]
fn a_resumed_scg_run_is_bit_identical() {
    let scg = || Scg::new(ScgConfig::default()).expect("scg");
    let (resumed, fresh) = resume(rosenbrock, scg, &start(), 7, 8);
    assert_ne!(
        resumed, fresh,
        "the state must matter for the test to mean anything"
    );
}

#[test]
fn a_resumed_minibatch_scg_run_is_bit_identical() {
    for full_objective in [true, false] {
        let problem = || Counted::finite_sum(Logistic::new(40, 5));
        let solver = || {
            MinibatchScg::new(MinibatchScgConfig {
                batch_size: Some(8),
                micro_batch: Some(3),
                batches_every: 3,
                seed: 5,
                full_objective,
                ..MinibatchScgConfig::default()
            })
            .expect("minibatch scg")
        };
        // 7 iterations: in the middle of the third batch and of the first
        // epoch of batches; 12 more cross into the next epoch's shuffle
        let (resumed, fresh) = resume(problem, solver, &Array1::zeros(5), 7, 12);
        assert_ne!(resumed, fresh, "full objective {full_objective}");
    }
}

#[test]
fn a_resumed_lbfgs_run_is_bit_identical() {
    // m = 3 < k: the ring has wrapped when the state is saved
    let lbfgs = || Lbfgs::new(3).expect("lbfgs");
    let (resumed, fresh) = resume(rosenbrock, lbfgs, &start(), 6, 8);
    assert_ne!(resumed, fresh);
    // and with the ring not yet full
    let lbfgs = || Lbfgs::new(10).expect("lbfgs");
    let (resumed, fresh) = resume(rosenbrock, lbfgs, &start(), 4, 6);
    assert_ne!(resumed, fresh);
}

#[test]
fn a_resumed_nonlinear_cg_run_is_bit_identical() {
    let cg = || NonlinearCg::new(NonlinearCgConfig::default()).expect("cg");
    let (resumed, fresh) = resume(rosenbrock, cg, &start(), 5, 8);
    assert_ne!(resumed, fresh);
}

#[test]
fn a_resumed_newton_cg_run_is_bit_identical_and_needs_no_state() {
    let newton_cg = || NewtonCg::new(NewtonCgConfig::default()).expect("newton-cg");
    let (resumed, fresh) = resume(rosenbrock, newton_cg, &start(), 4, 6);
    // the iterates depend on the point alone
    assert_eq!(resumed, fresh);
    let mut solver = newton_cg();
    let mut state = solver.save_state();
    state.step = -1.0;
    invalid_state(solver.restore_state(state), "step");
}

#[test]
fn scg_states_that_do_not_fit_are_refused() {
    let problem = rosenbrock();
    let mut solver = Scg::new(ScgConfig::default()).expect("scg");
    let before_init = solver.save_state();
    assert!(before_init.is_none());
    let mut state = IterState::new(start());
    solver.init(&problem, &mut state).expect("init");
    solver.next_iter(&problem, &mut state).expect("iteration");
    let saved = solver.save_state();

    invalid_state(solver.restore_state(before_init), "before init");
    let mut fresh = Scg::<Array1<f64>>::new(ScgConfig::default()).expect("scg");
    invalid_state(fresh.restore_state(saved.clone()), "before its init");

    let other = Counted::new(Rosenbrock { dim: 4 });
    let mut small = Scg::new(ScgConfig::default()).expect("scg");
    let mut small_state = IterState::new(Rosenbrock { dim: 4 }.start());
    small.init(&other, &mut small_state).expect("init");
    invalid_state(small.restore_state(saved.clone()), "dimension 4");

    let mut zero_lambda = saved.clone().expect("after init");
    zero_lambda.lambda = 0.0;
    invalid_state(solver.restore_state(Some(zero_lambda)), "lambda");
    let mut zero_k = saved.clone().expect("after init");
    zero_k.k = 0;
    invalid_state(solver.restore_state(Some(zero_k)), "k = 0");
    // a refused state leaves the solver as it was
    assert_eq!(
        state_to_json(&solver).expect("JSON"),
        serde_json::to_string(&saved).expect("JSON")
    );
    invalid_state(restore_state_from_json(&mut solver, "{\"k\": 1}"), "");
}

#[test]
fn minibatch_scg_states_that_do_not_fit_are_refused() {
    let config = MinibatchScgConfig {
        batch_size: Some(8),
        ..MinibatchScgConfig::default()
    };
    let problem = Counted::finite_sum(Logistic::new(40, 5));
    let mut solver = MinibatchScg::new(config.clone()).expect("scg");
    let mut state = IterState::new(Array1::zeros(5));
    solver.init(&problem, &mut state).expect("init");
    let saved = solver.save_state().expect("after init");

    let mut repeated = saved.clone();
    repeated.sampler.order[1] = repeated.sampler.order[0];
    invalid_state(solver.restore_state(Some(repeated)), "permutation");
    let mut too_long = saved.clone();
    too_long.sampler.end = too_long.sampler.start + 9;
    invalid_state(solver.restore_state(Some(too_long)), "at most 8");
    let mut short_gradient = saved.clone();
    short_gradient.batch_grad = Array1::zeros(4);
    invalid_state(solver.restore_state(Some(short_gradient)), "batch gradient");
    assert_eq!(
        serde_json::to_string(&solver.save_state()).expect("JSON"),
        serde_json::to_string(&Some(saved.clone())).expect("JSON"),
        "unchanged by refused states"
    );

    let other = Counted::finite_sum(Logistic::new(30, 5));
    let mut smaller = MinibatchScg::new(config).expect("scg");
    let mut other_state = IterState::new(Array1::zeros(5));
    smaller.init(&other, &mut other_state).expect("init");
    invalid_state(smaller.restore_state(Some(saved)), "of 30");
}

#[test]
fn lbfgs_states_that_do_not_fit_are_refused() {
    let problem = rosenbrock();
    let mut solver = Lbfgs::new(3).expect("lbfgs");
    let mut state = IterState::new(start());
    solver.init(&problem, &mut state).expect("init");
    for _ in 0..4 {
        solver.next_iter(&problem, &mut state).expect("iteration");
    }
    let saved = solver.save_state().expect("after init");
    assert_eq!(saved.pairs.len(), 3);

    let mut other_history = Lbfgs::new(5).expect("lbfgs");
    let mut other_state = IterState::new(start());
    other_history
        .init(&problem, &mut other_state)
        .expect("init");
    invalid_state(other_history.restore_state(Some(saved.clone())), "m = 3");
    let mut negative = saved.clone();
    negative.pairs[1].rho = -1.0;
    invalid_state(solver.restore_state(Some(negative)), "pair 1");
    let mut short = saved.clone();
    short.pairs[0].s = Array1::zeros(5);
    invalid_state(solver.restore_state(Some(short)), "dimension 6");
    let mut fresh = Lbfgs::<Array1<f64>>::new(3).expect("lbfgs");
    invalid_state(fresh.restore_state(Some(saved)), "before its init");
    invalid_state(solver.restore_state(None), "before init");
}

#[test]
fn nonlinear_cg_states_that_do_not_fit_are_refused() {
    let problem = rosenbrock();
    let mut solver = NonlinearCg::new(NonlinearCgConfig::default()).expect("cg");
    let mut state = IterState::new(start());
    solver.init(&problem, &mut state).expect("init");
    solver.next_iter(&problem, &mut state).expect("iteration");
    let saved = solver.save_state().expect("after init");
    let mut short = saved.clone();
    short.direction = Array1::zeros(2);
    invalid_state(solver.restore_state(Some(short)), "dimension 6");
    let mut bad_step = saved.clone();
    bad_step.previous = Some((0.0, -1.0));
    invalid_state(solver.restore_state(Some(bad_step)), "last step");
    let mut fresh = NonlinearCg::<Array1<f64>>::new(NonlinearCgConfig::default()).expect("cg");
    invalid_state(fresh.restore_state(Some(saved)), "before its init");
}
