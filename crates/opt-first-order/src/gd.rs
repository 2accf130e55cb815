//! Plain gradient descent, `x_{k+1} = x_k - a_k grad f(x_k)`.
//!
//! - [`GradientDescent`]: a fixed (or scheduled) learning rate `a_k = lr`;
//!   a [`Stepper`], so the runner's schedules and mini-batches apply.
//! - [`LineSearchDescent`]: `a_k` from a line search along `-grad f(x_k)`,
//!   backtracking Armijo by default or strong Wolfe (More-Thuente). The first
//!   trial step is 1, later ones `a_0 = 2.02 (f_{k-1} - f_k) / ||g_k||^2`,
//!   the step that would give the last decrease again if `f` were quadratic
//!   along the new direction (Nocedal & Wright 2006, eq. 3.60).

use opt_core::line_search::{BacktrackingArmijo, LineSearch, LineSearchOutcome, MoreThuente};
use opt_core::num_traits::{One, Zero};
use opt_core::{
    Counted, IterState, Objective, OptError, Result, SaveState, Scalar, ScalarOf, Solver, Stepper,
    StopReason, VectorSpace, check_len,
};
use serde::{Deserialize, Serialize};

/// Fixed-step gradient descent: `x <- x - lr g`.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientDescent {
    lr: f64,
}

fn check_learning_rate(lr: f64) -> Result<f64> {
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(OptError::invalid("lr", lr, "must be positive and finite"))
    }
}

impl GradientDescent {
    /// Gradient descent with learning rate `lr > 0`.
    pub fn new(lr: f64) -> Result<Self> {
        Ok(Self {
            lr: check_learning_rate(lr)?,
        })
    }
}

impl<V: VectorSpace> Stepper<V> for GradientDescent {
    fn step(&mut self, params: &mut V, grad: &V) -> Result<()> {
        check_len("gradient", params.len(), grad.len())?;
        if !grad.is_finite() {
            return Err(OptError::NonFinite {
                what: "gradient",
                iteration: 0,
            });
        }
        params.axpy(ScalarOf::<V>::of(-self.lr), grad);
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.lr = check_learning_rate(lr)?;
        Ok(())
    }
}

/// Which line search [`LineSearchDescent`] uses.
#[derive(Debug, Clone)]
pub enum LineSearchKind {
    /// Backtracking until the Armijo condition holds.
    Armijo(BacktrackingArmijo),
    /// More-Thuente search for the strong Wolfe conditions.
    Wolfe(MoreThuente),
}

impl Default for LineSearchKind {
    fn default() -> Self {
        LineSearchKind::Armijo(BacktrackingArmijo::default())
    }
}

impl LineSearchKind {
    fn search<P: Objective + ?Sized>(
        &mut self,
        problem: &P,
        state: &IterState<P::Vector>,
        direction: &P::Vector,
        initial_step: ScalarOf<P::Vector>,
        x_new: &mut P::Vector,
        grad_new: &mut P::Vector,
    ) -> Result<LineSearchOutcome<ScalarOf<P::Vector>>> {
        let (x, f, g) = (&state.x, state.f, &state.grad);
        match self {
            LineSearchKind::Armijo(search) => {
                search.search(problem, x, f, g, direction, initial_step, x_new, grad_new)
            }
            LineSearchKind::Wolfe(search) => {
                search.search(problem, x, f, g, direction, initial_step, x_new, grad_new)
            }
        }
    }
}

/// What [`LineSearchDescent`] carries from one iteration to the next.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineSearchDescentState {
    /// The first trial step of the next search.
    pub initial_step: f64,
    /// The step the last search accepted.
    pub last_step: f64,
}

/// Gradient descent with a line search: `x_{k+1} = x_k - a_k g_k`.
#[derive(Debug, Clone)]
pub struct LineSearchDescent<V> {
    line_search: LineSearchKind,
    state: LineSearchDescentState,
    direction: Option<V>,
    x_new: Option<V>,
    grad_new: Option<V>,
}

impl<V: VectorSpace> LineSearchDescent<V> {
    /// Descent with the given line search; the first trial step is 1.
    pub fn new(line_search: LineSearchKind) -> Self {
        Self {
            line_search,
            state: LineSearchDescentState {
                initial_step: 1.0,
                last_step: 0.0,
            },
            direction: None,
            x_new: None,
            grad_new: None,
        }
    }

    /// The next initial step after a decrease from `previous_f` to `f` at a
    /// point with gradient norm squared `grad_norm_sq`.
    fn next_initial_step(&self, previous_f: f64, f: f64, grad_norm_sq: f64) -> f64 {
        let guess = 2.02 * (previous_f - f) / grad_norm_sq;
        if guess.is_finite() && guess > 0.0 {
            guess
        } else {
            self.state.last_step
        }
    }
}

impl<P, V> Solver<P> for LineSearchDescent<V>
where
    P: Objective<Vector = V>,
    V: VectorSpace,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<V>) -> Result<()> {
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        self.direction = Some(state.x.zeros_like());
        self.x_new = Some(state.x.zeros_like());
        self.grad_new = Some(state.x.zeros_like());
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<V>,
    ) -> Result<Option<StopReason>> {
        let (Some(direction), Some(x_new), Some(grad_new)) =
            (&mut self.direction, &mut self.x_new, &mut self.grad_new)
        else {
            return Err(OptError::InvalidState(
                "next_iter called before init".into(),
            ));
        };
        let grad_norm_sq = state.grad.dot(&state.grad);
        if grad_norm_sq.is_zero() {
            return Ok(Some(StopReason::GradientTolerance));
        }
        direction.assign(&state.grad);
        direction.scale(-ScalarOf::<V>::one());
        let initial_step = ScalarOf::<V>::of(self.state.initial_step);
        let outcome =
            match self
                .line_search
                .search(problem, state, direction, initial_step, x_new, grad_new)
            {
                Ok(outcome) => outcome,
                Err(OptError::LineSearch { .. }) => return Ok(Some(StopReason::LineSearchFailed)),
                Err(error) => return Err(error),
            };
        let previous_f = state.f.to_f64_lossless();
        std::mem::swap(&mut state.x, x_new);
        std::mem::swap(&mut state.grad, grad_new);
        state.f = outcome.value;
        self.state.last_step = outcome.step.to_f64_lossless();
        self.state.initial_step = self.next_initial_step(
            previous_f,
            state.f.to_f64_lossless(),
            state.grad.dot(&state.grad).to_f64_lossless(),
        );
        Ok(None)
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![("step", self.state.last_step)]
    }
}

impl<V> SaveState for LineSearchDescent<V> {
    type State = LineSearchDescentState;

    fn save_state(&self) -> Self::State {
        self.state
    }

    fn restore_state(&mut self, state: Self::State) -> Result<()> {
        if !(state.initial_step.is_finite() && state.initial_step > 0.0) {
            return Err(OptError::InvalidState(format!(
                "initial step {} is not positive and finite",
                state.initial_step
            )));
        }
        self.state = state;
        Ok(())
    }
}
