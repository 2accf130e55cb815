//! Line-search Newton-CG, also called truncated Newton or Hessian-free
//! Newton (Nocedal & Wright 2006, *Numerical Optimization*, Algorithm 7.1).
//!
//! Each outer iteration solves the Newton system `H_k p = -g_k` inexactly by
//! linear conjugate gradients ([`crate::linear_cg`]) on Hessian-vector
//! products, from `p = 0`, to the forcing tolerance
//!
//! ```text
//! ||H_k p + g_k|| <= eta_k ||g_k||,   eta_k = min(0.5, sqrt(||g_k||))
//! ```
//!
//! ([`Forcing::Superlinear`], the book's choice, which gives superlinear
//! convergence; [`Forcing::Quadratic`] takes `eta_k = min(0.5, ||g_k||)`,
//! and [`Forcing::Constant`] a fixed `eta`). When CG meets a direction `d`
//! with `d'H_k d <= 0`, the inner loop stops: on its first iteration the
//! step is the steepest-descent direction `p = -g_k`, otherwise the last CG
//! iterate (every CG iterate from 0 is a descent direction). The inner loop
//! also stops after `max_cg_iters` products (default `n`) with its last
//! iterate.
//!
//! A line search along `p` from the unit step then gives
//! `x_{k+1} = x_k + a_k p`. Algorithm 7.1 allows "the Wolfe, Goldstein, or
//! Armijo backtracking conditions (using `a_k = 1` if possible)". The
//! default is the strong Wolfe search of More & Thuente with `c1 = 1e-4`
//! and `c2 = 0.9`, the values Nocedal & Wright give for Newton-type
//! directions (section 3.1); backtracking Armijo is the option. Measured
//! from the standard start to `||g||_inf <= 1e-8`: on 2-D Rosenbrock both
//! take 77-78 iterations (about 100 gradients and 130 Hessian-vector
//! products), but on the chained Rosenbrock function in 100 dimensions
//! Wolfe takes 292 iterations (476 gradients, 2079 products) and Armijo
//! 499 (921 gradients, 4530 products): there the unit step fails at most
//! iterations and backtracking settles for the first sufficient decrease
//! (mostly the safeguard's `a = 0.1`), while More-Thuente goes on to a step
//! that also satisfies the curvature condition. (SciPy 1.17's `newton-cg`,
//! also a Wolfe search, takes 86 and 228 iterations.)
//!
//! Only vector operations and `hvp` are used, so the method works on any
//! [`VectorSpace`]; a [`Counted`] problem counts the products (`evals.hvp`).

use opt_core::line_search::{BacktrackingArmijo, LineSearch, LineSearchOutcome, MoreThuente};
use opt_core::num_traits::{One, Zero};
use opt_core::{
    Counted, IterState, Objective, OptError, Result, SaveState, Scalar, ScalarOf, Solver,
    StopReason, VectorSpace, check_len,
};
use serde::{Deserialize, Serialize};

use crate::linear_cg::{CgOptions, CgStop, CgWorkspace, HessianOperator};

/// The forcing sequence `eta_k`: CG stops at `||r|| <= eta_k ||g_k||`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Forcing {
    /// `eta_k = min(0.5, sqrt(||g_k||))`: superlinear convergence
    /// (Nocedal & Wright, Algorithm 7.1 and Theorem 7.2).
    #[default]
    Superlinear,
    /// `eta_k = min(0.5, ||g_k||)`: quadratic convergence (Theorem 7.2).
    Quadratic,
    /// A fixed `eta` in `(0, 1)`: linear convergence (Theorem 7.1).
    Constant(f64),
}

impl Forcing {
    /// `eta_k` for a gradient of Euclidean norm `grad_norm`.
    pub fn eta(self, grad_norm: f64) -> f64 {
        match self {
            Forcing::Superlinear => grad_norm.sqrt().min(0.5),
            Forcing::Quadratic => grad_norm.min(0.5),
            Forcing::Constant(eta) => eta,
        }
    }

    fn validate(self) -> Result<()> {
        match self {
            Forcing::Constant(eta) if !(eta > 0.0 && eta < 1.0) => Err(OptError::invalid(
                "eta",
                eta,
                "constant forcing term must lie in (0, 1)",
            )),
            _ => Ok(()),
        }
    }
}

/// The line search of [`NewtonCg`], started at the unit step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewtonCgLineSearch {
    /// Backtracking until the Armijo condition holds.
    Armijo(BacktrackingArmijo),
    /// More-Thuente search for the strong Wolfe conditions (default,
    /// `c1 = 1e-4`, `c2 = 0.9`).
    Wolfe(MoreThuente),
}

impl Default for NewtonCgLineSearch {
    fn default() -> Self {
        NewtonCgLineSearch::Wolfe(MoreThuente::default())
    }
}

impl NewtonCgLineSearch {
    fn validate(&self) -> Result<()> {
        match self {
            NewtonCgLineSearch::Armijo(search) => search.validate(),
            NewtonCgLineSearch::Wolfe(search) => search.validate(),
        }
    }

    fn search<P: Objective + ?Sized>(
        &mut self,
        problem: &P,
        state: &IterState<P::Vector>,
        direction: &P::Vector,
        x_new: &mut P::Vector,
        grad_new: &mut P::Vector,
    ) -> Result<LineSearchOutcome<ScalarOf<P::Vector>>> {
        let (x, f, g) = (&state.x, state.f, &state.grad);
        let one = ScalarOf::<P::Vector>::one();
        match self {
            NewtonCgLineSearch::Armijo(search) => {
                search.search(problem, x, f, g, direction, one, x_new, grad_new)
            }
            NewtonCgLineSearch::Wolfe(search) => {
                search.search(problem, x, f, g, direction, one, x_new, grad_new)
            }
        }
    }
}

/// Hyperparameters of [`NewtonCg`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct NewtonCgConfig {
    /// The forcing sequence; default [`Forcing::Superlinear`].
    pub forcing: Forcing,
    /// Most Hessian-vector products per inner solve, at least 1; `None`
    /// (default) means the dimension `n`.
    pub max_cg_iters: Option<usize>,
    /// The line search; default strong Wolfe (More-Thuente, `c1 = 1e-4`,
    /// `c2 = 0.9`).
    pub line_search: NewtonCgLineSearch,
}

impl NewtonCgConfig {
    /// Check every hyperparameter; errors name the parameter.
    pub fn validate(&self) -> Result<()> {
        self.forcing.validate()?;
        if self.max_cg_iters == Some(0) {
            return Err(OptError::invalid("max_cg_iters", 0, "must be at least 1"));
        }
        self.line_search.validate()
    }
}

/// What the last inner solve and line search did (reported as metrics):
/// the state of [`NewtonCg`] ([`SaveState`]). The next iteration reads
/// none of it: it depends on `x_k`, `f_k`, `g_k` alone, which `init`
/// recomputes at a restored point, so a resumed run repeats the saved
/// run's iterations bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct NewtonCgState {
    /// `eta_k` of the last inner solve (metric `forcing`).
    pub forcing: f64,
    /// CG iterations of the last inner solve (metric `cg_iterations`).
    pub cg_iterations: usize,
    /// Whether it stopped at negative curvature (metric `negative_curvature`).
    pub negative_curvature: bool,
    /// The last accepted step (metric `step`).
    pub step: f64,
}

/// Buffers made once at `init`.
#[derive(Debug, Clone)]
struct NewtonCgWork<V> {
    cg: CgWorkspace<V>,
    minus_grad: V,
    direction: V,
    x_new: V,
    grad_new: V,
}

/// Line-search Newton-CG (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct NewtonCg<V> {
    config: NewtonCgConfig,
    work: Option<NewtonCgWork<V>>,
    last: NewtonCgState,
}

impl<V: VectorSpace> NewtonCg<V> {
    /// Newton-CG with validated hyperparameters.
    pub fn new(config: NewtonCgConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            work: None,
            last: NewtonCgState::default(),
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &NewtonCgConfig {
        &self.config
    }
}

impl<P, V> Solver<P> for NewtonCg<V>
where
    P: Objective<Vector = V>,
    V: VectorSpace,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<V>) -> Result<()> {
        check_len("starting point", problem.dim(), state.x.len())?;
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        self.work = Some(NewtonCgWork {
            cg: CgWorkspace::for_vector(&state.x),
            minus_grad: state.x.zeros_like(),
            direction: state.x.zeros_like(),
            x_new: state.x.zeros_like(),
            grad_new: state.x.zeros_like(),
        });
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<V>,
    ) -> Result<Option<StopReason>> {
        let work = self
            .work
            .as_mut()
            .ok_or_else(|| OptError::InvalidState("next_iter called before init".into()))?;
        check_len("iterate", work.direction.len(), state.x.len())?;
        if !state.grad.is_finite() {
            return Err(OptError::NonFinite {
                what: "gradient",
                iteration: state.iter,
            });
        }
        let grad_norm = state.grad.norm2();
        if grad_norm.is_zero() {
            return Ok(Some(StopReason::GradientTolerance));
        }
        let forcing = self.config.forcing.eta(grad_norm.to_f64_lossless());
        work.minus_grad.assign(&state.grad);
        work.minus_grad.scale(-ScalarOf::<V>::one());
        work.direction.fill(ScalarOf::<V>::zero());
        let options = CgOptions {
            tolerance: forcing,
            max_iterations: Some(self.config.max_cg_iters.unwrap_or(state.x.len())),
            preconditioner: None,
        };
        let hessian = HessianOperator::new(problem, &state.x)?;
        let inner = work
            .cg
            .solve(&hessian, &work.minus_grad, &mut work.direction, &options)?;
        let negative_curvature = inner.stop == CgStop::NegativeCurvature;
        if negative_curvature && inner.iterations == 0 {
            work.direction.assign(&work.minus_grad);
        }
        self.last = NewtonCgState {
            forcing,
            cg_iterations: inner.iterations,
            negative_curvature,
            step: 0.0,
        };
        let outcome = match self.config.line_search.search(
            problem,
            state,
            &work.direction,
            &mut work.x_new,
            &mut work.grad_new,
        ) {
            Ok(outcome) => outcome,
            Err(OptError::LineSearch { .. }) => return Ok(Some(StopReason::LineSearchFailed)),
            Err(error) => return Err(error),
        };
        std::mem::swap(&mut state.x, &mut work.x_new);
        std::mem::swap(&mut state.grad, &mut work.grad_new);
        state.f = outcome.value;
        self.last.step = outcome.step.to_f64_lossless();
        Ok(None)
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("forcing", self.last.forcing),
            ("cg_iterations", self.last.cg_iterations as f64),
            (
                "negative_curvature",
                if self.last.negative_curvature {
                    1.0
                } else {
                    0.0
                },
            ),
            ("step", self.last.step),
        ]
    }
}

impl<V> SaveState for NewtonCg<V> {
    type State = NewtonCgState;

    fn save_state(&self) -> Self::State {
        self.last
    }

    fn restore_state(&mut self, state: Self::State) -> Result<()> {
        let fits = state.forcing.is_finite()
            && state.forcing >= 0.0
            && state.step.is_finite()
            && state.step >= 0.0;
        if !fits {
            return Err(OptError::InvalidState(format!(
                "Newton-CG forcing {} or step {} is not finite and non-negative",
                state.forcing, state.step
            )));
        }
        self.last = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forcing_terms() {
        assert_eq!(Forcing::Superlinear.eta(0.04), 0.2);
        assert_eq!(Forcing::Superlinear.eta(4.0), 0.5);
        assert_eq!(Forcing::Quadratic.eta(0.04), 0.04);
        assert_eq!(Forcing::Quadratic.eta(4.0), 0.5);
        assert_eq!(Forcing::Constant(0.1).eta(4.0), 0.1);
    }
}
