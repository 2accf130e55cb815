//! The floating-point types the hot loops are generic over.

use std::fmt::{Debug, Display};
use std::iter::Sum;

use num_traits::{Float, FloatConst, FromPrimitive, ToPrimitive};

/// A real scalar: `f32` or `f64`.
///
/// Conversions to and from `f64` are total (`f32` rounds), so hyperparameters
/// are stored as `f64` and converted once per step.
pub trait Scalar:
    Float
    + FloatConst
    + FromPrimitive
    + ToPrimitive
    + Debug
    + Display
    + Default
    + Sum
    + Send
    + Sync
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
    + serde::Serialize
    + serde::de::DeserializeOwned
    + 'static
{
    /// `value` rounded to this type.
    fn of(value: f64) -> Self;
    /// This value widened to `f64`.
    fn to_f64_lossless(self) -> f64;
}

impl Scalar for f32 {
    #[inline(always)]
    fn of(value: f64) -> Self {
        value as f32
    }
    #[inline(always)]
    fn to_f64_lossless(self) -> f64 {
        f64::from(self)
    }
}

impl Scalar for f64 {
    #[inline(always)]
    fn of(value: f64) -> Self {
        value
    }
    #[inline(always)]
    fn to_f64_lossless(self) -> f64 {
        self
    }
}
