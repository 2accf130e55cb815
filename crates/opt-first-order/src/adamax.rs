//! AdaMax, as `torch.optim.Adamax`.
//!
//! With `g = ±grad + weight_decay p` (minus when `maximize`), at step `t`:
//! - `m <- m + (1 - beta1)(g - m)` (`torch.lerp`);
//! - `u <- max(beta2 u, |g| + eps)`;
//! - `p <- p - (lr / (1 - beta1^t)) m / u`.
//!
//! `eps` is added to `|g|` inside the maximum, as PyTorch's single-tensor
//! path does. Sources: Kingma & Ba (2015), section 7.1; PyTorch's
//! `_single_tensor_adamax`.

use opt_core::{Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::{fused_pass, lerp};
use crate::optimizer::{Method, non_negative, positive, unit_interval};

/// AdaMax hyperparameters; names and defaults of `torch.optim.Adamax`
/// (`betas = (beta1, beta2)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Adamax {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

impl Default for Adamax {
    fn default() -> Self {
        Self {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

struct Constants<T> {
    sign: T,
    weight_decay: T,
    beta1_weight: T,
    beta1_weight_is_small: bool,
    beta2: T,
    eps: T,
    clr: T,
}

impl Method for Adamax {
    const NAME: &'static str = "adamax";

    fn validate(&self) -> Result<()> {
        non_negative("lr", self.lr)?;
        unit_interval("beta1", self.beta1)?;
        unit_interval("beta2", self.beta2)?;
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
        t: u64,
        _scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) {
        // `powf` of the step as a float, as Python's `beta1 ** step`
        let bias_correction = 1.0 - self.beta1.powf(t as f64);
        let beta1_weight = T::of(1.0 - self.beta1);
        let c = Constants {
            sign: if self.maximize { -T::one() } else { T::one() },
            weight_decay: T::of(self.weight_decay),
            beta1_weight,
            beta1_weight_is_small: beta1_weight.abs() < T::of(0.5),
            beta2: T::of(self.beta2),
            eps: T::of(self.eps),
            clr: T::of(self.lr / bias_correction),
        };
        fused_pass::<T, 2, _>(params, grads, state, |p, g, s| adamax(&c, p, g, s));
    }
}

fn adamax<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (pairs, _) = state.as_chunks_mut::<2>();
    for ((p, &g), [m, u]) in params.iter_mut().zip(grads).zip(pairs) {
        let g = c.sign * g + c.weight_decay * *p;
        *m = lerp(*m, g, c.beta1_weight, c.beta1_weight_is_small);
        *u = (*u * c.beta2).max(g.abs() + c.eps);
        *p -= c.clr * *m / *u;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_rel, quadratic_iterates};

    const EPS: f64 = 1e-8;

    #[test]
    fn defaults_are_torchs() {
        let d = Adamax::default();
        assert_eq!(
            (d.lr, d.beta1, d.beta2, d.eps, d.weight_decay),
            (2e-3, 0.9, 0.999, 1e-8, 0.0)
        );
        assert!(!d.maximize);
    }

    #[test]
    fn three_steps_follow_the_closed_form() {
        // f = x^2 (a = 2), x0 = 1, lr = 0.1
        let config = Adamax {
            lr: 0.1,
            ..Adamax::default()
        };
        let xs = quadratic_iterates(config, &[2.0], &[1.0], 3);
        let w = 1.0 - 0.9;
        // t = 1: g = 2, m = 0.1 * 2, u = max(0, 2 + eps); the step is lr exactly
        // up to eps: 0.1 / 0.1 * 0.2 / 2
        let m1 = w * 2.0;
        let u1 = 2.0 + EPS;
        let x1 = 1.0 - 0.1 / (1.0 - 0.9) * m1 / u1;
        // t = 2: |g| = 2 x1 < 0.999 u1, so u keeps decaying
        let g2 = 2.0 * x1;
        let m2 = m1 + w * (g2 - m1);
        let u2 = f64::max(0.999 * u1, g2 + EPS);
        assert_eq!(u2, 0.999 * u1);
        let x2 = x1 - 0.1 / (1.0 - 0.9 * 0.9) * m2 / u2;
        let g3 = 2.0 * x2;
        let m3 = m2 + w * (g3 - m2);
        let u3 = f64::max(0.999 * u2, g3 + EPS);
        let x3 = x2 - 0.1 / (1.0 - 0.9f64.powf(3.0)) * m3 / u3;
        for (x, expected) in xs.iter().zip([x1, x2, x3]) {
            assert_rel(x[0], expected, 1e-15);
        }
    }

    #[test]
    fn weight_decay_and_maximize_follow_the_closed_form() {
        let config = Adamax {
            lr: 0.1,
            beta2: 0.5,
            weight_decay: 0.5,
            maximize: true,
            ..Adamax::default()
        };
        // f = 0.5 x^2 (a = 1), x0 = -2; g = -x + 0.5 x
        let xs = quadratic_iterates(config, &[1.0], &[-2.0], 2);
        let w = 1.0 - 0.9;
        let g1 = 2.0 + 0.5 * -2.0;
        let m1 = w * g1;
        let u1 = g1 + EPS;
        let x1 = -2.0 - 0.1 / (1.0 - 0.9) * m1 / u1;
        // beta2 = 0.5: the new |g| + eps wins the maximum
        let g2 = -x1 + 0.5 * x1;
        let m2 = m1 + w * (g2 - m1);
        let u2 = f64::max(0.5 * u1, g2.abs() + EPS);
        assert_eq!(u2, g2.abs() + EPS);
        let x2 = x1 - 0.1 / (1.0 - 0.9 * 0.9) * m2 / u2;
        assert_rel(xs[0][0], x1, 1e-15);
        assert_rel(xs[1][0], x2, 1e-15);
    }

    #[test]
    fn f32_follows_the_closed_form() {
        let config = Adamax {
            lr: 0.1,
            ..Adamax::default()
        };
        let xs = quadratic_iterates(config, &[2.0f32], &[1.0f32], 2);
        let m1 = 0.1f32 * 2.0;
        let u1 = 2.0f32 + 1e-8;
        let x1 = 1.0f32 - 1.0 * m1 / u1;
        let g2 = 2.0 * x1;
        let m2 = m1 + 0.1 * (g2 - m1);
        let u2 = 0.999f32 * u1;
        let x2 = x1 - (0.1 / 0.19) * m2 / u2;
        assert_rel(xs[0][0], x1, 1e-6);
        assert_rel(xs[1][0], x2, 1e-6);
    }
}
