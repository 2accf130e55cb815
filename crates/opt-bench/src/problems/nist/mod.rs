//! The 27 NIST StRD nonlinear regression problems (`nist:NAME[,start=1|2]`).
//!
//! Statistical Reference Datasets of the US National Institute of Standards
//! and Technology: for each, data `(x_i, y_i)`, a model `f(x; b)`, two
//! starting points and certified least-squares estimates computed in 128-bit
//! arithmetic (`data/nist-strd/README.md`: source, public-domain status,
//! sha256 of each file). The `.dat` files are embedded as published and
//! parsed by [`parse_dat`]; nothing is read from outside the crate.
//!
//! The problem is `min_b ||r(b)||^2` with residuals
//! `r_i(b) = y_i - f(x_i; b)` (NIST's sign; for Nelson `r_i = log(y_i) -
//! f(x_i; b)`, as its file says) and Jacobian `J_ij = -df/db_j (x_i; b)`,
//! written out by hand per model ([`Model`]). The value scale is
//! `c = 1` (`f = ||r||^2`), so the objective *is* the residual sum of
//! squares that NIST certifies, and `grad f = 2 J'r`.
//!
//! Accuracy is scored by the log relative error
//! `LRE(e, c) = -log10(|e - c| / |c|)` ([`log_relative_error`]), capped at
//! the certified value's significant digits (11 here).
//! Hessian-vector products use the central-difference default of
//! [`Objective::hvp`].

mod models;
mod parse;

use ndarray::{Array1, Array2};
use opt_core::{LeastSquares, Objective, OptError, check_len};

use crate::error::{BenchError, Result, names};
use crate::spec::Spec;

pub use models::Model;
pub use parse::{DatFile, Difficulty, ParameterLine, parse_dat};

/// One embedded problem: its name, file and model.
#[derive(Debug, Clone, Copy)]
struct Entry {
    name: &'static str,
    text: &'static str,
    model: Model,
    /// The model line of the file with all blanks removed.
    formula: &'static str,
}

macro_rules! nist_file {
    ($name:literal) => {
        include_str!(concat!("../../../data/nist-strd/", $name, ".dat"))
    };
}

/// The problems in NIST's order (lower, average, higher difficulty).
const ENTRIES: [Entry; 27] = [
    entry(
        "Misra1a",
        nist_file!("Misra1a"),
        Model::ExponentialSaturation,
        "y=b1*(1-exp[-b2*x])",
    ),
    entry(
        "Chwirut2",
        nist_file!("Chwirut2"),
        Model::Chwirut,
        "y=exp(-b1*x)/(b2+b3*x)",
    ),
    entry(
        "Chwirut1",
        nist_file!("Chwirut1"),
        Model::Chwirut,
        "y=exp[-b1*x]/(b2+b3*x)",
    ),
    entry(
        "Lanczos3",
        nist_file!("Lanczos3"),
        Model::ThreeExponentials,
        "y=b1*exp(-b2*x)+b3*exp(-b4*x)+b5*exp(-b6*x)",
    ),
    entry(
        "Gauss1",
        nist_file!("Gauss1"),
        Model::ExponentialAndTwoGaussians,
        "y=b1*exp(-b2*x)+b3*exp(-(x-b4)**2/b5**2)+b6*exp(-(x-b7)**2/b8**2)",
    ),
    entry(
        "Gauss2",
        nist_file!("Gauss2"),
        Model::ExponentialAndTwoGaussians,
        "y=b1*exp(-b2*x)+b3*exp(-(x-b4)**2/b5**2)+b6*exp(-(x-b7)**2/b8**2)",
    ),
    entry("DanWood", nist_file!("DanWood"), Model::Power, "y=b1*x**b2"),
    entry(
        "Misra1b",
        nist_file!("Misra1b"),
        Model::Misra1b,
        "y=b1*(1-(1+b2*x/2)**(-2))",
    ),
    entry(
        "Kirby2",
        nist_file!("Kirby2"),
        Model::RationalQuadratic,
        "y=(b1+b2*x+b3*x**2)/(1+b4*x+b5*x**2)",
    ),
    entry(
        "Hahn1",
        nist_file!("Hahn1"),
        Model::RationalCubic,
        "y=(b1+b2*x+b3*x**2+b4*x**3)/(1+b5*x+b6*x**2+b7*x**3)",
    ),
    entry(
        "Nelson",
        nist_file!("Nelson"),
        Model::Nelson,
        "log[y]=b1-b2*x1*exp[-b3*x2]",
    ),
    entry(
        "MGH17",
        nist_file!("MGH17"),
        Model::Mgh17,
        "y=b1+b2*exp[-x*b4]+b3*exp[-x*b5]",
    ),
    entry(
        "Lanczos1",
        nist_file!("Lanczos1"),
        Model::ThreeExponentials,
        "y=b1*exp(-b2*x)+b3*exp(-b4*x)+b5*exp(-b6*x)",
    ),
    entry(
        "Lanczos2",
        nist_file!("Lanczos2"),
        Model::ThreeExponentials,
        "y=b1*exp(-b2*x)+b3*exp(-b4*x)+b5*exp(-b6*x)",
    ),
    entry(
        "Gauss3",
        nist_file!("Gauss3"),
        Model::ExponentialAndTwoGaussians,
        "y=b1*exp(-b2*x)+b3*exp(-(x-b4)**2/b5**2)+b6*exp(-(x-b7)**2/b8**2)",
    ),
    entry(
        "Misra1c",
        nist_file!("Misra1c"),
        Model::Misra1c,
        "y=b1*(1-(1+2*b2*x)**(-.5))",
    ),
    entry(
        "Misra1d",
        nist_file!("Misra1d"),
        Model::Misra1d,
        "y=b1*b2*x*((1+b2*x)**(-1))",
    ),
    entry(
        "Roszman1",
        nist_file!("Roszman1"),
        Model::Roszman1,
        "y=b1-b2*x-arctan[b3/(x-b4)]/pi",
    ),
    entry(
        "ENSO",
        nist_file!("ENSO"),
        Model::Enso,
        "y=b1+b2*cos(2*pi*x/12)+b3*sin(2*pi*x/12)+b5*cos(2*pi*x/b4)+b6*sin(2*pi*x/b4)\
         +b8*cos(2*pi*x/b7)+b9*sin(2*pi*x/b7)",
    ),
    entry(
        "MGH09",
        nist_file!("MGH09"),
        Model::Mgh09,
        "y=b1*(x**2+x*b2)/(x**2+x*b3+b4)",
    ),
    entry(
        "Thurber",
        nist_file!("Thurber"),
        Model::RationalCubic,
        "y=(b1+b2*x+b3*x**2+b4*x**3)/(1+b5*x+b6*x**2+b7*x**3)",
    ),
    entry(
        "BoxBOD",
        nist_file!("BoxBOD"),
        Model::ExponentialSaturation,
        "y=b1*(1-exp[-b2*x])",
    ),
    entry(
        "Rat42",
        nist_file!("Rat42"),
        Model::Rat42,
        "y=b1/(1+exp[b2-b3*x])",
    ),
    entry(
        "MGH10",
        nist_file!("MGH10"),
        Model::Mgh10,
        "y=b1*exp[b2/(x+b3)]",
    ),
    entry(
        "Eckerle4",
        nist_file!("Eckerle4"),
        Model::Eckerle4,
        "y=(b1/b2)*exp[-0.5*((x-b3)/b2)**2]",
    ),
    entry(
        "Rat43",
        nist_file!("Rat43"),
        Model::Rat43,
        "y=b1/((1+exp[b2-b3*x])**(1/b4))",
    ),
    entry(
        "Bennett5",
        nist_file!("Bennett5"),
        Model::Bennett5,
        "y=b1*(b2+x)**(-1/b3)",
    ),
];

const fn entry(
    name: &'static str,
    text: &'static str,
    model: Model,
    formula: &'static str,
) -> Entry {
    Entry {
        name,
        text,
        model,
        formula,
    }
}

/// The most parameters of a NIST problem (ENSO's 9).
const MAX_PARAMETERS: usize = 9;

/// The 27 problem names, in NIST's order (8 of lower, 11 of average and 8
/// of higher difficulty).
pub const NIST_NAMES: [&str; 27] = [
    "Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b",
    "Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c", "Misra1d",
    "Roszman1", "ENSO", "MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43",
    "Bennett5",
];

/// The embedded `.dat` file of a problem (exact NIST name), as published.
pub fn nist_file_text(name: &str) -> Option<&'static str> {
    ENTRIES
        .iter()
        .find(|entry| entry.name == name)
        .map(|entry| entry.text)
}

/// `-log10(|estimate - certified| / |certified|)`, clamped to
/// `[0, digits]` (`digits` when they agree exactly; `0` for a non-finite
/// estimate). For a certified value of 0 the absolute error is used.
pub fn log_relative_error(estimate: f64, certified: f64, digits: u32) -> f64 {
    let cap = f64::from(digits);
    if !estimate.is_finite() {
        return 0.0;
    }
    let error = (estimate - certified).abs();
    if error == 0.0 {
        return cap;
    }
    let relative = if certified == 0.0 {
        error
    } else {
        error / certified.abs()
    };
    (-relative.log10()).clamp(0.0, cap)
}

/// A NIST StRD problem as a least-squares problem and an objective
/// (`f = ||r||^2`, the residual sum of squares).
#[derive(Debug, Clone, PartialEq)]
pub struct Nist {
    spec_name: String,
    data: DatFile,
    model: Model,
    start_index: usize,
    start: Array1<f64>,
    /// The response fitted: `y`, or `log(y)` for Nelson.
    response: Vec<f64>,
}

impl Nist {
    /// The problem `name` (NIST's spelling, any case: `Misra1a`,
    /// `misra1a`) from start `1` or `2`.
    pub fn new(name: &str, start: usize) -> Result<Self> {
        let entry = ENTRIES
            .iter()
            .find(|entry| entry.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| BenchError::UnknownName {
                kind: "NIST problem",
                name: name.to_owned(),
                valid: names(&NIST_NAMES),
            })?;
        if start != 1 && start != 2 {
            return Err(BenchError::InvalidArgument {
                kind: "problem",
                name: "nist".to_owned(),
                key: "start".to_owned(),
                value: start.to_string(),
                reason: "must be 1 or 2".to_owned(),
            });
        }
        let file = format!("nist-strd/{}.dat", entry.name);
        let data = parse_dat(entry.text, &file)?;
        Self::from_data(data, entry.model, entry.formula, &file, start)
    }

    /// `nist:NAME[,start=1|2]` (start 1 by default).
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        spec.check_keys(&["start"])?;
        let name = spec.positional.as_deref().ok_or_else(|| BenchError::Spec {
            kind: spec.kind,
            spec: spec.to_string(),
            message: format!(
                "`{}` needs a problem name, e.g. `nist:Misra1a`; valid: {}",
                spec.name,
                NIST_NAMES.join(", ")
            ),
        })?;
        let start = spec.get_usize("start")?.unwrap_or(1);
        if start != 1 && start != 2 {
            return Err(spec.invalid("start", start, "must be 1 or 2"));
        }
        Self::new(name, start)
    }

    /// A problem from the text of a `.dat` file whose `Dataset Name` is one
    /// of the 27 (so that its model is known); `file` names it in errors.
    /// The model formula in the file must be that problem's.
    pub fn from_dat_text(text: &str, file: &str, start: usize) -> Result<Self> {
        let data = parse_dat(text, file)?;
        let entry = ENTRIES
            .iter()
            .find(|entry| entry.name == data.name)
            .ok_or_else(|| BenchError::DataFile {
                problem: "nist".to_owned(),
                file: file.to_owned(),
                message: format!(
                    "data set `{}` is not one of the NIST problems ({})",
                    data.name,
                    NIST_NAMES.join(", ")
                ),
            })?;
        if start != 1 && start != 2 {
            return Err(BenchError::InvalidArgument {
                kind: "problem",
                name: "nist".to_owned(),
                key: "start".to_owned(),
                value: start.to_string(),
                reason: "must be 1 or 2".to_owned(),
            });
        }
        Self::from_data(data, entry.model, entry.formula, file, start)
    }

    fn from_data(
        data: DatFile,
        model: Model,
        formula: &str,
        file: &str,
        start: usize,
    ) -> Result<Self> {
        let file_error = |message: String| BenchError::DataFile {
            problem: "nist".to_owned(),
            file: file.to_owned(),
            message,
        };
        let compact: String = data.model.split_whitespace().collect();
        if compact != formula {
            return Err(file_error(format!(
                "the model `{}` is not {}'s `{formula}`",
                data.model, data.name
            )));
        }
        if data.parameters.len() != model.num_parameters() {
            return Err(file_error(format!(
                "{} parameters, but the model of {} has {}",
                data.parameters.len(),
                data.name,
                model.num_parameters()
            )));
        }
        if data.num_predictors != model.num_predictors() {
            return Err(file_error(format!(
                "{} predictor column(s), but the model of {} takes {}",
                data.num_predictors,
                data.name,
                model.num_predictors()
            )));
        }
        if data.num_observations() < data.parameters.len() {
            return Err(file_error(format!(
                "{} observations for {} parameters",
                data.num_observations(),
                data.parameters.len()
            )));
        }
        let response: Vec<f64> = if model == Model::Nelson {
            data.response.iter().map(|y| y.ln()).collect()
        } else {
            data.response.clone()
        };
        if let Some(row) = response.iter().position(|y| !y.is_finite()) {
            return Err(file_error(format!(
                "observation {} gives a non-finite response (log of a non-positive y?)",
                row + 1
            )));
        }
        let start_point = Array1::from_iter(data.parameters.iter().map(|p| p.starts[start - 1]));
        Ok(Self {
            spec_name: format!("nist:{},start={start}", data.name),
            data,
            model,
            start_index: start,
            start: start_point,
            response,
        })
    }

    /// The canonical spec, `nist:NAME,start=S`.
    pub fn name(&self) -> &str {
        &self.spec_name
    }

    /// NIST's name of the data set (e.g. `Misra1a`).
    pub fn dataset(&self) -> &str {
        &self.data.name
    }

    /// The starting point (start 1 or 2 of the file).
    pub fn start(&self) -> Array1<f64> {
        self.start.clone()
    }

    /// Which of the file's starting points this problem starts from (1 or 2).
    pub fn start_index(&self) -> usize {
        self.start_index
    }

    /// NIST's level of difficulty.
    pub fn difficulty(&self) -> Difficulty {
        self.data.difficulty
    }

    /// The model family.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The model formula as the file writes it.
    pub fn formula(&self) -> &str {
        &self.data.model
    }

    /// Everything the file holds.
    pub fn data(&self) -> &DatFile {
        &self.data
    }

    /// Number of observations `m`.
    pub fn num_observations(&self) -> usize {
        self.response.len()
    }

    /// The certified estimates `b*`.
    pub fn certified_parameters(&self) -> Array1<f64> {
        Array1::from_iter(self.data.parameters.iter().map(|p| p.certified))
    }

    /// The certified standard deviations of the estimates.
    pub fn certified_std_devs(&self) -> Array1<f64> {
        Array1::from_iter(self.data.parameters.iter().map(|p| p.std_dev))
    }

    /// The certified residual sum of squares at `b*`.
    pub fn certified_rss(&self) -> f64 {
        self.data.certified_rss
    }

    /// The LRE of each parameter of `estimate` against the certified values.
    pub fn parameter_lre(&self, estimate: &Array1<f64>) -> Vec<f64> {
        estimate
            .iter()
            .zip(&self.data.parameters)
            .map(|(&e, p)| log_relative_error(e, p.certified, p.certified_digits))
            .collect()
    }

    /// The smallest parameter LRE of `estimate` (0 for a wrong length).
    pub fn min_parameter_lre(&self, estimate: &Array1<f64>) -> f64 {
        if estimate.len() != self.data.parameters.len() {
            return 0.0;
        }
        self.parameter_lre(estimate)
            .into_iter()
            .fold(f64::INFINITY, f64::min)
    }

    /// The LRE of a residual sum of squares against the certified one.
    pub fn rss_lre(&self, rss: f64) -> f64 {
        log_relative_error(rss, self.data.certified_rss, self.data.certified_rss_digits)
    }

    fn check_parameters(&self, b: &Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.data.parameters.len(), b.len())
    }
}

impl LeastSquares for Nist {
    type Scalar = f64;

    fn num_parameters(&self) -> usize {
        self.data.parameters.len()
    }

    fn num_residuals(&self) -> usize {
        self.response.len()
    }

    /// `r_i = y_i - f(x_i; b)` (`log(y_i)` for Nelson).
    fn residuals(&self, b: &Array1<f64>, residuals: &mut Array1<f64>) -> opt_core::Result<()> {
        self.check_parameters(b)?;
        check_len("residual buffer", self.response.len(), residuals.len())?;
        let b = b.as_slice().ok_or(OptError::Unsupported(
            "parameters in standard layout (contiguous memory)",
        ))?;
        for (i, (r, &y)) in residuals.iter_mut().zip(&self.response).enumerate() {
            *r = y - self.model.value(b, self.data.predictors_of(i));
        }
        Ok(())
    }

    /// `J_ij = -df/db_j (x_i; b)`.
    fn jacobian(&self, b: &Array1<f64>, jacobian: &mut Array2<f64>) -> opt_core::Result<()> {
        self.check_parameters(b)?;
        let (m, n) = (self.response.len(), self.data.parameters.len());
        check_len("Jacobian rows", m, jacobian.nrows())?;
        check_len("Jacobian columns", n, jacobian.ncols())?;
        let b = b.as_slice().ok_or(OptError::Unsupported(
            "parameters in standard layout (contiguous memory)",
        ))?;
        // At most 9 parameters (ENSO): the row lives on the stack.
        let mut row = [0.0; MAX_PARAMETERS];
        let row = &mut row[..n];
        for i in 0..m {
            self.model.gradient(b, self.data.predictors_of(i), row);
            for (j, &d) in row.iter().enumerate() {
                jacobian[[i, j]] = -d;
            }
        }
        Ok(())
    }

    /// `c = 1`: `f = ||r||^2` is the residual sum of squares.
    fn value_scale(&self) -> f64 {
        1.0
    }
}

impl Objective for Nist {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.data.parameters.len()
    }

    /// The residual sum of squares `||r(b)||^2`.
    fn value(&self, b: &Array1<f64>) -> opt_core::Result<f64> {
        let mut r = Array1::zeros(self.response.len());
        self.residuals(b, &mut r)?;
        Ok(r.dot(&r))
    }

    /// `||r||^2` and `2 J'r`.
    fn value_and_grad(&self, b: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        check_len("gradient buffer", self.data.parameters.len(), grad.len())?;
        let mut r = Array1::zeros(self.response.len());
        self.residuals(b, &mut r)?;
        let mut jacobian = Array2::zeros((self.response.len(), self.data.parameters.len()));
        self.jacobian(b, &mut jacobian)?;
        grad.assign(&jacobian.t().dot(&r));
        grad.mapv_inplace(|g| 2.0 * g);
        Ok(r.dot(&r))
    }
}
