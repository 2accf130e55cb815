//! The container every element-wise method lives in: parameter groups with
//! their own hyperparameters (as PyTorch's `param_groups`), per-array state
//! created on the first step, the finiteness check, save and restore.

use ndarray::Array1;
use opt_core::{OptError, Result, SaveState, Scalar, Stepper, check_len};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::kernel::{gradients_are_finite, in_parallel_region, split_plan};

/// An element-wise first-order method: its hyperparameters (PyTorch's names
/// and defaults) and its fused update of one parameter array.
pub trait Method:
    Clone + std::fmt::Debug + PartialEq + Send + Sync + Serialize + DeserializeOwned
{
    /// The registry name (`"adam"`).
    const NAME: &'static str;

    /// `true` when the update of an array depends on reductions over the
    /// whole array (LARS's and LAMB's norms), so [`Method::update`] must see
    /// each array whole. `false` (the default) promises that updating any
    /// contiguous piece of an array (with the matching piece of its gradient
    /// and state, and the array's `t` and running scalar) gives exactly that
    /// piece of the whole array's update, which lets a step over several
    /// arrays run as one parallel pass over their concatenation.
    const LAYERWISE: bool = false;

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
    ///
    /// The finiteness check and the update each run as one parallel region
    /// over the arrays' concatenation, split into pieces of equal element
    /// count ([`split_plan`]) that may span several arrays, so a model of
    /// many tensors costs the same thread start-ups as one vector of the
    /// same size. A [`Method::LAYERWISE`] method runs array by array, each
    /// array split over threads on its own.
    pub fn step_slices(&mut self, params: &mut [&mut [T]], grads: &[&[T]]) -> Result<()> {
        self.step_split(params, grads, split_plan)
    }

    /// [`Optimizer::step_slices`] with the update's split given by `plan`
    /// (total element count to `(pieces, piece length)`).
    fn step_split(
        &mut self,
        params: &mut [&mut [T]],
        grads: &[&[T]],
        plan: fn(usize) -> (usize, usize),
    ) -> Result<()> {
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
        if !gradients_are_finite(grads) {
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
                index += 1;
            }
        }
        let total = params.iter().map(|p| p.len()).sum();
        self.update(params, grads, plan(total));
        Ok(())
    }

    /// The update of a checked step (lengths consistent, state allocated,
    /// gradients finite), split as `(count, piece)` says (see
    /// [`split_plan`]).
    fn update(&mut self, params: &mut [&mut [T]], grads: &[&[T]], (count, piece): (usize, usize)) {
        if M::LAYERWISE || count == 1 {
            // Whole arrays, each split over threads by its own `update`
            // when it is large enough.
            let arrays = params.iter_mut().zip(grads).zip(&mut self.arrays);
            for (index, ((p, g), state)) in arrays.enumerate() {
                Piece::whole(index, p, g, state).update(&self.groups);
            }
        } else {
            step_in_one_region(&self.groups, params, grads, &mut self.arrays, count, piece);
        }
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

/// The hyperparameters of array `index` (the caller checked the count).
fn config_of<M: Method>(groups: &[ParamGroup<M>], index: usize) -> &M {
    let mut first = 0;
    for group in groups {
        first += group.arrays;
        if index < first {
            return &group.config;
        }
    }
    unreachable!("array {index} beyond the groups' {first} arrays")
}

/// A contiguous piece of one parameter array with its gradient and state:
/// what one thread updates.
struct Piece<'a, T> {
    /// The array's index (for its group).
    array: usize,
    /// The step being taken (1-based).
    t: u64,
    /// The array's step count and running scalar, held by the piece that
    /// starts the array, which advances them; other pieces of the same array
    /// update a copy of `scalar`.
    counters: Option<(&'a mut u64, &'a mut f64)>,
    /// The running scalar before this step.
    scalar: f64,
    params: &'a mut [T],
    grads: &'a [T],
    state: &'a mut [T],
}

impl<'a, T: Scalar> Piece<'a, T> {
    /// The whole of array `array`.
    fn whole(
        array: usize,
        params: &'a mut [T],
        grads: &'a [T],
        state: &'a mut ArrayState<T>,
    ) -> Self {
        let ArrayState {
            step,
            scalar,
            buffer,
        } = state;
        Self {
            array,
            t: *step + 1,
            scalar: *scalar,
            counters: Some((step, scalar)),
            params,
            grads,
            state: buffer,
        }
    }

    fn len(&self) -> usize {
        self.params.len()
    }

    /// The first `mid` elements (keeping the counters) and the rest.
    fn split_at(self, mid: usize) -> (Self, Self) {
        let per_element = self.state.len().checked_div(self.len()).unwrap_or(0);
        let (params, params_rest) = self.params.split_at_mut(mid);
        let (grads, grads_rest) = self.grads.split_at(mid);
        let (state, state_rest) = self.state.split_at_mut(per_element * mid);
        let rest = Self {
            array: self.array,
            t: self.t,
            counters: None,
            scalar: self.scalar,
            params: params_rest,
            grads: grads_rest,
            state: state_rest,
        };
        let first = Self {
            params,
            grads,
            state,
            ..self
        };
        (first, rest)
    }

    /// Run the update of the array's method on this piece.
    fn update<M: Method>(self, groups: &[ParamGroup<M>]) {
        let config = config_of(groups, self.array);
        match self.counters {
            Some((step, scalar)) => {
                config.update(self.t, scalar, self.params, self.grads, self.state);
                *step = self.t;
            }
            None => {
                let mut scalar = self.scalar;
                config.update(self.t, &mut scalar, self.params, self.grads, self.state);
            }
        }
    }
}

/// What one thread of a region updates: the end of an array begun by the
/// previous thread, whole arrays, and the start of an array the next
/// thread ends (each part possibly empty).
struct Share<'a, 'b, T> {
    head: Option<Piece<'a, T>>,
    /// Index of the first whole array.
    first: usize,
    params: &'a mut [&'b mut [T]],
    grads: &'a [&'a [T]],
    states: &'a mut [ArrayState<T>],
    tail: Option<Piece<'a, T>>,
}

impl<T: Scalar> Share<'_, '_, T> {
    fn update<M: Method>(self, groups: &[ParamGroup<M>]) {
        if let Some(head) = self.head {
            head.update(groups);
        }
        let arrays = self.params.iter_mut().zip(self.grads).zip(self.states);
        for (offset, ((p, g), state)) in arrays.enumerate() {
            Piece::whole(self.first + offset, p, g, state).update(groups);
        }
        if let Some(tail) = self.tail {
            tail.update(groups);
        }
    }
}

/// One step of element-wise methods as one parallel region: the arrays'
/// concatenation is cut into `count` consecutive shares of `piece` elements
/// (the last takes the rest); `count - 1` scoped threads take the first
/// shares and the calling thread the last. Nothing is allocated.
fn step_in_one_region<M: Method, T: Scalar>(
    groups: &[ParamGroup<M>],
    params: &mut [&mut [T]],
    grads: &[&[T]],
    states: &mut [ArrayState<T>],
    count: usize,
    piece: usize,
) {
    std::thread::scope(|scope| {
        let mut params = params;
        let mut grads = grads;
        let mut states = states;
        let mut next = 0;
        // The part of an array that a boundary left for the next share.
        let mut carried: Option<Piece<'_, T>> = None;
        for share_index in 0..count {
            let last_share = share_index + 1 == count;
            let mut room = if last_share { usize::MAX } else { piece };
            let mut head = None;
            if let Some(rest) = carried.take() {
                if rest.len() <= room {
                    room -= rest.len();
                    head = Some(rest);
                } else {
                    let (taken, left) = rest.split_at(room);
                    room = 0;
                    head = Some(taken);
                    carried = Some(left);
                }
            }
            let mut whole = 0;
            if carried.is_none() {
                while whole < params.len() && params[whole].len() <= room {
                    room -= params[whole].len();
                    whole += 1;
                }
            }
            let (share_params, params_rest) = std::mem::take(&mut params).split_at_mut(whole);
            let (share_grads, grads_rest) = grads.split_at(whole);
            let (share_states, states_rest) = std::mem::take(&mut states).split_at_mut(whole);
            let first = next;
            next += whole;
            let mut tail = None;
            if carried.is_none() && room > 0 && !params_rest.is_empty() {
                // Only reached when the next array is longer than `room`.
                let (p, params_after) = params_rest.split_first_mut().expect("not empty");
                let (g, grads_after) = grads_rest.split_first().expect("same count");
                let (s, states_after) = states_rest.split_first_mut().expect("same count");
                let (taken, left) = Piece::whole(next, p, g, s).split_at(room);
                tail = Some(taken);
                carried = Some(left);
                next += 1;
                (params, grads, states) = (params_after, grads_after, states_after);
            } else {
                (params, grads, states) = (params_rest, grads_rest, states_rest);
            }
            let share = Share {
                head,
                first,
                params: share_params,
                grads: share_grads,
                states: share_states,
                tail,
            };
            if last_share {
                in_parallel_region(|| share.update(groups));
            } else {
                scope.spawn(move || in_parallel_region(|| share.update(groups)));
            }
        }
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Adam, Lamb, Nadam, Sgd};

    /// Uneven arrays, an empty one included; the large one alone is above
    /// the parallel threshold.
    const LENGTHS: [usize; 5] = [1, 0, 7, 200_003, 3];

    fn values<T: Scalar>(n: usize, seed: f64) -> Vec<T> {
        (0..n)
            .map(|i| T::of(((i % 1013) as f64 * seed).sin()))
            .collect()
    }

    fn cut<T: Clone>(values: &[T], lengths: &[usize]) -> Vec<Vec<T>> {
        let mut rest = values;
        lengths
            .iter()
            .map(|&n| {
                let (piece, after) = rest.split_at(n);
                rest = after;
                piece.to_vec()
            })
            .collect()
    }

    fn optimizer<M: Method, T: Scalar>(config: &M, arrays: usize) -> Optimizer<M, T> {
        Optimizer::with_groups(vec![ParamGroup {
            config: config.clone(),
            arrays,
        }])
        .unwrap()
    }

    /// Three steps (a new gradient each) over the arrays of `lengths`;
    /// returns the parameters and the optimizer's state.
    fn three_steps<M: Method, T: Scalar>(
        config: &M,
        lengths: &[usize],
        plan: fn(usize) -> (usize, usize),
    ) -> (Vec<Vec<T>>, OptimizerState<M, T>) {
        let total = lengths.iter().sum();
        let mut params = cut(&values::<T>(total, 0.37), lengths);
        let mut optimizer = optimizer::<M, T>(config, lengths.len());
        for step in 0..3 {
            let grads = cut(&values::<T>(total, 1.91 + step as f64), lengths);
            let mut param_slices: Vec<&mut [T]> =
                params.iter_mut().map(Vec::as_mut_slice).collect();
            let grad_slices: Vec<&[T]> = grads.iter().map(Vec::as_slice).collect();
            optimizer
                .step_split(&mut param_slices, &grad_slices, plan)
                .unwrap();
        }
        (params, optimizer.save_state())
    }

    fn bits<T: Scalar>(values: &[T]) -> Vec<u64> {
        values
            .iter()
            .map(|v| v.to_f64_lossless().to_bits())
            .collect()
    }

    /// Splits that put boundaries everywhere: inside the first arrays, on
    /// the empty one, several in the large one, the real plan of this machine.
    const PLANS: [fn(usize) -> (usize, usize); 6] = [
        split_plan,
        |n| (1, n),
        |_| (4, 1),
        |_| (2, 8),
        |_| (5, 64),
        |_| (3, 50_000),
    ];

    /// Element-wise methods: the arrays step exactly as their concatenation
    /// does (parameters, state buffers, step counts, running scalars).
    fn pieces_step_as_their_concatenation<M: Method, T: Scalar>(config: M) {
        let total: usize = LENGTHS.iter().sum();
        let (whole, whole_state) = three_steps::<M, T>(&config, &[total], split_plan);
        for (number, plan) in PLANS.into_iter().enumerate() {
            let (pieces, state) = three_steps::<M, T>(&config, &LENGTHS, plan);
            assert!(
                bits(&pieces.concat()) == bits(&whole[0]),
                "{config:?}, plan {number}: parameters differ"
            );
            let buffers: Vec<T> = state.arrays.iter().flat_map(|a| a.buffer.clone()).collect();
            assert!(
                bits(&buffers) == bits(&whole_state.arrays[0].buffer),
                "{config:?}, plan {number}: state differs"
            );
            for array in &state.arrays {
                assert_eq!(array.step, 3, "{config:?}, plan {number}");
                assert_eq!(
                    array.scalar.to_bits(),
                    whole_state.arrays[0].scalar.to_bits(),
                    "{config:?}, plan {number}"
                );
            }
        }
    }

    #[test]
    fn adam_on_pieces_equals_adam_on_their_concatenation() {
        pieces_step_as_their_concatenation::<_, f64>(Adam::default());
        pieces_step_as_their_concatenation::<_, f32>(Adam::default());
        pieces_step_as_their_concatenation::<_, f32>(Adam {
            amsgrad: true,
            ..Adam::adamw()
        });
    }

    #[test]
    fn momentum_on_pieces_equals_momentum_on_their_concatenation() {
        let momentum = Sgd {
            lr: 0.01,
            momentum: 0.9,
            dampening: 0.1,
            weight_decay: 1e-3,
            ..Sgd::default()
        };
        pieces_step_as_their_concatenation::<_, f64>(momentum);
        pieces_step_as_their_concatenation::<_, f32>(Sgd {
            momentum: 0.9,
            nesterov: true,
            ..Sgd::default()
        });
    }

    #[test]
    fn the_running_scalar_advances_once_per_array() {
        // NAdam's product of momentum coefficients: every piece of a split
        // array must use the old product, and the array's product advance
        // once per step.
        pieces_step_as_their_concatenation::<_, f32>(Nadam::default());
    }

    #[test]
    fn lamb_on_pieces_steps_each_array_as_its_own_layer() {
        let config = Lamb {
            weight_decay: 0.01,
            ..Lamb::default()
        };
        let total: usize = LENGTHS.iter().sum();
        let (whole, _) = three_steps::<Lamb, f64>(&config, &[total], split_plan);
        for (number, plan) in PLANS.into_iter().enumerate() {
            let (pieces, state) = three_steps::<Lamb, f64>(&config, &LENGTHS, plan);
            let mut offset = 0;
            for (index, &n) in LENGTHS.iter().enumerate() {
                // The same array alone, stepped with the same gradients.
                let start = values::<f64>(total, 0.37)[offset..offset + n].to_vec();
                let mut alone = Array1::from(start);
                let mut single = optimizer::<Lamb, f64>(&config, 1);
                for step in 0..3 {
                    let grads = values::<f64>(total, 1.91 + step as f64);
                    let grad = Array1::from(grads[offset..offset + n].to_vec());
                    single.step(&mut alone, &grad).unwrap();
                }
                assert!(
                    bits(&pieces[index]) == bits(alone.as_slice().unwrap()),
                    "plan {number}, array {index}"
                );
                assert!(
                    bits(&state.arrays[index].buffer)
                        == bits(&single.save_state().arrays[0].buffer),
                    "plan {number}, array {index}"
                );
                offset += n;
            }
            // Per-array trust ratios: not the step of one concatenated layer.
            assert!(bits(&pieces.concat()) != bits(&whole[0]), "plan {number}");
        }
    }

    #[test]
    fn a_non_finite_gradient_in_any_piece_changes_nothing() {
        let total: usize = LENGTHS.iter().sum();
        for bad in [0, 5, 8 + 150_000, total - 1] {
            let start = cut(&values::<f32>(total, 0.37), &LENGTHS);
            let mut params = start.clone();
            let mut gradient = values::<f32>(total, 1.91);
            gradient[bad] = f32::NAN;
            let grads = cut(&gradient, &LENGTHS);
            let mut adam = optimizer::<Adam, f32>(&Adam::default(), LENGTHS.len());
            let mut param_slices: Vec<&mut [f32]> =
                params.iter_mut().map(Vec::as_mut_slice).collect();
            let grad_slices: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
            let outcome = adam.step_slices(&mut param_slices, &grad_slices);
            assert!(
                matches!(outcome, Err(OptError::NonFinite { .. })),
                "{bad}: {outcome:?}"
            );
            assert_eq!(params, start, "{bad}");
            assert_eq!(adam.steps(), 0);
        }
    }
}
