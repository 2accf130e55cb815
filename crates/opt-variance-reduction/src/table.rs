//! The table of stored per-sample gradients that SAG and SAGA share, and
//! SAG's backtracking estimate of the Lipschitz constant.
//!
//! Generalized-linear problems store one scalar `s_i = phi_i'(a_i . x)` per
//! sample (the stored gradient of the loss part is `s_i a_i`; the ridge term
//! `l2 x` is left out of the table and applied exactly by the method);
//! other problems store the whole gradient `grad f_i` as a row of an
//! `n x d` array.

use std::slice;

use ndarray::{Array1, Array2, Zip};
use opt_core::{Counted, Evals, FiniteSum, GeneralizedLinear, OptError, Result, Scalar};

use crate::common::Memory;

/// Where the stored gradients live.
#[derive(Debug)]
enum Store<T> {
    /// `s_i`, one per sample.
    Linear { slopes: Vec<T> },
    /// `grad f_i` as row `i`, and a buffer for a fresh sample gradient.
    Dense { rows: Array2<T>, grad: Array1<T> },
}

/// Stored gradients (zero at the start) and which samples have one.
#[derive(Debug)]
pub(crate) struct GradientTable<T> {
    store: Store<T>,
    seen: Vec<bool>,
    num_seen: usize,
    /// The ridge coefficient the method applies exactly (linear store), 0
    /// for the dense store (whose rows include the ridge term).
    l2: T,
}

/// The generalized-linear view of a problem, checked against its size.
pub(crate) fn linear_view<P, S>(
    problem: &P,
    n: usize,
    dim: usize,
) -> Result<Option<&dyn GeneralizedLinear<S>>>
where
    P: FiniteSum<Vector = Array1<S>>,
    S: Scalar,
{
    let Some(glm) = problem.generalized_linear() else {
        return Ok(None);
    };
    opt_core::check_len("generalized-linear samples", n, glm.num_samples())?;
    opt_core::check_len("generalized-linear features", dim, glm.features(0).len())?;
    Ok(Some(glm))
}

/// The view, which [`linear_view`] found at `init`.
pub(crate) fn view<P, S>(problem: &P) -> Result<&dyn GeneralizedLinear<S>>
where
    P: FiniteSum<Vector = Array1<S>>,
    S: Scalar,
{
    problem
        .generalized_linear()
        .ok_or(OptError::Unsupported("a generalized-linear view"))
}

impl<S: Scalar> GradientTable<S> {
    /// A zero table for `n` samples of dimension `dim`: scalars when
    /// `memory` is `Auto` and the problem is generalized linear.
    pub(crate) fn new<P>(problem: &P, n: usize, dim: usize, memory: Memory) -> Result<Self>
    where
        P: FiniteSum<Vector = Array1<S>>,
    {
        let linear = match memory {
            Memory::Auto => linear_view(problem, n, dim)?,
            Memory::Dense => None,
        };
        let (store, l2) = match linear {
            Some(glm) => (
                Store::Linear {
                    slopes: vec![S::zero(); n],
                },
                glm.l2(),
            ),
            None => (
                Store::Dense {
                    rows: Array2::zeros((n, dim)),
                    grad: Array1::zeros(dim),
                },
                S::zero(),
            ),
        };
        Ok(Self {
            store,
            seen: vec![false; n],
            num_seen: 0,
            l2,
        })
    }

    /// Whether the table keeps one scalar per sample.
    pub(crate) fn is_linear(&self) -> bool {
        matches!(self.store, Store::Linear { .. })
    }

    /// The ridge coefficient the method must apply at the current `x`.
    pub(crate) fn l2(&self) -> S {
        self.l2
    }

    /// Distinct samples with a stored gradient.
    pub(crate) fn num_seen(&self) -> usize {
        self.num_seen
    }

    /// For each distinct `i` of `batch` (repeats adjacent; `k` the
    /// multiplicity): evaluate the sample gradient at `x`, add
    /// `delta_i = new_i - stored_i` to `acc` and, with `weighted = (acc_w,
    /// w)`, `k w_i delta_i` to `acc_w`; store `new_i`. Returns the number of
    /// sample gradients evaluated (distinct indices). With `search`, the
    /// Lipschitz estimate is raised on each sample as SAG's line search
    /// does. Per-sample evaluations through the generalized-linear view are
    /// charged to `problem` (`grad` and `samples` one each; `f` one per loss
    /// value of the search).
    pub(crate) fn refresh<P>(
        &mut self,
        problem: &Counted<P>,
        x: &Array1<S>,
        batch: &[usize],
        acc: &mut Array1<S>,
        mut weighted: Option<(&mut Array1<S>, &[S])>,
        mut search: Option<&mut LipschitzSearch<S>>,
    ) -> Result<usize>
    where
        P: FiniteSum<Vector = Array1<S>>,
    {
        let mut evaluated = 0;
        let mut k = 0;
        match &mut self.store {
            Store::Linear { slopes } => {
                let glm = view(problem)?;
                let mut values = 0;
                let mut outcome = Ok(());
                while k < batch.len() {
                    let (i, count) = run_at(batch, k);
                    k += count;
                    let a = glm.features(i);
                    let margin = a.dot(x);
                    let slope = glm.loss_derivative(i, margin);
                    evaluated += 1;
                    if let Some(search) = search.as_deref_mut() {
                        match search.linear(glm, i, margin, slope) {
                            Ok(evaluations) => values += evaluations,
                            Err(error) => {
                                outcome = Err(error);
                                break;
                            }
                        }
                    }
                    let change = slope - slopes[i];
                    if change != S::zero() {
                        acc.scaled_add(change, &a);
                        if let Some((acc_w, w)) = weighted.as_mut() {
                            acc_w.scaled_add(change * S::of(count as f64) * w[i], &a);
                        }
                    }
                    slopes[i] = slope;
                    if !self.seen[i] {
                        self.seen[i] = true;
                        self.num_seen += 1;
                    }
                }
                problem.charge(Evals {
                    f: values,
                    grad: evaluated as u64,
                    samples: evaluated as u64,
                    ..Evals::default()
                });
                outcome.map(|()| evaluated)
            }
            Store::Dense { rows, grad } => {
                while k < batch.len() {
                    let (i, count) = run_at(batch, k);
                    k += count;
                    let value = problem.batch_value_and_grad(x, slice::from_ref(&i), grad)?;
                    evaluated += 1;
                    if let Some(search) = search.as_deref_mut() {
                        search.dense(problem, x, i, value, grad)?;
                    }
                    match weighted.as_mut() {
                        None => Zip::from(&mut *acc)
                            .and(rows.row_mut(i))
                            .and(&*grad)
                            .for_each(|acc, stored, &new| {
                                *acc += new - *stored;
                                *stored = new;
                            }),
                        Some((acc_w, w)) => {
                            let weight = S::of(count as f64) * w[i];
                            Zip::from(&mut *acc)
                                .and(&mut **acc_w)
                                .and(rows.row_mut(i))
                                .and(&*grad)
                                .for_each(|acc, acc_w, stored, &new| {
                                    let change = new - *stored;
                                    *acc += change;
                                    *acc_w += weight * change;
                                    *stored = new;
                                });
                        }
                    }
                    if !self.seen[i] {
                        self.seen[i] = true;
                        self.num_seen += 1;
                    }
                }
                Ok(evaluated)
            }
        }
    }
}

/// The index at `batch[k]` and how many times it repeats from there.
#[inline]
pub(crate) fn run_at(batch: &[usize], k: usize) -> (usize, usize) {
    let i = batch[k];
    let count = batch[k..].iter().take_while(|&&j| j == i).count();
    (i, count)
}

/// Below this squared gradient norm a sample does not test the estimate
/// (`sqrt(eps)`, the threshold of the authors' code): rounding would
/// decide the sufficient-decrease test there.
const SEARCH_PRECISION: f64 = 1.490_116_119_384_765_6e-8;
/// Doublings of `L` one sample may ask for before the search gives up.
const MAX_DOUBLINGS: usize = 100;

/// SAG's estimate `L` of the Lipschitz constant (Schmidt et al. 2017,
/// sec. 4.6): on each sampled `f_i` with gradient `g_i`, double `L` until
/// `f_i(x - g_i / L) <= f_i(x) - ||g_i||^2 / (2 L)`; after each sample,
/// multiply `L` by `2^(-1/n)` so the estimate can come down again.
#[derive(Debug)]
pub(crate) struct LipschitzSearch<S> {
    /// The current estimate.
    pub(crate) l: f64,
    decay: f64,
    /// `||a_i||^2` (generalized-linear store).
    squared_norms: Vec<S>,
    /// `x - g_i / L` and a gradient buffer (dense store).
    trial: Array1<S>,
    scratch: Array1<S>,
}

impl<S: Scalar> LipschitzSearch<S> {
    /// Start at `l0` for `n` samples; `linear` keeps `||a_i||^2`.
    pub(crate) fn new<P>(problem: &P, l0: f64, n: usize, dim: usize, linear: bool) -> Result<Self>
    where
        P: FiniteSum<Vector = Array1<S>>,
    {
        let (squared_norms, trial, scratch) = if linear {
            let glm = view(problem)?;
            let norms = (0..n)
                .map(|i| {
                    let a = glm.features(i);
                    a.dot(&a)
                })
                .collect();
            (norms, Array1::zeros(0), Array1::zeros(0))
        } else {
            (Vec::new(), Array1::zeros(dim), Array1::zeros(dim))
        };
        Ok(Self {
            l: l0,
            decay: 2f64.powf(-1.0 / n as f64),
            squared_norms,
            trial,
            scratch,
        })
    }

    fn failed() -> OptError {
        OptError::LineSearch {
            reason: "the Lipschitz estimate grew past 2^100 times its value on one sample",
        }
    }

    /// The test on `phi_i` alone (the loss part; the method adds `l2` to
    /// the estimate): the trial margin is `a_i.x - s ||a_i||^2 / L`.
    /// Returns the number of loss values computed.
    fn linear(
        &mut self,
        glm: &dyn GeneralizedLinear<S>,
        i: usize,
        margin: S,
        slope: S,
    ) -> Result<u64> {
        let squared_norm = self.squared_norms[i];
        let gg = (slope * slope * squared_norm).to_f64_lossless();
        // Also skips a NaN norm (the run's monitoring reports the divergence).
        if gg.is_nan() || gg <= SEARCH_PRECISION {
            self.l *= self.decay;
            return Ok(0);
        }
        let value = glm.loss(i, margin).to_f64_lossless();
        let mut evaluations = 1;
        for _ in 0..MAX_DOUBLINGS {
            let shift = S::of(1.0 / self.l) * slope * squared_norm;
            let trial = glm.loss(i, margin - shift).to_f64_lossless();
            evaluations += 1;
            if trial <= value - gg / (2.0 * self.l) {
                self.l *= self.decay;
                return Ok(evaluations);
            }
            self.l *= 2.0;
        }
        Err(Self::failed())
    }

    /// The test on the whole `f_i` (ridge term included), with trial values
    /// from the uncounted problem charged as `f` evaluations.
    fn dense<P>(
        &mut self,
        problem: &Counted<P>,
        x: &Array1<S>,
        i: usize,
        value: S,
        grad: &Array1<S>,
    ) -> Result<()>
    where
        P: FiniteSum<Vector = Array1<S>>,
    {
        let gg = grad.dot(grad).to_f64_lossless();
        // Also skips a NaN norm (the run's monitoring reports the divergence).
        if gg.is_nan() || gg <= SEARCH_PRECISION {
            self.l *= self.decay;
            return Ok(());
        }
        let value = value.to_f64_lossless();
        for _ in 0..MAX_DOUBLINGS {
            let step = S::of(1.0 / self.l);
            Zip::from(&mut self.trial)
                .and(x)
                .and(grad)
                .for_each(|t, &x, &g| *t = x - step * g);
            let trial = problem
                .inner()
                .batch_value_and_grad(&self.trial, slice::from_ref(&i), &mut self.scratch)?
                .to_f64_lossless();
            problem.charge(Evals {
                f: 1,
                ..Evals::default()
            });
            if trial <= value - gg / (2.0 * self.l) {
                self.l *= self.decay;
                return Ok(());
            }
            self.l *= 2.0;
        }
        Err(Self::failed())
    }
}

/// A fixed step size, or SAG's line-searched `1 / (L + l2)`.
#[derive(Debug)]
pub(crate) enum StepSize<S> {
    Fixed(f64),
    Search(LipschitzSearch<S>),
}

impl<S: Scalar> StepSize<S> {
    /// The step for the next update; `l2` is the table's ridge coefficient
    /// (0 for the dense store, whose estimate includes it).
    pub(crate) fn alpha(&self, l2: S) -> f64 {
        match self {
            StepSize::Fixed(alpha) => *alpha,
            StepSize::Search(search) => 1.0 / (search.l + l2.to_f64_lossless()),
        }
    }

    pub(crate) fn search(&mut self) -> Option<&mut LipschitzSearch<S>> {
        match self {
            StepSize::Fixed(_) => None,
            StepSize::Search(search) => Some(search),
        }
    }
}

/// The buffers a table method updates besides the table.
#[derive(Debug)]
pub(crate) struct Buffers<S> {
    /// `d`: the sum of the stored gradients (loss parts for the linear store).
    pub(crate) sum: Array1<S>,
    /// The change of `d` over the current mini-batch.
    pub(crate) delta: Array1<S>,
    /// `sum_j k_j w_j delta_j` over the mini-batch (weighted SAGA; empty
    /// otherwise).
    pub(crate) weighted_delta: Array1<S>,
    /// The current mini-batch (capacity `b`).
    pub(crate) batch: Vec<usize>,
}

impl<S: Scalar> Buffers<S> {
    pub(crate) fn new(dim: usize, batch_size: usize, weighted: bool) -> Self {
        Self {
            sum: Array1::zeros(dim),
            delta: Array1::zeros(dim),
            weighted_delta: Array1::zeros(if weighted { dim } else { 0 }),
            batch: Vec::with_capacity(batch_size),
        }
    }
}

/// The `init = sgd` pass: plain SGD over a fresh random permutation in
/// mini-batches `B` of `batch_size`, storing each sample gradient it
/// computes: `x <- prox_{alpha l1}(x - alpha ((1/|B|) sum_{j in B} g_j + l2 x))`
/// (`l2` the table's exact ridge term, 0 for the dense store) and
/// `d <- d + sum_{j in B} g_j`. Afterwards every sample has an entry.
pub(crate) fn sgd_pass<P, S>(
    table: &mut GradientTable<S>,
    sampler: &mut crate::sampling::IndexSampler,
    buffers: &mut Buffers<S>,
    step: &mut StepSize<S>,
    problem: &Counted<P>,
    x: &mut Array1<S>,
    batch_size: usize,
    l1: f64,
) -> Result<()>
where
    P: FiniteSum<Vector = Array1<S>>,
    S: Scalar,
{
    sampler.shuffle();
    let n = sampler.permutation().len();
    let mut start = 0;
    while start < n {
        let end = (start + batch_size).min(n);
        buffers.batch.clear();
        buffers
            .batch
            .extend_from_slice(&sampler.permutation()[start..end]);
        buffers.delta.fill(S::zero());
        table.refresh(
            problem,
            x,
            &buffers.batch,
            &mut buffers.delta,
            None,
            step.search(),
        )?;
        let alpha = step.alpha(table.l2());
        let shrink = S::one() - S::of(alpha) * table.l2();
        let scale = S::of(alpha / (end - start) as f64);
        let threshold = S::of(alpha * l1);
        Zip::from(&mut *x)
            .and(&mut buffers.sum)
            .and(&buffers.delta)
            .for_each(|x, sum, &delta| {
                let z = shrink * *x - scale * delta;
                *x = if l1 > 0.0 {
                    crate::common::soft_threshold(z, threshold)
                } else {
                    z
                };
                *sum += delta;
            });
        start = end;
    }
    Ok(())
}
