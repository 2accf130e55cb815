//! Reverse-mode automatic differentiation: `J' u`, the gradient
//! `grad f = 2 J' r` and (over forward mode) `H v`, each in one sweep,
//! whatever `n`.
//!
//! Evaluating the residuals on [`Var`]s records every elementary operation
//! on a tape (a Wengert list): its inputs and its partial derivatives with
//! respect to them. Seeding the adjoint of each output `y_k` with `w_k`
//! and sweeping the tape backwards accumulates `grad (w' y)` in the
//! adjoints of the inputs (Griewank & Walther 2008, "Evaluating
//! Derivatives", ch. 3). The cost is a small multiple of one evaluation,
//! against `n` evaluations for forward mode; the price is memory for the
//! tape, a few tens of bytes per operation.
//!
//! Evaluating on `Dual<Var>` at `x + v e` records `r` and `J v` together
//! (reverse over forward, ch. 5): their adjoints give gradients of any
//! combination of the two, such as `grad (r' J v) = J' J v + sum_i r_i
//! (grad^2 r_i) v`.
//!
//! The tape is thread-local, so problems are usable from several threads;
//! [`pullback`] clears it before recording and trims it after.

use std::cell::RefCell;
use std::ops::{Add, Div, Mul, Neg, Sub};

use super::dual::Real;

/// The index of a constant: a value no tape entry depends on.
const CONSTANT: usize = usize::MAX;

/// Tape capacity kept between calls; a longer tape is shrunk to it after use.
const RETAINED_NODES: usize = 1 << 16;

/// One recorded operation: up to two inputs (tape indices, or [`CONSTANT`])
/// and the partial derivatives of its result with respect to them.
#[derive(Debug, Clone, Copy)]
struct Node {
    inputs: [usize; 2],
    partials: [f64; 2],
}

thread_local! {
    static TAPE: RefCell<Vec<Node>> = const { RefCell::new(Vec::new()) };
}

/// A value recorded on the tape (or a constant, which is not).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Var {
    value: f64,
    index: usize,
}

impl Var {
    fn record(value: f64, inputs: [usize; 2], partials: [f64; 2]) -> Var {
        let index = TAPE.with_borrow_mut(|tape| {
            tape.push(Node { inputs, partials });
            tape.len() - 1
        });
        Var { value, index }
    }

    /// `value = g(self)` with `g'(self) = partial`.
    fn unary(self, value: f64, partial: f64) -> Var {
        if self.index == CONSTANT {
            Var::constant(value)
        } else {
            Var::record(value, [self.index, CONSTANT], [partial, 0.0])
        }
    }

    /// `value = g(self, other)` with partials `d_self`, `d_other`.
    fn binary(self, other: Var, value: f64, d_self: f64, d_other: f64) -> Var {
        if self.index == CONSTANT && other.index == CONSTANT {
            Var::constant(value)
        } else {
            Var::record(value, [self.index, other.index], [d_self, d_other])
        }
    }
}

impl Add for Var {
    type Output = Var;
    fn add(self, rhs: Var) -> Var {
        self.binary(rhs, self.value + rhs.value, 1.0, 1.0)
    }
}

impl Sub for Var {
    type Output = Var;
    fn sub(self, rhs: Var) -> Var {
        self.binary(rhs, self.value - rhs.value, 1.0, -1.0)
    }
}

impl Mul for Var {
    type Output = Var;
    fn mul(self, rhs: Var) -> Var {
        self.binary(rhs, self.value * rhs.value, rhs.value, self.value)
    }
}

impl Div for Var {
    type Output = Var;
    fn div(self, rhs: Var) -> Var {
        let quotient = self.value / rhs.value;
        self.binary(rhs, quotient, 1.0 / rhs.value, -quotient / rhs.value)
    }
}

impl Neg for Var {
    type Output = Var;
    fn neg(self) -> Var {
        self.unary(-self.value, -1.0)
    }
}

impl Add<f64> for Var {
    type Output = Var;
    fn add(self, rhs: f64) -> Var {
        self.unary(self.value + rhs, 1.0)
    }
}

impl Sub<f64> for Var {
    type Output = Var;
    fn sub(self, rhs: f64) -> Var {
        self.unary(self.value - rhs, 1.0)
    }
}

impl Mul<f64> for Var {
    type Output = Var;
    fn mul(self, rhs: f64) -> Var {
        self.unary(self.value * rhs, rhs)
    }
}

impl Div<f64> for Var {
    type Output = Var;
    fn div(self, rhs: f64) -> Var {
        self.unary(self.value / rhs, 1.0 / rhs)
    }
}

impl Real for Var {
    fn constant(value: f64) -> Self {
        Var {
            value,
            index: CONSTANT,
        }
    }
    fn value(self) -> f64 {
        self.value
    }
    fn exp(self) -> Self {
        let e = self.value.exp();
        self.unary(e, e)
    }
    fn ln(self) -> Self {
        self.unary(self.value.ln(), 1.0 / self.value)
    }
    fn sin(self) -> Self {
        self.unary(self.value.sin(), self.value.cos())
    }
    fn cos(self) -> Self {
        self.unary(self.value.cos(), -self.value.sin())
    }
    fn sqrt(self) -> Self {
        let root = self.value.sqrt();
        self.unary(root, 0.5 / root)
    }
    fn atan(self) -> Self {
        self.unary(self.value.atan(), 1.0 / (1.0 + self.value * self.value))
    }
    fn abs(self) -> Self {
        if self.value < 0.0 { -self } else { self }
    }
    fn powi(self, k: i32) -> Self {
        match k {
            0 => Var::constant(1.0),
            1 => self,
            _ => self.unary(self.value.powi(k), f64::from(k) * self.value.powi(k - 1)),
        }
    }
}

/// `out = grad_x (sum_k w_k y_k)` at `x`, where `record` computes the
/// outputs `y_k` from the inputs and returns the pairs `(y_k, w_k)` (it may
/// choose the weights from the outputs' values).
pub(crate) fn pullback(x: &[f64], record: impl FnOnce(&[Var]) -> Vec<(Var, f64)>, out: &mut [f64]) {
    TAPE.with_borrow_mut(Vec::clear);
    // The inputs are the first n nodes, so x_j's adjoint ends at index j.
    let inputs: Vec<Var> = x
        .iter()
        .map(|&value| Var::record(value, [CONSTANT; 2], [0.0; 2]))
        .collect();
    let seeds = record(&inputs);
    TAPE.with_borrow_mut(|tape| {
        let mut adjoints = vec![0.0; tape.len()];
        for (output, weight) in seeds {
            if output.index != CONSTANT {
                adjoints[output.index] += weight;
            }
        }
        for k in (x.len()..tape.len()).rev() {
            let adjoint = adjoints[k];
            if adjoint == 0.0 {
                continue;
            }
            let node = tape[k];
            for (&input, &partial) in node.inputs.iter().zip(&node.partials) {
                if input != CONSTANT {
                    adjoints[input] += adjoint * partial;
                }
            }
        }
        out.copy_from_slice(&adjoints[..x.len()]);
        tape.clear();
        tape.shrink_to(RETAINED_NODES);
    });
}

#[cfg(test)]
mod tests {
    use super::super::dual::Dual;
    use super::*;

    /// Two outputs mixing every operation, with a constant and a repeated input.
    fn outputs<T: Real>(x: &[T], r: &mut [T]) {
        let c = T::constant(0.3);
        r[0] = (x[0] * x[1]).exp() / (x[2].sqrt() + 1.0) - x[1].sin() * c + x[0].atan();
        r[1] = (x[2].ln() - x[0].cos()) * x[0].powi(3) + (-x[1]).abs() / 2.0 - x[2] * 4.0 + c;
    }

    #[test]
    fn pullback_is_u_transpose_jacobian() {
        let x = [0.4, -1.3, 2.2];
        let u = [0.7, -1.9];
        let mut out = [0.0; 3];
        let mut values = vec![];
        pullback(
            &x,
            |xv| {
                let mut r = [Var::constant(0.0); 2];
                outputs(xv, &mut r);
                values = r.iter().map(|ri| ri.value).collect();
                r.into_iter().zip(u).collect()
            },
            &mut out,
        );

        let mut plain = [0.0; 2];
        outputs(&x, &mut plain);
        assert_eq!(values, plain);
        for (j, &ours) in out.iter().enumerate() {
            let xd: Vec<Dual<f64>> = (0..3)
                .map(|k| Dual::new(x[k], if k == j { 1.0 } else { 0.0 }))
                .collect();
            let mut rd = [Dual::new(0.0, 0.0); 2];
            outputs(&xd, &mut rd);
            let expected = u[0] * rd[0].derivative + u[1] * rd[1].derivative;
            assert!((ours - expected).abs() <= 1e-14 * expected.abs().max(1.0));
        }
        TAPE.with_borrow(|tape| assert!(tape.is_empty()));
    }

    #[test]
    fn constants_stay_off_the_tape() {
        let mut out = [0.0; 1];
        pullback(
            &[2.0],
            |x| {
                let sum = (Var::constant(3.0) * 2.0).exp() + x[0];
                assert_eq!(sum.value(), 6.0_f64.exp() + 2.0);
                TAPE.with_borrow(|tape| assert_eq!(tape.len(), 2));
                vec![(sum, 1.0), (Var::constant(5.0), 1.0)]
            },
            &mut out,
        );
        assert_eq!(out, [1.0]);
    }

    /// Over forward mode: the weights `(w, u)` on `(g(x), g'(x) v)` give
    /// `w g'(x) + u g''(x) v`.
    #[test]
    fn reverse_over_forward_gives_second_derivatives() {
        let g = |x: Dual<Var>| x.sin().exp() * x.powi(2);
        let (x, v, w, u) = (0.8_f64, 1.7, 0.3, -1.1);
        let mut out = [0.0];
        pullback(
            &[x],
            |xv| {
                let y = g(Dual::new(xv[0], Var::constant(v)));
                vec![(y.value, w), (y.derivative, u)]
            },
            &mut out,
        );
        let (s, c) = (x.sin(), x.cos());
        let first = s.exp() * (c * x * x + 2.0 * x);
        let second = s.exp() * (c * (c * x * x + 2.0 * x) - s * x * x + 2.0 * c * x + 2.0);
        let expected = w * first + u * second * v;
        assert!((out[0] - expected).abs() <= 1e-14 * expected.abs());
    }
}
