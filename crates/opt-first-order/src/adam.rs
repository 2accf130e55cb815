//! Adam, AMSGrad and AdamW, as `torch.optim.Adam` / `torch.optim.AdamW`.
//!
//! With `g = ±grad` (`+ weight_decay p` unless the decay is decoupled), at
//! step `t`:
//! - decoupled decay (AdamW): `p <- p (1 - lr weight_decay)`;
//! - `m <- m + (1 - beta1)(g - m)` (`torch.lerp`), `v <- beta2 v + (1 - beta2) g^2`;
//! - AMSGrad: `v_max <- max(v_max, v)`, used in place of `v` below;
//! - `p <- p - (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)`.
//!
//! `eps` is added outside the square root, after the bias correction, as
//! PyTorch does. Sources: Kingma & Ba (2015); Reddi, Kale & Kumar (2018) for
//! AMSGrad; Loshchilov & Hutter (2019) for AdamW; PyTorch's `_single_tensor_adam`.

use opt_core::Result;
use opt_core::Scalar;
use serde::{Deserialize, Serialize};

use crate::kernel::{fused_pass, lerp};
use crate::optimizer::{Method, non_negative, positive, unit_interval};

/// Adam hyperparameters; names and defaults of `torch.optim.Adam`
/// (`betas = (beta1, beta2)`). [`Adam::adamw`] gives `torch.optim.AdamW`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    pub maximize: bool,
    /// Decay the parameters directly (`p <- p (1 - lr wd)`) instead of adding
    /// `wd p` to the gradient: AdamW.
    pub decoupled_weight_decay: bool,
}

impl Default for Adam {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }
    }
}

impl Adam {
    /// `torch.optim.AdamW`'s defaults: decoupled weight decay 1e-2.
    pub fn adamw() -> Self {
        Self {
            weight_decay: 1e-2,
            decoupled_weight_decay: true,
            ..Self::default()
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
    step_size: T,
    bias_correction2_sqrt: T,
    eps: T,
}

impl Method for Adam {
    const NAME: &'static str = "adam";

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
        if self.amsgrad { 3 } else { 2 }
    }

    fn update<T: Scalar>(
        &self,
        t: u64,
        _scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) {
        // torch raises beta to the step as a float (`beta1 ** step`)
        let bias_correction1 = 1.0 - self.beta1.powf(t as f64);
        let bias_correction2 = 1.0 - self.beta2.powf(t as f64);
        let (l2, decay) = if self.decoupled_weight_decay {
            (0.0, 1.0 - self.lr * self.weight_decay)
        } else {
            (self.weight_decay, 1.0)
        };
        let c = Constants {
            sign: if self.maximize { -T::one() } else { T::one() },
            l2: T::of(l2),
            decay: T::of(decay),
            beta1_weight: T::of(1.0 - self.beta1),
            beta1_weight_is_small: (1.0 - self.beta1).abs() < 0.5,
            beta2: T::of(self.beta2),
            one_minus_beta2: T::of(1.0 - self.beta2),
            step_size: T::of(self.lr / bias_correction1),
            bias_correction2_sqrt: T::of(bias_correction2.sqrt()),
            eps: T::of(self.eps),
        };
        if self.amsgrad {
            fused_pass::<T, 3, _>(params, grads, state, |p, g, s| amsgrad(&c, p, g, s));
        } else {
            fused_pass::<T, 2, _>(params, grads, state, |p, g, s| adam(&c, p, g, s));
        }
    }
}

/// The moment updates shared by Adam and AMSGrad; returns the new `v`.
#[inline(always)]
fn moments<T: Scalar>(c: &Constants<T>, p: &mut T, g: T, m: &mut T, v: &mut T) -> T {
    let g = c.sign * g + c.l2 * *p;
    *p *= c.decay;
    *m = lerp(*m, g, c.beta1_weight, c.beta1_weight_is_small);
    *v = *v * c.beta2 + c.one_minus_beta2 * g * g;
    *v
}

fn adam<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (pairs, _) = state.as_chunks_mut::<2>();
    for ((p, &g), [m, v]) in params.iter_mut().zip(grads).zip(pairs) {
        let v = moments(c, p, g, m, v);
        let denom = v.sqrt() / c.bias_correction2_sqrt + c.eps;
        *p -= c.step_size * (*m / denom);
    }
}

fn amsgrad<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (triples, _) = state.as_chunks_mut::<3>();
    for ((p, &g), [m, v, v_max]) in params.iter_mut().zip(grads).zip(triples) {
        let v = moments(c, p, g, m, v);
        *v_max = v_max.max(v);
        let denom = v_max.sqrt() / c.bias_correction2_sqrt + c.eps;
        *p -= c.step_size * (*m / denom);
    }
}
