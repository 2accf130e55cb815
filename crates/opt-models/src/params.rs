//! A candle model's parameters as one vector: [`CandleParams`] implements
//! [`opt_core::VectorSpace`] over an ordered list of candle variables, so
//! every solver written against that trait (SCG, nonlinear CG, Newton-CG,
//! ...) runs on a network's own weights, and
//! [`CandleParams::update_with`] hands the fused first-order kernels the
//! variables' storage as slices.
//!
//! The vector `x` is the concatenation, in order, of the row-major values of
//! the tensors `x_1, ..., x_k`; every operation is the same operation per
//! tensor, reductions are summed (`<x, y> = sum_j <x_j, y_j>`) or maximised
//! (`||x||_inf = max_j ||x_j||_inf`) over tensors.
//!
//! On the CPU each operation works directly on the contiguous storage of the
//! tensors (through candle's in-place ops, so without temporaries and
//! without `unsafe`); on other devices it uses candle tensor ops and
//! [`Var::set`] (one temporary per tensor and operation).
//!
//! Semantics to know:
//! - [`CandleParams::new`] and [`CandleParams::from_network`] *share*
//!   storage with the variables they are given: writing the vector writes
//!   the model. [`Clone`] (and [`VectorSpace::zeros_like`]) allocate new
//!   storage, so the copies a solver makes are independent.
//! - The two operands of one binary operation must not share storage (two
//!   sets built from the same variables); clones never do. Operating on two
//!   such sets panics, naming the cause, as does a failure of the device.
//! - L-BFGS needs `opt_second_order::lbfgs::TwoLoopVector` too; its
//!   default body (built from the vector-space operations) is used.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

use candle_core::backprop::GradStore;
use candle_core::{
    CpuStorage, DType, Device, InplaceOp1, InplaceOp2, Layout, Storage, Tensor, Var,
};
use opt_core::VectorSpace;

use crate::error::{ModelError, Result};
use crate::network::Network;
use crate::objective::ModelScalar;

/// An ordered set of candle variables of one dtype `T` (`f32` or `f64`) on
/// one device, seen as one vector of `len()` components.
#[derive(Debug)]
pub struct CandleParams<T: ModelScalar> {
    vars: Vec<Var>,
    len: usize,
    device: Device,
    marker: PhantomData<T>,
}

impl<T: ModelScalar> CandleParams<T> {
    /// A vector over `vars` (sharing their storage). Every variable must
    /// hold `T`, live on the device of the first, and be contiguous.
    pub fn new(vars: Vec<Var>) -> Result<Self> {
        let device = vars.first().map_or(Device::Cpu, |v| v.device().clone());
        let mut len = 0;
        for (index, var) in vars.iter().enumerate() {
            if var.dtype() != T::DTYPE {
                return Err(mismatch(
                    index,
                    format!("{:?}", T::DTYPE),
                    format!("{:?}", var.dtype()),
                ));
            }
            if !var.device().same_device(&device) {
                return Err(mismatch(
                    index,
                    format!("device {:?}", device.location()),
                    format!("device {:?}", var.device().location()),
                ));
            }
            if !var.is_contiguous() {
                return Err(mismatch(
                    index,
                    "a contiguous tensor".into(),
                    format!("{:?}", var.layout()),
                ));
            }
            len += var.elem_count();
        }
        Ok(Self {
            vars,
            len,
            device,
            marker: PhantomData,
        })
    }

    /// A vector over a network's parameters, in the network's order
    /// (sharing their storage: writing the vector writes the model).
    pub fn from_network<N: Network>(network: &N) -> Result<Self> {
        Self::new(network.parameters().to_vec())
    }

    /// The variables, in order.
    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// The device every variable lives on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The gradient of each variable from candle's backprop, in order; a
    /// variable the loss does not depend on is an error (its gradient is
    /// not zero by omission).
    pub fn gradients(&self, store: &GradStore) -> Result<Vec<Tensor>> {
        self.vars
            .iter()
            .enumerate()
            .map(|(index, var)| {
                store
                    .get(var.as_tensor())
                    .cloned()
                    .ok_or_else(|| ModelError::ShapeMismatch {
                        what: format!("gradient of parameter tensor {index}"),
                        expected: "a gradient from backprop".into(),
                        got: "none (the loss does not depend on it)".into(),
                    })
            })
            .collect()
    }

    /// Run `update(params, grads)` once with every variable's CPU storage
    /// as a mutable slice and every gradient tensor's as a slice, in order:
    /// the entry point of the fused first-order kernels, e.g.
    /// `params.update_with(&grads, |p, g| optimizer.step_slices(p, g))`
    /// with an `opt_first_order::Optimizer`. No values are copied; the only
    /// allocations are the two lists of slice references.
    ///
    /// Errors: a gradient count, shape or dtype that does not match, a
    /// non-contiguous gradient, or variables not on the CPU
    /// ([`ModelError::InvalidArgument`]; use tensor ops there).
    pub fn update_with<R>(
        &self,
        grads: &[Tensor],
        update: impl FnOnce(&mut [&mut [T]], &[&[T]]) -> R,
    ) -> Result<R> {
        if !self.device.is_cpu() {
            return Err(ModelError::InvalidArgument {
                name: "device",
                value: format!("{:?}", self.device.location()),
                reason: "slice updates need parameters on the CPU".into(),
            });
        }
        if grads.len() != self.vars.len() {
            return Err(ModelError::ShapeMismatch {
                what: "gradient tensors".into(),
                expected: self.vars.len().to_string(),
                got: grads.len().to_string(),
            });
        }
        for (index, (var, grad)) in self.vars.iter().zip(grads).enumerate() {
            if grad.dims() != var.dims() || grad.dtype() != T::DTYPE || !grad.is_contiguous() {
                return Err(ModelError::ShapeMismatch {
                    what: format!("gradient of parameter tensor {index}"),
                    expected: format!("contiguous {:?} {:?}", T::DTYPE, var.dims()),
                    got: format!(
                        "{:?} {:?} contiguous: {}",
                        grad.dtype(),
                        grad.dims(),
                        grad.is_contiguous()
                    ),
                });
            }
            if !grad.device().is_cpu() {
                return Err(mismatch(
                    index,
                    "a gradient on the CPU".into(),
                    format!("{:?}", grad.device().location()),
                ));
            }
        }
        let mut update = Some(update);
        let mut result = None;
        nest_slices(
            &self.vars,
            grads,
            Vec::with_capacity(grads.len()),
            Vec::with_capacity(grads.len()),
            &mut |params, grads| {
                if let Some(update) = update.take() {
                    result = Some(update(params, grads));
                }
            },
        )?;
        // `nest_slices` calls the innermost closure exactly once on success.
        result.ok_or_else(|| ModelError::InvalidArgument {
            name: "update",
            value: "not run".into(),
            reason: "candle did not run the in-place op".into(),
        })
    }

    /// [`CandleParams::update_with`] with the gradients of a backprop.
    pub fn update_with_store<R>(
        &self,
        store: &GradStore,
        update: impl FnOnce(&mut [&mut [T]], &[&[T]]) -> R,
    ) -> Result<R> {
        let grads = self.gradients(store)?;
        self.update_with(&grads, update)
    }

    /// `dst_j = op(dst_j, src_j)` for every tensor pair.
    fn zip_apply(
        &mut self,
        other: &Self,
        cpu: impl Fn(&mut [T], &[T]) + Sync,
        tensor: impl Fn(&Tensor, &Tensor) -> candle_core::Result<Tensor>,
    ) {
        for (dst, src) in self.vars.iter().zip(&other.vars) {
            let outcome = if self.device.is_cpu() {
                dst.as_tensor().inplace_op2(
                    src.as_tensor(),
                    &ZipOp {
                        kernel: &cpu,
                        marker: PhantomData::<T>,
                    },
                )
            } else {
                tensor(dst.as_tensor(), src.as_tensor()).and_then(|value| dst.set(&value))
            };
            expect_ok(outcome);
        }
    }

    /// `dst_j = op(dst_j)` for every tensor.
    fn map_apply(
        &mut self,
        cpu: impl Fn(&mut [T]) + Sync,
        tensor: impl Fn(&Tensor) -> candle_core::Result<Tensor>,
    ) {
        for dst in &self.vars {
            let outcome = if self.device.is_cpu() {
                dst.as_tensor().inplace_op1(&MapOp {
                    kernel: &cpu,
                    marker: PhantomData::<T>,
                })
            } else {
                tensor(dst.as_tensor()).and_then(|value| dst.set(&value))
            };
            expect_ok(outcome);
        }
    }

    /// `combine` over tensors of `cpu(slice_j)` (CPU) or `tensor(x_j)`.
    fn reduce<R>(
        &self,
        identity: R,
        cpu: impl Fn(&[T]) -> R,
        tensor: impl Fn(&Tensor) -> candle_core::Result<R>,
        combine: impl Fn(R, R) -> R,
    ) -> R {
        self.vars.iter().fold(identity, |acc, var| {
            let part = if self.device.is_cpu() {
                with_slice(var.as_tensor(), &cpu)
            } else {
                tensor(var.as_tensor())
            };
            combine(acc, expect_ok(part))
        })
    }
}

impl<T: ModelScalar> Clone for CandleParams<T> {
    /// A copy with its own storage (a solver's independent vector).
    fn clone(&self) -> Self {
        let vars = self
            .vars
            .iter()
            .map(|var| {
                expect_ok(
                    var.as_tensor()
                        .copy()
                        .and_then(|copy| Var::from_tensor(&copy)),
                )
            })
            .collect();
        Self {
            vars,
            len: self.len,
            device: self.device.clone(),
            marker: PhantomData,
        }
    }
}

impl<T: ModelScalar> VectorSpace for CandleParams<T> {
    type Scalar = T;

    fn len(&self) -> usize {
        self.len
    }

    fn zeros_like(&self) -> Self {
        let vars = self
            .vars
            .iter()
            .map(|var| expect_ok(Var::zeros(var.shape(), T::DTYPE, &self.device)))
            .collect();
        Self {
            vars,
            len: self.len,
            device: self.device.clone(),
            marker: PhantomData,
        }
    }

    fn dot(&self, other: &Self) -> T {
        let mut total = T::zero();
        for (a, b) in self.vars.iter().zip(&other.vars) {
            total += if self.device.is_cpu() && a.id() == b.id() {
                // One tensor on both sides (`norm2`): one lock, one read.
                expect_ok(with_slice(a.as_tensor(), |x: &[T]| dot_slices(x, x)))
            } else if self.device.is_cpu() {
                expect_ok(
                    with_slice(a.as_tensor(), |x: &[T]| {
                        with_slice(b.as_tensor(), |y: &[T]| dot_slices(x, y))
                    })
                    .and_then(|inner| inner),
                )
            } else {
                expect_ok(
                    (a.as_tensor() * b.as_tensor())
                        .and_then(|p| p.sum_all())
                        .and_then(|s| s.to_scalar::<T>()),
                )
            };
        }
        total
    }

    fn norm_inf(&self) -> T {
        self.reduce(
            T::zero(),
            |x: &[T]| {
                x.iter().fold(T::zero(), |m, &v| {
                    opt_core::num_traits::Float::max(m, v.abs())
                })
            },
            |t| t.abs()?.max_all()?.to_scalar::<T>(),
            opt_core::num_traits::Float::max,
        )
    }

    fn axpy(&mut self, alpha: T, x: &Self) {
        self.zip_apply(
            x,
            move |s, x| {
                for (s, &x) in s.iter_mut().zip(x) {
                    *s += alpha * x;
                }
            },
            move |s, x| s + x.affine(alpha.to_f64_lossless(), 0.0)?,
        );
    }

    fn scale_add(&mut self, alpha: T, x: &Self) {
        self.zip_apply(
            x,
            move |s, x| {
                for (s, &x) in s.iter_mut().zip(x) {
                    *s = alpha * *s + x;
                }
            },
            move |s, x| s.affine(alpha.to_f64_lossless(), 0.0)? + x,
        );
    }

    fn scale(&mut self, alpha: T) {
        self.map_apply(
            move |s| {
                for s in s.iter_mut() {
                    *s *= alpha;
                }
            },
            move |s| s.affine(alpha.to_f64_lossless(), 0.0),
        );
    }

    fn assign(&mut self, other: &Self) {
        self.zip_apply(other, |s, x| s.copy_from_slice(x), |_, x| x.copy());
    }

    fn fill(&mut self, value: T) {
        self.map_apply(
            move |s| s.fill(value),
            move |s| s.ones_like()?.affine(value.to_f64_lossless(), 0.0),
        );
    }

    fn is_finite(&self) -> bool {
        self.reduce(
            true,
            opt_core::all_finite,
            |t| {
                // `0 v` is 0 for a finite `v`, NaN otherwise.
                let total = t
                    .affine(0.0, 0.0)?
                    .sum_all()?
                    .to_dtype(DType::F64)?
                    .to_scalar::<f64>()?;
                Ok(total == 0.0)
            },
            |a, b| a && b,
        )
    }
}

/// L-BFGS on a model's parameters: the default two-loop kernel, built from
/// the vector-space operations above.
impl<T: ModelScalar> opt_second_order::lbfgs::TwoLoopVector for CandleParams<T> {}

/// `<x, y>` with eight independent accumulators (vectorisable).
fn dot_slices<T: ModelScalar>(x: &[T], y: &[T]) -> T {
    const LANES: usize = 8;
    let mut lanes = [T::zero(); LANES];
    let xs = x.chunks_exact(LANES);
    let ys = y.chunks_exact(LANES);
    let tail = xs
        .remainder()
        .iter()
        .zip(ys.remainder())
        .fold(T::zero(), |a, (&u, &v)| a + u * v);
    for (cx, cy) in xs.zip(ys) {
        for ((lane, &u), &v) in lanes.iter_mut().zip(cx).zip(cy) {
            *lane += u * v;
        }
    }
    lanes.iter().fold(T::zero(), |a, &b| a + b) + tail
}

/// A value of a device operation that cannot fail on inputs
/// [`CandleParams::new`] validated; a failure is a device error or two
/// operands sharing storage, both outside the caller's control here.
fn expect_ok<R>(outcome: candle_core::Result<R>) -> R {
    match outcome {
        Ok(value) => value,
        Err(error) => panic!(
            "CandleParams: a vector operation failed ({error}); operands must not share storage"
        ),
    }
}

fn mismatch(index: usize, expected: String, got: String) -> ModelError {
    ModelError::ShapeMismatch {
        what: format!("parameter tensor {index}"),
        expected,
        got,
    }
}

/// `read(values)` on a contiguous CPU tensor's storage slice.
fn with_slice<T: ModelScalar, R>(
    tensor: &Tensor,
    read: impl FnOnce(&[T]) -> R,
) -> candle_core::Result<R> {
    let (storage, layout) = tensor.storage_and_layout();
    match &*storage {
        Storage::Cpu(cpu) => Ok(read(contiguous(cpu.as_slice::<T>()?, layout)?)),
        _ => candle_core::bail!("CandleParams: a CPU tensor expected"),
    }
}

fn contiguous<'a, T>(data: &'a [T], layout: &Layout) -> candle_core::Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("CandleParams: a contiguous tensor expected, got {layout:?}"),
    }
}

fn contiguous_mut<'a, T: ModelScalar>(
    storage: &'a mut CpuStorage,
    layout: &Layout,
) -> candle_core::Result<&'a mut [T]> {
    let data: Option<&mut Vec<T>> = match storage {
        CpuStorage::F32(data) => (data as &mut dyn Any).downcast_mut(),
        CpuStorage::F64(data) => (data as &mut dyn Any).downcast_mut(),
        _ => None,
    };
    let Some(data) = data else {
        candle_core::bail!("CandleParams: storage is not {:?}", T::DTYPE)
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&mut data[start..end]),
        None => candle_core::bail!("CandleParams: a contiguous tensor expected, got {layout:?}"),
    }
}

/// In-place `kernel(dst)` on a CPU tensor.
struct MapOp<'a, T, F> {
    kernel: &'a F,
    marker: PhantomData<T>,
}

impl<T: ModelScalar, F: Fn(&mut [T]) + Sync> InplaceOp1 for MapOp<'_, T, F> {
    fn name(&self) -> &'static str {
        "candle-params-map"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        (self.kernel)(contiguous_mut(storage, layout)?);
        Ok(())
    }
}

/// In-place `kernel(dst, src)` on two CPU tensors of the same shape.
struct ZipOp<'a, T, F> {
    kernel: &'a F,
    marker: PhantomData<T>,
}

impl<T: ModelScalar, F: Fn(&mut [T], &[T]) + Sync> InplaceOp2 for ZipOp<'_, T, F> {
    fn name(&self) -> &'static str {
        "candle-params-zip"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let source = contiguous(s2.as_slice::<T>()?, l2)?;
        let destination = contiguous_mut::<T>(s1, l1)?;
        if destination.len() != source.len() {
            candle_core::bail!(
                "CandleParams: {} values against {}",
                destination.len(),
                source.len()
            );
        }
        (self.kernel)(destination, source);
        Ok(())
    }
}

/// The innermost call of [`nest_slices`].
type SliceVisitor<'f, T> = dyn FnMut(&mut [&mut [T]], &[&[T]]) + 'f;

/// Lock each variable's storage in turn (one in-place op inside the
/// previous one's), collecting its slice and its gradient's, and call
/// `visit` with all of them once the last is locked. Moving the lists into
/// each level lets their element lifetime shrink to the innermost lock.
fn nest_slices<'p, T: ModelScalar>(
    vars: &[Var],
    grads: &[Tensor],
    params: Vec<&'p mut [T]>,
    gradients: Vec<&'p [T]>,
    visit: &mut SliceVisitor<'_, T>,
) -> candle_core::Result<()> {
    let (Some((var, vars_rest)), Some((grad, grads_rest))) =
        (vars.split_first(), grads.split_first())
    else {
        let mut params = params;
        visit(&mut params, &gradients);
        return Ok(());
    };
    let op = NestOp {
        collected: RefCell::new(Some((params, gradients))),
        rest: (vars_rest, grads_rest),
        visit: RefCell::new(visit),
    };
    var.as_tensor().inplace_op2(grad, &op)
}

/// One level of [`nest_slices`].
struct NestOp<'p, 'r, 'v, 'f, T> {
    /// The slices of the outer levels, taken by the one run of `cpu_fwd`.
    collected: RefCell<Option<CollectedSlices<'p, T>>>,
    rest: (&'r [Var], &'r [Tensor]),
    visit: RefCell<&'v mut SliceVisitor<'f, T>>,
}

/// Parameter and gradient slices collected so far.
type CollectedSlices<'p, T> = (Vec<&'p mut [T]>, Vec<&'p [T]>);

impl<T: ModelScalar> InplaceOp2 for NestOp<'_, '_, '_, '_, T> {
    fn name(&self) -> &'static str {
        "candle-params-slices"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let taken = self.collected.borrow_mut().take();
        let Some((params, gradients)) = taken else {
            candle_core::bail!("CandleParams: slice op run twice")
        };
        let mut params: Vec<&mut [T]> = params;
        let mut gradients: Vec<&[T]> = gradients;
        params.push(contiguous_mut::<T>(s1, l1)?);
        gradients.push(contiguous(s2.as_slice::<T>()?, l2)?);
        let Ok(mut visit) = self.visit.try_borrow_mut() else {
            candle_core::bail!("CandleParams: slice op re-entered")
        };
        nest_slices(self.rest.0, self.rest.1, params, gradients, &mut **visit)
    }
}
