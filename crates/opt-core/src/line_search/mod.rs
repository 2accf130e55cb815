//! Line searches: given a point `x`, its value and gradient and a descent
//! direction `d`, choose a step `a > 0` along `phi(a) = f(x + a d)`.
//!
//! | type | accepts | source |
//! |------|---------|--------|
//! | [`BacktrackingArmijo`] | sufficient decrease `phi(a) <= phi(0) + c1 a phi'(0)` | Nocedal & Wright (2006), *Numerical Optimization*, 2nd ed., ch. 3, Algorithm 3.1 and the interpolation of section 3.5 |
//! | [`MoreThuente`] | strong Wolfe: sufficient decrease and `abs(phi'(a)) <= c2 abs(phi'(0))` | Moré & Thuente (1994), "Line search algorithms with guaranteed sufficient decrease", *ACM TOMS* 20(3) (the MINPACK-2 `dcsrch`/`dcstep` method) |
//! | [`ExactQuadratic`] | the exact minimizer `-g.d / (d.H d)` of a quadratic | Nocedal & Wright (2006), eq. (3.55) |
//! | [`BrentLineSearch`] | the minimizer of `phi` over `a >= 0` to a tolerance | Brent (1973), *Algorithms for Minimization without Derivatives*, ch. 5 |
//!
//! The 1-D tools behind [`BrentLineSearch`] are public too:
//! [`bracket_minimum`] (golden-ratio expansion to a [`Bracket`]) and
//! [`brent_minimize`] (parabolic interpolation safeguarded by golden sections).
//!
//! Every search is a plain call that returns what it computed: on success the
//! caller's `x_new` holds `x + step * d`, `grad_new` holds the gradient there
//! and [`LineSearchOutcome::value`] the objective there, so a solver reuses
//! them instead of evaluating again. The searches use `x_new` and `grad_new`
//! as their trial buffers and allocate nothing; on error their contents are
//! unspecified (the last trial).
//!
//! Every search refuses a direction with `grad . d >= 0`
//! ([`OptError::NotDescentDirection`]) and an initial step that is not finite
//! and positive ([`OptError::InvalidHyperparameter`]) before evaluating
//! anything, and reports a search that cannot find an acceptable step as
//! [`OptError::LineSearch`].

mod backtracking;
mod brent;
mod exact;
mod more_thuente;

pub use backtracking::BacktrackingArmijo;
pub use brent::{Bracket, BrentLineSearch, bracket_minimum, brent_minimize};
pub use exact::ExactQuadratic;
pub use more_thuente::MoreThuente;

use num_traits::{Float, Zero};

use crate::error::{OptError, Result, check_len};
use crate::problem::Objective;
use crate::scalar::Scalar;
use crate::vector::VectorSpace;

/// What a line search computed, so the caller reuses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineSearchOutcome<T> {
    /// The accepted step `a`: the new point is `x + a d`.
    pub step: T,
    /// `f(x + a d)`.
    pub value: T,
    /// Calls the search made to the problem (`value`, `value_and_grad` and
    /// `hvp` count one each).
    pub evaluations: usize,
}

/// A rule that chooses a step along a descent direction.
pub trait LineSearch<V: VectorSpace>: std::fmt::Debug {
    /// Search along `direction` from `x` (where f = `value`, gradient `grad`),
    /// starting with `initial_step`.
    ///
    /// On success `x_new = x + step * direction`, `grad_new = grad f(x_new)`
    /// and `outcome.value = f(x_new)`.
    ///
    /// Errors: `grad . direction >= 0` gives [`OptError::NotDescentDirection`]
    /// before any evaluation; a non-finite or nonpositive `initial_step` an
    /// [`OptError::InvalidHyperparameter`]; a non-finite `value` or slope an
    /// [`OptError::NonFinite`]; vectors of different lengths an
    /// [`OptError::ShapeMismatch`]; failure to find an acceptable step an
    /// [`OptError::LineSearch`]; and any error of the problem itself.
    fn search<P: Objective<Vector = V> + ?Sized>(
        &mut self,
        problem: &P,
        x: &V,
        value: V::Scalar,
        grad: &V,
        direction: &V,
        initial_step: V::Scalar,
        x_new: &mut V,
        grad_new: &mut V,
    ) -> Result<LineSearchOutcome<V::Scalar>>;
}

/// The checks every search makes before evaluating anything; returns the
/// initial slope `grad . direction` (negative).
pub(crate) fn check_start<V: VectorSpace>(
    x: &V,
    value: V::Scalar,
    grad: &V,
    direction: &V,
    initial_step: V::Scalar,
    x_new: &V,
    grad_new: &V,
) -> Result<V::Scalar> {
    let n = x.len();
    check_len("line-search gradient", n, grad.len())?;
    check_len("line-search direction", n, direction.len())?;
    check_len("line-search point buffer", n, x_new.len())?;
    check_len("line-search gradient buffer", n, grad_new.len())?;
    let slope = grad.dot(direction);
    if slope.is_nan() {
        return Err(OptError::NonFinite {
            what: "directional derivative at the line-search start",
            iteration: 0,
        });
    }
    if slope >= V::Scalar::zero() {
        return Err(OptError::NotDescentDirection {
            slope: slope.to_f64_lossless(),
        });
    }
    if !(initial_step.is_finite() && initial_step > V::Scalar::zero()) {
        return Err(OptError::invalid(
            "initial_step",
            initial_step,
            "must be finite and positive",
        ));
    }
    if !value.is_finite() || !slope.is_finite() {
        return Err(OptError::NonFinite {
            what: "objective or slope at the line-search start",
            iteration: 0,
        });
    }
    Ok(slope)
}

/// `x_new = x + step * direction`.
#[inline]
pub(crate) fn move_to<V: VectorSpace>(x_new: &mut V, x: &V, step: V::Scalar, direction: &V) {
    x_new.assign(x);
    x_new.axpy(step, direction);
}

/// Validate a hyperparameter stored as `f64` that must lie in the open
/// interval `(lo, hi)`.
pub(crate) fn check_open(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    reason: &'static str,
) -> Result<()> {
    if value > lo && value < hi {
        Ok(())
    } else {
        Err(OptError::invalid(name, value, reason))
    }
}

#[cfg(test)]
pub(crate) mod test_functions {
    //! Small objectives over `ndarray::Array1` shared by the line-search tests.

    use std::cell::Cell;

    use ndarray::{Array1, Array2};

    use super::{LineSearch, LineSearchOutcome};
    use crate::error::{OptError, Result};
    use crate::problem::Objective;
    use crate::scalar::Scalar;
    use crate::vector::VectorSpace;

    /// Calls made, to check [`LineSearchOutcome::evaluations`].
    #[derive(Debug, Default)]
    pub struct Calls(Cell<usize>);

    impl Calls {
        pub fn bump(&self) {
            self.0.set(self.0.get() + 1);
        }
        pub fn get(&self) -> usize {
            self.0.get()
        }
    }

    /// `f(x) = 1/2 x^T A x - b^T x` with an analytic Hessian-vector product.
    #[derive(Debug)]
    pub struct Quadratic<T> {
        pub a: Array2<T>,
        pub b: Array1<T>,
        pub calls: Calls,
    }

    impl<T: Scalar> Quadratic<T> {
        /// A fixed, well-conditioned SPD matrix in 3-D.
        pub fn spd3() -> Self {
            let a = ndarray::array![[4.0, 1.0, 0.5], [1.0, 3.0, -0.5], [0.5, -0.5, 2.0]];
            let b = ndarray::array![1.0, -2.0, 0.5];
            Self {
                a: a.mapv(T::of),
                b: b.mapv(T::of),
                calls: Calls::default(),
            }
        }
    }

    impl<T: Scalar> Objective for Quadratic<T> {
        type Vector = Array1<T>;
        fn dim(&self) -> usize {
            self.b.len()
        }
        fn value(&self, x: &Array1<T>) -> Result<T> {
            self.calls.bump();
            Ok(T::of(0.5) * x.dot(&self.a.dot(x)) - self.b.dot(x))
        }
        fn value_and_grad(&self, x: &Array1<T>, grad: &mut Array1<T>) -> Result<T> {
            self.calls.bump();
            let ax = self.a.dot(x);
            grad.assign(&(&ax - &self.b));
            Ok(T::of(0.5) * x.dot(&ax) - self.b.dot(x))
        }
        fn hvp(&self, _x: &Array1<T>, v: &Array1<T>, out: &mut Array1<T>) -> Result<()> {
            self.calls.bump();
            out.assign(&self.a.dot(v));
            Ok(())
        }
    }

    /// Rosenbrock's function in 2-D, `100 (y - x^2)^2 + (1 - x)^2`.
    #[derive(Debug, Default)]
    pub struct Rosenbrock {
        pub calls: Calls,
    }

    impl Objective for Rosenbrock {
        type Vector = Array1<f64>;
        fn dim(&self) -> usize {
            2
        }
        fn value(&self, x: &Array1<f64>) -> Result<f64> {
            self.calls.bump();
            Ok(100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2))
        }
        fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
            self.calls.bump();
            let r = x[1] - x[0] * x[0];
            grad[0] = -400.0 * x[0] * r - 2.0 * (1.0 - x[0]);
            grad[1] = 200.0 * r;
            Ok(100.0 * r * r + (1.0 - x[0]).powi(2))
        }
    }

    /// A nonconvex separable function, `sum_i x_i^4/4 - x_i^2 + 0.3 x_i`,
    /// with two local minima per coordinate.
    #[derive(Debug, Default)]
    pub struct DoubleWell<T> {
        pub n: usize,
        pub calls: Calls,
        scalar: std::marker::PhantomData<T>,
    }

    impl<T> DoubleWell<T> {
        pub fn new(n: usize) -> Self {
            Self {
                n,
                calls: Calls::default(),
                scalar: std::marker::PhantomData,
            }
        }
    }

    impl<T: Scalar> Objective for DoubleWell<T> {
        type Vector = Array1<T>;
        fn dim(&self) -> usize {
            self.n
        }
        fn value(&self, x: &Array1<T>) -> Result<T> {
            self.calls.bump();
            Ok(x.iter().map(|&v| double_well(v).0).sum())
        }
        fn value_and_grad(&self, x: &Array1<T>, grad: &mut Array1<T>) -> Result<T> {
            self.calls.bump();
            let mut f = T::zero();
            for (g, &v) in grad.iter_mut().zip(x) {
                let (fv, gv) = double_well(v);
                f += fv;
                *g = gv;
            }
            Ok(f)
        }
    }

    fn double_well<T: Scalar>(v: T) -> (T, T) {
        let (quarter, two, c) = (T::of(0.25), T::of(2.0), T::of(0.3));
        let v2 = v * v;
        (quarter * v2 * v2 - v2 + c * v, v2 * v - two * v + c)
    }

    /// The 1-D test functions of Moré & Thuente (1994), section 6, as
    /// objectives of one variable (`x = [a]`).
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum MtFunction {
        /// `phi(a) = -a / (a^2 + beta)`, `beta = 2`.
        One,
        /// `phi(a) = (a + beta)^5 - 2 (a + beta)^4`, `beta = 0.004`.
        Two,
        /// `phi0(a) + 2 (1 - beta) / (l pi) sin(l pi a / 2)`, `beta = 0.01`, `l = 39`.
        Three,
        /// `gamma(b1) sqrt((1 - a)^2 + b2^2) + gamma(b2) sqrt(a^2 + b1^2)`,
        /// `gamma(b) = sqrt(1 + b^2) - b`, with `(b1, b2)`.
        Yanai(f64, f64),
    }

    impl MtFunction {
        pub fn eval(self, a: f64) -> (f64, f64) {
            match self {
                MtFunction::One => {
                    let beta = 2.0;
                    let den = a * a + beta;
                    (-a / den, (a * a - beta) / (den * den))
                }
                MtFunction::Two => {
                    let t = a + 0.004;
                    (t.powi(5) - 2.0 * t.powi(4), t.powi(3) * (5.0 * t - 8.0))
                }
                MtFunction::Three => {
                    let (beta, l) = (0.01, 39.0);
                    let (phi0, dphi0) = if a <= 1.0 - beta {
                        (1.0 - a, -1.0)
                    } else if a >= 1.0 + beta {
                        (a - 1.0, 1.0)
                    } else {
                        (
                            (a - 1.0).powi(2) / (2.0 * beta) + beta / 2.0,
                            (a - 1.0) / beta,
                        )
                    };
                    let w = l * std::f64::consts::PI / 2.0;
                    (
                        phi0 + 2.0 * (1.0 - beta) / (l * std::f64::consts::PI) * (w * a).sin(),
                        dphi0 + (1.0 - beta) * (w * a).cos(),
                    )
                }
                MtFunction::Yanai(b1, b2) => {
                    let gamma = |b: f64| (1.0 + b * b).sqrt() - b;
                    let s1 = ((1.0 - a).powi(2) + b2 * b2).sqrt();
                    let s2 = (a * a + b1 * b1).sqrt();
                    (
                        gamma(b1) * s1 + gamma(b2) * s2,
                        gamma(b1) * (a - 1.0) / s1 + gamma(b2) * a / s2,
                    )
                }
            }
        }
    }

    /// A 1-D function seen as an objective on `Array1` of length 1.
    #[derive(Debug)]
    pub struct OneDim {
        pub function: MtFunction,
        pub calls: Calls,
    }

    impl OneDim {
        pub fn new(function: MtFunction) -> Self {
            Self {
                function,
                calls: Calls::default(),
            }
        }
    }

    impl Objective for OneDim {
        type Vector = Array1<f64>;
        fn dim(&self) -> usize {
            1
        }
        fn value(&self, x: &Array1<f64>) -> Result<f64> {
            self.calls.bump();
            Ok(self.function.eval(x[0]).0)
        }
        fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
            self.calls.bump();
            let (f, g) = self.function.eval(x[0]);
            grad[0] = g;
            Ok(f)
        }
    }

    /// A function that is NaN beyond `x_0 > 1` (e.g. a log barrier) and a
    /// quadratic `(x_0 - 0.9)^2` below.
    #[derive(Debug, Default)]
    pub struct NanBeyondOne {
        pub calls: Calls,
    }

    impl Objective for NanBeyondOne {
        type Vector = Array1<f64>;
        fn dim(&self) -> usize {
            1
        }
        fn value(&self, x: &Array1<f64>) -> Result<f64> {
            self.calls.bump();
            Ok(if x[0] > 1.0 {
                f64::NAN
            } else {
                (x[0] - 0.9).powi(2)
            })
        }
        fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
            let f = self.value(x)?;
            grad[0] = if x[0] > 1.0 {
                f64::NAN
            } else {
                2.0 * (x[0] - 0.9)
            };
            Ok(f)
        }
    }

    /// Everything a caller relies on after a successful search: `x_new`,
    /// `grad_new` and `value` agree with the returned step.
    pub fn assert_consistent<T: Scalar, P: Objective<Vector = Array1<T>> + ?Sized>(
        problem: &P,
        x: &Array1<T>,
        direction: &Array1<T>,
        outcome: &LineSearchOutcome<T>,
        x_new: &Array1<T>,
        grad_new: &Array1<T>,
    ) {
        let mut expected = x.clone();
        expected.axpy(outcome.step, direction);
        assert_eq!(x_new, &expected, "x_new != x + step d");
        let mut grad = x.zeros_like();
        let value = problem.value_and_grad(x_new, &mut grad).unwrap();
        assert_eq!(outcome.value, value, "value != f(x_new)");
        assert_eq!(grad_new, &grad, "grad_new != grad f(x_new)");
    }

    /// What [`run`] returns: the outcome, the direction, `x_new` and `grad_new`.
    pub type Run<T> = (LineSearchOutcome<T>, Array1<T>, Array1<T>, Array1<T>);

    /// Run `search` from `x` along `-grad f(x)` (or `direction`, when given).
    pub fn run<T: Scalar, P, S>(
        search: &mut S,
        problem: &P,
        x: &Array1<T>,
        direction: Option<&Array1<T>>,
        initial_step: T,
    ) -> Result<Run<T>>
    where
        P: Objective<Vector = Array1<T>> + ?Sized,
        S: LineSearch<Array1<T>>,
    {
        let mut grad = x.zeros_like();
        let value = problem.value_and_grad(x, &mut grad)?;
        let direction = direction.cloned().unwrap_or_else(|| grad.mapv(|g| -g));
        let mut x_new = x.zeros_like();
        let mut grad_new = x.zeros_like();
        let outcome = search.search(
            problem,
            x,
            value,
            &grad,
            &direction,
            initial_step,
            &mut x_new,
            &mut grad_new,
        )?;
        Ok((outcome, direction, x_new, grad_new))
    }

    /// Every search must refuse an ascent direction before evaluating.
    pub fn assert_refuses_ascent<S: LineSearch<Array1<f64>>>(search: &mut S) {
        let problem = Quadratic::<f64>::spd3();
        let x = ndarray::array![1.0, 1.0, 1.0];
        let mut grad = x.zeros_like();
        let value = problem.value_and_grad(&x, &mut grad).unwrap();
        let before = problem.calls.get();
        let (mut x_new, mut grad_new) = (x.zeros_like(), x.zeros_like());
        for direction in [grad.clone(), grad.zeros_like()] {
            let err = search
                .search(
                    &problem,
                    &x,
                    value,
                    &grad,
                    &direction,
                    1.0,
                    &mut x_new,
                    &mut grad_new,
                )
                .unwrap_err();
            match err {
                OptError::NotDescentDirection { slope } => assert!(slope >= 0.0),
                other => panic!("expected NotDescentDirection, got {other:?}"),
            }
        }
        let descent = grad.mapv(|g| -g);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = search
                .search(
                    &problem,
                    &x,
                    value,
                    &grad,
                    &descent,
                    bad,
                    &mut x_new,
                    &mut grad_new,
                )
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    OptError::InvalidHyperparameter {
                        name: "initial_step",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        assert_eq!(problem.calls.get(), before, "evaluated before refusing");
    }

    /// `x` for a 1-D objective.
    pub fn at(a: f64) -> Array1<f64> {
        ndarray::array![a]
    }
}
