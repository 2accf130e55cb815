//! Stochastic gradient descent with momentum, as `torch.optim.SGD`.
//!
//! With `g = ±grad + weight_decay p` (minus when `maximize`):
//! - no momentum: `p <- p - lr g`;
//! - momentum: `b <- momentum b + (1 - dampening) g` (`b = g` at the first
//!   step), then `p <- p - lr d` with `d = g + momentum b` (Nesterov) or
//!   `d = b`.
//!
//! Source: PyTorch's `torch.optim.SGD` (Sutskever et al. 2013 for the
//! momentum form; Nesterov as PyTorch writes it).

use opt_core::{OptError, Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::fused_pass;
use crate::optimizer::{Method, non_negative};

/// SGD hyperparameters; names and defaults of `torch.optim.SGD`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sgd {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    pub maximize: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

struct Constants<T> {
    lr: T,
    sign: T,
    weight_decay: T,
    momentum: T,
    grad_weight: T,
}

impl Method for Sgd {
    const NAME: &'static str = "sgd";

    fn validate(&self) -> Result<()> {
        non_negative("lr", self.lr)?;
        non_negative("momentum", self.momentum)?;
        non_negative("dampening", self.dampening)?;
        non_negative("weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(OptError::invalid(
                "nesterov",
                true,
                "Nesterov momentum requires momentum > 0 and dampening = 0",
            ));
        }
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn state_per_element(&self) -> usize {
        usize::from(self.momentum != 0.0)
    }

    fn update<T: Scalar>(
        &self,
        t: u64,
        _scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) {
        let c = Constants {
            lr: T::of(self.lr),
            sign: if self.maximize { -T::one() } else { T::one() },
            weight_decay: T::of(self.weight_decay),
            momentum: T::of(self.momentum),
            // the buffer starts as a copy of the first gradient
            grad_weight: if t == 1 {
                T::one()
            } else {
                T::of(1.0 - self.dampening)
            },
        };
        match (self.momentum != 0.0, self.nesterov) {
            (false, _) => fused_pass::<T, 0, _>(params, grads, state, |p, g, _| plain(&c, p, g)),
            (true, false) => {
                fused_pass::<T, 1, _>(params, grads, state, |p, g, s| heavy_ball(&c, p, g, s))
            }
            (true, true) => {
                fused_pass::<T, 1, _>(params, grads, state, |p, g, s| nesterov(&c, p, g, s))
            }
        }
    }
}

fn plain<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T]) {
    for (p, &g) in params.iter_mut().zip(grads) {
        let g = c.sign * g + c.weight_decay * *p;
        *p -= c.lr * g;
    }
}

fn heavy_ball<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], buffers: &mut [T]) {
    for ((p, &g), b) in params.iter_mut().zip(grads).zip(buffers.iter_mut()) {
        let g = c.sign * g + c.weight_decay * *p;
        *b = c.momentum * *b + c.grad_weight * g;
        *p -= c.lr * *b;
    }
}

fn nesterov<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], buffers: &mut [T]) {
    for ((p, &g), b) in params.iter_mut().zip(grads).zip(buffers.iter_mut()) {
        let g = c.sign * g + c.weight_decay * *p;
        *b = c.momentum * *b + c.grad_weight * g;
        *p -= c.lr * (g + c.momentum * *b);
    }
}
