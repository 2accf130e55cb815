//! LARS, layer-wise adaptive rate scaling (You, Gitman & Ginsburg 2017,
//! "Large Batch Training of Convolutional Networks", Algorithm 1).
//!
//! Per parameter array (a "layer") `w` with gradient `g`, at every step:
//! - local learning rate `lambda = eta ||w|| / (||g|| + weight_decay ||w|| + eps)`,
//!   and `lambda = 1` when `||w|| = 0` or `||g|| = 0` (a freshly zeroed
//!   layer, or one with no gradient), as the common implementations do
//!   (timm's `Lars`, NVIDIA's LARC, `torchlars`); the paper leaves it open;
//! - `v <- momentum v + lr lambda (g + weight_decay w)` (`v` starts at 0);
//! - `w <- w - v`.
//!
//! With `momentum = 0` no buffer is kept and `w <- w - lr lambda (g + weight_decay w)`.
//! The trust ratio is computed per array, so [`Optimizer::with_groups`]
//! with one array per layer gives the layer-wise rates of the paper.
//!
//! **Two passes.** `lambda` needs `||w||` and `||g||` before any element is
//! updated, so a step first reduces (in parallel, [`sum_of_squares`]) over
//! `w` and `g` and then runs the fused update: LARS reads `w` and `g` twice
//! per step. That is inherent to a trust ratio of the current point, not a
//! missed fusion.
//!
//! [`Optimizer::with_groups`]: crate::Optimizer::with_groups

use opt_core::{Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::{fused_pass, sum_of_squares};
use crate::optimizer::{Method, non_negative, positive};

/// LARS hyperparameters. PyTorch has no LARS; the names follow
/// `torch.optim.SGD` (`lr`, `momentum`, `weight_decay`) and the paper
/// (`trust_coefficient`, the paper's `eta`).
///
/// Defaults: `momentum = 0.9` and `trust_coefficient = 1e-3` are the
/// paper's (Algorithm 1 and its experiments); `weight_decay = 0` as in
/// `torch.optim.SGD`; `eps = 0` because the paper has none (timm uses 1e-8);
/// `lr = 1` is timm's `Lars` default: the effective relative step is about
/// `lr * trust_coefficient` per layer, so `lr` is a multiplier on the trust
/// coefficient rather than an SGD learning rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lars {
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    /// The paper's `eta`: how far a step may move a layer relative to its norm.
    pub trust_coefficient: f64,
    /// Added to the denominator of the trust ratio.
    pub eps: f64,
}

impl Default for Lars {
    fn default() -> Self {
        Self {
            lr: 1.0,
            momentum: 0.9,
            weight_decay: 0.0,
            trust_coefficient: 1e-3,
            eps: 0.0,
        }
    }
}

impl Lars {
    /// The local learning rate `lambda` of an array with the squared norms
    /// `weight_squares = ||w||^2` and `grad_squares = ||g||^2`: 1 when either
    /// norm is 0 (module docs).
    pub fn trust_ratio(&self, weight_squares: f64, grad_squares: f64) -> f64 {
        if weight_squares > 0.0 && grad_squares > 0.0 {
            let weight_norm = weight_squares.sqrt();
            self.trust_coefficient * weight_norm
                / (grad_squares.sqrt() + self.weight_decay * weight_norm + self.eps)
        } else {
            1.0
        }
    }
}

struct Constants<T> {
    /// `lr * lambda`.
    scale: T,
    weight_decay: T,
    momentum: T,
}

impl Method for Lars {
    const NAME: &'static str = "lars";
    /// The trust ratio needs each array's norms.
    const LAYERWISE: bool = true;

    fn validate(&self) -> Result<()> {
        non_negative("lr", self.lr)?;
        non_negative("momentum", self.momentum)?;
        non_negative("weight_decay", self.weight_decay)?;
        positive("trust_coefficient", self.trust_coefficient)?;
        non_negative("eps", self.eps)
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
        _t: u64,
        _scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) {
        let lambda = self.trust_ratio(sum_of_squares(params), sum_of_squares(grads));
        let c = Constants {
            scale: T::of(self.lr * lambda),
            weight_decay: T::of(self.weight_decay),
            momentum: T::of(self.momentum),
        };
        if self.momentum == 0.0 {
            fused_pass::<T, 0, _>(params, grads, state, |p, g, _| plain(&c, p, g));
        } else {
            fused_pass::<T, 1, _>(params, grads, state, |p, g, s| with_momentum(&c, p, g, s));
        }
    }
}

fn plain<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T]) {
    for (p, &g) in params.iter_mut().zip(grads) {
        *p -= c.scale * (g + c.weight_decay * *p);
    }
}

fn with_momentum<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], buffers: &mut [T]) {
    for ((p, &g), v) in params.iter_mut().zip(grads).zip(buffers.iter_mut()) {
        *v = c.momentum * *v + c.scale * (g + c.weight_decay * *p);
        *p -= *v;
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;
    use opt_core::{OptError, Stepper};

    use super::*;
    use crate::{Optimizer, ParamGroup};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-14 * b.abs().max(1.0)
    }

    #[test]
    fn first_two_steps_by_hand() {
        let config = Lars {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.1,
            trust_coefficient: 1e-2,
            eps: 0.0,
        };
        let mut optimizer = Optimizer::<Lars, f64>::new(config).unwrap();
        let mut w = array![3.0, 4.0];

        // Step 1: ||w|| = 5, g = [0.3, 0.4], ||g|| = 0.5.
        // lambda = 0.01 * 5 / (0.5 + 0.1 * 5) = 0.05 / 1 = 0.05;
        // g + wd w = [0.3 + 0.3, 0.4 + 0.4] = [0.6, 0.8];
        // v = 0 + 0.1 * 0.05 * [0.6, 0.8] = [0.003, 0.004];
        // w = [3 - 0.003, 4 - 0.004] = [2.997, 3.996].
        optimizer.step(&mut w, &array![0.3, 0.4]).unwrap();
        assert!(close(w[0], 2.997) && close(w[1], 3.996), "{w}");

        // Step 2: g = [-1, 0], ||g|| = 1, ||w|| = sqrt(2.997^2 + 3.996^2)
        // = sqrt(8.982009 + 15.968016) = sqrt(24.950025) = 4.995;
        // lambda = 0.01 * 4.995 / (1 + 0.4995) = 0.04995 / 1.4995;
        // g + wd w = [-1 + 0.2997, 0.3996] = [-0.7003, 0.3996];
        // v = 0.9 [0.003, 0.004] + 0.1 lambda [-0.7003, 0.3996];
        // w = [2.997, 3.996] - v.
        optimizer.step(&mut w, &array![-1.0, 0.0]).unwrap();
        let lambda = 0.04995 / 1.4995;
        let v = [
            0.0027 + 0.1 * lambda * -0.7003,
            0.0036 + 0.1 * lambda * 0.3996,
        ];
        assert!(
            close(w[0], 2.997 - v[0]) && close(w[1], 3.996 - v[1]),
            "{w}"
        );
        // lambda = 0.0333111..., v = [0.000367223..., 0.004931111...].
        assert!((w[0] - 2.996_632_776_6).abs() < 1e-10, "{w}");
        assert!((w[1] - 3.991_068_888_3).abs() < 1e-10, "{w}");
    }

    #[test]
    fn a_zero_norm_falls_back_to_a_ratio_of_one() {
        let config = Lars {
            lr: 0.5,
            momentum: 0.0,
            ..Lars::default()
        };
        assert_eq!(config.trust_ratio(0.0, 4.0), 1.0);
        assert_eq!(config.trust_ratio(4.0, 0.0), 1.0);
        // w = 0: a plain SGD step w = -lr g.
        let mut optimizer = Optimizer::<Lars, f64>::new(config).unwrap();
        let mut w = array![0.0, 0.0];
        optimizer.step(&mut w, &array![1.0, -2.0]).unwrap();
        assert_eq!(w, array![-0.5, 1.0]);
    }

    #[test]
    fn each_array_gets_its_own_trust_ratio() {
        // Without momentum and weight decay a step is w <- w - lr eta ||w|| g / ||g||:
        // every layer moves by lr eta ||w|| whatever its gradient's scale.
        let config = Lars {
            lr: 1.0,
            momentum: 0.0,
            ..Lars::default()
        };
        let groups = vec![ParamGroup { config, arrays: 2 }];
        let mut optimizer = Optimizer::<Lars, f64>::with_groups(groups).unwrap();
        let mut a = [3.0, 4.0]; // ||a|| = 5
        let mut b = [0.0, 0.5]; // ||b|| = 0.5
        let (ga, gb) = ([30.0, 40.0], [1e-3, 0.0]); // ||ga|| = 50, ||gb|| = 1e-3
        optimizer
            .step_slices(&mut [&mut a, &mut b], &[&ga, &gb])
            .unwrap();
        // lambda_a = 1e-3 * 5 / 50 = 1e-4: a = [3 - 3e-3, 4 - 4e-3].
        assert!(close(a[0], 2.997) && close(a[1], 3.996), "{a:?}");
        // lambda_b = 1e-3 * 0.5 / 1e-3 = 0.5: b = [0 - 0.5e-3, 0.5].
        assert!(close(b[0], -5e-4) && b[1] == 0.5, "{b:?}");
    }

    #[test]
    fn large_arrays_take_the_parallel_passes() {
        // Above the threshold the norms and the update run in pieces on
        // threads; every element follows v = lr lambda g (lr = 1), w = w - v.
        let n = 3 * crate::kernel::PARALLEL_THRESHOLD + 17;
        let start: Vec<f32> = (0..n).map(|i| ((i % 11) as f32 - 5.0) / 7.0).collect();
        let grads: Vec<f32> = (0..n).map(|i| ((i % 5) as f32 - 2.5) * 0.3).collect();
        let mut w = start.clone();
        let mut optimizer = Optimizer::<Lars, f32>::new(Lars::default()).unwrap();
        optimizer.step_slices(&mut [&mut w], &[&grads]).unwrap();
        let squares = |v: &[f32]| v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
        let lambda = 1e-3 * squares(&start).sqrt() / squares(&grads).sqrt();
        for i in [0, 1, n / 2, n - 1] {
            let expected = f64::from(start[i]) - lambda * f64::from(grads[i]);
            assert!(
                (f64::from(w[i]) - expected).abs() < 1e-6,
                "{i}: {} vs {expected}",
                w[i]
            );
        }
    }

    #[test]
    fn invalid_hyperparameters_are_errors() {
        let bad = [
            Lars {
                lr: -1.0,
                ..Lars::default()
            },
            Lars {
                momentum: f64::NAN,
                ..Lars::default()
            },
            Lars {
                weight_decay: -0.1,
                ..Lars::default()
            },
            Lars {
                trust_coefficient: 0.0,
                ..Lars::default()
            },
            Lars {
                eps: -1e-8,
                ..Lars::default()
            },
        ];
        for config in bad {
            assert!(
                matches!(
                    Optimizer::<Lars, f32>::new(config.clone()),
                    Err(OptError::InvalidHyperparameter { .. })
                ),
                "{config:?}"
            );
        }
        let mut optimizer = Optimizer::<Lars, f32>::new(Lars::default()).unwrap();
        assert!(optimizer.set_learning_rate(f64::INFINITY).is_err());
        assert_eq!(optimizer.learning_rate(), 1.0);
    }
}
