//! The container every element-wise method lives in: parameter groups with
//! their own hyperparameters (as PyTorch's `param_groups`), per-array state
//! created on the first step, the finiteness check, save and restore.

use ndarray::Array1;
use opt_core::{OptError, Result, SaveState, Scalar, Stepper, check_len};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::kernel::gradient_is_finite;

/// An element-wise first-order method: its hyperparameters (PyTorch's names
/// and defaults) and its fused update of one parameter array.
pub trait Method:
    Clone + std::fmt::Debug + PartialEq + Send + Sync + Serialize + DeserializeOwned
{
    /// The registry name (`"adam"`).
    const NAME: &'static str;

    /// Check every hyperparameter; errors name the parameter.
    fn validate(&self) -> Result<()>;

    /// The learning rate.
    fn lr(&self) -> f64;

    /// The learning rate, for [`Method::set_lr`].
    fn lr_mut(&mut self) -> &mut f64;

    /// Change the learning rate; the whole configuration is validated with
    /// the new value, and left unchanged if it is invalid.
    fn set_lr(&mut self, lr: f64) -> Result<()> {
        let previous = std::mem::replace(self.lr_mut(), lr);
        self.validate().inspect_err(|_| *self.lr_mut() = previous)
    }

    /// State values kept per parameter element (Adam: 2, or 3 with AMSGrad).
    fn state_per_element(&self) -> usize;

    /// The value the state buffer starts at (Adagrad's
    /// `initial_accumulator_value`; 0 for every other method).
    fn initial_state(&self) -> f64 {
        0.0
    }

    /// One fused step of one parameter array. `t` is the 1-based step
    /// number, `state` holds `state_per_element()` interleaved values per
    /// element, `scalar` a running scalar some methods keep (NAdam's product
    /// of momentum coefficients; starts at 1). Gradients are finite and the
    /// lengths consistent (the container checks both before calling).
    fn update<T: Scalar>(
        &self,
        t: u64,
        scalar: &mut f64,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    );
}

/// Parameters that share hyperparameters: the next `arrays` parameter
/// arrays of a step use `config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamGroup<M> {
    pub config: M,
    pub arrays: usize,
}

/// The state of one parameter array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrayState<T> {
    /// Steps taken.
    pub step: u64,
    /// The method's running scalar (see [`Method::update`]).
    pub scalar: f64,
    /// `state_per_element` values per element, interleaved; empty before
    /// the first step.
    pub buffer: Vec<T>,
}

/// Everything a resumed run needs (hyperparameters included, since a
/// schedule may have changed the learning rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "M: Method, T: Scalar")]
pub struct OptimizerState<M, T> {
    pub groups: Vec<ParamGroup<M>>,
    pub arrays: Vec<ArrayState<T>>,
}

/// A first-order method over one or more parameter arrays.
///
/// Each step checks every gradient for NaN and infinity first (one read of
/// the gradient) and refuses the step, touching nothing, if one is found;
/// then runs the method's fused pass over each array.
#[derive(Debug, Clone)]
pub struct Optimizer<M: Method, T: Scalar> {
    groups: Vec<ParamGroup<M>>,
    arrays: Vec<ArrayState<T>>,
}

impl<M: Method, T: Scalar> Optimizer<M, T> {
    /// One group holding one parameter array.
    pub fn new(config: M) -> Result<Self> {
        Self::with_groups(vec![ParamGroup { config, arrays: 1 }])
    }

    /// Several groups, each with its own hyperparameters and number of arrays.
    pub fn with_groups(groups: Vec<ParamGroup<M>>) -> Result<Self> {
        if groups.is_empty() {
            return Err(OptError::invalid(
                "param_groups",
                0,
                "at least one group is needed",
            ));
        }
        for group in &groups {
            group.config.validate()?;
            if group.arrays == 0 {
                return Err(OptError::invalid(
                    "arrays",
                    0,
                    "a group holds at least one array",
                ));
            }
        }
        let total = groups.iter().map(|g| g.arrays).sum();
        let arrays = (0..total)
            .map(|_| ArrayState {
                step: 0,
                scalar: 1.0,
                buffer: Vec::new(),
            })
            .collect();
        Ok(Self { groups, arrays })
    }

    /// The groups and their hyperparameters.
    pub fn groups(&self) -> &[ParamGroup<M>] {
        &self.groups
    }

    /// Set the learning rate of group `group`.
    pub fn set_group_lr(&mut self, group: usize, lr: f64) -> Result<()> {
        let count = self.groups.len();
        let group = self
            .groups
            .get_mut(group)
            .ok_or(OptError::IndexOutOfRange {
                index: group,
                len: count,
            })?;
        group.config.set_lr(lr)
    }

    /// Steps taken by the first array.
    pub fn steps(&self) -> u64 {
        self.arrays.first().map_or(0, |a| a.step)
    }

    /// One step over every parameter array, in group order.
    pub fn step_slices(&mut self, params: &mut [&mut [T]], grads: &[&[T]]) -> Result<()> {
        check_len("parameter arrays", self.arrays.len(), params.len())?;
        check_len("gradient arrays", self.arrays.len(), grads.len())?;
        let mut index = 0;
        for group in &self.groups {
            let per_element = group.config.state_per_element();
            for _ in 0..group.arrays {
                let n = params[index].len();
                check_len("gradient", n, grads[index].len())?;
                let buffer = &self.arrays[index].buffer;
                if !buffer.is_empty() {
                    check_len("optimizer state", per_element * n, buffer.len())?;
                }
                index += 1;
            }
        }
        if !grads.iter().all(|g| gradient_is_finite(g)) {
            return Err(OptError::NonFinite {
                what: "gradient",
                iteration: self.steps() as usize,
            });
        }
        let mut index = 0;
        for group in &self.groups {
            let per_element = group.config.state_per_element();
            for _ in 0..group.arrays {
                let state = &mut self.arrays[index];
                let n = params[index].len();
                if state.buffer.len() != per_element * n {
                    state.buffer = vec![T::of(group.config.initial_state()); per_element * n];
                }
                let t = state.step + 1;
                group.config.update(
                    t,
                    &mut state.scalar,
                    params[index],
                    grads[index],
                    &mut state.buffer,
                );
                state.step = t;
                index += 1;
            }
        }
        Ok(())
    }

    /// One step over parameter arrays held as `Array1`s.
    pub fn step_arrays(&mut self, params: &mut [Array1<T>], grads: &[Array1<T>]) -> Result<()> {
        let mut param_slices = params
            .iter_mut()
            .map(|p| p.as_slice_memory_order_mut().ok_or(NOT_CONTIGUOUS))
            .collect::<Result<Vec<_>>>()?;
        let grad_slices = grads
            .iter()
            .map(|g| g.as_slice_memory_order().ok_or(NOT_CONTIGUOUS))
            .collect::<Result<Vec<_>>>()?;
        self.step_slices(&mut param_slices, &grad_slices)
    }
}

const NOT_CONTIGUOUS: OptError = OptError::Unsupported("non-contiguous parameter arrays");

impl<M: Method, T: Scalar> Stepper<Array1<T>> for Optimizer<M, T> {
    fn step(&mut self, params: &mut Array1<T>, grad: &Array1<T>) -> Result<()> {
        let param = params.as_slice_memory_order_mut().ok_or(NOT_CONTIGUOUS)?;
        let grad = grad.as_slice_memory_order().ok_or(NOT_CONTIGUOUS)?;
        self.step_slices(&mut [param], &[grad])
    }

    /// The first group's learning rate.
    fn learning_rate(&self) -> f64 {
        self.groups[0].config.lr()
    }

    /// Sets every group's learning rate.
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        let mut updated = self.groups.clone();
        for group in &mut updated {
            group.config.set_lr(lr)?;
        }
        self.groups = updated;
        Ok(())
    }
}

impl<M: Method, T: Scalar> SaveState for Optimizer<M, T> {
    type State = OptimizerState<M, T>;

    fn save_state(&self) -> Self::State {
        OptimizerState {
            groups: self.groups.clone(),
            arrays: self.arrays.clone(),
        }
    }

    fn restore_state(&mut self, state: Self::State) -> Result<()> {
        let restored = Self::with_groups(state.groups)?;
        if restored.arrays.len() != state.arrays.len() {
            return Err(OptError::InvalidState(format!(
                "{} array states for groups holding {} arrays",
                state.arrays.len(),
                restored.arrays.len()
            )));
        }
        let mut index = 0;
        for group in &restored.groups {
            let per_element = group.config.state_per_element();
            for _ in 0..group.arrays {
                let array = &state.arrays[index];
                let consistent = if array.step == 0 {
                    array.buffer.is_empty()
                } else {
                    per_element == 0 || array.buffer.len() % per_element == 0
                };
                if !consistent || !array.scalar.is_finite() {
                    return Err(OptError::InvalidState(format!(
                        "array {index}: a buffer of {} values does not fit {per_element} per element after {} steps",
                        array.buffer.len(),
                        array.step
                    )));
                }
                index += 1;
            }
        }
        self.groups = restored.groups;
        self.arrays = state.arrays;
        Ok(())
    }
}

/// `Ok(value)` if `value >= 0` (and not NaN), else an invalid-hyperparameter error.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<()> {
    if value >= 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(OptError::invalid(
            name,
            value,
            "must be a finite number >= 0",
        ))
    }
}

/// `Ok` if `value > 0` and finite.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(OptError::invalid(
            name,
            value,
            "must be a finite number > 0",
        ))
    }
}

/// `Ok` if `0 <= value < 1`.
pub(crate) fn unit_interval(name: &'static str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(OptError::invalid(name, value, "must lie in [0, 1)"))
    }
}
