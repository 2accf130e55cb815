//! Newton's method with a dense Hessian: line-search Newton (plain or with
//! the Hessian modified by a multiple of the identity) and damped Newton
//! (Levenberg-style damping controlled by the reduction ratio).
//!
//! The Hessian `H_k` is assembled by [`dense_hessian`] column by column from
//! `n` Hessian-vector products `H e_j` and symmetrized, `(H + H') / 2`; it is
//! factored in `f64` by [`crate::linalg::cholesky`].
//!
//! **[`Newton`]** (Nocedal & Wright 2006, *Numerical Optimization*, sections
//! 3.3-3.4): the direction solves `(H_k + tau_k I) p_k = -g_k` and a
//! backtracking Armijo search ([`BacktrackingArmijo`], first trial step 1)
//! gives `x_{k+1} = x_k + a_k p_k`.
//!
//! - [`NewtonMode::Plain`]: `tau_k = 0`; a Hessian whose Cholesky
//!   factorization fails is an [`OptError::NotPositiveDefinite`] (no silent
//!   fallback).
//! - [`NewtonMode::Modified`] (default): Algorithm 3.3, "Cholesky with added
//!   multiple of the identity" ([`cholesky_with_added_identity`]):
//!   `tau_0 = 0` if `min_i H_ii > 0`, else `tau_0 = -min_i H_ii + beta`;
//!   while `H + tau I` has no Cholesky factor, `tau <- max(2 tau, beta)`.
//!   `beta = 1e-3` is the book's "typical choice"; it is absolute, so on a
//!   problem whose Hessian is far from unit scale it may be worth changing.
//!
//! Near a minimizer with a positive definite Hessian, `tau_k = 0` and the
//! unit step is accepted (the Armijo constant is below 1/2), so the iteration
//! is Newton's and converges quadratically.
//!
//! **[`DampedNewton`]** (Levenberg 1944, Marquardt 1963, on the Hessian
//! instead of the Gauss-Newton matrix; the control of the damping follows
//! Madsen, Nielsen & Tingleff 2004, *Methods for Non-Linear Least Squares
//! Problems*, IMM DTU, section 3.2): solve `(H_k + eps_k I) p = -g_k`, then
//! compare the actual decrease with the one predicted by the quadratic model,
//!
//! ```text
//! rho = (f(x) - f(x + p)) / -(g'p + p'H p / 2)
//! ```
//!
//! and accept `x + p` when `rho > eta` (default `eta = 0`: any decrease, as
//! in Madsen, Nielsen & Tingleff). Near a minimizer the predicted decrease
//! falls below the rounding level of `f` (`10 eps |f|`, `eps` the machine
//! epsilon of the scalar type) and `rho` is noise; there a step that does not
//! increase `f` is accepted and `eps` kept, which is what the Armijo test of
//! [`Newton`] reads in that regime, so the gradient can still be driven to
//! its own rounding level. The damping is otherwise updated by
//!
//! - [`DampingUpdate::Nielsen`] (default; H. B. Nielsen 1999, "Damping
//!   parameter in Marquardt's method", IMM-REP-1999-05, as given in the
//!   book's section 2.4):
//!   after an accepted step `eps <- eps max(1/3, 1 - (2 rho - 1)^3)` and
//!   `nu <- 2`; after a rejected one `eps <- nu eps`, `nu <- 2 nu`;
//! - [`DampingUpdate::Marquardt`] (the book's section 2.4, after Marquardt
//!   1963): `eps <- eps / 3` when `rho > 0.75`, `eps <- 2 eps` when
//!   `rho < 0.25` (and after every rejection).
//!
//! The two rules are close here (measured from the standard starts to
//! `||g||_inf <= 1e-10`: 22 and 23 iterations on 2-D Rosenbrock, 164 and 160
//! on the chained function in 100 dimensions); Nielsen's is the default as
//! the smoother rule the book recommends.
//!
//! `eps` never falls below `min_damping`. When `H + eps I` is not positive
//! definite (an indefinite Hessian), `eps` is raised by the same rule and the
//! factorization retried without evaluating `f`. The first damping is
//! `eps_0 = max(initial_damping max_i |H_ii(x_0)|, min_damping)` (the
//! book's starting rule for Levenberg-Marquardt, section 3.2, applied to the
//! Hessian's diagonal). One iteration ends with one accepted
//! step; after `max_trials` factorizations or rejections, or once the step is
//! too short to change `x` in floating point, the solver stops with
//! [`StopReason::LineSearchFailed`] (no acceptable step), `x` unchanged.

use ndarray::linalg::general_mat_vec_mul;
use ndarray::{Array1, Array2};
use opt_core::line_search::{BacktrackingArmijo, LineSearch};
use opt_core::{
    Counted, IterState, Objective, OptError, Result, SaveState, Scalar, Solver, StopReason,
    VectorSpace, check_len,
};
use serde::{Deserialize, Serialize};

use crate::linalg::{Cholesky, cholesky};

/// `beta` of Nocedal & Wright's Algorithm 3.3: the book's typical choice.
pub const DEFAULT_BETA: f64 = 1e-3;

/// The dense Hessian of `problem` at `x` into `hessian` (`n x n`): column
/// `j` is `H e_j` from [`Objective::hvp`], then the matrix is symmetrized,
/// `(H + H') / 2`. Makes two `n`-vectors; [`Newton`] and [`DampedNewton`]
/// keep theirs between iterations.
///
/// Errors: `x` or `hessian` of the wrong size ([`OptError::ShapeMismatch`]),
/// a non-finite entry ([`OptError::NonFinite`]), the problem's own errors.
pub fn dense_hessian<P, T>(problem: &P, x: &Array1<T>, hessian: &mut Array2<f64>) -> Result<()>
where
    P: Objective<Vector = Array1<T>> + ?Sized,
    T: Scalar,
{
    HessianColumns::new(problem.dim()).assemble(problem, x, hessian, 0)
}

/// The two vectors [`dense_hessian`] needs: `e_j` and `H e_j`.
#[derive(Debug, Clone)]
struct HessianColumns<T> {
    unit: Array1<T>,
    column: Array1<T>,
}

impl<T: Scalar> HessianColumns<T> {
    fn new(n: usize) -> Self {
        Self {
            unit: Array1::zeros(n),
            column: Array1::zeros(n),
        }
    }

    fn assemble<P>(
        &mut self,
        problem: &P,
        x: &Array1<T>,
        hessian: &mut Array2<f64>,
        iteration: usize,
    ) -> Result<()>
    where
        P: Objective<Vector = Array1<T>> + ?Sized,
    {
        let n = problem.dim();
        check_len("Hessian point", n, x.len())?;
        check_len("Hessian rows", n, hessian.nrows())?;
        check_len("Hessian columns", n, hessian.ncols())?;
        if self.unit.len() != n {
            *self = Self::new(n);
        }
        self.unit.fill(T::zero());
        for j in 0..n {
            self.unit[j] = T::one();
            problem.hvp(x, &self.unit, &mut self.column)?;
            self.unit[j] = T::zero();
            for (entry, value) in hessian.column_mut(j).iter_mut().zip(&self.column) {
                *entry = value.to_f64_lossless();
            }
        }
        for i in 0..n {
            for j in 0..i {
                let mean = 0.5 * (hessian[[i, j]] + hessian[[j, i]]);
                hessian[[i, j]] = mean;
                hessian[[j, i]] = mean;
            }
        }
        if hessian.iter().all(|v| v.is_finite()) {
            Ok(())
        } else {
            Err(OptError::NonFinite {
                what: "Hessian",
                iteration,
            })
        }
    }
}

/// `shifted = matrix + tau I`, then its Cholesky factor if it has one.
fn factor_shifted(
    matrix: &Array2<f64>,
    tau: f64,
    shifted: &mut Array2<f64>,
) -> Result<Option<Cholesky>> {
    shifted.assign(matrix);
    shifted.diag_mut().mapv_inplace(|d| d + tau);
    cholesky(shifted)
}

/// A Cholesky factor of `A + tau I` from [`cholesky_with_added_identity`].
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftedCholesky {
    /// The factor of `A + tau I`.
    pub factor: Cholesky,
    /// The shift that made `A + tau I` positive definite (0 when `A` was).
    pub tau: f64,
    /// Factorizations attempted (at least 1).
    pub attempts: usize,
}

/// Nocedal & Wright (2006) Algorithm 3.3, "Cholesky with added multiple of
/// the identity": the Cholesky factor of `A + tau I` for the first `tau` of
/// `tau_0 = 0` (if `min_i a_ii > 0`) or `-min_i a_ii + beta`, then
/// `tau <- max(2 tau, beta)`.
///
/// Errors: `beta` not positive and finite, `max_attempts` zero
/// ([`OptError::InvalidHyperparameter`]); `a` not square or not finite;
/// no factor within `max_attempts` ([`OptError::NotPositiveDefinite`]).
pub fn cholesky_with_added_identity(
    a: &Array2<f64>,
    beta: f64,
    max_attempts: usize,
) -> Result<ShiftedCholesky> {
    check_beta(beta)?;
    check_at_least_one("max_shifts", max_attempts)?;
    let mut shifted = a.clone();
    added_identity(a, beta, max_attempts, &mut shifted)
}

fn added_identity(
    a: &Array2<f64>,
    beta: f64,
    max_attempts: usize,
    shifted: &mut Array2<f64>,
) -> Result<ShiftedCholesky> {
    check_len("matrix columns", a.nrows(), a.ncols())?;
    let min_diagonal = a.diag().iter().fold(f64::INFINITY, |m, &d| m.min(d));
    let mut tau = if min_diagonal > 0.0 {
        0.0
    } else {
        -min_diagonal + beta
    };
    for attempts in 1..=max_attempts {
        if let Some(factor) = factor_shifted(a, tau, shifted)? {
            return Ok(ShiftedCholesky {
                factor,
                tau,
                attempts,
            });
        }
        if attempts < max_attempts {
            tau = (2.0 * tau).max(beta);
        }
    }
    Err(OptError::NotPositiveDefinite {
        what: "Hessian + tau I",
        detail: format!(" after {max_attempts} shifts (last tau = {tau:e})"),
    })
}

fn check_beta(beta: f64) -> Result<()> {
    if beta.is_finite() && beta > 0.0 {
        Ok(())
    } else {
        Err(OptError::invalid(
            "beta",
            beta,
            "must be positive and finite",
        ))
    }
}

fn check_at_least_one(name: &'static str, value: usize) -> Result<()> {
    if value >= 1 {
        Ok(())
    } else {
        Err(OptError::invalid(name, value, "must be at least 1"))
    }
}

/// The gradient must be finite before anything is built from it.
fn check_gradient<T: Scalar>(grad: &Array1<T>, iteration: usize) -> Result<()> {
    if grad.is_finite() {
        Ok(())
    } else {
        Err(OptError::NonFinite {
            what: "gradient",
            iteration,
        })
    }
}

fn not_initialized() -> OptError {
    OptError::InvalidState("next_iter called before init".into())
}

/// How [`Newton`] treats a Hessian that is not positive definite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewtonMode {
    /// Cholesky of `H` itself; an [`OptError::NotPositiveDefinite`] when it fails.
    Plain,
    /// Nocedal & Wright Algorithm 3.3: `H + tau I` with the smallest `tau`
    /// of the doubling sequence that admits a Cholesky factor.
    #[default]
    Modified,
}

/// Hyperparameters of [`Newton`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NewtonConfig {
    /// Plain or modified (default) Newton.
    pub mode: NewtonMode,
    /// `beta` of Algorithm 3.3 (modified mode), positive; default
    /// [`DEFAULT_BETA`] = `1e-3`.
    pub beta: f64,
    /// Most factorizations per iteration in modified mode (each doubles
    /// `tau`), at least 1; default 64.
    pub max_shifts: usize,
    /// The backtracking search along `p`, started at step 1 (`c1`,
    /// `shrink`, ...; defaults `1e-4`, `0.5`).
    pub line_search: BacktrackingArmijo,
}

impl Default for NewtonConfig {
    fn default() -> Self {
        Self {
            mode: NewtonMode::Modified,
            beta: DEFAULT_BETA,
            max_shifts: 64,
            line_search: BacktrackingArmijo::default(),
        }
    }
}

impl NewtonConfig {
    /// Check every hyperparameter; errors name the parameter.
    pub fn validate(&self) -> Result<()> {
        check_beta(self.beta)?;
        check_at_least_one("max_shifts", self.max_shifts)?;
        self.line_search.validate()
    }
}

/// Buffers made once at `init`.
#[derive(Debug, Clone)]
struct NewtonWork<T> {
    columns: HessianColumns<T>,
    hessian: Array2<f64>,
    shifted: Array2<f64>,
    rhs: Array1<f64>,
    direction: Array1<T>,
    x_new: Array1<T>,
    grad_new: Array1<T>,
}

impl<T: Scalar> NewtonWork<T> {
    fn new(n: usize) -> Self {
        Self {
            columns: HessianColumns::new(n),
            hessian: Array2::zeros((n, n)),
            shifted: Array2::zeros((n, n)),
            rhs: Array1::zeros(n),
            direction: Array1::zeros(n),
            x_new: Array1::zeros(n),
            grad_new: Array1::zeros(n),
        }
    }

    /// `rhs = -g` in `f64`.
    fn set_minus_gradient(&mut self, grad: &Array1<T>) {
        for (r, g) in self.rhs.iter_mut().zip(grad) {
            *r = -g.to_f64_lossless();
        }
    }
}

/// Line-search Newton with a dense Hessian, plain or modified
/// (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct Newton<T> {
    config: NewtonConfig,
    work: Option<NewtonWork<T>>,
    last_tau: f64,
    last_step: f64,
}

impl<T: Scalar> Newton<T> {
    /// Newton with validated hyperparameters.
    pub fn new(config: NewtonConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            work: None,
            last_tau: 0.0,
            last_step: 0.0,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &NewtonConfig {
        &self.config
    }
}

impl<P, T> Solver<P> for Newton<T>
where
    P: Objective<Vector = Array1<T>>,
    T: Scalar,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<Array1<T>>) -> Result<()> {
        check_len("starting point", problem.dim(), state.x.len())?;
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        self.work = Some(NewtonWork::new(problem.dim()));
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<Array1<T>>,
    ) -> Result<Option<StopReason>> {
        let work = self.work.as_mut().ok_or_else(not_initialized)?;
        check_len("iterate", work.rhs.len(), state.x.len())?;
        check_gradient(&state.grad, state.iter)?;
        if state.grad.norm_inf().is_zero() {
            return Ok(Some(StopReason::GradientTolerance));
        }
        work.columns
            .assemble(problem, &state.x, &mut work.hessian, state.iter)?;
        let factor = match self.config.mode {
            NewtonMode::Plain => match cholesky(&work.hessian)? {
                Some(factor) => {
                    self.last_tau = 0.0;
                    factor
                }
                None => {
                    return Err(OptError::NotPositiveDefinite {
                        what: "Hessian",
                        detail: format!(
                            " at iteration {} (Cholesky failed): plain Newton has no \
                             fallback; use mode=modified or damped Newton",
                            state.iter
                        ),
                    });
                }
            },
            NewtonMode::Modified => {
                let shifted = added_identity(
                    &work.hessian,
                    self.config.beta,
                    self.config.max_shifts,
                    &mut work.shifted,
                )?;
                self.last_tau = shifted.tau;
                shifted.factor
            }
        };
        work.set_minus_gradient(&state.grad);
        factor.solve_in_place(&mut work.rhs);
        for (d, &p) in work.direction.iter_mut().zip(&work.rhs) {
            *d = T::of(p);
        }
        if !work.direction.is_finite() {
            return Err(OptError::NonFinite {
                what: "Newton direction",
                iteration: state.iter,
            });
        }
        let outcome = match self.config.line_search.search(
            problem,
            &state.x,
            state.f,
            &state.grad,
            &work.direction,
            T::one(),
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
        self.last_step = outcome.step.to_f64_lossless();
        Ok(None)
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![("tau", self.last_tau), ("step", self.last_step)]
    }
}

/// How [`DampedNewton`] changes the damping `eps` after a trial step with
/// reduction ratio `rho`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DampingUpdate {
    /// Nielsen (1999): accepted, `eps <- eps max(1/3, 1 - (2 rho - 1)^3)`,
    /// `nu <- 2`; rejected, `eps <- nu eps`, `nu <- 2 nu`.
    #[default]
    Nielsen,
    /// Marquardt (1963) thresholds: `eps / 3` when `rho > 0.75`, `2 eps`
    /// when `rho < 0.25` or rejected.
    Marquardt,
}

/// Hyperparameters of [`DampedNewton`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DampedNewtonConfig {
    /// `tau` in `eps_0 = max(tau max_i |H_ii(x_0)|, min_damping)`, positive
    /// and finite; default `1e-3`.
    pub initial_damping: f64,
    /// Floor of `eps`, positive and finite; default `1e-12`.
    pub min_damping: f64,
    /// A step is accepted when `rho > eta`; `eta` in `[0, 0.25)`, default 0.
    pub eta: f64,
    /// The damping rule; default [`DampingUpdate::Nielsen`].
    pub update: DampingUpdate,
    /// Most factorizations or rejected steps per iteration, at least 1;
    /// default 50.
    pub max_trials: usize,
}

impl Default for DampedNewtonConfig {
    fn default() -> Self {
        Self {
            initial_damping: 1e-3,
            min_damping: 1e-12,
            eta: 0.0,
            update: DampingUpdate::Nielsen,
            max_trials: 50,
        }
    }
}

impl DampedNewtonConfig {
    /// Check every hyperparameter; errors name the parameter.
    pub fn validate(&self) -> Result<()> {
        if !(self.initial_damping.is_finite() && self.initial_damping > 0.0) {
            return Err(OptError::invalid(
                "initial_damping",
                self.initial_damping,
                "must be positive and finite",
            ));
        }
        if !(self.min_damping.is_finite() && self.min_damping > 0.0) {
            return Err(OptError::invalid(
                "min_damping",
                self.min_damping,
                "must be positive and finite",
            ));
        }
        if !(self.eta >= 0.0 && self.eta < 0.25) {
            return Err(OptError::invalid("eta", self.eta, "must lie in [0, 0.25)"));
        }
        check_at_least_one("max_trials", self.max_trials)
    }
}

/// What [`DampedNewton`] carries between iterations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DampedNewtonState {
    /// The damping for the next iteration (`None` before the first, when it
    /// is taken from the Hessian's diagonal).
    pub damping: Option<f64>,
    /// Nielsen's growth factor `nu` (2 after an accepted step).
    pub nu: f64,
}

/// Buffers of [`DampedNewton`], made once at `init`.
#[derive(Debug, Clone)]
struct DampedWork<T> {
    newton: NewtonWork<T>,
    hessian_step: Array1<f64>,
}

/// Newton with Levenberg damping `H + eps I` controlled by the reduction
/// ratio (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct DampedNewton<T> {
    config: DampedNewtonConfig,
    state: DampedNewtonState,
    work: Option<DampedWork<T>>,
    last_damping: f64,
    last_rho: f64,
    last_step_norm: f64,
    last_trials: usize,
}

impl<T: Scalar> DampedNewton<T> {
    /// Damped Newton with validated hyperparameters.
    pub fn new(config: DampedNewtonConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            state: DampedNewtonState {
                damping: None,
                nu: 2.0,
            },
            work: None,
            last_damping: f64::NAN,
            last_rho: f64::NAN,
            last_step_norm: 0.0,
            last_trials: 0,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &DampedNewtonConfig {
        &self.config
    }

    /// `eps` after a rejected trial or a failed factorization.
    fn increase(&mut self, eps: f64) -> f64 {
        match self.config.update {
            DampingUpdate::Nielsen => {
                let raised = eps * self.state.nu;
                self.state.nu *= 2.0;
                raised
            }
            DampingUpdate::Marquardt => 2.0 * eps,
        }
    }

    /// `eps` after an accepted step with ratio `rho`.
    fn after_acceptance(&mut self, eps: f64, rho: f64) -> f64 {
        let next = match self.config.update {
            DampingUpdate::Nielsen => {
                self.state.nu = 2.0;
                eps * (1.0 / 3.0f64).max(1.0 - (2.0 * rho - 1.0).powi(3))
            }
            DampingUpdate::Marquardt if rho > 0.75 => eps / 3.0,
            DampingUpdate::Marquardt if rho < 0.25 => 2.0 * eps,
            DampingUpdate::Marquardt => eps,
        };
        next.max(self.config.min_damping)
    }
}

impl<P, T> Solver<P> for DampedNewton<T>
where
    P: Objective<Vector = Array1<T>>,
    T: Scalar,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<Array1<T>>) -> Result<()> {
        check_len("starting point", problem.dim(), state.x.len())?;
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        let n = problem.dim();
        self.work = Some(DampedWork {
            newton: NewtonWork::new(n),
            hessian_step: Array1::zeros(n),
        });
        self.state = DampedNewtonState {
            damping: None,
            nu: 2.0,
        };
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<Array1<T>>,
    ) -> Result<Option<StopReason>> {
        let mut work = self.work.take().ok_or_else(not_initialized)?;
        let result = self.damped_step(problem, state, &mut work);
        self.work = Some(work);
        result
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("damping", self.last_damping),
            ("rho", self.last_rho),
            ("step_norm", self.last_step_norm),
            ("trials", self.last_trials as f64),
        ]
    }
}

impl<T: Scalar> DampedNewton<T> {
    fn damped_step<P: Objective<Vector = Array1<T>>>(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<Array1<T>>,
        work: &mut DampedWork<T>,
    ) -> Result<Option<StopReason>> {
        let newton = &mut work.newton;
        check_len("iterate", newton.rhs.len(), state.x.len())?;
        check_gradient(&state.grad, state.iter)?;
        if state.grad.norm_inf().is_zero() {
            return Ok(Some(StopReason::GradientTolerance));
        }
        newton
            .columns
            .assemble(problem, &state.x, &mut newton.hessian, state.iter)?;
        let mut eps = self.state.damping.unwrap_or_else(|| {
            let largest = newton
                .hessian
                .diag()
                .iter()
                .fold(0.0f64, |m, d| m.max(d.abs()));
            (self.config.initial_damping * largest).max(self.config.min_damping)
        });
        let x_norm = state.x.norm2().to_f64_lossless();
        let f = state.f.to_f64_lossless();
        let rounding_level = 10.0 * T::epsilon().to_f64_lossless() * f.abs();
        for trial in 1..=self.config.max_trials {
            if !eps.is_finite() {
                break;
            }
            let Some(factor) = factor_shifted(&newton.hessian, eps, &mut newton.shifted)? else {
                eps = self.increase(eps);
                continue;
            };
            newton.set_minus_gradient(&state.grad);
            factor.solve_in_place(&mut newton.rhs);
            let step = &newton.rhs;
            let step_norm = step.dot(step).sqrt();
            if !step_norm.is_finite() {
                return Err(OptError::NonFinite {
                    what: "damped Newton step",
                    iteration: state.iter,
                });
            }
            if step_norm <= f64::EPSILON * (x_norm + f64::EPSILON) {
                // x + p rounds to x: no damping can give a decrease.
                break;
            }
            general_mat_vec_mul(1.0, &newton.hessian, step, 0.0, &mut work.hessian_step);
            let slope: f64 = step
                .iter()
                .zip(&state.grad)
                .map(|(p, g)| p * g.to_f64_lossless())
                .sum();
            let predicted = -(slope + 0.5 * step.dot(&work.hessian_step));
            for ((x_new, x), &p) in newton.x_new.iter_mut().zip(&state.x).zip(step) {
                *x_new = *x + T::of(p);
            }
            let f_new = problem.value_and_grad(&newton.x_new, &mut newton.grad_new)?;
            let f_new = f_new.to_f64_lossless();
            let rho = if f_new.is_finite() && predicted > 0.0 && predicted.is_finite() {
                (f - f_new) / predicted
            } else {
                f64::NEG_INFINITY
            };
            // A predicted decrease at the rounding level of f makes rho
            // noise: then any step that does not increase f is accepted
            // (as the Armijo test reads in that regime) and eps is kept.
            let in_rounding = predicted <= rounding_level && f_new <= f;
            if rho > self.config.eta || in_rounding {
                std::mem::swap(&mut state.x, &mut newton.x_new);
                std::mem::swap(&mut state.grad, &mut newton.grad_new);
                state.f = T::of(f_new);
                self.last_damping = eps;
                self.last_rho = rho;
                self.last_step_norm = step_norm;
                self.last_trials = trial;
                self.state.damping = Some(if rho > self.config.eta {
                    self.after_acceptance(eps, rho)
                } else {
                    eps
                });
                return Ok(None);
            }
            eps = self.increase(eps);
        }
        self.state.damping = Some(if eps.is_finite() {
            eps
        } else {
            self.config.min_damping
        });
        Ok(Some(StopReason::LineSearchFailed))
    }
}

impl<T> SaveState for DampedNewton<T> {
    type State = DampedNewtonState;

    fn save_state(&self) -> Self::State {
        self.state
    }

    fn restore_state(&mut self, state: Self::State) -> Result<()> {
        if let Some(damping) = state.damping
            && !(damping.is_finite() && damping > 0.0)
        {
            return Err(OptError::InvalidState(format!(
                "damping {damping} is not positive and finite"
            )));
        }
        if !(state.nu.is_finite() && state.nu >= 2.0) {
            return Err(OptError::InvalidState(format!(
                "nu {} is not finite and at least 2",
                state.nu
            )));
        }
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn added_identity_follows_algorithm_3_3() {
        // Positive diagonal and positive definite: tau = 0 at once.
        let spd = array![[2.0, 1.0], [1.0, 2.0]];
        let shifted = cholesky_with_added_identity(&spd, 1e-3, 10).unwrap();
        assert_eq!((shifted.tau, shifted.attempts), (0.0, 1));
        // diag(2, -2): tau_0 = 2 + beta makes it diag(4.001, 0.001).
        let saddle = array![[2.0, 0.0], [0.0, -2.0]];
        let shifted = cholesky_with_added_identity(&saddle, 1e-3, 10).unwrap();
        assert_eq!((shifted.tau, shifted.attempts), (2.0 + 1e-3, 1));
        // Positive diagonal, eigenvalues -1 and 3: tau runs 0, beta, 2 beta,
        // ..., the first above 1 is 1.024 = 2^10 beta, the 12th attempt.
        let indefinite = array![[1.0, 2.0], [2.0, 1.0]];
        let shifted = cholesky_with_added_identity(&indefinite, 1e-3, 20).unwrap();
        assert_eq!(shifted.attempts, 12);
        assert!((shifted.tau - 1.024).abs() < 1e-15, "{}", shifted.tau);
        let err = cholesky_with_added_identity(&indefinite, 1e-3, 11).unwrap_err();
        assert!(matches!(err, OptError::NotPositiveDefinite { .. }), "{err}");
        assert!(matches!(
            cholesky_with_added_identity(&indefinite, 0.0, 11),
            Err(OptError::InvalidHyperparameter { name: "beta", .. })
        ));
    }

    #[test]
    fn nielsen_and_marquardt_updates() {
        let mut nielsen = DampedNewton::<f64>::new(DampedNewtonConfig::default()).unwrap();
        // rho = 1: the factor is max(1/3, 0) = 1/3; rho = 0.5: factor 1.
        assert!((nielsen.after_acceptance(3.0, 1.0) - 1.0).abs() < 1e-15);
        assert_eq!(nielsen.after_acceptance(3.0, 0.5), 3.0);
        // Rejections: 2, then 4 times.
        assert_eq!(nielsen.increase(1.0), 2.0);
        assert_eq!(nielsen.increase(2.0), 8.0);
        assert_eq!(nielsen.state.nu, 8.0);
        nielsen.after_acceptance(1.0, 0.9);
        assert_eq!(nielsen.state.nu, 2.0);
        let mut marquardt = DampedNewton::<f64>::new(DampedNewtonConfig {
            update: DampingUpdate::Marquardt,
            ..DampedNewtonConfig::default()
        })
        .unwrap();
        assert_eq!(marquardt.after_acceptance(3.0, 0.8), 1.0);
        assert_eq!(marquardt.after_acceptance(3.0, 0.5), 3.0);
        assert_eq!(marquardt.after_acceptance(3.0, 0.1), 6.0);
        assert_eq!(marquardt.increase(3.0), 6.0);
        // The floor.
        assert_eq!(marquardt.after_acceptance(1e-13, 0.9), 1e-12);
    }
}
