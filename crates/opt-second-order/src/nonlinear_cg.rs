//! Nonlinear conjugate gradients (Nocedal & Wright 2006, *Numerical
//! Optimization*, 2nd ed., section 5.2).
//!
//! From `x_0` with `p_0 = -g_0`, each iteration takes a strong Wolfe step
//! along `p_k` and builds the next direction from the new gradient:
//!
//! ```text
//! x_{k+1} = x_k + a_k p_k
//! p_{k+1} = -g_{k+1} + beta_{k+1} p_k,        y_k = g_{k+1} - g_k
//! ```
//!
//! with one of these choices of `beta` ([`CgVariant`]):
//!
//! | variant | `beta_{k+1}` | source |
//! |---|---|---|
//! | `fr` Fletcher-Reeves | `g_{k+1}'g_{k+1} / g_k'g_k` | N&W eq. (5.41a) |
//! | `pr` Polak-Ribiere | `g_{k+1}'y_k / g_k'g_k` | N&W eq. (5.44) |
//! | `prplus` PR+ | `max(beta_PR, 0)` | N&W eq. (5.45) |
//! | `hs` Hestenes-Stiefel | `g_{k+1}'y_k / p_k'y_k` | N&W eq. (5.46) |
//! | `dy` Dai-Yuan | `g_{k+1}'g_{k+1} / p_k'y_k` | N&W eq. (5.49); Dai & Yuan (1999), *SIAM J. Optim.* 10(1) |
//!
//! **Line search.** [`MoreThuente`] for the strong Wolfe conditions with
//! `c1 = 1e-4` and `c2 = 0.1` by default: N&W (section 5.2, Lemma 5.6) need
//! `c2 < 1/2` for Fletcher-Reeves to produce descent directions, and
//! recommend a small `c2` for CG in general (a nearly exact search keeps
//! successive directions close to conjugate). Both are hyperparameters; any
//! other [`LineSearch`] can be supplied with [`NonlinearCg::with_line_search`]
//! (e.g. [`opt_core::line_search::ExactQuadratic`], with which every variant
//! reproduces linear CG on a quadratic).
//!
//! **Initial trial step.** The first search starts at `1 / ||g_0||_inf`
//! (a steepest-descent step that moves the largest coordinate by one); later
//! searches at `a_{k-1} g_{k-1}'p_{k-1} / g_k'p_k`, the step that gives the
//! same first-order change as the last one (N&W section 3.5, eq. 3.59),
//! capped at
//! [`INITIAL_STEP_GROWTH`]` a_{k-1}` and replaced by `a_{k-1}` when it is
//! not a finite positive number.
//!
//! **Restarts** (`p = -g`, `beta = 0`), N&W section 5.2 "Practical
//! versions":
//! - every `restart` iterations since the last restart (default: the
//!   problem's dimension `n`);
//! - when successive gradients are far from orthogonal,
//!   `|g_{k+1}'g_k| >= nu ||g_{k+1}||^2`, N&W eq. (5.52), with `nu = 0.2`
//!   (Powell 1977, "Restart procedures for the conjugate gradient method",
//!   *Math. Programming* 12; N&W quote 0.1 as a typical value);
//! - when `beta` is not finite (e.g. `p_k'y_k = 0` for HS and DY);
//! - whenever `p_k` is not a descent direction (`g_k'p_k >= 0`), which PR,
//!   HS (and FR with `c2 >= 1/2`) can produce.
//!
//! When the line search fails along a conjugate direction the iteration
//! retries once along `-g_k`; if that fails too the solver stops with
//! [`StopReason::LineSearchFailed`], leaving the state at the last iterate.
//!
//! Metrics: `beta` (the last `beta` used, 0 after a restart), `step` (the
//! last accepted `a_k`) and `restarts` (restarts after the first iteration).
//! Buffers (direction, trial point, trial gradient) are allocated in `init`;
//! an iteration allocates nothing.

use opt_core::line_search::{LineSearch, LineSearchOutcome, MoreThuente};
use opt_core::num_traits::{Float, One, Zero};
use opt_core::{
    Counted, IterState, Objective, OptError, Result, SaveState, Scalar, ScalarOf, Solver,
    StopReason, VectorSpace, check_len,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Largest ratio between a search's first trial step and the previous
/// accepted step.
pub const INITIAL_STEP_GROWTH: f64 = 10.0;

/// The formula for `beta` (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CgVariant {
    /// Fletcher-Reeves, `g_{k+1}'g_{k+1} / g_k'g_k`.
    #[serde(rename = "fr")]
    FletcherReeves,
    /// Polak-Ribiere, `g_{k+1}'y_k / g_k'g_k`.
    #[serde(rename = "pr")]
    PolakRibiere,
    /// PR+, `max(beta_PR, 0)`: the default, the most robust of the five in
    /// practice (N&W section 5.2).
    #[default]
    #[serde(rename = "prplus")]
    PolakRibierePlus,
    /// Hestenes-Stiefel, `g_{k+1}'y_k / p_k'y_k`.
    #[serde(rename = "hs")]
    HestenesStiefel,
    /// Dai-Yuan, `g_{k+1}'g_{k+1} / p_k'y_k`.
    #[serde(rename = "dy")]
    DaiYuan,
}

impl CgVariant {
    /// The short name used in specs (`fr`, `pr`, `prplus`, `hs`, `dy`).
    pub fn as_str(self) -> &'static str {
        match self {
            CgVariant::FletcherReeves => "fr",
            CgVariant::PolakRibiere => "pr",
            CgVariant::PolakRibierePlus => "prplus",
            CgVariant::HestenesStiefel => "hs",
            CgVariant::DaiYuan => "dy",
        }
    }

    /// Every variant, in the order of the module table.
    pub const ALL: [CgVariant; 5] = [
        CgVariant::FletcherReeves,
        CgVariant::PolakRibiere,
        CgVariant::PolakRibierePlus,
        CgVariant::HestenesStiefel,
        CgVariant::DaiYuan,
    ];

    /// `beta` from the inner products of one iteration.
    fn beta<T: Scalar>(self, products: &Products<T>) -> T {
        let Products {
            g_new_sq,
            g_old_sq,
            g_new_dot_y,
            p_dot_y,
        } = *products;
        match self {
            CgVariant::FletcherReeves => g_new_sq / g_old_sq,
            CgVariant::PolakRibiere => g_new_dot_y / g_old_sq,
            CgVariant::PolakRibierePlus => (g_new_dot_y / g_old_sq).max(T::zero()),
            CgVariant::HestenesStiefel => g_new_dot_y / p_dot_y,
            CgVariant::DaiYuan => g_new_sq / p_dot_y,
        }
    }
}

impl std::fmt::Display for CgVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inner products `beta` is made of.
#[derive(Debug, Clone, Copy)]
struct Products<T> {
    g_new_sq: T,
    g_old_sq: T,
    g_new_dot_y: T,
    p_dot_y: T,
}

/// Hyperparameters of [`NonlinearCg`]. `Default`: PR+, `c1 = 1e-4`,
/// `c2 = 0.1`, restart every `n` iterations, `nu = 0.2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NonlinearCgConfig {
    /// The formula for `beta`.
    pub variant: CgVariant,
    /// Sufficient-decrease constant of the strong Wolfe search.
    pub c1: f64,
    /// Curvature constant of the strong Wolfe search, `c1 < c2 < 1`
    /// (below 1/2 for Fletcher-Reeves to guarantee descent).
    pub c2: f64,
    /// Restart with `-g` after this many iterations since the last restart;
    /// `None`: the problem's dimension.
    pub restart: Option<usize>,
    /// Restart when `|g_{k+1}'g_k| >= nu ||g_{k+1}||^2` (N&W eq. 5.52);
    /// positive (a large value switches the test off).
    pub nu: f64,
}

impl Default for NonlinearCgConfig {
    fn default() -> Self {
        Self {
            variant: CgVariant::default(),
            c1: 1e-4,
            c2: 0.1,
            restart: None,
            nu: 0.2,
        }
    }
}

impl NonlinearCgConfig {
    /// Check every hyperparameter; errors name the parameter.
    pub fn validate(&self) -> Result<()> {
        MoreThuente::new(self.c1, self.c2)?;
        self.validate_restarts()
    }

    /// The checks that do not concern the default line search.
    fn validate_restarts(&self) -> Result<()> {
        if self.restart == Some(0) {
            return Err(OptError::invalid("restart", 0, "must be at least 1"));
        }
        if !(self.nu.is_finite() && self.nu > 0.0) {
            return Err(OptError::invalid(
                "nu",
                self.nu,
                "must be positive and finite",
            ));
        }
        Ok(())
    }
}

/// Nonlinear conjugate gradients (module docs): a [`Solver`] on any
/// [`Objective`] over a [`VectorSpace`], with a strong Wolfe line search
/// ([`MoreThuente`]) unless another is given.
#[derive(Debug, Clone)]
pub struct NonlinearCg<V: VectorSpace, L = MoreThuente> {
    config: NonlinearCgConfig,
    line_search: L,
    work: Option<Work<V>>,
}

/// What `init` allocates and the loop carries.
#[derive(Debug, Clone)]
struct Work<V: VectorSpace> {
    direction: V,
    x_new: V,
    grad_new: V,
    restart_every: usize,
    /// Iterations since `direction` was last set to `-g`.
    since_restart: usize,
    /// Whether `direction` is `-g` (a retry along it would be the same search).
    steepest: bool,
    /// `g_k'g_k` of the current gradient.
    grad_sq: ScalarOf<V>,
    /// `a_{k-1}` and `g_{k-1}'p_{k-1}` for eq. (3.60); `None` before the first step.
    previous: Option<(ScalarOf<V>, ScalarOf<V>)>,
    beta: ScalarOf<V>,
    restarts: usize,
}

impl<V: VectorSpace> NonlinearCg<V, MoreThuente> {
    /// A validated solver with the More-Thuente search of `config.c1`, `config.c2`.
    pub fn new(config: NonlinearCgConfig) -> Result<Self> {
        config.validate()?;
        let line_search = MoreThuente::new(config.c1, config.c2)?;
        Ok(Self {
            config,
            line_search,
            work: None,
        })
    }
}

impl<V: VectorSpace, L: LineSearch<V>> NonlinearCg<V, L> {
    /// A validated solver with the given line search (`config.c1` and
    /// `config.c2` are then unused).
    pub fn with_line_search(config: NonlinearCgConfig, line_search: L) -> Result<Self> {
        config.validate_restarts()?;
        Ok(Self {
            config,
            line_search,
            work: None,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &NonlinearCgConfig {
        &self.config
    }

    /// The line search.
    pub fn line_search(&self) -> &L {
        &self.line_search
    }

    /// Restarts made so far (after the first iteration); 0 before `init`.
    pub fn restarts(&self) -> usize {
        self.work.as_ref().map_or(0, |w| w.restarts)
    }
}

impl<V: VectorSpace> Work<V> {
    /// `direction = -g`.
    fn restart(&mut self, grad: &V) {
        self.direction.assign(grad);
        self.direction.scale(-ScalarOf::<V>::one());
        self.since_restart = 0;
        self.steepest = true;
        self.beta = ScalarOf::<V>::zero();
    }

    /// The first trial step along `direction` with slope `slope` at a point
    /// with gradient `grad`.
    fn initial_step(&self, grad: &V, slope: ScalarOf<V>) -> ScalarOf<V> {
        type T<V> = ScalarOf<V>;
        match self.previous {
            None => {
                let step = T::<V>::one() / grad.norm_inf();
                if step.is_finite() && step > T::<V>::zero() {
                    step
                } else {
                    T::<V>::one()
                }
            }
            Some((last_step, last_slope)) => {
                let guess = last_step * last_slope / slope;
                let cap = T::<V>::of(INITIAL_STEP_GROWTH) * last_step;
                if guess.is_finite() && guess > T::<V>::zero() {
                    guess.min(cap)
                } else {
                    last_step
                }
            }
        }
    }
}

impl<P, V, L> Solver<P> for NonlinearCg<V, L>
where
    P: Objective<Vector = V>,
    V: VectorSpace,
    L: LineSearch<V>,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<V>) -> Result<()> {
        check_len("starting point", problem.dim(), state.x.len())?;
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        let mut work = Work {
            direction: state.x.zeros_like(),
            x_new: state.x.zeros_like(),
            grad_new: state.x.zeros_like(),
            restart_every: self.config.restart.unwrap_or(problem.dim()).max(1),
            since_restart: 0,
            steepest: true,
            grad_sq: state.grad.dot(&state.grad),
            previous: None,
            beta: ScalarOf::<V>::zero(),
            restarts: 0,
        };
        work.restart(&state.grad);
        self.work = Some(work);
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<V>,
    ) -> Result<Option<StopReason>> {
        type T<V> = ScalarOf<V>;
        let Some(work) = self.work.as_mut() else {
            return Err(OptError::InvalidState(
                "next_iter called before init".into(),
            ));
        };
        if work.grad_sq.is_zero() {
            return Ok(Some(StopReason::GradientTolerance));
        }
        let mut slope = state.grad.dot(&work.direction);
        let descent = slope < T::<V>::zero();
        if !descent {
            work.restart(&state.grad);
            work.restarts += 1;
            slope = -work.grad_sq;
        }
        let outcome = loop {
            let initial_step = work.initial_step(&state.grad, slope);
            match self.line_search.search(
                problem,
                &state.x,
                state.f,
                &state.grad,
                &work.direction,
                initial_step,
                &mut work.x_new,
                &mut work.grad_new,
            ) {
                Ok(outcome) => break outcome,
                Err(OptError::LineSearch { .. }) if !work.steepest => {
                    work.restart(&state.grad);
                    work.restarts += 1;
                    slope = -work.grad_sq;
                }
                Err(OptError::LineSearch { .. }) => {
                    return Ok(Some(StopReason::LineSearchFailed));
                }
                Err(error) => return Err(error),
            }
        };
        let LineSearchOutcome { step, value, .. } = outcome;
        std::mem::swap(&mut state.x, &mut work.x_new);
        std::mem::swap(&mut state.grad, &mut work.grad_new);
        state.f = value;
        work.previous = Some((step, slope));
        work.since_restart += 1;
        work.steepest = false;

        // `grad_new` now holds g_k: take g_{k+1}'g_k, then turn it into y_k.
        let (grad, old_grad) = (&state.grad, &mut work.grad_new);
        let g_new_sq = grad.dot(grad);
        let g_new_dot_g_old = grad.dot(old_grad);
        old_grad.scale_add(-T::<V>::one(), grad);
        let products = Products {
            g_new_sq,
            g_old_sq: work.grad_sq,
            g_new_dot_y: grad.dot(old_grad),
            p_dot_y: work.direction.dot(old_grad),
        };
        work.grad_sq = g_new_sq;
        let beta = self.config.variant.beta(&products);
        let far_from_orthogonal = g_new_dot_g_old.abs() >= T::<V>::of(self.config.nu) * g_new_sq;
        if work.since_restart >= work.restart_every || far_from_orthogonal || !beta.is_finite() {
            work.restart(&state.grad);
            work.restarts += 1;
        } else {
            work.direction.scale(beta);
            work.direction.axpy(-T::<V>::one(), &state.grad);
            work.beta = beta;
        }
        Ok(None)
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        match &self.work {
            None => Vec::new(),
            Some(work) => vec![
                ("beta", work.beta.to_f64_lossless()),
                (
                    "step",
                    work.previous
                        .map_or(0.0, |(step, _)| step.to_f64_lossless()),
                ),
                ("restarts", work.restarts as f64),
            ],
        }
    }
}

/// What [`NonlinearCg`] carries between iterations besides `x_k`, `f_k`
/// and `g_k` (which `init` recomputes at the restored point): the
/// direction, the restart bookkeeping, `g_k'g_k`, the last step and slope
/// that give the next search's first trial step (eq. 3.59), and the metrics.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "V: Serialize", deserialize = "V: DeserializeOwned"))]
pub struct NonlinearCgState<V: VectorSpace> {
    /// `p_k`.
    pub direction: V,
    /// Iterations since `p` was last set to `-g`.
    pub since_restart: usize,
    /// Whether `p_k = -g_k`.
    pub steepest: bool,
    /// `g_k'g_k`.
    pub grad_sq: ScalarOf<V>,
    /// `a_{k-1}` and `g_{k-1}'p_{k-1}`; `None` before the first step.
    pub previous: Option<(ScalarOf<V>, ScalarOf<V>)>,
    /// The last `beta` (metric).
    pub beta: ScalarOf<V>,
    /// Restarts so far (metric).
    pub restarts: usize,
}

/// The state is `None` before `init`. Restore it after `init` at the point
/// where it was saved: the next iterations are then those of the saved
/// run, bit for bit (the line searches keep no state between searches).
impl<V, L> SaveState for NonlinearCg<V, L>
where
    V: VectorSpace + Serialize + DeserializeOwned + std::fmt::Debug,
{
    type State = Option<NonlinearCgState<V>>;

    fn save_state(&self) -> Self::State {
        self.work.as_ref().map(|work| NonlinearCgState {
            direction: work.direction.clone(),
            since_restart: work.since_restart,
            steepest: work.steepest,
            grad_sq: work.grad_sq,
            previous: work.previous,
            beta: work.beta,
            restarts: work.restarts,
        })
    }

    fn restore_state(&mut self, state: Self::State) -> Result<()> {
        let invalid = |text: String| Err(OptError::InvalidState(text));
        let (state, work) = match (state, self.work.as_mut()) {
            (None, None) => return Ok(()),
            (Some(_), None) => {
                return invalid(
                    "nonlinear CG state saved after init restored into a solver before its init \
                     (call init at the saved point first)"
                        .into(),
                );
            }
            (None, Some(_)) => {
                return invalid(
                    "nonlinear CG state saved before init restored into an initialised solver"
                        .into(),
                );
            }
            (Some(state), Some(work)) => (state, work),
        };
        if state.direction.len() != work.direction.len() {
            return invalid(format!(
                "nonlinear CG direction of {} components for a problem of dimension {}",
                state.direction.len(),
                work.direction.len()
            ));
        }
        let positive = |v: ScalarOf<V>| v.is_finite() && v > ScalarOf::<V>::zero();
        if !(state.grad_sq.is_finite() && state.grad_sq >= ScalarOf::<V>::zero()) {
            return invalid(format!(
                "nonlinear CG g'g = {} is not finite and non-negative",
                state.grad_sq
            ));
        }
        if let Some((step, slope)) = state.previous
            && !(positive(step) && slope.is_finite())
        {
            return invalid(format!(
                "nonlinear CG last step {step} (slope {slope}) is not positive and finite"
            ));
        }
        work.direction = state.direction;
        work.since_restart = state.since_restart;
        work.steepest = state.steepest;
        work.grad_sq = state.grad_sq;
        work.previous = state.previous;
        work.beta = state.beta;
        work.restarts = state.restarts;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::DenseQuadratic;
    use ndarray::{Array1, array};
    use opt_core::line_search::ExactQuadratic;

    #[test]
    fn variants_parse_from_their_short_names() {
        for variant in CgVariant::ALL {
            let json = format!("\"{}\"", variant.as_str());
            let parsed: CgVariant = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed, variant);
        }
        let config: NonlinearCgConfig =
            serde_json::from_str(r#"{"variant": "dy", "c2": 0.2}"#).unwrap();
        assert_eq!(config.variant, CgVariant::DaiYuan);
        assert_eq!(config.c2, 0.2);
        assert!(serde_json::from_str::<NonlinearCgConfig>(r#"{"m": 3}"#).is_err());
    }

    /// On `f = 1/2 x'Ax - b'x` in 2-D with an exact search, the first step is
    /// the exact steepest-descent step and the second reaches the minimizer;
    /// the FR `beta` is the ratio of squared gradient norms.
    #[test]
    fn two_steps_solve_a_two_dimensional_quadratic_by_hand() {
        let a = array![[3.0, 1.0], [1.0, 2.0]];
        let b = array![1.0, -1.0];
        let q = DenseQuadratic::new(a.clone(), b.clone()).unwrap();
        let problem = Counted::new(q);
        let config = NonlinearCgConfig {
            variant: CgVariant::FletcherReeves,
            ..NonlinearCgConfig::default()
        };
        let mut cg = NonlinearCg::with_line_search(config, ExactQuadratic).unwrap();
        let x0 = array![0.0, 0.0];
        let mut state = IterState::new(x0.clone());
        cg.init(&problem, &mut state).unwrap();
        // g0 = -b, p0 = b, a0 = b'b / b'Ab.
        let a0 = b.dot(&b) / b.dot(&a.dot(&b));
        assert!(cg.next_iter(&problem, &mut state).unwrap().is_none());
        let x1: Array1<f64> = &x0 + &(&b * a0);
        assert!(
            (&state.x - &x1).iter().all(|d| d.abs() < 1e-15),
            "{}",
            state.x
        );
        let g1 = a.dot(&x1) - &b;
        let beta = g1.dot(&g1) / b.dot(&b);
        let metrics = Solver::<DenseQuadratic>::metrics(&cg);
        assert!((metrics[0].1 - beta).abs() < 1e-14 * beta, "{metrics:?}");
        assert!(cg.next_iter(&problem, &mut state).unwrap().is_none());
        let solution = q_solution(&a, &b);
        assert!((&state.x - &solution).iter().all(|d| d.abs() < 1e-14));
    }

    fn q_solution(a: &ndarray::Array2<f64>, b: &Array1<f64>) -> Array1<f64> {
        let det = a[[0, 0]] * a[[1, 1]] - a[[0, 1]] * a[[1, 0]];
        array![
            (a[[1, 1]] * b[0] - a[[0, 1]] * b[1]) / det,
            (a[[0, 0]] * b[1] - a[[1, 0]] * b[0]) / det
        ]
    }

    #[test]
    fn next_iter_before_init_is_an_error() {
        let problem = Counted::new(DenseQuadratic::with_condition(3, 10.0, 1));
        let mut cg = NonlinearCg::new(NonlinearCgConfig::default()).unwrap();
        let mut state = IterState::new(Array1::zeros(3));
        assert!(matches!(
            cg.next_iter(&problem, &mut state),
            Err(OptError::InvalidState(_))
        ));
    }
}
