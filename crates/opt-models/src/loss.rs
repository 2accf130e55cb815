//! Losses on a batch of network outputs: mean cross-entropy and mean
//! squared error, with an optional L2 penalty.
//!
//! For outputs `z` of shape `[n, k]` and labels `y_i in {0, ..., k-1}`:
//!
//! - cross-entropy, as `torch.nn.CrossEntropyLoss()` (mean reduction):
//!   `CE = -(1/n) sum_i log softmax(z_i)[y_i]`, with the log-softmax computed
//!   stably as `z_ij - m_i - log sum_j exp(z_ij - m_i)`, `m_i = max_j z_ij`
//!   (the shift is a constant of the graph; the gradient does not flow
//!   through the max, where it would cancel anyway);
//! - mean squared error, as `torch.nn.MSELoss()` (mean over all `n k`
//!   entries): `MSE = (1/(n k)) sum_ij (z_ij - t_ij)^2`, against given
//!   targets `t` ([`mean_squared_error`]) or, in [`Loss`], the one-hot
//!   encoding of the labels (`t_ij = 1` when `j = y_i`, else 0);
//! - L2: `(l2/2) sum_w ||w||^2` over the parameters, biases included by
//!   default ([`L2Scope::AllParameters`], the same as PyTorch's
//!   `weight_decay = l2` on SGD), or over the weights only
//!   ([`L2Scope::WeightsOnly`]).
//!
//! Both data terms are means over the samples, so the loss of a mini-batch
//! is an unbiased estimate of the loss of the data set; the L2 term is added
//! whole to every batch.

use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::network::{Network, ParameterKind};

/// Which data term a [`Loss`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Mean cross-entropy of the softmax of the outputs.
    #[default]
    CrossEntropy,
    /// Mean squared error against the one-hot labels, averaged over all entries.
    MeanSquaredError,
}

/// Which parameters the L2 penalty covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum L2Scope {
    /// Weights and biases: `(l2/2) ||x||^2` of the whole parameter vector.
    #[default]
    AllParameters,
    /// Weights only (linear and convolution kernels).
    WeightsOnly,
}

impl L2Scope {
    /// Whether a parameter of `kind` is penalized.
    pub fn covers(self, kind: ParameterKind) -> bool {
        match self {
            Self::AllParameters => true,
            Self::WeightsOnly => kind == ParameterKind::Weight,
        }
    }
}

/// A classification loss: data term and optional L2 (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Loss {
    kind: LossKind,
    l2: f64,
    l2_scope: L2Scope,
}

impl Default for Loss {
    fn default() -> Self {
        Self::new(LossKind::CrossEntropy)
    }
}

impl Loss {
    /// The data term `kind` without L2.
    pub fn new(kind: LossKind) -> Self {
        Self {
            kind,
            l2: 0.0,
            l2_scope: L2Scope::AllParameters,
        }
    }

    /// Mean cross-entropy without L2.
    pub fn cross_entropy() -> Self {
        Self::new(LossKind::CrossEntropy)
    }

    /// Mean squared error against one-hot labels, without L2.
    pub fn mean_squared_error() -> Self {
        Self::new(LossKind::MeanSquaredError)
    }

    /// Add `(l2/2) sum ||w||^2`; `l2` must be finite and `>= 0`.
    pub fn with_l2(mut self, l2: f64) -> Result<Self> {
        if !(l2.is_finite() && l2 >= 0.0) {
            return Err(ModelError::InvalidArgument {
                name: "l2",
                value: l2.to_string(),
                reason: "must be finite and non-negative".into(),
            });
        }
        self.l2 = l2;
        Ok(self)
    }

    /// Choose which parameters the L2 penalty covers (default: all).
    pub fn with_l2_scope(mut self, scope: L2Scope) -> Self {
        self.l2_scope = scope;
        self
    }

    /// The data term.
    pub fn kind(&self) -> LossKind {
        self.kind
    }

    /// The L2 coefficient.
    pub fn l2(&self) -> f64 {
        self.l2
    }

    /// The parameters the L2 penalty covers.
    pub fn l2_scope(&self) -> L2Scope {
        self.l2_scope
    }

    /// The mean data term of `outputs` (`[n, k]`) against `labels` (`u32`,
    /// `[n]`, each `< k`), as a scalar tensor; labels are checked.
    pub fn data_term(&self, outputs: &Tensor, labels: &Tensor) -> Result<Tensor> {
        let classes = check_outputs_and_labels(outputs, labels)?;
        check_labels(labels, classes)?;
        self.data_term_unchecked(outputs, labels)
    }

    /// [`Loss::data_term`] plus the L2 penalty on `network`'s parameters,
    /// as one candle graph (for training loops that call `backward` on it).
    pub fn value<N: Network + ?Sized>(
        &self,
        network: &N,
        outputs: &Tensor,
        labels: &Tensor,
    ) -> Result<Tensor> {
        let data = self.data_term(outputs, labels)?;
        if self.l2 == 0.0 {
            return Ok(data);
        }
        Ok((data + l2_penalty(network, self.l2, self.l2_scope)?)?)
    }

    /// The data term with shapes and labels already checked.
    pub(crate) fn data_term_unchecked(&self, outputs: &Tensor, labels: &Tensor) -> Result<Tensor> {
        match self.kind {
            LossKind::CrossEntropy => cross_entropy_unchecked(outputs, labels),
            LossKind::MeanSquaredError => {
                let targets = one_hot(labels, outputs.dims()[1], outputs.dtype())?;
                mean_squared_error_unchecked(outputs, &targets)
            }
        }
    }
}

/// `-(1/n) sum_i log softmax(logits_i)[labels_i]` for `logits` `[n, k]` and
/// `labels` `u32` `[n]` with every label `< k`, as a scalar tensor.
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let classes = check_outputs_and_labels(logits, labels)?;
    check_labels(labels, classes)?;
    cross_entropy_unchecked(logits, labels)
}

pub(crate) fn cross_entropy_unchecked(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let shift = logits.max_keepdim(1)?.detach();
    let shifted = logits.broadcast_sub(&shift)?;
    let log_normalizer = shifted.exp()?.sum_keepdim(1)?.log()?;
    let log_probabilities = shifted.broadcast_sub(&log_normalizer)?;
    let picked = log_probabilities.gather(&labels.unsqueeze(1)?, 1)?;
    Ok(picked.mean_all()?.neg()?)
}

/// `(1/(n k)) sum_ij (outputs_ij - targets_ij)^2` for two tensors of the
/// same shape `[n, k]` and dtype, as a scalar tensor.
pub fn mean_squared_error(outputs: &Tensor, targets: &Tensor) -> Result<Tensor> {
    if outputs.rank() != 2 || outputs.dims()[0] == 0 {
        return Err(ModelError::ShapeMismatch {
            what: "MSE outputs".into(),
            expected: "[n >= 1, k]".into(),
            got: format!("{:?}", outputs.dims()),
        });
    }
    if targets.dims() != outputs.dims() {
        return Err(ModelError::ShapeMismatch {
            what: "MSE targets".into(),
            expected: format!("{:?} (the outputs' shape)", outputs.dims()),
            got: format!("{:?}", targets.dims()),
        });
    }
    if targets.dtype() != outputs.dtype() {
        return Err(ModelError::InvalidArgument {
            name: "targets dtype",
            value: format!("{:?}", targets.dtype()),
            reason: format!("must be the outputs' dtype {:?}", outputs.dtype()),
        });
    }
    mean_squared_error_unchecked(outputs, targets)
}

pub(crate) fn mean_squared_error_unchecked(outputs: &Tensor, targets: &Tensor) -> Result<Tensor> {
    Ok((outputs - targets)?.sqr()?.mean_all()?)
}

/// The `[n, classes]` one-hot encoding of `u32` `labels` (`[n]`) in `dtype`:
/// 1 at `[i, labels_i]`, 0 elsewhere (a label `>= classes` gives a zero row;
/// [`check_labels`] rejects it).
pub fn one_hot(labels: &Tensor, classes: usize, dtype: DType) -> Result<Tensor> {
    let class_ids = Tensor::arange(0u32, classes as u32, labels.device())?.unsqueeze(0)?;
    Ok(labels
        .unsqueeze(1)?
        .broadcast_eq(&class_ids)?
        .to_dtype(dtype)?)
}

/// `(l2/2) sum ||w||^2` over the parameters of `network` that `scope`
/// covers, as a scalar tensor of the network's dtype.
pub fn l2_penalty<N: Network + ?Sized>(network: &N, l2: f64, scope: L2Scope) -> Result<Tensor> {
    let mut total = Tensor::zeros((), network.dtype(), &network.device())?;
    for (parameter, info) in network.parameters().iter().zip(network.parameter_info()) {
        if scope.covers(info.kind) {
            total = (total + parameter.as_tensor().sqr()?.sum_all()?)?;
        }
    }
    Ok((total * (0.5 * l2))?)
}

/// `Ok` when every label is `< classes`; otherwise an
/// [`ModelError::InvalidArgument`] naming the largest label. `labels` must
/// be a `u32` vector.
pub fn check_labels(labels: &Tensor, classes: usize) -> Result<()> {
    if labels.dtype() != DType::U32 || labels.rank() != 1 {
        return Err(ModelError::InvalidArgument {
            name: "labels",
            value: format!("{:?} tensor of shape {:?}", labels.dtype(), labels.dims()),
            reason: "must be a U32 vector [n]".into(),
        });
    }
    if labels.elem_count() == 0 {
        return Ok(());
    }
    let largest = labels.max(0)?.to_scalar::<u32>()?;
    if largest as usize >= classes {
        return Err(ModelError::InvalidArgument {
            name: "label",
            value: largest.to_string(),
            reason: format!("labels must be < {classes}, the number of classes (outputs)"),
        });
    }
    Ok(())
}

/// Check outputs `[n >= 1, k]` against labels `[n]`; returns `k`.
fn check_outputs_and_labels(outputs: &Tensor, labels: &Tensor) -> Result<usize> {
    if outputs.rank() != 2 || outputs.dims()[0] == 0 || outputs.dims()[1] == 0 {
        return Err(ModelError::ShapeMismatch {
            what: "loss outputs".into(),
            expected: "[n >= 1, k >= 1]".into(),
            got: format!("{:?}", outputs.dims()),
        });
    }
    if labels.dims() != [outputs.dims()[0]] {
        return Err(ModelError::ShapeMismatch {
            what: "labels (one per output row)".into(),
            expected: format!("[{}]", outputs.dims()[0]),
            got: format!("{:?}", labels.dims()),
        });
    }
    Ok(outputs.dims()[1])
}
