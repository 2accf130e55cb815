//! Saddle-free Newton in a Krylov subspace (Dauphin, Pascanu, Gulcehre,
//! Cho, Ganguli & Bengio 2014, "Identifying and attacking the saddle point
//! problem in high-dimensional non-convex optimization", NeurIPS,
//! Algorithm 1).
//!
//! Newton's step `-H^{-1} g` moves towards the stationary point of the local
//! quadratic model, which near a saddle is the saddle itself. Rescaling the
//! gradient by `|H|^{-1}` instead (`|H| = Q |diag(w)| Q'`, the absolute
//! values of the eigenvalues) keeps Newton's step lengths in directions of
//! positive curvature and turns the attraction of negative-curvature
//! directions into repulsion.
//!
//! `|H|` of a large problem is out of reach, so the method works in a
//! `k`-dimensional Krylov subspace built by [`Lanczos`] from
//! Hessian-vector products, started at `q_1 = g / ||g||` (so `g` lies in
//! the subspace and `V' g = ||g|| e_1`):
//!
//! ```text
//! V, T       = k Lanczos vectors and T = V' H V       (k Hessian-vector products)
//! T          = Q diag(w) Q'                            (dense k x k, linalg::symmetric_eigen)
//! d(lambda)  = -V Q (|diag(w)| + lambda I)^{-1} Q' V' g
//! lambda*    = argmin over candidates of f(x + d(lambda))
//! x         <- x + d(lambda*)   if f decreases, else stop: line_search_failed
//! ```
//!
//! **Damping.** The paper chooses the damping by a line search over
//! `lambda` (Algorithm 1: `lambda <- argmin_lambda f(x + d(lambda))`). Here
//! that minimization is done over a fixed set of candidates: `lambda = 0`
//! (the undamped saddle-free step, tried when every `|w_i| > 0`) and
//! `damping_candidates` values spaced geometrically from
//! `damping_min * s` to `damping_max * s`, with `s = max_i |w_i|` the
//! largest curvature in the subspace (1 if all are zero), so the grid does
//! not depend on the problem's units. A grid rather than a 1-D minimizer in
//! `log lambda` because `f` along the curve `d(lambda)` is not unimodal in
//! general (escaping a saddle, the best `lambda` can sit between two local
//! minima of the curve), the grid's cost is known in advance
//! (`damping_candidates + 1` function values per iteration, no gradients),
//! and its large-damping end is a short step along `-g` (in the subspace,
//! `d ~ -g / lambda`; `d(lambda)' g < 0` for every `lambda`), which
//! decreases a smooth `f` unless its curvature along `g` far exceeds the
//! subspace's largest `|w_i|`. The candidate with the lowest finite
//! `f` is taken if it is below `f(x)`; otherwise the method stops with
//! [`StopReason::LineSearchFailed`] and leaves `x` where it was.
//!
//! The paper's inner loop of `m` steps that reuse one subspace is not done:
//! every iteration builds a fresh subspace at the new point (`m = 1`).
//!
//! Cost per iteration: `k` Hessian-vector products, `damping_candidates + 1`
//! function values and one gradient; the Lanczos basis and the two trial
//! points are allocated once, in `init` (the `k x k` eigendecomposition
//! allocates its small outputs each iteration).

use std::cmp::Ordering;

use ndarray::Array2;
use opt_core::{
    Counted, IterState, Objective, OptError, Result, Scalar, ScalarOf, Solver, StopReason,
    VectorSpace,
};
use serde::{Deserialize, Serialize};

use crate::lanczos::Lanczos;
use crate::linalg::symmetric_eigen;

/// Default Krylov dimension cap: `k = min(n, 20)`.
pub const DEFAULT_MAX_KRYLOV_DIM: usize = 20;

/// Hyperparameters of [`SaddleFreeNewton`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SaddleFreeNewtonConfig {
    /// Krylov dimension `k` (Lanczos vectors per iteration); `None` means
    /// `min(n, 20)`. A value above `n` is clamped to `n`.
    pub k: Option<usize>,
    /// Smallest damping candidate, relative to the largest `|w_i|` (1e-8).
    pub damping_min: f64,
    /// Largest damping candidate, relative to the largest `|w_i|` (100).
    pub damping_max: f64,
    /// Number of geometrically spaced damping candidates (11: one per
    /// decade from 1e-8 to 1e2), besides `lambda = 0`.
    pub damping_candidates: usize,
}

impl Default for SaddleFreeNewtonConfig {
    fn default() -> Self {
        Self {
            k: None,
            damping_min: 1e-8,
            damping_max: 1e2,
            damping_candidates: 11,
        }
    }
}

impl SaddleFreeNewtonConfig {
    /// Check every hyperparameter.
    pub fn validate(&self) -> Result<()> {
        if self.k == Some(0) {
            return Err(OptError::invalid(
                "k",
                0,
                "the Krylov dimension must be at least 1",
            ));
        }
        if !(self.damping_min.is_finite() && self.damping_min > 0.0) {
            return Err(OptError::invalid(
                "damping_min",
                self.damping_min,
                "must be positive and finite",
            ));
        }
        if !(self.damping_max.is_finite() && self.damping_max >= self.damping_min) {
            return Err(OptError::invalid(
                "damping_max",
                self.damping_max,
                "must be finite and at least damping_min",
            ));
        }
        if self.damping_candidates == 0 {
            return Err(OptError::invalid(
                "damping_candidates",
                0,
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// The `i`-th of the geometric damping candidates, relative to the
    /// largest curvature.
    fn relative_damping(&self, i: usize) -> f64 {
        if self.damping_candidates == 1 {
            return self.damping_min;
        }
        let fraction = i as f64 / (self.damping_candidates - 1) as f64;
        self.damping_min * (self.damping_max / self.damping_min).powf(fraction)
    }
}

/// What the last iteration found, for [`Solver::metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct LastIteration {
    damping: f64,
    krylov_dim: usize,
    min_curvature: f64,
    negative_curvatures: usize,
}

/// Saddle-free Newton in a Krylov subspace with the damping chosen by a
/// search over candidates; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct SaddleFreeNewton<V> {
    config: SaddleFreeNewtonConfig,
    lanczos: Lanczos<V>,
    trial: Option<V>,
    best: Option<V>,
    coefficients: Vec<f64>,
    last: LastIteration,
}

impl<V: VectorSpace> SaddleFreeNewton<V> {
    /// The method with validated hyperparameters.
    pub fn new(config: SaddleFreeNewtonConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            lanczos: Lanczos::new(),
            trial: None,
            best: None,
            coefficients: Vec::new(),
            last: LastIteration::default(),
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &SaddleFreeNewtonConfig {
        &self.config
    }

    /// The damping `lambda` the last iteration took (absolute, in the
    /// units of the Hessian's eigenvalues).
    pub fn last_damping(&self) -> f64 {
        self.last.damping
    }

    /// The Krylov dimension `k` used at a problem of dimension `n`.
    pub fn krylov_dim(&self, n: usize) -> usize {
        self.config
            .k
            .unwrap_or(DEFAULT_MAX_KRYLOV_DIM)
            .min(n)
            .max(1)
    }
}

/// `x_out = x - V c` for the basis `V` and coefficients `c`.
fn step_point<V: VectorSpace>(x: &V, basis: &[V], coefficients: &[f64], x_out: &mut V) {
    x_out.assign(x);
    for (q, &c) in basis.iter().zip(coefficients) {
        x_out.axpy(ScalarOf::<V>::of(-c), q);
    }
}

impl<P, V> Solver<P> for SaddleFreeNewton<V>
where
    P: Objective<Vector = V>,
    V: VectorSpace,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<V>) -> Result<()> {
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        self.trial = Some(state.x.zeros_like());
        self.best = Some(state.x.zeros_like());
        self.last = LastIteration::default();
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<V>,
    ) -> Result<Option<StopReason>> {
        let k = self.krylov_dim(state.x.len());
        let (Some(trial), Some(best)) = (&mut self.trial, &mut self.best) else {
            return Err(OptError::InvalidState(
                "next_iter called before init".into(),
            ));
        };
        let grad_norm = state.grad.norm2().to_f64_lossless();
        if grad_norm == 0.0 {
            return Ok(Some(StopReason::GradientTolerance));
        }
        if !grad_norm.is_finite() {
            return Err(OptError::NonFinite {
                what: "gradient",
                iteration: state.iter,
            });
        }

        // Krylov subspace from the gradient, and T = Q diag(w) Q'.
        let m = self.lanczos.run_on(problem, &state.x, &state.grad, k)?;
        let (w, q): (_, Array2<f64>) = symmetric_eigen(&self.lanczos.tridiagonal())?;
        let largest = w.iter().fold(0.0_f64, |a, wi| a.max(wi.abs()));
        let smallest = w.iter().fold(f64::INFINITY, |a, wi| a.min(wi.abs()));
        let scale = if largest > 0.0 { largest } else { 1.0 };
        // Q' V' g = ||g|| Q' e_1: the first row of Q, scaled.
        let projected: Vec<f64> = (0..m).map(|i| grad_norm * q[[0, i]]).collect();

        // Damping: lambda = 0 (when |T| is invertible), then the grid.
        let candidates = self.config.damping_candidates;
        let first = if smallest > 0.0 { 0 } else { 1 };
        let mut best_f = f64::INFINITY;
        let mut best_damping = f64::NAN;
        for candidate in first..=candidates {
            let damping = if candidate == 0 {
                0.0
            } else {
                scale * self.config.relative_damping(candidate - 1)
            };
            // c = Q (|w| + lambda)^{-1} Q' V' g, the step is d = -V c.
            self.coefficients.clear();
            self.coefficients.extend((0..m).map(|row| {
                (0..m)
                    .map(|i| q[[row, i]] * projected[i] / (w[i].abs() + damping))
                    .sum::<f64>()
            }));
            if !self.coefficients.iter().all(|c| c.is_finite()) {
                continue;
            }
            step_point(&state.x, self.lanczos.basis(), &self.coefficients, trial);
            let f_trial = problem.value(trial)?.to_f64_lossless();
            if f_trial < best_f {
                best_f = f_trial;
                best_damping = damping;
                std::mem::swap(trial, best);
            }
        }

        self.last = LastIteration {
            damping: best_damping,
            krylov_dim: m,
            min_curvature: w.iter().fold(f64::INFINITY, |a, &wi| a.min(wi)),
            negative_curvatures: w.iter().filter(|&&wi| wi < 0.0).count(),
        };
        if best_f.partial_cmp(&state.f.to_f64_lossless()) != Some(Ordering::Less) {
            return Ok(Some(StopReason::LineSearchFailed));
        }
        std::mem::swap(&mut state.x, best);
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        Ok(None)
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("damping", self.last.damping),
            ("krylov_dim", self.last.krylov_dim as f64),
            ("min_curvature", self.last.min_curvature),
            ("negative_curvatures", self.last.negative_curvatures as f64),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::DenseQuadratic;
    use ndarray::{Array1, array};
    use opt_core::Runner;

    #[test]
    fn damping_grid_spans_the_configured_range() {
        let config = SaddleFreeNewtonConfig::default();
        assert!((config.relative_damping(0) - 1e-8).abs() < 1e-22);
        assert!((config.relative_damping(10) - 1e2).abs() < 1e-10);
        assert!((config.relative_damping(5) - 1e-3).abs() < 1e-15);
    }

    #[test]
    fn one_step_on_a_diagonal_quadratic_is_newtons() {
        // f = 0.5 x'Ax - b'x, A = diag(1, 4, 9): the full Krylov space is R^3
        // and lambda = 0 gives x = A^{-1} b.
        let a = Array2::from_diag(&array![1.0, 4.0, 9.0]);
        let b = array![1.0, 2.0, -3.0];
        let problem = Counted::new(DenseQuadratic::new(a, b).unwrap());
        let mut solver = SaddleFreeNewton::new(SaddleFreeNewtonConfig::default()).unwrap();
        let report = Runner::new()
            .max_iters(1)
            .run(&problem, &mut solver, Array1::zeros(3))
            .unwrap();
        let expected = array![1.0, 0.5, -1.0 / 3.0];
        assert!(
            (&report.x - &expected).iter().all(|e| e.abs() < 1e-14),
            "{}",
            report.x
        );
        assert_eq!(solver.last_damping(), 0.0);
        assert_eq!(problem.evals().hvp, 3);
    }
}
