//! A quadratic from a JSON file (`quadratic:file=PATH`):
//!
//! `f(x) = 0.5 x'Ax - b'x`, `grad f(x) = Ax - b`, `H = A`,
//!
//! with `A` symmetric (see [`crate::data`] for the file format). The start is
//! the file's `x0`, or zeros. For a positive definite `A` the minimizer
//! solves `Ax = b`.

use std::path::Path;

use ndarray::{Array1, Array2};
use opt_core::{Objective, check_len};

use crate::data::{QuadraticData, check_quadratic, load_quadratic_json};
use crate::error::{BenchError, Result};

/// `f(x) = 0.5 x'Ax - b'x` with a symmetric `A`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quadratic {
    a: Array2<f64>,
    b: Array1<f64>,
    x0: Option<Array1<f64>>,
    name: String,
}

impl Quadratic {
    /// The quadratic of a square symmetric `a`, `b` and optional start `x0`
    /// (checked as a file would be).
    pub fn new(a: Array2<f64>, b: Array1<f64>, x0: Option<Array1<f64>>) -> Result<Self> {
        let data = QuadraticData { a, b, x0 };
        check_quadratic(&data).map_err(|message| BenchError::InvalidProblem {
            problem: "quadratic".to_owned(),
            message,
        })?;
        Ok(Self::from_checked(data, "quadratic".to_owned()))
    }

    /// The quadratic of a JSON file (`quadratic:file=PATH`).
    pub fn load(path: &Path) -> Result<Self> {
        let data = load_quadratic_json(path)?;
        Ok(Self::from_checked(
            data,
            format!("quadratic:file={}", path.display()),
        ))
    }

    fn from_checked(data: QuadraticData, name: String) -> Self {
        let QuadraticData { a, b, x0 } = data;
        Self { a, b, x0, name }
    }

    /// The file's `x0`, or zeros.
    pub fn start(&self) -> Array1<f64> {
        self.x0
            .clone()
            .unwrap_or_else(|| Array1::zeros(self.b.len()))
    }

    /// The canonical spec, `quadratic:file=PATH` (`quadratic` when built in memory).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matrix `A`.
    pub fn a(&self) -> &Array2<f64> {
        &self.a
    }

    /// The vector `b`.
    pub fn b(&self) -> &Array1<f64> {
        &self.b
    }
}

impl Objective for Quadratic {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.b.len()
    }

    /// `f = sum_i x_i (0.5 (A x)_i - b_i)`, one pass over `A`.
    fn value(&self, x: &Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        Ok(self
            .a
            .rows()
            .into_iter()
            .zip(x.iter().zip(&self.b))
            .map(|(row, (&xi, &bi))| xi * (0.5 * row.dot(x) - bi))
            .sum())
    }

    /// `g = Ax - b` and `f = 0.5 x'(g - b)`, one pass over `A`.
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("gradient buffer", self.dim(), grad.len())?;
        let mut f = 0.0;
        for (i, row) in self.a.rows().into_iter().enumerate() {
            let gi = row.dot(x) - self.b[i];
            grad[i] = gi;
            f += 0.5 * x[i] * (gi - self.b[i]);
        }
        Ok(f)
    }

    /// `out = A v`.
    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.dim(), x.len())?;
        check_len("Hessian-vector direction", self.dim(), v.len())?;
        check_len("Hessian-vector output", self.dim(), out.len())?;
        for (o, row) in out.iter_mut().zip(self.a.rows()) {
            *o = row.dot(v);
        }
        Ok(())
    }
}
