//! Moller's scaled conjugate gradient (SCG): Moller (1993), "A scaled
//! conjugate gradient algorithm for fast supervised learning", *Neural
//! Networks* 6(4):525-533.
//!
//! SCG replaces the line search of nonlinear CG by a Levenberg-Marquardt
//! style scale `lambda_k` on a finite-difference estimate of the curvature
//! along the search direction. In the paper's notation (`E` the objective,
//! `r_k = -E'(w_k)` the steepest-descent direction, `N` the number of
//! weights), the algorithm of section 4 is:
//!
//! 1. Choose `w_1`, `0 < sigma <= 1e-4`, `0 < lambda_1 <= 1e-6`,
//!    `lambda_bar_1 = 0`; set `p_1 = r_1 = -E'(w_1)`, `k = 1`,
//!    `success = true`.
//! 2. If `success`, calculate second-order information:
//!    `sigma_k = sigma / |p_k|`,
//!    `s_k = (E'(w_k + sigma_k p_k) - E'(w_k)) / sigma_k`,
//!    `delta_k = p_k's_k`.
//! 3. Scale: `delta_k = delta_k + (lambda_k - lambda_bar_k) |p_k|^2`.
//! 4. If `delta_k <= 0`, make the Hessian positive definite:
//!    `lambda_bar_k = 2 (lambda_k - delta_k / |p_k|^2)`,
//!    `delta_k = -delta_k + lambda_k |p_k|^2`, `lambda_k = lambda_bar_k`.
//! 5. Step size: `mu_k = p_k'r_k`, `alpha_k = mu_k / delta_k`.
//! 6. Comparison parameter:
//!    `Delta_k = 2 delta_k [E(w_k) - E(w_k + alpha_k p_k)] / mu_k^2`.
//! 7. If `Delta_k >= 0` (a successful reduction):
//!    `w_{k+1} = w_k + alpha_k p_k`, `r_{k+1} = -E'(w_{k+1})`,
//!    `lambda_bar_k = 0`, `success = true`; if `k mod N = 0` restart,
//!    `p_{k+1} = r_{k+1}`, else
//!    `beta_k = (|r_{k+1}|^2 - r_{k+1}'r_k) / mu_k`,
//!    `p_{k+1} = r_{k+1} + beta_k p_k`;
//!    if `Delta_k >= 0.75` reduce the scale, `lambda_k = lambda_k / 4`.
//!    Otherwise (`Delta_k < 0`): `lambda_bar_k = lambda_k`, `success = false`.
//! 8. If `Delta_k < 0.25` increase the scale,
//!    `lambda_k = lambda_k + delta_k (1 - Delta_k) / |p_k|^2`.
//! 9. If `r_k != 0`, set `k = k + 1` and go to 2; else `w_{k+1}` is the
//!    minimum.
//!
//! The constants (1/4 at `Delta >= 0.75`, the increase of step 8 at
//! `Delta < 0.25`) are the paper's; MATLAB's `trainscg`, which follows the
//! paper, uses the same (it takes `|p_{k+1}|^2` in step 8 where the paper
//! writes `|p_k|^2`; we follow the paper). In step 8, `delta_k` is the value
//! after steps 3-4. The scale `lambda` carried into the next pass of step 3
//! (as `lambda_{k+1}`) is the one left by steps 4, 7 and 8, and so is
//! `lambda_bar`; after a failure `delta_k` is carried too, so step 3 adds
//! only the increase of `lambda`.
//!
//! **What one iteration is.** One call of `next_iter` repeats steps 2-9
//! until a step succeeds, so every iteration moves `w` (the paper's `k`
//! counts every pass, failed ones included, and the restart test uses it).
//! It evaluates `E` and `E'` together (`value_and_grad`): once at the probe
//! `w_k + sigma_k p_k` when `success` (the value there is unused) and once
//! at the trial `w_k + alpha_k p_k`, whose gradient is `E'(w_{k+1})` when the
//! step succeeds. A pass after a failure costs one evaluation, a pass after
//! a success two. After [`MAX_REJECTIONS`] consecutive failures, or when
//! `lambda` has overflowed so that `delta_k` is no longer a finite positive
//! number, the solver stops with [`StopReason::LineSearchFailed`] (no
//! acceptable step; the closed enum's name for it). Quartering `lambda`
//! stops at the smallest normal number, so it never underflows to 0. A
//! trial point where `E` or `E'` is not finite is a failure whose step 8
//! uses `Delta = 0` (doubling `delta`, so halving the next step); a
//! non-finite gradient at the probe is an
//! [`OptError::NonFinite`]. If `mu_k = 0` (a direction orthogonal to the
//! gradient, which the paper's rules do not exclude) the direction is
//! restarted, `p_k = r_k`.
//!
//! **The comparison test near the optimum.** `E(w_k) - E(w_k + alpha_k p_k)`
//! is a difference of two rounded values. Near a minimizer the decrease is
//! `O(|r_k|^2)` and falls below the rounding error of `E` (about
//! `eps |E|`, more when `E` is a sum of many terms); then `Delta_k` is noise,
//! a failure (or a zero) increases `lambda`, the next step is shorter, its
//! decrease smaller still, and SCG stalls far from the gradient tolerance
//! (the tests show it on a quadratic with a large constant term). We
//! therefore replace the difference, when it is within
//! `f_noise max(|E(w_k)|, |E(w_k + alpha_k p_k)|)` of zero, by the
//! trapezoid rule on the directional derivatives at both ends,
//!
//! ```text
//! E(w_k) - E(w_k + alpha_k p_k) ~ -(alpha_k / 2) (E'(w_k) + E'(w_k + alpha_k p_k))'p_k,
//! ```
//!
//! which is exact on a quadratic, has error `alpha^3 E'''[p,p,p] / 12`
//! otherwise (vanishing faster than the decrease itself as `r_k -> 0`), and
//! is accurate to rounding relative to `|alpha| |E'| |p|` rather than `|E|`.
//! The trial gradient it needs is evaluated anyway. The default
//! `f_noise = sqrt(eps)` of the scalar type: in that band a difference of
//! `E` values carries at most half the digits (function values locate a
//! minimizer only to about `sqrt(eps)` relative accuracy, as in Gill,
//! Murray & Wright 1981, *Practical Optimization*), while the band also
//! bounds how much `E` can rise on a step accepted by the estimate, as the
//! approximate Wolfe conditions of Hager & Zhang (2005, *SIAM J. Optim.*
//! 16(1)) do.
//! `f_noise = 0` gives the paper's test exactly.
//!
//! [`MinibatchScg`] runs the same iteration on mini-batches of a
//! [`FiniteSum`] (its own docs).
//!
//! Metrics: `lambda` (`lambda_k` for the next pass), `sigma` (`sigma_k` of
//! the last probe), `alpha` (the last accepted step), `comparison`
//! (`Delta_k` of the last accepted step), `restarts`, `rejections` (failed
//! passes so far) and `trapezoid` (passes whose comparison used the
//! trapezoid estimate). Buffers are allocated in `init`; an iteration
//! allocates nothing.

use opt_core::gradient::{GradientAccumulator, accumulate_batch_gradient};
use opt_core::num_traits::{Float, One, Zero};
use opt_core::{
    Counted, FiniteSum, IterState, Objective, OptError, Result, SaveState, Scalar, ScalarOf,
    Solver, StopReason, VectorSpace, check_len,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Consecutive failed passes (steps 2-9 with `Delta_k < 0`) after which an
/// iteration gives up. Each failure at least doubles `delta_k`, so the step
/// has shrunk by `2^-MAX_REJECTIONS` by then.
pub const MAX_REJECTIONS: usize = 100;

/// Hyperparameters of [`Scg`]. `Default`: the paper's largest values
/// `sigma = 1e-4`, `lambda = 1e-6`, restart every `N` (the dimension)
/// passes, `f_noise = sqrt(eps)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScgConfig {
    /// `sigma` of step 2, in `(0, 1e-4]`: the probe lies at distance
    /// `sigma` from `w_k` along `p_k`.
    pub sigma: f64,
    /// `lambda_1`, the initial scale, in `(0, 1e-6]`.
    pub lambda: f64,
    /// A floor under the scale: step 7's reduction `lambda / 4` stops at
    /// `lambda_min`, and `lambda_1` is raised to it. It bounds the step
    /// along `p_k` by `mu_k / (lambda_min |p_k|^2)` where the estimated
    /// curvature is small, a trust region in all but name; on mini-batches
    /// it keeps one batch's flat directions from taking long steps
    /// (docs/algorithms/minibatch-scg.md). `0`: the paper (no floor
    /// beyond the smallest normal number).
    pub lambda_min: f64,
    /// `N` of step 7 (restart when `k mod N = 0`); `None`: the dimension.
    pub restart: Option<usize>,
    /// Relative band in which the comparison uses the trapezoid estimate
    /// instead of the difference of values (module docs); `None`:
    /// `sqrt(eps)` of the scalar type; `Some(0.0)`: the paper's test.
    pub f_noise: Option<f64>,
}

impl Default for ScgConfig {
    fn default() -> Self {
        Self {
            sigma: 1e-4,
            lambda: 1e-6,
            lambda_min: 0.0,
            restart: None,
            f_noise: None,
        }
    }
}

impl ScgConfig {
    /// Check every hyperparameter; errors name the parameter.
    pub fn validate(&self) -> Result<()> {
        if !(self.sigma > 0.0 && self.sigma <= 1e-4) {
            return Err(OptError::invalid(
                "sigma",
                self.sigma,
                "must lie in (0, 1e-4] (Moller 1993)",
            ));
        }
        if !(self.lambda > 0.0 && self.lambda <= 1e-6) {
            return Err(OptError::invalid(
                "lambda",
                self.lambda,
                "must lie in (0, 1e-6] (Moller 1993)",
            ));
        }
        if !(self.lambda_min.is_finite() && self.lambda_min >= 0.0) {
            return Err(OptError::invalid(
                "lambda_min",
                self.lambda_min,
                "must be finite and at least 0",
            ));
        }
        if self.restart == Some(0) {
            return Err(OptError::invalid("restart", 0, "must be at least 1"));
        }
        if let Some(f_noise) = self.f_noise
            && !(f_noise.is_finite() && (0.0..1.0).contains(&f_noise))
        {
            return Err(OptError::invalid("f_noise", f_noise, "must lie in [0, 1)"));
        }
        Ok(())
    }
}

/// What one pass of steps 2-9 did.
enum Pass {
    /// `Delta_k >= 0`: `w` moved.
    Moved,
    /// `Delta_k < 0` (or a non-finite trial): `w` stays.
    Rejected,
    /// `delta_k` is not a finite positive number after step 4 (`lambda`
    /// overflowed): no step can be computed.
    Stuck,
}

/// How an iteration (passes until a success) ended.
enum Iteration {
    Moved,
    /// `r_k = 0` exactly: step 9's termination.
    ZeroGradient,
    /// [`MAX_REJECTIONS`] failures in a row, or `lambda` overflowed.
    GaveUp,
}

/// The state of the paper's algorithm and its buffers, shared by [`Scg`]
/// and [`MinibatchScg`].
#[derive(Debug, Clone)]
struct ScgCore<V: VectorSpace> {
    sigma: ScalarOf<V>,
    f_noise: ScalarOf<V>,
    restart_every: usize,
    /// The paper's `k` (passes, starting at 1).
    k: usize,
    lambda: ScalarOf<V>,
    /// The floor of step 7's reduction (at least the smallest normal number).
    lambda_min: ScalarOf<V>,
    lambda_bar: ScalarOf<V>,
    success: bool,
    /// `delta_k`, carried over a failure.
    delta: ScalarOf<V>,
    /// `p_k` and `|p_k|^2`.
    direction: V,
    direction_sq: ScalarOf<V>,
    x_trial: V,
    grad_trial: V,
    // Reported quantities.
    sigma_k: ScalarOf<V>,
    alpha: ScalarOf<V>,
    comparison: ScalarOf<V>,
    restarts: usize,
    rejections: usize,
    trapezoid: usize,
}

impl<V: VectorSpace> ScgCore<V> {
    /// Step 1 at a point with gradient `grad`.
    fn new(config: &ScgConfig, restart_every: usize, grad: &V) -> Self {
        type T<V> = ScalarOf<V>;
        let f_noise = match config.f_noise {
            Some(value) => T::<V>::of(value),
            None => T::<V>::epsilon().sqrt(),
        };
        let lambda_min = T::<V>::of(config.lambda_min).max(T::<V>::min_positive_value());
        let mut core = Self {
            sigma: T::<V>::of(config.sigma),
            f_noise,
            restart_every: restart_every.max(1),
            k: 1,
            lambda: T::<V>::of(config.lambda).max(lambda_min),
            lambda_min,
            lambda_bar: T::<V>::zero(),
            success: true,
            delta: T::<V>::zero(),
            direction: grad.zeros_like(),
            direction_sq: T::<V>::zero(),
            x_trial: grad.zeros_like(),
            grad_trial: grad.zeros_like(),
            sigma_k: T::<V>::zero(),
            alpha: T::<V>::zero(),
            comparison: T::<V>::zero(),
            restarts: 0,
            rejections: 0,
            trapezoid: 0,
        };
        core.restart(grad);
        core
    }

    /// `p = r = -grad`, `success = true`, `lambda_bar = 0` (a fresh start
    /// of the conjugate directions; `lambda` is kept).
    fn restart(&mut self, grad: &V) {
        self.direction.assign(grad);
        self.direction.scale(-ScalarOf::<V>::one());
        self.direction_sq = grad.dot(grad);
        self.success = true;
        self.lambda_bar = ScalarOf::<V>::zero();
    }

    /// Passes of steps 2-9 until one succeeds. `x`, `f`, `grad` are the
    /// current point with the value and gradient of the function that
    /// `evaluate` computes (`f(x)` returned, gradient written to its second
    /// argument); on success they hold the new point.
    fn iterate<E>(
        &mut self,
        evaluate: &mut E,
        x: &mut V,
        f: &mut ScalarOf<V>,
        grad: &mut V,
    ) -> Result<Iteration>
    where
        E: FnMut(&V, &mut V) -> Result<ScalarOf<V>>,
    {
        if grad.dot(grad).is_zero() {
            return Ok(Iteration::ZeroGradient);
        }
        for _ in 0..MAX_REJECTIONS {
            match self.pass(evaluate, x, f, grad)? {
                Pass::Moved => return Ok(Iteration::Moved),
                Pass::Rejected => self.rejections += 1,
                Pass::Stuck => return Ok(Iteration::GaveUp),
            }
        }
        Ok(Iteration::GaveUp)
    }

    /// One pass of steps 2-9.
    fn pass<E>(
        &mut self,
        evaluate: &mut E,
        x: &mut V,
        f: &mut ScalarOf<V>,
        grad: &mut V,
    ) -> Result<Pass>
    where
        E: FnMut(&V, &mut V) -> Result<ScalarOf<V>>,
    {
        type T<V> = ScalarOf<V>;
        let (zero, one, two) = (T::<V>::zero(), T::<V>::one(), T::<V>::of(2.0));

        // Step 5's mu first: a direction orthogonal to r gives alpha = 0 and
        // Delta = 0/0, so restart it (not in the paper; see module docs).
        let mut mu = -self.direction.dot(grad);
        if mu.is_zero() || !(self.direction_sq > zero && self.direction_sq.is_finite()) {
            self.restart(grad);
            self.restarts += 1;
            mu = self.direction_sq;
        }
        let p_sq = self.direction_sq;

        // Step 2.
        if self.success {
            self.sigma_k = self.sigma / p_sq.sqrt();
            self.x_trial.assign(x);
            self.x_trial.axpy(self.sigma_k, &self.direction);
            evaluate(&self.x_trial, &mut self.grad_trial)?;
            self.grad_trial.axpy(-one, grad);
            self.delta = self.direction.dot(&self.grad_trial) / self.sigma_k;
            if !self.delta.is_finite() {
                return Err(OptError::NonFinite {
                    what: "SCG curvature estimate (gradient at w + sigma_k p_k)",
                    iteration: self.k,
                });
            }
        }
        // Step 3.
        self.delta += (self.lambda - self.lambda_bar) * p_sq;
        // Step 4.
        if self.delta <= zero {
            self.lambda_bar = two * (self.lambda - self.delta / p_sq);
            self.delta = -self.delta + self.lambda * p_sq;
            self.lambda = self.lambda_bar;
        }
        if !(self.delta > zero && self.delta.is_finite()) {
            return Ok(Pass::Stuck);
        }
        // Step 5.
        let alpha = mu / self.delta;
        // Step 6: E and E' at the trial point.
        self.x_trial.assign(x);
        self.x_trial.axpy(alpha, &self.direction);
        let f_trial = evaluate(&self.x_trial, &mut self.grad_trial)?;
        let comparison = if f_trial.is_finite() && self.grad_trial.is_finite() {
            let mut decrease = *f - f_trial;
            let in_noise = decrease.abs() <= self.f_noise * f.abs().max(f_trial.abs());
            if self.f_noise > zero && in_noise {
                let slopes = grad.dot(&self.direction) + self.grad_trial.dot(&self.direction);
                decrease = -alpha / two * slopes;
                self.trapezoid += 1;
            }
            two * self.delta * decrease / (mu * mu)
        } else {
            T::<V>::nan()
        };

        // Step 7.
        let moved = comparison >= zero;
        if moved {
            std::mem::swap(x, &mut self.x_trial);
            std::mem::swap(grad, &mut self.grad_trial);
            *f = f_trial;
            self.lambda_bar = zero;
            self.success = true;
            self.alpha = alpha;
            self.comparison = comparison;
            if self.k.is_multiple_of(self.restart_every) {
                self.restart(grad);
                self.restarts += 1;
            } else {
                // grad_trial holds g_k = -r_k: make it y = g_{k+1} - g_k, so
                // that |r_{k+1}|^2 - r_{k+1}'r_k = g_{k+1}'y.
                self.grad_trial.scale_add(-one, grad);
                let beta = grad.dot(&self.grad_trial) / mu;
                self.direction.scale(beta);
                self.direction.axpy(-one, grad);
                self.direction_sq = self.direction.dot(&self.direction);
            }
            if comparison >= T::<V>::of(0.75) {
                // At least lambda_min, a normal number, so never 0.
                self.lambda = (self.lambda / T::<V>::of(4.0)).max(self.lambda_min);
            }
        } else {
            self.lambda_bar = self.lambda;
            self.success = false;
        }
        // Step 8, with |p_k|^2 of this pass; a non-finite trial (or a
        // comparison that overflowed to -inf) counts as Delta = 0.
        let comparison_for_scale = if comparison.is_nan() || comparison == T::<V>::neg_infinity() {
            zero
        } else {
            comparison
        };
        if comparison_for_scale < T::<V>::of(0.25) {
            self.lambda += self.delta * (one - comparison_for_scale) / p_sq;
        }
        // Step 9 (the test r != 0 is made at the start of the next iteration).
        self.k += 1;
        Ok(if moved { Pass::Moved } else { Pass::Rejected })
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("lambda", self.lambda.to_f64_lossless()),
            ("sigma", self.sigma_k.to_f64_lossless()),
            ("alpha", self.alpha.to_f64_lossless()),
            ("comparison", self.comparison.to_f64_lossless()),
            ("restarts", self.restarts as f64),
            ("rejections", self.rejections as f64),
            ("trapezoid", self.trapezoid as f64),
        ]
    }
}

/// Full-batch scaled conjugate gradient (module docs): a [`Solver`] on any
/// [`Objective`] over a [`VectorSpace`].
#[derive(Debug, Clone)]
pub struct Scg<V: VectorSpace> {
    config: ScgConfig,
    core: Option<ScgCore<V>>,
}

impl<V: VectorSpace> Scg<V> {
    /// A validated SCG.
    pub fn new(config: ScgConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config, core: None })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &ScgConfig {
        &self.config
    }

    /// The scale `lambda` of the next pass (`None` before `init`).
    pub fn lambda(&self) -> Option<f64> {
        self.core.as_ref().map(|c| c.lambda.to_f64_lossless())
    }
}

impl<P, V> Solver<P> for Scg<V>
where
    P: Objective<Vector = V>,
    V: VectorSpace,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<V>) -> Result<()> {
        check_len("starting point", problem.dim(), state.x.len())?;
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        let restart_every = self.config.restart.unwrap_or(problem.dim());
        self.core = Some(ScgCore::new(&self.config, restart_every, &state.grad));
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<V>,
    ) -> Result<Option<StopReason>> {
        let Some(core) = self.core.as_mut() else {
            return Err(OptError::InvalidState(
                "next_iter called before init".into(),
            ));
        };
        let mut evaluate = |x: &V, grad: &mut V| problem.value_and_grad(x, grad);
        let IterState { x, f, grad, .. } = state;
        Ok(match core.iterate(&mut evaluate, x, f, grad)? {
            Iteration::Moved => None,
            Iteration::ZeroGradient => Some(StopReason::GradientTolerance),
            Iteration::GaveUp => Some(StopReason::LineSearchFailed),
        })
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        self.core.as_ref().map_or_else(Vec::new, ScgCore::metrics)
    }
}

/// Hyperparameters of [`MinibatchScg`]: those of [`ScgConfig`] plus the
/// batching. `Default`: the full set as one batch, no micro-batches, a new
/// batch every 5 iterations (when `batch_size` makes batches: with one new
/// batch per iteration SCG degenerates to scaled steepest descent at three
/// batch gradients a step, and trains networks worse;
/// docs/algorithms/minibatch-scg.md), seed 0, the full objective reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MinibatchScgConfig {
    /// See [`ScgConfig::sigma`].
    pub sigma: f64,
    /// See [`ScgConfig::lambda`].
    pub lambda: f64,
    /// See [`ScgConfig::lambda_min`].
    pub lambda_min: f64,
    /// See [`ScgConfig::restart`].
    pub restart: Option<usize>,
    /// See [`ScgConfig::f_noise`].
    pub f_noise: Option<f64>,
    /// Samples per batch `B`; `None` or at least `n`: the whole set.
    pub batch_size: Option<usize>,
    /// At most this many samples per call to the problem (`M`); the batch
    /// gradient is accumulated over micro-batches. `None`: one call per batch.
    pub micro_batch: Option<usize>,
    /// Draw a new batch every this many iterations (`k`).
    pub batches_every: usize,
    /// Seed of the batch shuffle.
    pub seed: u64,
    /// Report the full objective's value and gradient after each iteration
    /// (evaluated uncounted, for monitoring and the runner's stopping
    /// tests); `false` reports the current batch's `E_B` and `E_B'`
    /// instead, which saves a pass over the whole set per iteration (a
    /// training loop that evaluates the loss once per epoch wants this).
    pub full_objective: bool,
}

impl Default for MinibatchScgConfig {
    fn default() -> Self {
        let scg = ScgConfig::default();
        Self {
            sigma: scg.sigma,
            lambda: scg.lambda,
            lambda_min: scg.lambda_min,
            restart: scg.restart,
            f_noise: scg.f_noise,
            batch_size: None,
            micro_batch: None,
            batches_every: 5,
            seed: 0,
            full_objective: true,
        }
    }
}

impl MinibatchScgConfig {
    /// The SCG part.
    pub fn scg(&self) -> ScgConfig {
        ScgConfig {
            sigma: self.sigma,
            lambda: self.lambda,
            lambda_min: self.lambda_min,
            restart: self.restart,
            f_noise: self.f_noise,
        }
    }

    /// Check every hyperparameter; errors name the parameter.
    pub fn validate(&self) -> Result<()> {
        self.scg().validate()?;
        for (name, value) in [
            ("batch_size", self.batch_size),
            ("micro_batch", self.micro_batch),
            ("batches_every", Some(self.batches_every)),
        ] {
            if value == Some(0) {
                return Err(OptError::invalid(name, 0, "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// SCG on mini-batches of a [`FiniteSum`].
///
/// - **Batches.** A batch is `B` sample indices drawn without replacement
///   from a shuffle of `0..n` (SplitMix64 seeded with `seed`, Fisher-Yates),
///   reshuffled when an epoch is used up; the last batch of an epoch may be
///   smaller, as in the runner's mini-batch sampler. With `B >= n` the batch
///   is `0..n` in order and never changes, so the iterates are those of
///   [`Scg`] up to the rounding of the accumulation.
/// - **One batch per step.** Every evaluation of an iteration (the probe
///   gradient of step 2, the trial value and gradient of step 6, and so the
///   comparison of values) uses the same batch function
///   `E_B = (1/|B|) sum_{i in B} f_i`, whose value and gradient are
///   accumulated over micro-batches of at most `M` samples with
///   [`accumulate_batch_gradient`], so a batch far larger than memory still
///   gives one exact gradient.
/// - **New batches.** Every `batches_every` iterations a new batch is drawn
///   and `E_B`, `E_B'` evaluated at the current point; the conjugate
///   directions restart on it (`p = r = -E_B'`, `success = true`,
///   `lambda_bar = 0`: the old direction and curvature belong to another
///   function), while `lambda` is kept (the curvature scale of batches of
///   one problem is alike). A batch whose gradient is exactly zero is
///   replaced, up to an epoch's worth of draws.
/// - **Reporting.** After each iteration the state holds the full
///   objective's value and gradient at the new point, evaluated on the
///   uncounted [`Counted::inner`] problem (the runner's convention for
///   mini-batch methods, as in `StepperSolver`), so the evaluation counts
///   are the method's own: one `f`, one `grad` and `|b|` samples per
///   micro-batch call `b`. With `full_objective = false` it holds the
///   current batch's `E_B`, `E_B'` instead (no extra pass; the runner's
///   gradient tolerance then tests the batch gradient).
#[derive(Debug, Clone)]
pub struct MinibatchScg<V: VectorSpace> {
    config: MinibatchScgConfig,
    work: Option<MinibatchWork<V>>,
}

/// What `init` builds.
#[derive(Debug, Clone)]
struct MinibatchWork<V: VectorSpace> {
    core: ScgCore<V>,
    sampler: BatchSampler,
    accumulator: GradientAccumulator<V>,
    scratch: V,
    batch_value: ScalarOf<V>,
    batch_grad: V,
    since_new_batch: usize,
    micro_batch: usize,
}

impl<V: VectorSpace> MinibatchScg<V> {
    /// A validated mini-batch SCG.
    pub fn new(config: MinibatchScgConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config, work: None })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &MinibatchScgConfig {
        &self.config
    }

    /// The indices of the current batch (`None` before `init`).
    pub fn batch(&self) -> Option<&[usize]> {
        self.work.as_ref().map(|w| w.sampler.current())
    }
}

/// `E_B(x)` and `E_B'(x)` over `batch`, in micro-batches of at most
/// `micro_batch` samples.
fn batch_evaluation<P: FiniteSum>(
    problem: &Counted<P>,
    batch: &[usize],
    micro_batch: usize,
    accumulator: &mut GradientAccumulator<P::Vector>,
    scratch: &mut P::Vector,
    x: &P::Vector,
    grad: &mut P::Vector,
) -> Result<ScalarOf<P::Vector>> {
    if micro_batch >= batch.len() {
        problem.batch_value_and_grad(x, batch, grad)
    } else {
        accumulate_batch_gradient(problem, x, batch, micro_batch, accumulator, scratch, grad)
    }
}

impl<V: VectorSpace> MinibatchWork<V> {
    /// Put the full objective (uncounted) or the current batch's value and
    /// gradient at `state.x` into `state`.
    fn report<P: FiniteSum<Vector = V>>(
        &self,
        problem: &Counted<P>,
        full_objective: bool,
        state: &mut IterState<V>,
    ) -> Result<()> {
        if full_objective {
            state.f = problem.inner().value_and_grad(&state.x, &mut state.grad)?;
        } else {
            state.f = self.batch_value;
            state.grad.assign(&self.batch_grad);
        }
        Ok(())
    }

    /// Draw batches until one has a nonzero gradient at `x` (at most an
    /// epoch's worth); `true` when one was found.
    fn new_batch<P: FiniteSum<Vector = V>>(&mut self, problem: &Counted<P>, x: &V) -> Result<bool> {
        let draws = self.sampler.batches_per_epoch();
        for _ in 0..draws {
            self.sampler.draw();
            self.batch_value = batch_evaluation(
                problem,
                self.sampler.current(),
                self.micro_batch,
                &mut self.accumulator,
                &mut self.scratch,
                x,
                &mut self.batch_grad,
            )?;
            self.since_new_batch = 0;
            if !self.batch_grad.dot(&self.batch_grad).is_zero() {
                return Ok(true);
            }
            if self.sampler.is_fixed() {
                break;
            }
        }
        Ok(false)
    }
}

impl<P, V> Solver<P> for MinibatchScg<V>
where
    P: FiniteSum<Vector = V>,
    V: VectorSpace,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<V>) -> Result<()> {
        check_len("starting point", problem.dim(), state.x.len())?;
        let n = problem.num_samples();
        if n == 0 {
            return Err(OptError::ShapeMismatch {
                what: "number of samples",
                expected: 1,
                got: 0,
            });
        }
        let batch_size = self.config.batch_size.unwrap_or(n).min(n);
        let micro_batch = self.config.micro_batch.unwrap_or(batch_size);
        let restart_every = self.config.restart.unwrap_or(problem.dim());
        let mut work = MinibatchWork {
            core: ScgCore::new(&self.config.scg(), restart_every, &state.grad),
            sampler: BatchSampler::new(n, batch_size, self.config.seed),
            accumulator: GradientAccumulator::new(&state.x),
            scratch: state.x.zeros_like(),
            batch_value: ScalarOf::<V>::nan(),
            batch_grad: state.x.zeros_like(),
            since_new_batch: 0,
            micro_batch,
        };
        work.new_batch(problem, &state.x)?;
        work.core.restart(&work.batch_grad);
        work.report(problem, self.config.full_objective, state)?;
        self.work = Some(work);
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<V>,
    ) -> Result<Option<StopReason>> {
        let Some(work) = self.work.as_mut() else {
            return Err(OptError::InvalidState(
                "next_iter called before init".into(),
            ));
        };
        let needs_batch = !work.sampler.is_fixed()
            && (work.since_new_batch >= self.config.batches_every
                || work.batch_grad.dot(&work.batch_grad).is_zero());
        if needs_batch {
            if !work.new_batch(problem, &state.x)? {
                return Ok(Some(StopReason::GradientTolerance));
            }
            work.core.restart(&work.batch_grad);
            work.core.restarts += 1;
        }
        let MinibatchWork {
            core,
            sampler,
            accumulator,
            scratch,
            batch_value,
            batch_grad,
            since_new_batch,
            micro_batch,
        } = work;
        let batch = sampler.current();
        let mut evaluate = |x: &V, grad: &mut V| {
            batch_evaluation(problem, batch, *micro_batch, accumulator, scratch, x, grad)
        };
        let outcome = core.iterate(&mut evaluate, &mut state.x, batch_value, batch_grad)?;
        *since_new_batch += 1;
        match outcome {
            Iteration::Moved => {
                work.report(problem, self.config.full_objective, state)?;
                Ok(None)
            }
            // Only with the whole set as the batch: a partial batch with a
            // zero gradient was replaced above.
            Iteration::ZeroGradient => Ok(Some(StopReason::GradientTolerance)),
            Iteration::GaveUp => Ok(Some(StopReason::LineSearchFailed)),
        }
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        match &self.work {
            None => Vec::new(),
            Some(work) => {
                let mut metrics = work.core.metrics();
                metrics.push(("batch_value", work.batch_value.to_f64_lossless()));
                metrics
            }
        }
    }
}

/// What [`Scg`] and [`MinibatchScg`] carry from one pass to the next
/// besides `w_k`, `E(w_k)` and `E'(w_k)` (which `init` recomputes at the
/// restored point) and the hyperparameters: the paper's `k`, `lambda_k`,
/// `lambda_bar_k`, `success`, `delta_k`, `p_k` and `|p_k|^2`, and the
/// reported metrics.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "V: Serialize", deserialize = "V: DeserializeOwned"))]
pub struct ScgCoreState<V: VectorSpace> {
    /// The paper's `k` (passes so far plus 1).
    pub k: usize,
    /// `lambda_k` of the next pass.
    pub lambda: ScalarOf<V>,
    /// `lambda_bar_k` of the next pass.
    pub lambda_bar: ScalarOf<V>,
    /// Whether the last pass succeeded (the next one then probes step 2).
    pub success: bool,
    /// `delta_k`, carried over a failure.
    pub delta: ScalarOf<V>,
    /// `p_k`.
    pub direction: V,
    /// `|p_k|^2`.
    pub direction_sq: ScalarOf<V>,
    /// `sigma_k` of the last probe (metric `sigma`).
    pub sigma_k: ScalarOf<V>,
    /// The last accepted step (metric `alpha`).
    pub alpha: ScalarOf<V>,
    /// `Delta_k` of the last accepted step (metric `comparison`).
    pub comparison: ScalarOf<V>,
    /// Metric `restarts`.
    pub restarts: usize,
    /// Metric `rejections`.
    pub rejections: usize,
    /// Metric `trapezoid`.
    pub trapezoid: usize,
}

impl<V: VectorSpace> ScgCore<V> {
    fn save(&self) -> ScgCoreState<V> {
        ScgCoreState {
            k: self.k,
            lambda: self.lambda,
            lambda_bar: self.lambda_bar,
            success: self.success,
            delta: self.delta,
            direction: self.direction.clone(),
            direction_sq: self.direction_sq,
            sigma_k: self.sigma_k,
            alpha: self.alpha,
            comparison: self.comparison,
            restarts: self.restarts,
            rejections: self.rejections,
            trapezoid: self.trapezoid,
        }
    }

    /// Take `state` after checking that it fits (the length of `p_k`, a
    /// positive `k`, finite scalars, a positive `lambda`).
    fn restore(&mut self, state: ScgCoreState<V>) -> Result<()> {
        type T<V> = ScalarOf<V>;
        if state.direction.len() != self.direction.len() {
            return Err(OptError::InvalidState(format!(
                "SCG direction of {} components for a problem of dimension {}",
                state.direction.len(),
                self.direction.len()
            )));
        }
        if state.k == 0 {
            return Err(OptError::InvalidState(
                "SCG pass count k = 0 (it starts at 1)".into(),
            ));
        }
        if !(state.lambda.is_finite() && state.lambda > T::<V>::zero()) {
            return Err(OptError::InvalidState(format!(
                "SCG scale lambda = {} is not positive and finite",
                state.lambda
            )));
        }
        for (name, value) in [
            ("lambda_bar", state.lambda_bar),
            ("delta", state.delta),
            ("|p|^2", state.direction_sq),
        ] {
            if !value.is_finite() {
                return Err(OptError::InvalidState(format!(
                    "SCG {name} = {value} is not finite"
                )));
            }
        }
        let ScgCoreState {
            k,
            lambda,
            lambda_bar,
            success,
            delta,
            direction,
            direction_sq,
            sigma_k,
            alpha,
            comparison,
            restarts,
            rejections,
            trapezoid,
        } = state;
        self.k = k;
        self.lambda = lambda;
        self.lambda_bar = lambda_bar;
        self.success = success;
        self.delta = delta;
        self.direction = direction;
        self.direction_sq = direction_sq;
        self.sigma_k = sigma_k;
        self.alpha = alpha;
        self.comparison = comparison;
        self.restarts = restarts;
        self.rejections = rejections;
        self.trapezoid = trapezoid;
        Ok(())
    }
}

/// `Err` unless a saved state and the solver agree on having been
/// initialised.
fn check_initialised(method: &str, saved: bool, solver: bool) -> Result<()> {
    match (saved, solver) {
        (true, false) => Err(OptError::InvalidState(format!(
            "{method} state saved after init restored into a solver before its init \
             (call init at the saved point first)"
        ))),
        (false, true) => Err(OptError::InvalidState(format!(
            "{method} state saved before init restored into an initialised solver"
        ))),
        _ => Ok(()),
    }
}

/// The state is `None` before `init`. Restore it after `init` at the point
/// where it was saved: `init` recomputes `E` and `E'` there, the state
/// supplies the rest, and the next iterations are those the saved run
/// would have made, bit for bit.
impl<V> SaveState for Scg<V>
where
    V: VectorSpace + Serialize + DeserializeOwned + std::fmt::Debug,
{
    type State = Option<ScgCoreState<V>>;

    fn save_state(&self) -> Self::State {
        self.core.as_ref().map(ScgCore::save)
    }

    fn restore_state(&mut self, state: Self::State) -> Result<()> {
        check_initialised("SCG", state.is_some(), self.core.is_some())?;
        match (state, self.core.as_mut()) {
            (Some(state), Some(core)) => core.restore(state),
            _ => Ok(()),
        }
    }
}

/// The state of [`MinibatchScg`]'s batch sampler: the current shuffle, the
/// current batch's place in it and the generator's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSamplerState {
    /// The shuffle of `0..n` of the current epoch of batches.
    pub order: Vec<usize>,
    /// The current batch is `order[start..end]`.
    pub start: usize,
    /// See `start`.
    pub end: usize,
    /// The SplitMix64 state.
    pub rng: u64,
}

/// What [`MinibatchScg`] carries between iterations (`None` before `init`;
/// restore it after `init` at the saved point, as for [`Scg`]). After a
/// restore the iteration state's `f` and `grad` are still those `init`
/// reported; the next iteration reads neither (it works on the restored
/// batch's `E_B`, `E_B'`) and overwrites both.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "V: Serialize", deserialize = "V: DeserializeOwned"))]
pub struct MinibatchScgState<V: VectorSpace> {
    /// The SCG iteration on the current batch.
    pub core: ScgCoreState<V>,
    /// Where the batches are.
    pub sampler: BatchSamplerState,
    /// `E_B` at the current point.
    pub batch_value: ScalarOf<V>,
    /// `E_B'` at the current point.
    pub batch_grad: V,
    /// Iterations on the current batch.
    pub since_new_batch: usize,
}

impl<V> SaveState for MinibatchScg<V>
where
    V: VectorSpace + Serialize + DeserializeOwned + std::fmt::Debug,
{
    type State = Option<MinibatchScgState<V>>;

    fn save_state(&self) -> Self::State {
        self.work.as_ref().map(|work| MinibatchScgState {
            core: work.core.save(),
            sampler: work.sampler.save(),
            batch_value: work.batch_value,
            batch_grad: work.batch_grad.clone(),
            since_new_batch: work.since_new_batch,
        })
    }

    fn restore_state(&mut self, state: Self::State) -> Result<()> {
        check_initialised("mini-batch SCG", state.is_some(), self.work.is_some())?;
        let (Some(state), Some(work)) = (state, self.work.as_mut()) else {
            return Ok(());
        };
        if state.batch_grad.len() != work.batch_grad.len() {
            return Err(OptError::InvalidState(format!(
                "mini-batch SCG batch gradient of {} components for a problem of dimension {}",
                state.batch_grad.len(),
                work.batch_grad.len()
            )));
        }
        // Check everything before changing anything.
        let mut core = work.core.clone();
        core.restore(state.core)?;
        let mut sampler = work.sampler.clone();
        sampler.restore(state.sampler)?;
        work.core = core;
        work.sampler = sampler;
        work.batch_value = state.batch_value;
        work.batch_grad = state.batch_grad;
        work.since_new_batch = state.since_new_batch;
        Ok(())
    }
}

/// Batches of a seeded shuffle of `0..n`, without replacement within an
/// epoch; the whole set in order when `batch_size >= n`.
#[derive(Debug, Clone)]
struct BatchSampler {
    order: Vec<usize>,
    batch_size: usize,
    start: usize,
    end: usize,
    rng: SplitMix64,
}

impl BatchSampler {
    fn new(n: usize, batch_size: usize, seed: u64) -> Self {
        Self {
            order: (0..n).collect(),
            batch_size: batch_size.clamp(1, n),
            start: 0,
            end: 0,
            rng: SplitMix64(seed),
        }
    }

    /// Whether the batch is the whole set, which never changes.
    fn is_fixed(&self) -> bool {
        self.batch_size >= self.order.len()
    }

    fn batches_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// Move to the next batch (reshuffling at the start of each epoch).
    fn draw(&mut self) {
        let n = self.order.len();
        if self.is_fixed() {
            self.start = 0;
            self.end = n;
            return;
        }
        if self.end == 0 || self.end >= n {
            // Fisher-Yates with Lemire's multiply-shift for the index.
            for i in (1..n).rev() {
                let j = ((u128::from(self.rng.next_u64()) * (i as u128 + 1)) >> 64) as usize;
                self.order.swap(i, j);
            }
            self.start = 0;
        } else {
            self.start = self.end;
        }
        self.end = (self.start + self.batch_size).min(n);
    }

    fn current(&self) -> &[usize] {
        &self.order[self.start..self.end]
    }

    fn save(&self) -> BatchSamplerState {
        BatchSamplerState {
            order: self.order.clone(),
            start: self.start,
            end: self.end,
            rng: self.rng.0,
        }
    }

    /// Take `state` if its order is a permutation of `0..n` and its batch
    /// a range of it of at most `batch_size` samples.
    fn restore(&mut self, state: BatchSamplerState) -> Result<()> {
        let n = self.order.len();
        if state.order.len() != n {
            return Err(OptError::InvalidState(format!(
                "batch order of {} samples for a problem of {n}",
                state.order.len()
            )));
        }
        let mut seen = vec![false; n];
        for &index in &state.order {
            if index >= n || std::mem::replace(&mut seen[index], true) {
                return Err(OptError::InvalidState(format!(
                    "batch order is not a permutation of 0..{n} (index {index})"
                )));
            }
        }
        if !(state.start <= state.end
            && state.end <= n
            && state.end - state.start <= self.batch_size)
        {
            return Err(OptError::InvalidState(format!(
                "batch {}..{} is not a range of at most {} of {n} samples",
                state.start, state.end, self.batch_size
            )));
        }
        self.order = state.order;
        self.start = state.start;
        self.end = state.end;
        self.rng = SplitMix64(state.rng);
        Ok(())
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a seeded stream that does not
/// change with a dependency's version.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampler_covers_every_index_once_per_epoch() {
        let mut sampler = BatchSampler::new(10, 3, 7);
        assert_eq!(sampler.batches_per_epoch(), 4);
        for _ in 0..3 {
            let mut seen = Vec::new();
            for _ in 0..4 {
                sampler.draw();
                seen.extend_from_slice(sampler.current());
            }
            seen.sort_unstable();
            assert_eq!(seen, (0..10).collect::<Vec<_>>());
        }
        let mut full = BatchSampler::new(5, 9, 1);
        full.draw();
        assert!(full.is_fixed());
        assert_eq!(full.current(), &[0, 1, 2, 3, 4]);
    }

    #[test]
    fn the_same_seed_gives_the_same_batches() {
        let draw_all = |seed| {
            let mut sampler = BatchSampler::new(20, 6, seed);
            (0..8)
                .flat_map(|_| {
                    sampler.draw();
                    sampler.current().to_vec()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draw_all(3), draw_all(3));
        assert_ne!(draw_all(3), draw_all(4));
    }

    #[test]
    fn config_fields_have_the_documented_names() {
        let config: MinibatchScgConfig = serde_json::from_str(
            r#"{"batch_size": 8, "micro_batch": 2, "batches_every": 3, "seed": 5, "sigma": 5e-5}"#,
        )
        .unwrap();
        assert_eq!(config.batch_size, Some(8));
        assert_eq!(config.scg().sigma, 5e-5);
        assert!(serde_json::from_str::<ScgConfig>(r#"{"batch_size": 8}"#).is_err());
    }
}
