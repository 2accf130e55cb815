//! AdaGrad, as `torch.optim.Adagrad`.
//!
//! With `g = ±grad + weight_decay p` (minus when `maximize`), at step `t`:
//! - `clr = lr / (1 + (t - 1) lr_decay)`;
//! - `s <- s + g^2` (`s` starts at `initial_accumulator_value`);
//! - `p <- p - clr g / (sqrt(s) + eps)`.
//!
//! `eps` is added outside the square root, as PyTorch does. Sources: Duchi,
//! Hazan & Singer (2011); PyTorch's `_single_tensor_adagrad` (dense path).

use opt_core::{Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::fused_pass;
use crate::optimizer::{Method, non_negative, positive};

/// AdaGrad hyperparameters; names and defaults of `torch.optim.Adagrad`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Adagrad {
    pub lr: f64,
    /// The learning rate at step `t` is `lr / (1 + (t - 1) lr_decay)`.
    pub lr_decay: f64,
    pub weight_decay: f64,
    /// The value the sum of squared gradients starts at.
    pub initial_accumulator_value: f64,
    pub eps: f64,
    pub maximize: bool,
}

impl Default for Adagrad {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

struct Constants<T> {
    sign: T,
    weight_decay: T,
    clr: T,
    eps: T,
}

impl Method for Adagrad {
    const NAME: &'static str = "adagrad";

    fn validate(&self) -> Result<()> {
        non_negative("lr", self.lr)?;
        non_negative("lr_decay", self.lr_decay)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        positive("eps", self.eps)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn state_per_element(&self) -> usize {
        1
    }

    fn initial_state(&self) -> f64 {
        self.initial_accumulator_value
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
            sign: if self.maximize { -T::one() } else { T::one() },
            weight_decay: T::of(self.weight_decay),
            clr: T::of(self.lr / (1.0 + (t as f64 - 1.0) * self.lr_decay)),
            eps: T::of(self.eps),
        };
        fused_pass::<T, 1, _>(params, grads, state, |p, g, s| adagrad(&c, p, g, s));
    }
}

fn adagrad<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], sums: &mut [T]) {
    for ((p, &g), s) in params.iter_mut().zip(grads).zip(sums.iter_mut()) {
        let g = c.sign * g + c.weight_decay * *p;
        *s += g * g;
        let std = s.sqrt() + c.eps;
        *p -= c.clr * g / std;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_rel, quadratic_iterates};

    #[test]
    fn defaults_are_torchs() {
        let d = Adagrad::default();
        assert_eq!((d.lr, d.lr_decay, d.weight_decay), (1e-2, 0.0, 0.0));
        assert_eq!(
            (d.initial_accumulator_value, d.eps, d.maximize),
            (0.0, 1e-10, false)
        );
        let parsed: Adagrad = serde_json::from_str(r#"{"lr": 0.5}"#).unwrap();
        assert_eq!(parsed, Adagrad { lr: 0.5, ..d });
    }

    #[test]
    fn three_steps_follow_the_closed_form() {
        // f = x^2 (a = 2), x0 = 1, lr = 0.1
        let xs = quadratic_iterates(
            Adagrad {
                lr: 0.1,
                ..Adagrad::default()
            },
            &[2.0],
            &[1.0],
            3,
        );
        // t = 1: g = 2, s = 4
        let x1: f64 = 1.0 - 0.1 * 2.0 / (2.0 + 1e-10);
        // t = 2: g = 2 x1, s = 4 + 4 x1^2
        let s2 = 4.0 + (2.0 * x1) * (2.0 * x1);
        let x2 = x1 - 0.1 * (2.0 * x1) / (s2.sqrt() + 1e-10);
        let s3 = s2 + (2.0 * x2) * (2.0 * x2);
        let x3 = x2 - 0.1 * (2.0 * x2) / (s3.sqrt() + 1e-10);
        for (x, expected) in xs.iter().zip([x1, x2, x3]) {
            assert_rel(x[0], expected, 1e-15);
        }
    }

    #[test]
    fn lr_decay_initial_accumulator_and_weight_decay() {
        let config = Adagrad {
            lr: 0.5,
            lr_decay: 0.25,
            weight_decay: 0.1,
            initial_accumulator_value: 0.3,
            ..Adagrad::default()
        };
        // f = 0.5 * 3 x^2 in two independent coordinates, x0 = (1, -2)
        let xs = quadratic_iterates(config, &[3.0, 3.0], &[1.0, -2.0], 2);
        for (i, x0) in [1.0f64, -2.0].into_iter().enumerate() {
            // t = 1: clr = 0.5, g = 3 x0 + 0.1 x0
            let g1 = 3.0 * x0 + 0.1 * x0;
            let s1 = 0.3 + g1 * g1;
            let x1 = x0 - 0.5 * g1 / (s1.sqrt() + 1e-10);
            // t = 2: clr = 0.5 / 1.25
            let g2 = 3.0 * x1 + 0.1 * x1;
            let s2 = s1 + g2 * g2;
            let x2 = x1 - 0.4 * g2 / (s2.sqrt() + 1e-10);
            assert_rel(xs[0][i], x1, 1e-15);
            assert_rel(xs[1][i], x2, 1e-15);
        }
    }

    #[test]
    fn maximize_climbs() {
        // f = x^2 (a = 2): ascending moves away from 0; g = -2 x
        let config = Adagrad {
            lr: 0.1,
            maximize: true,
            ..Adagrad::default()
        };
        let xs = quadratic_iterates(config, &[2.0], &[1.0], 2);
        let x1: f64 = 1.0 + 0.1 * 2.0 / (2.0 + 1e-10);
        let s2 = 4.0 + (2.0 * x1) * (2.0 * x1);
        let x2 = x1 + 0.1 * (2.0 * x1) / (s2.sqrt() + 1e-10);
        assert_rel(xs[0][0], x1, 1e-15);
        assert_rel(xs[1][0], x2, 1e-15);
    }

    #[test]
    fn f32_follows_the_closed_form() {
        let xs = quadratic_iterates(
            Adagrad {
                lr: 0.1,
                ..Adagrad::default()
            },
            &[2.0f32],
            &[1.0f32],
            2,
        );
        let x1 = 1.0f32 - 0.1 * 2.0 / (2.0 + 1e-10);
        let s2 = 4.0f32 + (2.0 * x1) * (2.0 * x1);
        let x2 = x1 - 0.1 * (2.0 * x1) / (s2.sqrt() + 1e-10);
        assert_rel(xs[0][0], x1, 1e-7);
        assert_rel(xs[1][0], x2, 1e-7);
    }
}
