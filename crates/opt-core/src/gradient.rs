//! Gradient utilities: central-difference checking, accumulation over
//! micro-batches, clipping by global norm and by value.

use ndarray::Array1;
use num_traits::{One, Zero};

use crate::error::{OptError, Result, check_len};
use crate::problem::{FiniteSum, Objective, ScalarOf};
use crate::scalar::Scalar;
use crate::vector::VectorSpace;

/// The outcome of [`check_gradient`].
#[derive(Debug, Clone, PartialEq)]
pub struct GradientCheck<T> {
    /// `||g_analytic - g_numeric|| / max(||g_analytic||, ||g_numeric||, 1e-12)`.
    pub relative_error: T,
    /// Component with the largest absolute difference.
    pub worst_index: usize,
    /// The analytic gradient at the point.
    pub analytic: Array1<T>,
    /// The central-difference estimate.
    pub numeric: Array1<T>,
}

/// Compare a problem's gradient at `x` with central differences,
/// `g_i ~ (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i)`,
/// `h_i = eps^(1/3) max(1, |x_i|)` (truncation and rounding error balanced,
/// Nocedal & Wright 2006, sec. 8.1). Costs `2n + 1` evaluations.
pub fn check_gradient<T, P>(problem: &P, x: &Array1<T>) -> Result<GradientCheck<T>>
where
    T: Scalar,
    P: Objective<Vector = Array1<T>> + ?Sized,
{
    check_len("gradient check point", problem.dim(), x.len())?;
    let mut analytic = Array1::zeros(x.len());
    problem.value_and_grad(x, &mut analytic)?;
    let mut numeric = Array1::zeros(x.len());
    let mut probe = x.clone();
    let base_step = T::epsilon().cbrt();
    for i in 0..x.len() {
        let h = base_step * T::one().max(x[i].abs());
        probe[i] = x[i] + h;
        let f_plus = problem.value(&probe)?;
        probe[i] = x[i] - h;
        let f_minus = problem.value(&probe)?;
        probe[i] = x[i];
        numeric[i] = (f_plus - f_minus) / (h + h);
    }
    let difference = &analytic - &numeric;
    let scale = analytic.norm2().max(numeric.norm2()).max(T::of(1e-12));
    let worst_index = difference
        .iter()
        .enumerate()
        .fold((0, T::zero()), |(best, best_abs), (i, d)| {
            if d.abs() > best_abs {
                (i, d.abs())
            } else {
                (best, best_abs)
            }
        })
        .0;
    Ok(GradientCheck {
        relative_error: difference.norm2() / scale,
        worst_index,
        analytic,
        numeric,
    })
}

/// Sums mini-batch gradients weighted by their sample counts, so that the
/// result is the mean over all samples seen: `g = sum_b |b| g_b / sum_b |b|`.
///
/// Used to form a large batch's gradient from micro-batches that fit in
/// memory; the result equals the large batch's gradient up to rounding.
#[derive(Debug, Clone)]
pub struct GradientAccumulator<V: VectorSpace> {
    weighted_sum: V,
    weighted_value: ScalarOf<V>,
    samples: usize,
}

impl<V: VectorSpace> GradientAccumulator<V> {
    /// An empty accumulator for vectors shaped like `like`.
    pub fn new(like: &V) -> Self {
        Self {
            weighted_sum: like.zeros_like(),
            weighted_value: ScalarOf::<V>::zero(),
            samples: 0,
        }
    }

    /// Add one micro-batch's mean `value` and mean `grad` over `samples` samples.
    pub fn add(&mut self, value: ScalarOf<V>, grad: &V, samples: usize) -> Result<()> {
        check_len("accumulated gradient", self.weighted_sum.len(), grad.len())?;
        if samples == 0 {
            return Err(OptError::invalid(
                "samples",
                0,
                "a micro-batch has at least one sample",
            ));
        }
        let weight = ScalarOf::<V>::of(samples as f64);
        self.weighted_sum.axpy(weight, grad);
        self.weighted_value += weight * value;
        self.samples += samples;
        Ok(())
    }

    /// Number of samples added since the last reset.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Write the mean gradient into `grad` and return the mean value.
    pub fn mean_into(&self, grad: &mut V) -> Result<ScalarOf<V>> {
        check_len("accumulated gradient", self.weighted_sum.len(), grad.len())?;
        if self.samples == 0 {
            return Err(OptError::invalid("samples", 0, "nothing was accumulated"));
        }
        let inverse = ScalarOf::<V>::one() / ScalarOf::<V>::of(self.samples as f64);
        grad.assign(&self.weighted_sum);
        grad.scale(inverse);
        Ok(self.weighted_value * inverse)
    }

    /// Forget everything added.
    pub fn reset(&mut self) {
        self.weighted_sum.fill(ScalarOf::<V>::zero());
        self.weighted_value = ScalarOf::<V>::zero();
        self.samples = 0;
    }
}

/// The mean value and gradient of a finite sum over `indices`, evaluated in
/// micro-batches of at most `micro_batch_size` samples; `scratch` holds one
/// micro-batch gradient. Equal, up to rounding, to
/// `problem.batch_value_and_grad(x, indices, grad)`.
pub fn accumulate_batch_gradient<P: FiniteSum + ?Sized>(
    problem: &P,
    x: &P::Vector,
    indices: &[usize],
    micro_batch_size: usize,
    accumulator: &mut GradientAccumulator<P::Vector>,
    scratch: &mut P::Vector,
    grad: &mut P::Vector,
) -> Result<ScalarOf<P::Vector>> {
    if micro_batch_size == 0 {
        return Err(OptError::invalid(
            "micro_batch_size",
            0,
            "must be at least 1",
        ));
    }
    crate::problem::check_batch(indices, problem.num_samples())?;
    accumulator.reset();
    for micro_batch in indices.chunks(micro_batch_size) {
        let value = problem.batch_value_and_grad(x, micro_batch, scratch)?;
        accumulator.add(value, scratch, micro_batch.len())?;
    }
    accumulator.mean_into(grad)
}

/// Scale `grads` jointly so that their global Euclidean norm is at most
/// `max_norm`, as `torch.nn.utils.clip_grad_norm_`: with
/// `c = max_norm / (norm + 1e-6)`, every gradient is multiplied by `c` when
/// `c < 1`. Returns the norm before clipping. A non-finite norm is an error
/// and leaves the gradients untouched.
pub fn clip_grad_norm<V: VectorSpace>(grads: &mut [&mut V], max_norm: f64) -> Result<f64> {
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(OptError::invalid(
            "max_norm",
            max_norm,
            "must be positive and finite",
        ));
    }
    let total_norm = grads
        .iter()
        .map(|g| g.dot(g).to_f64_lossless())
        .sum::<f64>()
        .sqrt();
    if !total_norm.is_finite() {
        return Err(OptError::NonFinite {
            what: "gradient norm",
            iteration: 0,
        });
    }
    let coefficient = max_norm / (total_norm + 1e-6);
    if coefficient < 1.0 {
        for grad in grads.iter_mut() {
            grad.scale(ScalarOf::<V>::of(coefficient));
        }
    }
    Ok(total_norm)
}

/// Clamp every component of `grad` to `[-clip_value, clip_value]`, as
/// `torch.nn.utils.clip_grad_value_`.
pub fn clip_grad_value<T: Scalar>(grad: &mut Array1<T>, clip_value: f64) -> Result<()> {
    if !(clip_value.is_finite() && clip_value > 0.0) {
        return Err(OptError::invalid(
            "clip_value",
            clip_value,
            "must be positive and finite",
        ));
    }
    let limit = T::of(clip_value);
    grad.map_inplace(|g| *g = g.max(-limit).min(limit));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    /// f(x) = sum_i c_i (x_i - i)^2 / 2 over samples c = 1..=n, as a finite sum
    /// with f_i(x) = (i+1) ||x - t||^2 / 2 for a fixed target t.
    struct WeightedSquares {
        target: Array1<f64>,
        samples: usize,
    }

    impl Objective for WeightedSquares {
        type Vector = Array1<f64>;
        fn dim(&self) -> usize {
            self.target.len()
        }
        fn value(&self, x: &Array1<f64>) -> Result<f64> {
            let mut g = x.zeros_like();
            self.value_and_grad(x, &mut g)
        }
        fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
            let all: Vec<usize> = (0..self.samples).collect();
            self.batch_value_and_grad(x, &all, grad)
        }
    }

    impl FiniteSum for WeightedSquares {
        fn num_samples(&self) -> usize {
            self.samples
        }
        fn batch_value_and_grad(
            &self,
            x: &Array1<f64>,
            indices: &[usize],
            grad: &mut Array1<f64>,
        ) -> Result<f64> {
            crate::problem::check_batch(indices, self.samples)?;
            let d = x - &self.target;
            let mean_weight =
                indices.iter().map(|&i| (i + 1) as f64).sum::<f64>() / indices.len() as f64;
            grad.assign(&(&d * mean_weight));
            Ok(0.5 * mean_weight * d.dot(&d))
        }
    }

    /// Rosenbrock in 2-D with a deliberately wrong gradient component when `broken`.
    struct Rosenbrock2 {
        broken: bool,
    }

    impl Objective for Rosenbrock2 {
        type Vector = Array1<f64>;
        fn dim(&self) -> usize {
            2
        }
        fn value(&self, x: &Array1<f64>) -> Result<f64> {
            Ok(100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2))
        }
        fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
            grad[0] = -400.0 * x[0] * (x[1] - x[0] * x[0]) - 2.0 * (1.0 - x[0]);
            grad[1] = 200.0 * (x[1] - x[0] * x[0]) * if self.broken { 1.01 } else { 1.0 };
            self.value(x)
        }
    }

    #[test]
    fn gradient_check_accepts_a_right_gradient_and_flags_a_wrong_one() {
        let x = array![-1.2, 1.0];
        let right = check_gradient(&Rosenbrock2 { broken: false }, &x).unwrap();
        assert!(right.relative_error < 1e-8, "{}", right.relative_error);
        let wrong = check_gradient(&Rosenbrock2 { broken: true }, &x).unwrap();
        assert!(wrong.relative_error > 1e-3, "{}", wrong.relative_error);
        assert_eq!(wrong.worst_index, 1);
    }

    #[test]
    fn gradient_check_rejects_a_wrong_length() {
        let err = check_gradient(&Rosenbrock2 { broken: false }, &array![1.0]).unwrap_err();
        assert!(matches!(
            err,
            OptError::ShapeMismatch {
                expected: 2,
                got: 1,
                ..
            }
        ));
    }

    #[test]
    fn micro_batches_reproduce_the_large_batch_gradient() {
        let problem = WeightedSquares {
            target: array![1.0, -2.0, 0.5],
            samples: 10,
        };
        let x = array![0.3, 0.1, -0.7];
        let indices = [0, 3, 3, 7, 9, 2, 5];
        let mut whole = x.zeros_like();
        let whole_value = problem
            .batch_value_and_grad(&x, &indices, &mut whole)
            .unwrap();
        for micro in [1, 2, 3, 7, 100] {
            let mut accumulator = GradientAccumulator::new(&x);
            let mut scratch = x.zeros_like();
            let mut grad = x.zeros_like();
            let value = accumulate_batch_gradient(
                &problem,
                &x,
                &indices,
                micro,
                &mut accumulator,
                &mut scratch,
                &mut grad,
            )
            .unwrap();
            assert!((value - whole_value).abs() < 1e-14 * whole_value.abs());
            for (a, b) in grad.iter().zip(whole.iter()) {
                assert!(
                    (a - b).abs() < 1e-14 * b.abs().max(1.0),
                    "micro {micro}: {a} vs {b}"
                );
            }
            assert_eq!(accumulator.samples(), indices.len());
        }
    }

    #[test]
    fn accumulation_rejects_bad_input() {
        let problem = WeightedSquares {
            target: array![1.0],
            samples: 4,
        };
        let x = array![0.0];
        let mut accumulator = GradientAccumulator::new(&x);
        let (mut scratch, mut grad) = (x.zeros_like(), x.zeros_like());
        let mut run = |indices: &[usize], micro| {
            accumulate_batch_gradient(
                &problem,
                &x,
                indices,
                micro,
                &mut accumulator,
                &mut scratch,
                &mut grad,
            )
        };
        assert!(matches!(
            run(&[0, 1], 0),
            Err(OptError::InvalidHyperparameter { .. })
        ));
        assert!(matches!(
            run(&[0, 4], 1),
            Err(OptError::IndexOutOfRange { index: 4, len: 4 })
        ));
        assert!(run(&[], 1).is_err());
        let mut empty = GradientAccumulator::new(&x);
        assert!(empty.mean_into(&mut grad).is_err());
        assert!(empty.add(1.0, &array![1.0, 2.0], 1).is_err());
    }

    #[test]
    fn clipping_by_norm_follows_torch() {
        let mut a = array![3.0_f64, 0.0];
        let mut b = array![0.0_f64, 4.0];
        let norm = clip_grad_norm(&mut [&mut a, &mut b], 1.0).unwrap();
        assert_eq!(norm, 5.0);
        let c = 1.0 / (5.0 + 1e-6);
        assert_eq!(a, array![3.0 * c, 0.0]);
        assert_eq!(b, array![0.0, 4.0 * c]);
        // below the limit: untouched
        let mut small = array![0.1_f32, 0.2];
        clip_grad_norm(&mut [&mut small], 1.0).unwrap();
        assert_eq!(small, array![0.1, 0.2]);
        // non-finite: error, untouched
        let mut bad = array![f64::NAN, 1.0];
        assert!(clip_grad_norm(&mut [&mut bad], 1.0).is_err());
        assert_eq!(bad[1], 1.0);
        assert!(clip_grad_norm(&mut [&mut a], -1.0).is_err());
    }

    #[test]
    fn clipping_by_value_clamps_each_component() {
        let mut g = array![-3.0, -0.5, 0.0, 0.7, 2.0];
        clip_grad_value(&mut g, 1.0).unwrap();
        assert_eq!(g, array![-1.0, -0.5, 0.0, 0.7, 1.0]);
        assert!(clip_grad_value(&mut g, 0.0).is_err());
        assert!(clip_grad_value(&mut g, f64::NAN).is_err());
    }
}
