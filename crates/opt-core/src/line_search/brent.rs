//! One-dimensional minimization without derivatives, for the "optimal
//! learning rate" `argmin_{a >= 0} f(x + a d)`.
//!
//! - [`bracket_minimum`]: from `a` towards `b`, find three points
//!   `a, b, c` with `b` between the others and `phi(b)` below `phi(a)` and
//!   not above `phi(c)`, by golden-ratio expansion (`c = b + 1.618 (b - a)`
//!   while `phi` keeps decreasing) or, when `phi(b) >= phi(a)`, golden-ratio
//!   contraction towards `a` (the role of `mnbrak` in *Numerical Recipes*).
//! - [`brent_minimize`]: Brent's method (Brent 1973, *Algorithms for
//!   Minimization without Derivatives*, ch. 5): parabolic interpolation
//!   through the three best points, falling back on a golden-section step
//!   whenever the parabola's step is not at most half the step before last,
//!   or leaves the interval.
//! - [`BrentLineSearch`]: both, on `phi(a) = f(x + a d)` over `a >= 0`,
//!   starting from the bracket `[0, initial_step]`, then one gradient at the
//!   minimizer.
//!
//! A NaN or infinite `phi` is treated as `+inf` (a step that is too long).

use num_traits::{Float, Zero};
use serde::{Deserialize, Serialize};

use super::{LineSearch, LineSearchOutcome, check_start, move_to};
use crate::error::{OptError, Result};
use crate::problem::Objective;
use crate::scalar::Scalar;
use crate::vector::VectorSpace;

/// The golden ratio `(1 + sqrt 5) / 2`: the expansion factor.
const GOLDEN: f64 = 1.618_033_988_749_895;
/// `(3 - sqrt 5) / 2 = 1 / GOLDEN^2`: the golden-section fraction.
const GOLDEN_SECTION: f64 = 0.381_966_011_250_105_1;

/// Three points enclosing a minimum of a 1-D function: `b` lies strictly
/// between `a` and `c` (in either order), `fb <= fa` and `fb <= fc`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bracket<T> {
    pub a: T,
    pub b: T,
    pub c: T,
    pub fa: T,
    pub fb: T,
    pub fc: T,
    /// Evaluations spent finding the bracket.
    pub evaluations: usize,
}

impl<T: Scalar> Bracket<T> {
    /// `Ok` when the invariant holds.
    pub fn validate(&self) -> Result<()> {
        let between = (self.a < self.b && self.b < self.c) || (self.c < self.b && self.b < self.a);
        if between
            && self.fb <= self.fa
            && self.fb <= self.fc
            && self.a.is_finite()
            && self.c.is_finite()
        {
            Ok(())
        } else {
            Err(OptError::invalid(
                "bracket",
                format!(
                    "(a, b, c) = ({}, {}, {}) with values ({}, {}, {})",
                    self.a, self.b, self.c, self.fa, self.fb, self.fc
                ),
                "b must lie strictly between finite a and c with the lowest value",
            ))
        }
    }
}

/// `phi` with NaN and infinities read as `+inf`.
fn sanitized<T: Float>(value: T) -> T {
    if value.is_finite() {
        value
    } else {
        T::infinity()
    }
}

/// Bracket a minimum of `phi`, going downhill from `a` towards `b`, with at
/// most `max_evaluations` evaluations (at least 2).
///
/// Errors with [`OptError::LineSearch`] when no bracket is found within the
/// budget (e.g. `phi` decreasing without bound, or constant), and with an
/// invalid hyperparameter when `a`, `b` are not finite and distinct.
pub fn bracket_minimum<T: Scalar, F: FnMut(T) -> Result<T>>(
    mut phi: F,
    a: T,
    b: T,
    max_evaluations: usize,
) -> Result<Bracket<T>> {
    if !(a.is_finite() && b.is_finite() && a != b) {
        return Err(OptError::invalid(
            "bracket start",
            format!("({a}, {b})"),
            "must be two distinct finite points",
        ));
    }
    if max_evaluations < 2 {
        return Err(OptError::invalid(
            "max_evaluations",
            max_evaluations,
            "must be at least 2",
        ));
    }
    let fa = sanitized(phi(a)?);
    let mut bracket = bracket_from(phi, a, fa, b, max_evaluations - 1)?;
    bracket.evaluations += 1;
    Ok(bracket)
}

/// [`bracket_minimum`] with `phi(a) = fa` already known; `max_evaluations`
/// counts only new evaluations.
pub(crate) fn bracket_from<T: Scalar, F: FnMut(T) -> Result<T>>(
    mut phi: F,
    a: T,
    fa: T,
    b: T,
    max_evaluations: usize,
) -> Result<Bracket<T>> {
    let out_of_budget = OptError::LineSearch {
        reason: "could not bracket a minimum within max_evaluations",
    };
    if !fa.is_finite() {
        return Err(OptError::NonFinite {
            what: "function value at the start of the bracket",
            iteration: 0,
        });
    }
    if max_evaluations == 0 {
        return Err(out_of_budget);
    }
    let mut evaluations = 1;
    let fb = sanitized(phi(b)?);
    if fb < fa {
        // Downhill: step out by the golden ratio until phi rises again.
        let (mut a, mut fa, mut b, mut fb) = (a, fa, b, fb);
        loop {
            if evaluations == max_evaluations {
                return Err(out_of_budget);
            }
            let c = b + T::of(GOLDEN) * (b - a);
            if !c.is_finite() {
                return Err(OptError::LineSearch {
                    reason: "bracketing expanded past the largest finite number",
                });
            }
            let fc = sanitized(phi(c)?);
            evaluations += 1;
            if fc >= fb {
                return Ok(Bracket {
                    a,
                    b,
                    c,
                    fa,
                    fb,
                    fc,
                    evaluations,
                });
            }
            (a, fa, b, fb) = (b, fb, c, fc);
        }
    } else {
        // Uphill (or flat) already at b: the minimum is between a and b;
        // contract towards a by the golden section until below phi(a).
        let (mut c, mut fc) = (b, fb);
        loop {
            if evaluations == max_evaluations {
                return Err(out_of_budget);
            }
            let m = a + T::of(GOLDEN_SECTION) * (c - a);
            if m == a {
                return Err(OptError::LineSearch {
                    reason: "no decrease found between the bracket's first two points",
                });
            }
            let fm = sanitized(phi(m)?);
            evaluations += 1;
            if fm < fa {
                return Ok(Bracket {
                    a,
                    b: m,
                    c,
                    fa,
                    fb: fm,
                    fc,
                    evaluations,
                });
            }
            (c, fc) = (m, fm);
        }
    }
}

/// `+magnitude` or `-magnitude` with the sign of `sign` (`+` for zero).
fn with_sign<T: Float>(magnitude: T, sign: T) -> T {
    if sign >= T::zero() {
        magnitude
    } else {
        -magnitude
    }
}

/// Minimize `phi` inside `bracket` by Brent's method; returns the minimizer,
/// `phi` there, and the number of new evaluations (at most
/// `max_iterations`, one per iteration).
///
/// It stops when the minimizer is located to within `tol * |x| + 1e-3 eps`
/// on either side (`eps` the machine epsilon of `T`). A minimum can only be
/// located to about `sqrt(eps)` relative precision, so `tol` below that is
/// raised to it. Errors: an invalid bracket or `tol`, and
/// [`OptError::LineSearch`] when `max_iterations` run out.
pub fn brent_minimize<T: Scalar, F: FnMut(T) -> Result<T>>(
    mut phi: F,
    bracket: Bracket<T>,
    tol: T,
    max_iterations: usize,
) -> Result<(T, T, usize)> {
    bracket.validate()?;
    if !(tol > T::zero() && tol.is_finite()) {
        return Err(OptError::invalid("tol", tol, "must be finite and positive"));
    }
    let half = T::of(0.5);
    let two = T::of(2.0);
    let relative = tol.max(T::epsilon().sqrt());
    let absolute = T::epsilon() * T::of(1e-3);

    let (mut lo, mut hi) = (bracket.a.min(bracket.c), bracket.a.max(bracket.c));
    // x: best point; w: second best; v: the previous w.
    let (mut x, mut fx) = (bracket.b, bracket.fb);
    let (mut w, mut fw) = (x, fx);
    let (mut v, mut fv) = (x, fx);
    // The last step and the one before it.
    let mut step = T::zero();
    let mut step_before = T::zero();

    for evaluations in 0..=max_iterations {
        let mid = half * (lo + hi);
        let tol1 = relative * x.abs() + absolute;
        let tol2 = two * tol1;
        if (x - mid).abs() <= tol2 - half * (hi - lo) {
            return Ok((x, fx, evaluations));
        }
        if evaluations == max_iterations {
            break;
        }

        let mut parabolic = false;
        if step_before.abs() > tol1 {
            // Minimizer of the parabola through (x, fx), (w, fw), (v, fv),
            // as x + p / q.
            let r = (x - w) * (fx - fv);
            let mut q = (x - v) * (fx - fw);
            let mut p = (x - v) * q - (x - w) * r;
            q = two * (q - r);
            if q > T::zero() {
                p = -p;
            } else {
                q = -q;
            }
            // Accept only a step shorter than half the step before last that
            // stays inside the interval (false for NaN from infinite values).
            if p.abs() < (half * q * step_before).abs() && p > q * (lo - x) && p < q * (hi - x) {
                step_before = step;
                step = p / q;
                let u = x + step;
                if u - lo < tol2 || hi - u < tol2 {
                    step = with_sign(tol1, mid - x);
                }
                parabolic = true;
            }
        }
        if !parabolic {
            step_before = if x >= mid { lo - x } else { hi - x };
            step = T::of(GOLDEN_SECTION) * step_before;
        }

        // Never evaluate closer than tol1 to x.
        let u = if step.abs() >= tol1 {
            x + step
        } else {
            x + with_sign(tol1, step)
        };
        let fu = sanitized(phi(u)?);

        if fu <= fx {
            if u >= x {
                lo = x;
            } else {
                hi = x;
            }
            (v, fv, w, fw, x, fx) = (w, fw, x, fx, u, fu);
        } else {
            if u < x {
                lo = u;
            } else {
                hi = u;
            }
            if fu <= fw || w == x {
                (v, fv, w, fw) = (w, fw, u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        }
    }
    Err(OptError::LineSearch {
        reason: "Brent's method reached max_iterations",
    })
}

/// Minimize `phi(a) = f(x + a d)` over `a >= 0` by [`bracket_minimum`] from
/// `[0, initial_step]` and [`brent_minimize`], then evaluate the gradient at
/// the minimizer. The minimizer found is a local one, below `f(x)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BrentLineSearch {
    /// Relative tolerance on the step (see [`brent_minimize`]); default
    /// `1e-8`, about the square root of `f64`'s machine epsilon.
    pub tol: f64,
    /// Most objective evaluations per search (bracketing, Brent and the
    /// final gradient), at least 3; default 100.
    pub max_evaluations: usize,
}

impl Default for BrentLineSearch {
    fn default() -> Self {
        Self {
            tol: 1e-8,
            max_evaluations: 100,
        }
    }
}

impl BrentLineSearch {
    /// A search with the given tolerance and evaluation budget.
    pub fn new(tol: f64, max_evaluations: usize) -> Result<Self> {
        let search = Self {
            tol,
            max_evaluations,
        };
        search.validate()?;
        Ok(search)
    }

    /// Check every field (done again at the start of each search, since the
    /// fields are public).
    pub fn validate(&self) -> Result<()> {
        if !(self.tol > 0.0 && self.tol < 1.0) {
            return Err(OptError::invalid("tol", self.tol, "must lie in (0, 1)"));
        }
        if self.max_evaluations < 3 {
            return Err(OptError::invalid(
                "max_evaluations",
                self.max_evaluations,
                "must be at least 3",
            ));
        }
        Ok(())
    }
}

impl<V: VectorSpace> LineSearch<V> for BrentLineSearch {
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
    ) -> Result<LineSearchOutcome<V::Scalar>> {
        self.validate()?;
        check_start(x, value, grad, direction, initial_step, x_new, grad_new)?;
        let zero = V::Scalar::zero();
        // Keep one evaluation for the gradient at the minimizer.
        let budget = self.max_evaluations - 1;
        let mut evaluations = 0;
        let (step, _) = {
            let mut phi = |a: V::Scalar| {
                evaluations += 1;
                move_to(x_new, x, a, direction);
                problem.value(x_new)
            };
            let bracket = bracket_from(&mut phi, zero, value, initial_step, budget)?;
            let left = budget - bracket.evaluations;
            let (step, phi_step, _) =
                brent_minimize(&mut phi, bracket, <V::Scalar as Scalar>::of(self.tol), left)?;
            (step, phi_step)
        };
        move_to(x_new, x, step, direction);
        let value = problem.value_and_grad(x_new, grad_new)?;
        Ok(LineSearchOutcome {
            step,
            value,
            evaluations: evaluations + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, array};

    use super::*;
    use crate::line_search::test_functions::*;

    fn minimize(phi: impl Fn(f64) -> f64, a: f64, b: f64) -> (f64, f64, usize) {
        let bracket = bracket_minimum(|t| Ok(phi(t)), a, b, 200).unwrap();
        bracket.validate().unwrap();
        let (x, fx, n) = brent_minimize(|t| Ok(phi(t)), bracket, 1e-10, 200).unwrap();
        assert_eq!(fx, phi(x));
        (x, fx, n + bracket.evaluations)
    }

    #[test]
    fn brent_finds_known_minima() {
        let cases: [(&dyn Fn(f64) -> f64, f64); 5] = [
            (&|a| (a - 2.0).powi(2) + 1.0, 2.0),
            (&|a| a.exp() - 2.0 * a, std::f64::consts::LN_2),
            (&|a| -a / (a * a + 2.0), std::f64::consts::SQRT_2),
            (&|a| a.powi(4) / 4.0 - a, 1.0),
            // Flat near the minimum: located to the square root of its value
            // precision only.
            (&|a| (a - 0.3).powi(4), 0.3),
        ];
        for (i, (phi, argmin)) in cases.into_iter().enumerate() {
            for (a, b) in [(0.0, 1e-3), (0.0, 1.0), (0.0, 1e3), (0.1, 0.2)] {
                let (x, _, n) = minimize(phi, a, b);
                let tol = if i == 4 { 1e-3 } else { 1e-7 };
                assert!(
                    (x - argmin).abs() <= tol * argmin,
                    "case {i} from ({a}, {b}): {x} vs {argmin}"
                );
                assert!(n < 120, "case {i} from ({a}, {b}): {n} evaluations");
            }
        }
    }

    #[test]
    fn parabolic_steps_make_brent_fast_on_a_parabola() {
        let phi = |a: f64| (a - 2.0).powi(2) + 1.0;
        let bracket = bracket_minimum(|t| Ok(phi(t)), 0.0, 1.0, 50).unwrap();
        let (x, _, n) = brent_minimize(|t| Ok(phi(t)), bracket, 1e-8, 50).unwrap();
        assert!((x - 2.0).abs() < 1e-7);
        assert!(n <= 8, "{n} iterations on a parabola");
    }

    #[test]
    fn brackets_hold_their_invariant_in_both_directions() {
        let phi = |t: f64| (t + 3.0).powi(2);
        let b = bracket_minimum(|t| Ok(phi(t)), 0.0, -0.5, 100).unwrap();
        b.validate().unwrap();
        assert!(b.c < -3.0 && b.a > -3.0, "{b:?}");
        let b = bracket_minimum(|t| Ok(phi(t)), 0.0, -100.0, 100).unwrap();
        b.validate().unwrap();
        let (x, ..) = brent_minimize(|t| Ok(phi(t)), b, 1e-10, 100).unwrap();
        assert!((x + 3.0).abs() < 1e-7);
    }

    #[test]
    fn non_finite_values_are_too_long() {
        let phi = |a: f64| if a > 3.0 { f64::NAN } else { (a - 2.5).powi(2) };
        let (x, ..) = minimize(phi, 0.0, 1.0);
        assert!((x - 2.5).abs() < 1e-7, "{x}");
        let (x, ..) = minimize(phi, 0.0, 100.0);
        assert!((x - 2.5).abs() < 1e-7, "{x}");
    }

    #[test]
    fn failures_are_errors() {
        // Unbounded below: no bracket.
        let err = bracket_minimum(|t: f64| Ok(-t), 0.0, 1.0, 30).unwrap_err();
        assert!(matches!(err, OptError::LineSearch { .. }), "{err:?}");
        // Constant: no decrease.
        let err = bracket_minimum(|_: f64| Ok(1.0), 0.0, 1.0, 30).unwrap_err();
        assert!(matches!(err, OptError::LineSearch { .. }), "{err:?}");
        // Bad arguments.
        for (a, b, n) in [(0.0, 0.0, 10), (0.0, f64::NAN, 10), (0.0, 1.0, 1)] {
            let err = bracket_minimum(|t: f64| Ok(t * t), a, b, n).unwrap_err();
            assert!(
                matches!(err, OptError::InvalidHyperparameter { .. }),
                "{err:?}"
            );
        }
        let good = bracket_minimum(|t: f64| Ok((t - 2.0).powi(2)), 0.0, 1.0, 30).unwrap();
        let bad = Bracket {
            fb: good.fa + 1.0,
            ..good
        };
        let err = brent_minimize(|t: f64| Ok((t - 2.0).powi(2)), bad, 1e-8, 50).unwrap_err();
        assert!(
            matches!(err, OptError::InvalidHyperparameter { .. }),
            "{err:?}"
        );
        let err = brent_minimize(|t: f64| Ok((t - 2.0).powi(2)), good, -1.0, 50).unwrap_err();
        assert!(
            matches!(err, OptError::InvalidHyperparameter { .. }),
            "{err:?}"
        );
        let err = brent_minimize(|t: f64| Ok(t.exp() - 2.0 * t), good, 1e-8, 2).unwrap_err();
        assert!(matches!(err, OptError::LineSearch { .. }), "{err:?}");
        // The function's own error is passed on.
        let err = brent_minimize(|_: f64| Err(OptError::Unsupported("test")), good, 1e-8, 50)
            .unwrap_err();
        assert!(matches!(err, OptError::Unsupported("test")), "{err:?}");
    }

    #[test]
    fn the_line_search_finds_the_exact_step_on_a_quadratic() {
        let q = Quadratic::<f64>::spd3();
        let x = array![1.0, -1.0, 2.0];
        let mut g = x.zeros_like();
        q.value_and_grad(&x, &mut g).unwrap();
        let d = -&g;
        let exact = -g.dot(&d) / d.dot(&q.a.dot(&d));
        for initial in [1e-3, 1.0, 1e3] {
            let before = q.calls.get();
            let (out, d, x_new, g_new) =
                run(&mut BrentLineSearch::default(), &q, &x, None, initial).unwrap();
            assert_eq!(out.evaluations, q.calls.get() - before - 1);
            assert!(
                (out.step - exact).abs() <= 1e-7 * exact,
                "{initial}: {} vs {exact}",
                out.step
            );
            assert!(g_new.dot(&d).abs() <= 1e-6 * g.dot(&g));
            assert_consistent(&q, &x, &d, &out, &x_new, &g_new);
        }
    }

    #[test]
    fn the_line_search_minimizes_along_nonquadratic_lines() {
        let mut search = BrentLineSearch::default();
        let r = Rosenbrock::default();
        let w = DoubleWell::<f64>::new(3);
        for initial in [1e-3, 1.0, 1e3] {
            for (problem, x) in [
                (
                    &r as &dyn Objective<Vector = Array1<f64>>,
                    array![-1.2, 1.0],
                ),
                (&r, array![2.0, 3.0]),
                (&w, array![0.5, -0.3, 1.7]),
                (&w, array![3.0, -3.0, 0.0]),
            ] {
                let (out, d, x_new, g_new) = run(&mut search, problem, &x, None, initial).unwrap();
                let mut g = x.zeros_like();
                let f0 = problem.value_and_grad(&x, &mut g).unwrap();
                assert!(out.value < f0);
                // A minimizer along the line: the slope there vanishes.
                assert!(
                    g_new.dot(&d).abs() <= 1e-5 * g.dot(&g),
                    "{initial} from {x}: slope {} at {out:?}",
                    g_new.dot(&d)
                );
                assert_consistent(problem, &x, &d, &out, &x_new, &g_new);
            }
        }
        // The first of the paper's functions: argmin sqrt(2).
        let (out, ..) = run(
            &mut search,
            &OneDim::new(MtFunction::One),
            &at(0.0),
            Some(&at(1.0)),
            1e-3,
        )
        .unwrap();
        assert!(
            (out.step - std::f64::consts::SQRT_2).abs() < 1e-7,
            "{out:?}"
        );
    }

    #[test]
    fn the_line_search_reports_an_exhausted_budget() {
        let q = Quadratic::<f64>::spd3();
        let x = array![1.0, -1.0, 2.0];
        // Bracketing from 1e-6 needs many expansions; Brent needs more.
        for max_evaluations in [3, 10, 20] {
            let mut search = BrentLineSearch::new(1e-8, max_evaluations).unwrap();
            let before = q.calls.get();
            let err = run(&mut search, &q, &x, None, 1e-6).unwrap_err();
            assert!(matches!(err, OptError::LineSearch { .. }), "{err:?}");
            assert!(q.calls.get() - before - 1 <= max_evaluations);
        }
    }

    #[test]
    fn works_in_f32() {
        let q = Quadratic::<f32>::spd3();
        let x: Array1<f32> = array![1.0, -1.0, 2.0];
        let mut g = x.zeros_like();
        q.value_and_grad(&x, &mut g).unwrap();
        let d = -&g;
        let exact = -g.dot(&d) / d.dot(&q.a.dot(&d));
        for initial in [1e-3f32, 1.0, 1e3] {
            let (out, d, x_new, g_new) =
                run(&mut BrentLineSearch::default(), &q, &x, None, initial).unwrap();
            assert!(
                (out.step - exact).abs() <= 1e-3 * exact,
                "{} vs {exact}",
                out.step
            );
            assert_consistent(&q, &x, &d, &out, &x_new, &g_new);
        }
    }

    #[test]
    fn refuses_ascent_directions_and_bad_steps() {
        assert_refuses_ascent(&mut BrentLineSearch::default());
    }

    #[test]
    fn invalid_hyperparameters_are_errors() {
        for (tol, n) in [
            (0.0, 100),
            (-1.0, 100),
            (f64::NAN, 100),
            (1.0, 100),
            (1e-8, 2),
        ] {
            assert!(matches!(
                BrentLineSearch::new(tol, n),
                Err(OptError::InvalidHyperparameter { .. })
            ));
        }
        let err = run(
            &mut BrentLineSearch {
                tol: -1.0,
                ..Default::default()
            },
            &Quadratic::<f64>::spd3(),
            &array![1.0, 1.0, 1.0],
            None,
            1.0,
        )
        .unwrap_err();
        assert!(
            matches!(err, OptError::InvalidHyperparameter { .. }),
            "{err:?}"
        );
    }
}
