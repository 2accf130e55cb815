//! Helpers shared by the unit tests of the element-wise methods.

use opt_core::Scalar;

use crate::optimizer::{Method, Optimizer};

/// The iterates `x_1 .. x_steps` of `config` on `f(x) = 0.5 sum_i a_i x_i^2`
/// (gradient `a_i x_i`) from `x0`.
pub(crate) fn quadratic_iterates<M: Method, T: Scalar>(
    config: M,
    a: &[T],
    x0: &[T],
    steps: usize,
) -> Vec<Vec<T>> {
    let mut optimizer = Optimizer::<M, T>::new(config).expect("valid hyperparameters");
    let mut x = x0.to_vec();
    let mut grad = vec![T::zero(); x.len()];
    let mut iterates = Vec::with_capacity(steps);
    for _ in 0..steps {
        for ((g, &a), &x) in grad.iter_mut().zip(a).zip(&x) {
            *g = a * x;
        }
        optimizer
            .step_slices(&mut [&mut x[..]], &[&grad[..]])
            .expect("a finite step");
        iterates.push(x.clone());
    }
    iterates
}

/// Panics unless `|actual - expected| <= rel |expected|`.
#[track_caller]
pub(crate) fn assert_rel<T: Scalar>(actual: T, expected: T, rel: f64) {
    let (actual, expected) = (actual.to_f64_lossless(), expected.to_f64_lossless());
    assert!(
        (actual - expected).abs() <= rel * expected.abs(),
        "{actual:e} differs from {expected:e} by more than {rel:e} relative"
    );
}
