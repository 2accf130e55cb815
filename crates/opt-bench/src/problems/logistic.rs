//! L2-regularized logistic regression
//! (`logistic:file=PATH|data=breast-cancer|data=synthetic[,l2=L]`):
//!
//! `f(x) = (1/n) sum_i log(1 + exp(-y_i a_i.x)) + (l2/2) ||x||^2`,
//!
//! labels `y_i` in `{-1, +1}`, no intercept, start `x = 0` (where
//! `f = ln 2`). With the margin `m_i = y_i a_i.x` and
//! `s_i = sigma(-m_i) = 1 / (1 + exp(m_i))`:
//!
//! - `grad f = (1/n) sum_i (-y_i s_i) a_i + l2 x`;
//! - `H = (1/n) sum_i s_i (1 - s_i) a_i a_i' + l2 I` (as `y_i^2 = 1`).
//!
//! Both `log(1 + exp(-m))` and `sigma(-m)` are evaluated in forms that
//! neither overflow nor lose the small tail (`log1p(exp(-|m|))`).
//!
//! As a finite sum, `f_i(x) = log(1 + exp(-y_i a_i.x)) + (l2/2) ||x||^2`;
//! `grad f_i` is `(1/4) ||a_i||^2 + l2` Lipschitz (`sigma' <= 1/4`), and the
//! problem is generalized linear with `phi_i(t) = log(1 + exp(-y_i t))`.

use std::path::Path;

use ndarray::{Array1, Array2, ArrayView1, Zip};
use opt_core::{FiniteSum, GeneralizedLinear, Objective, check_batch, check_len};

use super::{CompensatedSum, add_ridge, check_data, check_l2};
use crate::data::{BREAST_CANCER_FILE, binary_labels, breast_cancer, load_csv};
use crate::error::{BenchError, Result};
use crate::synthetic::synthetic;

/// The data sets `logistic:data=NAME` accepts.
pub const LOGISTIC_DATA_SETS: &[&str] = &["breast-cancer", "synthetic"];

/// `log(1 + exp(-m))` without overflow or cancellation.
#[inline]
pub(crate) fn log1p_exp_neg(m: f64) -> f64 {
    if m > 0.0 {
        (-m).exp().ln_1p()
    } else {
        -m + m.exp().ln_1p()
    }
}

/// `sigma(-m) = 1 / (1 + exp(m))` without overflow.
#[inline]
pub(crate) fn sigmoid_neg(m: f64) -> f64 {
    if m > 0.0 {
        let e = (-m).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + m.exp())
    }
}

/// Binary logistic regression with an L2 penalty.
#[derive(Debug, Clone, PartialEq)]
pub struct Logistic {
    features: Array2<f64>,
    labels: Array1<f64>,
    l2: f64,
    name: String,
}

impl Logistic {
    /// Logistic regression on `features` (`n x d`, one row per sample) and
    /// `labels` in `{-1, +1}`, with `l2 >= 0`.
    pub fn new(features: Array2<f64>, labels: Array1<f64>, l2: f64) -> Result<Self> {
        check_l2("logistic", l2)?;
        check_data("logistic", &features, &labels)?;
        if let Some(label) = labels.iter().find(|&&y| y != 1.0 && y != -1.0) {
            return Err(BenchError::InvalidProblem {
                problem: "logistic".to_owned(),
                message: format!("label {label} is not -1 or +1"),
            });
        }
        Ok(Self::from_checked(
            features,
            labels,
            l2,
            format!("logistic:l2={l2}"),
        ))
    }

    /// The embedded breast-cancer data (`logistic:data=breast-cancer`).
    pub fn breast_cancer(l2: f64) -> Result<Self> {
        check_l2("logistic", l2)?;
        let (features, mut labels) = breast_cancer()?;
        binary_labels(&mut labels, BREAST_CANCER_FILE, "logistic")?;
        Ok(Self::from_checked(
            features,
            labels,
            l2,
            format!("logistic:data=breast-cancer,l2={l2}"),
        ))
    }

    /// The synthetic data set (`logistic:data=synthetic`, 50000 x 100,
    /// [`crate::synthetic`]), generated on first use in the process.
    pub fn synthetic(l2: f64) -> Result<Self> {
        check_l2("logistic", l2)?;
        let (features, labels) = synthetic();
        Ok(Self::from_checked(
            features.clone(),
            labels.clone(),
            l2,
            format!("logistic:data=synthetic,l2={l2}"),
        ))
    }

    /// A classification CSV (`logistic:file=PATH`): labels in `{-1, +1}` or `{0, 1}`.
    pub fn load(path: &Path, l2: f64) -> Result<Self> {
        check_l2("logistic", l2)?;
        let (features, mut labels) = load_csv(path, "logistic")?;
        binary_labels(&mut labels, &path.display().to_string(), "logistic")?;
        let name = format!("logistic:file={},l2={l2}", path.display());
        Ok(Self::from_checked(features, labels, l2, name))
    }

    fn from_checked(features: Array2<f64>, labels: Array1<f64>, l2: f64, name: String) -> Self {
        Self {
            features,
            labels,
            l2,
            name,
        }
    }

    /// The start `x = 0`.
    pub fn start(&self) -> Array1<f64> {
        Array1::zeros(self.features.ncols())
    }

    /// The canonical spec, e.g. `logistic:data=breast-cancer,l2=0.001`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The feature matrix, one row per sample.
    pub fn features(&self) -> &Array2<f64> {
        &self.features
    }

    /// The labels, in `{-1, +1}`.
    pub fn labels(&self) -> &Array1<f64> {
        &self.labels
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
        let mut loss = CompensatedSum::default();
        for i in rows {
            let a_i = self.features.row(i);
            let margin = self.labels[i] * a_i.dot(x);
            loss.add(log1p_exp_neg(margin));
            grad.scaled_add(-self.labels[i] * sigmoid_neg(margin), &a_i);
        }
        let inverse = 1.0 / count as f64;
        add_ridge(loss.total() * inverse, inverse, self.l2, x, grad)
    }
}

impl Objective for Logistic {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.features.ncols()
    }

    fn value(&self, x: &Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        let mut loss = CompensatedSum::default();
        Zip::from(self.features.rows())
            .and(&self.labels)
            .for_each(|a_i, &y| loss.add(log1p_exp_neg(y * a_i.dot(x))));
        Ok(loss.total() / self.labels.len() as f64 + 0.5 * self.l2 * x.dot(x))
    }

    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("gradient buffer", self.dim(), grad.len())?;
        let n = self.labels.len();
        Ok(self.mean_value_and_grad(x, 0..n, n, grad))
    }

    /// `out = (1/n) sum_i s_i (1 - s_i) (a_i.v) a_i + l2 v`.
    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("Hessian-vector direction", self.dim(), v.len())?;
        check_len("Hessian-vector output", self.dim(), out.len())?;
        out.fill(0.0);
        for (a_i, &y) in self.features.rows().into_iter().zip(&self.labels) {
            let s = sigmoid_neg(y * a_i.dot(x));
            out.scaled_add(y * y * s * (1.0 - s) * a_i.dot(v), &a_i);
        }
        let inverse = 1.0 / self.labels.len() as f64;
        Zip::from(out)
            .and(v)
            .for_each(|o, &vi| *o = inverse * *o + self.l2 * vi);
        Ok(())
    }
}

impl FiniteSum for Logistic {
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
        check_batch(indices, self.labels.len())?;
        Ok(self.mean_value_and_grad(x, indices.iter().copied(), indices.len(), grad))
    }

    /// `L_i = ||a_i||^2 / 4 + l2`.
    fn lipschitz_constants(&self) -> Option<Vec<f64>> {
        Some(
            self.features
                .rows()
                .into_iter()
                .map(|a_i| 0.25 * a_i.dot(&a_i) + self.l2)
                .collect(),
        )
    }

    fn generalized_linear(&self) -> Option<&dyn GeneralizedLinear<f64>> {
        Some(self)
    }
}

/// `phi_i(t) = log(1 + exp(-y_i t))`, `phi_i'(t) = -y_i sigma(-y_i t)`.
impl GeneralizedLinear<f64> for Logistic {
    fn num_samples(&self) -> usize {
        self.labels.len()
    }
    fn features(&self, i: usize) -> ArrayView1<'_, f64> {
        self.features.row(i)
    }
    fn loss(&self, i: usize, margin: f64) -> f64 {
        log1p_exp_neg(self.labels[i] * margin)
    }
    fn loss_derivative(&self, i: usize, margin: f64) -> f64 {
        let y = self.labels[i];
        -y * sigmoid_neg(y * margin)
    }
    fn l2(&self) -> f64 {
        self.l2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_forms_match_the_naive_ones_where_those_are_accurate() {
        for m in [-30.0, -3.0, -0.5, 0.0, 0.5, 3.0, 30.0] {
            let naive = f64::exp(-m).ln_1p();
            assert!(
                (log1p_exp_neg(m) - naive).abs() <= 1e-14 * naive.max(1e-300),
                "m = {m}"
            );
            let sigma = 1.0 / (1.0 + f64::exp(m));
            assert!((sigmoid_neg(m) - sigma).abs() <= 1e-15 * sigma, "m = {m}");
        }
        // Far tails: no overflow, no underflow to 0 of the small tail.
        assert_eq!(log1p_exp_neg(-1000.0), 1000.0);
        assert!(log1p_exp_neg(700.0) > 0.0);
        assert_eq!(sigmoid_neg(-1000.0), 1.0);
        assert!(sigmoid_neg(700.0) > 0.0);
    }
}
