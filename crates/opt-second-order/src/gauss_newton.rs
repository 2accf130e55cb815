//! Gauss-Newton with a backtracking line search (Nocedal & Wright 2006,
//! section 10.3).
//!
//! For residuals `r: R^n -> R^m`, `f = c ||r||^2` and `g = 2c J'r`, the
//! Gauss-Newton direction is the least-squares solution of
//!
//! ```text
//! J p = -r,
//! ```
//!
//! computed from the thin QR factorization `J = Q R` ([`crate::linalg::qr_thin`])
//! as `R p = -Q'r`, never from the normal equations `J'J p = -J'r`, which
//! square the condition number. It is a descent direction whenever
//! `J'r != 0`: `g'p = -2c ||Q Q'r||^2 < 0`.
//!
//! **Rank deficiency.** When a diagonal entry of `R` is at most
//! `n eps max_j |R_jj|` (numerically rank deficient, including `m < n`,
//! where `J` is padded with zero rows), or the triangular solve overflows,
//! the step is the minimum-norm least-squares solution of the truncated
//! system, `p = -sum_{sigma_i > tol} v_i (u_i'Q'r) / sigma_i`, from the
//! singular value decomposition `R = U Sigma V'` with singular values at
//! most `tol = 2n eps sigma_max` dropped. The SVD is read off the
//! eigendecomposition of the symmetric `2n x 2n` matrix `[[0, R], [R', 0]]`
//! (eigenvalues `+-sigma_i`, eigenvectors `(u_i, +-v_i) / sqrt 2`), which
//! does not square the condition number as `R'R` would. The direction is
//! then the Gauss-Newton step restricted to the directions `J` can see.
//!
//! **Line search.** Backtracking on `phi(t) = c ||r(x + t p)||^2` from
//! `t = 1` until the Armijo condition `phi(t) <= phi(0) + c1 t g'p`
//! holds; a rejected `t` is replaced by the minimizer of the quadratic
//! through `phi(0)`, `phi'(0)`, `phi(t)`, kept in `[min(0.1, shrink) t,
//! shrink t]`, and a trial with non-finite residuals is shrunk by `shrink`
//! (as `opt_core::line_search::BacktrackingArmijo`, but on residuals only:
//! each trial is one residual evaluation, and the Jacobian is evaluated once,
//! at the accepted point). The search fails (stop `line_search_failed`) after
//! `max_evaluations` trials or below `t = min_step`.
//!
//! **Stopping.** Besides the runner's tests: `xtol` when the Gauss-Newton
//! step (before the search) or the step taken is at most
//! `xtol (||x|| + xtol)` (reported as `function_tolerance`, see
//! [`Termination::stop_reason`]), and a zero gradient
//! (`gradient_tolerance`). `IterState::f` and `grad = 2c J'r` are exact at
//! every iterate; residuals count as `f` evaluations, Jacobians as `jac`.

use ndarray::{Array1, Array2};
use opt_core::{Counted, IterState, LeastSquares, OptError, Result, Solver, StopReason};
use serde::{Deserialize, Serialize};

use crate::levenberg_marquardt::{
    LeastSquaresObjective, Termination, dimensions, evaluate_jacobian, evaluate_residuals,
    gradient_from,
};
use crate::linalg;

/// Hyperparameters of [`GaussNewton`] (the line search's are named as in
/// `opt_core::line_search::BacktrackingArmijo`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GaussNewtonConfig {
    /// Sufficient-decrease constant in `(0, 1)`; default `1e-4`.
    pub c1: f64,
    /// Largest factor by which a rejected step is multiplied, in `(0, 1)`;
    /// default 0.5.
    pub shrink: f64,
    /// The search fails below this step, in `[0, 1)`; default `1e-20`.
    pub min_step: f64,
    /// Most residual evaluations per search, at least 1; default 60.
    pub max_evaluations: usize,
    /// Relative step below which the fit stops; `>= 0`, default `sqrt(eps)`.
    pub xtol: f64,
}

impl Default for GaussNewtonConfig {
    fn default() -> Self {
        Self {
            c1: 1e-4,
            shrink: 0.5,
            min_step: 1e-20,
            max_evaluations: 60,
            xtol: f64::EPSILON.sqrt(),
        }
    }
}

impl GaussNewtonConfig {
    /// Check every field.
    pub fn validate(&self) -> Result<()> {
        if !(self.c1 > 0.0 && self.c1 < 1.0) {
            return Err(OptError::invalid("c1", self.c1, "must be in (0, 1)"));
        }
        if !(self.shrink > 0.0 && self.shrink < 1.0) {
            return Err(OptError::invalid(
                "shrink",
                self.shrink,
                "must be in (0, 1)",
            ));
        }
        if !(self.min_step >= 0.0 && self.min_step < 1.0) {
            return Err(OptError::invalid(
                "min_step",
                self.min_step,
                "must be in [0, 1)",
            ));
        }
        if self.max_evaluations == 0 {
            return Err(OptError::invalid(
                "max_evaluations",
                0,
                "must be at least 1",
            ));
        }
        if !(self.xtol >= 0.0 && self.xtol.is_finite()) {
            return Err(OptError::invalid(
                "xtol",
                self.xtol,
                "must be finite and non-negative",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Workspace {
    residuals: Array1<f64>,
    trial_residuals: Array1<f64>,
    jacobian: Array2<f64>,
    /// `J` padded with zero rows to `n x n` when `m < n` (else empty).
    padded: Array2<f64>,
    x_trial: Array1<f64>,
    direction: Array1<f64>,
    qtr: Array1<f64>,
}

/// Gauss-Newton with a backtracking Armijo line search (module docs).
#[derive(Debug, Clone)]
pub struct GaussNewton {
    config: GaussNewtonConfig,
    work: Option<Workspace>,
    last_step: f64,
    rank: usize,
    pending: Option<Termination>,
    termination: Option<Termination>,
}

impl GaussNewton {
    /// A solver with the given hyperparameters (validated).
    pub fn new(config: GaussNewtonConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            work: None,
            last_step: 0.0,
            rank: 0,
            pending: None,
            termination: None,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &GaussNewtonConfig {
        &self.config
    }

    /// Why the fit stopped on its own (`xtol` or a zero gradient), if it did.
    pub fn termination(&self) -> Option<Termination> {
        self.termination
    }

    /// The numerical rank of `J` used for the last direction.
    pub fn rank(&self) -> usize {
        self.rank
    }

    fn stop(&mut self, termination: Termination) -> Option<StopReason> {
        self.termination = Some(termination);
        Some(termination.stop_reason())
    }
}

/// The least-squares solution of `J p = -r` into `work.direction`; returns
/// the numerical rank used.
fn gauss_newton_direction(work: &mut Workspace) -> Result<usize> {
    let n = work.direction.len();
    let (q, r) = if work.padded.nrows() > 0 {
        for ((i, j), &value) in work.jacobian.indexed_iter() {
            work.padded[[i, j]] = value;
        }
        linalg::qr_thin(&work.padded)?
    } else {
        linalg::qr_thin(&work.jacobian)?
    };
    // Q'r (the padding rows of Q meet zero residuals).
    let m = work.residuals.len();
    for j in 0..n {
        work.qtr[j] = (0..m).map(|i| q[[i, j]] * work.residuals[i]).sum();
    }
    let largest = (0..n).fold(0.0_f64, |a, j| a.max(r[[j, j]].abs()));
    let full_rank = (0..n).all(|j| r[[j, j]].abs() > n as f64 * f64::EPSILON * largest);
    if full_rank {
        for j in (0..n).rev() {
            let sum: f64 = (j + 1..n).map(|k| r[[j, k]] * work.direction[k]).sum();
            work.direction[j] = (-work.qtr[j] - sum) / r[[j, j]];
        }
        if work.direction.iter().all(|v| v.is_finite()) {
            return Ok(n);
        }
    }
    truncated_svd_solve(&r, &work.qtr, &mut work.direction)
}

/// `p = -sum_{sigma_i > tol} v_i (u_i' b) / sigma_i` for `R = U Sigma V'`,
/// from the eigenpairs of `[[0, R], [R', 0]]` (module docs).
fn truncated_svd_solve(r: &Array2<f64>, b: &Array1<f64>, p: &mut Array1<f64>) -> Result<usize> {
    let n = r.nrows();
    let mut jordan_wielandt = Array2::zeros((2 * n, 2 * n));
    for i in 0..n {
        for j in 0..n {
            jordan_wielandt[[i, n + j]] = r[[i, j]];
            jordan_wielandt[[n + j, i]] = r[[i, j]];
        }
    }
    let (values, vectors) = linalg::symmetric_eigen(&jordan_wielandt)?;
    let largest = values.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let tolerance = 2.0 * n as f64 * f64::EPSILON * largest;
    p.fill(0.0);
    let mut rank = 0;
    for (k, &sigma) in values.iter().enumerate() {
        if sigma <= tolerance {
            continue;
        }
        rank += 1;
        // With the unit eigenvector (e_u, e_v) = (u, v) / sqrt 2:
        // v (u'b) / sigma = 2 e_v (e_u'b) / sigma.
        let coefficient: f64 = (0..n).map(|i| vectors[[i, k]] * b[i]).sum::<f64>();
        let scale = -2.0 * coefficient / sigma;
        for j in 0..n {
            p[j] += scale * vectors[[n + j, k]];
        }
    }
    Ok(rank)
}

impl<P: LeastSquaresObjective> Solver<P> for GaussNewton {
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<Array1<f64>>) -> Result<()> {
        let (m, n) = dimensions(problem, &state.x)?;
        let mut work = Workspace {
            residuals: Array1::zeros(m),
            trial_residuals: Array1::zeros(m),
            jacobian: Array2::zeros((m, n)),
            padded: Array2::zeros(if m < n { (n, n) } else { (0, n) }),
            x_trial: Array1::zeros(n),
            direction: Array1::zeros(n),
            qtr: Array1::zeros(n),
        };
        if !evaluate_residuals(problem, &state.x, &mut work.residuals)? {
            return Err(OptError::NonFinite {
                what: "residuals at the starting point",
                iteration: 0,
            });
        }
        evaluate_jacobian(problem, &state.x, &mut work.jacobian, 0)?;
        let c = problem.value_scale();
        state.f = c * work.residuals.dot(&work.residuals);
        gradient_from(&work.jacobian, &work.residuals, c, &mut state.grad);
        self.work = Some(work);
        self.last_step = 0.0;
        self.rank = 0;
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
        if state.grad.iter().all(|&g| g == 0.0) {
            return Ok(self.stop(Termination::GradientTolerance));
        }
        self.rank = gauss_newton_direction(work)?;
        let x_norm = state.x.dot(&state.x).sqrt();
        let direction_norm = work.direction.dot(&work.direction).sqrt();
        if direction_norm <= config.xtol * (x_norm + config.xtol) {
            return Ok(self.stop(Termination::StepTolerance));
        }
        let slope = state.grad.dot(&work.direction);
        if slope >= 0.0 || slope.is_nan() {
            return Ok(Some(StopReason::LineSearchFailed));
        }

        let c = problem.value_scale();
        let phi0 = state.f;
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..config.max_evaluations {
            if step < config.min_step {
                break;
            }
            work.x_trial.assign(&state.x);
            work.x_trial.scaled_add(step, &work.direction);
            let phi = if evaluate_residuals(problem, &work.x_trial, &mut work.trial_residuals)? {
                c * work.trial_residuals.dot(&work.trial_residuals)
            } else {
                f64::INFINITY
            };
            if phi <= phi0 + config.c1 * step * slope {
                accepted = Some(phi);
                break;
            }
            let shortest = config.shrink.min(0.1) * step;
            let longest = config.shrink * step;
            let curvature = phi - phi0 - slope * step;
            step = if phi.is_finite() && curvature > 0.0 {
                (-slope * step * step / (2.0 * curvature)).clamp(shortest, longest)
            } else {
                longest
            };
        }
        let Some(phi) = accepted else {
            return Ok(Some(StopReason::LineSearchFailed));
        };
        std::mem::swap(&mut state.x, &mut work.x_trial);
        std::mem::swap(&mut work.residuals, &mut work.trial_residuals);
        evaluate_jacobian(problem, &state.x, &mut work.jacobian, state.iter + 1)?;
        state.f = phi;
        gradient_from(&work.jacobian, &work.residuals, c, &mut state.grad);
        self.last_step = step;
        let new_norm = state.x.dot(&state.x).sqrt();
        if step * direction_norm <= config.xtol * (new_norm + config.xtol) {
            self.pending = Some(Termination::StepTolerance);
        }
        Ok(None)
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![("step", self.last_step), ("rank", self.rank as f64)]
    }
}
