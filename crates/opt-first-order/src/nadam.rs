//! NAdam (Adam with Nesterov momentum), as `torch.optim.NAdam`.
//!
//! With `g = ±grad` (`+ weight_decay p` unless the decay is decoupled), at
//! step `t`:
//! - decoupled decay: `p <- p (1 - lr weight_decay)`;
//! - `mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay))`, likewise `mu_{t+1}`;
//!   `P_t = mu_1 ... mu_t` (kept between steps);
//! - `m <- m + (1 - beta1)(g - m)` (`torch.lerp`), `v <- beta2 v + (1 - beta2) g^2`;
//! - `d = sqrt(v / (1 - beta2^t)) + eps`;
//! - `p <- p - (lr (1 - mu_t) / (1 - P_t)) g / d`, then
//!   `p <- p - (lr mu_{t+1} / (1 - P_t mu_{t+1})) m / d` (two updates, in
//!   this order, as PyTorch does).
//!
//! `P_t` is the optimizer's running scalar, rounded to the parameters' type
//! after each product as PyTorch keeps `mu_product` in its default scalar
//! type. Sources: Dozat, *Incorporating Nesterov Momentum into Adam* (2016);
//! Loshchilov & Hutter (2019) for the decoupled decay; PyTorch's
//! `_single_tensor_nadam`.

use opt_core::{Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::{fused_pass, lerp};
use crate::optimizer::{Method, non_negative, positive, unit_interval};

/// NAdam hyperparameters; names and defaults of `torch.optim.NAdam`
/// (`betas = (beta1, beta2)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Nadam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Sets how fast the momentum coefficient `mu_t` rises to `beta1`.
    pub momentum_decay: f64,
    /// Decay the parameters directly (`p <- p (1 - lr wd)`) instead of adding
    /// `wd p` to the gradient (NAdamW).
    pub decoupled_weight_decay: bool,
    pub maximize: bool,
}

impl Default for Nadam {
    fn default() -> Self {
        Self {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

struct Constants<T> {
    sign: T,
    l2: T,
    decay: T,
    beta1_weight: T,
    beta1_weight_is_small: bool,
    beta2: T,
    one_minus_beta2: T,
    bias_correction2: T,
    eps: T,
    grad_coefficient: T,
    avg_coefficient: T,
}

impl Nadam {
    /// `mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay))` for a step `t`
    /// given as a float, as PyTorch computes it.
    fn mu(&self, step: f64) -> f64 {
        self.beta1 * (1.0 - 0.5 * 0.96f64.powf(step * self.momentum_decay))
    }
}

impl Method for Nadam {
    const NAME: &'static str = "nadam";

    fn validate(&self) -> Result<()> {
        non_negative("lr", self.lr)?;
        unit_interval("beta1", self.beta1)?;
        unit_interval("beta2", self.beta2)?;
        positive("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("momentum_decay", self.momentum_decay)
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
        scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) {
        let step = t as f64;
        let bias_correction2 = 1.0 - self.beta2.powf(step);
        let (l2, decay) = if self.decoupled_weight_decay {
            (0.0, 1.0 - self.lr * self.weight_decay)
        } else {
            (self.weight_decay, 1.0)
        };
        let mu = self.mu(step);
        let mu_next = self.mu(step + 1.0);
        // PyTorch multiplies a scalar tensor of the default dtype in place
        *scalar = (T::of(*scalar) * T::of(mu)).to_f64_lossless();
        let mu_product = *scalar;
        let mu_product_next = mu_product * mu_next;
        let beta1_weight = T::of(1.0 - self.beta1);
        let c = Constants {
            sign: if self.maximize { -T::one() } else { T::one() },
            l2: T::of(l2),
            decay: T::of(decay),
            beta1_weight,
            beta1_weight_is_small: beta1_weight.abs() < T::of(0.5),
            beta2: T::of(self.beta2),
            one_minus_beta2: T::of(1.0 - self.beta2),
            bias_correction2: T::of(bias_correction2),
            eps: T::of(self.eps),
            grad_coefficient: T::of(-self.lr * (1.0 - mu) / (1.0 - mu_product)),
            avg_coefficient: T::of(-self.lr * mu_next / (1.0 - mu_product_next)),
        };
        fused_pass::<T, 2, _>(params, grads, state, |p, g, s| nadam(&c, p, g, s));
    }
}

fn nadam<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (pairs, _) = state.as_chunks_mut::<2>();
    for ((p, &g), [m, v]) in params.iter_mut().zip(grads).zip(pairs) {
        let g = c.sign * g + c.l2 * *p;
        *p *= c.decay;
        *m = lerp(*m, g, c.beta1_weight, c.beta1_weight_is_small);
        *v = *v * c.beta2 + c.one_minus_beta2 * g * g;
        let denom = (*v / c.bias_correction2).sqrt() + c.eps;
        *p += c.grad_coefficient * g / denom;
        *p += c.avg_coefficient * *m / denom;
    }
}

#[cfg(test)]
mod tests {
    use opt_core::SaveState;

    use super::*;
    use crate::Optimizer;
    use crate::testing::{assert_rel, quadratic_iterates};

    const EPS: f64 = 1e-8;

    fn mu(t: f64) -> f64 {
        0.9 * (1.0 - 0.5 * 0.96f64.powf(t * 4e-3))
    }

    #[test]
    fn defaults_are_torchs() {
        let d = Nadam::default();
        assert_eq!((d.lr, d.beta1, d.beta2, d.eps), (2e-3, 0.9, 0.999, 1e-8));
        assert_eq!((d.weight_decay, d.momentum_decay), (0.0, 4e-3));
        assert!(!d.decoupled_weight_decay && !d.maximize);
    }

    #[test]
    fn three_steps_follow_the_closed_form() {
        // f = x^2 (a = 2), x0 = 1, lr = 0.1
        let config = Nadam {
            lr: 0.1,
            ..Nadam::default()
        };
        let xs = quadratic_iterates(config, &[2.0], &[1.0], 3);
        let (w1, w2): (f64, f64) = (1.0 - 0.9, 1.0 - 0.999);
        let (mu1, mu2, mu3, mu4) = (mu(1.0), mu(2.0), mu(3.0), mu(4.0));
        // t = 1: g = 2, m = 0.2, v = 0.004, d = sqrt(v / 0.001) + eps = 2 + eps
        let m1 = w1 * 2.0;
        let v1 = w2 * 2.0 * 2.0;
        let d1 = (v1 / (1.0 - 0.999)).sqrt() + EPS;
        let p1 = mu1;
        let x1 = 1.0 + -0.1 * (1.0 - mu1) / (1.0 - p1) * 2.0 / d1;
        let x1 = x1 + -0.1 * mu2 / (1.0 - p1 * mu2) * m1 / d1;
        // t = 2
        let g2 = 2.0 * x1;
        let m2 = m1 + w1 * (g2 - m1);
        let v2 = v1 * 0.999 + w2 * g2 * g2;
        let d2 = (v2 / (1.0 - 0.999f64.powf(2.0))).sqrt() + EPS;
        let p2 = p1 * mu2;
        let x2 = x1 + -0.1 * (1.0 - mu2) / (1.0 - p2) * g2 / d2;
        let x2 = x2 + -0.1 * mu3 / (1.0 - p2 * mu3) * m2 / d2;
        // t = 3
        let g3 = 2.0 * x2;
        let m3 = m2 + w1 * (g3 - m2);
        let v3 = v2 * 0.999 + w2 * g3 * g3;
        let d3 = (v3 / (1.0 - 0.999f64.powf(3.0))).sqrt() + EPS;
        let p3 = p2 * mu3;
        let x3 = x2 + -0.1 * (1.0 - mu3) / (1.0 - p3) * g3 / d3;
        let x3 = x3 + -0.1 * mu4 / (1.0 - p3 * mu4) * m3 / d3;
        for (x, expected) in xs.iter().zip([x1, x2, x3]) {
            assert_rel(x[0], expected, 1e-15);
        }
    }

    #[test]
    fn the_running_product_of_mu_is_kept() {
        let mut optimizer = Optimizer::<Nadam, f64>::new(Nadam::default()).unwrap();
        let mut x = [1.0, 2.0];
        for _ in 0..3 {
            let g = x;
            optimizer.step_slices(&mut [&mut x[..]], &[&g[..]]).unwrap();
        }
        let state = optimizer.save_state();
        assert_eq!(state.arrays[0].scalar, mu(1.0) * mu(2.0) * mu(3.0));
        // f32 keeps the product in f32, as PyTorch's default scalar type does
        let mut optimizer = Optimizer::<Nadam, f32>::new(Nadam::default()).unwrap();
        let mut x = [1.0f32];
        for _ in 0..2 {
            let g = x;
            optimizer.step_slices(&mut [&mut x[..]], &[&g[..]]).unwrap();
        }
        let expected = f64::from(mu(1.0) as f32 * mu(2.0) as f32);
        assert_eq!(optimizer.save_state().arrays[0].scalar, expected);
    }

    #[test]
    fn weight_decay_coupled_and_decoupled() {
        let (w1, w2): (f64, f64) = (1.0 - 0.9, 1.0 - 0.999);
        let (mu1, mu2) = (mu(1.0), mu(2.0));
        for decoupled in [false, true] {
            let config = Nadam {
                lr: 0.1,
                weight_decay: 0.5,
                decoupled_weight_decay: decoupled,
                maximize: decoupled,
                ..Nadam::default()
            };
            // f = x^2 (a = 2), x0 = 1; the decoupled run also maximizes
            let xs = quadratic_iterates(config, &[2.0], &[1.0], 1);
            let (g1, x0) = if decoupled {
                (-2.0, 1.0 * (1.0 - 0.1 * 0.5))
            } else {
                (2.0 + 0.5 * 1.0, 1.0)
            };
            let m1 = w1 * g1;
            let v1 = w2 * g1 * g1;
            let d1 = (v1 / (1.0 - 0.999)).sqrt() + EPS;
            let x1 = x0 + -0.1 * (1.0 - mu1) / (1.0 - mu1) * g1 / d1;
            let x1 = x1 + -0.1 * mu2 / (1.0 - mu1 * mu2) * m1 / d1;
            assert_rel(xs[0][0], x1, 1e-15);
        }
    }

    #[test]
    fn f32_follows_the_closed_form() {
        let config = Nadam {
            lr: 0.1,
            ..Nadam::default()
        };
        let xs = quadratic_iterates(config, &[2.0f32], &[1.0f32], 1);
        let (mu1, mu2) = (mu(1.0), mu(2.0));
        let m1 = 0.1f32 * 2.0;
        let d1 = (0.004f32 / 0.001).sqrt() + 1e-8;
        let x1 = 1.0f32 + (-0.1 * (1.0 - mu1) / (1.0 - mu1)) as f32 * 2.0 / d1;
        let x1 = x1 + (-0.1 * mu2 / (1.0 - mu1 * mu2)) as f32 * m1 / d1;
        assert_rel(xs[0][0], x1, 1e-6);
    }
}
