//! LAMB, layer-wise adaptive moments (You et al. 2020, "Large Batch
//! Optimization for Deep Learning: Training BERT in 76 minutes",
//! Algorithm 2).
//!
//! Per parameter array (a "layer") `w` with gradient `g`, at step `t`:
//! - `m <- m + (1 - beta1)(g - m)` (`torch.lerp`, as [`Adam`](crate::Adam)),
//!   `v <- beta2 v + (1 - beta2) g^2`;
//! - `m_hat = m / (1 - beta1^t)`, `v_hat = v / (1 - beta2^t)` (without
//!   `bias_correction`, `m_hat = m`, `v_hat = v`);
//! - `r = m_hat / (sqrt(v_hat) + eps) + weight_decay w`;
//! - `ratio = phi(||w||) / ||r||` with `phi` the identity, and `ratio = 1`
//!   when `||w|| = 0` or `||r|| = 0` (as NVIDIA apex's `FusedLAMB` and timm's
//!   `Lamb`);
//! - `w <- w - lr ratio r`.
//!
//! The ratio is computed per array, so [`Optimizer::with_groups`] with one
//! array per layer gives the paper's layer-wise rates. Unlike timm
//! (`always_adapt = False`), the ratio applies whatever `weight_decay` is,
//! as in the paper; apex's global gradient-norm clipping is not part of the
//! method (clip with `opt_core::gradient` before the step).
//!
//! **Two passes, no temporary.** The ratio needs `||r||` before any element
//! moves, and `r` is not stored: pass 1 updates `m`, `v` and accumulates
//! `||r||^2` and `||w||^2` (reads `w, g, m, v`, writes `m, v`); pass 2
//! recomputes `r` from `m, v, w` with the same expression (so the same
//! bits) and applies it (reads `w, m, v`, writes `w`).
//!
//! [`Optimizer::with_groups`]: crate::Optimizer::with_groups

use opt_core::{Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::{fused_pass, fused_reduce, lerp};
use crate::optimizer::{Method, non_negative, positive, unit_interval};

/// LAMB hyperparameters, named as `torch.optim.Adam` (PyTorch has no LAMB).
///
/// Defaults: `beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-6` are the paper's
/// (Section 4 and its TensorFlow implementation) and apex's/timm's;
/// `lr = 1e-3` as apex's `FusedLAMB` and timm's `Lamb`; `weight_decay = 0`
/// as `torch.optim.Adam` (apex and timm default to 0.01: pass it
/// explicitly to match them); `bias_correction = true` as the paper's
/// Algorithm 2 and apex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lamb {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Divide the moments by `1 - beta^t` (Algorithm 2); `false` uses the raw moments.
    pub bias_correction: bool,
}

impl Default for Lamb {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-6,
            weight_decay: 0.0,
            bias_correction: true,
        }
    }
}

/// The trust ratio `||w|| / ||r||` from the squared norms, 1 when either is 0.
fn trust_ratio(weight_squares: f64, update_squares: f64) -> f64 {
    if weight_squares > 0.0 && update_squares > 0.0 {
        (weight_squares / update_squares).sqrt()
    } else {
        1.0
    }
}

struct Constants<T> {
    beta1_weight: T,
    beta1_weight_is_small: bool,
    beta2: T,
    one_minus_beta2: T,
    inverse_bias_correction1: T,
    bias_correction2_sqrt: T,
    eps: T,
    weight_decay: T,
}

impl<T: Scalar> Constants<T> {
    /// `r = m_hat / (sqrt(v_hat) + eps) + weight_decay w`, the one expression
    /// both passes use.
    #[inline(always)]
    fn direction(&self, w: T, m: T, v: T) -> T {
        (m * self.inverse_bias_correction1) / (v.sqrt() / self.bias_correction2_sqrt + self.eps)
            + self.weight_decay * w
    }
}

impl Method for Lamb {
    const NAME: &'static str = "lamb";
    /// The trust ratio needs each array's norms.
    const LAYERWISE: bool = true;

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
        let (bias_correction1, bias_correction2) = if self.bias_correction {
            let exponent = t.min(i32::MAX as u64) as i32;
            (
                1.0 - self.beta1.powi(exponent),
                1.0 - self.beta2.powi(exponent),
            )
        } else {
            (1.0, 1.0)
        };
        let c = Constants {
            beta1_weight: T::of(1.0 - self.beta1),
            beta1_weight_is_small: (1.0 - self.beta1).abs() < 0.5,
            beta2: T::of(self.beta2),
            one_minus_beta2: T::of(1.0 - self.beta2),
            inverse_bias_correction1: T::of(1.0 / bias_correction1),
            bias_correction2_sqrt: T::of(bias_correction2.sqrt()),
            eps: T::of(self.eps),
            weight_decay: T::of(self.weight_decay),
        };
        let (weight_squares, update_squares) = fused_reduce::<T, 2, _, _, _>(
            params,
            grads,
            state,
            (0.0, 0.0),
            |p, g, s| moments(&c, p, g, s),
            |a, b| (a.0 + b.0, a.1 + b.1),
        );
        let step = T::of(self.lr * trust_ratio(weight_squares, update_squares));
        fused_pass::<T, 2, _>(params, grads, state, |p, _, s| apply(&c, step, p, s));
    }
}

/// Pass 1: update the moments; return `(||w||^2, ||r||^2)` of this piece.
/// The sums use eight independent accumulators per norm, so the loop is not
/// bound by the latency of one chain of additions.
fn moments<T: Scalar>(
    c: &Constants<T>,
    params: &mut [T],
    grads: &[T],
    state: &mut [T],
) -> (f64, f64) {
    const LANES: usize = 8;
    let (pairs, _) = state.as_chunks_mut::<2>();
    let mut weight_squares = [0.0f64; LANES];
    let mut update_squares = [0.0f64; LANES];
    let mut element = |lane: usize, w: T, g: T, [m, v]: &mut [T; 2]| {
        *m = lerp(*m, g, c.beta1_weight, c.beta1_weight_is_small);
        *v = *v * c.beta2 + c.one_minus_beta2 * g * g;
        let r = c.direction(w, *m, *v).to_f64_lossless();
        let w = w.to_f64_lossless();
        weight_squares[lane] += w * w;
        update_squares[lane] += r * r;
    };
    let mut p_chunks = params.chunks_exact(LANES);
    let mut g_chunks = grads.chunks_exact(LANES);
    let mut s_chunks = pairs.chunks_exact_mut(LANES);
    for ((p, g), s) in (&mut p_chunks).zip(&mut g_chunks).zip(&mut s_chunks) {
        for lane in 0..LANES {
            element(lane, p[lane], g[lane], &mut s[lane]);
        }
    }
    let remainder = p_chunks.remainder().iter().zip(g_chunks.remainder());
    for ((&w, &g), s) in remainder.zip(s_chunks.into_remainder()) {
        element(0, w, g, s);
    }
    (weight_squares.iter().sum(), update_squares.iter().sum())
}

/// Pass 2: `w <- w - (lr ratio) r`, `r` recomputed from the new moments.
fn apply<T: Scalar>(c: &Constants<T>, step: T, params: &mut [T], state: &mut [T]) {
    let (pairs, _) = state.as_chunks_mut::<2>();
    for (w, [m, v]) in params.iter_mut().zip(pairs) {
        *w -= step * c.direction(*w, *m, *v);
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;
    use opt_core::{OptError, Stepper};

    use super::*;
    use crate::{Optimizer, ParamGroup};

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1.0)
    }

    #[test]
    fn first_step_by_hand() {
        let config = Lamb {
            lr: 0.01,
            weight_decay: 0.1,
            ..Lamb::default()
        };
        let mut optimizer = Optimizer::<Lamb, f64>::new(config).unwrap();
        let mut w = array![3.0, 4.0];
        optimizer.step(&mut w, &array![0.5, -2.0]).unwrap();
        // t = 1: m = 0.1 g, v = 0.001 g^2, so m_hat = g and v_hat = g^2:
        // r = g / (|g| + 1e-6) + 0.1 w
        //   = [0.5 / 0.500001 + 0.3, -2 / 2.000001 + 0.4]
        //   = [1.299998000004, -0.5999995000002];
        // ||w|| = 5, ||r|| = sqrt(1.299998000004^2 + 0.5999995000002^2);
        // w <- w - 0.01 (5 / ||r||) r.
        let r: [f64; 2] = [1.299_998_000_004, -0.599_999_500_000_2];
        let norm_r = (r[0] * r[0] + r[1] * r[1]).sqrt(); // 1.43178008...
        let expected = [
            3.0 - 0.01 * 5.0 / norm_r * r[0],
            4.0 - 0.01 * 5.0 / norm_r * r[1],
        ];
        // = [2.954602..., 4.020953...]
        assert!(
            (w[0] - 2.954_6).abs() < 1e-4 && (w[1] - 4.020_95).abs() < 1e-4,
            "{w}"
        );
        assert!(
            close(w[0], expected[0], 1e-12) && close(w[1], expected[1], 1e-12),
            "{w}"
        );
        // The step's norm is lr ||w|| = 0.05, whatever the gradient.
        let step = ((w[0] - 3.0).powi(2) + (w[1] - 4.0).powi(2)).sqrt();
        assert!(close(step, 0.05, 1e-12), "{step}");
    }

    #[test]
    fn first_step_without_bias_correction_by_hand() {
        let config = Lamb {
            lr: 0.1,
            bias_correction: false,
            ..Lamb::default()
        };
        let mut optimizer = Optimizer::<Lamb, f64>::new(config).unwrap();
        let mut w = array![0.0, 2.0];
        optimizer.step(&mut w, &array![1.0, -1.0]).unwrap();
        // m = 0.1 g, v = 0.001 g^2: r = 0.1 g / (sqrt(0.001) |g| + 1e-6)
        //   = +-0.1 / 0.031623776... = +-3.1621776...
        // ||w|| = 2, ||r|| = sqrt(2) 3.16217..., so ratio ||r|| = 2 and
        // w <- w - 0.1 * 2 * r / ||r|| = w - 0.2 [1, -1] / sqrt(2).
        let shift = 0.2 / 2.0f64.sqrt();
        assert!(
            close(w[0], -shift, 1e-12) && close(w[1], 2.0 + shift, 1e-12),
            "{w}"
        );
        // The moments are kept raw: m = [0.1, -0.1], v = [0.001, 0.001].
        let state = opt_core::SaveState::save_state(&optimizer);
        let buffer = &state.arrays[0].buffer;
        assert!(close(buffer[0], 0.1, 1e-15) && close(buffer[2], -0.1, 1e-15));
        assert!(close(buffer[1], 1e-3, 1e-12) && close(buffer[3], 1e-3, 1e-12));
    }

    #[test]
    fn each_array_gets_its_own_trust_ratio() {
        // Every array moves by lr ||w_i|| at each step (weight_decay = 0):
        // the ratio is ||w_i|| / ||r_i||, so the step's norm is lr ||w_i||.
        let groups = vec![ParamGroup {
            config: Lamb {
                lr: 0.1,
                ..Lamb::default()
            },
            arrays: 2,
        }];
        let mut optimizer = Optimizer::<Lamb, f64>::with_groups(groups).unwrap();
        let mut a = [3.0, 4.0]; // ||a|| = 5
        let mut b = [0.0, 0.0, 0.5]; // ||b|| = 0.5
        let (ga, gb) = ([1.0, 1.0], [1e-3, -2.0, 7.0]);
        optimizer
            .step_slices(&mut [&mut a, &mut b], &[&ga, &gb])
            .unwrap();
        let norm = |x: &[f64], y: &[f64]| {
            x.iter()
                .zip(y)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        assert!(close(norm(&a, &[3.0, 4.0]), 0.5, 1e-12), "{a:?}");
        assert!(close(norm(&b, &[0.0, 0.0, 0.5]), 0.05, 1e-12), "{b:?}");

        // One array holding both layers moves by lr ||(a, b)|| instead.
        let mut one = Optimizer::<Lamb, f64>::new(Lamb {
            lr: 0.1,
            ..Lamb::default()
        })
        .unwrap();
        let mut ab = [3.0, 4.0, 0.0, 0.0, 0.5];
        one.step_slices(&mut [&mut ab], &[&[1.0, 1.0, 1e-3, -2.0, 7.0]])
            .unwrap();
        let total = (25.0f64 + 0.25).sqrt();
        assert!(close(
            norm(&ab, &[3.0, 4.0, 0.0, 0.0, 0.5]),
            0.1 * total,
            1e-12
        ));
    }

    #[test]
    fn large_arrays_take_the_parallel_passes() {
        // Above the threshold both passes run in pieces on threads; the
        // step's norm is still lr ||w||, and each element moves as the
        // serial formula says (first step: r_i = g_i / (|g_i| + eps)).
        let n = 3 * crate::kernel::PARALLEL_THRESHOLD + 17;
        let start: Vec<f64> = (0..n).map(|i| ((i % 11) as f64 - 5.0) / 7.0).collect();
        let grads: Vec<f64> = (0..n).map(|i| ((i % 5) as f64 - 2.5) * 0.3).collect();
        let mut w = start.clone();
        let mut optimizer = Optimizer::<Lamb, f64>::new(Lamb::default()).unwrap();
        optimizer.step_slices(&mut [&mut w], &[&grads]).unwrap();
        let r: Vec<f64> = grads.iter().map(|g| g / (g.abs() + 1e-6)).collect();
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let ratio = norm(&start) / norm(&r);
        for i in [0, 1, n / 2, n - 1] {
            let expected = start[i] - 1e-3 * ratio * r[i];
            assert!(close(w[i], expected, 1e-12), "{i}: {} vs {expected}", w[i]);
        }
        let step: Vec<f64> = w.iter().zip(&start).map(|(a, b)| a - b).collect();
        assert!(close(norm(&step), 1e-3 * norm(&start), 1e-10));
    }

    #[test]
    fn zero_weights_fall_back_to_a_ratio_of_one() {
        assert_eq!(trust_ratio(0.0, 2.0), 1.0);
        assert_eq!(trust_ratio(2.0, 0.0), 1.0);
        assert_eq!(trust_ratio(4.0, 1.0), 2.0);
        // w = 0: an Adam-like step w = -lr r with r = g / (|g| + eps).
        let mut optimizer = Optimizer::<Lamb, f64>::new(Lamb::default()).unwrap();
        let mut w = array![0.0];
        optimizer.step(&mut w, &array![2.0]).unwrap();
        assert!(close(w[0], -1e-3 * 2.0 / (2.0 + 1e-6), 1e-12), "{w}");
    }

    #[test]
    fn invalid_hyperparameters_are_errors() {
        let bad = [
            Lamb {
                lr: -1.0,
                ..Lamb::default()
            },
            Lamb {
                beta1: 1.0,
                ..Lamb::default()
            },
            Lamb {
                beta2: -0.1,
                ..Lamb::default()
            },
            Lamb {
                eps: 0.0,
                ..Lamb::default()
            },
            Lamb {
                weight_decay: f64::NAN,
                ..Lamb::default()
            },
        ];
        for config in bad {
            assert!(
                matches!(
                    Optimizer::<Lamb, f32>::new(config.clone()),
                    Err(OptError::InvalidHyperparameter { .. })
                ),
                "{config:?}"
            );
        }
    }
}
