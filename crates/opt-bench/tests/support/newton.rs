//! A reference optimum by damped Newton, shared by the variance-reduction
//! tests and the `vr_steps` example: the dense Hessian from `n`
//! Hessian-vector products, a Cholesky solve, Armijo backtracking, until `f`
//! stops falling. Test support only: the library's Newton method belongs
//! to `opt-second-order` (with faer), and should replace this once it exists.

use ndarray::{Array1, Array2};
use opt_core::Objective;

/// `(x*, f*, ||grad f(x*)||)` by damped Newton from 0.
pub fn newton_optimum(problem: &impl Objective<Vector = Array1<f64>>) -> (Array1<f64>, f64, f64) {
    let d = problem.dim();
    let mut x = Array1::zeros(d);
    let mut g = Array1::zeros(d);
    let mut f = problem.value_and_grad(&x, &mut g).unwrap();
    let mut hessian = Array2::zeros((d, d));
    let (mut unit, mut column) = (Array1::zeros(d), Array1::zeros(d));
    for _ in 0..100 {
        for j in 0..d {
            unit[j] = 1.0;
            problem.hvp(&x, &unit, &mut column).unwrap();
            unit[j] = 0.0;
            hessian.column_mut(j).assign(&column);
        }
        let step = cholesky_solve(&hessian, &g);
        let slope = -g.dot(&step);
        let mut t = 1.0;
        let mut trial = &x - &step;
        while problem.value(&trial).unwrap() > f + 1e-4 * t * slope && t > 1e-12 {
            t *= 0.5;
            trial = &x - &(t * &step);
        }
        let mut g_new = Array1::zeros(d);
        let f_new = problem.value_and_grad(&trial, &mut g_new).unwrap();
        if f_new > f {
            break;
        }
        let stalled = f_new == f;
        (x, f, g) = (trial, f_new, g_new);
        if stalled {
            break;
        }
    }
    let grad_norm = g.dot(&g).sqrt();
    (x, f, grad_norm)
}

/// `A^{-1} b` for a symmetric positive definite `A` (Cholesky).
fn cholesky_solve(a: &Array2<f64>, b: &Array1<f64>) -> Array1<f64> {
    let n = b.len();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            l[[i, j]] = if i == j {
                (a[[i, i]] - s).sqrt()
            } else {
                (a[[i, j]] - s) / l[[j, j]]
            };
        }
    }
    let mut y = Array1::zeros(n);
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[[i, k]] * y[k]).sum();
        y[i] = (b[i] - s) / l[[i, i]];
    }
    let mut x = Array1::zeros(n);
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[[k, i]] * x[k]).sum();
        x[i] = (y[i] - s) / l[[i, i]];
    }
    x
}
