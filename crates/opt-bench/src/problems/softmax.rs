//! Multinomial logistic (softmax) regression
//! (`softmax:data=digits|file=PATH[,l2=L]`):
//!
//! `f(W) = (1/n) sum_i [logsumexp(W a_i) - (W a_i)_{y_i}] + (l2/2) ||W||^2`,
//!
//! `K` classes, `p` features, no intercept, start `W = 0` (where
//! `f = ln K`). With the class probabilities
//! `pi_i = softmax(W a_i)`:
//!
//! - `grad_W f = (1/n) sum_i (pi_i - e_{y_i}) a_i' + l2 W`;
//! - `H V = (1/n) sum_i (diag(pi_i) - pi_i pi_i') (V a_i) a_i' + l2 V`.
//!
//! `logsumexp(z) = max z + ln sum_k exp(z_k - max z)` never overflows.
//!
//! # Parameter layout
//!
//! `W` is the `K x p` matrix whose row `k` holds class `k`'s weights, and
//! the parameter vector is `W` flattened row by row (class-major):
//! `x[k * p + j] = W[k][j]`, length `K p` (640 for digits: 10 classes of 64
//! pixels).
//!
//! # Data
//!
//! `data=digits`: the embedded 8x8 digits, all 1797 rows, pixels divided by
//! 16 (so features lie in `[0, 1]`), 10 classes. `file=PATH`: a CSV whose
//! last column is the class `0..K-1` (`K` = largest label + 1), features
//! used as they are.
//!
//! As a finite sum, `f_i(W) = logsumexp(W a_i) - (W a_i)_{y_i} + (l2/2) ||W||^2`;
//! `grad f_i` is `||a_i||^2 / 2 + l2` Lipschitz (the largest eigenvalue of
//! `diag(pi) - pi pi'` is at most 1/2).

use std::path::Path;

use ndarray::{Array1, Array2, ArrayView1, Axis, Slice, Zip};
use opt_core::{FiniteSum, Objective, check_batch, check_len};

use super::{CompensatedSum, add_ridge, check_features, check_l2};
use crate::data::{DIGITS_FILE, class_labels, digits, load_csv};
use crate::error::{BenchError, Result};

/// The data sets `softmax:data=NAME` accepts.
pub const SOFTMAX_DATA_SETS: &[&str] = &["digits"];

/// The digits' pixel values run over `0..=16`; they are divided by this.
const DIGITS_PIXEL_SCALE: f64 = 16.0;

/// Multinomial logistic regression with an L2 penalty.
#[derive(Debug, Clone, PartialEq)]
pub struct Softmax {
    features: Array2<f64>,
    labels: Vec<usize>,
    num_classes: usize,
    l2: f64,
    name: String,
}

impl Softmax {
    /// Softmax regression on `features` (`n x p`, one row per sample) and
    /// class `labels` in `0..num_classes`, `num_classes >= 2`, `l2 >= 0`.
    pub fn new(
        features: Array2<f64>,
        labels: Vec<usize>,
        num_classes: usize,
        l2: f64,
    ) -> Result<Self> {
        check_l2("softmax", l2)?;
        check_features("softmax", &features, labels.len())?;
        let invalid = |message: String| BenchError::InvalidProblem {
            problem: "softmax".to_owned(),
            message,
        };
        if num_classes < 2 {
            return Err(invalid(format!(
                "needs at least 2 classes, got {num_classes}"
            )));
        }
        if let Some(label) = labels.iter().find(|&&label| label >= num_classes) {
            return Err(invalid(format!(
                "label {label} is not below the {num_classes} classes"
            )));
        }
        Ok(Self::from_checked(
            features,
            labels,
            num_classes,
            l2,
            format!("softmax:l2={l2}"),
        ))
    }

    /// The embedded digits (`softmax:data=digits`): 1797 samples, 64 pixels
    /// divided by 16, 10 classes.
    pub fn digits(l2: f64) -> Result<Self> {
        check_l2("softmax", l2)?;
        let (mut pixels, labels) = digits()?;
        pixels.mapv_inplace(|p| p / DIGITS_PIXEL_SCALE);
        let (labels, num_classes) = class_labels(&labels, DIGITS_FILE, "softmax")?;
        let name = format!("softmax:data=digits,l2={l2}");
        Ok(Self::from_checked(pixels, labels, num_classes, l2, name))
    }

    /// A CSV with the class `0..K-1` in the last column (`softmax:file=PATH`).
    pub fn load(path: &Path, l2: f64) -> Result<Self> {
        check_l2("softmax", l2)?;
        let (features, labels) = load_csv(path, "softmax")?;
        let (labels, num_classes) = class_labels(&labels, &path.display().to_string(), "softmax")?;
        let name = format!("softmax:file={},l2={l2}", path.display());
        Ok(Self::from_checked(features, labels, num_classes, l2, name))
    }

    fn from_checked(
        features: Array2<f64>,
        labels: Vec<usize>,
        num_classes: usize,
        l2: f64,
        name: String,
    ) -> Self {
        Self {
            features,
            labels,
            num_classes,
            l2,
            name,
        }
    }

    /// The start `W = 0`.
    pub fn start(&self) -> Array1<f64> {
        Array1::zeros(self.dim())
    }

    /// The canonical spec, e.g. `softmax:data=digits,l2=0`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The feature matrix, one row per sample.
    pub fn features(&self) -> &Array2<f64> {
        &self.features
    }

    /// The class of each sample.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Number of classes `K`.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Number of features `p`.
    pub fn num_features(&self) -> usize {
        self.features.ncols()
    }

    /// Fraction of samples whose highest score is their label's (ties go to
    /// the lowest class).
    pub fn accuracy(&self, x: &Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        let mut scores = vec![0.0; self.num_classes];
        let correct =
            Zip::from(self.features.rows())
                .and(&self.labels)
                .fold(0usize, |count, a_i, &y| {
                    self.scores(x, a_i, &mut scores);
                    let best = scores
                        .iter()
                        .enumerate()
                        .fold(0, |best, (k, &z)| if z > scores[best] { k } else { best });
                    count + usize::from(best == y)
                });
        Ok(correct as f64 / self.labels.len() as f64)
    }

    /// The class-`k` block `k p .. (k + 1) p` of a parameter vector.
    fn block(&self, k: usize) -> Slice {
        let p = self.num_features();
        Slice::from(k * p..(k + 1) * p)
    }

    /// `scores[k] = W_k . a_i` (`W_k` the class-`k` block of `x`).
    fn scores(&self, x: &Array1<f64>, a_i: ArrayView1<'_, f64>, scores: &mut [f64]) {
        for (k, z) in scores.iter_mut().enumerate() {
            *z = x.slice_axis(Axis(0), self.block(k)).dot(&a_i);
        }
    }

    /// Mean of `f_i` and `grad f_i` over `rows` (`count` of them, repeats counted).
    fn mean_value_and_grad(
        &self,
        x: &Array1<f64>,
        rows: impl Iterator<Item = usize>,
        count: usize,
        grad: &mut Array1<f64>,
    ) -> f64 {
        grad.fill(0.0);
        let mut scores = vec![0.0; self.num_classes];
        let mut loss = CompensatedSum::default();
        for i in rows {
            let a_i = self.features.row(i);
            self.scores(x, a_i, &mut scores);
            let lse = log_sum_exp(&scores);
            let y = self.labels[i];
            loss.add(lse - scores[y]);
            for (k, &z) in scores.iter().enumerate() {
                let indicator = if k == y { 1.0 } else { 0.0 };
                grad.slice_axis_mut(Axis(0), self.block(k))
                    .scaled_add((z - lse).exp() - indicator, &a_i);
            }
        }
        let inverse = 1.0 / count as f64;
        add_ridge(loss.total() * inverse, inverse, self.l2, x, grad)
    }
}

/// `ln sum_k exp(z_k)`, shifted by `max z` so that nothing overflows.
fn log_sum_exp(z: &[f64]) -> f64 {
    let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    max + z.iter().map(|&v| (v - max).exp()).sum::<f64>().ln()
}

impl Objective for Softmax {
    type Vector = Array1<f64>;

    /// `K p`.
    fn dim(&self) -> usize {
        self.num_classes * self.num_features()
    }

    fn value(&self, x: &Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        let mut scores = vec![0.0; self.num_classes];
        let mut loss = CompensatedSum::default();
        Zip::from(self.features.rows())
            .and(&self.labels)
            .for_each(|a_i, &y| {
                self.scores(x, a_i, &mut scores);
                loss.add(log_sum_exp(&scores) - scores[y]);
            });
        Ok(loss.total() / self.labels.len() as f64 + 0.5 * self.l2 * x.dot(x))
    }

    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("gradient buffer", self.dim(), grad.len())?;
        let n = self.labels.len();
        Ok(self.mean_value_and_grad(x, 0..n, n, grad))
    }

    /// `out = (1/n) sum_i (diag(pi_i) - pi_i pi_i') (V a_i) a_i' + l2 V`.
    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("Hessian-vector direction", self.dim(), v.len())?;
        check_len("Hessian-vector output", self.dim(), out.len())?;
        out.fill(0.0);
        let mut probabilities = vec![0.0; self.num_classes];
        let mut directions = vec![0.0; self.num_classes];
        for a_i in self.features.rows() {
            self.scores(x, a_i, &mut probabilities);
            let lse = log_sum_exp(&probabilities);
            probabilities.iter_mut().for_each(|z| *z = (*z - lse).exp());
            self.scores(v, a_i, &mut directions);
            let mean_direction: f64 = probabilities
                .iter()
                .zip(&directions)
                .map(|(pk, uk)| pk * uk)
                .sum();
            for (k, (&pk, &uk)) in probabilities.iter().zip(&directions).enumerate() {
                out.slice_axis_mut(Axis(0), self.block(k))
                    .scaled_add(pk * (uk - mean_direction), &a_i);
            }
        }
        let inverse = 1.0 / self.labels.len() as f64;
        Zip::from(out)
            .and(v)
            .for_each(|o, &vi| *o = inverse * *o + self.l2 * vi);
        Ok(())
    }
}

impl FiniteSum for Softmax {
    fn num_samples(&self) -> usize {
        self.labels.len()
    }

    fn batch_value_and_grad(
        &self,
        x: &Array1<f64>,
        indices: &[usize],
        grad: &mut Array1<f64>,
    ) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("gradient buffer", self.dim(), grad.len())?;
        check_batch(indices, self.num_samples())?;
        Ok(self.mean_value_and_grad(x, indices.iter().copied(), indices.len(), grad))
    }

    /// `L_i = ||a_i||^2 / 2 + l2`.
    fn lipschitz_constants(&self) -> Option<Vec<f64>> {
        Some(
            self.features
                .rows()
                .into_iter()
                .map(|a_i| 0.5 * a_i.dot(&a_i) + self.l2)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sum_exp_is_stable() {
        assert!((log_sum_exp(&[0.0, 0.0]) - 2f64.ln()).abs() < 1e-15);
        assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert!((log_sum_exp(&[-1000.0, -1000.0]) - (-1000.0 + 2f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn parameter_layout_is_class_major() {
        // Two classes, two features: x = [W_00, W_01, W_10, W_11].
        let problem = Softmax::new(ndarray::array![[1.0, 2.0]], vec![1], 2, 0.0).unwrap();
        let x = ndarray::array![1.0, 0.0, 0.0, 1.0];
        let mut scores = [0.0; 2];
        problem.scores(&x, problem.features.row(0), &mut scores);
        assert_eq!(scores, [1.0, 2.0]);
        assert_eq!(problem.accuracy(&x).unwrap(), 1.0);
    }
}
