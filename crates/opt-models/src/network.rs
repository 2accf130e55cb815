//! Networks on candle: a multilayer perceptron and a small convolutional
//! network, with seeded initialisation and a fixed parameter order.
//!
//! # Layers
//!
//! - Linear: `y = x W^T + b`, `W` of shape `[out, in]`, `b` of shape `[out]`.
//! - Convolution: 3x3 kernel, stride 1, padding 1 (the spatial size is
//!   kept), `W` of shape `[c_out, c_in, 3, 3]`, `b` of shape `[c_out]`.
//! - Max pooling: 2x2 windows, stride 2, floor mode as PyTorch's
//!   `MaxPool2d(2)`: an odd last row or column is dropped. Computed as a
//!   max reduction over the window axes of a reshaped tensor, whose
//!   gradient is exact (candle 0.11.1's `max_pool2d` backward scales the
//!   gradient by 1/4; see `max_pool2x2`).
//!
//! [`Mlp`]: `Linear -> act -> ... -> Linear`, `act` ReLU or tanh, no
//! activation after the last layer (its outputs are logits).
//!
//! [`Cnn`]: `[conv -> ReLU -> pool] x 2 -> flatten -> Linear -> ReLU -> ...
//! -> Linear`. With input `c x h x w` the flattened size is
//! `c2 * floor(floor(h/2)/2) * floor(floor(w/2)/2)` (`2 x 2` spatial for
//! 8x8 digits, `7 x 7` for 28x28 images), so `h, w >= 4`.
//!
//! # Parameter order
//!
//! [`Network::parameters`] lists the layers from input to output, each
//! layer's weight before its bias: for the MLP `linear0.weight,
//! linear0.bias, linear1.weight, ...`; for the CNN `conv0.weight,
//! conv0.bias, conv1.weight, conv1.bias, linear0.weight, linear0.bias, ...`.
//! A flat parameter vector ([`crate::objective`]) is the concatenation of
//! these tensors in this order, each in row-major order. The order never
//! changes for a given configuration, so optimizer states and checkpoints
//! can rely on it.
//!
//! # Initialisation
//!
//! As PyTorch's default `Linear` / `Conv2d` initialisation: every weight
//! and bias entry uniform on `[-1/sqrt(fan_in), 1/sqrt(fan_in))`, `fan_in`
//! the number of inputs of one output unit (`in` for a linear layer,
//! `c_in * 3 * 3` for a convolution). The values are drawn in `f64` from
//! `rand`'s `StdRng` seeded with the caller's seed, parameter by parameter
//! in the order above, and then rounded to the network's dtype: the same
//! seed gives the same network on every device, and the `f32` network is
//! the `f64` one rounded. Candle's own random generator is not used.

use candle_core::{DType, Device, Tensor, Var};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// The nonlinearity between hidden layers of an [`Mlp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, x)` (its derivative at 0 is taken as 1, as candle does).
    #[default]
    Relu,
    /// `tanh(x)`.
    Tanh,
}

impl Activation {
    /// Apply the activation elementwise.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Self::Relu => x.relu()?,
            Self::Tanh => x.tanh()?,
        })
    }
}

/// Whether a parameter tensor is a weight or a bias (L2 may skip biases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterKind {
    /// A linear or convolution weight.
    Weight,
    /// A bias vector.
    Bias,
}

/// Name and kind of one parameter tensor, in [`Network::parameters`] order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterInfo {
    /// `layer.weight` or `layer.bias`, e.g. `conv1.bias`, `linear0.weight`.
    pub name: String,
    /// Weight or bias.
    pub kind: ParameterKind,
}

/// A network whose parameters are candle [`Var`]s in a fixed order.
pub trait Network {
    /// The outputs (logits) for a batch `x` of shape `[n, ...]`; see each
    /// network's [`Network::check_input`] for the accepted shapes. A batch
    /// that does not fit is a [`ModelError::ShapeMismatch`].
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// The parameter tensors, in the documented order (module doc).
    fn parameters(&self) -> &[Var];

    /// Name and kind of each parameter, in the same order.
    fn parameter_info(&self) -> &[ParameterInfo];

    /// The shape of one sample: `[features]` for an MLP, `[c, h, w]` for a CNN.
    fn input_shape(&self) -> &[usize];

    /// Number of outputs (classes) per sample.
    fn num_outputs(&self) -> usize;

    /// `Ok` when a batch of shape `dims` (`[n, ...]`, `n >= 1`) fits the
    /// network, a [`ModelError::ShapeMismatch`] naming both shapes otherwise.
    fn check_input(&self, dims: &[usize]) -> Result<()>;

    /// Total number of scalar parameters.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.elem_count()).sum()
    }

    /// The parameters' dtype (`F32` or `F64`).
    fn dtype(&self) -> DType {
        self.parameters().first().map_or(DType::F32, |p| p.dtype())
    }

    /// The device the parameters live on.
    fn device(&self) -> Device {
        self.parameters()
            .first()
            .map_or(Device::Cpu, |p| p.device().clone())
    }
}

impl<N: Network + ?Sized> Network for Box<N> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        (**self).forward(x)
    }
    fn parameters(&self) -> &[Var] {
        (**self).parameters()
    }
    fn parameter_info(&self) -> &[ParameterInfo] {
        (**self).parameter_info()
    }
    fn input_shape(&self) -> &[usize] {
        (**self).input_shape()
    }
    fn num_outputs(&self) -> usize {
        (**self).num_outputs()
    }
    fn check_input(&self, dims: &[usize]) -> Result<()> {
        (**self).check_input(dims)
    }
    fn num_parameters(&self) -> usize {
        (**self).num_parameters()
    }
    fn dtype(&self) -> DType {
        (**self).dtype()
    }
    fn device(&self) -> Device {
        (**self).device()
    }
}

/// Layer sizes of an [`Mlp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Features per sample (64 for 8x8 digits, 784 for 28x28 images).
    pub inputs: usize,
    /// Widths of the hidden layers, input side first; empty for a linear model.
    pub hidden: Vec<usize>,
    /// Number of outputs (classes).
    pub outputs: usize,
    /// Nonlinearity after each hidden layer.
    pub activation: Activation,
}

impl MlpConfig {
    /// `inputs - hidden... - outputs` with ReLU.
    pub fn new(inputs: usize, hidden: &[usize], outputs: usize) -> Self {
        Self {
            inputs,
            hidden: hidden.to_vec(),
            outputs,
            activation: Activation::Relu,
        }
    }

    /// The same sizes with another activation.
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
}

/// A multilayer perceptron (module doc: layers, order, initialisation).
#[derive(Debug)]
pub struct Mlp {
    config: MlpConfig,
    input_shape: [usize; 1],
    parameters: Vec<Var>,
    info: Vec<ParameterInfo>,
}

impl Mlp {
    /// An `f32` MLP on the CPU, initialised from `seed`.
    pub fn new(config: &MlpConfig, seed: u64) -> Result<Self> {
        Self::new_on(config, seed, DType::F32, &Device::Cpu)
    }

    /// An MLP with parameters of `dtype` (`F32` or `F64`) on `device`,
    /// initialised from `seed`. Zero sizes are an
    /// [`ModelError::InvalidArgument`].
    pub fn new_on(config: &MlpConfig, seed: u64, dtype: DType, device: &Device) -> Result<Self> {
        check_dtype(dtype)?;
        check_positive("inputs", config.inputs)?;
        check_positive("outputs", config.outputs)?;
        for &width in &config.hidden {
            check_positive("hidden width", width)?;
        }
        let mut init = Initializer::new(seed, dtype, device);
        let mut widths = Vec::with_capacity(config.hidden.len() + 2);
        widths.push(config.inputs);
        widths.extend_from_slice(&config.hidden);
        widths.push(config.outputs);
        for (layer, pair) in widths.windows(2).enumerate() {
            init.linear(&format!("linear{layer}"), pair[0], pair[1])?;
        }
        Ok(Self {
            config: config.clone(),
            input_shape: [config.inputs],
            parameters: init.parameters,
            info: init.info,
        })
    }

    /// The layer sizes.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }
}

impl Network for Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x.dims())?;
        let mut h = x.flatten_from(1)?;
        let layers = self.parameters.len() / 2;
        for layer in 0..layers {
            h = linear(
                &h,
                &self.parameters[2 * layer],
                &self.parameters[2 * layer + 1],
            )?;
            if layer + 1 < layers {
                h = self.config.activation.apply(&h)?;
            }
        }
        Ok(h)
    }

    fn parameters(&self) -> &[Var] {
        &self.parameters
    }

    fn parameter_info(&self) -> &[ParameterInfo] {
        &self.info
    }

    fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    fn num_outputs(&self) -> usize {
        self.config.outputs
    }

    /// Any `[n, ...]` with `inputs` values per sample (`[n, 64]`,
    /// `[n, 1, 8, 8]`), `n >= 1`.
    fn check_input(&self, dims: &[usize]) -> Result<()> {
        let per_sample: usize = dims.iter().skip(1).product();
        if dims.len() >= 2 && dims[0] >= 1 && per_sample == self.config.inputs {
            Ok(())
        } else {
            Err(input_mismatch(
                "MLP input",
                format!(
                    "[n >= 1, {}] (or any [n, ...] with {} values per sample)",
                    self.config.inputs, self.config.inputs
                ),
                dims,
            ))
        }
    }
}

/// Sizes of a [`Cnn`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CnnConfig {
    /// `[channels, height, width]` of one sample: `[1, 8, 8]` for digits,
    /// `[1, 28, 28]` for MNIST; height and width at least 4.
    pub input_shape: [usize; 3],
    /// Output channels of the two convolution blocks.
    pub channels: [usize; 2],
    /// Widths of the hidden linear layers after the convolutions (ReLU).
    pub hidden: Vec<usize>,
    /// Number of outputs (classes).
    pub outputs: usize,
}

impl CnnConfig {
    /// Channels 16 and 32, one hidden linear layer of 64, for inputs of
    /// shape `input_shape` and `outputs` classes.
    pub fn new(input_shape: [usize; 3], outputs: usize) -> Self {
        Self {
            input_shape,
            channels: [16, 32],
            hidden: vec![64],
            outputs,
        }
    }

    /// The number of features entering the first linear layer:
    /// `channels[1] * floor(floor(h/2)/2) * floor(floor(w/2)/2)`.
    pub fn flattened_size(&self) -> usize {
        let [_, h, w] = self.input_shape;
        self.channels[1] * (h / 2 / 2) * (w / 2 / 2)
    }
}

/// A small convolutional network (module doc: layers, order, initialisation).
#[derive(Debug)]
pub struct Cnn {
    config: CnnConfig,
    parameters: Vec<Var>,
    info: Vec<ParameterInfo>,
}

impl Cnn {
    /// An `f32` CNN on the CPU, initialised from `seed`.
    pub fn new(config: &CnnConfig, seed: u64) -> Result<Self> {
        Self::new_on(config, seed, DType::F32, &Device::Cpu)
    }

    /// A CNN with parameters of `dtype` (`F32` or `F64`) on `device`,
    /// initialised from `seed`. Zero sizes, or an input smaller than 4x4,
    /// are an [`ModelError::InvalidArgument`].
    pub fn new_on(config: &CnnConfig, seed: u64, dtype: DType, device: &Device) -> Result<Self> {
        check_dtype(dtype)?;
        let [in_channels, height, width] = config.input_shape;
        check_positive("input channels", in_channels)?;
        for (name, side) in [("input height", height), ("input width", width)] {
            if side < 4 {
                return Err(ModelError::InvalidArgument {
                    name,
                    value: side.to_string(),
                    reason: "two 2x2 poolings need at least 4 pixels".into(),
                });
            }
        }
        check_positive("conv channels", config.channels[0])?;
        check_positive("conv channels", config.channels[1])?;
        for &width in &config.hidden {
            check_positive("hidden width", width)?;
        }
        check_positive("outputs", config.outputs)?;
        let mut init = Initializer::new(seed, dtype, device);
        init.conv3x3("conv0", in_channels, config.channels[0])?;
        init.conv3x3("conv1", config.channels[0], config.channels[1])?;
        let mut widths = Vec::with_capacity(config.hidden.len() + 2);
        widths.push(config.flattened_size());
        widths.extend_from_slice(&config.hidden);
        widths.push(config.outputs);
        for (layer, pair) in widths.windows(2).enumerate() {
            init.linear(&format!("linear{layer}"), pair[0], pair[1])?;
        }
        Ok(Self {
            config: config.clone(),
            parameters: init.parameters,
            info: init.info,
        })
    }

    /// The sizes.
    pub fn config(&self) -> &CnnConfig {
        &self.config
    }
}

impl Network for Cnn {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x.dims())?;
        let n = x.dims()[0];
        let mut h = x.reshape((
            n,
            self.config.input_shape[0],
            self.config.input_shape[1],
            self.config.input_shape[2],
        ))?;
        for block in 0..2 {
            h = conv3x3(
                &h,
                &self.parameters[2 * block],
                &self.parameters[2 * block + 1],
            )?;
            h = max_pool2x2(&h.relu()?)?;
        }
        h = h.flatten_from(1)?;
        let layers = self.parameters.len() / 2;
        for layer in 2..layers {
            h = linear(
                &h,
                &self.parameters[2 * layer],
                &self.parameters[2 * layer + 1],
            )?;
            if layer + 1 < layers {
                h = h.relu()?;
            }
        }
        Ok(h)
    }

    fn parameters(&self) -> &[Var] {
        &self.parameters
    }

    fn parameter_info(&self) -> &[ParameterInfo] {
        &self.info
    }

    fn input_shape(&self) -> &[usize] {
        &self.config.input_shape
    }

    fn num_outputs(&self) -> usize {
        self.config.outputs
    }

    /// `[n, c, h, w]` equal to the configured input shape, or flat rows
    /// `[n, c * h * w]`; `n >= 1`.
    fn check_input(&self, dims: &[usize]) -> Result<()> {
        let [c, h, w] = self.config.input_shape;
        let fits = match dims {
            [n, features] => *n >= 1 && *features == c * h * w,
            [n, rest @ ..] => *n >= 1 && rest == self.config.input_shape.as_slice(),
            [] => false,
        };
        if fits {
            Ok(())
        } else {
            Err(input_mismatch(
                "CNN input",
                format!("[n >= 1, {c}, {h}, {w}] or [n >= 1, {}]", c * h * w),
                dims,
            ))
        }
    }
}

/// `x W^T + b` for `x` of shape `[n, in]`.
fn linear(x: &Tensor, weight: &Var, bias: &Var) -> Result<Tensor> {
    Ok(x.matmul(&weight.as_tensor().t()?)?
        .broadcast_add(bias.as_tensor())?)
}

/// 3x3 convolution, stride 1, padding 1, plus the per-channel bias.
fn conv3x3(x: &Tensor, weight: &Var, bias: &Var) -> Result<Tensor> {
    let channels = bias.elem_count();
    let bias = bias.as_tensor().reshape((1, channels, 1, 1))?;
    Ok(x.conv2d(weight.as_tensor(), 1, 1, 1, 1)?
        .broadcast_add(&bias)?)
}

/// 2x2 max pooling with stride 2 in floor mode: an odd last row or column
/// is cropped, then each window's maximum is taken by reshaping to
/// `[n, c, h/2, 2, w/2, 2]` and reducing the two window axes. The gradient
/// goes to the window's maximum (to each of equal maxima: a tie inside a
/// window has measure zero, except among zeros after a ReLU, whose
/// gradient the ReLU stops anyway). Candle's `max_pool2d` is not used: its
/// backward pass (0.11.1) multiplies the gradient by the window's mean of
/// the max mask, `1/4` for a unique maximum, instead of dividing by the
/// number of maxima.
fn max_pool2x2(x: &Tensor) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (rows, columns) = (h / 2, w / 2);
    let mut cropped = x.clone();
    if h % 2 == 1 {
        cropped = cropped.narrow(2, 0, 2 * rows)?;
    }
    if w % 2 == 1 {
        cropped = cropped.narrow(3, 0, 2 * columns)?;
    }
    Ok(cropped
        .reshape((n, c, rows, 2, columns, 2))?
        .max(5)?
        .max(3)?)
}

fn input_mismatch(what: &str, expected: String, dims: &[usize]) -> ModelError {
    ModelError::ShapeMismatch {
        what: what.to_string(),
        expected,
        got: format!("{dims:?}"),
    }
}

fn check_positive(name: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        Err(ModelError::InvalidArgument {
            name,
            value: "0".into(),
            reason: "must be at least 1".into(),
        })
    } else {
        Ok(())
    }
}

fn check_dtype(dtype: DType) -> Result<()> {
    match dtype {
        DType::F32 | DType::F64 => Ok(()),
        other => Err(ModelError::InvalidArgument {
            name: "dtype",
            value: format!("{other:?}"),
            reason: "networks are F32 or F64".into(),
        }),
    }
}

/// Draws the parameters in order from one seeded generator.
struct Initializer<'a> {
    rng: StdRng,
    dtype: DType,
    device: &'a Device,
    parameters: Vec<Var>,
    info: Vec<ParameterInfo>,
}

impl<'a> Initializer<'a> {
    fn new(seed: u64, dtype: DType, device: &'a Device) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            dtype,
            device,
            parameters: Vec::new(),
            info: Vec::new(),
        }
    }

    fn linear(&mut self, layer: &str, inputs: usize, outputs: usize) -> Result<()> {
        self.push(layer, &[outputs, inputs], ParameterKind::Weight, inputs)?;
        self.push(layer, &[outputs], ParameterKind::Bias, inputs)
    }

    fn conv3x3(&mut self, layer: &str, in_channels: usize, out_channels: usize) -> Result<()> {
        let fan_in = in_channels * 9;
        let shape = [out_channels, in_channels, 3, 3];
        self.push(layer, &shape, ParameterKind::Weight, fan_in)?;
        self.push(layer, &[out_channels], ParameterKind::Bias, fan_in)
    }

    /// One tensor with entries uniform on `[-1/sqrt(fan_in), 1/sqrt(fan_in))`.
    fn push(
        &mut self,
        layer: &str,
        shape: &[usize],
        kind: ParameterKind,
        fan_in: usize,
    ) -> Result<()> {
        let bound = 1.0 / (fan_in as f64).sqrt();
        let count: usize = shape.iter().product();
        let values: Vec<f64> = (0..count)
            .map(|_| self.rng.random_range(-bound..bound))
            .collect();
        let tensor = Tensor::from_vec(values, shape, &Device::Cpu)?
            .to_dtype(self.dtype)?
            .to_device(self.device)?;
        self.parameters.push(Var::from_tensor(&tensor)?);
        let suffix = match kind {
            ParameterKind::Weight => "weight",
            ParameterKind::Bias => "bias",
        };
        self.info.push(ParameterInfo {
            name: format!("{layer}.{suffix}"),
            kind,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_sizes_for_digits_and_mnist() {
        let digits = CnnConfig::new([1, 8, 8], 10);
        assert_eq!(digits.flattened_size(), 32 * 2 * 2);
        let mnist = CnnConfig::new([1, 28, 28], 10);
        assert_eq!(mnist.flattened_size(), 32 * 7 * 7);
        for config in [digits, mnist] {
            let cnn = Cnn::new(&config, 0).unwrap();
            let [c, h, w] = config.input_shape;
            let x = Tensor::zeros((2, c, h, w), DType::F32, &Device::Cpu).unwrap();
            assert_eq!(cnn.forward(&x).unwrap().dims(), &[2, 10]);
        }
    }

    #[test]
    fn parameter_names_follow_the_documented_order() {
        let mut config = CnnConfig::new([1, 8, 8], 10);
        config.channels = [2, 3];
        config.hidden = vec![5];
        let cnn = Cnn::new(&config, 0).unwrap();
        let names: Vec<&str> = cnn
            .parameter_info()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "conv0.weight",
                "conv0.bias",
                "conv1.weight",
                "conv1.bias",
                "linear0.weight",
                "linear0.bias",
                "linear1.weight",
                "linear1.bias"
            ]
        );
        let shapes: Vec<Vec<usize>> = cnn.parameters().iter().map(|p| p.dims().to_vec()).collect();
        assert_eq!(
            shapes,
            [
                vec![2, 1, 3, 3],
                vec![2],
                vec![3, 2, 3, 3],
                vec![3],
                vec![5, 12],
                vec![5],
                vec![10, 5],
                vec![10]
            ]
        );
        assert_eq!(cnn.num_parameters(), 18 + 2 + 54 + 3 + 60 + 5 + 50 + 10);
    }
}
