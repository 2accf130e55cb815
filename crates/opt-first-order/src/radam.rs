//! RAdam (rectified Adam), as `torch.optim.RAdam`.
//!
//! With `g = ±grad` (`+ weight_decay p` unless the decay is decoupled), at
//! step `t`:
//! - decoupled decay: `p <- p (1 - lr weight_decay)`;
//! - `m <- m + (1 - beta1)(g - m)` (`torch.lerp`), `v <- beta2 v + (1 - beta2) g^2`;
//! - `rho_inf = 2 / (1 - beta2) - 1`,
//!   `rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)`;
//! - if `rho_t > 5`: `r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))`
//!   and `p <- p - (m / (1 - beta1^t)) lr (sqrt(1 - beta2^t) / (sqrt(v) + eps)) r`;
//! - else (the variance of the adaptive rate is not yet tractable):
//!   `p <- p - (m / (1 - beta1^t)) lr`.
//!
//! The branch depends on `t` only, so it is chosen once per step. `eps` is
//! added outside the square root, as PyTorch does. Sources: Liu et al., *On
//! the Variance of the Adaptive Learning Rate and Beyond* (2020); PyTorch's
//! `_single_tensor_radam`.

use opt_core::{Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::{fused_pass, lerp};
use crate::optimizer::{Method, non_negative, positive, unit_interval};

/// RAdam hyperparameters; names and defaults of `torch.optim.RAdam`
/// (`betas = (beta1, beta2)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Radam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Decay the parameters directly (`p <- p (1 - lr wd)`) instead of adding
    /// `wd p` to the gradient (RAdamW).
    pub decoupled_weight_decay: bool,
    pub maximize: bool,
}

impl Default for Radam {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl Radam {
    /// `rho_t`, the length of the approximated simple moving average, and
    /// `rho_inf`, its limit, for a step `t` given as a float.
    fn rho(&self, step: f64) -> (f64, f64) {
        let rho_inf = 2.0 / (1.0 - self.beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * step * self.beta2.powf(step) / (1.0 - self.beta2.powf(step));
        (rho_t, rho_inf)
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
    bias_correction1: T,
    lr: T,
    bias_correction2_sqrt: T,
    eps: T,
    rectification: T,
}

impl Method for Radam {
    const NAME: &'static str = "radam";

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
        let step = t as f64;
        let bias_correction1 = 1.0 - self.beta1.powf(step);
        let bias_correction2 = 1.0 - self.beta2.powf(step);
        let (l2, decay) = if self.decoupled_weight_decay {
            (0.0, 1.0 - self.lr * self.weight_decay)
        } else {
            (self.weight_decay, 1.0)
        };
        let (rho_t, rho_inf) = self.rho(step);
        let rectified = rho_t > 5.0;
        let rectification = if rectified {
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .powf(0.5)
        } else {
            1.0
        };
        let beta1_weight = T::of(1.0 - self.beta1);
        let c = Constants {
            sign: if self.maximize { -T::one() } else { T::one() },
            l2: T::of(l2),
            decay: T::of(decay),
            beta1_weight,
            beta1_weight_is_small: beta1_weight.abs() < T::of(0.5),
            beta2: T::of(self.beta2),
            one_minus_beta2: T::of(1.0 - self.beta2),
            bias_correction1: T::of(bias_correction1),
            lr: T::of(self.lr),
            // Python's `bias_correction2 ** 0.5`
            bias_correction2_sqrt: T::of(bias_correction2.powf(0.5)),
            eps: T::of(self.eps),
            rectification: T::of(rectification),
        };
        if rectified {
            fused_pass::<T, 2, _>(params, grads, state, |p, g, s| adapted(&c, p, g, s));
        } else {
            fused_pass::<T, 2, _>(params, grads, state, |p, g, s| unadapted(&c, p, g, s));
        }
    }
}

/// The moment updates both branches share; returns the bias-corrected `m`.
#[inline(always)]
fn moments<T: Scalar>(c: &Constants<T>, p: &mut T, g: T, m: &mut T, v: &mut T) -> T {
    let g = c.sign * g + c.l2 * *p;
    *p *= c.decay;
    *m = lerp(*m, g, c.beta1_weight, c.beta1_weight_is_small);
    *v = *v * c.beta2 + c.one_minus_beta2 * g * g;
    *m / c.bias_correction1
}

fn adapted<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (pairs, _) = state.as_chunks_mut::<2>();
    for ((p, &g), [m, v]) in params.iter_mut().zip(grads).zip(pairs) {
        let corrected = moments(c, p, g, m, v);
        // PyTorch's `float / tensor` is `tensor.reciprocal() * float`
        let adaptive_lr = T::one() / (v.sqrt() + c.eps) * c.bias_correction2_sqrt;
        *p -= corrected * c.lr * adaptive_lr * c.rectification;
    }
}

fn unadapted<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (pairs, _) = state.as_chunks_mut::<2>();
    for ((p, &g), [m, v]) in params.iter_mut().zip(grads).zip(pairs) {
        let corrected = moments(c, p, g, m, v);
        *p -= corrected * c.lr;
    }
}

#[cfg(test)]
mod tests {
    use opt_core::SaveState;

    use super::*;
    use crate::Optimizer;
    use crate::testing::{assert_rel, quadratic_iterates};

    const EPS: f64 = 1e-8;

    #[test]
    fn defaults_are_torchs() {
        let d = Radam::default();
        assert_eq!(
            (d.lr, d.beta1, d.beta2, d.eps, d.weight_decay),
            (1e-3, 0.9, 0.999, 1e-8, 0.0)
        );
        assert!(!d.decoupled_weight_decay && !d.maximize);
    }

    #[test]
    fn the_first_rectified_step_is_the_sixth_with_torchs_betas() {
        let d = Radam::default();
        assert!((1..=5).all(|t| d.rho(f64::from(t)).0 <= 5.0));
        assert!(d.rho(6.0).0 > 5.0);
        // rho_1 = 1 whatever beta2
        assert_rel(d.rho(1.0).0, 1.0, 1e-12);
    }

    #[test]
    fn unrectified_steps_follow_the_closed_form() {
        // f = x^2 (a = 2), x0 = 1, lr = 0.1: rho_t <= 5, plain momentum steps
        let config = Radam {
            lr: 0.1,
            ..Radam::default()
        };
        let xs = quadratic_iterates(config, &[2.0], &[1.0], 3);
        let w = 1.0 - 0.9;
        let m1 = w * 2.0;
        let x1 = 1.0 - m1 / (1.0 - 0.9) * 0.1;
        let m2 = m1 + w * (2.0 * x1 - m1);
        let x2 = x1 - m2 / (1.0 - 0.9f64.powf(2.0)) * 0.1;
        let m3 = m2 + w * (2.0 * x2 - m2);
        let x3 = x2 - m3 / (1.0 - 0.9f64.powf(3.0)) * 0.1;
        for (x, expected) in xs.iter().zip([x1, x2, x3]) {
            assert_rel(x[0], expected, 1e-15);
        }
    }

    #[test]
    fn the_rectified_step_follows_the_closed_form() {
        // five unrectified steps, then the sixth from the saved moments;
        // with L2 weight decay and maximize on f = x^2 (g = -2 x + 0.1 x)
        let config = Radam {
            lr: 0.1,
            weight_decay: 0.1,
            maximize: true,
            ..Radam::default()
        };
        let mut optimizer = Optimizer::<Radam, f64>::new(config).unwrap();
        let mut x = [1.0];
        for _ in 0..5 {
            let g = [2.0 * x[0]];
            optimizer.step_slices(&mut [&mut x[..]], &[&g[..]]).unwrap();
        }
        let saved = optimizer.save_state();
        let (x5, m5, v5) = (x[0], saved.arrays[0].buffer[0], saved.arrays[0].buffer[1]);
        let g = [2.0 * x5];
        optimizer.step_slices(&mut [&mut x[..]], &[&g[..]]).unwrap();

        let g6 = -(2.0 * x5) + 0.1 * x5;
        let m6 = m5 + (1.0 - 0.9) * (g6 - m5);
        let v6 = v5 * 0.999 + (1.0 - 0.999) * g6 * g6;
        let bc1 = 1.0 - 0.9f64.powf(6.0);
        let bc2 = 1.0 - 0.999f64.powf(6.0);
        let rho_inf = 2.0 / (1.0 - 0.999) - 1.0;
        let rho6 = rho_inf - 2.0 * 6.0 * 0.999f64.powf(6.0) / bc2;
        let r = ((rho6 - 4.0) * (rho6 - 2.0) * rho_inf
            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho6))
            .sqrt();
        let x6 = x5 - m6 / bc1 * 0.1 * (bc2.sqrt() / (v6.sqrt() + EPS)) * r;
        assert_rel(x[0], x6, 1e-15);
    }

    #[test]
    fn decoupled_weight_decay_follows_the_closed_form() {
        let config = Radam {
            lr: 0.1,
            weight_decay: 0.5,
            decoupled_weight_decay: true,
            ..Radam::default()
        };
        let xs = quadratic_iterates(config, &[2.0], &[1.0], 2);
        let w = 1.0 - 0.9;
        // g from the undecayed x; p decays by 1 - 0.05 first
        let m1 = w * 2.0;
        let x1 = 1.0 * 0.95 - m1 / (1.0 - 0.9) * 0.1;
        let m2 = m1 + w * (2.0 * x1 - m1);
        let x2 = x1 * 0.95 - m2 / (1.0 - 0.9f64.powf(2.0)) * 0.1;
        assert_rel(xs[0][0], x1, 1e-15);
        assert_rel(xs[1][0], x2, 1e-15);
    }

    #[test]
    fn f32_follows_the_closed_form() {
        let config = Radam {
            lr: 0.1,
            ..Radam::default()
        };
        let xs = quadratic_iterates(config, &[2.0f32], &[1.0f32], 2);
        let m1 = 0.1f32 * 2.0;
        let x1 = 1.0f32 - m1 / 0.1 * 0.1;
        let m2 = m1 + 0.1 * (2.0 * x1 - m1);
        let x2 = x1 - m2 / 0.19 * 0.1;
        assert_rel(xs[0][0], x1, 1e-6);
        assert_rel(xs[1][0], x2, 1e-6);
    }
}
