//! Small finite sums written for these tests: logistic and least-squares
//! regression with a generalized-linear view, and a wrapper that hides the
//! view (and optionally the Lipschitz constants) to force the dense path.

#![allow(dead_code)]

use ndarray::{Array1, Array2, ArrayView1};
use opt_core::{
    Counted, FiniteSum, GeneralizedLinear, IterState, Objective, Result, Solver, check_batch,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Which loss a [`Glm`] has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// `phi_i(t) = log(1 + exp(-y_i t))`, labels in `{-1, +1}`.
    Logistic,
    /// `phi_i(t) = (t - y_i)^2 / 2`.
    Squares,
}

/// `f(x) = (1/n) sum_i phi_i(a_i.x) + (l2/2) ||x||^2`.
#[derive(Debug, Clone)]
pub struct Glm {
    pub a: Array2<f64>,
    pub y: Array1<f64>,
    pub l2: f64,
    pub loss: Loss,
}

fn sigmoid_neg(m: f64) -> f64 {
    if m > 0.0 {
        let e = (-m).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + m.exp())
    }
}

impl Glm {
    /// `n x d` Gaussian features with column scales from 1 to 3 and one
    /// large-norm row; logistic labels from a planted `w`, or noisy
    /// linear targets.
    pub fn random(n: usize, d: usize, l2: f64, loss: Loss, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut normal = move || {
            // Box-Muller
            let u: f64 = 1.0 - rng.random::<f64>();
            let v: f64 = rng.random();
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        let w: Vec<f64> = (0..d).map(|_| normal()).collect();
        let mut a = Array2::zeros((n, d));
        for i in 0..n {
            for j in 0..d {
                a[[i, j]] = normal() * (1.0 + 2.0 * j as f64 / d as f64);
            }
        }
        if n > 1 {
            a.row_mut(0).mapv_inplace(|v| 2.0 * v);
        }
        let y = (0..n)
            .map(|i| {
                let margin: f64 = (0..d).map(|j| a[[i, j]] * w[j]).sum();
                match loss {
                    Loss::Logistic => {
                        if normal() < margin {
                            1.0
                        } else {
                            -1.0
                        }
                    }
                    Loss::Squares => margin + 0.5 * normal(),
                }
            })
            .collect();
        Self { a, y, l2, loss }
    }

    fn phi(&self, i: usize, t: f64) -> f64 {
        match self.loss {
            Loss::Logistic => {
                let m = self.y[i] * t;
                if m > 0.0 {
                    (-m).exp().ln_1p()
                } else {
                    -m + m.exp().ln_1p()
                }
            }
            Loss::Squares => 0.5 * (t - self.y[i]).powi(2),
        }
    }

    fn dphi(&self, i: usize, t: f64) -> f64 {
        match self.loss {
            Loss::Logistic => -self.y[i] * sigmoid_neg(self.y[i] * t),
            Loss::Squares => t - self.y[i],
        }
    }

    fn curvature_bound(&self) -> f64 {
        match self.loss {
            Loss::Logistic => 0.25,
            Loss::Squares => 1.0,
        }
    }

    fn mean(&self, x: &Array1<f64>, rows: &[usize], grad: &mut Array1<f64>) -> f64 {
        grad.fill(0.0);
        let mut value = 0.0;
        for &i in rows {
            let t = self.a.row(i).dot(x);
            value += self.phi(i, t);
            grad.scaled_add(self.dphi(i, t), &self.a.row(i));
        }
        let scale = 1.0 / rows.len() as f64;
        grad.mapv_inplace(|g| g * scale);
        grad.scaled_add(self.l2, x);
        value * scale + 0.5 * self.l2 * x.dot(x)
    }

    /// `x*` by damped Newton (dense Hessian, Cholesky).
    pub fn newton(&self) -> Array1<f64> {
        let (n, d) = self.a.dim();
        let mut x = Array1::zeros(d);
        let mut g = Array1::zeros(d);
        let all: Vec<usize> = (0..n).collect();
        let mut f = self.mean(&x, &all, &mut g);
        for _ in 0..100 {
            let mut h = Array2::<f64>::eye(d) * self.l2;
            for i in 0..n {
                let row = self.a.row(i);
                let c = match self.loss {
                    Loss::Logistic => {
                        let s = sigmoid_neg(self.y[i] * row.dot(&x));
                        s * (1.0 - s)
                    }
                    Loss::Squares => 1.0,
                } / n as f64;
                for p in 0..d {
                    for q in 0..d {
                        h[[p, q]] += c * row[p] * row[q];
                    }
                }
            }
            let step = cholesky_solve(&h, &g);
            let mut t = 1.0;
            loop {
                let trial = &x - &(t * &step);
                let mut g_trial = Array1::zeros(d);
                let f_trial = self.mean(&trial, &all, &mut g_trial);
                if f_trial <= f - 1e-4 * t * g.dot(&step) || t < 1e-12 {
                    x = trial;
                    break;
                }
                t *= 0.5;
            }
            let f_new = self.mean(&x, &all, &mut g);
            let done = f_new >= f || g.iter().all(|v| v.abs() < 1e-15);
            f = f.min(f_new);
            if done {
                break;
            }
        }
        x
    }
}

/// `A^{-1} b` for a symmetric positive definite `A`.
pub fn cholesky_solve(a: &Array2<f64>, b: &Array1<f64>) -> Array1<f64> {
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

impl Objective for Glm {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.a.ncols()
    }

    fn value(&self, x: &Array1<f64>) -> Result<f64> {
        let mut grad = Array1::zeros(self.dim());
        self.value_and_grad(x, &mut grad)
    }

    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> Result<f64> {
        let all: Vec<usize> = (0..self.a.nrows()).collect();
        Ok(self.mean(x, &all, grad))
    }
}

impl FiniteSum for Glm {
    fn num_samples(&self) -> usize {
        self.a.nrows()
    }

    fn batch_value_and_grad(
        &self,
        x: &Array1<f64>,
        indices: &[usize],
        grad: &mut Array1<f64>,
    ) -> Result<f64> {
        check_batch(indices, self.a.nrows())?;
        Ok(self.mean(x, indices, grad))
    }

    fn lipschitz_constants(&self) -> Option<Vec<f64>> {
        Some(
            self.a
                .rows()
                .into_iter()
                .map(|a| self.curvature_bound() * a.dot(&a) + self.l2)
                .collect(),
        )
    }

    fn generalized_linear(&self) -> Option<&dyn GeneralizedLinear<f64>> {
        Some(self)
    }
}

impl GeneralizedLinear<f64> for Glm {
    fn num_samples(&self) -> usize {
        self.a.nrows()
    }
    fn features(&self, i: usize) -> ArrayView1<'_, f64> {
        self.a.row(i)
    }
    fn loss(&self, i: usize, margin: f64) -> f64 {
        self.phi(i, margin)
    }
    fn loss_derivative(&self, i: usize, margin: f64) -> f64 {
        self.dphi(i, margin)
    }
    fn l2(&self) -> f64 {
        self.l2
    }
}

/// A problem seen without its generalized-linear view (and, unless
/// `constants`, without Lipschitz constants).
#[derive(Debug, Clone)]
pub struct Opaque<P> {
    pub inner: P,
    pub constants: bool,
}

impl<P: Objective> Objective for Opaque<P> {
    type Vector = P::Vector;
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn value(&self, x: &P::Vector) -> Result<opt_core::ScalarOf<P::Vector>> {
        self.inner.value(x)
    }
    fn value_and_grad(
        &self,
        x: &P::Vector,
        grad: &mut P::Vector,
    ) -> Result<opt_core::ScalarOf<P::Vector>> {
        self.inner.value_and_grad(x, grad)
    }
}

impl<P: FiniteSum> FiniteSum for Opaque<P> {
    fn num_samples(&self) -> usize {
        self.inner.num_samples()
    }
    fn batch_value_and_grad(
        &self,
        x: &P::Vector,
        indices: &[usize],
        grad: &mut P::Vector,
    ) -> Result<opt_core::ScalarOf<P::Vector>> {
        self.inner.batch_value_and_grad(x, indices, grad)
    }
    fn lipschitz_constants(&self) -> Option<Vec<opt_core::ScalarOf<P::Vector>>> {
        if self.constants {
            self.inner.lipschitz_constants()
        } else {
            None
        }
    }
}

/// Run `passes` iterations of `solver` from 0 on a fresh counter; the
/// final state and the counter.
pub fn run<P, S>(problem: P, solver: &mut S, passes: usize) -> (IterState<Array1<f64>>, Counted<P>)
where
    P: FiniteSum<Vector = Array1<f64>>,
    S: Solver<P>,
{
    let problem = Counted::finite_sum(problem);
    let mut state = IterState::new(Array1::zeros(problem.dim()));
    solver.init(&problem, &mut state).expect("init");
    for _ in 0..passes {
        let stop = solver.next_iter(&problem, &mut state).expect("next_iter");
        assert!(stop.is_none(), "stopped early: {stop:?}");
        state.iter += 1;
    }
    (state, problem)
}

/// `max_j |a_j - b_j| / max(1, max_j |b_j|)`.
pub fn relative_difference(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}
