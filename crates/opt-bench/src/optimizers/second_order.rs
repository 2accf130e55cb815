//! The second-order part of the registry (`opt-second-order`): Newton,
//! Newton-CG, nonlinear CG, SCG, BFGS, L-BFGS, saddle-free Newton, OGR and
//! TONGA, Gauss-Newton and Levenberg-Marquardt. Arguments are named after
//! the papers and MINPACK (see [`super::build_optimizer`]).

use ndarray::Array1;
use opt_core::line_search::{BacktrackingArmijo, MoreThuente};
use opt_core::{OptError, StepperSolver};
use opt_second_order::bfgs::{Bfgs, QuasiNewtonLineSearch};
use opt_second_order::gauss_newton::{GaussNewton, GaussNewtonConfig};
use opt_second_order::lbfgs::{Lbfgs, Scaling};
use opt_second_order::levenberg_marquardt::{
    LevenbergMarquardt, LevenbergMarquardtConfig, MatrixFreeConfig, MatrixFreeLevenbergMarquardt,
};
use opt_second_order::newton::{
    DampedNewton, DampedNewtonConfig, DampingUpdate, Newton, NewtonConfig, NewtonMode,
};
use opt_second_order::newton_cg::{Forcing, NewtonCg, NewtonCgConfig, NewtonCgLineSearch};
use opt_second_order::nonlinear_cg::{NonlinearCg, NonlinearCgConfig};
use opt_second_order::ogr::{Ogr, OgrConfig};
use opt_second_order::saddle_free::{SaddleFreeNewton, SaddleFreeNewtonConfig};
use opt_second_order::scg::{MinibatchScg, MinibatchScgConfig, Scg, ScgConfig};
use opt_second_order::tonga::{Tonga, TongaConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{DynStepper, FullBatchSolver, Optimizer, choice};
use crate::error::{BenchError, Result};
use crate::spec::Spec;

/// The names this module builds.
pub const SECOND_ORDER_NAMES: &[&str] = &[
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

/// A core error as an argument error of `spec` where it names a hyperparameter.
fn core(spec: &Spec) -> impl Fn(OptError) -> BenchError + '_ {
    move |error| match error {
        OptError::InvalidHyperparameter {
            name,
            value,
            reason,
        } => spec.invalid(name, value, reason),
        other => BenchError::Opt(other),
    }
}

/// A configuration struct whose fields are the spec's keys (plus
/// `extra_keys` handled by the caller), starting from `defaults`. Numbers
/// that parse as integers are passed as integers, `true`/`false` as
/// booleans, anything else as a string (enum variants such as
/// `variant=fr`).
pub(crate) fn config_from_spec<C: Serialize + DeserializeOwned>(
    spec: &Spec,
    defaults: &C,
    extra_keys: &[&str],
) -> Result<C> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(defaults) else {
        return Err(spec.invalid("", "", "the method's configuration is not a record"));
    };
    let mut valid: Vec<&str> = fields.keys().map(String::as_str).collect();
    valid.extend_from_slice(extra_keys);
    spec.check_keys(&valid)?;
    let mut given = Map::new();
    for (key, text) in spec.args() {
        if !fields.contains_key(key) {
            continue;
        }
        let value = if let Ok(integer) = text.parse::<u64>() {
            Value::from(integer)
        } else if let Some(number) = spec.get_f64(key).ok().flatten() {
            Value::from(number)
        } else if let Ok(Some(flag)) = spec.get_bool(key) {
            Value::Bool(flag)
        } else {
            Value::String(text.clone())
        };
        given.insert(key.clone(), value);
    }
    let defaults = fields.clone();
    fields.extend(given.clone());
    serde_json::from_value(Value::Object(fields)).map_err(|error| {
        // name the argument: the first one that fails on its own
        for (key, value) in &given {
            let mut alone = defaults.clone();
            alone.insert(key.clone(), value.clone());
            if let Err(error) = serde_json::from_value::<C>(Value::Object(alone)) {
                let text = spec.get_str(key).unwrap_or_default();
                return spec.invalid(key, text, error.to_string());
            }
        }
        spec.invalid(
            "",
            spec.to_string(),
            format!("cannot read the arguments: {error}"),
        )
    })
}

fn full_batch(solver: FullBatchSolver) -> Optimizer {
    Optimizer::FullBatch(Box::new(solver))
}

fn stepper(stepper: DynStepper) -> Optimizer {
    Optimizer::Stepper(Box::new(StepperSolver::full_batch(stepper)))
}

fn wolfe(spec: &Spec, default: MoreThuente) -> Result<MoreThuente> {
    let c1 = spec.get_f64("c1")?.unwrap_or(default.c1);
    let c2 = spec.get_f64("c2")?.unwrap_or(default.c2);
    MoreThuente::new(c1, c2).map_err(core(spec))
}

fn armijo(spec: &Spec) -> Result<BacktrackingArmijo> {
    let default = BacktrackingArmijo::default();
    let c1 = spec.get_f64("c1")?.unwrap_or(default.c1);
    let shrink = spec.get_f64("shrink")?.unwrap_or(default.shrink);
    BacktrackingArmijo::new(c1, shrink).map_err(core(spec))
}

/// Build a second-order method; `None` when the name is not one of
/// [`SECOND_ORDER_NAMES`].
pub fn build(spec: &Spec) -> Option<Result<Optimizer>> {
    let built = match spec.name.as_str() {
        "newton" => newton(spec),
        "newton-cg" => newton_cg(spec),
        "cg" => {
            let defaults = NonlinearCgConfig::default();
            config_from_spec(spec, &defaults, &[]).and_then(|config| {
                let solver = NonlinearCg::new(config).map_err(core(spec))?;
                Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))))
            })
        }
        "scg" => scg(spec),
        "bfgs" => (|| {
            spec.check_keys(&["c1", "c2"])?;
            let QuasiNewtonLineSearch::StrongWolfe(default) = *Bfgs::<f64>::new().line_search()
            else {
                unreachable!("BFGS defaults to a strong Wolfe search")
            };
            let search = QuasiNewtonLineSearch::StrongWolfe(wolfe(spec, default)?);
            let solver = Bfgs::<f64>::with_line_search(search).map_err(core(spec))?;
            Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))))
        })(),
        "lbfgs" => (|| {
            spec.check_keys(&["m", "c1", "c2", "scaling"])?;
            let m = spec.get_usize("m")?.unwrap_or(10);
            let scaling = choice(
                spec,
                "scaling",
                &[
                    ("each_iteration", Scaling::EachIteration),
                    ("first_pair", Scaling::FirstPair),
                ],
            )?
            .unwrap_or_default();
            let solver = Lbfgs::<Array1<f64>>::new(m)
                .map_err(core(spec))?
                .with_scaling(scaling);
            let QuasiNewtonLineSearch::StrongWolfe(default) = *solver.line_search() else {
                unreachable!("L-BFGS defaults to a strong Wolfe search")
            };
            let search = QuasiNewtonLineSearch::StrongWolfe(wolfe(spec, default)?);
            let solver = solver.with_line_search(search).map_err(core(spec))?;
            Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))))
        })(),
        "sfn" => {
            config_from_spec(spec, &SaddleFreeNewtonConfig::default(), &[]).and_then(|config| {
                let solver = SaddleFreeNewton::new(config).map_err(core(spec))?;
                Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))))
            })
        }
        "ogr" => config_from_spec(spec, &OgrConfig::default(), &[]).and_then(|config| {
            let ogr: Ogr<Array1<f64>> = Ogr::new(config).map_err(core(spec))?;
            Ok(stepper(Box::new(ogr)))
        }),
        "tonga" => config_from_spec(spec, &TongaConfig::default(), &[]).and_then(|config| {
            let tonga: Tonga<Array1<f64>> = Tonga::new(config).map_err(core(spec))?;
            Ok(stepper(Box::new(tonga)))
        }),
        "gauss-newton" => {
            config_from_spec(spec, &GaussNewtonConfig::default(), &[]).and_then(|config| {
                let solver = GaussNewton::new(config).map_err(core(spec))?;
                Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))))
            })
        }
        "lm" => levenberg_marquardt(spec),
        _ => return None,
    };
    Some(built)
}

/// `newton[:mode=modified|plain|damped]`: line-search Newton with the
/// Hessian modified by `tau I` until Cholesky succeeds (`beta`,
/// `max_shifts`; Armijo `c1`, `shrink`), plain Newton (an indefinite
/// Hessian is an error), or damped Newton (`damping`, `min_damping`, `eta`,
/// `update=nielsen|marquardt`, `max_trials`).
fn newton(spec: &Spec) -> Result<Optimizer> {
    let mode = spec.get_str("mode").unwrap_or("modified");
    if mode == "damped" {
        spec.check_keys(&[
            "mode",
            "damping",
            "min_damping",
            "eta",
            "update",
            "max_trials",
        ])?;
        let defaults = DampedNewtonConfig::default();
        let config = DampedNewtonConfig {
            initial_damping: spec.get_f64("damping")?.unwrap_or(defaults.initial_damping),
            min_damping: spec.get_f64("min_damping")?.unwrap_or(defaults.min_damping),
            eta: spec.get_f64("eta")?.unwrap_or(defaults.eta),
            update: choice(
                spec,
                "update",
                &[
                    ("nielsen", DampingUpdate::Nielsen),
                    ("marquardt", DampingUpdate::Marquardt),
                ],
            )?
            .unwrap_or(defaults.update),
            max_trials: spec.get_usize("max_trials")?.unwrap_or(defaults.max_trials),
        };
        let solver = DampedNewton::<f64>::new(config).map_err(core(spec))?;
        return Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))));
    }
    spec.check_keys(&["mode", "beta", "max_shifts", "c1", "shrink"])?;
    let mode = choice(
        spec,
        "mode",
        &[
            ("modified", NewtonMode::Modified),
            ("plain", NewtonMode::Plain),
        ],
    )?
    .unwrap_or_default();
    let defaults = NewtonConfig::default();
    let config = NewtonConfig {
        mode,
        beta: spec.get_f64("beta")?.unwrap_or(defaults.beta),
        max_shifts: spec.get_usize("max_shifts")?.unwrap_or(defaults.max_shifts),
        line_search: armijo(spec)?,
    };
    let solver = Newton::<f64>::new(config).map_err(core(spec))?;
    Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))))
}

/// `newton-cg[:forcing=superlinear|quadratic|constant][,eta=E][,max_cg_iters=N]`
/// `[,line_search=armijo|wolfe][,c1=..][,c2=..][,shrink=..]`.
fn newton_cg(spec: &Spec) -> Result<Optimizer> {
    spec.check_keys(&[
        "forcing",
        "eta",
        "max_cg_iters",
        "line_search",
        "c1",
        "c2",
        "shrink",
    ])?;
    let defaults = NewtonCgConfig::default();
    let forcing = match (spec.get_str("forcing"), spec.get_f64("eta")?) {
        (None | Some("constant"), Some(eta)) => Forcing::Constant(eta),
        (Some("constant"), None) => {
            return Err(spec.invalid("forcing", "constant", "give the constant as `eta=E`"));
        }
        (None, None) => defaults.forcing,
        (Some(name), None) => choice(
            spec,
            "forcing",
            &[
                ("superlinear", Forcing::Superlinear),
                ("quadratic", Forcing::Quadratic),
            ],
        )?
        .unwrap_or_else(|| unreachable!("{name} was given")),
        (Some(name), Some(eta)) => {
            return Err(spec.invalid(
                "eta",
                eta,
                format!("a constant forcing term excludes `forcing={name}`"),
            ));
        }
    };
    let line_search = match spec.get_str("line_search") {
        None => defaults.line_search,
        Some("armijo") => NewtonCgLineSearch::Armijo(armijo(spec)?),
        Some("wolfe") => NewtonCgLineSearch::Wolfe(wolfe(spec, MoreThuente::default())?),
        Some(other) => {
            return Err(spec.invalid("line_search", other, "expected armijo or wolfe"));
        }
    };
    let config = NewtonCgConfig {
        forcing,
        max_cg_iters: spec.get_usize("max_cg_iters")?.or(defaults.max_cg_iters),
        line_search,
    };
    let solver = NewtonCg::<Array1<f64>>::new(config).map_err(core(spec))?;
    Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))))
}

/// `scg[:sigma=S][,lambda=L][,restart=N][,f_noise=E]`: Moller's SCG on the
/// full objective; with `batch_size=B` (and optionally `micro_batch=M`,
/// `batches_every=K`, `seed=S`) the mini-batched form on a finite sum.
fn scg(spec: &Spec) -> Result<Optimizer> {
    let minibatch = ["batch_size", "micro_batch", "batches_every", "seed"]
        .iter()
        .any(|key| spec.contains(key));
    if minibatch {
        let config = config_from_spec(spec, &MinibatchScgConfig::default(), &[])?;
        let solver = MinibatchScg::<Array1<f64>>::new(config).map_err(core(spec))?;
        return Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))));
    }
    let config = config_from_spec(spec, &ScgConfig::default(), &[])?;
    let solver = Scg::<Array1<f64>>::new(config).map_err(core(spec))?;
    Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))))
}

/// `lm[:ftol=..][,xtol=..][,gtol=..][,factor=..][,scaling=jacobian|identity]`
/// `[,geodesic=true][,geodesic_alpha=..][,geodesic_h=..]`: MINPACK's
/// Levenberg-Marquardt (QR steps); `lm:matrix_free=true[,ftol,xtol,tau,`
/// `cg_tol,max_cg_iters]`: the damped normal equations solved by CG on
/// `J v` and `J' u` only.
fn levenberg_marquardt(spec: &Spec) -> Result<Optimizer> {
    if spec.get_bool("matrix_free")?.unwrap_or(false) {
        let config = config_from_spec(spec, &MatrixFreeConfig::default(), &["matrix_free"])?;
        let solver = MatrixFreeLevenbergMarquardt::new(config).map_err(core(spec))?;
        return Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))));
    }
    let config = config_from_spec(spec, &LevenbergMarquardtConfig::default(), &["matrix_free"])?;
    let solver = LevenbergMarquardt::new(config).map_err(core(spec))?;
    Ok(full_batch(FullBatchSolver::Dyn(Box::new(solver))))
}
