//! Levenberg-Marquardt as More (1978), "The Levenberg-Marquardt algorithm:
//! implementation and theory" (Lecture Notes in Mathematics 630), and
//! MINPACK's `lmder` do it, with optional geodesic acceleration (Transtrum &
//! Sethna 2012, arXiv:1201.5885), a matrix-free variant
//! ([`MatrixFreeLevenbergMarquardt`]) and standard errors after a fit
//! ([`fit_summary`]).
//!
//! For residuals `r: R^n -> R^m` and `f = c ||r||^2`, each iteration solves
//! the trust-region subproblem
//!
//! ```text
//! min_p ||r + J p||   subject to   ||D p|| <= Delta,
//! ```
//!
//! whose solution is `p(lambda) = -(J'J + lambda D'D)^{-1} J'r` for the
//! `lambda >= 0` with `||D p|| = Delta` (or `lambda = 0` when the
//! Gauss-Newton step fits):
//!
//! - **scaling** `D = diag(d_j)`, `d_j = max` over the iterations of the
//!   column norms `||J e_j||` (MINPACK mode 1; [`Scaling::Identity`] is
//!   mode 2 with `D = I`), which makes the method invariant to a diagonal
//!   rescaling of the parameters;
//! - **the step** from the QR factorization with column pivoting
//!   `J P = Q R`: the damped system `[J; sqrt(lambda) D] p = [-r; 0]` is
//!   solved by folding the diagonal rows into `R` with Givens rotations
//!   (MINPACK `qrsolv`), never by the normal equations, which would square
//!   the condition number; a rank-deficient `J` gives the basic Gauss-Newton
//!   solution on the leading pivoted columns;
//! - **`lambda`** by More's safeguarded Newton iteration on
//!   `phi(lambda) = ||D p(lambda)|| - Delta`, at most 10 steps, kept in the
//!   bracket `[l, u]` and accepting `|phi| <= 0.1 Delta` (MINPACK `lmpar`);
//! - **the radius** from `rho = ared / pred`, with
//!   `ared = 1 - (||r_+|| / ||r||)^2` and
//!   `pred = (||J p||^2 + 2 lambda ||D p||^2) / ||r||^2`: if `rho <= 0.25`,
//!   `Delta <- mu min(Delta, 10 ||D p||)` with `mu` from a quadratic model
//!   along `p` clamped to `[0.1, 0.5]` (0.1 when `||r_+|| >= 10 ||r||`),
//!   `lambda <- lambda / mu`; if `rho >= 0.75` (or `lambda = 0`),
//!   `Delta <- 2 ||D p||`, `lambda <- lambda / 2`. The step is taken when
//!   `rho >= 1e-4`. The first radius is `factor ||D x0||` (`factor` 100), or
//!   `factor` when `x0 = 0`, and never more than the first step's `||D p||`.
//!
//! **Stopping** (MINPACK's tests, reason in [`Termination`]):
//! `ftol` when `|ared| <= ftol`, `pred <= ftol` and `rho <= 2`; `xtol` when
//! `Delta <= xtol ||D x||`; `gtol` when the largest cosine between `r` and a
//! column of `J`, `max_j |(J'r)_j| / (||J e_j|| ||r||)`, is at most `gtol`;
//! and the three "tolerance too small" cases where the same tests pass at the
//! machine epsilon. The defaults `ftol = xtol = gtol = sqrt(eps)`
//! (1.49e-8) are MINPACK's recommended `sqrt(epsmch)`.
//!
//! **Geodesic acceleration** ([`LevenbergMarquardtConfig::geodesic`]): with
//! the velocity `v = p(lambda)`, the second directional derivative
//! `r_vv ~ (2/h) ((r(x + h v) - r(x)) / h - J v)` (one residual evaluation,
//! `h = 0.1`) gives the acceleration `a` from the same damped system,
//! `[J; sqrt(lambda) D] a = [-r_vv; 0]`; the trial point is `x + v + a/2`
//! when `2 ||D a|| / ||D v|| <= alpha` (0.75), and the trial is rejected
//! (the radius halved) otherwise (Transtrum & Sethna 2012, section 3).
//! `pred` and the radius use `v`, `ared` the accelerated point.
//!
//! **The runner.** [`LevenbergMarquardt`] is a [`Solver`] over any problem
//! that is both an [`Objective`] and a [`LeastSquares`] on `Array1<f64>`
//! ([`LeastSquaresObjective`]; `Counted<P>` is one when `P` is). One
//! `next_iter` is one MINPACK outer iteration: trial steps until one is
//! taken (or a test stops the run), then the Jacobian at the new point, so
//! `IterState::f = c ||r||^2` and `IterState::grad = 2c J'r` are exact at
//! every iterate. Residuals count as `f` evaluations, Jacobians as `jac`.
//! When a test fires on a step that was taken, the step is kept (and its
//! Jacobian evaluated, one more than MINPACK's `njev`), and the next call
//! reports the stop. Non-finite residuals at a trial point shrink the radius
//! (as a failed step); at the start, or a non-finite Jacobian, they are
//! [`OptError::NonFinite`].

mod covariance;
mod matrix_free;
pub(crate) mod qr;

use ndarray::{Array1, Array2};
use opt_core::{
    Counted, IterState, LeastSquares, Objective, OptError, Result, Solver, StopReason, check_len,
};
use serde::{Deserialize, Serialize};

pub use covariance::{FitSummary, fit_summary};
pub use matrix_free::{MatrixFreeConfig, MatrixFreeLevenbergMarquardt};

use qr::{DampedSolver, PivotedQr, norm};

/// A problem that the least-squares solvers drive: an objective on
/// `Array1<f64>` that is also a least-squares problem (`f = c ||r||^2`).
/// Implemented for every type that is both, [`Counted`] included.
pub trait LeastSquaresObjective:
    Objective<Vector = Array1<f64>> + LeastSquares<Scalar = f64>
{
}

impl<P> LeastSquaresObjective for P where
    P: Objective<Vector = Array1<f64>> + LeastSquares<Scalar = f64>
{
}

/// How the trust region is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// `D = diag(max over iterations of ||J e_j||)` (MINPACK mode 1).
    Jacobian,
    /// `D = I` (MINPACK mode 2 with unit `diag`).
    Identity,
}

/// Hyperparameters of [`LevenbergMarquardt`] (MINPACK's names).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevenbergMarquardtConfig {
    /// Relative reduction of the sum of squares below which the fit stops;
    /// `>= 0`, default `sqrt(eps)` (1.49e-8).
    pub ftol: f64,
    /// Relative trust-region radius `Delta / ||D x||` below which the fit
    /// stops; `>= 0`, default `sqrt(eps)`.
    pub xtol: f64,
    /// Largest cosine between `r` and a column of `J` at which the fit
    /// stops; `>= 0`, default `sqrt(eps)`.
    pub gtol: f64,
    /// The first radius is `factor ||D x0||`; `> 0`, default 100.
    pub factor: f64,
    /// The scaling `D`; default [`Scaling::Jacobian`].
    pub scaling: Scaling,
    /// Geodesic acceleration (Transtrum & Sethna 2012); default off.
    pub geodesic: bool,
    /// Largest accepted `2 ||D a|| / ||D v||`; `> 0`, default 0.75.
    pub geodesic_alpha: f64,
    /// Finite-difference step `h` of the second directional derivative;
    /// `> 0`, default 0.1.
    pub geodesic_h: f64,
}

impl Default for LevenbergMarquardtConfig {
    fn default() -> Self {
        let root_eps = f64::EPSILON.sqrt();
        Self {
            ftol: root_eps,
            xtol: root_eps,
            gtol: root_eps,
            factor: 100.0,
            scaling: Scaling::Jacobian,
            geodesic: false,
            geodesic_alpha: 0.75,
            geodesic_h: 0.1,
        }
    }
}

impl LevenbergMarquardtConfig {
    /// Check every field.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("ftol", self.ftol),
            ("xtol", self.xtol),
            ("gtol", self.gtol),
        ] {
            if !(value >= 0.0 && value.is_finite()) {
                return Err(OptError::invalid(
                    name,
                    value,
                    "must be finite and non-negative",
                ));
            }
        }
        for (name, value) in [
            ("factor", self.factor),
            ("geodesic_alpha", self.geodesic_alpha),
            ("geodesic_h", self.geodesic_h),
        ] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(OptError::invalid(
                    name,
                    value,
                    "must be positive and finite",
                ));
            }
        }
        Ok(())
    }
}

/// Why a Levenberg-Marquardt fit stopped on its own, with MINPACK's `info`
/// codes ([`Termination::minpack_info`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// `info = 1`: actual and predicted relative reductions are at most `ftol`.
    FunctionTolerance,
    /// `info = 2`: the relative radius `Delta / ||D x||` is at most `xtol`.
    StepTolerance,
    /// `info = 3`: both of the above.
    FunctionAndStepTolerance,
    /// `info = 4`: `r` is orthogonal to the columns of `J` within `gtol`.
    GradientTolerance,
    /// `info = 6`: `ftol` is too small; the sum of squares cannot be reduced
    /// further in floating point.
    NoFurtherReduction,
    /// `info = 7`: `xtol` is too small; no further improvement of `x` is
    /// possible in floating point.
    NoFurtherStep,
    /// `info = 8`: `gtol` is too small; `r` is orthogonal to `J`'s columns
    /// to machine precision.
    OrthogonalToMachinePrecision,
    /// Not in MINPACK: 200 trial steps in a row were rejected.
    TooManyRejections,
}

impl Termination {
    /// MINPACK's `info` (0 for [`Termination::TooManyRejections`]).
    pub fn minpack_info(self) -> u32 {
        match self {
            Termination::FunctionTolerance => 1,
            Termination::StepTolerance => 2,
            Termination::FunctionAndStepTolerance => 3,
            Termination::GradientTolerance => 4,
            Termination::NoFurtherReduction => 6,
            Termination::NoFurtherStep => 7,
            Termination::OrthogonalToMachinePrecision => 8,
            Termination::TooManyRejections => 0,
        }
    }

    /// The runner's closed [`StopReason`]: the `ftol`/`xtol` cases (and the
    /// "too small" ones, which are the same tests at machine precision) are
    /// `function_tolerance`, the `gtol` cases `gradient_tolerance` (both
    /// count as converged), too many rejections `line_search_failed`.
    pub fn stop_reason(self) -> StopReason {
        match self {
            Termination::FunctionTolerance
            | Termination::StepTolerance
            | Termination::FunctionAndStepTolerance
            | Termination::NoFurtherReduction
            | Termination::NoFurtherStep => StopReason::FunctionTolerance,
            Termination::GradientTolerance | Termination::OrthogonalToMachinePrecision => {
                StopReason::GradientTolerance
            }
            Termination::TooManyRejections => StopReason::LineSearchFailed,
        }
    }

    /// Snake-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Termination::FunctionTolerance => "function_tolerance",
            Termination::StepTolerance => "step_tolerance",
            Termination::FunctionAndStepTolerance => "function_and_step_tolerance",
            Termination::GradientTolerance => "gradient_tolerance",
            Termination::NoFurtherReduction => "no_further_reduction",
            Termination::NoFurtherStep => "no_further_step",
            Termination::OrthogonalToMachinePrecision => "orthogonal_to_machine_precision",
            Termination::TooManyRejections => "too_many_rejections",
        }
    }
}

impl std::fmt::Display for Termination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Consecutive rejected trial steps after which an iteration gives up.
const MAX_REJECTIONS: usize = 200;

/// Residuals at `x` into `out`; `Ok(false)` when one is not finite. A
/// problem that resizes the buffer is a shape error.
pub(crate) fn evaluate_residuals<L: LeastSquares<Scalar = f64> + ?Sized>(
    problem: &L,
    x: &Array1<f64>,
    out: &mut Array1<f64>,
) -> Result<bool> {
    let m = out.len();
    problem.residuals(x, out)?;
    check_len("residuals returned by the problem", m, out.len())?;
    Ok(out.iter().all(|v| v.is_finite()))
}

/// The Jacobian at `x` into `out`, checked for shape and finiteness.
pub(crate) fn evaluate_jacobian<L: LeastSquares<Scalar = f64> + ?Sized>(
    problem: &L,
    x: &Array1<f64>,
    out: &mut Array2<f64>,
    iteration: usize,
) -> Result<()> {
    let (m, n) = out.dim();
    problem.jacobian(x, out)?;
    check_len("Jacobian rows (residuals)", m, out.nrows())?;
    check_len("Jacobian columns (parameters)", n, out.ncols())?;
    if out.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(OptError::NonFinite {
            what: "Jacobian",
            iteration,
        })
    }
}

/// `(m, n)` of a problem, checked: at least one residual and one
/// parameter, `num_parameters == dim`, and `x0` of that length. With no
/// residuals, the problem's own error from a residual evaluation (e.g.
/// [`OptError::Unsupported`]) comes first.
pub(crate) fn dimensions<P: LeastSquaresObjective + ?Sized>(
    problem: &P,
    x0: &Array1<f64>,
) -> Result<(usize, usize)> {
    let (m, n) = (problem.num_residuals(), problem.num_parameters());
    check_len(
        "least-squares parameters (the objective's dimension)",
        problem.dim(),
        n,
    )?;
    check_len("starting point", n, x0.len())?;
    if n == 0 {
        return Err(OptError::ShapeMismatch {
            what: "parameters (at least one)",
            expected: 1,
            got: 0,
        });
    }
    if m == 0 {
        // A problem without residuals may say why (e.g. `Unsupported`).
        problem.residuals(x0, &mut Array1::zeros(0))?;
        return Err(OptError::ShapeMismatch {
            what: "residuals (at least one)",
            expected: 1,
            got: 0,
        });
    }
    Ok((m, n))
}

/// `grad = 2c J'r`.
pub(crate) fn gradient_from(
    jacobian: &Array2<f64>,
    residuals: &Array1<f64>,
    c: f64,
    grad: &mut Array1<f64>,
) {
    for (j, g) in grad.iter_mut().enumerate() {
        let column = jacobian.column(j);
        let dot: f64 = column.iter().zip(residuals).map(|(a, b)| a * b).sum();
        *g = 2.0 * c * dot;
    }
}

/// Buffers of one fit, allocated in `init`.
#[derive(Debug, Clone)]
struct Workspace {
    residuals: Array1<f64>,
    trial_residuals: Array1<f64>,
    jacobian: Array2<f64>,
    x_trial: Array1<f64>,
    qr: PivotedQr,
    damped: DampedSolver,
    /// `Q'r` (length `max(m, n)`; the first `n` are used).
    qtr: Vec<f64>,
    diag: Vec<f64>,
    damping: Vec<f64>,
    /// The step `p` (velocity with geodesic acceleration).
    step: Vec<f64>,
    /// The solution `x(lambda)` of the damped system (`p = -x`).
    solution: Vec<f64>,
    /// `R P' p`.
    reduced: Vec<f64>,
    /// ||r||, the residual norm at the iterate.
    fnorm: f64,
    /// ||D x||.
    xnorm: f64,
    /// Geodesic acceleration: `J v`, `r_vv` (then `Q' r_vv`), `a`.
    jv: Array1<f64>,
    second: Array1<f64>,
    qt_second: Vec<f64>,
    acceleration: Vec<f64>,
}

/// Levenberg-Marquardt (More 1978, MINPACK `lmder`), a [`Solver`] over
/// [`LeastSquaresObjective`] problems (module docs).
#[derive(Debug, Clone)]
pub struct LevenbergMarquardt {
    config: LevenbergMarquardtConfig,
    work: Option<Workspace>,
    lambda: f64,
    delta: f64,
    ratio: f64,
    outer_iterations: usize,
    rejected_trials: usize,
    pending: Option<Termination>,
    termination: Option<Termination>,
}

impl LevenbergMarquardt {
    /// A solver with the given hyperparameters (validated).
    pub fn new(config: LevenbergMarquardtConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            work: None,
            lambda: 0.0,
            delta: 0.0,
            ratio: 0.0,
            outer_iterations: 0,
            rejected_trials: 0,
            pending: None,
            termination: None,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &LevenbergMarquardtConfig {
        &self.config
    }

    /// Why the fit stopped on its own (`None` while running, or when the
    /// runner stopped it).
    pub fn termination(&self) -> Option<Termination> {
        self.termination
    }

    /// The current Levenberg-Marquardt parameter `lambda`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// The current trust-region radius `Delta`.
    pub fn radius(&self) -> f64 {
        self.delta
    }

    /// Trial steps rejected so far (each cost a residual evaluation).
    pub fn rejected_trials(&self) -> usize {
        self.rejected_trials
    }

    fn stop(&mut self, termination: Termination) -> Option<StopReason> {
        self.termination = Some(termination);
        Some(termination.stop_reason())
    }
}

impl<P: LeastSquaresObjective> Solver<P> for LevenbergMarquardt {
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<Array1<f64>>) -> Result<()> {
        let (m, n) = dimensions(problem, &state.x)?;
        let rows = m.max(n);
        let mut work = Workspace {
            residuals: Array1::zeros(m),
            trial_residuals: Array1::zeros(m),
            jacobian: Array2::zeros((m, n)),
            x_trial: Array1::zeros(n),
            qr: PivotedQr::new(m, n),
            damped: DampedSolver::new(n),
            qtr: vec![0.0; rows],
            diag: vec![1.0; n],
            damping: vec![0.0; n],
            step: vec![0.0; n],
            solution: vec![0.0; n],
            reduced: vec![0.0; n],
            fnorm: 0.0,
            xnorm: 0.0,
            jv: Array1::zeros(if self.config.geodesic { m } else { 0 }),
            second: Array1::zeros(if self.config.geodesic { m } else { 0 }),
            qt_second: vec![0.0; if self.config.geodesic { rows } else { 0 }],
            acceleration: vec![0.0; n],
        };
        if !evaluate_residuals(problem, &state.x, &mut work.residuals)? {
            return Err(OptError::NonFinite {
                what: "residuals at the starting point",
                iteration: 0,
            });
        }
        evaluate_jacobian(problem, &state.x, &mut work.jacobian, 0)?;
        work.fnorm = norm(work.residuals.iter().copied());
        let c = problem.value_scale();
        state.f = c * work.fnorm * work.fnorm;
        gradient_from(&work.jacobian, &work.residuals, c, &mut state.grad);
        self.work = Some(work);
        self.lambda = 0.0;
        self.delta = 0.0;
        self.ratio = 0.0;
        self.outer_iterations = 0;
        self.rejected_trials = 0;
        self.pending = None;
        self.termination = None;
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<Array1<f64>>,
    ) -> Result<Option<StopReason>> {
        if let Some(termination) = self.pending.take() {
            return Ok(self.stop(termination));
        }
        let config = self.config;
        let Some(work) = self.work.as_mut() else {
            return Err(OptError::InvalidState(
                "next_iter called before init".into(),
            ));
        };
        let n = work.step.len();
        let c = problem.value_scale();
        let eps = f64::EPSILON;
        let first = self.outer_iterations == 0;
        self.outer_iterations += 1;

        work.qr.factor(&work.jacobian);
        let column_norms = work.qr.column_norms();
        if first {
            for j in 0..n {
                work.diag[j] = match config.scaling {
                    Scaling::Jacobian if column_norms[j] != 0.0 => column_norms[j],
                    _ => 1.0,
                };
            }
            work.xnorm = norm((0..n).map(|j| work.diag[j] * state.x[j]));
            self.delta = config.factor * work.xnorm;
            if self.delta == 0.0 {
                self.delta = config.factor;
            }
        }
        work.qr.apply_qt(work.residuals.view(), &mut work.qtr);

        // The scaled gradient test: the largest cosine between r and a
        // column of J.
        let mut gnorm: f64 = 0.0;
        if work.fnorm != 0.0 {
            let r = work.qr.r();
            for j in 0..n {
                let l = work.qr.permutation()[j];
                let column_norm = column_norms[l];
                if column_norm != 0.0 {
                    let sum: f64 = (0..=j)
                        .map(|i| r[[i, j]] * (work.qtr[i] / work.fnorm))
                        .sum();
                    gnorm = gnorm.max((sum / column_norm).abs());
                }
            }
        }
        if gnorm <= config.gtol {
            return Ok(self.stop(Termination::GradientTolerance));
        }
        if config.scaling == Scaling::Jacobian {
            for j in 0..n {
                work.diag[j] = work.diag[j].max(column_norms[j]);
            }
        }

        let mut rejections = 0;
        loop {
            let trust = work.damped.trust_region_step(
                &work.qr,
                &work.diag,
                &work.qtr[..n],
                self.delta,
                self.lambda,
                &mut work.damping,
                &mut work.solution,
            );
            self.lambda = trust.lambda;
            for j in 0..n {
                work.step[j] = -work.solution[j];
            }
            let pnorm = norm((0..n).map(|j| work.diag[j] * work.step[j]));
            if first {
                self.delta = self.delta.min(pnorm);
            }

            // The trial point, with the acceleration when asked and accepted.
            let mut acceleration_ok = true;
            if config.geodesic && pnorm > 0.0 {
                acceleration_ok =
                    geodesic_acceleration(problem, work, state, self.lambda, &config)?;
            }
            for j in 0..n {
                let mut value = state.x[j] + work.step[j];
                if config.geodesic && acceleration_ok {
                    value += 0.5 * work.acceleration[j];
                }
                work.x_trial[j] = value;
            }
            let fnorm1 = if acceleration_ok
                && evaluate_residuals(problem, &work.x_trial, &mut work.trial_residuals)?
            {
                norm(work.trial_residuals.iter().copied())
            } else {
                f64::INFINITY
            };

            let actred = if 0.1 * fnorm1 < work.fnorm {
                1.0 - (fnorm1 / work.fnorm).powi(2)
            } else {
                -1.0
            };
            // Predicted reduction from ||J p|| = ||R P'p|| and lambda ||D p||^2.
            let r = work.qr.r();
            let permutation = work.qr.permutation();
            for i in 0..n {
                work.reduced[i] = (i..n).map(|j| r[[i, j]] * work.step[permutation[j]]).sum();
            }
            let temp1 = norm(work.reduced.iter().copied()) / work.fnorm;
            let temp2 = self.lambda.sqrt() * pnorm / work.fnorm;
            let prered = temp1 * temp1 + temp2 * temp2 / 0.5;
            let dirder = -(temp1 * temp1 + temp2 * temp2);
            let ratio = if prered != 0.0 { actred / prered } else { 0.0 };
            self.ratio = ratio;

            if !acceleration_ok {
                // Transtrum & Sethna: an acceleration too large against the
                // velocity means the step left the region where the model holds.
                self.delta = 0.5 * self.delta.min(pnorm / 0.1);
                self.lambda /= 0.5;
            } else if ratio <= 0.25 {
                let mut temp = if actred >= 0.0 {
                    0.5
                } else {
                    0.5 * dirder / (dirder + 0.5 * actred)
                };
                if 0.1 * fnorm1 >= work.fnorm || temp < 0.1 {
                    temp = 0.1;
                }
                self.delta = temp * self.delta.min(pnorm / 0.1);
                self.lambda /= temp;
            } else if self.lambda == 0.0 || ratio >= 0.75 {
                self.delta = pnorm / 0.5;
                self.lambda *= 0.5;
            }

            let success = acceleration_ok && ratio >= 1e-4;
            if success {
                std::mem::swap(&mut state.x, &mut work.x_trial);
                std::mem::swap(&mut work.residuals, &mut work.trial_residuals);
                work.fnorm = fnorm1;
                work.xnorm = norm((0..n).map(|j| work.diag[j] * state.x[j]));
            } else {
                rejections += 1;
                self.rejected_trials += 1;
            }

            let ftol_met =
                actred.abs() <= config.ftol && prered <= config.ftol && 0.5 * ratio <= 1.0;
            let xtol_met = self.delta <= config.xtol * work.xnorm;
            let termination = match (ftol_met, xtol_met) {
                (true, true) => Some(Termination::FunctionAndStepTolerance),
                (true, false) => Some(Termination::FunctionTolerance),
                (false, true) => Some(Termination::StepTolerance),
                (false, false) => {
                    if actred.abs() <= eps && prered <= eps && 0.5 * ratio <= 1.0 {
                        Some(Termination::NoFurtherReduction)
                    } else if self.delta <= eps * work.xnorm {
                        Some(Termination::NoFurtherStep)
                    } else if gnorm <= eps {
                        Some(Termination::OrthogonalToMachinePrecision)
                    } else if !success && rejections >= MAX_REJECTIONS {
                        Some(Termination::TooManyRejections)
                    } else {
                        None
                    }
                }
            };

            if success {
                evaluate_jacobian(problem, &state.x, &mut work.jacobian, state.iter + 1)?;
                state.f = c * work.fnorm * work.fnorm;
                gradient_from(&work.jacobian, &work.residuals, c, &mut state.grad);
                self.pending = termination;
                return Ok(None);
            }
            if let Some(termination) = termination {
                return Ok(self.stop(termination));
            }
        }
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("lambda", self.lambda),
            ("radius", self.delta),
            ("ratio", self.ratio),
            ("rejected", self.rejected_trials as f64),
        ]
    }
}

/// Geodesic acceleration for the velocity `work.step` at `state.x`:
/// `work.acceleration = a`; `Ok(false)` when `2 ||D a|| / ||D v|| > alpha`.
/// A non-finite residual at the probe point `x + h v` leaves the plain
/// step (`a = 0`).
fn geodesic_acceleration<P: LeastSquaresObjective>(
    problem: &Counted<P>,
    work: &mut Workspace,
    state: &IterState<Array1<f64>>,
    lambda: f64,
    config: &LevenbergMarquardtConfig,
) -> Result<bool> {
    let n = work.step.len();
    let h = config.geodesic_h;
    for j in 0..n {
        work.x_trial[j] = state.x[j] + h * work.step[j];
    }
    work.acceleration.fill(0.0);
    if !evaluate_residuals(problem, &work.x_trial, &mut work.trial_residuals)? {
        return Ok(true);
    }
    for (i, jv) in work.jv.iter_mut().enumerate() {
        *jv = (0..n).map(|j| work.jacobian[[i, j]] * work.step[j]).sum();
    }
    for i in 0..work.second.len() {
        let difference = (work.trial_residuals[i] - work.residuals[i]) / h;
        work.second[i] = (2.0 / h) * (difference - work.jv[i]);
    }
    work.qr.apply_qt(work.second.view(), &mut work.qt_second);
    let root = lambda.sqrt();
    for j in 0..n {
        work.damping[j] = root * work.diag[j];
    }
    work.damped.solve(
        &work.qr,
        &work.damping,
        &work.qt_second[..n],
        &mut work.acceleration,
    );
    for a in work.acceleration.iter_mut() {
        *a = -*a;
    }
    let velocity = norm((0..n).map(|j| work.diag[j] * work.step[j]));
    let acceleration = norm((0..n).map(|j| work.diag[j] * work.acceleration[j]));
    Ok(acceleration.is_finite() && 2.0 * acceleration <= config.geodesic_alpha * velocity)
}
