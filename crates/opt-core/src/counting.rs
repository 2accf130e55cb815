//! Evaluation counting, done once by a wrapper rather than by every problem.

use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::problem::{FiniteSum, GeneralizedLinear, LeastSquares, Objective, ScalarOf};

/// How many times each kind of evaluation was made.
///
/// - `f`: objective values (alone or with a gradient) and residual vectors;
/// - `grad`: gradients, full or mini-batch;
/// - `hvp`: Hessian-vector products;
/// - `jac`: Jacobians and Jacobian products (`J v`, `J^T u`);
/// - `samples`: per-sample gradient evaluations of a finite sum (a full
///   gradient counts `n`, a mini-batch its size), so `samples / n` is the
///   number of effective passes over the data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evals {
    pub f: u64,
    pub grad: u64,
    pub hvp: u64,
    pub jac: u64,
    pub samples: u64,
}

#[derive(Debug, Default)]
struct Counters {
    f: AtomicU64,
    grad: AtomicU64,
    hvp: AtomicU64,
    jac: AtomicU64,
    samples: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// A problem wrapper that counts evaluations; it implements every problem
/// trait its inner problem implements.
///
/// Counters are atomic, so a `Counted<P>` can be shared between threads.
/// [`Counted::inner`] gives uncounted access, for monitoring that should not
/// be charged to the method (e.g. the full objective logged during SGD).
#[derive(Debug)]
pub struct Counted<P> {
    inner: P,
    samples_per_full_evaluation: u64,
    counters: Counters,
}

impl<P> Counted<P> {
    /// Wrap `inner`; full evaluations count no samples.
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            samples_per_full_evaluation: 0,
            counters: Counters::default(),
        }
    }

    /// Wrap a finite sum: each full gradient counts `num_samples` samples.
    pub fn finite_sum(inner: P) -> Self
    where
        P: FiniteSum,
    {
        let n = inner.num_samples() as u64;
        Self {
            inner,
            samples_per_full_evaluation: n,
            counters: Counters::default(),
        }
    }

    /// The wrapped problem, for evaluations that are not counted.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// Unwrap.
    pub fn into_inner(self) -> P {
        self.inner
    }

    /// The counts so far.
    pub fn evals(&self) -> Evals {
        let c = &self.counters;
        Evals {
            f: c.f.load(Ordering::Relaxed),
            grad: c.grad.load(Ordering::Relaxed),
            hvp: c.hvp.load(Ordering::Relaxed),
            jac: c.jac.load(Ordering::Relaxed),
            samples: c.samples.load(Ordering::Relaxed),
        }
    }

    /// Effective passes over the data: samples evaluated / samples per full
    /// evaluation, or the number of gradients for a problem that is not a
    /// finite sum.
    pub fn passes(&self) -> f64 {
        let evals = self.evals();
        if self.samples_per_full_evaluation == 0 {
            evals.grad as f64
        } else {
            evals.samples as f64 / self.samples_per_full_evaluation as f64
        }
    }

    /// Add evaluations the wrapper could not see: those a method makes
    /// through a view of the inner problem, such as the generalized-linear
    /// view ([`FiniteSum::generalized_linear`] returns the inner problem's
    /// view, uncounted). A method that computes per-sample derivatives
    /// `phi_i'(a_i . x)` there charges them here (`grad` and `samples` one
    /// each per sample), so its effective passes are counted like those of
    /// a method that calls [`FiniteSum::batch_value_and_grad`].
    pub fn charge(&self, evals: Evals) {
        let c = &self.counters;
        for (counter, by) in [
            (&c.f, evals.f),
            (&c.grad, evals.grad),
            (&c.hvp, evals.hvp),
            (&c.jac, evals.jac),
            (&c.samples, evals.samples),
        ] {
            if by > 0 {
                bump(counter, by);
            }
        }
    }

    /// Set every counter back to zero.
    pub fn reset(&self) {
        let c = &self.counters;
        for counter in [&c.f, &c.grad, &c.hvp, &c.jac, &c.samples] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

impl<P: Objective> Objective for Counted<P> {
    type Vector = P::Vector;

    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn value(&self, x: &Self::Vector) -> Result<ScalarOf<Self::Vector>> {
        bump(&self.counters.f, 1);
        self.inner.value(x)
    }

    fn value_and_grad(
        &self,
        x: &Self::Vector,
        grad: &mut Self::Vector,
    ) -> Result<ScalarOf<Self::Vector>> {
        bump(&self.counters.f, 1);
        bump(&self.counters.grad, 1);
        bump(&self.counters.samples, self.samples_per_full_evaluation);
        self.inner.value_and_grad(x, grad)
    }

    fn hvp(&self, x: &Self::Vector, v: &Self::Vector, out: &mut Self::Vector) -> Result<()> {
        bump(&self.counters.hvp, 1);
        self.inner.hvp(x, v, out)
    }
}

impl<P: FiniteSum> FiniteSum for Counted<P> {
    fn num_samples(&self) -> usize {
        self.inner.num_samples()
    }

    fn batch_value_and_grad(
        &self,
        x: &Self::Vector,
        indices: &[usize],
        grad: &mut Self::Vector,
    ) -> Result<ScalarOf<Self::Vector>> {
        bump(&self.counters.f, 1);
        bump(&self.counters.grad, 1);
        bump(&self.counters.samples, indices.len() as u64);
        self.inner.batch_value_and_grad(x, indices, grad)
    }

    fn lipschitz_constants(&self) -> Option<Vec<ScalarOf<Self::Vector>>> {
        self.inner.lipschitz_constants()
    }

    /// The inner problem's view: evaluations through it are not counted;
    /// a method using it reports them with [`Counted::charge`].
    fn generalized_linear(&self) -> Option<&dyn GeneralizedLinear<ScalarOf<Self::Vector>>> {
        self.inner.generalized_linear()
    }
}

impl<P: LeastSquares> LeastSquares for Counted<P> {
    type Scalar = P::Scalar;

    fn num_parameters(&self) -> usize {
        self.inner.num_parameters()
    }
    fn num_residuals(&self) -> usize {
        self.inner.num_residuals()
    }
    fn residuals(&self, x: &Array1<P::Scalar>, residuals: &mut Array1<P::Scalar>) -> Result<()> {
        bump(&self.counters.f, 1);
        self.inner.residuals(x, residuals)
    }
    fn jacobian(&self, x: &Array1<P::Scalar>, jacobian: &mut Array2<P::Scalar>) -> Result<()> {
        bump(&self.counters.jac, 1);
        self.inner.jacobian(x, jacobian)
    }
    fn jvp(
        &self,
        x: &Array1<P::Scalar>,
        v: &Array1<P::Scalar>,
        out: &mut Array1<P::Scalar>,
    ) -> Result<()> {
        bump(&self.counters.jac, 1);
        self.inner.jvp(x, v, out)
    }
    fn jtvp(
        &self,
        x: &Array1<P::Scalar>,
        u: &Array1<P::Scalar>,
        out: &mut Array1<P::Scalar>,
    ) -> Result<()> {
        bump(&self.counters.jac, 1);
        self.inner.jtvp(x, u, out)
    }
    fn value_scale(&self) -> P::Scalar {
        self.inner.value_scale()
    }
}
