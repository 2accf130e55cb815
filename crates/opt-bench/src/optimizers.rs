//! The optimizer registry: `cargo xtask run --optimizer SPEC` names.

use ndarray::Array1;
use opt_core::line_search::{BacktrackingArmijo, MoreThuente};
use opt_core::{Solver, StepperSolver};
use opt_first_order::{GradientDescent, LineSearchDescent, LineSearchKind};

use crate::error::{BenchError, Result};
use crate::problems::Problem;
use crate::spec::Spec;

/// The optimizer names this registry builds now (the architecture page lists
/// the ones still to come).
pub const OPTIMIZER_NAMES: &[&str] = &["gd"];

/// An optimizer built from a spec, ready to hand to the runner.
#[derive(Debug)]
pub enum Optimizer {
    /// A first-order stepper: full batch, or mini-batches with `--batch-size`.
    Stepper(Box<StepperSolver<GradientDescent>>),
    /// A full-batch solver that owns its loop.
    FullBatch(Box<FullBatchSolver>),
}

/// The full-batch solvers of the registry.
#[derive(Debug)]
pub enum FullBatchSolver {
    /// Gradient descent with a line search.
    LineSearchDescent(LineSearchDescent<Array1<f64>>),
}

impl FullBatchSolver {
    /// The solver as a trait object for the runner.
    pub fn as_solver(&mut self) -> &mut dyn Solver<Problem> {
        match self {
            FullBatchSolver::LineSearchDescent(solver) => solver,
        }
    }
}

fn invalid(spec: &Spec, key: &str, value: &str, reason: &str) -> BenchError {
    BenchError::InvalidArgument {
        kind: "optimizer",
        name: spec.name.clone(),
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Build the optimizer a spec names.
///
/// `gd`: plain gradient descent. `gd:lr=A` takes fixed steps of size `A`
/// (a stepper: mini-batches and schedules apply); without `lr` it searches
/// along `-g` with `line_search=armijo` (default; backtracking, `c1`,
/// `shrink`) or `line_search=wolfe` (More-Thuente; `c1`, `c2`).
pub fn build_optimizer(spec: &Spec) -> Result<Optimizer> {
    if spec.positional.is_some() {
        return Err(BenchError::Spec {
            kind: "optimizer",
            spec: spec.name.clone(),
            message: "optimizers take only key=value arguments".into(),
        });
    }
    match spec.name.as_str() {
        "gd" => build_gd(spec),
        other => Err(BenchError::UnknownName {
            kind: "optimizer",
            name: other.to_owned(),
            valid: OPTIMIZER_NAMES.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

fn build_gd(spec: &Spec) -> Result<Optimizer> {
    spec.check_keys(&["lr", "line_search", "c1", "c2", "shrink"])?;
    if let Some(lr) = spec.get_f64("lr")? {
        for key in ["line_search", "c1", "c2", "shrink"] {
            if spec.get_str(key).is_some() {
                return Err(invalid(
                    spec,
                    key,
                    spec.get_str(key).unwrap_or(""),
                    "a fixed `lr` takes no line search",
                ));
            }
        }
        let stepper = GradientDescent::new(lr)
            .map_err(|e| invalid(spec, "lr", &lr.to_string(), &reason(&e)))?;
        return Ok(Optimizer::Stepper(Box::new(StepperSolver::full_batch(
            stepper,
        ))));
    }
    let c1 = spec.get_f64("c1")?;
    let kind =
        match spec.get_str("line_search").unwrap_or("armijo") {
            "armijo" => {
                if let Some(c2) = spec.get_str("c2") {
                    return Err(invalid(
                        spec,
                        "c2",
                        c2,
                        "the Armijo search has no curvature condition",
                    ));
                }
                let default = BacktrackingArmijo::default();
                let c1 = c1.unwrap_or(default.c1);
                let shrink = spec.get_f64("shrink")?.unwrap_or(default.shrink);
                LineSearchKind::Armijo(BacktrackingArmijo::new(c1, shrink).map_err(|e| {
                    invalid(spec, "c1/shrink", &format!("{c1}/{shrink}"), &reason(&e))
                })?)
            }
            "wolfe" => {
                if let Some(shrink) = spec.get_str("shrink") {
                    return Err(invalid(
                        spec,
                        "shrink",
                        shrink,
                        "only the Armijo search backtracks by a factor",
                    ));
                }
                let default = MoreThuente::default();
                let c1 = c1.unwrap_or(default.c1);
                let c2 = spec.get_f64("c2")?.unwrap_or(default.c2);
                LineSearchKind::Wolfe(
                    MoreThuente::new(c1, c2)
                        .map_err(|e| invalid(spec, "c1/c2", &format!("{c1}/{c2}"), &reason(&e)))?,
                )
            }
            other => {
                return Err(invalid(
                    spec,
                    "line_search",
                    other,
                    "expected armijo or wolfe",
                ));
            }
        };
    Ok(Optimizer::FullBatch(Box::new(
        FullBatchSolver::LineSearchDescent(LineSearchDescent::new(kind)),
    )))
}

/// The reason part of a core error, for an argument error.
fn reason(error: &opt_core::OptError) -> String {
    match error {
        opt_core::OptError::InvalidHyperparameter { reason, .. } => (*reason).to_owned(),
        other => other.to_string(),
    }
}
