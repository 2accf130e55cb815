//! Adadelta, as `torch.optim.Adadelta`.
//!
//! With `g = ±grad + weight_decay p` (minus when `maximize`):
//! - `v <- rho v + (1 - rho) g^2`;
//! - `d = sqrt(u + eps) / sqrt(v + eps) g`;
//! - `u <- rho u + (1 - rho) d^2`;
//! - `p <- p - lr d`.
//!
//! `eps` is added inside both square roots, as PyTorch does. The state holds
//! `v` (`square_avg`) and `u` (`acc_delta`). Sources: Zeiler (2012);
//! PyTorch's `_single_tensor_adadelta`.

use opt_core::{Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::fused_pass;
use crate::optimizer::{Method, non_negative, positive, unit_interval};

/// Adadelta hyperparameters; names and defaults of `torch.optim.Adadelta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Adadelta {
    /// Scales the step (1 in Zeiler's paper).
    pub lr: f64,
    /// Smoothing constant of both running averages.
    pub rho: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

impl Default for Adadelta {
    fn default() -> Self {
        Self {
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

struct Constants<T> {
    lr: T,
    sign: T,
    weight_decay: T,
    rho: T,
    one_minus_rho: T,
    eps: T,
}

impl Method for Adadelta {
    const NAME: &'static str = "adadelta";

    fn validate(&self) -> Result<()> {
        non_negative("lr", self.lr)?;
        unit_interval("rho", self.rho)?;
        positive("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn state_per_element(&self) -> usize {
        2
    }

    fn update<T: Scalar>(
        &self,
        _t: u64,
        _scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) {
        let c = Constants {
            lr: T::of(self.lr),
            sign: if self.maximize { -T::one() } else { T::one() },
            weight_decay: T::of(self.weight_decay),
            rho: T::of(self.rho),
            one_minus_rho: T::of(1.0 - self.rho),
            eps: T::of(self.eps),
        };
        fused_pass::<T, 2, _>(params, grads, state, |p, g, s| adadelta(&c, p, g, s));
    }
}

fn adadelta<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (pairs, _) = state.as_chunks_mut::<2>();
    for ((p, &g), [v, u]) in params.iter_mut().zip(grads).zip(pairs) {
        let g = c.sign * g + c.weight_decay * *p;
        *v = *v * c.rho + c.one_minus_rho * g * g;
        let std = (*v + c.eps).sqrt();
        let delta = (*u + c.eps).sqrt() / std * g;
        *u = *u * c.rho + c.one_minus_rho * delta * delta;
        *p -= c.lr * delta;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_rel, quadratic_iterates};

    const EPS: f64 = 1e-6;

    #[test]
    fn defaults_are_torchs() {
        let d = Adadelta::default();
        assert_eq!(
            (d.lr, d.rho, d.eps, d.weight_decay, d.maximize),
            (1.0, 0.9, 1e-6, 0.0, false)
        );
    }

    #[test]
    fn three_steps_follow_the_closed_form() {
        // f = x^2 (a = 2), x0 = 1, lr = 1, rho = 0.9 (1 - rho = 0.09999999999999998 in f64)
        let xs = quadratic_iterates(Adadelta::default(), &[2.0], &[1.0], 3);
        let w = 1.0 - 0.9;
        // t = 1: g = 2, v = 0.4, d = sqrt(eps) / sqrt(0.4 + eps) * 2
        let v1 = w * 2.0 * 2.0;
        let d1 = EPS.sqrt() / (v1 + EPS).sqrt() * 2.0;
        let u1 = w * d1 * d1;
        let x1 = 1.0 - d1;
        let g2 = 2.0 * x1;
        let v2 = v1 * 0.9 + w * g2 * g2;
        let d2 = (u1 + EPS).sqrt() / (v2 + EPS).sqrt() * g2;
        let u2 = u1 * 0.9 + w * d2 * d2;
        let x2 = x1 - d2;
        let g3 = 2.0 * x2;
        let v3 = v2 * 0.9 + w * g3 * g3;
        let d3 = (u2 + EPS).sqrt() / (v3 + EPS).sqrt() * g3;
        let x3 = x2 - d3;
        for (x, expected) in xs.iter().zip([x1, x2, x3]) {
            assert_rel(x[0], expected, 1e-15);
        }
    }

    #[test]
    fn weight_decay_and_maximize_follow_the_closed_form() {
        let config = Adadelta {
            lr: 0.5,
            rho: 0.5,
            weight_decay: 0.1,
            maximize: true,
            ..Adadelta::default()
        };
        let xs = quadratic_iterates(config, &[2.0], &[1.0], 2);
        // g = -(2 x) + 0.1 x
        let g1 = -2.0 + 0.1;
        let v1 = 0.5 * g1 * g1;
        let d1 = EPS.sqrt() / (v1 + EPS).sqrt() * g1;
        let u1 = 0.5 * d1 * d1;
        let x1 = 1.0 - 0.5 * d1;
        let g2 = -(2.0 * x1) + 0.1 * x1;
        let v2 = v1 * 0.5 + 0.5 * g2 * g2;
        let d2 = (u1 + EPS).sqrt() / (v2 + EPS).sqrt() * g2;
        let x2 = x1 - 0.5 * d2;
        assert_rel(xs[0][0], x1, 1e-15);
        assert_rel(xs[1][0], x2, 1e-15);
    }

    #[test]
    fn f32_follows_the_closed_form() {
        let xs = quadratic_iterates(Adadelta::default(), &[2.0f32], &[1.0f32], 2);
        let eps = 1e-6f32;
        let v1 = 0.1f32 * 2.0 * 2.0;
        let d1 = eps.sqrt() / (v1 + eps).sqrt() * 2.0;
        let u1 = 0.1 * d1 * d1;
        let x1 = 1.0 - d1;
        let g2 = 2.0 * x1;
        let v2 = v1 * 0.9 + 0.1 * g2 * g2;
        let d2 = (u1 + eps).sqrt() / (v2 + eps).sqrt() * g2;
        let x2 = x1 - d2;
        assert_rel(xs[0][0], x1, 1e-6);
        assert_rel(xs[1][0], x2, 1e-6);
    }
}
