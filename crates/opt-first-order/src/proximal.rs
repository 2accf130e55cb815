//! Proximal gradient for `F(x) = f(x) + l1 ||x||_1` with `f` smooth: the
//! gradient the caller passes is that of `f` alone, and the `l1` term enters
//! through its proximal operator, the soft threshold
//! `S_a(z) = sign(z) max(|z| - a, 0)` ([`soft_threshold`]).
//!
//! - [`Ista`] (iterative shrinkage-thresholding): `x <- S_{lr l1}(x - lr g)`.
//! - [`Fista`] (Beck & Teboulle 2009, "A Fast Iterative
//!   Shrinkage-Thresholding Algorithm for Linear Inverse Problems",
//!   constant step size): the parameters are the extrapolated point `y`, the
//!   point where the caller evaluates the gradient; per element the state
//!   keeps the last prox iterate `x_k` and the array's running scalar keeps
//!   `t_k` (starting at `t_1 = 1`):
//!   - `x_{k+1} = S_{lr l1}(y - lr g)`,
//!   - `t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2`,
//!   - `y <- x_{k+1} + ((t_k - 1) / t_{k+1}) (x_{k+1} - x_k)`.
//!
//!   At the first step `x_0 = y_0` are the parameters (the state buffer
//!   starts at 0, so the first step reads `x_0` from the parameters).
//!   FISTA's objective is not monotone along `y`; its last prox iterate
//!   `x_k` is `save_state().arrays[i].buffer`.
//!
//! With `lr <= 1/L` (`L` the Lipschitz constant of `grad f`), ISTA's
//! `F(x_k) - F*` falls as `O(1/k)` and FISTA's as `O(1/k^2)`. With `l1 = 0`
//! they are gradient descent and Nesterov's accelerated gradient.

use opt_core::{Result, Scalar};
use serde::{Deserialize, Serialize};

use crate::kernel::fused_pass;
use crate::optimizer::{Method, non_negative, positive};

/// `S_a(z) = sign(z) max(|z| - a, 0)` for `a >= 0`: the proximal operator
/// of `a |.|`.
#[inline(always)]
pub fn soft_threshold<T: Scalar>(z: T, a: T) -> T {
    if z > a {
        z - a
    } else if z < -a {
        z + a
    } else {
        T::zero()
    }
}

fn validate(lr: f64, l1: f64) -> Result<()> {
    positive("lr", lr)?;
    non_negative("l1", l1)
}

/// ISTA hyperparameters: the step size `lr` (`1/L` for the `O(1/k)` rate)
/// and the l1 weight. No defaults from PyTorch (it has no proximal
/// methods); `Default` is `lr = 1e-3` (SGD's) and `l1 = 0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ista {
    pub lr: f64,
    pub l1: f64,
}

impl Default for Ista {
    fn default() -> Self {
        Self { lr: 1e-3, l1: 0.0 }
    }
}

impl Method for Ista {
    const NAME: &'static str = "ista";

    fn validate(&self) -> Result<()> {
        validate(self.lr, self.l1)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn state_per_element(&self) -> usize {
        0
    }

    fn update<T: Scalar>(
        &self,
        _t: u64,
        _scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) {
        let lr = T::of(self.lr);
        let threshold = T::of(self.lr * self.l1);
        fused_pass::<T, 0, _>(params, grads, state, |p, g, _| {
            for (x, &g) in p.iter_mut().zip(g) {
                *x = soft_threshold(*x - lr * g, threshold);
            }
        });
    }
}

/// FISTA hyperparameters, as [`Ista`]'s (`Default`: `lr = 1e-3`, `l1 = 0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fista {
    pub lr: f64,
    pub l1: f64,
}

impl Default for Fista {
    fn default() -> Self {
        Self { lr: 1e-3, l1: 0.0 }
    }
}

impl Fista {
    /// `t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2`.
    pub fn next_t(t: f64) -> f64 {
        0.5 * (1.0 + (1.0 + 4.0 * t * t).sqrt())
    }
}

struct Constants<T> {
    lr: T,
    threshold: T,
    /// `(t_k - 1) / t_{k+1}`.
    momentum: T,
}

impl Method for Fista {
    const NAME: &'static str = "fista";

    fn validate(&self) -> Result<()> {
        validate(self.lr, self.l1)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn state_per_element(&self) -> usize {
        1
    }

    /// `scalar` is `t_k` (1 before the first step).
    fn update<T: Scalar>(
        &self,
        t: u64,
        scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) {
        let t_k = *scalar;
        let t_next = Self::next_t(t_k);
        let c = Constants {
            lr: T::of(self.lr),
            threshold: T::of(self.lr * self.l1),
            momentum: T::of((t_k - 1.0) / t_next),
        };
        if t == 1 {
            fused_pass::<T, 1, _>(params, grads, state, |p, g, s| first(&c, p, g, s));
        } else {
            fused_pass::<T, 1, _>(params, grads, state, |p, g, s| later(&c, p, g, s));
        }
        *scalar = t_next;
    }
}

/// Step 1: `x_0 = y_0` is the parameter itself (the buffer holds no iterate yet).
fn first<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], last: &mut [T]) {
    for ((y, &g), x) in params.iter_mut().zip(grads).zip(last.iter_mut()) {
        let x_old = *y;
        let x_new = soft_threshold(*y - c.lr * g, c.threshold);
        *x = x_new;
        *y = x_new + c.momentum * (x_new - x_old);
    }
}

fn later<T: Scalar>(c: &Constants<T>, params: &mut [T], grads: &[T], last: &mut [T]) {
    for ((y, &g), x) in params.iter_mut().zip(grads).zip(last.iter_mut()) {
        let x_new = soft_threshold(*y - c.lr * g, c.threshold);
        *y = x_new + c.momentum * (x_new - *x);
        *x = x_new;
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, array};
    use opt_core::{OptError, SaveState, Stepper};

    use super::*;
    use crate::Optimizer;

    #[test]
    fn soft_threshold_is_the_closed_form() {
        for (z, a, expected) in [
            (3.0, 1.0, 2.0),
            (-3.0, 1.0, -2.0),
            (0.5, 1.0, 0.0),
            (-0.5, 1.0, 0.0),
            (1.0, 1.0, 0.0),
            (-1.0, 1.0, 0.0),
            (2.5, 0.0, 2.5),
            (0.0, 0.0, 0.0),
        ] {
            assert_eq!(soft_threshold(z, a), expected, "S_{a}({z})");
            // sign(z) max(|z| - a, 0), and the prox definition: the
            // minimizer of a |x| + 0.5 (x - z)^2 beats its neighbours.
            assert_eq!(expected, f64::signum(z) * (z.abs() - a).max(0.0));
            let objective = |x: f64| a * x.abs() + 0.5 * (x - z).powi(2);
            assert!(objective(expected) <= objective(expected + 1e-3));
            assert!(objective(expected) <= objective(expected - 1e-3));
        }
        assert_eq!(soft_threshold(3.0f32, 1.0), 2.0f32);
    }

    /// `0.5 (x - 3)^2 + l1 |x|`: the smooth gradient is `x - 3`.
    fn ista_on_the_1d_lasso(lr: f64, l1: f64, x0: f64, iterations: usize) -> f64 {
        let mut optimizer = Optimizer::<Ista, f64>::new(Ista { lr, l1 }).unwrap();
        let mut x = array![x0];
        for _ in 0..iterations {
            let g = array![x[0] - 3.0];
            optimizer.step(&mut x, &g).unwrap();
        }
        x[0]
    }

    #[test]
    fn ista_solves_the_1d_lasso_exactly() {
        // x* = S_1(3) = 2; with lr = 1 one step lands on it:
        // x - 1 (x - 3) = 3, S_1(3) = 2.
        assert_eq!(ista_on_the_1d_lasso(1.0, 1.0, 0.0, 1), 2.0);
        // lr = 0.5: x <- S_0.5(0.5 x + 1.5) = 0.5 x + 1 (x > -1), halving x - 2.
        assert_eq!(ista_on_the_1d_lasso(0.5, 1.0, 0.0, 1), 1.0);
        assert_eq!(ista_on_the_1d_lasso(0.5, 1.0, 0.0, 2), 1.5);
        assert_eq!(ista_on_the_1d_lasso(0.5, 1.0, 10.0, 80), 2.0);
        // l1 > 3: x* = 0, reached exactly: from 10 with lr = 0.5, l1 = 4:
        // S_2(6.5) = 4.5, S_2(3.75) = 1.75, S_2(2.375) = 0.375, S_2(1.6875) = 0.
        assert_eq!(ista_on_the_1d_lasso(0.5, 4.0, 10.0, 3), 0.375);
        assert_eq!(ista_on_the_1d_lasso(0.5, 4.0, 10.0, 4), 0.0);
        assert_eq!(ista_on_the_1d_lasso(0.5, 4.0, 10.0, 50), 0.0);
        assert_eq!(ista_on_the_1d_lasso(1.0, 3.5, -7.0, 20), 0.0);
    }

    /// `f(x) = 0.5 sum_i a_i (x_i - c_i)^2`, condition number 1e4, with
    /// `l1 = 1e-3`: `x_i* = S_{l1/a_i}(c_i)`, i.e.
    /// `[S_0.001(3), S_0.01(-2), S_10(0)] = [2.999, -1.99, 0]`.
    const A: [f64; 3] = [1.0, 0.1, 1e-4];
    const C: [f64; 3] = [3.0, -2.0, 0.0];
    const L1: f64 = 1e-3;
    const SOLUTION: [f64; 3] = [2.999, -1.99, 0.0];
    const START: [f64; 3] = [0.0, 0.0, 10.0];

    fn gradient(x: &Array1<f64>) -> Array1<f64> {
        Array1::from_shape_fn(3, |i| A[i] * (x[i] - C[i]))
    }

    fn error(x: &[f64]) -> f64 {
        x.iter()
            .zip(SOLUTION)
            .map(|(x, s)| (x - s).abs())
            .fold(0.0, f64::max)
    }

    /// Iterations until the iterate is within `tolerance` of the solution
    /// and stays there for 100 more; the optimizer after them.
    fn iterations_to_solve<M: Method>(config: M, tolerance: f64) -> (usize, Optimizer<M, f64>) {
        let mut optimizer = Optimizer::<M, f64>::new(config).unwrap();
        let mut x = Array1::from(START.to_vec());
        let mut first_within = None;
        for k in 1..=100_000 {
            let g = gradient(&x);
            optimizer.step(&mut x, &g).unwrap();
            match (error(x.as_slice().unwrap()) <= tolerance, first_within) {
                (true, None) => first_within = Some(k),
                (true, Some(first)) if k >= first + 100 => return (first, optimizer),
                (false, _) => first_within = None,
                _ => {}
            }
        }
        panic!("no convergence: {x}");
    }

    #[test]
    fn fista_beats_ista_on_an_ill_conditioned_lasso() {
        let tolerance = 1e-12;
        let (ista, _) = iterations_to_solve(Ista { lr: 1.0, l1: L1 }, tolerance);
        let (fista, optimizer) = iterations_to_solve(Fista { lr: 1.0, l1: L1 }, tolerance);
        // ISTA moves the third coordinate by x <- S_0.001(x - 1e-4 x) =
        // 0.9999 x - 0.001, i.e. x_k = 20 (0.9999)^k - 10, until it is
        // thresholded to 0 at k = ln 2 / -ln 0.9999 = 6932.
        assert_eq!(ista, 6932);
        // FISTA's momentum covers the distance in about sqrt of that (707).
        assert!(fista * 5 < ista, "FISTA: {fista}, ISTA: {ista}");
        // Its prox iterate x_k has reached the solution too.
        let last = &optimizer.save_state().arrays[0].buffer;
        assert!(error(last) <= tolerance, "{last:?}");
    }

    #[test]
    fn fista_first_steps_by_hand() {
        // 1-D lasso 0.5 (x - 3)^2 + |x|, lr = 0.5, from y_0 = x_0 = 0.
        let mut optimizer = Optimizer::<Fista, f64>::new(Fista { lr: 0.5, l1: 1.0 }).unwrap();
        let mut y = array![0.0];
        // k = 1: x_1 = S_0.5(0 + 1.5) = 1, t_2 = (1 + sqrt(5)) / 2, y_1 = x_1 (t_1 - 1 = 0).
        let g = array![y[0] - 3.0];
        optimizer.step(&mut y, &g).unwrap();
        assert_eq!(y[0], 1.0);
        let t2 = (1.0 + 5.0f64.sqrt()) / 2.0;
        assert_eq!(optimizer.save_state().arrays[0].scalar, t2);
        // k = 2: x_2 = S_0.5(1 + 1) = 1.5, t_3 = (1 + sqrt(1 + 4 t_2^2)) / 2,
        // y_2 = 1.5 + ((t_2 - 1) / t_3)(1.5 - 1).
        let g = array![y[0] - 3.0];
        optimizer.step(&mut y, &g).unwrap();
        let t3 = (1.0 + (1.0 + 4.0 * t2 * t2).sqrt()) / 2.0;
        assert_eq!(y[0], 1.5 + (t2 - 1.0) / t3 * 0.5);
        assert_eq!(optimizer.save_state().arrays[0].buffer, vec![1.5]);
    }

    #[test]
    fn invalid_hyperparameters_are_errors() {
        for (lr, l1) in [
            (0.0, 1.0),
            (-1.0, 0.0),
            (f64::NAN, 0.0),
            (1.0, -1.0),
            (1.0, f64::INFINITY),
        ] {
            assert!(matches!(
                Optimizer::<Ista, f64>::new(Ista { lr, l1 }),
                Err(OptError::InvalidHyperparameter { .. })
            ));
            assert!(matches!(
                Optimizer::<Fista, f64>::new(Fista { lr, l1 }),
                Err(OptError::InvalidHyperparameter { .. })
            ));
        }
        let mut optimizer = Optimizer::<Fista, f32>::new(Fista::default()).unwrap();
        assert!(optimizer.set_learning_rate(0.0).is_err());
        assert_eq!(optimizer.learning_rate(), 1e-3);
    }
}
