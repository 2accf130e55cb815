//! The problem registry: every problem the runner can build from a spec.
//!
//! | spec | function | dim |
//! |---|---|---|
//! | `rosenbrock[:dim=N]` | chained Rosenbrock, start `(-1.2, 1, ...)` | `N` (2) |
//! | `quadratic:file=PATH` | `0.5 x'Ax - b'x` from JSON | size of `A` |
//! | `logistic:file=PATH\|data=breast-cancer\|data=synthetic[,l2=L]` | logistic regression | features |
//! | `lstsq:file=PATH[,l2=L][,l1=M]` | ridge least squares; the lasso when `l1 > 0` | features |
//! | `softmax:data=digits\|file=PATH[,l2=L]` | softmax regression | classes x features |
//! | `mgh:NAME[,dim=N][,m=M]` | More-Garbow-Hillstrom problems 1-35, `f = sum r_i^2` ([`mgh`]) | per problem |
//! | `nist:NAME[,start=1\|2]` | NIST StRD nonlinear regression, `f` = residual sum of squares ([`nist`]) | per model |
//!
//! [`Problem`] is one enum over them that implements [`Objective`] and
//! [`FiniteSum`], so the runner drives any problem with any method. A
//! deterministic problem (rosenbrock, quadratic, mgh, nist) is the finite sum of one
//! term, `f = f_0`: it has `num_samples() == 1` and every mini-batch (which
//! can only repeat index 0) gives the full value and gradient, so a
//! stochastic method on it follows the deterministic trajectory.
//!
//! **Composite problems.** `lstsq` with `l1 > 0` is the lasso
//! `F = f + l1 ||x||_1`: its values include `l1 ||x||_1` but its gradients
//! are those of the smooth `f` only. [`Problem::l1`] gives the weight
//! (0 for every other problem), for proximal methods to apply.

mod logistic;
mod lstsq;
pub mod mgh;
pub mod nist;
mod quadratic;
mod rosenbrock;
mod softmax;

use std::path::Path;

use ndarray::{Array1, Array2, Zip};
use opt_core::{FiniteSum, GeneralizedLinear, LeastSquares, Objective, check_batch};

use crate::error::{BenchError, Result, names};
use crate::spec::Spec;

pub use logistic::{LOGISTIC_DATA_SETS, Logistic};
pub use lstsq::LeastSquaresRegression;
pub use mgh::{MGH_NAMES, Mgh};
pub use nist::{NIST_NAMES, Nist};
pub use quadratic::Quadratic;
pub use rosenbrock::Rosenbrock;
pub use softmax::{SOFTMAX_DATA_SETS, Softmax};

/// The problem names [`build_problem`] knows.
pub const PROBLEM_NAMES: &[&str] = &[
    "rosenbrock",
    "quadratic",
    "logistic",
    "lstsq",
    "softmax",
    "mgh",
    "nist",
];

/// Any problem of the registry.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Rosenbrock(Rosenbrock),
    Quadratic(Quadratic),
    Logistic(Logistic),
    LeastSquaresRegression(LeastSquaresRegression),
    Softmax(Softmax),
    Mgh(Mgh),
    Nist(Nist),
}

/// `each!(problem, p => expr)`: `expr` evaluated on whichever problem it holds.
macro_rules! each {
    ($problem:expr, $p:ident => $body:expr) => {
        match $problem {
            Problem::Rosenbrock($p) => $body,
            Problem::Quadratic($p) => $body,
            Problem::Logistic($p) => $body,
            Problem::LeastSquaresRegression($p) => $body,
            Problem::Softmax($p) => $body,
            Problem::Mgh($p) => $body,
            Problem::Nist($p) => $body,
        }
    };
}

impl Problem {
    /// The problem's starting point.
    pub fn start(&self) -> Array1<f64> {
        each!(self, p => p.start())
    }

    /// The canonical spec, with every default written out
    /// (e.g. `rosenbrock:dim=2`, `logistic:data=breast-cancer,l2=0`).
    pub fn name(&self) -> &str {
        each!(self, p => p.name())
    }

    /// The least-squares view, for problems that are sums of squares
    /// (Gauss-Newton, Levenberg-Marquardt); `None` for the lasso
    /// (`l1 > 0`), whose value is not one.
    pub fn as_least_squares(&self) -> Option<&dyn LeastSquares<Scalar = f64>> {
        match self {
            Problem::LeastSquaresRegression(p) if p.l1() == 0.0 => Some(p),
            Problem::Mgh(p) => Some(p),
            Problem::Nist(p) => Some(p),
            _ => None,
        }
    }

    /// The minimum value `f*` where it is known: 0 for the chained
    /// Rosenbrock function, the paper's value for an MGH problem
    /// ([`Mgh::known_minimum`]), the certified residual sum of squares
    /// for a NIST problem; `None` otherwise.
    pub fn known_minimum(&self) -> Option<f64> {
        match self {
            Problem::Rosenbrock(_) => Some(0.0),
            Problem::Mgh(p) => p.known_minimum(),
            Problem::Nist(p) => Some(p.certified_rss()),
            _ => None,
        }
    }

    /// The weight `l1` of a non-smooth `l1 ||x||_1` term that the values
    /// include and the gradients leave out (`lstsq:...,l1=M`); 0 for every
    /// other problem. A proximal method (ISTA, FISTA) uses it as its `l1`.
    pub fn l1(&self) -> f64 {
        match self {
            Problem::LeastSquaresRegression(p) => p.l1(),
            _ => 0.0,
        }
    }
}

impl Objective for Problem {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        each!(self, p => p.dim())
    }

    fn value(&self, x: &Array1<f64>) -> opt_core::Result<f64> {
        each!(self, p => p.value(x))
    }

    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        each!(self, p => p.value_and_grad(x, grad))
    }

    /// Every problem of the registry has an exact Hessian-vector product
    /// (analytic, or by automatic differentiation for MGH) except NIST's,
    /// which uses the central difference of gradients.
    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        each!(self, p => p.hvp(x, v, out))
    }
}

/// The least-squares form of the problems that have one
/// ([`Problem::as_least_squares`]), so that Gauss-Newton and
/// Levenberg-Marquardt run on any spec; the others report
/// [`opt_core::OptError::Unsupported`] on the first residual evaluation.
impl LeastSquares for Problem {
    type Scalar = f64;

    fn num_parameters(&self) -> usize {
        Objective::dim(self)
    }

    fn num_residuals(&self) -> usize {
        self.as_least_squares().map_or(0, |p| p.num_residuals())
    }

    fn residuals(&self, x: &Array1<f64>, residuals: &mut Array1<f64>) -> opt_core::Result<()> {
        self.least_squares_form()?.residuals(x, residuals)
    }

    fn jacobian(&self, x: &Array1<f64>, jacobian: &mut Array2<f64>) -> opt_core::Result<()> {
        self.least_squares_form()?.jacobian(x, jacobian)
    }

    fn jvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        self.least_squares_form()?.jvp(x, v, out)
    }

    fn jtvp(
        &self,
        x: &Array1<f64>,
        u: &Array1<f64>,
        out: &mut Array1<f64>,
    ) -> opt_core::Result<()> {
        self.least_squares_form()?.jtvp(x, u, out)
    }

    fn value_scale(&self) -> f64 {
        self.as_least_squares().map_or(0.5, |p| p.value_scale())
    }
}

impl Problem {
    fn least_squares_form(&self) -> opt_core::Result<&dyn LeastSquares<Scalar = f64>> {
        self.as_least_squares()
            .ok_or(opt_core::OptError::Unsupported(
                "a least-squares form (residuals and a Jacobian): Gauss-Newton and \
             Levenberg-Marquardt need a sum of squares (mgh, nist, lstsq without l1)",
            ))
    }
}

/// Deterministic problems are finite sums of one term (module docs).
impl FiniteSum for Problem {
    fn num_samples(&self) -> usize {
        match self {
            Problem::Rosenbrock(_) | Problem::Quadratic(_) | Problem::Mgh(_) | Problem::Nist(_) => {
                1
            }
            Problem::Logistic(p) => FiniteSum::num_samples(p),
            Problem::LeastSquaresRegression(p) => FiniteSum::num_samples(p),
            Problem::Softmax(p) => p.num_samples(),
        }
    }

    fn batch_value_and_grad(
        &self,
        x: &Array1<f64>,
        indices: &[usize],
        grad: &mut Array1<f64>,
    ) -> opt_core::Result<f64> {
        match self {
            Problem::Rosenbrock(p) => {
                check_batch(indices, 1)?;
                p.value_and_grad(x, grad)
            }
            Problem::Quadratic(p) => {
                check_batch(indices, 1)?;
                p.value_and_grad(x, grad)
            }
            Problem::Mgh(p) => {
                check_batch(indices, 1)?;
                p.value_and_grad(x, grad)
            }
            Problem::Nist(p) => {
                check_batch(indices, 1)?;
                p.value_and_grad(x, grad)
            }
            Problem::Logistic(p) => p.batch_value_and_grad(x, indices, grad),
            Problem::LeastSquaresRegression(p) => p.batch_value_and_grad(x, indices, grad),
            Problem::Softmax(p) => p.batch_value_and_grad(x, indices, grad),
        }
    }

    fn lipschitz_constants(&self) -> Option<Vec<f64>> {
        match self {
            Problem::Rosenbrock(_) | Problem::Quadratic(_) | Problem::Mgh(_) | Problem::Nist(_) => {
                None
            }
            Problem::Logistic(p) => p.lipschitz_constants(),
            Problem::LeastSquaresRegression(p) => p.lipschitz_constants(),
            Problem::Softmax(p) => p.lipschitz_constants(),
        }
    }

    fn generalized_linear(&self) -> Option<&dyn GeneralizedLinear<f64>> {
        match self {
            Problem::Logistic(p) => Some(p),
            Problem::LeastSquaresRegression(p) => Some(p),
            _ => None,
        }
    }
}

/// Build the problem a spec names (the runner's `--problem SPEC`).
///
/// Unknown names, unknown keys, bad values, a missing or doubled data
/// source (`file`/`data`) and unknown data sets are errors that say what
/// is valid.
pub fn build_problem(spec: &Spec) -> Result<Problem> {
    match spec.name.as_str() {
        "rosenbrock" => {
            check_shape(spec, &["dim"])?;
            let dim = spec.get_usize("dim")?.unwrap_or(2);
            if dim < 2 {
                return Err(spec.invalid("dim", dim, "must be at least 2"));
            }
            Ok(Problem::Rosenbrock(Rosenbrock::new(dim)?))
        }
        "quadratic" => {
            check_shape(spec, &["file"])?;
            let file = required_file(spec)?;
            Ok(Problem::Quadratic(Quadratic::load(Path::new(file))?))
        }
        "logistic" => {
            check_shape(spec, &["file", "data", "l2"])?;
            let l2 = l2_of(spec)?;
            Ok(Problem::Logistic(
                match data_source(spec, LOGISTIC_DATA_SETS)? {
                    Source::File(path) => Logistic::load(Path::new(path), l2)?,
                    Source::Data("synthetic") => Logistic::synthetic(l2)?,
                    Source::Data(_breast_cancer) => Logistic::breast_cancer(l2)?,
                },
            ))
        }
        "lstsq" => {
            check_shape(spec, &["file", "l2", "l1"])?;
            let l2 = l2_of(spec)?;
            let l1 = spec.get_f64("l1")?.unwrap_or(0.0);
            if l1 < 0.0 {
                return Err(spec.invalid("l1", l1, "must be non-negative"));
            }
            let file = required_file(spec)?;
            Ok(Problem::LeastSquaresRegression(
                LeastSquaresRegression::load(Path::new(file), l2)?.with_l1(l1)?,
            ))
        }
        "softmax" => {
            check_shape(spec, &["file", "data", "l2"])?;
            let l2 = l2_of(spec)?;
            Ok(Problem::Softmax(
                match data_source(spec, SOFTMAX_DATA_SETS)? {
                    Source::File(path) => Softmax::load(Path::new(path), l2)?,
                    Source::Data(_digits) => Softmax::digits(l2)?,
                },
            ))
        }
        "mgh" => Ok(Problem::Mgh(Mgh::from_spec(spec)?)),
        "nist" => Ok(Problem::Nist(Nist::from_spec(spec)?)),
        unknown => Err(BenchError::UnknownName {
            kind: spec.kind,
            name: unknown.to_owned(),
            valid: names(PROBLEM_NAMES),
        }),
    }
}

fn check_shape(spec: &Spec, keys: &[&str]) -> Result<()> {
    spec.check_no_positional()?;
    spec.check_keys(keys)
}

fn missing(spec: &Spec, message: String) -> BenchError {
    BenchError::Spec {
        kind: spec.kind,
        spec: spec.to_string(),
        message,
    }
}

fn required_file(spec: &Spec) -> Result<&str> {
    spec.get_str("file")
        .ok_or_else(|| missing(spec, format!("`{}` needs `file=PATH`", spec.name)))
}

/// `l2` (default 0), finite and non-negative.
fn l2_of(spec: &Spec) -> Result<f64> {
    let l2 = spec.get_f64("l2")?.unwrap_or(0.0);
    if l2 < 0.0 {
        return Err(spec.invalid("l2", l2, "must be non-negative"));
    }
    Ok(l2)
}

/// Where a data-driven problem takes its samples from.
enum Source<'a> {
    File(&'a str),
    /// One of the embedded data sets, by its (validated) name.
    Data(&'a str),
}

/// Exactly one of `file=PATH` and `data=NAME`, `NAME` among `data_sets`.
fn data_source<'a>(spec: &'a Spec, data_sets: &[&str]) -> Result<Source<'a>> {
    match (spec.get_str("file"), spec.get_str("data")) {
        (Some(path), None) => Ok(Source::File(path)),
        (None, Some(name)) if data_sets.contains(&name) => Ok(Source::Data(name)),
        (None, Some(name)) => Err(BenchError::UnknownName {
            kind: "data set",
            name: name.to_owned(),
            valid: names(data_sets),
        }),
        (Some(_), Some(_)) | (None, None) => Err(missing(
            spec,
            format!(
                "`{}` needs exactly one of `file=PATH` and `data=NAME` ({})",
                spec.name,
                data_sets.join(", ")
            ),
        )),
    }
}

/// An [`BenchError::InvalidArgument`] unless `l2` is finite and non-negative.
pub(crate) fn check_l2(problem: &str, l2: f64) -> Result<()> {
    if l2 >= 0.0 && l2.is_finite() {
        Ok(())
    } else {
        Err(BenchError::InvalidArgument {
            kind: "problem",
            name: problem.to_owned(),
            key: "l2".to_owned(),
            value: l2.to_string(),
            reason: "must be finite and non-negative".to_owned(),
        })
    }
}

/// At least one sample and one feature, one label per sample, finite features.
pub(crate) fn check_features(
    problem: &str,
    features: &Array2<f64>,
    num_labels: usize,
) -> Result<()> {
    let invalid = |message: String| BenchError::InvalidProblem {
        problem: problem.to_owned(),
        message,
    };
    let (n, d) = features.dim();
    if n == 0 || d == 0 {
        return Err(invalid(format!("no data: {n} samples of {d} features")));
    }
    if num_labels != n {
        return Err(invalid(format!("{num_labels} labels for {n} samples")));
    }
    if !features.iter().all(|v| v.is_finite()) {
        return Err(invalid("a feature is not finite".to_owned()));
    }
    Ok(())
}

/// [`check_features`] and finite labels (or targets).
pub(crate) fn check_data(
    problem: &str,
    features: &Array2<f64>,
    labels: &Array1<f64>,
) -> Result<()> {
    check_features(problem, features, labels.len())?;
    if !labels.iter().all(|v| v.is_finite()) {
        return Err(BenchError::InvalidProblem {
            problem: problem.to_owned(),
            message: "a label is not finite".to_owned(),
        });
    }
    Ok(())
}

/// Neumaier's compensated sum: the rounding error of the total stays
/// `O(eps)` however many terms are added (a plain sum of `n` terms drifts by
/// up to `n eps`), so a mean loss over many samples is accurate to the last
/// bits (e.g. `ln 2` at the logistic start). Used for the per-sample losses;
/// it costs a few flops per sample, against a dot product of length `d`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    #[inline]
    pub(crate) fn add(&mut self, value: f64) {
        let total = self.sum + value;
        self.compensation += if self.sum.abs() >= value.abs() {
            (self.sum - total) + value
        } else {
            (value - total) + self.sum
        };
        self.sum = total;
    }

    pub(crate) fn total(self) -> f64 {
        self.sum + self.compensation
    }
}

/// Finish a mean over a batch: `grad = scale * grad + l2 x` and return
/// `mean_loss + (l2/2) ||x||^2`, in one pass over `x` and `grad`.
pub(crate) fn add_ridge(
    mean_loss: f64,
    scale: f64,
    l2: f64,
    x: &Array1<f64>,
    grad: &mut Array1<f64>,
) -> f64 {
    let mut squared_norm = 0.0;
    Zip::from(grad).and(x).for_each(|g, &xi| {
        *g = scale * *g + l2 * xi;
        squared_norm += xi * xi;
    });
    mean_loss + 0.5 * l2 * squared_norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_keeps_the_small_terms() {
        let mut sum = CompensatedSum::default();
        let mut plain = 0.0;
        for value in [1e16, 1.0, 1.0, 1.0, 1.0, -1e16] {
            sum.add(value);
            plain += value;
        }
        assert_eq!(sum.total(), 4.0);
        assert_ne!(plain, 4.0);
        let mut ln2 = CompensatedSum::default();
        (0..569).for_each(|_| ln2.add(std::f64::consts::LN_2));
        assert_eq!(ln2.total() / 569.0, std::f64::consts::LN_2);
    }
}
