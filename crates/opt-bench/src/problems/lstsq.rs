//! Linear least-squares (ridge) regression (`lstsq:file=PATH[,l2=L]`):
//!
//! `f(x) = (1/2n) ||Ax - y||^2 + (l2/2) ||x||^2`,
//!
//! `grad f = (1/n) A'(Ax - y) + l2 x`, `H = (1/n) A'A + l2 I`, start `x = 0`.
//!
//! It is seen three ways:
//!
//! - a finite sum of `f_i(x) = 0.5 (a_i.x - y_i)^2 + (l2/2) ||x||^2`, whose
//!   gradient is `||a_i||^2 + l2` Lipschitz;
//! - generalized linear, `phi_i(t) = 0.5 (t - y_i)^2`;
//! - least squares, `f = 0.5 ||r||^2` with the residuals
//!   `r = [(Ax - y) / sqrt(n); sqrt(l2) x]` (the second block only when
//!   `l2 > 0`) and the Jacobian `J = [A / sqrt(n); sqrt(l2) I]`.

use std::path::Path;

use ndarray::{Array1, Array2, ArrayView1, Axis, Slice, Zip};
use opt_core::{FiniteSum, GeneralizedLinear, LeastSquares, Objective, check_batch, check_len};

use super::{CompensatedSum, add_ridge, check_data, check_l2};
use crate::data::load_csv;
use crate::error::Result;

/// Ridge regression `(1/2n) ||Ax - y||^2 + (l2/2) ||x||^2`.
#[derive(Debug, Clone, PartialEq)]
pub struct LeastSquaresRegression {
    features: Array2<f64>,
    targets: Array1<f64>,
    l2: f64,
    name: String,
}

impl LeastSquaresRegression {
    /// Regression of `targets` on `features` (`n x d`, one row per sample), `l2 >= 0`.
    pub fn new(features: Array2<f64>, targets: Array1<f64>, l2: f64) -> Result<Self> {
        check_l2("lstsq", l2)?;
        check_data("lstsq", &features, &targets)?;
        Ok(Self::from_checked(
            features,
            targets,
            l2,
            format!("lstsq:l2={l2}"),
        ))
    }

    /// A regression CSV (`lstsq:file=PATH`), target in the last column.
    pub fn load(path: &Path, l2: f64) -> Result<Self> {
        check_l2("lstsq", l2)?;
        let (features, targets) = load_csv(path, "lstsq")?;
        let name = format!("lstsq:file={},l2={l2}", path.display());
        Ok(Self::from_checked(features, targets, l2, name))
    }

    fn from_checked(features: Array2<f64>, targets: Array1<f64>, l2: f64, name: String) -> Self {
        Self {
            features,
            targets,
            l2,
            name,
        }
    }

    /// The start `x = 0`.
    pub fn start(&self) -> Array1<f64> {
        Array1::zeros(self.features.ncols())
    }

    /// The canonical spec, e.g. `lstsq:file=data.csv,l2=0`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matrix `A`, one row per sample.
    pub fn features(&self) -> &Array2<f64> {
        &self.features
    }

    /// The targets `y`.
    pub fn targets(&self) -> &Array1<f64> {
        &self.targets
    }

    fn num_rows(&self) -> usize {
        self.targets.len()
    }

    /// `1 / sqrt(n)`, the weight of the data residuals.
    fn data_weight(&self) -> f64 {
        1.0 / (self.num_rows() as f64).sqrt()
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
            let residual = a_i.dot(x) - self.targets[i];
            loss.add(0.5 * residual * residual);
            grad.scaled_add(residual, &a_i);
        }
        let inverse = 1.0 / count as f64;
        add_ridge(loss.total() * inverse, inverse, self.l2, x, grad)
    }
}

impl Objective for LeastSquaresRegression {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.features.ncols()
    }

    fn value(&self, x: &Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        let mut squares = CompensatedSum::default();
        Zip::from(self.features.rows())
            .and(&self.targets)
            .for_each(|a_i, &y| squares.add((a_i.dot(x) - y).powi(2)));
        Ok(0.5 * squares.total() / self.num_rows() as f64 + 0.5 * self.l2 * x.dot(x))
    }

    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("gradient buffer", self.dim(), grad.len())?;
        let n = self.num_rows();
        Ok(self.mean_value_and_grad(x, 0..n, n, grad))
    }

    /// `out = (1/n) A'(A v) + l2 v`, one pass over `A`.
    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("Hessian-vector direction", self.dim(), v.len())?;
        check_len("Hessian-vector output", self.dim(), out.len())?;
        out.fill(0.0);
        for a_i in self.features.rows() {
            out.scaled_add(a_i.dot(v), &a_i);
        }
        let inverse = 1.0 / self.num_rows() as f64;
        Zip::from(out)
            .and(v)
            .for_each(|o, &vi| *o = inverse * *o + self.l2 * vi);
        Ok(())
    }
}

impl FiniteSum for LeastSquaresRegression {
    fn num_samples(&self) -> usize {
        self.num_rows()
    }

    fn batch_value_and_grad(
        &self,
        x: &Array1<f64>,
        indices: &[usize],
        grad: &mut Array1<f64>,
    ) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("gradient buffer", self.dim(), grad.len())?;
        check_batch(indices, self.num_rows())?;
        Ok(self.mean_value_and_grad(x, indices.iter().copied(), indices.len(), grad))
    }

    /// `L_i = ||a_i||^2 + l2`.
    fn lipschitz_constants(&self) -> Option<Vec<f64>> {
        Some(
            self.features
                .rows()
                .into_iter()
                .map(|a_i| a_i.dot(&a_i) + self.l2)
                .collect(),
        )
    }

    fn generalized_linear(&self) -> Option<&dyn GeneralizedLinear<f64>> {
        Some(self)
    }
}

/// `phi_i(t) = 0.5 (t - y_i)^2`, `phi_i'(t) = t - y_i`.
impl GeneralizedLinear<f64> for LeastSquaresRegression {
    fn num_samples(&self) -> usize {
        self.num_rows()
    }
    fn features(&self, i: usize) -> ArrayView1<'_, f64> {
        self.features.row(i)
    }
    fn loss(&self, i: usize, margin: f64) -> f64 {
        0.5 * (margin - self.targets[i]).powi(2)
    }
    fn loss_derivative(&self, i: usize, margin: f64) -> f64 {
        margin - self.targets[i]
    }
    fn l2(&self) -> f64 {
        self.l2
    }
}

/// `r = [(Ax - y) / sqrt(n); sqrt(l2) x]`, `J = [A / sqrt(n); sqrt(l2) I]`,
/// `f = 0.5 ||r||^2`; the ridge block is absent when `l2 = 0`.
impl LeastSquares for LeastSquaresRegression {
    type Scalar = f64;

    fn num_parameters(&self) -> usize {
        self.dim()
    }

    fn num_residuals(&self) -> usize {
        self.num_rows() + if self.l2 > 0.0 { self.dim() } else { 0 }
    }

    fn residuals(&self, x: &Array1<f64>, residuals: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("residual buffer", self.num_residuals(), residuals.len())?;
        let n = self.num_rows();
        let weight = self.data_weight();
        Zip::from(residuals.slice_axis_mut(Axis(0), Slice::from(..n)))
            .and(self.features.rows())
            .and(&self.targets)
            .for_each(|r, a_i, &y| *r = weight * (a_i.dot(x) - y));
        if self.l2 > 0.0 {
            let root = self.l2.sqrt();
            Zip::from(residuals.slice_axis_mut(Axis(0), Slice::from(n..)))
                .and(x)
                .for_each(|r, &xi| *r = root * xi);
        }
        Ok(())
    }

    fn jacobian(&self, x: &Array1<f64>, jacobian: &mut Array2<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("Jacobian rows", self.num_residuals(), jacobian.nrows())?;
        check_len("Jacobian columns", self.dim(), jacobian.ncols())?;
        let n = self.num_rows();
        let weight = self.data_weight();
        Zip::from(jacobian.slice_axis_mut(Axis(0), Slice::from(..n)))
            .and(&self.features)
            .for_each(|j, &a| *j = weight * a);
        if self.l2 > 0.0 {
            let mut ridge = jacobian.slice_axis_mut(Axis(0), Slice::from(n..));
            ridge.fill(0.0);
            ridge.diag_mut().fill(self.l2.sqrt());
        }
        Ok(())
    }

    fn jvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("J v input", self.dim(), v.len())?;
        check_len("J v output", self.num_residuals(), out.len())?;
        let n = self.num_rows();
        let weight = self.data_weight();
        Zip::from(out.slice_axis_mut(Axis(0), Slice::from(..n)))
            .and(self.features.rows())
            .for_each(|o, a_i| *o = weight * a_i.dot(v));
        if self.l2 > 0.0 {
            let root = self.l2.sqrt();
            Zip::from(out.slice_axis_mut(Axis(0), Slice::from(n..)))
                .and(v)
                .for_each(|o, &vi| *o = root * vi);
        }
        Ok(())
    }

    fn jtvp(
        &self,
        x: &Array1<f64>,
        u: &Array1<f64>,
        out: &mut Array1<f64>,
    ) -> opt_core::Result<()> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("J^T u input", self.num_residuals(), u.len())?;
        check_len("J^T u output", self.dim(), out.len())?;
        let n = self.num_rows();
        out.fill(0.0);
        for (a_i, &u_i) in self
            .features
            .rows()
            .into_iter()
            .zip(u.slice_axis(Axis(0), Slice::from(..n)))
        {
            out.scaled_add(u_i, &a_i);
        }
        let weight = self.data_weight();
        if self.l2 > 0.0 {
            let root = self.l2.sqrt();
            Zip::from(&mut *out)
                .and(u.slice_axis(Axis(0), Slice::from(n..)))
                .for_each(|o, &ui| *o = weight * *o + root * ui);
        } else {
            out.mapv_inplace(|o| weight * o);
        }
        Ok(())
    }

    fn value_scale(&self) -> f64 {
        0.5
    }
}
