//! Backtracking line search with the Armijo (sufficient decrease) condition,
//! after Nocedal & Wright (2006), *Numerical Optimization*, Algorithm 3.1.
//!
//! With `phi(a) = f(x + a d)`, accept the first trial step `a_k` with
//!
//! ```text
//! phi(a_k) <= phi(0) + c1 a_k phi'(0),
//! ```
//!
//! starting from `a_0 = initial_step`. A rejected `a_k` is replaced by the
//! minimizer of the quadratic interpolating `phi(0)`, `phi'(0)` and `phi(a_k)`
//! (Nocedal & Wright eq. 3.57),
//!
//! ```text
//! a_q = -phi'(0) a_k^2 / (2 (phi(a_k) - phi(0) - phi'(0) a_k)),
//! ```
//!
//! safeguarded to `[min(0.1, shrink) a_k, shrink a_k]` (Dennis & Schnabel
//! 1983, Algorithm A6.3.1 uses `[0.1, 0.5]`): every rejection shrinks the step
//! by at least the factor `shrink`, and by at most ten (or `shrink` itself
//! when it is below 0.1, which makes the search a plain geometric shrink). A
//! trial whose value is NaN or infinite counts as too long and is shrunk by
//! `shrink`.
//!
//! Every trial is evaluated with `value_and_grad`, so the gradient at the
//! accepted point is ready for the caller.
//!
//! In floating point, once `a_k c1 phi'(0)` falls below the rounding unit of
//! `phi(0)` the condition reads `phi(a_k) <= phi(0)`; `min_step` bounds how
//! far the search shrinks before it gives up.

use num_traits::{Float, Zero};
use serde::{Deserialize, Serialize};

use super::{LineSearch, LineSearchOutcome, check_open, check_start, move_to};
use crate::error::{OptError, Result};
use crate::problem::Objective;
use crate::scalar::Scalar;
use crate::vector::VectorSpace;

/// Backtracking Armijo line search with safeguarded quadratic interpolation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BacktrackingArmijo {
    /// Sufficient-decrease constant `c1` in `(0, 1)`; default `1e-4`.
    pub c1: f64,
    /// Largest factor by which a rejected step is multiplied, in `(0, 1)`;
    /// default `0.5`.
    pub shrink: f64,
    /// The search fails once a trial step falls below
    /// `min_step * initial_step`; in `[0, 1)`, default `1e-20`.
    pub min_step: f64,
    /// Most objective evaluations per search, at least 1; default 60.
    pub max_evaluations: usize,
}

impl Default for BacktrackingArmijo {
    fn default() -> Self {
        Self {
            c1: 1e-4,
            shrink: 0.5,
            min_step: 1e-20,
            max_evaluations: 60,
        }
    }
}

impl BacktrackingArmijo {
    /// A search with the given constants and the default limits; requires
    /// `0 < c1 < 1` and `0 < shrink < 1`.
    pub fn new(c1: f64, shrink: f64) -> Result<Self> {
        let search = Self {
            c1,
            shrink,
            ..Self::default()
        };
        search.validate()?;
        Ok(search)
    }

    /// Check every field (done again at the start of each search, since the
    /// fields are public).
    pub fn validate(&self) -> Result<()> {
        check_open("c1", self.c1, 0.0, 1.0, "must lie in (0, 1)")?;
        check_open("shrink", self.shrink, 0.0, 1.0, "must lie in (0, 1)")?;
        if !(self.min_step >= 0.0 && self.min_step < 1.0) {
            return Err(OptError::invalid(
                "min_step",
                self.min_step,
                "must lie in [0, 1)",
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

impl<V: VectorSpace> LineSearch<V> for BacktrackingArmijo {
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
        let slope = check_start(x, value, grad, direction, initial_step, x_new, grad_new)?;
        let of = <V::Scalar as Scalar>::of;
        let sufficient_slope = of(self.c1) * slope;
        let (upper, lower) = (of(self.shrink), of(self.shrink.min(0.1)));
        let min_step = of(self.min_step) * initial_step;
        let two = of(2.0);

        let mut step = initial_step;
        for evaluations in 1..=self.max_evaluations {
            move_to(x_new, x, step, direction);
            let trial = problem.value_and_grad(x_new, grad_new)?;
            if trial.is_finite() && trial <= value + step * sufficient_slope {
                return Ok(LineSearchOutcome {
                    step,
                    value: trial,
                    evaluations,
                });
            }
            let interpolated = -slope * step * step / (two * (trial - value - slope * step));
            step = if interpolated.is_finite() {
                interpolated.max(lower * step).min(upper * step)
            } else {
                upper * step
            };
            if step < min_step || step <= V::Scalar::zero() {
                return Err(OptError::LineSearch {
                    reason: "backtracking step fell below min_step * initial_step",
                });
            }
        }
        Err(OptError::LineSearch {
            reason: "backtracking reached max_evaluations without sufficient decrease",
        })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, array};

    use super::*;
    use crate::line_search::test_functions::*;

    fn armijo_holds(value0: f64, slope0: f64, c1: f64, step: f64, value: f64) -> bool {
        value <= value0 + c1 * step * slope0
    }

    #[test]
    fn armijo_holds_on_several_functions_and_starting_steps() {
        let mut search = BacktrackingArmijo::default();
        for initial in [1e-3, 1.0, 1e3] {
            // Quadratic.
            let q = Quadratic::<f64>::spd3();
            let x = array![1.0, -1.0, 2.0];
            let (out, d, x_new, g_new) = run(&mut search, &q, &x, None, initial).unwrap();
            let mut g = x.zeros_like();
            let f0 = q.value_and_grad(&x, &mut g).unwrap();
            assert!(armijo_holds(f0, g.dot(&d), 1e-4, out.step, out.value));
            assert!(out.value < f0);
            assert_consistent(&q, &x, &d, &out, &x_new, &g_new);

            // Rosenbrock from the classical start.
            let r = Rosenbrock::default();
            let x = array![-1.2, 1.0];
            let before = r.calls.get();
            let (out, d, x_new, g_new) = run(&mut search, &r, &x, None, initial).unwrap();
            assert_eq!(out.evaluations, r.calls.get() - before - 1);
            let mut g0 = x.zeros_like();
            let f0 = r.value_and_grad(&x, &mut g0).unwrap();
            assert!(armijo_holds(f0, g0.dot(&d), 1e-4, out.step, out.value));
            assert_consistent(&r, &x, &d, &out, &x_new, &g_new);

            // Nonconvex double well.
            let w = DoubleWell::<f64>::new(3);
            let x = array![0.5, -0.3, 1.7];
            let (out, d, x_new, g_new) = run(&mut search, &w, &x, None, initial).unwrap();
            let mut g0 = x.zeros_like();
            let f0 = w.value_and_grad(&x, &mut g0).unwrap();
            assert!(armijo_holds(f0, g0.dot(&d), 1e-4, out.step, out.value));
            assert_consistent(&w, &x, &d, &out, &x_new, &g_new);
        }
    }

    #[test]
    fn the_accepted_step_is_not_needlessly_tiny() {
        // Along d on a quadratic, phi(a) = f + a g.d + a^2 d.A d / 2, and the
        // Armijo condition holds exactly for a <= 2 (1 - c1) (-g.d) / d.A d.
        // The first interpolation lands on the minimizer along the line,
        // `largest / (2 (1 - c1))`, so the accepted step is at least
        // `min(shrink, 1/2)` times the largest.
        let q = Quadratic::<f64>::spd3();
        let x = array![1.0, -1.0, 2.0];
        for (c1, shrink) in [(1e-4, 0.5), (0.3, 0.5), (1e-4, 0.8), (0.1, 0.05)] {
            let mut search = BacktrackingArmijo::new(c1, shrink).unwrap();
            let mut g = x.zeros_like();
            q.value_and_grad(&x, &mut g).unwrap();
            let d = -&g;
            let curvature = d.dot(&q.a.dot(&d));
            let largest = 2.0 * (1.0 - c1) * -g.dot(&d) / curvature;
            for initial in [1.0, 10.0, 1e3, 0.99 * largest] {
                let (out, ..) = run(&mut search, &q, &x, None, initial).unwrap();
                assert!(
                    out.step <= largest * (1.0 + 1e-12),
                    "{c1} {shrink} {initial}: {out:?}"
                );
                assert!(
                    out.step >= shrink.min(0.5) * largest,
                    "{c1} {shrink} {initial}: {out:?} vs {largest}"
                );
                if initial <= largest {
                    assert_eq!((out.step, out.evaluations), (initial, 1));
                }
            }
        }
    }

    #[test]
    fn non_finite_trials_are_too_long() {
        let problem = NanBeyondOne::default();
        let mut search = BacktrackingArmijo::default();
        let x = at(0.0);
        let (out, d, x_new, g_new) = run(&mut search, &problem, &x, None, 100.0).unwrap();
        assert!(x_new[0] <= 1.0 && out.value.is_finite() && out.value < 0.81);
        assert_consistent(&problem, &x, &d, &out, &x_new, &g_new);
    }

    #[test]
    fn works_in_f32() {
        let q = Quadratic::<f32>::spd3();
        let x: Array1<f32> = array![1.0, -1.0, 2.0];
        let mut search = BacktrackingArmijo::default();
        for initial in [1e-3f32, 1.0, 1e3] {
            let (out, d, x_new, g_new) = run(&mut search, &q, &x, None, initial).unwrap();
            let mut g = x.zeros_like();
            let f0 = q.value_and_grad(&x, &mut g).unwrap();
            assert!(out.value <= f0 + 1e-4 * out.step * g.dot(&d));
            assert_consistent(&q, &x, &d, &out, &x_new, &g_new);
        }
    }

    #[test]
    fn refuses_ascent_directions_and_bad_steps() {
        assert_refuses_ascent(&mut BacktrackingArmijo::default());
    }

    #[test]
    fn invalid_hyperparameters_are_errors() {
        for (c1, shrink) in [
            (0.0, 0.5),
            (1.0, 0.5),
            (1e-4, 0.0),
            (1e-4, 1.0),
            (f64::NAN, 0.5),
            (0.5, -1.0),
        ] {
            assert!(matches!(
                BacktrackingArmijo::new(c1, shrink),
                Err(OptError::InvalidHyperparameter { .. })
            ));
        }
        let q = Quadratic::<f64>::spd3();
        let x = array![1.0, 1.0, 1.0];
        for bad in [
            BacktrackingArmijo {
                max_evaluations: 0,
                ..Default::default()
            },
            BacktrackingArmijo {
                min_step: 1.0,
                ..Default::default()
            },
            BacktrackingArmijo {
                c1: 2.0,
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
    fn a_false_slope_fails_cleanly() {
        // Claim a steep descent along +g where f increases: no step satisfies
        // Armijo, and the search must stop with a LineSearch error.
        let q = Quadratic::<f64>::spd3();
        let x = array![1.0, 1.0, 1.0];
        let mut g = x.zeros_like();
        let f0 = q.value_and_grad(&x, &mut g).unwrap();
        let d = g.clone();
        let fake = -&g;
        let (mut x_new, mut g_new) = (x.zeros_like(), x.zeros_like());
        // (With the default min_step the step would shrink until
        // `step * c1 * slope` is below the rounding unit of f, where Armijo
        // reads `f(x_new) <= f(x)` and holds with x_new == x.)
        for mut search in [
            BacktrackingArmijo {
                min_step: 1e-10,
                ..Default::default()
            },
            BacktrackingArmijo {
                max_evaluations: 5,
                ..Default::default()
            },
        ] {
            let err = search
                .search(&q, &x, f0, &fake, &d, 1.0, &mut x_new, &mut g_new)
                .unwrap_err();
            assert!(matches!(err, OptError::LineSearch { .. }), "{err:?}");
        }
    }
}
