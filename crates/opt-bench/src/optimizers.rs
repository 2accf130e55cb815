//! The optimizer registry: `cargo xtask run --optimizer SPEC` names.
//!
//! First-order methods take their `torch.optim` argument names (`lr`,
//! `momentum`, `beta1`, `beta2`, `eps`, `weight_decay`, `amsgrad`, ...) with
//! PyTorch's defaults; the valid names of each are the fields of its
//! configuration struct in `opt-first-order`, so an unknown argument lists
//! exactly what the method takes.

use ndarray::Array1;
use opt_core::line_search::{BacktrackingArmijo, MoreThuente};
use opt_core::{Solver, Stepper, StepperSolver};
use opt_first_order::{
    Adadelta, Adagrad, Adam, Adamax, Fista, GradientDescent, Ista, Lamb, Lars, LineSearchDescent,
    LineSearchKind, Method, Nadam, Optimizer as FirstOrder, Radam, Rmsprop, Sgd,
};
use serde_json::{Map, Value};

use crate::error::{BenchError, Result};
use crate::problems::Problem;
use crate::spec::Spec;

/// The optimizer names this registry builds now (the architecture page lists
/// the ones still to come).
pub const OPTIMIZER_NAMES: &[&str] = &[
    "gd", "sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "adamax", "nadam", "radam",
    "lars", "lamb", "ista", "fista",
];

/// A first-order stepper of any method, on the registry's `f64` problems.
pub type DynStepper = Box<dyn Stepper<Array1<f64>>>;

/// An optimizer built from a spec, ready to hand to the runner.
#[derive(Debug)]
pub enum Optimizer {
    /// A first-order stepper: full batch, or mini-batches with `--batch-size`.
    Stepper(Box<StepperSolver<DynStepper>>),
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
    spec.invalid(key, value, reason)
}

/// Build the stepper a first-order spec names (no full-batch solvers),
/// e.g. for a training loop of one's own; `problem_l1` as for
/// [`build_optimizer`].
pub fn build_stepper(spec: &Spec, problem_l1: f64) -> Result<DynStepper> {
    match build_optimizer(spec, problem_l1)? {
        Optimizer::Stepper(solver) => Ok(solver.into_stepper()),
        Optimizer::FullBatch(_) => Err(spec.invalid(
            "line_search",
            spec.get_str("line_search").unwrap_or("armijo"),
            "a line-search method is a full-batch solver, not a stepper (give `lr`)",
        )),
    }
}

/// Build the optimizer a spec names.
///
/// `gd`: plain gradient descent. `gd:lr=A` takes fixed steps of size `A`
/// (a stepper: mini-batches and schedules apply); without `lr` it searches
/// along `-g` with `line_search=armijo` (default; backtracking, `c1`,
/// `shrink`) or `line_search=wolfe` (More-Thuente; `c1`, `c2`).
/// The other names are the `torch.optim` methods of `opt-first-order`, and
/// `lars`, `lamb` (arguments after their papers) and the proximal `ista`,
/// `fista` (`lr`).
///
/// `problem_l1` is the problem's L1 weight ([`Problem::l1`]): a lasso
/// (`l1 > 0`) needs a proximal method, which takes its weight from the
/// problem; every other method is refused there, since its gradient would
/// ignore the nonsmooth term.
pub fn build_optimizer(spec: &Spec, problem_l1: f64) -> Result<Optimizer> {
    spec.check_no_positional()?;
    let proximal_method = matches!(spec.name.as_str(), "ista" | "fista");
    if problem_l1 > 0.0 && !proximal_method && OPTIMIZER_NAMES.contains(&spec.name.as_str()) {
        return Err(spec.invalid(
            "l1",
            problem_l1,
            "the problem has an L1 term; use a proximal method (ista, fista)",
        ));
    }
    let stepper = match spec.name.as_str() {
        "gd" => return build_gd(spec),
        "sgd" => first_order(spec, Sgd::default())?,
        "adagrad" => first_order(spec, Adagrad::default())?,
        "rmsprop" => first_order(spec, Rmsprop::default())?,
        "adadelta" => first_order(spec, Adadelta::default())?,
        "adam" => first_order(spec, Adam::default())?,
        "adamw" => first_order(spec, Adam::adamw())?,
        "adamax" => first_order(spec, Adamax::default())?,
        "nadam" => first_order(spec, Nadam::default())?,
        "radam" => first_order(spec, Radam::default())?,
        "lars" => first_order(spec, Lars::default())?,
        "lamb" => first_order(spec, Lamb::default())?,
        "ista" | "fista" => return proximal(spec, problem_l1),
        other => {
            return Err(BenchError::UnknownName {
                kind: "optimizer",
                name: other.to_owned(),
                valid: OPTIMIZER_NAMES.iter().map(|s| s.to_string()).collect(),
            });
        }
    };
    Ok(Optimizer::Stepper(Box::new(StepperSolver::full_batch(
        stepper,
    ))))
}

/// ISTA or FISTA with the problem's L1 weight.
fn proximal(spec: &Spec, problem_l1: f64) -> Result<Optimizer> {
    if let Some(value) = spec.get_str("l1") {
        return Err(spec.invalid(
            "l1",
            value,
            "the L1 weight is the problem's (`lstsq:...,l1=M`)",
        ));
    }
    let stepper = if spec.name == "ista" {
        first_order(
            spec,
            Ista {
                l1: problem_l1,
                ..Ista::default()
            },
        )?
    } else {
        first_order(
            spec,
            Fista {
                l1: problem_l1,
                ..Fista::default()
            },
        )?
    };
    Ok(Optimizer::Stepper(Box::new(StepperSolver::full_batch(
        stepper,
    ))))
}

/// A first-order method whose arguments are the fields of its config
/// struct, starting from `defaults`.
fn first_order<M: Method + 'static>(spec: &Spec, defaults: M) -> Result<DynStepper> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(&defaults) else {
        return Err(invalid(
            spec,
            "",
            "",
            "the method's configuration is not a record",
        ));
    };
    let valid: Vec<&str> = fields.keys().map(String::as_str).collect();
    spec.check_keys(&valid)?;
    let mut given = Map::new();
    for (key, _) in spec.args() {
        let value = match fields.get(key) {
            Some(Value::Bool(_)) => spec.get_bool(key)?.map(Value::Bool),
            _ => spec
                .get_f64(key)?
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
        };
        if let Some(value) = value {
            given.insert(key.clone(), value);
        }
    }
    fields.extend(given);
    let config: M = serde_json::from_value(Value::Object(fields))
        .map_err(|e| invalid(spec, "", "", &e.to_string()))?;
    let optimizer = FirstOrder::<M, f64>::new(config).map_err(|error| match error {
        opt_core::OptError::InvalidHyperparameter {
            name,
            value,
            reason,
        } => invalid(spec, name, &value, reason),
        other => BenchError::Opt(other),
    })?;
    Ok(Box::new(optimizer))
}

fn build_gd(spec: &Spec) -> Result<Optimizer> {
    spec.check_keys(&["lr", "line_search", "c1", "c2", "shrink"])?;
    if let Some(lr) = spec.get_f64("lr")? {
        for key in ["line_search", "c1", "c2", "shrink"] {
            if let Some(value) = spec.get_str(key) {
                return Err(invalid(
                    spec,
                    key,
                    value,
                    "a fixed `lr` takes no line search",
                ));
            }
        }
        let stepper = GradientDescent::new(lr)
            .map_err(|e| invalid(spec, "lr", &lr.to_string(), &reason(&e)))?;
        let stepper: DynStepper = Box::new(stepper);
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
