//! TONGA: the low-rank solve against the dense natural gradient, its
//! advantage over SGD on an ill-conditioned noisy least-squares problem, and
//! bad input.

use ndarray::{Array1, Array2, array};
use opt_core::{OptError, Stepper};
use opt_second_order::linalg::cholesky;
use opt_second_order::tonga::{Tonga, TongaConfig};

/// SplitMix64 (Steele, Lea & Flood 2014) with Box-Muller normals: a seeded
/// stream that does not depend on any crate's version.
struct Random(u64);

impl Random {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// `(C + lambda I)^{-1} g` with `C = sum_a gamma^a g_a g_a'` formed densely
/// (`gradients` newest first).
fn dense_natural_gradient(gradients: &[Array1<f64>], gamma: f64, lambda: f64) -> Array1<f64> {
    let n = gradients[0].len();
    let mut c = Array2::<f64>::eye(n) * lambda;
    for (age, g) in gradients.iter().enumerate() {
        let w = gamma.powi(age as i32);
        for i in 0..n {
            for j in 0..n {
                c[[i, j]] += w * g[i] * g[j];
            }
        }
    }
    cholesky(&c)
        .unwrap()
        .expect("positive definite")
        .solve(&gradients[0])
}

#[test]
fn step_equals_the_dense_natural_gradient() {
    // Gradients in R^6, k = 4 kept (so the ring buffer wraps), against the
    // dense (C + lambda I)^{-1} g of the same gradients, to 1e-10.
    let mut random = Random(7);
    let (k, gamma, lambda, lr) = (4, 0.9, 0.05, 0.3);
    let config = TongaConfig {
        lr,
        k,
        lambda,
        gamma,
    };
    let mut tonga = Tonga::new(config).unwrap();
    let mut x = Array1::<f64>::zeros(6);
    let mut seen: Vec<Array1<f64>> = Vec::new();
    for step in 0..9 {
        let scale = [1.0, 10.0, 0.1][step % 3];
        let g = Array1::from_shape_fn(6, |_| scale * random.normal());
        seen.insert(0, g.clone());
        let kept = &seen[..seen.len().min(k)];
        let expected = dense_natural_gradient(kept, gamma, lambda);
        let before = x.clone();
        tonga.step(&mut x, &g).unwrap();
        let step_taken = (&before - &x) / lr;
        let error = (&step_taken - &expected)
            .iter()
            .fold(0.0_f64, |m, e| m.max(e.abs()));
        let size = expected.iter().fold(0.0_f64, |m, e| m.max(e.abs()));
        assert!(
            error < 1e-10 * size,
            "step {step}: error {error:e}, size {size:e}"
        );
    }
    assert_eq!(tonga.num_gradients(), k);
}

#[test]
fn step_equals_the_woodbury_formula_for_the_newest_gradient() {
    // (lambda I + G G')^{-1} g = (g - G (lambda I + G'G)^{-1} G'g) / lambda,
    // G = [g_1, sqrt(gamma) g_0]; checked on a 3-D example by hand.
    let (gamma, lambda): (f64, f64) = (0.5, 2.0);
    let g0 = array![1.0, 0.0, 2.0];
    let g1 = array![0.0, 3.0, -1.0];
    let mut tonga = Tonga::new(TongaConfig {
        lr: 1.0,
        k: 2,
        lambda,
        gamma,
    })
    .unwrap();
    let mut x = Array1::<f64>::zeros(3);
    tonga.step(&mut x, &g0).unwrap();
    let before = x.clone();
    tonga.step(&mut x, &g1).unwrap();
    let taken = &before - &x;

    let w = gamma.sqrt();
    let columns = [g1.clone(), &g0 * w];
    let gram = Array2::from_shape_fn((2, 2), |(a, b)| columns[a].dot(&columns[b]));
    let system = &gram + &(Array2::<f64>::eye(2) * lambda);
    let rhs = array![columns[0].dot(&g1), columns[1].dot(&g1)];
    let c = cholesky(&system).unwrap().unwrap().solve(&rhs);
    let woodbury = (&g1 - &(&columns[0] * c[0] + &columns[1] * c[1])) / lambda;
    assert!(
        (&taken - &woodbury).iter().all(|e| e.abs() < 1e-14),
        "{taken} vs {woodbury}"
    );
}

/// Noisy linear least squares with features of scales 1 and 10 (Hessian
/// diag(1, 100) in expectation), `f(x) = (1/2n) ||A x - y||^2`.
struct NoisyLeastSquares {
    a: Array2<f64>,
    y: Array1<f64>,
    minimizer: Array1<f64>,
    f_min: f64,
}

impl NoisyLeastSquares {
    fn new(n: usize, seed: u64) -> Self {
        let mut random = Random(seed);
        let scales = [1.0, 10.0];
        let a = Array2::from_shape_fn((n, 2), |(_, j)| scales[j] * random.normal());
        let truth = array![1.0, -2.0];
        let y = Array1::from_shape_fn(n, |i| a.row(i).dot(&truth) + random.normal());
        let h = a.t().dot(&a) / n as f64;
        let minimizer = cholesky(&h)
            .unwrap()
            .unwrap()
            .solve(&(a.t().dot(&y) / n as f64));
        let mut problem = Self {
            a,
            y,
            minimizer,
            f_min: 0.0,
        };
        problem.f_min = problem.value(&problem.minimizer.clone());
        problem
    }

    fn value(&self, x: &Array1<f64>) -> f64 {
        let r = self.a.dot(x) - &self.y;
        0.5 * r.dot(&r) / self.y.len() as f64
    }

    fn batch_gradient(&self, x: &Array1<f64>, batch: &[usize]) -> Array1<f64> {
        let mut g = Array1::zeros(2);
        for &i in batch {
            let row = self.a.row(i);
            g.scaled_add(row.dot(x) - self.y[i], &row);
        }
        g / batch.len() as f64
    }

    /// Mean of `f - f*` over the last `tail` of `steps` mini-batch steps of
    /// `stepper` from `x0` (batches of `batch` drawn with replacement from a
    /// fixed seed, the same for every method).
    fn run(
        &self,
        stepper: &mut dyn Stepper<Array1<f64>>,
        x0: &Array1<f64>,
        steps: usize,
        batch: usize,
        tail: usize,
    ) -> f64 {
        let mut random = Random(99);
        let mut x = x0.clone();
        let mut total = 0.0;
        for step in 0..steps {
            let indices: Vec<usize> = (0..batch).map(|_| random.below(self.y.len())).collect();
            let g = self.batch_gradient(&x, &indices);
            stepper.step(&mut x, &g).unwrap();
            if step >= steps - tail {
                total += self.value(&x) - self.f_min;
            }
        }
        total / tail as f64
    }
}

/// Plain SGD.
#[derive(Debug)]
struct Sgd(f64);

impl Stepper<Array1<f64>> for Sgd {
    fn step(&mut self, params: &mut Array1<f64>, grad: &Array1<f64>) -> opt_core::Result<()> {
        params.scaled_add(-self.0, grad);
        Ok(())
    }
    fn learning_rate(&self) -> f64 {
        self.0
    }
    fn set_learning_rate(&mut self, lr: f64) -> opt_core::Result<()> {
        self.0 = lr;
        Ok(())
    }
}

#[test]
fn natural_gradient_beats_the_best_sgd_on_an_ill_conditioned_noisy_problem() {
    // Near the optimum the gradient noise dominates and its covariance is
    // proportional to the Hessian, so TONGA's step is close to a Newton step
    // and progresses at the same rate along both curvatures; SGD's rate
    // along the flat direction is limited by the stiff one. Measured mean
    // f - f* over the last 100 of 400 steps (batch 10), data seeds 3 to 6:
    // TONGA (k = 10, lr = 0.05) 3.9e-3, 3.4e-3, 2.2e-3, 2.6e-3; the best SGD
    // on a grid of 12 rates from 1e-4 to 2e-2 (2/L) 4.0e-2, 3.5e-2, 3.2e-2,
    // 3.4e-2.
    let problem = NoisyLeastSquares::new(1000, 3);
    let x0 = &problem.minimizer + &array![1.0, 0.1];
    let (steps, batch, tail) = (400, 10, 100);
    let best_sgd = (0..12)
        .map(|i| 1e-4 * (200.0_f64).powf(i as f64 / 11.0))
        .map(|lr| problem.run(&mut Sgd(lr), &x0, steps, batch, tail))
        .fold(f64::INFINITY, f64::min);
    let config = TongaConfig {
        lr: 0.05,
        k: 10,
        lambda: 1e-3,
        gamma: 0.995,
    };
    let tonga = problem.run(&mut Tonga::new(config).unwrap(), &x0, steps, batch, tail);
    assert!(tonga < 0.01, "TONGA {tonga:e}");
    assert!(best_sgd > 0.02, "SGD {best_sgd:e}");
}

#[test]
fn bad_input_is_an_error() {
    let base = TongaConfig::default();
    let bad = [
        (TongaConfig { lr: 0.0, ..base }, "lr"),
        (
            TongaConfig {
                lr: f64::INFINITY,
                ..base
            },
            "lr",
        ),
        (TongaConfig { k: 0, ..base }, "k"),
        (
            TongaConfig {
                lambda: 0.0,
                ..base
            },
            "lambda",
        ),
        (
            TongaConfig {
                lambda: f64::NAN,
                ..base
            },
            "lambda",
        ),
        (TongaConfig { gamma: 0.0, ..base }, "gamma"),
        (TongaConfig { gamma: 1.5, ..base }, "gamma"),
    ];
    for (config, name) in bad {
        match Tonga::<Array1<f64>>::new(config) {
            Err(OptError::InvalidHyperparameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{config:?}: {other:?}"),
        }
    }
    let mut tonga = Tonga::new(base).unwrap();
    let mut x = array![1.0, 2.0];
    assert!(matches!(
        tonga.step(&mut x, &array![1.0]),
        Err(OptError::ShapeMismatch { .. })
    ));
    tonga.step(&mut x, &array![1.0, -1.0]).unwrap();
    let before = x.clone();
    assert!(matches!(
        tonga.step(&mut x, &array![f64::NAN, 1.0]),
        Err(OptError::NonFinite { .. })
    ));
    assert_eq!(x, before);
    assert_eq!(tonga.num_gradients(), 1);
    let mut longer = array![1.0, 2.0, 3.0];
    assert!(matches!(
        tonga.step(&mut longer, &array![1.0, 1.0, 1.0]),
        Err(OptError::ShapeMismatch { .. })
    ));
    assert!(tonga.set_learning_rate(0.0).is_err());
    tonga.set_learning_rate(0.01).unwrap();
    assert_eq!(tonga.learning_rate(), 0.01);

    // lambda far below the rounding of G'G (two identical gradients: G'G is
    // singular): lambda is raised to the rounding level, so the step is
    // taken, finite, and along -g (the natural gradient of a rank-one
    // covariance whose direction is g itself).
    let mut tonga = Tonga::new(TongaConfig {
        lambda: 1e-300,
        k: 3,
        ..base
    })
    .unwrap();
    let mut x = array![0.0, 0.0];
    tonga.step(&mut x, &array![1e8, 1e8]).unwrap();
    let before = x.clone();
    tonga.step(&mut x, &array![1e8, 1e8]).unwrap();
    let moved: ndarray::Array1<f64> = &x - &before;
    assert!(moved.iter().all(|v| v.is_finite() && *v < 0.0), "{moved}");
    assert!(
        (moved[0] - moved[1]).abs() <= 1e-12 * moved[0].abs(),
        "{moved}"
    );
}
