//! Optimizer specs for training networks: what `cargo xtask train` and the
//! `networks` suite build from `--model` and `--optimizer`, in one place.
//!
//! - [`build_network`]: `mlp` (`inputs-128-classes`, ReLU) or `cnn` (two
//!   conv-ReLU-pool blocks, then linear; [`CnnConfig::new`]) in `f32` on a
//!   device, initialised from a seed.
//! - [`training_method`]: a first-order spec (`sgd:lr=0.1,momentum=0.9`,
//!   `adam:lr=1e-3`, ...; [`F32_STEPPER_NAMES`]) becomes a stepper run over
//!   shuffled mini-batches; `scg`, `lbfgs`, `cg` and `newton-cg` become
//!   solvers run one iteration per epoch on the whole training set, and
//!   `scg` with a `batch_size` below the training set's size, or with
//!   micro-batches (`micro_batch`, or the run's `--accumulate`), becomes
//!   mini-batched SCG (`opt_second_order::scg::MinibatchScgConfig`'s keys),
//!   `ceil(n / B)` iterations per epoch. Both kinds can save and restore
//!   their state (checkpoints).
//!
//! Mini-batched SCG here reports its batch's value (`full_objective=false`)
//! unless the spec says otherwise: the training loop evaluates the training
//! loss once per epoch, so a full pass after every iteration would only
//! cost time. Its seed is the run's unless the spec gives `seed`, and
//! micro-batches default to the run's `--accumulate`.

use candle_core::{DType, Device};
use ndarray::Array1;
use opt_models::data::Dataset;
use opt_models::network::{Cnn, CnnConfig, Mlp, MlpConfig, Network};
use opt_models::objective::NetworkObjective;
use opt_models::train::CheckpointSolver;
use opt_second_order::lbfgs::Lbfgs;
use opt_second_order::newton_cg::{Forcing, NewtonCg, NewtonCgConfig};
use opt_second_order::nonlinear_cg::{NonlinearCg, NonlinearCgConfig};
use opt_second_order::scg::{MinibatchScg, MinibatchScgConfig, Scg};

use crate::error::{BenchError, Result, names};
use crate::optimizers::{
    CheckpointStepper, F32_STEPPER_NAMES, build_stepper_f32, config_from_spec,
};
use crate::spec::Spec;

/// The networks [`build_network`] builds.
pub const MODEL_NAMES: &[&str] = &["mlp", "cnn"];

/// Hidden width of the MLP (`inputs-128-classes`, ReLU).
pub const MLP_HIDDEN: usize = 128;

/// The solvers [`training_method`] builds besides the `f32` steppers.
pub const TRAIN_SOLVER_NAMES: &[&str] = &["scg", "lbfgs", "cg", "newton-cg"];

/// The objective every training method runs on.
pub type TrainObjective = NetworkObjective<Box<dyn Network>, f32>;

/// A solver that trains a network and saves its state.
pub type TrainSolver = Box<dyn CheckpointSolver<TrainObjective>>;

/// What a spec trains with.
pub enum TrainingMethod {
    /// A first-order method, one step per shuffled mini-batch.
    Stepper(Box<dyn CheckpointStepper>),
    /// A solver, `iterations_per_epoch` iterations per epoch; `kind` names
    /// it in checkpoints (`scg`, `minibatch-scg`, `lbfgs`, `cg`, `newton-cg`).
    Solver {
        kind: &'static str,
        solver: TrainSolver,
        iterations_per_epoch: usize,
    },
}

impl std::fmt::Debug for TrainingMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stepper(_) => f.write_str("TrainingMethod::Stepper"),
            Self::Solver {
                kind,
                iterations_per_epoch,
                ..
            } => write!(
                f,
                "TrainingMethod::Solver({kind}, {iterations_per_epoch} iterations per epoch)"
            ),
        }
    }
}

/// The network `--model NAME` names for `data`, in `f32` on `device`,
/// initialised from `seed`.
///
/// Errors: an unknown name ([`BenchError::UnknownName`]); the network's own.
pub fn build_network(
    model: &str,
    data: &Dataset,
    seed: u64,
    device: &Device,
) -> Result<Box<dyn Network>> {
    let classes = data.num_classes();
    let network: Box<dyn Network> = match model {
        "mlp" => {
            let config = MlpConfig::new(data.feature_len(), &[MLP_HIDDEN], classes);
            Box::new(Mlp::new_on(&config, seed, DType::F32, device)?)
        }
        "cnn" => {
            let (channels, height, width) = data.image_shape();
            let config = CnnConfig::new([channels, height, width], classes);
            Box::new(Cnn::new_on(&config, seed, DType::F32, device)?)
        }
        other => {
            return Err(BenchError::UnknownName {
                kind: "model",
                name: other.to_owned(),
                valid: names(MODEL_NAMES),
            });
        }
    };
    Ok(network)
}

/// The method `spec` names, for a training set of `num_samples`, with the
/// run's `seed` and micro-batch size (module doc).
///
/// Errors: an unknown name or argument, an invalid hyperparameter, or a
/// micro-batch size given to a full-batch solver other than `scg`.
pub fn training_method(
    spec: &Spec,
    num_samples: usize,
    seed: u64,
    micro_batch: Option<usize>,
) -> Result<TrainingMethod> {
    let full_batch_only = |name: &str| match micro_batch {
        Some(m) => Err(spec.invalid(
            "accumulate",
            m,
            format!("micro-batches apply to first-order methods and scg, not to {name}"),
        )),
        None => Ok(()),
    };
    let solver = |kind: &'static str, solver: TrainSolver| TrainingMethod::Solver {
        kind,
        solver,
        iterations_per_epoch: 1,
    };
    match spec.name.as_str() {
        "scg" => {
            let mut config: MinibatchScgConfig =
                config_from_spec(spec, &MinibatchScgConfig::default(), &[])?;
            let batch = config
                .batch_size
                .unwrap_or(num_samples)
                .clamp(1, num_samples.max(1));
            if batch >= num_samples && config.micro_batch.or(micro_batch).is_none() {
                return Ok(solver(
                    "scg",
                    Box::new(Scg::<Array1<f32>>::new(config.scg())?),
                ));
            }
            if config.micro_batch.is_none() {
                config.micro_batch = micro_batch;
            }
            if !spec.contains("seed") {
                config.seed = seed;
            }
            if !spec.contains("full_objective") {
                config.full_objective = false;
            }
            Ok(TrainingMethod::Solver {
                kind: "minibatch-scg",
                solver: Box::new(MinibatchScg::<Array1<f32>>::new(config)?),
                iterations_per_epoch: num_samples.div_ceil(batch),
            })
        }
        "lbfgs" => {
            full_batch_only("lbfgs")?;
            spec.check_keys(&["m"])?;
            let m = spec.get_usize("m")?.unwrap_or(10);
            Ok(solver("lbfgs", Box::new(Lbfgs::<Array1<f32>>::new(m)?)))
        }
        "cg" => {
            full_batch_only("cg")?;
            let config: NonlinearCgConfig =
                config_from_spec(spec, &NonlinearCgConfig::default(), &[])?;
            Ok(solver(
                "cg",
                Box::new(NonlinearCg::<Array1<f32>, _>::new(config)?),
            ))
        }
        "newton-cg" => {
            full_batch_only("newton-cg")?;
            let config = newton_cg_config(spec)?;
            Ok(solver(
                "newton-cg",
                Box::new(NewtonCg::<Array1<f32>>::new(config)?),
            ))
        }
        name if F32_STEPPER_NAMES.contains(&name) => {
            Ok(TrainingMethod::Stepper(build_stepper_f32(spec)?))
        }
        other => {
            let mut valid = names(F32_STEPPER_NAMES);
            valid.extend(names(TRAIN_SOLVER_NAMES));
            Err(BenchError::UnknownName {
                kind: "optimizer",
                name: other.to_owned(),
                valid,
            })
        }
    }
}

/// `newton-cg[:forcing=superlinear|quadratic][,eta=E][,max_cg_iters=N]`, the
/// keys of the benchmark registry's `newton-cg` (a constant forcing term
/// `eta` instead of a sequence; `max_cg_iters` Hessian-vector products per
/// inner solve, default the dimension); strong Wolfe line search. The
/// network objective's Hessian-vector products are central differences of
/// gradients (`opt_core::Objective::hvp`), two full gradients each.
fn newton_cg_config(spec: &Spec) -> Result<NewtonCgConfig> {
    spec.check_keys(&["forcing", "eta", "max_cg_iters"])?;
    let eta = spec.get_f64("eta")?;
    let forcing = match (spec.get_str("forcing"), eta) {
        (None | Some("constant"), Some(eta)) => Forcing::Constant(eta),
        (None | Some("superlinear"), None) => Forcing::Superlinear,
        (Some("quadratic"), None) => Forcing::Quadratic,
        (Some("constant"), None) => {
            return Err(spec.invalid("forcing", "constant", "give the constant as `eta=E`"));
        }
        (Some(other), None) => {
            return Err(spec.invalid(
                "forcing",
                other,
                "expected superlinear, quadratic or constant",
            ));
        }
        (Some(other), Some(eta)) => {
            return Err(spec.invalid(
                "eta",
                eta,
                format!("a constant forcing term excludes `forcing={other}`"),
            ));
        }
    };
    Ok(NewtonCgConfig {
        forcing,
        max_cg_iters: spec.get_usize("max_cg_iters")?,
        ..NewtonCgConfig::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(text: &str, micro_batch: Option<usize>) -> Result<TrainingMethod> {
        training_method(&Spec::parse("optimizer", text)?, 1000, 3, micro_batch)
    }

    fn solver_kind(text: &str, micro_batch: Option<usize>) -> (&'static str, usize) {
        match method(text, micro_batch).expect(text) {
            TrainingMethod::Solver {
                kind,
                iterations_per_epoch,
                ..
            } => (kind, iterations_per_epoch),
            TrainingMethod::Stepper(_) => panic!("{text}: a stepper"),
        }
    }

    #[test]
    fn specs_become_the_documented_methods() {
        assert!(matches!(
            method("adam:lr=0.001", None).unwrap(),
            TrainingMethod::Stepper(_)
        ));
        assert_eq!(solver_kind("scg", None), ("scg", 1));
        assert_eq!(solver_kind("scg:sigma=5e-5", None), ("scg", 1));
        // a batch as large as the set is full-batch SCG
        assert_eq!(solver_kind("scg:batch_size=5000", None), ("scg", 1));
        assert_eq!(
            solver_kind("scg:batch_size=128", None),
            ("minibatch-scg", 8)
        );
        assert_eq!(solver_kind("scg:batches_every=2", None), ("scg", 1));
        assert_eq!(
            solver_kind("scg:micro_batch=100", None),
            ("minibatch-scg", 1)
        );
        // accumulation over micro-batches of the whole set
        assert_eq!(solver_kind("scg", Some(100)), ("minibatch-scg", 1));
        assert_eq!(solver_kind("lbfgs:m=5", None), ("lbfgs", 1));
        assert_eq!(solver_kind("cg:variant=fr", None), ("cg", 1));
        assert_eq!(
            solver_kind("newton-cg:max_cg_iters=4", None),
            ("newton-cg", 1)
        );
    }

    #[test]
    fn bad_specs_are_named_errors() {
        let message = |text: &str, micro_batch| method(text, micro_batch).unwrap_err().to_string();
        assert!(message("newton", None).contains("unknown optimizer `newton`"));
        assert!(message("lbfgs:q=3", None).contains("`q`"));
        assert!(message("scg:batch_size=2,nope=1", None).contains("`nope`"));
        assert!(message("lbfgs", Some(8)).contains("not to lbfgs"));
        assert!(message("newton-cg:forcing=fast", None).contains("forcing"));
        assert!(message("scg:sigma=1", None).contains("sigma"));
        // a value serde refuses names its argument
        let variant = message("cg:variant=xx", None);
        assert!(
            variant.starts_with("invalid value `xx` for `variant` of optimizer `cg`"),
            "{variant}"
        );
    }

    #[test]
    fn unknown_models_are_named() {
        let (train, _) = opt_models::data::digits().unwrap();
        let Err(error) = build_network("rnn", &train, 0, &Device::Cpu) else {
            panic!("an rnn was built");
        };
        assert!(error.to_string().contains("unknown model `rnn`"), "{error}");
        let mlp = build_network("mlp", &train, 0, &Device::Cpu).unwrap();
        assert_eq!(mlp.num_parameters(), 64 * 128 + 128 + 128 * 10 + 10);
    }
}
