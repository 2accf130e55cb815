//! Linear least-squares (ridge) regression and the lasso
//! (`lstsq:file=PATH[,l2=L][,l1=M]`):
//!
//! `F(x) = f(x) + l1 ||x||_1`, `f(x) = (1/2n) ||Ax - y||^2 + (l2/2) ||x||^2`,
//!
//! `grad f = (1/n) A'(Ax - y) + l2 x`, `H = (1/n) A'A + l2 I`, start `x = 0`.
//!
//! **With `l1 > 0` the value is `F` but the gradient is `grad f`, the
//! gradient of the smooth part only** (`||x||_1` has none at 0): every value
//! this problem returns (`value`, `value_and_grad`, `batch_value_and_grad`)
//! includes `l1 ||x||_1`, while every gradient, Hessian-vector product,
//! Lipschitz constant, generalized-linear and least-squares view is that of
//! `f`. Proximal methods (ISTA, FISTA) take `grad f` and the weight
//! [`LeastSquaresRegression::l1`] (`Problem::l1()`) and handle the `l1` term
//! by soft thresholding; a smooth method run on it minimizes `f` while the
//! reported values are `F`. A gradient test (`--gtol`) measures `grad f`,
//! which is not zero at the lasso's solution. The registry's
//! `Problem::as_least_squares` is `None` when `l1 > 0` (`F` is not a sum of
//! squares).
//!
//! The smooth part is seen three ways:
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
use crate::error::{BenchError, Result};

/// Ridge regression `f(x) = (1/2n) ||Ax - y||^2 + (l2/2) ||x||^2`, or the
/// lasso `F(x) = f(x) + l1 ||x||_1` when `l1 > 0` ([`Self::with_l1`]).
///
/// **The lasso's values include `l1 ||x||_1`; its gradients are those of the
/// smooth part `f` only** (module docs): pass [`Self::l1`] to a proximal
/// method along with the gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct LeastSquaresRegression {
    features: Array2<f64>,
    targets: Array1<f64>,
    l2: f64,
    l1: f64,
    /// The CSV file it was loaded from, if any (for the name).
    file: Option<String>,
    name: String,
}

impl LeastSquaresRegression {
    /// Regression of `targets` on `features` (`n x d`, one row per sample), `l2 >= 0`.
    pub fn new(features: Array2<f64>, targets: Array1<f64>, l2: f64) -> Result<Self> {
        check_l2("lstsq", l2)?;
        check_data("lstsq", &features, &targets)?;
        Ok(Self::from_checked(features, targets, l2, None))
    }

    /// A regression CSV (`lstsq:file=PATH`), target in the last column.
    pub fn load(path: &Path, l2: f64) -> Result<Self> {
        check_l2("lstsq", l2)?;
        let (features, targets) = load_csv(path, "lstsq")?;
        let file = Some(path.display().to_string());
        Ok(Self::from_checked(features, targets, l2, file))
    }

    fn from_checked(
        features: Array2<f64>,
        targets: Array1<f64>,
        l2: f64,
        file: Option<String>,
    ) -> Self {
        let mut problem = Self {
            features,
            targets,
            l2,
            l1: 0.0,
            file,
            name: String::new(),
        };
        problem.name = problem.canonical_name();
        problem
    }

    /// The same data with the weight `l1 >= 0` on `||x||_1` (the lasso when
    /// `l1 > 0`; `l1 = 0` is ridge regression again). Values then include
    /// `l1 ||x||_1`, gradients do not (see the type's docs).
    pub fn with_l1(mut self, l1: f64) -> Result<Self> {
        if !(l1 >= 0.0 && l1.is_finite()) {
            return Err(BenchError::InvalidArgument {
                kind: "problem",
                name: "lstsq".to_owned(),
                key: "l1".to_owned(),
                value: l1.to_string(),
                reason: "must be finite and non-negative".to_owned(),
            });
        }
        self.l1 = l1;
        self.name = self.canonical_name();
        Ok(self)
    }

    /// `lstsq:[file=PATH,]l2=L[,l1=M]`: `l1` is written only when it is not
    /// 0, so ridge problems keep the names they had before the lasso.
    fn canonical_name(&self) -> String {
        let file = self
            .file
            .as_ref()
            .map_or(String::new(), |path| format!("file={path},"));
        let l1 = if self.l1 > 0.0 {
            format!(",l1={}", self.l1)
        } else {
            String::new()
        };
        format!("lstsq:{file}l2={}{l1}", self.l2)
    }

    /// The weight of `||x||_1` in the value (0 unless a lasso); not in the gradient.
    pub fn l1(&self) -> f64 {
        self.l1
    }

    /// `l1 ||x||_1`, the non-smooth part of the value (0 when `l1 = 0`).
    fn l1_term(&self, x: &Array1<f64>) -> f64 {
        if self.l1 > 0.0 {
            self.l1 * x.iter().map(|v| v.abs()).sum::<f64>()
        } else {
            0.0
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

    /// Mean of `f_i` and `grad f_i` over `rows` (`count` of them, repeats
    /// counted), smooth part only.
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
        Ok(0.5 * squares.total() / self.num_rows() as f64
            + 0.5 * self.l2 * x.dot(x)
            + self.l1_term(x))
    }

    /// `F(x)` and `grad f(x)`: the `l1` term is in the value, not the gradient.
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("gradient buffer", self.dim(), grad.len())?;
        let n = self.num_rows();
        Ok(self.mean_value_and_grad(x, 0..n, n, grad) + self.l1_term(x))
    }

    /// `out = (1/n) A'(A v) + l2 v` (the smooth part's Hessian), one pass over `A`.
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
        let mean = self.mean_value_and_grad(x, indices.iter().copied(), indices.len(), grad);
        Ok(mean + self.l1_term(x))
    }

    /// `L_i = ||a_i||^2 + l2` (of the smooth part).
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

/// `phi_i(t) = 0.5 (t - y_i)^2`, `phi_i'(t) = t - y_i`: the smooth part
/// (the `l1` term is not in this view).
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
/// `f = 0.5 ||r||^2`; the ridge block is absent when `l2 = 0`. This is the
/// smooth part only: with `l1 > 0` the problem's value is not `0.5 ||r||^2`
/// (the registry's `Problem::as_least_squares` is `None` then).
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

#[cfg(test)]
mod tests {
    use ndarray::array;
    use opt_core::Stepper;
    use opt_first_order::{Ista, Optimizer};

    use super::*;
    use crate::problems::{Problem, build_problem};
    use crate::spec::Spec;

    /// 6 samples of 3 features; `y` mostly explained by the first feature.
    fn data() -> (Array2<f64>, Array1<f64>) {
        let features = array![
            [1.0, 0.5, -1.0],
            [2.0, -1.0, 0.0],
            [-1.0, 0.3, 2.0],
            [0.5, 2.0, 1.0],
            [-2.0, -0.5, 0.5],
            [1.5, 1.0, -0.5],
        ];
        let targets = array![2.1, 3.9, -2.2, 1.1, -4.0, 3.0];
        (features, targets)
    }

    fn lasso(l2: f64, l1: f64) -> LeastSquaresRegression {
        let (features, targets) = data();
        LeastSquaresRegression::new(features, targets, l2)
            .unwrap()
            .with_l1(l1)
            .unwrap()
    }

    #[test]
    fn values_include_the_l1_term_and_gradients_do_not() {
        let (ridge, lasso) = (lasso(0.1, 0.0), lasso(0.1, 0.7));
        let x = array![0.5, -2.0, 0.25];
        let l1_term = 0.7 * (0.5 + 2.0 + 0.25);
        let smooth = ridge.value(&x).unwrap();
        assert!((lasso.value(&x).unwrap() - (smooth + l1_term)).abs() < 1e-14);

        let mut smooth_grad = Array1::zeros(3);
        let mut grad = Array1::zeros(3);
        let f_smooth = ridge.value_and_grad(&x, &mut smooth_grad).unwrap();
        let f = lasso.value_and_grad(&x, &mut grad).unwrap();
        assert!((f - (f_smooth + l1_term)).abs() < 1e-14);
        assert_eq!(grad, smooth_grad);

        // Mini-batches: each f_i carries the whole l1 term, so the mean of
        // the sample values is the full value.
        let f_batch = lasso.batch_value_and_grad(&x, &[0, 3], &mut grad).unwrap();
        let f_batch_smooth = ridge
            .batch_value_and_grad(&x, &[0, 3], &mut smooth_grad)
            .unwrap();
        assert!((f_batch - (f_batch_smooth + l1_term)).abs() < 1e-14);
        assert_eq!(grad, smooth_grad);

        // The gradient is that of the smooth value F - l1 ||x||_1 (central
        // differences, away from the kinks of |x_j|).
        let smooth_value = |x: &Array1<f64>| {
            lasso.value(x).unwrap() - 0.7 * x.iter().map(|v| v.abs()).sum::<f64>()
        };
        lasso.value_and_grad(&x, &mut grad).unwrap();
        for j in 0..3 {
            let mut e = Array1::zeros(3);
            e[j] = 1e-5;
            let numeric = (smooth_value(&(&x + &e)) - smooth_value(&(&x - &e))) / 2e-5;
            assert!(
                (numeric - grad[j]).abs() < 1e-8,
                "{j}: {numeric} vs {}",
                grad[j]
            );
        }
    }

    #[test]
    fn invalid_l1_is_an_error() {
        let (features, targets) = data();
        let ridge = LeastSquaresRegression::new(features, targets, 0.0).unwrap();
        for l1 in [-1.0, f64::NAN, f64::INFINITY] {
            let message = ridge.clone().with_l1(l1).unwrap_err().to_string();
            assert!(message.contains("`l1`"), "{message}");
        }
    }

    fn temp_csv() -> std::path::PathBuf {
        let (features, targets) = data();
        let mut text = String::new();
        for (row, y) in features.rows().into_iter().zip(&targets) {
            let fields: Vec<String> = row.iter().chain([*y].iter()).map(f64::to_string).collect();
            text.push_str(&fields.join(","));
            text.push('\n');
        }
        let path = std::env::temp_dir().join(format!("opt-bench-lasso-{}.csv", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn problem(text: &str) -> crate::Result<Problem> {
        build_problem(&Spec::parse("problem", text)?)
    }

    #[test]
    fn the_registry_builds_the_lasso() {
        let path = temp_csv();
        let p = problem(&format!("lstsq:file={},l1=0.25", path.display())).unwrap();
        assert_eq!(p.l1(), 0.25);
        assert_eq!(
            p.name(),
            format!("lstsq:file={},l2=0,l1=0.25", path.display())
        );
        assert_eq!(problem(p.name()).unwrap(), p);
        assert!(p.as_least_squares().is_none());

        let ridge = problem(&format!("lstsq:file={},l2=0.5", path.display())).unwrap();
        assert_eq!(ridge.l1(), 0.0);
        assert_eq!(
            ridge.name(),
            format!("lstsq:file={},l2=0.5", path.display())
        );
        assert!(ridge.as_least_squares().is_some());
        let zero = problem(&format!("lstsq:file={},l2=0.5,l1=0", path.display())).unwrap();
        assert_eq!(zero, ridge);
        assert_eq!(problem("rosenbrock").unwrap().l1(), 0.0);

        let negative = problem(&format!("lstsq:file={},l1=-1", path.display())).unwrap_err();
        assert!(
            negative.to_string().contains("invalid value `-1` for `l1`"),
            "{negative}"
        );
        let unknown = problem(&format!("lstsq:file={},l3=1", path.display())).unwrap_err();
        assert!(
            unknown.to_string().ends_with("valid: file, l2, l1"),
            "{unknown}"
        );
    }

    #[test]
    fn ista_with_the_problems_l1_meets_the_lasso_optimality_conditions() {
        let path = temp_csv();
        let p = problem(&format!("lstsq:file={},l2=0.01,l1=0.3", path.display())).unwrap();
        // lr = 1/L with L <= trace of the smooth Hessian (1/n) A'A + l2 I.
        let Problem::LeastSquaresRegression(lstsq) = &p else {
            panic!("not lstsq")
        };
        let trace = lstsq.features().iter().map(|a| a * a).sum::<f64>() / 6.0 + 3.0 * 0.01;
        let mut optimizer = Optimizer::<Ista, f64>::new(Ista {
            lr: 1.0 / trace,
            l1: p.l1(),
        })
        .unwrap();
        let mut x = p.start();
        let mut grad = Array1::zeros(3);
        for _ in 0..20_000 {
            p.value_and_grad(&x, &mut grad).unwrap();
            optimizer.step(&mut x, &grad).unwrap();
        }
        // 0 in grad f(x) + l1 d||x||_1: grad_j = -l1 sign(x_j) where
        // x_j != 0, |grad_j| <= l1 where x_j = 0.
        p.value_and_grad(&x, &mut grad).unwrap();
        assert!(
            x.iter().any(|&v| v == 0.0),
            "the l1 term zeroes a feature: {x}"
        );
        for j in 0..3 {
            if x[j] == 0.0 {
                assert!(grad[j].abs() <= 0.3 + 1e-12, "{j}: {grad}");
            } else {
                assert!((grad[j] + 0.3 * x[j].signum()).abs() < 1e-10, "{j}: {grad}");
            }
        }
    }
}
