//! Checkpoints of a training run, by a stepper
//! ([`crate::train::train_stepper_from`]) or a solver
//! ([`crate::train::train_solver_from`], whose state is a
//! [`crate::train::CheckpointSolver`]'s): a directory holding
//!
//! - `weights.safetensors`: the network's parameters by their names
//!   ([`crate::network::ParameterInfo::name`], e.g. `linear0.weight`), in
//!   the network's dtype (`f32` for training), written by candle's
//!   safetensors support;
//! - `state.json`: a [`CheckpointState`]: the format version, the epochs
//!   done, the run's [`RunSettings`] (checked on resume), the per-epoch
//!   records so far, the optimizer's state as JSON (its `SaveState`), and
//!   the FNV-1a 64 checksum of the weights file, so that weights and state
//!   of different epochs (or a damaged weights file) are refused.
//!
//! Both files are written to temporary names first and renamed, so an
//! interrupted write leaves the previous checkpoint readable. The shuffles
//! need no saved RNG state: epoch `e`'s order is a function of the seed and
//! `e` ([`crate::train::epoch_order`]).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::network::Network;
use crate::train::EpochRecord;

/// The weights file in a checkpoint directory.
pub const WEIGHTS_FILE: &str = "weights.safetensors";

/// The state file in a checkpoint directory.
pub const STATE_FILE: &str = "state.json";

/// The version of the format [`save_checkpoint`] writes.
pub const FORMAT_VERSION: u32 = 1;

/// What a resumed run must share with the run that wrote the checkpoint
/// for the two to make one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettings {
    /// The network, e.g. `mlp`.
    pub model: String,
    /// The data, e.g. `digits`.
    pub data: String,
    /// The optimizer spec as given, e.g. `adam:lr=0.001`.
    pub optimizer: String,
    /// Samples per step.
    pub batch_size: usize,
    /// Micro-batch size of gradient accumulation, if any.
    pub micro_batch: Option<usize>,
    /// Seed of the initialisation and the shuffles.
    pub seed: u64,
}

impl RunSettings {
    /// `Ok` when `self` (the run now) equals `saved` (the checkpoint's), a
    /// [`ModelError::InvalidArgument`] naming the first setting that
    /// differs and both values otherwise.
    pub fn check_matches(&self, saved: &RunSettings) -> Result<()> {
        let text = |value: Option<usize>| value.map_or("none".to_owned(), |v| v.to_string());
        let pairs: [(&'static str, String, String); 6] = [
            ("model", self.model.clone(), saved.model.clone()),
            ("data", self.data.clone(), saved.data.clone()),
            ("optimizer", self.optimizer.clone(), saved.optimizer.clone()),
            (
                "batch size",
                self.batch_size.to_string(),
                saved.batch_size.to_string(),
            ),
            (
                "micro-batch size",
                text(self.micro_batch),
                text(saved.micro_batch),
            ),
            ("seed", self.seed.to_string(), saved.seed.to_string()),
        ];
        for (name, now, then) in pairs {
            if now != then {
                return Err(ModelError::InvalidArgument {
                    name,
                    value: now,
                    reason: format!(
                        "the checkpoint was written with {name} `{then}`; resume with the same settings"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The contents of `state.json` (module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// [`FORMAT_VERSION`] of the writer.
    pub format: u32,
    /// Epochs run; a resumed run continues with the next one.
    pub epochs_done: usize,
    /// The run's settings.
    pub settings: RunSettings,
    /// One record per epoch done.
    pub records: Vec<EpochRecord>,
    /// The optimizer's state (`opt_core::SaveState`) as JSON.
    pub optimizer_state: serde_json::Value,
    /// FNV-1a 64 checksum of `weights.safetensors`, 16 hex digits.
    pub weights_checksum: String,
}

impl CheckpointState {
    /// Samples evaluated by the epochs done (the last record's).
    pub fn samples_seen(&self) -> u64 {
        self.records.last().map_or(0, |r| r.samples_seen)
    }
}

/// Write a checkpoint of `network`'s parameters, the `records` of the
/// epochs done so far and the optimizer's state `optimizer_state` (JSON
/// text) into `dir` (created if missing), replacing the one there.
///
/// Errors: no records; optimizer state that is not JSON
/// ([`ModelError::InvalidArgument`]); files that cannot be written
/// ([`ModelError::InvalidArgument`] naming the file); candle's errors.
pub fn save_checkpoint<N: Network + ?Sized>(
    dir: &Path,
    network: &N,
    settings: &RunSettings,
    records: &[EpochRecord],
    optimizer_state: &str,
) -> Result<()> {
    let Some(last) = records.last() else {
        return Err(ModelError::InvalidArgument {
            name: "records",
            value: "[]".to_owned(),
            reason: "a checkpoint follows at least one epoch".to_owned(),
        });
    };
    let optimizer_state: serde_json::Value =
        serde_json::from_str(optimizer_state).map_err(|e| ModelError::InvalidArgument {
            name: "optimizer state",
            value: truncated(optimizer_state),
            reason: format!("not JSON: {e}"),
        })?;
    fs::create_dir_all(dir).map_err(|source| write_error(dir, source))?;
    let weights_path = dir.join(WEIGHTS_FILE);
    let weights_temporary = temporary(&weights_path);
    let tensors: HashMap<String, Tensor> = network
        .parameter_info()
        .iter()
        .zip(network.parameters())
        .map(|(info, var)| (info.name.clone(), var.as_tensor().clone()))
        .collect();
    candle_core::safetensors::save(&tensors, &weights_temporary)?;
    let weights = fs::read(&weights_temporary).map_err(|s| write_error(&weights_temporary, s))?;
    let state = CheckpointState {
        format: FORMAT_VERSION,
        epochs_done: last.epoch,
        settings: settings.clone(),
        records: records.to_vec(),
        optimizer_state,
        weights_checksum: checksum(&weights),
    };
    let state_path = dir.join(STATE_FILE);
    let state_temporary = temporary(&state_path);
    let text = serde_json::to_string_pretty(&state).map_err(|e| ModelError::InvalidArgument {
        name: "checkpoint state",
        value: String::new(),
        reason: e.to_string(),
    })?;
    fs::write(&state_temporary, text).map_err(|s| write_error(&state_temporary, s))?;
    fs::rename(&weights_temporary, &weights_path).map_err(|s| write_error(&weights_path, s))?;
    fs::rename(&state_temporary, &state_path).map_err(|s| write_error(&state_path, s))?;
    Ok(())
}

/// Read the checkpoint in `dir`, check that it was written by a run with
/// `settings`, and load its weights into `network`'s parameters. Returns
/// the state; restoring the optimizer from
/// [`CheckpointState::optimizer_state`] is the caller's.
///
/// Errors: a missing or unreadable file ([`ModelError::Io`]); a state file
/// that does not parse, of another format version, whose checksum does not
/// match the weights, or weights that do not parse or lack a parameter
/// ([`ModelError::Malformed`]); other settings
/// ([`RunSettings::check_matches`]); a tensor of another shape or dtype
/// than the network's ([`ModelError::ShapeMismatch`]).
pub fn load_checkpoint<N: Network + ?Sized>(
    dir: &Path,
    network: &N,
    settings: &RunSettings,
) -> Result<CheckpointState> {
    let state_path = dir.join(STATE_FILE);
    let malformed = |path: &Path, reason: String| ModelError::Malformed {
        file: path.display().to_string(),
        reason,
    };
    let text = fs::read_to_string(&state_path).map_err(|s| io_error(&state_path, s))?;
    let state: CheckpointState =
        serde_json::from_str(&text).map_err(|e| malformed(&state_path, e.to_string()))?;
    if state.format != FORMAT_VERSION {
        return Err(malformed(
            &state_path,
            format!(
                "format version {}, this build reads {FORMAT_VERSION}",
                state.format
            ),
        ));
    }
    if state.records.len() != state.epochs_done {
        return Err(malformed(
            &state_path,
            format!(
                "{} records for {} epochs done",
                state.records.len(),
                state.epochs_done
            ),
        ));
    }
    settings.check_matches(&state.settings)?;
    let weights_path = dir.join(WEIGHTS_FILE);
    let weights = fs::read(&weights_path).map_err(|s| io_error(&weights_path, s))?;
    if checksum(&weights) != state.weights_checksum {
        return Err(malformed(
            &weights_path,
            format!(
                "checksum {} differs from the {} that {STATE_FILE} records (damaged, or of another epoch)",
                checksum(&weights),
                state.weights_checksum
            ),
        ));
    }
    let tensors = candle_core::safetensors::load_buffer(&weights, &network.device())
        .map_err(|e| malformed(&weights_path, e.to_string()))?;
    for (info, var) in network.parameter_info().iter().zip(network.parameters()) {
        let Some(tensor) = tensors.get(&info.name) else {
            return Err(malformed(
                &weights_path,
                format!("no tensor `{}`", info.name),
            ));
        };
        if tensor.dims() != var.dims() || tensor.dtype() != var.dtype() {
            return Err(ModelError::ShapeMismatch {
                what: format!("checkpoint tensor `{}`", info.name),
                expected: format!("{:?} {:?}", var.dims(), var.dtype()),
                got: format!("{:?} {:?}", tensor.dims(), tensor.dtype()),
            });
        }
    }
    if tensors.len() != network.parameters().len() {
        return Err(malformed(
            &weights_path,
            format!(
                "{} tensors for a network of {} parameters",
                tensors.len(),
                network.parameters().len()
            ),
        ));
    }
    for (info, var) in network.parameter_info().iter().zip(network.parameters()) {
        var.set(&tensors[&info.name])?;
    }
    Ok(state)
}

/// FNV-1a, 64 bits, as 16 hex digits.
fn checksum(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

fn io_error(path: &Path, source: std::io::Error) -> ModelError {
    ModelError::Io {
        file: path.display().to_string(),
        source,
    }
}

fn write_error(path: &Path, source: std::io::Error) -> ModelError {
    ModelError::InvalidArgument {
        name: "checkpoint file",
        value: path.display().to_string(),
        reason: format!("cannot write it: {source}"),
    }
}

fn truncated(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, digits};
    use crate::loss::Loss;
    use crate::network::{Mlp, MlpConfig};
    use crate::objective::NetworkObjective;
    use crate::train::{TrainConfig, TrainStart, objective_on, train_stepper_from};
    use ndarray::Array1;
    use opt_core::state::{restore_state_from_json, state_to_json};
    use opt_first_order::{Adam, Method, Optimizer, Sgd};

    const CONFIG: TrainConfig = TrainConfig {
        epochs: 2,
        batch_size: 32,
        micro_batch: None,
        seed: 11,
    };

    fn settings() -> RunSettings {
        RunSettings {
            model: "mlp".into(),
            data: "digits[..200]".into(),
            optimizer: "test".into(),
            batch_size: CONFIG.batch_size,
            micro_batch: CONFIG.micro_batch,
            seed: CONFIG.seed,
        }
    }

    fn setup() -> (NetworkObjective<Mlp, f32>, Dataset) {
        let (train, test) = digits().expect("digits");
        let train = train.subset(&(0..200).collect::<Vec<_>>()).expect("subset");
        let test = test.subset(&(0..60).collect::<Vec<_>>()).expect("subset");
        let network = Mlp::new(&MlpConfig::new(64, &[16], 10), 5).expect("mlp");
        let objective = objective_on(network, Loss::cross_entropy(), &train).expect("objective");
        (objective, test)
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "opt-models-checkpoint-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// Two epochs in one run, and one epoch, a checkpoint, a fresh network
    /// and optimizer loaded from it and the second epoch: the same
    /// parameters and records, bit for bit.
    fn resume_is_bit_identical<M: Method>(method: M, name: &str) {
        let losses = |r: &EpochRecord| {
            (
                r.epoch,
                r.train_loss.to_bits(),
                r.test_loss.to_bits(),
                r.test_accuracy.to_bits(),
                r.samples_seen,
            )
        };
        let (objective, test) = setup();
        let mut optimizer = Optimizer::<M, f32>::new(method.clone()).expect("optimizer");
        let whole = train_stepper_from(
            &objective,
            &test,
            &mut optimizer,
            &CONFIG,
            TrainStart::default(),
            |_, _| Ok(()),
        )
        .expect("two epochs");
        let whole_parameters = objective.current_parameters().expect("x");

        let (dir, first) = one_epoch_checkpoint(method.clone(), name);
        assert_eq!(losses(&first.epochs[0]), losses(&whole.epochs[0]), "{name}");

        // a fresh network (another initialisation) and optimizer
        let (train, _) = digits().expect("digits");
        let train = train.subset(&(0..200).collect::<Vec<_>>()).expect("subset");
        let network = Mlp::new(&MlpConfig::new(64, &[16], 10), 99).expect("mlp");
        let objective = objective_on(network, Loss::cross_entropy(), &train).expect("objective");
        let state = load_checkpoint(&dir, objective.network(), &settings()).expect("load");
        assert_eq!(state.epochs_done, 1);
        assert_eq!(state.records, first.epochs);
        let mut optimizer = Optimizer::<M, f32>::new(method).expect("optimizer");
        restore_state_from_json(&mut optimizer, &state.optimizer_state.to_string())
            .expect("restore");
        let start = TrainStart {
            epochs_done: state.epochs_done,
            samples_seen: state.samples_seen(),
        };
        let second =
            train_stepper_from(&objective, &test, &mut optimizer, &CONFIG, start, |_, _| {
                Ok(())
            })
            .expect("the second epoch");
        let resumed_parameters = objective.current_parameters().expect("x");
        let bits = |x: &Array1<f32>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&resumed_parameters), bits(&whole_parameters), "{name}");
        assert_eq!(second.epochs.len(), 1);
        assert_eq!(
            losses(&second.epochs[0]),
            losses(&whole.epochs[1]),
            "{name}"
        );
        assert_ne!(whole.epochs[0].train_loss, whole.epochs[1].train_loss);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_resumed_adam_run_is_bit_identical() {
        resume_is_bit_identical(
            Adam {
                lr: 0.01,
                ..Adam::default()
            },
            "adam",
        );
    }

    #[test]
    fn a_resumed_sgd_momentum_run_is_bit_identical() {
        resume_is_bit_identical(
            Sgd {
                lr: 0.1,
                momentum: 0.9,
                ..Sgd::default()
            },
            "sgd",
        );
    }

    /// One epoch of `method` from [`setup`] with a checkpoint after it, in
    /// a scratch directory named after `name`.
    fn one_epoch_checkpoint<M: Method>(
        method: M,
        name: &str,
    ) -> (PathBuf, crate::train::TrainReport) {
        let dir = scratch(name);
        let (objective, test) = setup();
        let mut optimizer = Optimizer::<M, f32>::new(method).expect("optimizer");
        let report = train_stepper_from(
            &objective,
            &test,
            &mut optimizer,
            &TrainConfig {
                epochs: 1,
                ..CONFIG
            },
            TrainStart::default(),
            |record, optimizer| {
                let state = state_to_json(optimizer)?;
                save_checkpoint(
                    &dir,
                    objective.network(),
                    &settings(),
                    std::slice::from_ref(record),
                    &state,
                )
            },
        )
        .expect("one epoch");
        (dir, report)
    }

    #[test]
    fn other_settings_are_refused_by_name() {
        let (dir, _) = one_epoch_checkpoint(Sgd::default(), "settings");
        let (objective, _) = setup();
        let other = RunSettings {
            batch_size: 64,
            ..settings()
        };
        let error = load_checkpoint(&dir, objective.network(), &other).expect_err("batch size");
        assert!(
            matches!(
                &error,
                ModelError::InvalidArgument {
                    name: "batch size",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("`32`"), "{error}");
        let other = RunSettings {
            seed: 1,
            ..settings()
        };
        let error = load_checkpoint(&dir, objective.network(), &other).expect_err("seed");
        assert!(
            matches!(&error, ModelError::InvalidArgument { name: "seed", .. }),
            "{error}"
        );
        // another network: a shape mismatch naming the tensor
        let wider = Mlp::new(&MlpConfig::new(64, &[17], 10), 5).expect("mlp");
        let error = load_checkpoint(&dir, &wider, &settings()).expect_err("shape");
        assert!(
            matches!(&error, ModelError::ShapeMismatch { what, .. } if what.contains("weight")),
            "{error}"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_or_damaged_files_are_refused() {
        let (dir, _) = one_epoch_checkpoint(Sgd::default(), "damaged");
        let (objective, _) = setup();
        let network = objective.network();
        let before = objective.current_parameters().expect("x");
        // a damaged weights file: the checksum differs
        let weights = dir.join(WEIGHTS_FILE);
        let mut bytes = fs::read(&weights).expect("weights");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&weights, &bytes).expect("write");
        let error = load_checkpoint(&dir, network, &settings()).expect_err("damaged");
        assert!(
            matches!(&error, ModelError::Malformed { reason, .. } if reason.contains("checksum")),
            "{error}"
        );
        // the network was left alone
        assert_eq!(objective.current_parameters().expect("x"), before);
        // a state file that is not JSON
        fs::write(dir.join(STATE_FILE), "{ not json").expect("write");
        let error = load_checkpoint(&dir, network, &settings()).expect_err("not json");
        assert!(matches!(error, ModelError::Malformed { .. }), "{error}");
        // no checkpoint at all
        fs::remove_dir_all(&dir).expect("remove");
        let error = load_checkpoint(&dir, network, &settings()).expect_err("missing");
        assert!(
            matches!(&error, ModelError::Io { file, .. } if file.ends_with(STATE_FILE)),
            "{error}"
        );
    }

    #[test]
    fn optimizer_states_that_are_not_json_and_empty_records_are_refused() {
        let dir = scratch("refused");
        let (objective, _) = setup();
        let record = EpochRecord {
            epoch: 1,
            train_loss: 1.0,
            test_loss: 1.0,
            test_accuracy: 0.5,
            seconds: 0.1,
            samples_seen: 200,
        };
        assert!(save_checkpoint(&dir, objective.network(), &settings(), &[], "null").is_err());
        assert!(
            save_checkpoint(&dir, objective.network(), &settings(), &[record], "{oops").is_err()
        );
        assert!(!dir.join(STATE_FILE).exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
