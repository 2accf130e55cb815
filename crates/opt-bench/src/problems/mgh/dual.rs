//! Forward-mode automatic differentiation for the MGH residuals.
//!
//! A dual number `a + b e` with `e^2 = 0` carries a value and one
//! directional derivative: evaluating a function at `x + v e` gives
//! `r(x) + (J(x) v) e`, exact up to rounding (no truncation error, unlike a
//! finite difference). Nesting, `Dual<Dual<f64>>`, introduces two
//! independent infinitesimals `e1`, `e2` with `e1^2 = e2^2 = 0` but
//! `e1 e2 != 0`: at `x + u e1 + v e2` the `e1 e2` part is `u' (grad^2 r) v`,
//! a second directional derivative (Griewank & Walther 2008, "Evaluating
//! Derivatives", ch. 3 and 13).
//!
//! The residuals are written once, generic over [`Real`], and evaluated on
//! `f64` (values), `Dual<f64>` (Jacobian columns) and `Dual<Dual<f64>>`
//! (Hessian-vector products).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// The scalar operations the residuals use: field arithmetic (also with an
/// `f64` on the right), constants and the elementary functions.
pub(crate) trait Real:
    Copy
    + std::fmt::Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    /// The constant `value` (all derivative parts zero).
    fn constant(value: f64) -> Self;
    /// The plain value, without derivative parts (for branches).
    fn value(self) -> f64;
    fn exp(self) -> Self;
    /// The natural logarithm.
    fn ln(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn sqrt(self) -> Self;
    fn atan(self) -> Self;
    /// `|self|`; its derivative at 0 is taken from the positive side.
    fn abs(self) -> Self;
    /// `self^k` for an integer `k`.
    fn powi(self, k: i32) -> Self;

    /// `self^2`.
    fn square(self) -> Self {
        self * self
    }
}

impl Real for f64 {
    fn constant(value: f64) -> Self {
        value
    }
    fn value(self) -> f64 {
        self
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn sin(self) -> Self {
        f64::sin(self)
    }
    fn cos(self) -> Self {
        f64::cos(self)
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn atan(self) -> Self {
        f64::atan(self)
    }
    fn abs(self) -> Self {
        f64::abs(self)
    }
    fn powi(self, k: i32) -> Self {
        f64::powi(self, k)
    }
}

/// `value + derivative e` with `e^2 = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Dual<T> {
    pub(crate) value: T,
    pub(crate) derivative: T,
}

impl<T: Real> Dual<T> {
    /// `value + derivative e`.
    pub(crate) fn new(value: T, derivative: T) -> Self {
        Self { value, derivative }
    }

    /// `f(value) + f'(value) derivative e`, given `f(value)` and `f'(value)`.
    fn chain(self, f: T, f_prime: T) -> Self {
        Self::new(f, f_prime * self.derivative)
    }
}

impl<T: Real> Add for Dual<T> {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self::new(self.value + rhs.value, self.derivative + rhs.derivative)
    }
}

impl<T: Real> Sub for Dual<T> {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self::new(self.value - rhs.value, self.derivative - rhs.derivative)
    }
}

impl<T: Real> Mul for Dual<T> {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        Self::new(
            self.value * rhs.value,
            self.derivative * rhs.value + self.value * rhs.derivative,
        )
    }
}

impl<T: Real> Div for Dual<T> {
    type Output = Self;
    /// `(a + b e) / (c + d e) = a/c + (b - (a/c) d) / c e`.
    fn div(self, rhs: Self) -> Self {
        let quotient = self.value / rhs.value;
        Self::new(
            quotient,
            (self.derivative - quotient * rhs.derivative) / rhs.value,
        )
    }
}

impl<T: Real> Neg for Dual<T> {
    type Output = Self;
    fn neg(self) -> Self {
        Self::new(-self.value, -self.derivative)
    }
}

impl<T: Real> Add<f64> for Dual<T> {
    type Output = Self;
    fn add(self, rhs: f64) -> Self {
        Self::new(self.value + rhs, self.derivative)
    }
}

impl<T: Real> Sub<f64> for Dual<T> {
    type Output = Self;
    fn sub(self, rhs: f64) -> Self {
        Self::new(self.value - rhs, self.derivative)
    }
}

impl<T: Real> Mul<f64> for Dual<T> {
    type Output = Self;
    fn mul(self, rhs: f64) -> Self {
        Self::new(self.value * rhs, self.derivative * rhs)
    }
}

impl<T: Real> Div<f64> for Dual<T> {
    type Output = Self;
    fn div(self, rhs: f64) -> Self {
        Self::new(self.value / rhs, self.derivative / rhs)
    }
}

impl<T: Real> Real for Dual<T> {
    fn constant(value: f64) -> Self {
        Self::new(T::constant(value), T::constant(0.0))
    }
    fn value(self) -> f64 {
        self.value.value()
    }
    fn exp(self) -> Self {
        let e = self.value.exp();
        self.chain(e, e)
    }
    fn ln(self) -> Self {
        Self::new(self.value.ln(), self.derivative / self.value)
    }
    fn sin(self) -> Self {
        self.chain(self.value.sin(), self.value.cos())
    }
    fn cos(self) -> Self {
        self.chain(self.value.cos(), -self.value.sin())
    }
    fn sqrt(self) -> Self {
        let root = self.value.sqrt();
        Self::new(root, self.derivative / (root * 2.0))
    }
    fn atan(self) -> Self {
        self.chain(
            self.value.atan(),
            T::constant(1.0) / (self.value.square() + 1.0),
        )
    }
    fn abs(self) -> Self {
        if self.value() < 0.0 { -self } else { self }
    }
    fn powi(self, k: i32) -> Self {
        match k {
            0 => Self::constant(1.0),
            1 => self,
            _ => self.chain(self.value.powi(k), self.value.powi(k - 1) * f64::from(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-14 * (1.0 + a.abs().max(b.abs()))
    }

    /// `g(x) = exp(sin x) / (x^3 + sqrt(x)) + atan(x) ln(x)` and its first
    /// two derivatives by hand.
    fn g<T: Real>(x: T) -> T {
        x.sin().exp() / (x.powi(3) + x.sqrt()) + x.atan() * x.ln()
    }

    #[test]
    fn first_and_second_derivatives_match_hand_formulas() {
        let x = 0.7_f64;
        let (s, c) = (x.sin(), x.cos());
        let num = s.exp();
        let den = x.powi(3) + x.sqrt();
        let num1 = c * num;
        let num2 = (c * c - s) * num;
        let den1 = 3.0 * x * x + 0.5 / x.sqrt();
        let den2 = 6.0 * x - 0.25 * x.powf(-1.5);
        let q1 = (num1 * den - num * den1) / (den * den);
        let q2 = (num2 * den - num * den2) / (den * den) - 2.0 * den1 * q1 / den;
        let a1 = 1.0 / (1.0 + x * x);
        let a2 = -2.0 * x / (1.0 + x * x).powi(2);
        let first = q1 + a1 * x.ln() + x.atan() / x;
        let second = q2 + a2 * x.ln() + 2.0 * a1 / x - x.atan() / (x * x);

        let d = g(Dual::new(x, 1.0));
        assert!(close(d.value, g(x)));
        assert!(close(d.derivative, first), "{} vs {first}", d.derivative);

        let dd = g(Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0)));
        assert!(close(dd.value.value, g(x)));
        assert!(close(dd.value.derivative, first));
        assert!(close(dd.derivative.value, first));
        assert!(
            close(dd.derivative.derivative, second),
            "{} vs {second}",
            dd.derivative.derivative
        );
    }

    #[test]
    fn cos_abs_and_constant_powers() {
        let d = Dual::new(-2.0, 1.0);
        assert_eq!(d.cos().derivative, 2.0_f64.sin());
        assert_eq!(d.abs(), Dual::new(2.0, -1.0));
        assert_eq!(d.powi(0), Dual::new(1.0, 0.0));
        assert_eq!(d.powi(1), d);
        assert_eq!(d.powi(2), Dual::new(4.0, -4.0));
        assert_eq!((d + 1.0) * 3.0 - 1.0, Dual::new(-4.0, 3.0));
        assert_eq!(d / 2.0, Dual::new(-1.0, 0.5));
    }
}
