//! Strong Wolfe line search of Moré & Thuente (1994), "Line search
//! algorithms with guaranteed sufficient decrease", *ACM Transactions on
//! Mathematical Software* 20(3), 286–307: the method of MINPACK-2's
//! `dcsrch`/`dcstep`, written anew from the paper.
//!
//! With `phi(a) = f(x + a d)` the search returns a step satisfying the strong
//! Wolfe conditions
//!
//! ```text
//! phi(a) <= phi(0) + c1 a phi'(0)          (sufficient decrease)
//! |phi'(a)| <= c2 |phi'(0)|                 (curvature)
//! ```
//!
//! It keeps an interval of uncertainty with endpoints `a_l` (the best step so
//! far) and `a_u`, and chooses each trial from cubic and quadratic
//! interpolants of the values and derivatives at `a_l`, `a_u` and the latest
//! trial (the four cases of section 4), safeguarded so that the steps stay in
//! the interval; while no minimizer is bracketed it extrapolates to
//! `[a + 1.1 (a - a_l), a + 4 (a - a_l)]`, and once bracketed it bisects
//! whenever two trials have not shrunk the interval by a factor `0.66`.
//! Until a trial has `psi(a) <= 0` and `phi'(a) >= 0` (the first stage), the
//! interval is updated on the auxiliary function
//! `psi(a) = phi(a) - phi(0) - c1 a phi'(0)` whenever that differs from
//! updating on `phi`.
//!
//! Departures from `dcsrch`, which ends with a warning and its current step
//! when it cannot progress:
//!
//! - every such end is an [`OptError::LineSearch`] (the step would not satisfy
//!   the strong Wolfe conditions, and a quasi-Newton caller relies on them);
//!   the search also stops without evaluating again once rounding or `xtol`
//!   leaves no room for another trial, as a repeated evaluation at the best
//!   step could not succeed;
//! - a trial whose value or slope is NaN or infinite counts as too long: it is
//!   not used for interpolation, steps at or beyond it are excluded from then
//!   on, and the next trial is the midpoint between the best step and it;
//! - an `initial_step` outside `[step_min, step_max]` is clamped into it.

use num_traits::{Float, Zero};
use serde::{Deserialize, Serialize};

use super::{LineSearch, LineSearchOutcome, check_open, check_start, move_to};
use crate::error::{OptError, Result};
use crate::problem::Objective;
use crate::scalar::Scalar;
use crate::vector::VectorSpace;

/// Extrapolation factors for an unbracketed search: the next trial lies in
/// `[a + XTRAP_LOWER (a - a_l), a + XTRAP_UPPER (a - a_l)]`.
const XTRAP_LOWER: f64 = 1.1;
const XTRAP_UPPER: f64 = 4.0;
/// Bisect when two trials shrink the interval of uncertainty by less than this.
const SUFFICIENT_SHRINK: f64 = 0.66;

/// Strong Wolfe line search of Moré & Thuente (1994).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MoreThuente {
    /// Sufficient-decrease constant (`ftol`, `mu` in the paper); default `1e-4`.
    pub c1: f64,
    /// Curvature constant (`gtol`, `eta` in the paper); default `0.9`
    /// (quasi-Newton); `0.1` suits nonlinear conjugate gradients.
    pub c2: f64,
    /// Relative width of the interval of uncertainty below which the search
    /// gives up: it fails once `a_max - a_min <= xtol * a_max`. Default
    /// `1e-10`, small because here giving up is an error, not a warning with
    /// a usable step (MINPACK-2 suggests `0.1` for its warning exit).
    pub xtol: f64,
    /// Smallest step allowed, `>= 0`; default 0.
    pub step_min: f64,
    /// Largest step allowed, `> step_min`; default `1e20`. A search that
    /// reaches it with the function still decreasing fails (the objective is
    /// likely unbounded below along the direction).
    pub step_max: f64,
    /// Most objective evaluations per search, at least 1; default 40.
    pub max_evaluations: usize,
}

impl Default for MoreThuente {
    fn default() -> Self {
        Self {
            c1: 1e-4,
            c2: 0.9,
            xtol: 1e-10,
            step_min: 0.0,
            step_max: 1e20,
            max_evaluations: 40,
        }
    }
}

impl MoreThuente {
    /// A search with the given Wolfe constants and the default limits;
    /// requires `0 < c1 < c2 < 1`.
    pub fn new(c1: f64, c2: f64) -> Result<Self> {
        let search = Self {
            c1,
            c2,
            ..Self::default()
        };
        search.validate()?;
        Ok(search)
    }

    /// Check every field (done again at the start of each search, since the
    /// fields are public).
    pub fn validate(&self) -> Result<()> {
        check_open("c1", self.c1, 0.0, 1.0, "must lie in (0, 1)")?;
        check_open("c2", self.c2, self.c1, 1.0, "must lie in (c1, 1)")?;
        if !(self.xtol >= 0.0 && self.xtol < 1.0) {
            return Err(OptError::invalid("xtol", self.xtol, "must lie in [0, 1)"));
        }
        if !(self.step_min >= 0.0 && self.step_min.is_finite()) {
            return Err(OptError::invalid(
                "step_min",
                self.step_min,
                "must be finite and nonnegative",
            ));
        }
        if self.step_max.is_nan() || self.step_max <= self.step_min {
            return Err(OptError::invalid(
                "step_max",
                self.step_max,
                "must exceed step_min",
            ));
        }
        if self.max_evaluations == 0 {
            return Err(OptError::invalid(
                "max_evaluations",
                0,
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// A step with its value and slope (of `phi`, or of `psi` in the first stage).
#[derive(Debug, Clone, Copy)]
struct Point<T> {
    step: T,
    value: T,
    slope: T,
}

/// The role the latest trial takes in the interval of uncertainty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrialRole {
    /// Worse than the best point: the trial becomes the other endpoint.
    Other,
    /// The new best point; the other endpoint stays.
    Best,
    /// The new best point, with a slope of the opposite sign to the old
    /// best's: the old best point becomes the other endpoint.
    BestAcrossMinimizer,
}

/// `(theta, |gamma|)` of the cubic interpolating values and slopes at `p` and
/// `q`: its derivative's roots are `theta +- gamma` in the paper's scaling.
/// The square root's argument is clipped at zero, so that a cubic with no
/// real critical point falls back on the quadratic step rather than NaN.
fn cubic_terms<T: Scalar>(p: Point<T>, q: Point<T>) -> (T, T) {
    let three = T::of(3.0);
    let theta = three * (p.value - q.value) / (q.step - p.step) + p.slope + q.slope;
    let scale = theta.abs().max(p.slope.abs()).max(q.slope.abs());
    let discriminant = (theta / scale).powi(2) - (p.slope / scale) * (q.slope / scale);
    (theta, scale * discriminant.max(T::zero()).sqrt())
}

/// One safeguarded step (section 4 of the paper, MINPACK-2's `dcstep`):
/// given the best point `best`, the other endpoint `other` (meaningful once
/// `bracketed`), the latest `trial` and the bounds `[lo, hi]` for an
/// extrapolated step, return the next trial step, how the interval changes,
/// and whether a minimizer is now bracketed.
///
/// Requires `best.slope * (trial.step - best.step) < 0`, and `trial.step`
/// strictly inside the interval when `bracketed`.
fn next_trial<T: Scalar>(
    best: Point<T>,
    other: Point<T>,
    trial: Point<T>,
    bracketed: bool,
    lo: T,
    hi: T,
) -> (T, TrialRole, bool) {
    let half = T::of(0.5);
    let (a, t) = (best.step, trial.step);
    let slopes_differ = trial.slope * best.slope.signum() < T::zero();
    let (step, now_bracketed) = if trial.value > best.value {
        // Case 1: a higher value brackets a minimizer. Take the cubic step if
        // it is closer to the best point than the quadratic (values at both,
        // slope at the best point); otherwise their midpoint.
        let (theta, gamma) = cubic_terms(best, trial);
        let gamma = if t < a { -gamma } else { gamma };
        let p = (gamma - best.slope) + theta;
        let q = ((gamma - best.slope) + gamma) + trial.slope;
        let cubic = a + p / q * (t - a);
        let secant_slope = (best.value - trial.value) / (t - a);
        let quadratic = a + half * (best.slope / (secant_slope + best.slope)) * (t - a);
        let step = if (cubic - a).abs() < (quadratic - a).abs() {
            cubic
        } else {
            cubic + half * (quadratic - cubic)
        };
        (step, true)
    } else if slopes_differ {
        // Case 2: a lower value with a slope of opposite sign brackets a
        // minimizer. Take whichever of the cubic step and the secant step
        // (slopes at both) is farther from the trial.
        let (theta, gamma) = cubic_terms(best, trial);
        let gamma = if t > a { -gamma } else { gamma };
        let p = (gamma - trial.slope) + theta;
        let q = ((gamma - trial.slope) + gamma) + best.slope;
        let cubic = t + p / q * (a - t);
        let secant = t + trial.slope / (trial.slope - best.slope) * (a - t);
        let step = if (cubic - t).abs() > (secant - t).abs() {
            cubic
        } else {
            secant
        };
        (step, true)
    } else if trial.slope.abs() < best.slope.abs() {
        // Case 3: a lower value, same slope sign, smaller slope magnitude.
        // The cubic is used only if it tends to infinity in the direction of
        // the step or its minimizer lies beyond the trial; else the bound.
        let (theta, gamma) = cubic_terms(best, trial);
        let gamma = if t > a { -gamma } else { gamma };
        let p = (gamma - trial.slope) + theta;
        let q = (gamma + (best.slope - trial.slope)) + gamma;
        let r = p / q;
        let cubic = if r < T::zero() && gamma != T::zero() {
            t + r * (a - t)
        } else if t > a {
            hi
        } else {
            lo
        };
        let secant = t + trial.slope / (trial.slope - best.slope) * (a - t);
        let step = if bracketed {
            // The closer of the two, kept within 0.66 of the way to the
            // other endpoint.
            let closer = if (cubic - t).abs() < (secant - t).abs() {
                cubic
            } else {
                secant
            };
            let limit = t + T::of(SUFFICIENT_SHRINK) * (other.step - t);
            if t > a {
                closer.min(limit)
            } else {
                closer.max(limit)
            }
        } else {
            let farther = if (cubic - t).abs() > (secant - t).abs() {
                cubic
            } else {
                secant
            };
            farther.max(lo).min(hi)
        };
        (step, bracketed)
    } else {
        // Case 4: a lower value, same slope sign, slope not decreasing in
        // magnitude. Bracketed: the cubic through the trial and the other
        // endpoint; otherwise extrapolate to the bound.
        let step = if bracketed {
            let (theta, gamma) = cubic_terms(trial, other);
            let gamma = if t > other.step { -gamma } else { gamma };
            let p = (gamma - trial.slope) + theta;
            let q = ((gamma - trial.slope) + gamma) + other.slope;
            t + p / q * (other.step - t)
        } else if t > a {
            hi
        } else {
            lo
        };
        (step, bracketed)
    };
    let role = if trial.value > best.value {
        TrialRole::Other
    } else if slopes_differ {
        TrialRole::BestAcrossMinimizer
    } else {
        TrialRole::Best
    };
    (step, role, now_bracketed)
}

impl<V: VectorSpace> LineSearch<V> for MoreThuente {
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
        let slope0 = check_start(x, value, grad, direction, initial_step, x_new, grad_new)?;
        let of = <V::Scalar as Scalar>::of;
        let zero = V::Scalar::zero();
        let half = of(0.5);
        let (step_min, step_max) = (of(self.step_min), of(self.step_max));
        let xtol = of(self.xtol);
        // Slope of the sufficient-decrease line, and the curvature bound.
        let decrease_slope = of(self.c1) * slope0;
        let curvature_bound = of(self.c2) * -slope0;

        let mut step = initial_step.max(step_min).min(step_max);
        let start = Point {
            step: zero,
            value,
            slope: slope0,
        };
        let (mut best, mut other) = (start, start);
        let mut bracketed = false;
        let mut first_stage = true;
        // Widths of the interval of uncertainty one and two trials ago.
        let mut width = step_max - step_min;
        let mut width_before = width / half;
        // Bounds for the next trial.
        let mut lo = zero;
        let mut hi = step + of(XTRAP_UPPER) * step;
        // Steps at or beyond a non-finite trial are excluded.
        let mut finite_limit = step_max;

        for evaluations in 1..=self.max_evaluations {
            move_to(x_new, x, step, direction);
            let f = problem.value_and_grad(x_new, grad_new)?;
            let g = grad_new.dot(direction);

            if !(f.is_finite() && g.is_finite()) {
                if step > best.step {
                    finite_limit = finite_limit.min(step);
                }
                step = best.step + half * (step - best.step);
                if step == best.step {
                    return Err(OptError::LineSearch {
                        reason: "non-finite objective arbitrarily close to the best step",
                    });
                }
                continue;
            }

            let sufficient = value + step * decrease_slope;
            if first_stage && f <= sufficient && g >= zero {
                first_stage = false;
            }
            if f <= sufficient && g.abs() <= curvature_bound {
                return Ok(LineSearchOutcome {
                    step,
                    value: f,
                    evaluations,
                });
            }
            if step == step_max && f <= sufficient && g <= decrease_slope {
                return Err(OptError::LineSearch {
                    reason: "step reached step_max with the objective still decreasing",
                });
            }
            if step == step_min && (f > sufficient || g >= decrease_slope) {
                return Err(OptError::LineSearch {
                    reason: "step reached step_min without sufficient decrease",
                });
            }

            let trial = Point {
                step,
                value: f,
                slope: g,
            };
            // In the first stage, a trial that lowers phi but not enough is
            // judged on psi(a) = phi(a) - phi(0) - a c1 phi'(0) instead.
            let (next, role, now_bracketed) = if first_stage && f <= best.value && f > sufficient {
                let psi = |p: Point<V::Scalar>| Point {
                    step: p.step,
                    value: p.value - p.step * decrease_slope,
                    slope: p.slope - decrease_slope,
                };
                next_trial(psi(best), psi(other), psi(trial), bracketed, lo, hi)
            } else {
                next_trial(best, other, trial, bracketed, lo, hi)
            };
            match role {
                TrialRole::Other => other = trial,
                TrialRole::Best => best = trial,
                TrialRole::BestAcrossMinimizer => {
                    other = best;
                    best = trial;
                }
            }
            bracketed = now_bracketed;
            step = next;

            if bracketed {
                let new_width = (other.step - best.step).abs();
                if new_width >= of(SUFFICIENT_SHRINK) * width_before {
                    step = best.step + half * (other.step - best.step);
                }
                width_before = width;
                width = new_width;
                lo = best.step.min(other.step);
                hi = best.step.max(other.step);
            } else {
                lo = step + of(XTRAP_LOWER) * (step - best.step);
                hi = step + of(XTRAP_UPPER) * (step - best.step);
            }
            step = step.max(step_min).min(step_max);
            if step >= finite_limit {
                step = best.step + half * (finite_limit - best.step);
            }
            if bracketed && hi - lo <= xtol * hi {
                return Err(OptError::LineSearch {
                    reason: "interval of uncertainty shrank below xtol",
                });
            }
            if bracketed && (step <= lo || step >= hi) {
                return Err(OptError::LineSearch {
                    reason: "rounding errors prevent progress",
                });
            }
        }
        Err(OptError::LineSearch {
            reason: "strong Wolfe search reached max_evaluations",
        })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, array};

    use super::*;
    use crate::line_search::test_functions::*;

    /// Both strong Wolfe inequalities at the returned step, in `f64`.
    fn assert_strong_wolfe<P: Objective<Vector = Array1<f64>>>(
        problem: &P,
        x: &Array1<f64>,
        search: &MoreThuente,
        initial: f64,
    ) -> LineSearchOutcome<f64> {
        // 1-D functions are searched along d = 1, as in the paper.
        let unit = at(1.0);
        let direction = (x.len() == 1).then_some(&unit);
        let mut ls = *search;
        let (out, d, x_new, g_new) = run(&mut ls, problem, x, direction, initial)
            .unwrap_or_else(|e| panic!("{e} from {x} with step {initial}"));
        let mut g0 = x.zeros_like();
        let f0 = problem.value_and_grad(x, &mut g0).unwrap();
        let slope0 = g0.dot(&d);
        assert!(
            out.value <= f0 + search.c1 * out.step * slope0,
            "sufficient decrease fails: {out:?} from {x} with step {initial}"
        );
        assert!(
            g_new.dot(&d).abs() <= search.c2 * slope0.abs(),
            "curvature fails: {out:?} slope {} from {x} with step {initial}",
            g_new.dot(&d)
        );
        assert_consistent(problem, x, &d, &out, &x_new, &g_new);
        out
    }

    #[test]
    fn strong_wolfe_holds_on_several_functions_and_starting_steps() {
        for (c1, c2) in [(1e-4, 0.9), (1e-4, 0.1), (0.3, 0.5), (1e-3, 1e-2)] {
            let search = MoreThuente::new(c1, c2).unwrap();
            for initial in [1e-3, 1.0, 1e3] {
                let q = Quadratic::<f64>::spd3();
                let before = q.calls.get();
                let out = assert_strong_wolfe(&q, &array![1.0, -1.0, 2.0], &search, initial);
                assert_eq!(out.evaluations, q.calls.get() - before - 3);

                let r = Rosenbrock::default();
                for x in [array![-1.2, 1.0], array![0.0, 0.0], array![2.0, 3.0]] {
                    assert_strong_wolfe(&r, &x, &search, initial);
                }

                let w = DoubleWell::<f64>::new(3);
                for x in [
                    array![0.5, -0.3, 1.7],
                    array![0.1, 0.05, -0.2],
                    array![3.0, -3.0, 0.0],
                ] {
                    assert_strong_wolfe(&w, &x, &search, initial);
                }
            }
        }
    }

    #[test]
    fn strong_wolfe_holds_on_the_papers_functions() {
        let functions = [
            MtFunction::One,
            MtFunction::Two,
            MtFunction::Three,
            MtFunction::Yanai(0.001, 0.001),
            MtFunction::Yanai(0.01, 0.001),
            MtFunction::Yanai(0.001, 0.01),
        ];
        for function in functions {
            for (c1, c2) in [(1e-4, 0.9), (1e-3, 0.1), (1e-4, 1e-3)] {
                let search = MoreThuente::new(c1, c2).unwrap();
                for initial in [1e-3, 1e-1, 1e1, 1e3] {
                    assert_strong_wolfe(&OneDim::new(function), &at(0.0), &search, initial);
                }
            }
        }
    }

    /// Tables 1-6 of Moré & Thuente (1994): function 1 with `c1 = 1e-3`,
    /// `c2 = 0.1`, functions 2 and 3 with `c1 = c2 = 0.1`, functions 4-6
    /// with `c1 = c2 = 1e-3`, each from `a = 0` along `d = 1` and four
    /// starting steps. The paper prints the number of evaluations, the step
    /// and the final derivative to two digits; the five-digit values below
    /// are those of the MINPACK search in D. O'Leary's Matlab translation,
    /// as quoted by the R package `mize` (`tests/testthat/test_more_thuente.R`,
    /// which also supplies the last three rows: functions 4-6 from `a = 1`
    /// along `d = -1`, which go through the auxiliary function psi), and
    /// agree with the paper's printed digits.
    ///
    /// [`MoreThuente::new`] requires `c1 < c2`, so where the paper has
    /// `c1 = c2` the curvature constant is raised by one part in `1e9`; that
    /// could only matter for a final slope within that margin of the bound,
    /// which none of these is.
    #[test]
    fn reproduces_the_tables_of_the_paper() {
        let equal = |c: f64| MoreThuente::new(c, c * (1.0 + 1e-9)).unwrap();
        let t1 = MoreThuente::new(1e-3, 0.1).unwrap();
        let (t23, t456) = (equal(0.1), equal(1e-3));
        let modified = MoreThuente::new(0.1, 0.9).unwrap();
        let (f1, f2, f3) = (MtFunction::One, MtFunction::Two, MtFunction::Three);
        let f4 = MtFunction::Yanai(0.001, 0.001);
        let f5 = MtFunction::Yanai(0.01, 0.001);
        let f6 = MtFunction::Yanai(0.001, 0.01);
        // (function, search, start, direction, initial step,
        //  evaluations, step, derivative at the new point).
        let table = [
            (f1, t1, 0.0, 1.0, 1e-3, 6, 1.3650, -9.1645e-3),
            (f1, t1, 0.0, 1.0, 1e-1, 3, 1.4414, 4.6645e-3),
            (f1, t1, 0.0, 1.0, 1e1, 1, 10.0, 9.4195e-3),
            (f1, t1, 0.0, 1.0, 1e3, 4, 36.888, 7.3169e-4),
            (f2, t23, 0.0, 1.0, 1e-3, 12, 1.5960, 3.8113e-9),
            (f2, t23, 0.0, 1.0, 1e-1, 8, 1.5960, 1.0106e-10),
            (f2, t23, 0.0, 1.0, 1e1, 8, 1.5960, -4.9725e-9),
            (f2, t23, 0.0, 1.0, 1e3, 11, 1.5960, -2.3091e-8),
            (f3, t23, 0.0, 1.0, 1e-3, 12, 1.0, -5.1440e-5),
            (f3, t23, 0.0, 1.0, 1e-1, 12, 1.0, -1.9224e-4),
            (f3, t23, 0.0, 1.0, 1e1, 10, 1.0, -1.9892e-6),
            (f3, t23, 0.0, 1.0, 1e3, 13, 1.0, -1.5789e-5),
            (f4, t456, 0.0, 1.0, 1e-3, 4, 0.085, -6.8531e-5),
            (f4, t456, 0.0, 1.0, 1e-1, 1, 0.1, -4.9330e-5),
            (f4, t456, 0.0, 1.0, 1e1, 3, 0.34910, -2.9195e-6),
            (f4, t456, 0.0, 1.0, 1e3, 4, 0.82940, 1.6436e-5),
            (f5, t456, 0.0, 1.0, 1e-3, 6, 0.075011, 1.9025e-4),
            (f5, t456, 0.0, 1.0, 1e-1, 3, 0.077510, 7.3935e-4),
            (f5, t456, 0.0, 1.0, 1e1, 7, 0.073142, -2.5691e-4),
            (f5, t456, 0.0, 1.0, 1e3, 8, 0.076159, 4.4913e-4),
            (f6, t456, 0.0, 1.0, 1e-3, 13, 0.92790, 5.2203e-4),
            (f6, t456, 0.0, 1.0, 1e-1, 11, 0.92615, 8.3588e-5),
            (f6, t456, 0.0, 1.0, 1e1, 8, 0.92478, -2.3788e-4),
            (f6, t456, 0.0, 1.0, 1e3, 11, 0.92440, -3.2498e-4),
            (f4, modified, 1.0, -1.0, 1.0, 6, 0.0038522, 0.032049),
            (f5, modified, 1.0, -1.0, 1.0, 6, 0.0040126, 0.038284),
            (f6, modified, 1.0, -1.0, 1.0, 4, 0.043447, 0.016504),
        ];
        for (function, search, start, direction, initial, evaluations, step, slope) in table {
            let problem = OneDim::new(function);
            let x = at(start);
            let (out, d, x_new, g_new) = run(
                &mut search.clone(),
                &problem,
                &x,
                Some(&at(direction)),
                initial,
            )
            .unwrap();
            assert_consistent(&problem, &x, &d, &out, &x_new, &g_new);
            let case = format!(
                "{function:?} from {start} step {initial:e}: {out:?}, derivative {}",
                g_new[0]
            );
            assert_eq!(out.evaluations, evaluations, "{case}");
            assert!((out.step - step).abs() <= 1e-4 * step, "{case}");
            // Four significant digits: the final derivatives of functions 2
            // and 3 are differences of nearly equal numbers.
            assert!((g_new[0] - slope).abs() <= 1e-4 * slope.abs(), "{case}");
            // And the strong Wolfe conditions themselves.
            let (f0, g0) = function.eval(start);
            assert!(
                out.value <= f0 + search.c1 * out.step * g0 * direction,
                "{case}"
            );
            assert!(g_new[0].abs() <= search.c2 * g0.abs(), "{case}");
        }
    }

    #[test]
    fn the_first_acceptable_initial_step_is_kept() {
        // phi(a) = (a - 1)^2: a = 1 is the exact minimizer.
        let q = Quadratic {
            a: array![[2.0]],
            b: array![2.0],
            calls: Calls::default(),
        };
        let (out, ..) = run(
            &mut MoreThuente::default(),
            &q,
            &at(0.0),
            Some(&at(1.0)),
            1.0,
        )
        .unwrap();
        assert_eq!((out.step, out.evaluations), (1.0, 1));
    }

    #[test]
    fn non_finite_trials_are_too_long() {
        let problem = NanBeyondOne::default();
        let search = MoreThuente::default();
        for initial in [1.5, 100.0, 1e6] {
            let out = assert_strong_wolfe(&problem, &at(0.0), &search, initial);
            assert!(out.step <= 1.0);
        }
    }

    #[test]
    fn unbounded_below_fails_at_step_max() {
        // f(x) = -x is unbounded below along d = 1.
        let q = Quadratic {
            a: array![[0.0]],
            b: array![1.0],
            calls: Calls::default(),
        };
        let mut search = MoreThuente {
            step_max: 1e6,
            ..Default::default()
        };
        let err = run(&mut search, &q, &at(0.0), None, 1.0).unwrap_err();
        assert!(matches!(err, OptError::LineSearch { .. }), "{err:?}");
        let err = run(&mut MoreThuente::default(), &q, &at(0.0), None, 1.0).unwrap_err();
        assert!(matches!(err, OptError::LineSearch { .. }), "{err:?}");
    }

    #[test]
    fn exhausted_or_impossible_searches_fail_cleanly() {
        // One evaluation is not enough from a step far too small.
        let q = Quadratic::<f64>::spd3();
        let x = array![1.0, -1.0, 2.0];
        let mut search = MoreThuente {
            max_evaluations: 1,
            ..Default::default()
        };
        let err = run(&mut search, &q, &x, None, 1e-6).unwrap_err();
        assert!(
            matches!(err, OptError::LineSearch { reason } if reason.contains("max_evaluations")),
            "{err:?}"
        );
        // A curvature bound finer than rounding can resolve: the search ends
        // with an error (rounding or xtol) well within its budget.
        let r = Rosenbrock::default();
        let mut search = MoreThuente {
            c1: 1e-17,
            c2: 1e-16,
            max_evaluations: 200,
            ..Default::default()
        };
        for x in [array![-1.2, 1.0], array![2.0, 3.0]] {
            let before = r.calls.get();
            let err = run(&mut search, &r, &x, None, 1.0).unwrap_err();
            println!("{err}: {} evaluations", r.calls.get() - before - 1);
            assert!(matches!(err, OptError::LineSearch { .. }), "{err:?}");
            assert!(r.calls.get() - before < 100);
        }
    }

    #[test]
    fn works_in_f32() {
        let search = MoreThuente::default();
        let q = Quadratic::<f32>::spd3();
        let w = DoubleWell::<f32>::new(3);
        let x: Array1<f32> = array![1.0, -1.0, 2.0];
        for initial in [1e-3f32, 1.0, 1e3] {
            for problem in [&q as &dyn Objective<Vector = Array1<f32>>, &w] {
                let (out, d, x_new, g_new) =
                    run(&mut search.clone(), problem, &x, None, initial).unwrap();
                let mut g0 = x.zeros_like();
                let f0 = problem.value_and_grad(&x, &mut g0).unwrap();
                let slope0 = g0.dot(&d);
                assert!(out.value <= f0 + 1e-4 * out.step * slope0);
                assert!(g_new.dot(&d).abs() <= 0.9 * slope0.abs());
                assert_consistent(problem, &x, &d, &out, &x_new, &g_new);
            }
        }
    }

    #[test]
    fn refuses_ascent_directions_and_bad_steps() {
        assert_refuses_ascent(&mut MoreThuente::default());
    }

    #[test]
    fn invalid_hyperparameters_are_errors() {
        for (c1, c2) in [
            (0.0, 0.9),
            (0.5, 0.5),
            (0.9, 0.1),
            (1e-4, 1.0),
            (f64::NAN, 0.9),
            (1e-4, f64::NAN),
        ] {
            assert!(matches!(
                MoreThuente::new(c1, c2),
                Err(OptError::InvalidHyperparameter { .. })
            ));
        }
        let q = Quadratic::<f64>::spd3();
        let x = array![1.0, 1.0, 1.0];
        for bad in [
            MoreThuente {
                max_evaluations: 0,
                ..Default::default()
            },
            MoreThuente {
                step_min: 1.0,
                step_max: 1.0,
                ..Default::default()
            },
            MoreThuente {
                step_min: -1.0,
                ..Default::default()
            },
            MoreThuente {
                xtol: f64::NAN,
                ..Default::default()
            },
        ] {
            let err = run(&mut bad.clone(), &q, &x, None, 1.0).unwrap_err();
            assert!(
                matches!(err, OptError::InvalidHyperparameter { .. }),
                "{err:?}"
            );
        }
    }

    #[test]
    fn next_trial_covers_the_four_cases() {
        let p = |step: f64, value: f64, slope: f64| Point { step, value, slope };
        let best = p(0.0, 0.0, -1.0);
        // Case 1: higher value, bracketed, step inside.
        let (s, u, b) = next_trial(best, best, p(1.0, 1.0, -0.5), false, 0.0, 4.0);
        assert!(b && u == TrialRole::Other && s > 0.0 && s < 1.0);
        // Case 2: lower value, opposite slope: bracketed, trial becomes best.
        let (s, u, b) = next_trial(best, best, p(1.0, -0.5, 0.5), false, 0.0, 4.0);
        assert!(b && u == TrialRole::BestAcrossMinimizer && s > 0.0 && s < 1.0);
        // Case 3: lower value, same sign, smaller slope: extrapolate.
        let (s, u, b) = next_trial(best, best, p(1.0, -0.5, -0.25), false, 1.1, 4.0);
        assert!(!b && u == TrialRole::Best && (1.1..=4.0).contains(&s));
        // Case 4: lower value, same sign, larger slope: the upper bound.
        let (s, u, b) = next_trial(best, best, p(1.0, -0.5, -2.0), false, 1.1, 4.0);
        assert!(!b && u == TrialRole::Best && s == 4.0);
    }
}
