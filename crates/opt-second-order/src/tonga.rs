//! TONGA, a low-rank online natural gradient (Le Roux, Manzagol & Bengio
//! 2008, "Topmoumoute online natural gradient algorithm", NeurIPS 20).
//!
//! The natural gradient of the paper rescales the gradient by the inverse
//! covariance of the gradients, moving less in directions where successive
//! (mini-batch) gradients disagree. Online, the covariance is a discounted
//! sum of outer products of the gradients themselves (the uncentred second
//! moment; by Sherman-Morrison `(C + mu mu')^{-1} mu` is parallel to
//! `C^{-1} mu` for the centred `C`, so centring only rescales the step):
//!
//! ```text
//! C_t = gamma C_{t-1} + g_t g_t' = G_t G_t',   G_t = [g_t, gamma^{1/2} g_{t-1}, ..., gamma^{(k-1)/2} g_{t-k+1}]
//! v_t = (C_t + lambda I)^{-1} g_t,             theta_{t+1} = theta_t - lr v_t
//! ```
//!
//! keeping the last `k` gradients (the paper keeps `k` eigenvectors of `C`
//! plus the gradients of the last `b` steps and re-diagonalizes every `b`
//! steps; keeping the `k` newest gradients is the same estimator with the
//! older history dropped instead of compressed). The newest gradient has
//! weight 1 and no normalization is applied (as in the paper and in
//! Bengio's PLearn `NatGradEstimator`), so `lambda` is in the units of a
//! squared gradient.
//!
//! **The solve.** With the Woodbury identity
//! `(lambda I + G G')^{-1} g = (g - G (lambda I_k + G'G)^{-1} G'g) / lambda`,
//! and because `g_t = G e_1` is itself a column of `G`, this equals
//! `G (lambda I_k + G'G)^{-1} e_1` (the form of the paper, section 4): no
//! division by `lambda` and no cancellation between `g` and its projection,
//! so this form is the one computed. It costs one pass of `k` dot products
//! (the new row of the raw Gram matrix `g_i . g_j`, kept from step to step
//! and weighted by `gamma^{(a_i + a_j)/2}` for ages `a_i`), a Cholesky
//! solve of the `k x k` system (`linalg::cholesky`) and `k` axpys:
//! `O(D k + k^3)`.
//!
//! The gradients are whatever the caller passes: mini-batch gradients under
//! [`opt_core::StepperSolver`] with mini-batches, as in the paper. The ring
//! buffer of `k` gradients is allocated on the first step; afterwards only
//! the `k x k` system and its factor are allocated per step.
//!
//! **Rounding.** Where the gradients are large and nearly collinear, `G'G`
//! is singular to working precision and a small `lambda` is lost in its
//! rounding; `lambda` is then raised to `16 k eps max_i (G'G)_ii`, the
//! smallest value that keeps the computed system positive definite.

use ndarray::{Array1, Array2};
use opt_core::{OptError, Result, Scalar, ScalarOf, Stepper, VectorSpace, check_len};
use serde::{Deserialize, Serialize};

use crate::linalg::cholesky;

/// Hyperparameters of [`Tonga`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TongaConfig {
    /// Learning rate. Default 0.1.
    pub lr: f64,
    /// Number of recent gradients kept (the rank of `C`). Default 10.
    pub k: usize,
    /// Regularization `lambda` of `C + lambda I`, in squared-gradient
    /// units. Default 1e-3.
    pub lambda: f64,
    /// Discount `gamma` of older gradients, in `(0, 1]`. Default 0.995 (the
    /// paper's experiments).
    pub gamma: f64,
}

impl Default for TongaConfig {
    fn default() -> Self {
        Self {
            lr: 0.1,
            k: 10,
            lambda: 1e-3,
            gamma: 0.995,
        }
    }
}

fn check_lr(lr: f64) -> Result<f64> {
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(OptError::invalid("lr", lr, "must be positive and finite"))
    }
}

impl TongaConfig {
    /// Check every hyperparameter.
    pub fn validate(&self) -> Result<()> {
        check_lr(self.lr)?;
        if self.k == 0 {
            return Err(OptError::invalid("k", 0, "must be at least 1"));
        }
        if !(self.lambda.is_finite() && self.lambda > 0.0) {
            return Err(OptError::invalid(
                "lambda",
                self.lambda,
                "must be positive and finite",
            ));
        }
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(OptError::invalid("gamma", self.gamma, "must be in (0, 1]"));
        }
        Ok(())
    }
}

/// TONGA as a [`Stepper`]; see the [module documentation](self).
#[derive(Clone)]
pub struct Tonga<V> {
    config: TongaConfig,
    /// Ring buffer of the last `k` gradients (allocated on the first step).
    history: Vec<V>,
    /// Raw Gram matrix `history[i] . history[j]` of the filled slots.
    gram: Array2<f64>,
    /// Slot of the newest gradient.
    newest: usize,
    /// Number of filled slots.
    filled: usize,
    /// Dot products of the incoming gradient with every slot.
    row: Vec<f64>,
    /// Slots by age (newest first) and `gamma^{age/2}`.
    slots_by_age: Vec<usize>,
    weights: Vec<f64>,
    steps: u64,
}

impl<V> std::fmt::Debug for Tonga<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tonga")
            .field("config", &self.config)
            .field("gradients", &self.filled)
            .field("steps", &self.steps)
            .finish()
    }
}

impl<V: VectorSpace> Tonga<V> {
    /// The optimizer with validated hyperparameters.
    pub fn new(config: TongaConfig) -> Result<Self> {
        config.validate()?;
        let k = config.k;
        Ok(Self {
            config,
            history: Vec::new(),
            gram: Array2::zeros((k, k)),
            newest: 0,
            filled: 0,
            row: vec![0.0; k],
            slots_by_age: Vec::with_capacity(k),
            weights: Vec::with_capacity(k),
            steps: 0,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &TongaConfig {
        &self.config
    }

    /// Number of gradients in the covariance (at most `k`).
    pub fn num_gradients(&self) -> usize {
        self.filled
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

impl<V: VectorSpace> Stepper<V> for Tonga<V> {
    fn step(&mut self, params: &mut V, grad: &V) -> Result<()> {
        check_len("gradient", params.len(), grad.len())?;
        if !grad.is_finite() {
            return Err(OptError::NonFinite {
                what: "gradient",
                iteration: self.steps as usize,
            });
        }
        let k = self.config.k;
        match self.history.first() {
            None => self.history = (0..k).map(|_| grad.zeros_like()).collect(),
            Some(h) => check_len(
                "parameters (the optimizer's state was created for another length)",
                h.len(),
                grad.len(),
            )?,
        }
        // The slot the new gradient goes to: the next free one, or the oldest.
        let slot = if self.filled == 0 {
            0
        } else {
            (self.newest + 1) % k
        };
        let count = (self.filled + 1).min(k);

        // Ages: 0 for the new gradient, then the kept ones, newest first.
        self.slots_by_age.clear();
        self.weights.clear();
        for age in 0..count {
            self.slots_by_age.push((slot + k - age) % k);
            self.weights.push(self.config.gamma.powf(0.5 * age as f64));
        }
        // New row of the raw Gram matrix (the evicted slot is not used).
        for &s in &self.slots_by_age[1..] {
            self.row[s] = grad.dot(&self.history[s]).to_f64_lossless();
        }
        self.row[slot] = grad.dot(grad).to_f64_lossless();
        let raw = |i: usize, j: usize| -> f64 {
            if i == slot {
                self.row[j]
            } else if j == slot {
                self.row[i]
            } else {
                self.gram[[i, j]]
            }
        };

        // (lambda I + G'G) c = e_1, G = [w_a g_(a)] by age.
        let mut system = Array2::from_shape_fn((count, count), |(a, b)| {
            let (sa, sb) = (self.slots_by_age[a], self.slots_by_age[b]);
            self.weights[a] * self.weights[b] * raw(sa, sb)
        });
        // The Gram matrix of nearly collinear gradients is singular to
        // working precision: below its rounding level (`16 k eps` times its
        // largest diagonal entry) `lambda` would not make the computed
        // matrix positive definite, so it is raised to that level there.
        let largest = (0..count).map(|a| system[[a, a]]).fold(0.0, f64::max);
        let lambda = self
            .config
            .lambda
            .max(16.0 * count as f64 * f64::EPSILON * largest);
        for a in 0..count {
            system[[a, a]] += lambda;
        }
        let Some(factor) = cholesky(&system)? else {
            return Err(OptError::NotPositiveDefinite {
                what: "TONGA's lambda I + G'G",
                detail: format!(
                    " (lambda = {lambda:e} for gradients of squared norm {:e})",
                    self.row[slot]
                ),
            });
        };
        let mut coefficients = Array1::zeros(count);
        coefficients[0] = 1.0;
        factor.solve_in_place(&mut coefficients);

        // Commit the gradient and its Gram row/column.
        for &s in &self.slots_by_age[1..] {
            self.gram[[slot, s]] = self.row[s];
            self.gram[[s, slot]] = self.row[s];
        }
        self.gram[[slot, slot]] = self.row[slot];
        self.history[slot].assign(grad);
        self.newest = slot;
        self.filled = count;

        // theta <- theta - lr G c.
        let lr = self.config.lr;
        for a in 0..count {
            let scale = -lr * self.weights[a] * coefficients[a];
            params.axpy(
                ScalarOf::<V>::of(scale),
                &self.history[self.slots_by_age[a]],
            );
        }
        self.steps += 1;
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.config.lr = check_lr(lr)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn first_step_is_the_gradient_over_its_squared_norm_plus_lambda() {
        // C = g g': (g g' + lambda I)^{-1} g = g / (||g||^2 + lambda).
        let config = TongaConfig {
            lr: 0.5,
            lambda: 0.25,
            ..TongaConfig::default()
        };
        let mut tonga = Tonga::new(config).unwrap();
        let mut x: Array1<f64> = array![1.0, 1.0];
        tonga.step(&mut x, &array![3.0, 4.0]).unwrap();
        let factor = 0.5 / (25.0 + 0.25);
        assert!((x[0] - (1.0 - 3.0 * factor)).abs() < 1e-15);
        assert!((x[1] - (1.0 - 4.0 * factor)).abs() < 1e-15);
    }

    #[test]
    fn a_zero_gradient_does_not_move() {
        let mut tonga = Tonga::new(TongaConfig::default()).unwrap();
        let mut x: Array1<f64> = array![1.0, 2.0];
        tonga.step(&mut x, &array![1.0, 0.0]).unwrap();
        let before = x.clone();
        tonga.step(&mut x, &array![0.0, 0.0]).unwrap();
        assert_eq!(x, before);
        assert_eq!(tonga.num_gradients(), 2);
    }
}
