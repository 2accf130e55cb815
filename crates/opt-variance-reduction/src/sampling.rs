//! Drawing sample indices.
//!
//! - Uniform mini-batches without replacement: a partial Fisher-Yates
//!   shuffle of a permutation kept between draws, `O(b)` per batch of `b`
//!   (any arrangement of the kept permutation gives a uniformly random
//!   ordered `b`-subset).
//! - Lipschitz-weighted sampling (Schmidt, Le Roux & Bach 2017,
//!   non-uniform sampling): with probability 1/2 uniformly, otherwise
//!   proportionally to `L_i`, i.e.
//!   `p_i = 1/(2n) + L_i / (2 sum_j L_j)` ([`lipschitz_probabilities`]),
//!   drawn with Walker's alias method in `O(1)` ([`AliasTable`], Vose's
//!   `O(n)` construction). Indices are drawn independently, so a weighted
//!   mini-batch may repeat an index; it is sorted (`O(b log b)`, in place)
//!   so that the methods evaluate a repeated sample once and weigh it by
//!   its multiplicity.

use opt_core::{OptError, Result};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Walker's alias table for a discrete distribution over `0..n`:
/// one uniform column and one biased coin per draw.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasTable {
    /// Probability of keeping column `i` (else take `alias[i]`).
    keep: Vec<f64>,
    alias: Vec<usize>,
}

impl AliasTable {
    /// The table for probabilities proportional to `weights` (finite,
    /// non-negative, not all zero, at least one).
    pub fn new(weights: &[f64]) -> Result<Self> {
        let n = weights.len();
        if n == 0 {
            return Err(OptError::invalid(
                "weights",
                "[]",
                "a distribution needs at least one weight",
            ));
        }
        if let Some(&w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(OptError::invalid(
                "weights",
                w,
                "every weight must be finite and non-negative",
            ));
        }
        let total: f64 = weights.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(OptError::invalid(
                "weights",
                total,
                "the weights must have a positive finite sum",
            ));
        }
        // Vose: scaled probabilities n p_i, split into columns below and above 1.
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut keep = vec![1.0; n];
        let mut alias: Vec<usize> = (0..n).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            keep[s] = scaled[s];
            alias[s] = l;
            scaled[l] = (scaled[l] + scaled[s]) - 1.0;
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left is 1 up to rounding: keep those columns whole.
        for i in small.into_iter().chain(large) {
            keep[i] = 1.0;
            alias[i] = i;
        }
        Ok(Self { keep, alias })
    }

    /// Number of outcomes `n`.
    pub fn len(&self) -> usize {
        self.keep.len()
    }

    /// Whether there are no outcomes (never: construction needs one).
    pub fn is_empty(&self) -> bool {
        self.keep.is_empty()
    }

    /// One index drawn from the distribution.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let column = rng.random_range(0..self.keep.len());
        if rng.random::<f64>() < self.keep[column] {
            column
        } else {
            self.alias[column]
        }
    }

    /// The probabilities the table draws with (recomputed from the
    /// columns; equal to the normalized weights up to rounding).
    pub fn probabilities(&self) -> Vec<f64> {
        let n = self.keep.len() as f64;
        let mut p: Vec<f64> = self.keep.iter().map(|k| k / n).collect();
        for (column, (&k, &a)) in self.keep.iter().zip(&self.alias).enumerate() {
            if a != column {
                p[a] += (1.0 - k) / n;
            }
        }
        p
    }
}

/// SAG's sampling probabilities `p_i = 1/(2n) + L_i / (2 sum_j L_j)`:
/// half uniform, half proportional to the Lipschitz constants.
pub fn lipschitz_probabilities(lipschitz: &[f64]) -> Result<Vec<f64>> {
    let n = lipschitz.len();
    if n == 0 {
        return Err(OptError::invalid(
            "num_samples",
            0,
            "an empty data set has nothing to sample",
        ));
    }
    if let Some(&l) = lipschitz.iter().find(|l| !(l.is_finite() && **l >= 0.0)) {
        return Err(OptError::invalid(
            "lipschitz_constants",
            l,
            "every per-sample Lipschitz constant must be finite and non-negative",
        ));
    }
    let total: f64 = lipschitz.iter().sum();
    if total <= 0.0 {
        return Err(OptError::invalid(
            "lipschitz_constants",
            total,
            "Lipschitz sampling needs a positive sum of constants",
        ));
    }
    Ok(lipschitz
        .iter()
        .map(|l| 0.5 / n as f64 + 0.5 * l / total)
        .collect())
}

/// The index source of a solver: seeded, with a kept permutation for
/// uniform batches and SGD passes, and an alias table when weighted.
#[derive(Debug)]
pub(crate) struct IndexSampler {
    rng: StdRng,
    permutation: Vec<usize>,
    weighted: Option<AliasTable>,
}

impl IndexSampler {
    pub(crate) fn new(n: usize, seed: u64, weighted: Option<AliasTable>) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            permutation: (0..n).collect(),
            weighted,
        }
    }

    /// `b <= n` indices into `out` (whose capacity is at least `b`):
    /// uniform without replacement, or independent weighted draws, sorted
    /// so that repeats are adjacent.
    pub(crate) fn draw(&mut self, b: usize, out: &mut Vec<usize>) {
        out.clear();
        match &self.weighted {
            None => {
                let n = self.permutation.len();
                for k in 0..b {
                    let j = self.rng.random_range(k..n);
                    self.permutation.swap(k, j);
                }
                out.extend_from_slice(&self.permutation[..b]);
            }
            Some(table) => {
                out.extend((0..b).map(|_| table.sample(&mut self.rng)));
                out.sort_unstable();
            }
        }
    }

    /// Shuffle the kept permutation (for a pass that visits every sample once).
    pub(crate) fn shuffle(&mut self) {
        self.permutation.shuffle(&mut self.rng);
    }

    /// The kept permutation.
    pub(crate) fn permutation(&self) -> &[usize] {
        &self.permutation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_table_reproduces_its_weights() {
        let weights = [0.0, 1.0, 2.0, 3.0, 0.5, 10.0, 0.25];
        let total: f64 = weights.iter().sum();
        let table = AliasTable::new(&weights).unwrap();
        for (p, w) in table.probabilities().iter().zip(weights) {
            assert!((p - w / total).abs() <= 1e-15, "{p} vs {}", w / total);
        }
        // A zero weight is never drawn.
        let mut rng = StdRng::seed_from_u64(1);
        assert!((0..10_000).all(|_| table.sample(&mut rng) != 0));
    }

    #[test]
    fn bad_weights_are_errors() {
        assert!(AliasTable::new(&[]).is_err());
        assert!(AliasTable::new(&[1.0, -1.0]).is_err());
        assert!(AliasTable::new(&[0.0, 0.0]).is_err());
        assert!(AliasTable::new(&[1.0, f64::NAN]).is_err());
        assert!(lipschitz_probabilities(&[]).is_err());
        assert!(lipschitz_probabilities(&[0.0, 0.0]).is_err());
        assert!(lipschitz_probabilities(&[1.0, f64::INFINITY]).is_err());
    }

    /// The solvers' weighted path (`IndexSampler` with the alias table of
    /// `lipschitz_probabilities`), drawn in sorted batches of 5: Pearson's
    /// statistic of 200000 draws over 40 outcomes against `p_i` stays
    /// below `dof + 6 sqrt(2 dof)`, while against the uniform distribution
    /// it is far above.
    #[test]
    fn weighted_draws_follow_the_lipschitz_mixture() {
        let n = 40;
        let lipschitz: Vec<f64> = (0..n).map(|i| 0.1 + (i as f64 / 8.0).powi(3)).collect();
        let p = lipschitz_probabilities(&lipschitz).unwrap();
        let mut sampler = IndexSampler::new(n, 9, Some(AliasTable::new(&p).unwrap()));
        let mut batch = Vec::with_capacity(5);
        let mut counts = vec![0usize; n];
        let draws = 200_000;
        for _ in 0..draws / 5 {
            sampler.draw(5, &mut batch);
            assert!(batch.windows(2).all(|w| w[0] <= w[1]));
            batch.iter().for_each(|&i| counts[i] += 1);
        }
        let chi2 = |q: &dyn Fn(usize) -> f64| -> f64 {
            (0..n)
                .map(|i| {
                    let expected = draws as f64 * q(i);
                    (counts[i] as f64 - expected).powi(2) / expected
                })
                .sum()
        };
        let dof = (n - 1) as f64;
        let bound = dof + 6.0 * (2.0 * dof).sqrt();
        let statistic = chi2(&|i| p[i]);
        assert!(statistic < bound, "chi2 = {statistic} >= {bound}");
        assert!(chi2(&|_| 1.0 / n as f64) > 100.0 * bound);
    }

    #[test]
    fn uniform_batches_have_no_repeats_and_cover_uniformly() {
        let mut sampler = IndexSampler::new(10, 7, None);
        let mut batch = Vec::with_capacity(4);
        let mut counts = [0usize; 10];
        for _ in 0..5_000 {
            sampler.draw(4, &mut batch);
            let mut sorted = batch.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), 4);
            batch.iter().for_each(|&i| counts[i] += 1);
        }
        // 2000 expected per index; a binomial sd of about 40.
        assert!(counts.iter().all(|&c| c.abs_diff(2000) < 250), "{counts:?}");
    }
}
