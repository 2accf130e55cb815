//! A network, a loss and a labelled data set seen as an
//! [`opt_core::Objective`] and [`opt_core::FiniteSum`] over the flat
//! parameter vector, so that every solver of the workspace trains a network.
//!
//! With `w` the network's parameters flattened in [`Network::parameters`]
//! order (each tensor row-major) and `f_i` the loss of sample `i`,
//!
//! `f(w) = (1/n) sum_i f_i(w)`,  `f_i(w) = loss(net(w; image_i), label_i) + (l2/2) ||w_S||^2`,
//!
//! with `S` the parameters [`crate::loss::L2Scope`] selects. A mini-batch
//! `B` gives `f_B(w) = (1/|B|) sum_{i in B} f_i(w)` (the L2 term whole in
//! every batch), an unbiased estimate of `f`. Splitting a batch into
//! micro-batches is the caller's business
//! ([`opt_core::gradient::accumulate_batch_gradient`]).
//!
//! One evaluation copies `w` into the network's [`candle_core::Var`]s (in
//! place in their CPU storage; through a host-to-device copy elsewhere),
//! runs the forward pass and the loss, and for a gradient candle's
//! backward pass, whose per-parameter gradients are copied into the
//! caller's buffer at the same offsets. The L2 term and its gradient
//! `l2 w_S` are added on the flat vector. The index buffer of a mini-batch
//! is reused across calls; candle allocates the tensors of the forward and
//! backward passes.
//!
//! Evaluations are serialized by a lock (the network's parameters are
//! shared state), so the objective is `Sync` when the network is.

use std::any::Any;
use std::sync::{Mutex, PoisonError};

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp1, Layout, Storage, Tensor, Var, WithDType};
use ndarray::Array1;
use opt_core::{FiniteSum, Objective, OptError, Scalar, check_batch, check_len};

use crate::error::{ModelError, Result};
use crate::loss::{Loss, check_labels};
use crate::network::Network;

/// The scalars a network objective works in: `f32` (speed) or `f64`
/// (gradient checks); the network's dtype must match.
pub trait ModelScalar: Scalar + WithDType {}

impl<T: Scalar + WithDType> ModelScalar for T {}

/// Where one parameter tensor sits in the flat vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterSlot {
    /// The parameter's name (`linear0.weight`, ...).
    pub name: String,
    /// Offset of its first entry in the flat vector.
    pub offset: usize,
    /// Its shape; it occupies `shape.iter().product()` entries, row-major.
    pub shape: Vec<usize>,
    /// Whether the L2 penalty covers it.
    pub penalized: bool,
}

impl ParameterSlot {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// (network, loss, images, labels) as an objective over the flat parameter
/// vector `Array1<T>` (module doc).
#[derive(Debug)]
pub struct NetworkObjective<N, T = f32> {
    network: N,
    loss: Loss,
    images: Tensor,
    labels: Tensor,
    slots: Vec<ParameterSlot>,
    dim: usize,
    workspace: Mutex<Workspace<T>>,
}

/// Buffers reused across evaluations.
#[derive(Debug)]
struct Workspace<T> {
    /// The mini-batch indices as `u32` for `index_select`.
    indices: Vec<u32>,
    /// A contiguous copy of `x` or `grad` when the caller's is not.
    flat: Vec<T>,
}

/// Which samples one evaluation uses.
#[derive(Clone, Copy)]
enum Batch<'a> {
    All,
    Indices(&'a [usize]),
}

impl<N: Network, T: ModelScalar> NetworkObjective<N, T> {
    /// The objective of `network` under `loss` on `images` (`[n, ...]`,
    /// a shape the network accepts; converted to the network's dtype and
    /// device) and `labels` (`u32`, `[n]`, each below the number of
    /// outputs).
    ///
    /// Errors: a network whose dtype is not `T`'s, images the network does
    /// not accept, a label count other than `n`, or `n = 0` are
    /// [`ModelError::ShapeMismatch`] / [`ModelError::InvalidArgument`]; a
    /// label `>=` the number of classes an [`ModelError::InvalidArgument`].
    pub fn new(network: N, loss: Loss, images: &Tensor, labels: &Tensor) -> Result<Self> {
        if network.dtype() != T::DTYPE {
            return Err(ModelError::InvalidArgument {
                name: "network dtype",
                value: format!("{:?}", network.dtype()),
                reason: format!("the objective's vectors are {:?}", T::DTYPE),
            });
        }
        let samples = images.dims().first().copied().unwrap_or(0);
        if samples == 0 {
            return Err(ModelError::ShapeMismatch {
                what: "images".into(),
                expected: "[n >= 1, ...]".into(),
                got: format!("{:?}", images.dims()),
            });
        }
        network.check_input(images.dims())?;
        if labels.dims() != [samples] {
            return Err(ModelError::ShapeMismatch {
                what: "labels (one per image)".into(),
                expected: format!("[{samples}]"),
                got: format!("{:?}", labels.dims()),
            });
        }
        check_labels(labels, network.num_outputs())?;
        let device = network.device();
        let images = images.to_dtype(T::DTYPE)?.to_device(&device)?;
        let labels = labels.to_device(&device)?;
        let mut slots = Vec::with_capacity(network.parameters().len());
        let mut offset = 0;
        for (parameter, info) in network.parameters().iter().zip(network.parameter_info()) {
            let slot = ParameterSlot {
                name: info.name.clone(),
                offset,
                shape: parameter.dims().to_vec(),
                penalized: loss.l2_scope().covers(info.kind),
            };
            offset += slot.len();
            slots.push(slot);
        }
        Ok(Self {
            network,
            loss,
            images,
            labels,
            slots,
            dim: offset,
            workspace: Mutex::new(Workspace {
                indices: Vec::new(),
                flat: Vec::new(),
            }),
        })
    }

    /// The network (its parameters hold the last evaluated point).
    pub fn network(&self) -> &N {
        &self.network
    }

    /// Give the network back.
    pub fn into_network(self) -> N {
        self.network
    }

    /// The loss.
    pub fn loss(&self) -> &Loss {
        &self.loss
    }

    /// Where each parameter tensor sits in the flat vector.
    pub fn slots(&self) -> &[ParameterSlot] {
        &self.slots
    }

    /// The network's current parameters as a flat vector (the usual
    /// starting point `x0`).
    pub fn current_parameters(&self) -> Result<Array1<T>> {
        let mut flat = vec![T::of(0.0); self.dim];
        for (slot, parameter) in self.slots.iter().zip(self.network.parameters()) {
            copy_tensor_into(parameter.as_tensor(), &mut flat[slot.range()])?;
        }
        Ok(Array1::from_vec(flat))
    }

    /// Write the flat vector `x` into the network's parameters (e.g. the
    /// solution an optimizer returned).
    pub fn load_parameters(&self, x: &Array1<T>) -> Result<()> {
        check_len("parameters", self.dim, x.len())?;
        let mut workspace = self
            .workspace
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.write_parameters(x, &mut workspace.flat)
    }

    /// `f_B(x)` for the sample indices `B` without a gradient.
    pub fn batch_value(&self, x: &Array1<T>, indices: &[usize]) -> Result<T> {
        check_batch(indices, self.num_samples_inner())?;
        self.evaluate(x, Batch::Indices(indices), None)
    }

    fn num_samples_inner(&self) -> usize {
        self.labels.dims()[0]
    }

    /// Copy `x` into the network's variables, slot by slot.
    fn write_parameters(&self, x: &Array1<T>, scratch: &mut Vec<T>) -> Result<()> {
        let flat: &[T] = match x.as_slice() {
            Some(flat) => flat,
            None => {
                scratch.clear();
                scratch.extend(x.iter().copied());
                scratch
            }
        };
        for (slot, parameter) in self.slots.iter().zip(self.network.parameters()) {
            write_var(parameter, &flat[slot.range()])?;
        }
        Ok(())
    }

    /// Copy each parameter's gradient into its slot of `out` (zeros for a
    /// parameter the loss does not depend on).
    fn copy_gradients(&self, gradients: &GradStore, out: &mut [T]) -> Result<()> {
        for (slot, parameter) in self.slots.iter().zip(self.network.parameters()) {
            let target = &mut out[slot.range()];
            match gradients.get(parameter.as_tensor()) {
                Some(gradient) => copy_tensor_into(gradient, target)?,
                None => target.fill(T::of(0.0)),
            }
        }
        Ok(())
    }

    /// The value at `x` on `batch`, and the gradient into `grad` when given.
    fn evaluate(&self, x: &Array1<T>, batch: Batch<'_>, grad: Option<&mut Array1<T>>) -> Result<T> {
        check_len("parameters", self.dim, x.len())?;
        if let Some(grad) = &grad {
            check_len("gradient buffer", self.dim, grad.len())?;
        }
        let mut workspace = self
            .workspace
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let workspace = &mut *workspace;
        self.write_parameters(x, &mut workspace.flat)?;
        let (images, labels) = match batch {
            Batch::All => (self.images.clone(), self.labels.clone()),
            Batch::Indices(indices) => {
                workspace.indices.clear();
                for &index in indices {
                    let index = u32::try_from(index).map_err(|_| OptError::IndexOutOfRange {
                        index,
                        len: self.num_samples_inner(),
                    })?;
                    workspace.indices.push(index);
                }
                let selection =
                    Tensor::from_slice(&workspace.indices, indices.len(), self.images.device())?;
                (
                    self.images.index_select(&selection, 0)?,
                    self.labels.index_select(&selection, 0)?,
                )
            }
        };
        let outputs = self.network.forward(&images)?;
        let data_term = self.loss.data_term_unchecked(&outputs, &labels)?;
        let mut value = data_term.to_scalar::<T>()?;
        let l2 = T::of(self.loss.l2());
        if let Some(grad) = grad {
            let gradients = data_term.backward()?;
            match grad.as_slice_mut() {
                Some(out) => self.copy_gradients(&gradients, out)?,
                None => {
                    workspace.flat.clear();
                    workspace.flat.resize(self.dim, T::of(0.0));
                    self.copy_gradients(&gradients, &mut workspace.flat)?;
                    for (g, &v) in grad.iter_mut().zip(workspace.flat.iter()) {
                        *g = v;
                    }
                }
            }
            if self.loss.l2() > 0.0 {
                for slot in self.slots.iter().filter(|s| s.penalized) {
                    for i in slot.range() {
                        grad[i] += l2 * x[i];
                    }
                }
            }
        }
        if self.loss.l2() > 0.0 {
            let mut squares = T::of(0.0);
            for slot in self.slots.iter().filter(|s| s.penalized) {
                for i in slot.range() {
                    squares += x[i] * x[i];
                }
            }
            value += T::of(0.5) * l2 * squares;
        }
        Ok(value)
    }
}

impl<N: Network, T: ModelScalar> Objective for NetworkObjective<N, T> {
    type Vector = Array1<T>;

    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&self, x: &Array1<T>) -> opt_core::Result<T> {
        Ok(self.evaluate(x, Batch::All, None)?)
    }

    fn value_and_grad(&self, x: &Array1<T>, grad: &mut Array1<T>) -> opt_core::Result<T> {
        Ok(self.evaluate(x, Batch::All, Some(grad))?)
    }
}

impl<N: Network, T: ModelScalar> FiniteSum for NetworkObjective<N, T> {
    fn num_samples(&self) -> usize {
        self.num_samples_inner()
    }

    fn batch_value_and_grad(
        &self,
        x: &Array1<T>,
        indices: &[usize],
        grad: &mut Array1<T>,
    ) -> opt_core::Result<T> {
        check_batch(indices, self.num_samples_inner())?;
        Ok(self.evaluate(x, Batch::Indices(indices), Some(grad))?)
    }
}

/// Overwrite the variable's values with `values` (row-major, same count).
fn write_var<T: ModelScalar>(var: &Var, values: &[T]) -> Result<()> {
    if var.device().is_cpu() {
        var.as_tensor().inplace_op1(&WriteSlice { values })?;
    } else {
        let source = Tensor::from_slice(values, var.shape(), var.device())?;
        var.set(&source)?;
    }
    Ok(())
}

/// An in-place candle op that copies a slice into a contiguous CPU tensor.
struct WriteSlice<'a, T> {
    values: &'a [T],
}

impl<T: ModelScalar> InplaceOp1 for WriteSlice<'_, T> {
    fn name(&self) -> &'static str {
        "write-slice"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let destination: Option<&mut Vec<T>> = match storage {
            CpuStorage::F32(data) => (data as &mut dyn Any).downcast_mut(),
            CpuStorage::F64(data) => (data as &mut dyn Any).downcast_mut(),
            _ => None,
        };
        let destination = destination.ok_or_else(|| {
            candle_core::Error::Msg(format!(
                "write-slice: the variable's storage is not {:?}",
                T::DTYPE
            ))
        })?;
        match layout.contiguous_offsets() {
            Some((start, end)) if end - start == self.values.len() => {
                destination[start..end].copy_from_slice(self.values);
                Ok(())
            }
            _ => Err(candle_core::Error::Msg(format!(
                "write-slice: a contiguous tensor of {} values expected, got layout {:?}",
                self.values.len(),
                layout
            ))),
        }
    }
}

/// Copy a tensor's values (any layout) in row-major order into `out`.
fn copy_tensor_into<T: ModelScalar>(tensor: &Tensor, out: &mut [T]) -> Result<()> {
    if tensor.elem_count() != out.len() {
        return Err(ModelError::ShapeMismatch {
            what: "parameter tensor".into(),
            expected: format!("{} values", out.len()),
            got: format!("{:?}", tensor.dims()),
        });
    }
    if tensor.dtype() != T::DTYPE {
        return Err(ModelError::InvalidArgument {
            name: "tensor dtype",
            value: format!("{:?}", tensor.dtype()),
            reason: format!("expected {:?}", T::DTYPE),
        });
    }
    if tensor.device().is_cpu() {
        let (storage, layout) = tensor.storage_and_layout();
        if let Storage::Cpu(cpu) = &*storage {
            let data = cpu.as_slice::<T>()?;
            if let Some((start, end)) = layout.contiguous_offsets() {
                out.copy_from_slice(&data[start..end]);
                return Ok(());
            }
            if copy_strided(data, layout, out) {
                return Ok(());
            }
        }
    }
    let values = tensor.flatten_all()?.to_vec1::<T>()?;
    out.copy_from_slice(&values);
    Ok(())
}

/// Gather a strided tensor of rank at most 8 in row-major order (an
/// odometer over the multi-index; no allocation). Returns `false`, copying
/// nothing, for a higher rank.
fn copy_strided<T: Copy>(data: &[T], layout: &Layout, out: &mut [T]) -> bool {
    const MAX_RANK: usize = 8;
    let dims = layout.dims();
    let strides = layout.stride();
    let rank = dims.len();
    if rank > MAX_RANK {
        return false;
    }
    let mut index = [0usize; MAX_RANK];
    let mut offset = layout.start_offset();
    for value in out.iter_mut() {
        *value = data[offset];
        // advance the multi-index, last axis fastest
        let mut axis = rank;
        while axis > 0 {
            axis -= 1;
            index[axis] += 1;
            offset += strides[axis];
            if index[axis] < dims[axis] {
                break;
            }
            offset -= strides[axis] * dims[axis];
            index[axis] = 0;
        }
    }
    true
}
