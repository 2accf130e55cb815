//! Matrix-free Levenberg-Marquardt for problems too large for a dense
//! Jacobian: only `J v` and `J'u` ([`LeastSquares::jvp`],
//! [`LeastSquares::jtvp`]) are used.
//!
//! Each trial solves the damped normal equations
//!
//! ```text
//! (J'J + lambda I) p = -J'r
//! ```
//!
//! by conjugate gradients (Nocedal & Wright 2006, Algorithm 5.2; one `J v`
//! and one `J'u` per CG iteration, stopped when the CG residual is at most
//! `cg_tol ||J'r||` or after `max_cg_iters`). The normal equations are what
//! a matrix-free method can afford; `lambda > 0` bounds their condition
//! number by `(||J||^2 + lambda) / lambda`. There is no column scaling
//! (`D = I`): the column norms of `J` would cost `n` products.
//!
//! `lambda` follows the gain ratio
//! `rho = (||r||^2 - ||r(x + p)||^2) / (||r||^2 - ||r + J p||^2)` (the
//! prediction from one more `J p`), as Nielsen (1999) and Madsen, Nielsen &
//! Tingleff (2004, eq. 3.16) update it: a step with `rho > 1e-4` is taken and
//! `lambda <- lambda max(1/3, 1 - (2 rho - 1)^3)`, `nu <- 2`; otherwise
//! `lambda <- nu lambda`, `nu <- 2 nu`. The first `lambda` is
//! `tau ||J g||^2 / ||g||^2` with `g = J'r` (the Rayleigh quotient of `J'J`
//! along `g`, standing in for the largest diagonal entry of `J'J`, which
//! would need the whole Jacobian).
//!
//! Stops: `ftol` when the actual and predicted reductions are both at most
//! `ftol ||r||^2`; `xtol` when `||p|| <= xtol (||x|| + xtol)`; and, as in
//! [`super::LevenbergMarquardt`], 200 rejected trials in a row. Every
//! product counts as one `jac` evaluation in [`Counted`].

use ndarray::Array1;
use opt_core::{Counted, IterState, LeastSquares, OptError, Result, Solver, StopReason};
use serde::{Deserialize, Serialize};

use super::{LeastSquaresObjective, MAX_REJECTIONS, Termination, dimensions, evaluate_residuals};

/// Hyperparameters of [`MatrixFreeLevenbergMarquardt`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatrixFreeConfig {
    /// Relative reduction of the sum of squares below which the fit stops;
    /// `>= 0`, default `sqrt(eps)`.
    pub ftol: f64,
    /// Relative step below which the fit stops; `>= 0`, default `sqrt(eps)`.
    pub xtol: f64,
    /// The first `lambda` is `tau` times the curvature of `J'J` along `J'r`;
    /// `> 0`, default `1e-3`.
    pub tau: f64,
    /// CG stops when its residual is at most `cg_tol ||J'r||`; in `(0, 1)`,
    /// default `1e-6`.
    pub cg_tol: f64,
    /// Most CG iterations per trial, at least 1; `None` (default): `n`.
    pub max_cg_iters: Option<usize>,
}

impl Default for MatrixFreeConfig {
    fn default() -> Self {
        let root_eps = f64::EPSILON.sqrt();
        Self {
            ftol: root_eps,
            xtol: root_eps,
            tau: 1e-3,
            cg_tol: 1e-6,
            max_cg_iters: None,
        }
    }
}

impl MatrixFreeConfig {
    /// Check every field.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [("ftol", self.ftol), ("xtol", self.xtol)] {
            if !(value >= 0.0 && value.is_finite()) {
                return Err(OptError::invalid(
                    name,
                    value,
                    "must be finite and non-negative",
                ));
            }
        }
        if !(self.tau > 0.0 && self.tau.is_finite()) {
            return Err(OptError::invalid(
                "tau",
                self.tau,
                "must be positive and finite",
            ));
        }
        if !(self.cg_tol > 0.0 && self.cg_tol < 1.0) {
            return Err(OptError::invalid(
                "cg_tol",
                self.cg_tol,
                "must be in (0, 1)",
            ));
        }
        if self.max_cg_iters == Some(0) {
            return Err(OptError::invalid("max_cg_iters", 0, "must be at least 1"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Workspace {
    residuals: Array1<f64>,
    trial_residuals: Array1<f64>,
    /// `g = J'r` at the iterate.
    jtr: Array1<f64>,
    x_trial: Array1<f64>,
    step: Array1<f64>,
    cg_residual: Array1<f64>,
    cg_direction: Array1<f64>,
    /// `(J'J + lambda I) d`.
    product: Array1<f64>,
    /// `J d`, then `J p`.
    image: Array1<f64>,
    /// `||r||^2`.
    rss: f64,
}

/// Levenberg-Marquardt with CG on the damped normal equations, using only
/// Jacobian-vector products (module docs).
#[derive(Debug, Clone)]
pub struct MatrixFreeLevenbergMarquardt {
    config: MatrixFreeConfig,
    work: Option<Workspace>,
    lambda: f64,
    nu: f64,
    ratio: f64,
    cg_iterations: usize,
    pending: Option<Termination>,
    termination: Option<Termination>,
}

impl MatrixFreeLevenbergMarquardt {
    /// A solver with the given hyperparameters (validated).
    pub fn new(config: MatrixFreeConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            work: None,
            lambda: 0.0,
            nu: 2.0,
            ratio: 0.0,
            cg_iterations: 0,
            pending: None,
            termination: None,
        })
    }

    /// Why the fit stopped on its own.
    pub fn termination(&self) -> Option<Termination> {
        self.termination
    }

    /// The current damping `lambda`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// CG iterations made so far, over all trials.
    pub fn cg_iterations(&self) -> usize {
        self.cg_iterations
    }

    fn stop(&mut self, termination: Termination) -> Option<StopReason> {
        self.termination = Some(termination);
        Some(termination.stop_reason())
    }
}

/// `J'r` into `work.jtr` and the state's `f`, `grad = 2c J'r`.
fn refresh_gradient<P: LeastSquaresObjective>(
    problem: &Counted<P>,
    work: &mut Workspace,
    state: &mut IterState<Array1<f64>>,
) -> Result<()> {
    problem.jtvp(&state.x, &work.residuals, &mut work.jtr)?;
    if !work.jtr.iter().all(|v| v.is_finite()) {
        return Err(OptError::NonFinite {
            what: "J'r",
            iteration: state.iter,
        });
    }
    let c = problem.value_scale();
    state.f = c * work.rss;
    state.grad.assign(&work.jtr);
    state.grad.mapv_inplace(|g| 2.0 * c * g);
    Ok(())
}

impl<P: LeastSquaresObjective> Solver<P> for MatrixFreeLevenbergMarquardt {
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<Array1<f64>>) -> Result<()> {
        let (m, n) = dimensions(problem, &state.x)?;
        let mut work = Workspace {
            residuals: Array1::zeros(m),
            trial_residuals: Array1::zeros(m),
            jtr: Array1::zeros(n),
            x_trial: Array1::zeros(n),
            step: Array1::zeros(n),
            cg_residual: Array1::zeros(n),
            cg_direction: Array1::zeros(n),
            product: Array1::zeros(n),
            image: Array1::zeros(m),
            rss: 0.0,
        };
        if !evaluate_residuals(problem, &state.x, &mut work.residuals)? {
            return Err(OptError::NonFinite {
                what: "residuals at the starting point",
                iteration: 0,
            });
        }
        work.rss = work.residuals.dot(&work.residuals);
        refresh_gradient(problem, &mut work, state)?;
        // lambda_0 = tau ||J g||^2 / ||g||^2.
        let g_norm_sq = work.jtr.dot(&work.jtr);
        self.lambda = if g_norm_sq > 0.0 {
            problem.jvp(&state.x, &work.jtr, &mut work.image)?;
            self.config.tau * work.image.dot(&work.image) / g_norm_sq
        } else {
            self.config.tau
        };
        if !(self.lambda > 0.0 && self.lambda.is_finite()) {
            self.lambda = self.config.tau;
        }
        self.nu = 2.0;
        self.ratio = 0.0;
        self.cg_iterations = 0;
        self.pending = None;
        self.termination = None;
        self.work = Some(work);
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
        let g_norm_sq = work.jtr.dot(&work.jtr);
        if g_norm_sq == 0.0 {
            return Ok(self.stop(Termination::GradientTolerance));
        }
        let max_cg = config.max_cg_iters.unwrap_or(n);
        let mut rejections = 0;
        loop {
            // CG on (J'J + lambda I) p = -g from p = 0.
            work.step.fill(0.0);
            work.cg_residual.assign(&work.jtr);
            work.cg_residual.mapv_inplace(|v| -v);
            work.cg_direction.assign(&work.cg_residual);
            let mut rr = g_norm_sq;
            let target = config.cg_tol * config.cg_tol * g_norm_sq;
            for _ in 0..max_cg {
                problem.jvp(&state.x, &work.cg_direction, &mut work.image)?;
                problem.jtvp(&state.x, &work.image, &mut work.product)?;
                work.product.scaled_add(self.lambda, &work.cg_direction);
                self.cg_iterations += 1;
                let curvature = work.cg_direction.dot(&work.product);
                if curvature <= 0.0 || curvature.is_nan() {
                    break;
                }
                let alpha = rr / curvature;
                work.step.scaled_add(alpha, &work.cg_direction);
                work.cg_residual.scaled_add(-alpha, &work.product);
                let rr_next = work.cg_residual.dot(&work.cg_residual);
                if rr_next <= target {
                    break;
                }
                let beta = rr_next / rr;
                rr = rr_next;
                work.cg_direction.mapv_inplace(|d| beta * d);
                work.cg_direction += &work.cg_residual;
            }

            // Predicted reduction ||r||^2 - ||r + J p||^2 = -(2 r'Jp + ||Jp||^2).
            problem.jvp(&state.x, &work.step, &mut work.image)?;
            let predicted = -(2.0 * work.residuals.dot(&work.image) + work.image.dot(&work.image));
            work.x_trial.assign(&state.x);
            work.x_trial += &work.step;
            let trial_rss =
                if evaluate_residuals(problem, &work.x_trial, &mut work.trial_residuals)? {
                    work.trial_residuals.dot(&work.trial_residuals)
                } else {
                    f64::INFINITY
                };
            let actual = work.rss - trial_rss;
            let ratio = if predicted > 0.0 {
                actual / predicted
            } else {
                0.0
            };
            self.ratio = ratio;
            let success = ratio > 1e-4 && trial_rss.is_finite();
            let step_norm = work.step.dot(&work.step).sqrt();
            let x_norm = state.x.dot(&state.x).sqrt();
            let ftol_met = actual.abs() <= config.ftol * work.rss
                && predicted <= config.ftol * work.rss
                && trial_rss.is_finite();
            let xtol_met = step_norm <= config.xtol * (x_norm + config.xtol);
            if success {
                let shrink = 1.0 - (2.0 * ratio - 1.0).powi(3);
                self.lambda *= shrink.max(1.0 / 3.0);
                self.nu = 2.0;
                std::mem::swap(&mut state.x, &mut work.x_trial);
                std::mem::swap(&mut work.residuals, &mut work.trial_residuals);
                work.rss = trial_rss;
            } else {
                self.lambda *= self.nu;
                self.nu *= 2.0;
                rejections += 1;
            }
            let termination = match (ftol_met, xtol_met) {
                (true, true) => Some(Termination::FunctionAndStepTolerance),
                (true, false) => Some(Termination::FunctionTolerance),
                (false, true) => Some(Termination::StepTolerance),
                (false, false) if !success && rejections >= MAX_REJECTIONS => {
                    Some(Termination::TooManyRejections)
                }
                (false, false) if !self.lambda.is_finite() => Some(Termination::NoFurtherStep),
                (false, false) => None,
            };
            if success {
                refresh_gradient(problem, work, state)?;
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
            ("ratio", self.ratio),
            ("cg_iterations", self.cg_iterations as f64),
        ]
    }
}
