//! The optimizer registry: `cargo xtask run --optimizer SPEC` names.
//!
//! First-order methods take their `torch.optim` argument names (`lr`,
//! `momentum`, `beta1`, `beta2`, `eps`, `weight_decay`, `amsgrad`, ...) with
//! PyTorch's defaults; the valid names of each are the fields of its
//! configuration struct in `opt-first-order`, so an unknown argument lists
//! exactly what the method takes.
//!
//! The variance-reduced methods `sag`, `saga`, `svrg` (`opt-variance-reduction`)
//! take arguments named after their papers (see [`build_optimizer`]); their
//! batch size and seed come from the run (`--batch-size`, default 1, and
//! `--seed`), not from the spec.

use ndarray::Array1;
use opt_core::line_search::{BacktrackingArmijo, MoreThuente};
use opt_core::{Solver, Stepper, StepperSolver};
use opt_first_order::{
    Adadelta, Adagrad, Adam, Adamax, Fista, GradientDescent, Ista, Lamb, Lars, LineSearchDescent,
    LineSearchKind, Method, Nadam, Optimizer as FirstOrder, Radam, Rmsprop, Sgd,
};
use opt_variance_reduction::{
    Init, Memory, Sag, SagConfig, SagStep, Saga, SagaConfig, SagaStep, Sampling, Snapshot, Svrg,
    SvrgConfig, SvrgStep, WarmStart,
};
use serde_json::{Map, Value};

use crate::error::{BenchError, Result};
use crate::problems::Problem;
use crate::spec::Spec;

mod second_order;

pub use second_order::SECOND_ORDER_NAMES;
pub(crate) use second_order::config_from_spec;

/// The optimizer names this registry builds.
pub const OPTIMIZER_NAMES: &[&str] = &[
    "gd",
    "sgd",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "radam",
    "lars",
    "lamb",
    "ista",
    "fista",
    "sag",
    "saga",
    "svrg",
    "newton",
    "newton-cg",
    "cg",
    "scg",
    "bfgs",
    "lbfgs",
    "sfn",
    "ogr",
    "tonga",
    "gauss-newton",
    "lm",
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
    /// A variance-reduced method on a finite sum (one iteration = one pass).
    VarianceReduced(Box<VarianceReduced>),
}

/// The variance-reduced methods of the registry. Their batch size and seed
/// are the run's ([`VarianceReduced::configure`]); one iteration is one
/// effective pass over the data.
#[derive(Debug)]
pub enum VarianceReduced {
    Sag(Sag),
    Saga(Saga),
    Svrg(Svrg),
}

impl VarianceReduced {
    /// Set the mini-batch size (`--batch-size`; 1 when not given: a full
    /// batch would make these methods plain gradient descent) and the seed.
    pub fn configure(&mut self, batch_size: usize, seed: u64) -> Result<()> {
        match self {
            VarianceReduced::Sag(solver) => {
                solver.set_batch_size(batch_size)?;
                solver.set_seed(seed);
            }
            VarianceReduced::Saga(solver) => {
                solver.set_batch_size(batch_size)?;
                solver.set_seed(seed);
            }
            VarianceReduced::Svrg(solver) => {
                solver.set_batch_size(batch_size)?;
                solver.set_seed(seed);
            }
        }
        Ok(())
    }

    /// The solver as a trait object for the runner.
    pub fn as_solver(&mut self) -> &mut dyn Solver<Problem> {
        match self {
            VarianceReduced::Sag(solver) => solver,
            VarianceReduced::Saga(solver) => solver,
            VarianceReduced::Svrg(solver) => solver,
        }
    }
}

/// A solver of the registry's problems that can be printed.
pub trait DynSolver: Solver<Problem> + std::fmt::Debug {}

impl<S: Solver<Problem> + std::fmt::Debug> DynSolver for S {}

/// The full-batch solvers of the registry.
#[derive(Debug)]
pub enum FullBatchSolver {
    /// Gradient descent with a line search.
    LineSearchDescent(LineSearchDescent<Array1<f64>>),
    /// A method of `opt-second-order`.
    Dyn(Box<dyn DynSolver>),
}

impl FullBatchSolver {
    /// The solver as a trait object for the runner.
    pub fn as_solver(&mut self) -> &mut dyn Solver<Problem> {
        match self {
            FullBatchSolver::LineSearchDescent(solver) => solver,
            FullBatchSolver::Dyn(solver) => solver.as_mut(),
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
        Optimizer::VarianceReduced(_) => Err(spec.invalid(
            "",
            &spec.name,
            "a variance-reduced method keeps a table of sample gradients; it is a solver, \
             not a stepper",
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
/// `sag`, `saga`, `svrg` (one iteration = one pass over the data; the
/// default step sizes need the problem's per-sample Lipschitz constants
/// `L_i`). `sampling=lipschitz` draws with probability 1/2 uniformly and
/// otherwise proportionally to `L_i`; `uniform` uniformly; `auto` (default)
/// takes `lipschitz` when the problem gives the `L_i` and
/// `L_max >= 8 L_mean`, else `uniform`; `L_q = max_i L_i / (n p_i)`
/// is the smoothness constant of the sampled gradient (`L_max` under
/// uniform sampling). `memory=auto` keeps one scalar per sample on
/// generalized-linear problems, `dense` per-sample gradient vectors.
///
/// - `sag[:lr=A|step=practical|theory|linesearch][,init=sgd|zeros]`
///   `[,sampling=...][,memory=...]`: the table filled by one pass of SGD
///   (default) or started at zero; step `1/L_q` (`practical`, default),
///   `1/(16 L_q)` (`theory`), or a backtracking estimate of `L`
///   (`linesearch`);
/// - `saga[:lr=A|step=practical|theory][,init=zeros|sgd][,sampling=...]`
///   `[,memory=...]`: step `0.6/L_q` with Lipschitz sampling and the
///   paper's `1/(3 L_q)` with uniform sampling (`practical`, default), or
///   `1/(3 L_q)` always (`theory`);
///   on a lasso it applies the problem's `l1` by soft thresholding;
/// - `svrg[:lr=A|step=practical|theory][,m=M][,init=sgd|none]`
///   `[,snapshot=last|average][,sampling=...][,memory=...]`: step `1/L_q`
///   (default) or `0.1/L_q`, `M` inner steps per epoch (default
///   `ceil(2n/b)`), a first pass of SGD (default) or none.
///
/// `lr` and `step` exclude each other.
///
/// The second-order methods (`opt-second-order`; equations and defaults in
/// `docs/algorithms/second-order.md`):
///
/// - `newton[:mode=modified|plain][,beta][,max_shifts][,c1][,shrink]`,
///   `newton:mode=damped[,damping][,min_damping][,eta][,update=nielsen|marquardt][,max_trials]`;
/// - `newton-cg[:forcing=superlinear|quadratic][,eta=E][,max_cg_iters]`
///   `[,line_search=wolfe|armijo][,c1][,c2][,shrink]`;
/// - `cg[:variant=prplus|fr|pr|hs|dy][,c1][,c2][,restart][,nu]`;
/// - `scg[:sigma][,lambda][,restart][,f_noise]`, mini-batched with
///   `batch_size=B[,micro_batch=M][,batches_every=K][,seed=S]`;
/// - `bfgs[:c1][,c2]`, `lbfgs[:m=10][,c1][,c2][,scaling=each_iteration|first_pair]`;
/// - `sfn[:k][,damping_min][,damping_max][,damping_candidates]`;
/// - `ogr[:lr][,beta][,d][,eta][,max_lr][,rotation]`, `tonga[:lr][,k][,lambda][,gamma]`
///   (steppers: `--batch-size` applies);
/// - `gauss-newton[:c1][,shrink][,min_step][,max_evaluations][,xtol]`,
///   `lm[:ftol][,xtol][,gtol][,factor][,scaling=jacobian|identity][,geodesic=true]`
///   `[,geodesic_alpha][,geodesic_h]`, `lm:matrix_free=true[,ftol][,xtol][,tau][,cg_tol]`
///   `[,max_cg_iters]` on sums of squares (`mgh`, `nist`, `lstsq`).
///
/// `problem_l1` is the problem's L1 weight ([`Problem::l1`]): a lasso
/// (`l1 > 0`) needs a proximal method, which takes its weight from the
/// problem; every other method is refused there, since its gradient would
/// ignore the nonsmooth term.
pub fn build_optimizer(spec: &Spec, problem_l1: f64) -> Result<Optimizer> {
    spec.check_no_positional()?;
    let proximal_method = matches!(spec.name.as_str(), "ista" | "fista" | "saga");
    if problem_l1 > 0.0 && !proximal_method && OPTIMIZER_NAMES.contains(&spec.name.as_str()) {
        return Err(spec.invalid(
            "l1",
            problem_l1,
            "the problem has an L1 term; use a proximal method (ista, fista, saga)",
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
        "sag" | "saga" | "svrg" => return variance_reduced(spec, problem_l1),
        other => {
            if let Some(built) = second_order::build(spec) {
                return built;
            }
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

/// SAG, SAGA or SVRG from its spec (see [`build_optimizer`]).
fn variance_reduced(spec: &Spec, problem_l1: f64) -> Result<Optimizer> {
    let core = |error: opt_core::OptError| match error {
        opt_core::OptError::InvalidHyperparameter {
            name,
            value,
            reason,
        } => invalid(spec, name, &value, reason),
        other => BenchError::Opt(other),
    };
    const MEMORY: &[(&str, Memory)] = &[("auto", Memory::Auto), ("dense", Memory::Dense)];
    const INIT: &[(&str, Init)] = &[("zeros", Init::Zeros), ("sgd", Init::Sgd)];
    const SAMPLING: &[(&str, Sampling)] = &[
        ("auto", Sampling::Auto),
        ("uniform", Sampling::Uniform),
        ("lipschitz", Sampling::Lipschitz),
    ];
    let method = match spec.name.as_str() {
        "sag" => {
            spec.check_keys(&["lr", "step", "init", "sampling", "memory"])?;
            let defaults = SagConfig::default();
            let config = SagConfig {
                lr: lr_or_step(spec)?,
                step: choice(
                    spec,
                    "step",
                    &[
                        ("practical", SagStep::Practical),
                        ("theory", SagStep::Theory),
                        ("linesearch", SagStep::Linesearch),
                    ],
                )?
                .unwrap_or(defaults.step),
                init: choice(spec, "init", INIT)?.unwrap_or(defaults.init),
                sampling: choice(spec, "sampling", SAMPLING)?.unwrap_or(defaults.sampling),
                memory: choice(spec, "memory", MEMORY)?.unwrap_or(defaults.memory),
                ..defaults
            };
            VarianceReduced::Sag(Sag::new(config).map_err(core)?)
        }
        "saga" => {
            if let Some(value) = spec.get_str("l1") {
                return Err(spec.invalid(
                    "l1",
                    value,
                    "the L1 weight is the problem's (`lstsq:...,l1=M`)",
                ));
            }
            spec.check_keys(&["lr", "step", "init", "sampling", "memory"])?;
            let defaults = SagaConfig::default();
            let config = SagaConfig {
                lr: lr_or_step(spec)?,
                step: choice(
                    spec,
                    "step",
                    &[
                        ("practical", SagaStep::Practical),
                        ("theory", SagaStep::Theory),
                    ],
                )?
                .unwrap_or(defaults.step),
                init: choice(spec, "init", INIT)?.unwrap_or(defaults.init),
                sampling: choice(spec, "sampling", SAMPLING)?.unwrap_or(defaults.sampling),
                memory: choice(spec, "memory", MEMORY)?.unwrap_or(defaults.memory),
                l1: problem_l1,
                ..defaults
            };
            VarianceReduced::Saga(Saga::new(config).map_err(core)?)
        }
        _svrg => {
            spec.check_keys(&["lr", "step", "m", "init", "snapshot", "sampling", "memory"])?;
            let defaults = SvrgConfig::default();
            let config = SvrgConfig {
                lr: lr_or_step(spec)?,
                step: choice(
                    spec,
                    "step",
                    &[
                        ("practical", SvrgStep::Practical),
                        ("theory", SvrgStep::Theory),
                    ],
                )?
                .unwrap_or(defaults.step),
                m: spec.get_usize("m")?,
                init: choice(
                    spec,
                    "init",
                    &[("none", WarmStart::None), ("sgd", WarmStart::Sgd)],
                )?
                .unwrap_or(defaults.init),
                snapshot: choice(
                    spec,
                    "snapshot",
                    &[("last", Snapshot::Last), ("average", Snapshot::Average)],
                )?
                .unwrap_or(defaults.snapshot),
                sampling: choice(spec, "sampling", SAMPLING)?.unwrap_or(defaults.sampling),
                memory: choice(spec, "memory", MEMORY)?.unwrap_or(defaults.memory),
                ..defaults
            };
            VarianceReduced::Svrg(Svrg::new(config).map_err(core)?)
        }
    };
    Ok(Optimizer::VarianceReduced(Box::new(method)))
}

/// `lr`, refused together with a `step` rule.
fn lr_or_step(spec: &Spec) -> Result<Option<f64>> {
    let lr = spec.get_f64("lr")?;
    if let (Some(lr), Some(step)) = (lr, spec.get_str("step")) {
        return Err(invalid(
            spec,
            "lr",
            &lr.to_string(),
            &format!("a fixed step excludes `step={step}`; give one of them"),
        ));
    }
    Ok(lr)
}

/// The option `key` names, among `options`.
fn choice<E: Copy>(spec: &Spec, key: &str, options: &[(&str, E)]) -> Result<Option<E>> {
    let Some(value) = spec.get_str(key) else {
        return Ok(None);
    };
    match options.iter().find(|(name, _)| *name == value) {
        Some(&(_, option)) => Ok(Some(option)),
        None => {
            let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
            Err(invalid(
                spec,
                key,
                value,
                &format!("expected one of {}", names.join(", ")),
            ))
        }
    }
}

/// A first-order method whose arguments are the fields of its config
/// struct, starting from `defaults`.
fn first_order<M: Method + 'static>(spec: &Spec, defaults: M) -> Result<DynStepper> {
    first_order_in::<M, f64>(spec, defaults)
}

/// The first-order methods [`build_stepper_f32`] builds.
pub const F32_STEPPER_NAMES: &[&str] = &[
    "gd", "sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "adamax", "nadam", "radam",
    "lars", "lamb",
];

/// An `f32` stepper of any first-order method, for training networks in
/// single precision (`opt-models`' `train`); its state can be saved for a
/// checkpoint.
pub type DynStepperF32 = Box<dyn CheckpointStepper>;

/// An `f32` stepper whose state can be saved to and restored from JSON
/// through a trait object (checkpoints of `cargo xtask train`).
pub trait CheckpointStepper: Stepper<Array1<f32>> {
    /// The optimizer's state as JSON text ([`opt_core::state::state_to_json`]).
    fn state_json(&self) -> opt_core::Result<String>;

    /// Restore a state written by [`CheckpointStepper::state_json`]; a state
    /// of another method or size is an [`opt_core::OptError::InvalidState`].
    fn restore_state_json(&mut self, json: &str) -> opt_core::Result<()>;
}

impl<M: Method> CheckpointStepper for FirstOrder<M, f32> {
    fn state_json(&self) -> opt_core::Result<String> {
        opt_core::state::state_to_json(self)
    }

    fn restore_state_json(&mut self, json: &str) -> opt_core::Result<()> {
        opt_core::state::restore_state_from_json(self, json)
    }
}

/// Fixed-step gradient descent keeps no state besides its learning rate,
/// which the spec gives: its state is `null`.
impl CheckpointStepper for GradientDescent {
    fn state_json(&self) -> opt_core::Result<String> {
        Ok("null".to_owned())
    }

    fn restore_state_json(&mut self, json: &str) -> opt_core::Result<()> {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Null) => Ok(()),
            _ => Err(opt_core::OptError::InvalidState(format!(
                "gradient descent keeps no state; expected `null`, got `{json}`"
            ))),
        }
    }
}

/// Build the `f32` stepper a first-order spec names: the `torch.optim`
/// methods with the same arguments and defaults as [`build_optimizer`],
/// and `gd:lr=A` (fixed steps). Full-batch, proximal, variance-reduced
/// and second-order methods are refused with a message saying so.
pub fn build_stepper_f32(spec: &Spec) -> Result<DynStepperF32> {
    spec.check_no_positional()?;
    match spec.name.as_str() {
        "gd" => {
            spec.check_keys(&["lr"])?;
            let Some(lr) = spec.get_f64("lr")? else {
                return Err(spec.invalid(
                    "lr",
                    "",
                    "an f32 stepper takes fixed steps; give `gd:lr=A`",
                ));
            };
            let stepper = GradientDescent::new(lr)
                .map_err(|e| invalid(spec, "lr", &lr.to_string(), &reason(&e)))?;
            Ok(Box::new(stepper))
        }
        "sgd" => first_order_f32(spec, Sgd::default()),
        "adagrad" => first_order_f32(spec, Adagrad::default()),
        "rmsprop" => first_order_f32(spec, Rmsprop::default()),
        "adadelta" => first_order_f32(spec, Adadelta::default()),
        "adam" => first_order_f32(spec, Adam::default()),
        "adamw" => first_order_f32(spec, Adam::adamw()),
        "adamax" => first_order_f32(spec, Adamax::default()),
        "nadam" => first_order_f32(spec, Nadam::default()),
        "radam" => first_order_f32(spec, Radam::default()),
        "lars" => first_order_f32(spec, Lars::default()),
        "lamb" => first_order_f32(spec, Lamb::default()),
        other => Err(BenchError::UnknownName {
            kind: "f32 stepper",
            name: other.to_owned(),
            valid: F32_STEPPER_NAMES.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

/// [`first_order`] in `f32`, with its state saved for checkpoints.
fn first_order_f32<M: Method + 'static>(spec: &Spec, defaults: M) -> Result<DynStepperF32> {
    Ok(Box::new(first_order_optimizer::<M, f32>(spec, defaults)?))
}

/// [`first_order`] in the scalar type `T`.
fn first_order_in<M: Method + 'static, T: opt_core::Scalar>(
    spec: &Spec,
    defaults: M,
) -> Result<Box<dyn Stepper<Array1<T>>>> {
    Ok(Box::new(first_order_optimizer::<M, T>(spec, defaults)?))
}

/// The first-order optimizer of method `M` in the scalar type `T`, its
/// arguments the fields of `M`'s configuration starting from `defaults`.
fn first_order_optimizer<M: Method + 'static, T: opt_core::Scalar>(
    spec: &Spec,
    defaults: M,
) -> Result<FirstOrder<M, T>> {
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
    let optimizer = FirstOrder::<M, T>::new(config).map_err(|error| match error {
        opt_core::OptError::InvalidHyperparameter {
            name,
            value,
            reason,
        } => invalid(spec, name, &value, reason),
        other => BenchError::Opt(other),
    })?;
    Ok(optimizer)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Spec {
        Spec::parse("optimizer", text).expect("a valid spec")
    }

    #[test]
    fn f32_steppers_take_the_same_steps_as_the_f64_ones_to_rounding() {
        for text in [
            "sgd:lr=0.1,momentum=0.9",
            "adam:lr=0.01",
            "gd:lr=0.5",
            "rmsprop",
        ] {
            let mut single = build_stepper_f32(&spec(text)).expect("an f32 stepper");
            let mut double = build_stepper(&spec(text), 0.0).expect("an f64 stepper");
            let mut x32 = Array1::from(vec![1.0_f32, -2.0, 0.5]);
            let mut x64 = Array1::from(vec![1.0_f64, -2.0, 0.5]);
            for _ in 0..3 {
                // the gradient of ||x||^2 / 2
                let g32 = x32.clone();
                let g64 = x64.clone();
                single.step(&mut x32, &g32).expect("a step");
                double.step(&mut x64, &g64).expect("a step");
            }
            assert_ne!(x64, Array1::from(vec![1.0, -2.0, 0.5]), "{text} moved");
            for (a, b) in x32.iter().zip(x64.iter()) {
                assert!((f64::from(*a) - b).abs() < 1e-5, "{text}: {a} vs {b}");
            }
            assert_eq!(single.learning_rate(), double.learning_rate());
        }
    }

    #[test]
    fn f32_steppers_refuse_other_methods_and_bad_arguments() {
        for (text, needle) in [
            ("scg", "f32 stepper"),
            ("lbfgs", "f32 stepper"),
            ("gd", "lr"),
            ("adam:lr=-1", "lr"),
            ("sgd:lr=0.1,beta1=0.9", "beta1"),
        ] {
            let error = build_stepper_f32(&spec(text)).expect_err(text).to_string();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn f32_stepper_states_round_trip_through_the_trait_object() {
        for text in ["adam:lr=0.01", "sgd:lr=0.1,momentum=0.9", "gd:lr=0.5"] {
            let mut original = build_stepper_f32(&spec(text)).expect("a stepper");
            let mut x = Array1::from(vec![1.0_f32, -2.0, 0.5]);
            for _ in 0..2 {
                let g = x.clone();
                original.step(&mut x, &g).expect("a step");
            }
            let mut copy = build_stepper_f32(&spec(text)).expect("a stepper");
            copy.restore_state_json(&original.state_json().expect("state"))
                .expect("restore");
            let mut y = x.clone();
            let g = x.clone();
            original.step(&mut x, &g).expect("a step");
            copy.step(&mut y, &g).expect("a step");
            let bits = |v: &Array1<f32>| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&x), bits(&y), "{text}");
        }
        // a state of another method or kind is refused
        let adam = build_stepper_f32(&spec("adam")).expect("adam");
        let mut gd = build_stepper_f32(&spec("gd:lr=0.1")).expect("gd");
        let error = gd
            .restore_state_json(&adam.state_json().expect("state"))
            .expect_err("gd keeps no state");
        assert!(error.to_string().contains("null"), "{error}");
        let mut sgd = build_stepper_f32(&spec("sgd:lr=0.1")).expect("sgd");
        assert!(sgd.restore_state_json("{oops").is_err());
    }
}
