//! RMSProp, plain or centered, with optional momentum, as `torch.optim.RMSprop`.
//!
//! With `g = ±grad + weight_decay p` (minus when `maximize`):
//! - `v <- alpha v + (1 - alpha) g^2`;
//! - centered: `m <- m + (1 - alpha)(g - m)` (`torch.lerp`) and
//!   `d = sqrt(v - m^2) + eps`; otherwise `d = sqrt(v) + eps`;
//! - momentum: `b <- momentum b + g / d`, `p <- p - lr b`; otherwise
//!   `p <- p - lr g / d`.
//!
//! `eps` is added outside the square root, as PyTorch does. The state holds
//! `v`, then `m` when centered, then `b` when `momentum > 0`. Sources: Hinton,
//! *Neural Networks for Machine Learning*, lecture 6e (2012); Graves (2013)
//! for the centered form; PyTorch's `_single_tensor_rmsprop`.

use opt_core::{Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::{fused_pass, lerp};
use crate::optimizer::{Method, non_negative, positive, unit_interval};

/// RMSProp hyperparameters; names and defaults of `torch.optim.RMSprop`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rmsprop {
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average.
    pub alpha: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum: f64,
    /// Normalize by an estimate of the gradient's variance instead of its
    /// second moment.
    pub centered: bool,
    pub maximize: bool,
}

impl Default for Rmsprop {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

struct Constants<T> {
    lr: T,
    sign: T,
    weight_decay: T,
    alpha: T,
    one_minus_alpha: T,
    one_minus_alpha_is_small: bool,
    eps: T,
    momentum: T,
}

impl Method for Rmsprop {
    const NAME: &'static str = "rmsprop";

    fn validate(&self) -> Result<()> {
        non_negative("lr", self.lr)?;
        unit_interval("alpha", self.alpha)?;
        positive("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("momentum", self.momentum)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn state_per_element(&self) -> usize {
        1 + usize::from(self.centered) + usize::from(self.momentum > 0.0)
    }

    fn update<T: Scalar>(
        &self,
        _t: u64,
        _scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) {
        let one_minus_alpha = T::of(1.0 - self.alpha);
        let c = Constants {
            lr: T::of(self.lr),
            sign: if self.maximize { -T::one() } else { T::one() },
            weight_decay: T::of(self.weight_decay),
            alpha: T::of(self.alpha),
            one_minus_alpha,
            one_minus_alpha_is_small: one_minus_alpha.abs() < T::of(0.5),
            eps: T::of(self.eps),
            momentum: T::of(self.momentum),
        };
        match (self.centered, self.momentum > 0.0) {
            (false, false) => {
                fused_pass::<T, 1, _>(params, grads, state, |p, g, s| plain(&c, p, g, s))
            }
            (true, false) => {
                fused_pass::<T, 2, _>(params, grads, state, |p, g, s| centered(&c, p, g, s))
            }
            (false, true) => {
                fused_pass::<T, 2, _>(params, grads, state, |p, g, s| momentum(&c, p, g, s))
            }
            (true, true) => {
                fused_pass::<T, 3, _>(params, grads, state, |p, g, s| {
                    centered_momentum(&c, p, g, s)
                });
            }
        }
    }
}

/// The gradient with weight decay, and the updated squared-gradient average.
#[inline(always)]
fn square_average<T: Scalar>(c: &Constants<T>, p: T, g: T, v: &mut T) -> T {
    let g = c.sign * g + c.weight_decay * p;
    *v = *v * c.alpha + c.one_minus_alpha * g * g;
    g
}

/// The centered denominator `sqrt(v - m^2) + eps` after updating `m`.
#[inline(always)]
fn centered_denominator<T: Scalar>(c: &Constants<T>, g: T, v: T, m: &mut T) -> T {
    *m = lerp(*m, g, c.one_minus_alpha, c.one_minus_alpha_is_small);
    (v - *m * *m).sqrt() + c.eps
}

fn plain<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    for ((p, &g), v) in params.iter_mut().zip(grads).zip(state.iter_mut()) {
        let g = square_average(c, *p, g, v);
        let denom = v.sqrt() + c.eps;
        *p -= c.lr * g / denom;
    }
}

fn centered<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (pairs, _) = state.as_chunks_mut::<2>();
    for ((p, &g), [v, m]) in params.iter_mut().zip(grads).zip(pairs) {
        let g = square_average(c, *p, g, v);
        let denom = centered_denominator(c, g, *v, m);
        *p -= c.lr * g / denom;
    }
}

fn momentum<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (pairs, _) = state.as_chunks_mut::<2>();
    for ((p, &g), [v, b]) in params.iter_mut().zip(grads).zip(pairs) {
        let g = square_average(c, *p, g, v);
        let denom = v.sqrt() + c.eps;
        *b = *b * c.momentum + g / denom;
        *p -= c.lr * *b;
    }
}

fn centered_momentum<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], state: &mut [T]) {
    let (triples, _) = state.as_chunks_mut::<3>();
    for ((p, &g), [v, m, b]) in params.iter_mut().zip(grads).zip(triples) {
        let g = square_average(c, *p, g, v);
        let denom = centered_denominator(c, g, *v, m);
        *b = *b * c.momentum + g / denom;
        *p -= c.lr * *b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_rel, quadratic_iterates};

    const EPS: f64 = 1e-8;

    #[test]
    fn defaults_are_torchs() {
        let d = Rmsprop::default();
        assert_eq!(
            (d.lr, d.alpha, d.eps, d.weight_decay, d.momentum),
            (1e-2, 0.99, 1e-8, 0.0, 0.0)
        );
        assert!(!d.centered && !d.maximize);
        assert_eq!(d.state_per_element(), 1);
        let both = Rmsprop {
            centered: true,
            momentum: 0.5,
            ..d
        };
        assert_eq!(both.state_per_element(), 3);
    }

    #[test]
    fn plain_steps_follow_the_closed_form() {
        // f = x^2 (a = 2), x0 = 1, lr = 0.01, alpha = 0.99
        let xs = quadratic_iterates(Rmsprop::default(), &[2.0], &[1.0], 3);
        // t = 1: g = 2, v = 0.01 * 4
        let v1: f64 = 0.01 * 2.0 * 2.0;
        let x1 = 1.0 - 0.01 * 2.0 / (v1.sqrt() + EPS);
        let g2 = 2.0 * x1;
        let v2 = v1 * 0.99 + 0.01 * g2 * g2;
        let x2 = x1 - 0.01 * g2 / (v2.sqrt() + EPS);
        let g3 = 2.0 * x2;
        let v3 = v2 * 0.99 + 0.01 * g3 * g3;
        let x3 = x2 - 0.01 * g3 / (v3.sqrt() + EPS);
        for (x, expected) in xs.iter().zip([x1, x2, x3]) {
            assert_rel(x[0], expected, 1e-15);
        }
    }

    #[test]
    fn centered_steps_follow_the_closed_form() {
        let config = Rmsprop {
            lr: 0.1,
            alpha: 0.9,
            centered: true,
            ..Rmsprop::default()
        };
        let xs = quadratic_iterates(config, &[2.0], &[1.0], 2);
        // t = 1: g = 2, v = 0.1 * 4, m = 0 + 0.1 (2 - 0)
        let v1: f64 = 0.1 * 2.0 * 2.0;
        let m1: f64 = 0.1 * 2.0;
        let x1 = 1.0 - 0.1 * 2.0 / ((v1 - m1 * m1).sqrt() + EPS);
        let g2 = 2.0 * x1;
        let v2 = v1 * 0.9 + 0.1 * g2 * g2;
        let m2 = m1 + 0.1 * (g2 - m1);
        let x2 = x1 - 0.1 * g2 / ((v2 - m2 * m2).sqrt() + EPS);
        assert_rel(xs[0][0], x1, 1e-15);
        assert_rel(xs[1][0], x2, 1e-15);
    }

    #[test]
    fn momentum_steps_follow_the_closed_form() {
        let config = Rmsprop {
            lr: 0.1,
            alpha: 0.9,
            momentum: 0.5,
            weight_decay: 0.2,
            ..Rmsprop::default()
        };
        let xs = quadratic_iterates(config, &[2.0], &[1.0], 2);
        // t = 1: g = 2 + 0.2 = 2.2
        let v1: f64 = 0.1 * 2.2 * 2.2;
        let b1 = 2.2 / (v1.sqrt() + EPS);
        let x1 = 1.0 - 0.1 * b1;
        let g2 = 2.0 * x1 + 0.2 * x1;
        let v2 = v1 * 0.9 + 0.1 * g2 * g2;
        let b2 = b1 * 0.5 + g2 / (v2.sqrt() + EPS);
        let x2 = x1 - 0.1 * b2;
        assert_rel(xs[0][0], x1, 1e-15);
        assert_rel(xs[1][0], x2, 1e-15);
    }

    #[test]
    fn centered_momentum_maximize_follows_the_closed_form() {
        let config = Rmsprop {
            lr: 0.1,
            alpha: 0.9,
            momentum: 0.5,
            centered: true,
            maximize: true,
            ..Rmsprop::default()
        };
        // two coordinates: a = (2, 1), x0 = (1, -3); maximize negates g = a x
        let xs = quadratic_iterates(config, &[2.0, 1.0], &[1.0, -3.0], 2);
        for (i, (a, x0)) in [(2.0f64, 1.0f64), (1.0, -3.0)].into_iter().enumerate() {
            let g1 = -(a * x0);
            let v1 = 0.1 * g1 * g1;
            let m1 = 0.1 * g1;
            let b1 = g1 / ((v1 - m1 * m1).sqrt() + EPS);
            let x1 = x0 - 0.1 * b1;
            let g2 = -(a * x1);
            let v2 = v1 * 0.9 + 0.1 * g2 * g2;
            let m2 = m1 + 0.1 * (g2 - m1);
            let b2 = b1 * 0.5 + g2 / ((v2 - m2 * m2).sqrt() + EPS);
            let x2 = x1 - 0.1 * b2;
            assert_rel(xs[0][i], x1, 1e-15);
            assert_rel(xs[1][i], x2, 1e-15);
        }
    }

    #[test]
    fn f32_follows_the_closed_form() {
        let xs = quadratic_iterates(Rmsprop::default(), &[2.0f32], &[1.0f32], 2);
        let v1 = 0.01f32 * 2.0 * 2.0;
        let x1 = 1.0f32 - 0.01 * 2.0 / (v1.sqrt() + 1e-8);
        let g2 = 2.0 * x1;
        let v2 = v1 * 0.99 + 0.01 * g2 * g2;
        let x2 = x1 - 0.01 * g2 / (v2.sqrt() + 1e-8);
        assert_rel(xs[0][0], x1, 1e-7);
        assert_rel(xs[1][0], x2, 1e-7);
    }
}
