//! Exact line search for a quadratic (Nocedal & Wright 2006, eq. 3.55).
//!
//! For `f(x) = 1/2 x^T H x - b^T x`, `phi(a) = f(x + a d)` is a parabola
//! minimized at
//!
//! ```text
//! a* = -g.d / (d.H d),
//! ```
//!
//! computed with one Hessian-vector product (`Objective::hvp`, written into
//! the caller's `grad_new`) and followed by one `value_and_grad` at the new
//! point. Along a direction of nonpositive curvature there is no minimizer
//! and the search fails. On a function that is not quadratic this is one
//! Newton step on `phi` from `a = 0`, with no guarantee of decrease.

use num_traits::{Float, Zero};
use serde::{Deserialize, Serialize};

use super::{LineSearch, LineSearchOutcome, check_start, move_to};
use crate::error::{OptError, Result};
use crate::problem::Objective;
use crate::vector::VectorSpace;

/// The exact minimizer along the direction of a quadratic; `initial_step` is
/// checked but otherwise unused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExactQuadratic;

impl<V: VectorSpace> LineSearch<V> for ExactQuadratic {
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
        let slope = check_start(x, value, grad, direction, initial_step, x_new, grad_new)?;
        problem.hvp(x, direction, grad_new)?;
        let curvature = direction.dot(grad_new);
        if curvature.is_nan() {
            return Err(OptError::NonFinite {
                what: "curvature along the line-search direction",
                iteration: 0,
            });
        }
        if curvature <= V::Scalar::zero() {
            return Err(OptError::LineSearch {
                reason: "nonpositive curvature along the direction",
            });
        }
        let step = -slope / curvature;
        if !(step.is_finite() && step > V::Scalar::zero()) {
            return Err(OptError::LineSearch {
                reason: "the exact step is not a finite positive number",
            });
        }
        move_to(x_new, x, step, direction);
        let value = problem.value_and_grad(x_new, grad_new)?;
        if !value.is_finite() {
            return Err(OptError::NonFinite {
                what: "objective at the exact line-search step",
                iteration: 0,
            });
        }
        Ok(LineSearchOutcome {
            step,
            value,
            evaluations: 2,
        })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, array};

    use super::*;
    use crate::line_search::test_functions::*;

    #[test]
    fn the_step_is_the_analytic_minimizer() {
        let q = Quadratic::<f64>::spd3();
        for x in [
            array![1.0, -1.0, 2.0],
            array![0.0, 0.0, 0.0],
            array![-3.0, 0.5, 7.0],
        ] {
            let mut g = x.zeros_like();
            q.value_and_grad(&x, &mut g).unwrap();
            for d in [
                -&g,
                array![-1.0, 0.0, 0.0] * g[0].signum(),
                array![1.0, 2.0, -1.0],
            ] {
                if g.dot(&d) >= 0.0 {
                    continue;
                }
                let before = q.calls.get();
                let (out, d, x_new, g_new) =
                    run(&mut ExactQuadratic, &q, &x, Some(&d), 1.0).unwrap();
                assert_eq!(out.evaluations, q.calls.get() - before - 1);
                let analytic = -g.dot(&d) / d.dot(&q.a.dot(&d));
                assert!(
                    (out.step - analytic).abs() <= 1e-12 * analytic,
                    "{} vs {analytic}",
                    out.step
                );
                let orthogonality = g_new.dot(&d) / (g.norm2() * d.norm2());
                assert!(orthogonality.abs() <= 1e-12, "{orthogonality}");
                assert_consistent(&q, &x, &d, &out, &x_new, &g_new);
            }
        }
    }

    #[test]
    fn works_in_f32() {
        let q = Quadratic::<f32>::spd3();
        let x: Array1<f32> = array![1.0, -1.0, 2.0];
        let (out, d, x_new, g_new) = run(&mut ExactQuadratic, &q, &x, None, 1.0).unwrap();
        let mut g = x.zeros_like();
        q.value_and_grad(&x, &mut g).unwrap();
        let analytic = -g.dot(&d) / d.dot(&q.a.dot(&d));
        assert!((out.step - analytic).abs() <= 1e-6 * analytic);
        assert!(g_new.dot(&d).abs() <= 1e-5 * g.norm2() * d.norm2());
        assert_consistent(&q, &x, &d, &out, &x_new, &g_new);
    }

    #[test]
    fn nonpositive_curvature_is_refused() {
        for diagonal in [0.0, -1.0] {
            let q = Quadratic {
                a: array![[diagonal]],
                b: array![1.0],
                calls: Calls::default(),
            };
            let err = run(&mut ExactQuadratic, &q, &at(0.0), None, 1.0).unwrap_err();
            assert!(
                matches!(err, OptError::LineSearch { reason } if reason == "nonpositive curvature along the direction"),
                "{err:?}"
            );
        }
    }

    #[test]
    fn refuses_ascent_directions_and_bad_steps() {
        assert_refuses_ascent(&mut ExactQuadratic);
    }
}
