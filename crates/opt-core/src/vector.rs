//! The one trait iterative methods need of a parameter vector.

use ndarray::{Array1, Zip};
use num_traits::Float;

use crate::scalar::Scalar;

/// A real vector space with the handful of in-place operations that
/// optimizers use. Implemented for [`ndarray::Array1`] here and for sets of
/// candle tensors in `opt-models`.
///
/// Every operation that takes a second vector expects the same length;
/// callers check lengths once at the boundary ([`crate::check_len`]).
pub trait VectorSpace: Clone + Send + Sync {
    /// The scalar field.
    type Scalar: Scalar;

    /// Number of components.
    fn len(&self) -> usize;
    /// `true` for a vector with no components.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A zero vector of the same shape.
    fn zeros_like(&self) -> Self;
    /// Inner product `<self, other>`.
    fn dot(&self, other: &Self) -> Self::Scalar;
    /// Euclidean norm `||self||_2`.
    fn norm2(&self) -> Self::Scalar {
        self.dot(self).sqrt()
    }
    /// Infinity norm `max_i |self_i|` (0 for an empty vector).
    fn norm_inf(&self) -> Self::Scalar;
    /// `self += alpha * x`.
    fn axpy(&mut self, alpha: Self::Scalar, x: &Self);
    /// `self = alpha * self + x` (the CG direction update).
    fn scale_add(&mut self, alpha: Self::Scalar, x: &Self);
    /// `self *= alpha`.
    fn scale(&mut self, alpha: Self::Scalar);
    /// `self = other` (no allocation).
    fn assign(&mut self, other: &Self);
    /// Every component set to `value`.
    fn fill(&mut self, value: Self::Scalar);
    /// `true` when no component is NaN or infinite.
    fn is_finite(&self) -> bool;
}

impl<T: Scalar> VectorSpace for Array1<T> {
    type Scalar = T;

    fn len(&self) -> usize {
        Array1::len(self)
    }
    fn zeros_like(&self) -> Self {
        Array1::zeros(Array1::len(self))
    }
    fn dot(&self, other: &Self) -> T {
        self.view().dot(&other.view())
    }
    fn norm_inf(&self) -> T {
        self.iter().fold(T::zero(), |m, &v| m.max(v.abs()))
    }
    fn axpy(&mut self, alpha: T, x: &Self) {
        Zip::from(self).and(x).for_each(|s, &xi| *s += alpha * xi);
    }
    fn scale_add(&mut self, alpha: T, x: &Self) {
        Zip::from(self)
            .and(x)
            .for_each(|s, &xi| *s = alpha * *s + xi);
    }
    fn scale(&mut self, alpha: T) {
        self.map_inplace(|s| *s *= alpha);
    }
    fn assign(&mut self, other: &Self) {
        Zip::from(self).and(other).for_each(|s, &o| *s = o);
    }
    fn fill(&mut self, value: T) {
        self.map_inplace(|s| *s = value);
    }
    fn is_finite(&self) -> bool {
        match self.as_slice_memory_order() {
            Some(values) => all_finite(values),
            None => self.iter().all(|v| v.is_finite()),
        }
    }
}

/// `true` when every value is finite, in one branch-free pass: `0 v` is 0
/// for a finite `v` and NaN for an infinite or NaN one, and a sum of such
/// terms is 0 exactly when all are. Eight independent lanes let the compiler
/// vectorize the loop (a float sum in one accumulator cannot be reordered).
pub fn all_finite<T: Scalar>(values: &[T]) -> bool {
    const LANES: usize = 8;
    let mut lanes = [T::zero(); LANES];
    let chunks = values.chunks_exact(LANES);
    let remainder = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v * T::zero();
        }
    }
    let total = remainder
        .iter()
        .fold(lanes.iter().fold(T::zero(), |a, &b| a + b), |a, &v| {
            a + v * T::zero()
        });
    total == T::zero()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn operations_match_their_definitions() {
        let mut a: Array1<f64> = array![1.0, -2.0, 3.0];
        let b: Array1<f64> = array![0.5, 4.0, -1.0];
        assert_eq!(VectorSpace::dot(&a, &b), 0.5 - 8.0 - 3.0);
        assert_eq!(a.norm_inf(), 3.0);
        assert!((a.norm2() - 14f64.sqrt()).abs() < 1e-15);
        a.axpy(2.0, &b);
        assert_eq!(a, array![2.0, 6.0, 1.0]);
        a.scale_add(0.5, &b);
        assert_eq!(a, array![1.5, 7.0, -0.5]);
        a.scale(-2.0);
        assert_eq!(a, array![-3.0, -14.0, 1.0]);
        a.assign(&b);
        assert_eq!(a, b);
        a.fill(0.0);
        assert_eq!(a, a.zeros_like());
        assert!(a.is_finite());
        a[1] = f64::NAN;
        assert!(!a.is_finite());
        for n in [1, 7, 8, 9, 17, 64] {
            for bad in 0..n {
                for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut v = Array1::from_elem(n, f64::MAX);
                    assert!(v.is_finite());
                    v[bad] = value;
                    assert!(!v.is_finite(), "n = {n}, index {bad}, {value}");
                }
            }
        }
    }

    #[test]
    fn works_in_f32() {
        let a: Array1<f32> = array![3.0, 4.0];
        assert_eq!(a.norm2(), 5.0);
        assert!(Array1::<f32>::zeros(0).is_empty());
        assert_eq!(Array1::<f32>::zeros(0).norm_inf(), 0.0);
    }
}
