//! Networks and losses: initialisation, shapes, forward passes and loss
//! values computed by hand.

use candle_core::{DType, Device, Tensor};
use opt_models::ModelError;
use opt_models::loss::{
    L2Scope, Loss, check_labels, cross_entropy, l2_penalty, mean_squared_error, one_hot,
};
use opt_models::network::{Activation, Cnn, CnnConfig, Mlp, MlpConfig, Network, ParameterKind};

/// All parameters of a network, flattened in order, as f64.
fn flat_parameters<N: Network>(network: &N) -> Vec<f64> {
    network
        .parameters()
        .iter()
        .flat_map(|p| {
            p.as_tensor()
                .to_dtype(DType::F64)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap()
        })
        .collect()
}

fn tiny_cnn_config() -> CnnConfig {
    CnnConfig {
        input_shape: [1, 8, 8],
        channels: [2, 3],
        hidden: vec![4],
        outputs: 3,
    }
}

#[test]
fn initialisation_is_reproducible_and_depends_on_the_seed() {
    let config = MlpConfig::new(5, &[4, 3], 2).with_activation(Activation::Tanh);
    let a = flat_parameters(&Mlp::new(&config, 7).unwrap());
    let b = flat_parameters(&Mlp::new(&config, 7).unwrap());
    let c = flat_parameters(&Mlp::new(&config, 8).unwrap());
    assert_eq!(a.len(), 5 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2);
    assert_eq!(a, b);
    assert!(a.iter().zip(&c).filter(|(x, y)| x != y).count() == a.len());

    // the f64 network from the same seed is the f32 one before rounding
    let wide = flat_parameters(&Mlp::new_on(&config, 7, DType::F64, &Device::Cpu).unwrap());
    for (narrow, wide) in a.iter().zip(&wide) {
        assert_eq!(*narrow, f64::from(*wide as f32));
    }

    let cnn_a = flat_parameters(&Cnn::new(&tiny_cnn_config(), 3).unwrap());
    let cnn_b = flat_parameters(&Cnn::new(&tiny_cnn_config(), 3).unwrap());
    let cnn_c = flat_parameters(&Cnn::new(&tiny_cnn_config(), 4).unwrap());
    assert_eq!(cnn_a, cnn_b);
    assert_ne!(cnn_a, cnn_c);
}

#[test]
fn initialisation_is_uniform_within_one_over_sqrt_fan_in() {
    let config = MlpConfig::new(64, &[128], 10);
    let mlp = Mlp::new_on(&config, 0, DType::F64, &Device::Cpu).unwrap();
    let fan_ins = [64.0, 64.0, 128.0, 128.0];
    for ((parameter, fan_in), info) in mlp
        .parameters()
        .iter()
        .zip(fan_ins)
        .zip(mlp.parameter_info())
    {
        let values = parameter
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let bound = 1.0 / f64::sqrt(fan_in);
        let largest = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(largest < bound, "{}: {largest} >= {bound}", info.name);
        if values.len() >= 100 {
            // uniform on [-b, b): mean 0, variance b^2 / 3, extremes near b
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            assert!(mean.abs() < 0.1 * bound, "{}: mean {mean}", info.name);
            assert!(
                (variance / (bound * bound / 3.0) - 1.0).abs() < 0.1,
                "{}: variance {variance}",
                info.name
            );
            assert!(largest > 0.95 * bound);
        }
    }
    // CNN: conv fan-in is c_in * 9
    let cnn = Cnn::new_on(&tiny_cnn_config(), 0, DType::F64, &Device::Cpu).unwrap();
    let conv1 = cnn.parameters()[2]
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    assert!(conv1.iter().all(|v| v.abs() < 1.0 / f64::sqrt(18.0)));
}

#[test]
fn parameter_order_and_kinds_are_documented_ones() {
    let mlp = Mlp::new(&MlpConfig::new(3, &[4], 2), 0).unwrap();
    let info = mlp.parameter_info();
    let names: Vec<&str> = info.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "linear0.weight",
            "linear0.bias",
            "linear1.weight",
            "linear1.bias"
        ]
    );
    let kinds: Vec<ParameterKind> = info.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            ParameterKind::Weight,
            ParameterKind::Bias,
            ParameterKind::Weight,
            ParameterKind::Bias
        ]
    );
    assert_eq!(mlp.parameters()[0].dims(), &[4, 3]);
    assert_eq!(mlp.num_parameters(), 12 + 4 + 8 + 2);
    assert_eq!(mlp.input_shape(), &[3]);
    assert_eq!(mlp.dtype(), DType::F32);
}

#[test]
fn mlp_forward_matches_a_hand_computation() {
    // 2 -> [2] tanh -> 1 with chosen weights
    let config = MlpConfig::new(2, &[2], 1).with_activation(Activation::Tanh);
    let mlp = Mlp::new_on(&config, 0, DType::F64, &Device::Cpu).unwrap();
    let cpu = Device::Cpu;
    let set = |i: usize, values: &[f64], shape: &[usize]| {
        mlp.parameters()[i]
            .set(&Tensor::from_slice(values, shape, &cpu).unwrap())
            .unwrap()
    };
    set(0, &[1.0, -2.0, 0.5, 0.25], &[2, 2]);
    set(1, &[0.1, -0.3], &[2]);
    set(2, &[2.0, -1.0], &[1, 2]);
    set(3, &[0.05], &[1]);
    let x = Tensor::from_slice(&[0.3, -0.7, 1.5, 2.0], (2, 2), &cpu).unwrap();
    let out = mlp
        .forward(&x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let expected = |x0: f64, x1: f64| {
        let h0 = (x0 - 2.0 * x1 + 0.1).tanh();
        let h1 = (0.5 * x0 + 0.25 * x1 - 0.3).tanh();
        2.0 * h0 - h1 + 0.05
    };
    assert!((out[0] - expected(0.3, -0.7)).abs() < 1e-15);
    assert!((out[1] - expected(1.5, 2.0)).abs() < 1e-15);

    // ReLU version of the same network
    let relu = Mlp::new_on(&MlpConfig::new(2, &[2], 1), 0, DType::F64, &cpu).unwrap();
    for (a, b) in relu.parameters().iter().zip(mlp.parameters()) {
        a.set(b.as_tensor()).unwrap();
    }
    let out = relu
        .forward(&x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let h0 = (0.3_f64 + 1.4 + 0.1).max(0.0);
    let h1 = (0.15_f64 - 0.175 - 0.3).max(0.0);
    assert!((out[0] - (2.0 * h0 - h1 + 0.05)).abs() < 1e-15);
}

#[test]
fn cnn_pools_in_floor_mode_and_accepts_flat_rows() {
    // identity 3x3 kernels, one channel, no hidden layer, one output = sum of
    // the 1x1 map: the network computes max over the top-left 4x4 block of a
    // 5x5 image (row and column 4 are dropped by the first pooling).
    let config = CnnConfig {
        input_shape: [1, 5, 5],
        channels: [1, 1],
        hidden: vec![],
        outputs: 1,
    };
    let cnn = Cnn::new_on(&config, 0, DType::F64, &Device::Cpu).unwrap();
    let cpu = Device::Cpu;
    let mut identity = [0.0; 9];
    identity[4] = 1.0;
    cnn.parameters()[0]
        .set(&Tensor::from_slice(&identity, (1, 1, 3, 3), &cpu).unwrap())
        .unwrap();
    cnn.parameters()[1]
        .set(&Tensor::zeros(1, DType::F64, &cpu).unwrap())
        .unwrap();
    cnn.parameters()[2]
        .set(&Tensor::from_slice(&identity, (1, 1, 3, 3), &cpu).unwrap())
        .unwrap();
    cnn.parameters()[3]
        .set(&Tensor::zeros(1, DType::F64, &cpu).unwrap())
        .unwrap();
    cnn.parameters()[4]
        .set(&Tensor::ones((1, 1), DType::F64, &cpu).unwrap())
        .unwrap();
    cnn.parameters()[5]
        .set(&Tensor::zeros(1, DType::F64, &cpu).unwrap())
        .unwrap();
    let mut pixels: Vec<f64> = (0..25).map(|i| f64::from(i % 7) * 0.1).collect();
    pixels[4 * 5 + 2] = 9.0; // last row: cropped
    pixels[5 + 4] = 8.0; // last column: cropped
    pixels[2 * 5 + 3] = 1.25; // the largest kept value
    let image = Tensor::from_slice(&pixels, (1, 1, 5, 5), &cpu).unwrap();
    let out = cnn
        .forward(&image)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    assert_eq!(out, [1.25]);
    // flat rows give the same outputs
    let flat = image.reshape((1, 25)).unwrap();
    let out_flat = cnn
        .forward(&flat)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    assert_eq!(out, out_flat);
}

#[test]
fn networks_take_digits_and_mnist_shapes() {
    let cpu = Device::Cpu;
    let mlp = Mlp::new(&MlpConfig::new(64, &[16], 10), 0).unwrap();
    let digits = Tensor::ones((3, 1, 8, 8), DType::F32, &cpu).unwrap();
    let flat = digits.reshape((3, 64)).unwrap();
    let a = mlp
        .forward(&digits)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let b = mlp
        .forward(&flat)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(a.len(), 30);
    assert_eq!(a, b);

    let mut config = CnnConfig::new([1, 28, 28], 10);
    config.channels = [2, 2];
    config.hidden = vec![8];
    assert_eq!(config.flattened_size(), 2 * 7 * 7);
    let cnn = Cnn::new(&config, 0).unwrap();
    let images = Tensor::ones((2, 1, 28, 28), DType::F32, &cpu).unwrap();
    assert_eq!(cnn.forward(&images).unwrap().dims(), &[2, 10]);
}

fn assert_shape_mismatch(result: opt_models::Result<Tensor>, got: &str) {
    match result {
        Err(ModelError::ShapeMismatch { got: actual, .. }) => assert_eq!(actual, got),
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
}

#[test]
fn inputs_that_do_not_fit_are_shape_mismatches() {
    let cpu = Device::Cpu;
    let mlp = Mlp::new(&MlpConfig::new(64, &[16], 10), 0).unwrap();
    let wrong = Tensor::zeros((3, 63), DType::F32, &cpu).unwrap();
    assert_shape_mismatch(mlp.forward(&wrong), "[3, 63]");
    let single = Tensor::zeros(64, DType::F32, &cpu).unwrap();
    assert_shape_mismatch(mlp.forward(&single), "[64]");
    let message = mlp.forward(&wrong).unwrap_err().to_string();
    assert!(
        message.contains("64") && message.contains("[3, 63]"),
        "{message}"
    );

    let cnn = Cnn::new(&tiny_cnn_config(), 0).unwrap();
    let transposed = Tensor::zeros((2, 8, 8, 1), DType::F32, &cpu).unwrap();
    assert_shape_mismatch(cnn.forward(&transposed), "[2, 8, 8, 1]");
    let mnist = Tensor::zeros((2, 1, 28, 28), DType::F32, &cpu).unwrap();
    assert_shape_mismatch(cnn.forward(&mnist), "[2, 1, 28, 28]");
    let short_rows = Tensor::zeros((2, 63), DType::F32, &cpu).unwrap();
    assert_shape_mismatch(cnn.forward(&short_rows), "[2, 63]");
}

#[test]
fn invalid_configurations_are_rejected() {
    let bad = [
        MlpConfig::new(0, &[4], 2),
        MlpConfig::new(3, &[4, 0], 2),
        MlpConfig::new(3, &[4], 0),
    ];
    for config in bad {
        assert!(matches!(
            Mlp::new(&config, 0),
            Err(ModelError::InvalidArgument { .. })
        ));
    }
    let small = CnnConfig::new([1, 3, 8], 10);
    assert!(matches!(
        Cnn::new(&small, 0),
        Err(ModelError::InvalidArgument {
            name: "input height",
            ..
        })
    ));
    let half = Mlp::new_on(&MlpConfig::new(3, &[], 2), 0, DType::F16, &Device::Cpu);
    assert!(matches!(
        half,
        Err(ModelError::InvalidArgument { name: "dtype", .. })
    ));
}

fn scalar(t: Tensor) -> f64 {
    t.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
}

#[test]
fn cross_entropy_and_mse_equal_hand_computations() {
    let cpu = Device::Cpu;
    let logits = Tensor::new(&[[1.0_f64, 2.0, 3.0], [0.5, -1.0, 0.0]], &cpu).unwrap();
    let labels = Tensor::new(&[2_u32, 0], &cpu).unwrap();
    let lse0 = (1.0_f64.exp() + 2.0_f64.exp() + 3.0_f64.exp()).ln();
    let lse1 = (0.5_f64.exp() + (-1.0_f64).exp() + 1.0).ln();
    let expected = ((lse0 - 3.0) + (lse1 - 0.5)) / 2.0;
    let value = scalar(cross_entropy(&logits, &labels).unwrap());
    assert!((value - expected).abs() < 1e-15, "{value} vs {expected}");
    assert_eq!(
        scalar(Loss::cross_entropy().data_term(&logits, &labels).unwrap()),
        value
    );

    // MSE against one-hot targets [0,0,1], [1,0,0]: mean over 6 entries
    let expected_mse = ((1.0 + 4.0 + 4.0) + (0.25 + 1.0 + 0.0)) / 6.0;
    let mse = scalar(
        Loss::mean_squared_error()
            .data_term(&logits, &labels)
            .unwrap(),
    );
    assert!(
        (mse - expected_mse).abs() < 1e-15,
        "{mse} vs {expected_mse}"
    );
    let targets = one_hot(&labels, 3, DType::F64).unwrap();
    assert_eq!(
        targets.to_vec2::<f64>().unwrap(),
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    );
    assert_eq!(scalar(mean_squared_error(&logits, &targets).unwrap()), mse);

    // f32 agrees
    let value32 = scalar(cross_entropy(&logits.to_dtype(DType::F32).unwrap(), &labels).unwrap());
    assert!((value32 - expected).abs() < 1e-6);
}

#[test]
fn cross_entropy_is_stable_for_large_logits() {
    let cpu = Device::Cpu;
    let logits = Tensor::new(&[[1000.0_f32, 0.0], [-1000.0, 1000.0]], &cpu).unwrap();
    let labels = Tensor::new(&[1_u32, 1], &cpu).unwrap();
    // sample 0: log(1 + e^1000) - 0 = 1000 (+ e^-1000); sample 1: ~0
    let value = scalar(cross_entropy(&logits, &labels).unwrap());
    assert_eq!(value, 500.0);
}

#[test]
fn labels_are_checked() {
    let cpu = Device::Cpu;
    let logits = Tensor::zeros((2, 3), DType::F32, &cpu).unwrap();
    let out_of_range = Tensor::new(&[0_u32, 3], &cpu).unwrap();
    let err = cross_entropy(&logits, &out_of_range).unwrap_err();
    assert!(
        matches!(err, ModelError::InvalidArgument { name: "label", .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("3") && err.to_string().contains("< 3"),
        "{err}"
    );
    assert!(
        Loss::mean_squared_error()
            .data_term(&logits, &out_of_range)
            .is_err()
    );
    assert!(check_labels(&Tensor::new(&[0_u32, 2], &cpu).unwrap(), 3).is_ok());

    let too_few = Tensor::new(&[0_u32], &cpu).unwrap();
    assert!(matches!(
        cross_entropy(&logits, &too_few),
        Err(ModelError::ShapeMismatch { .. })
    ));
    let signed = Tensor::new(&[0_i64, 1], &cpu).unwrap();
    assert!(matches!(
        cross_entropy(&logits, &signed),
        Err(ModelError::InvalidArgument { name: "labels", .. })
    ));
    let wrong_targets = Tensor::zeros((2, 4), DType::F32, &cpu).unwrap();
    assert!(matches!(
        mean_squared_error(&logits, &wrong_targets),
        Err(ModelError::ShapeMismatch { .. })
    ));
}

#[test]
fn l2_penalty_covers_the_chosen_parameters() {
    let cpu = Device::Cpu;
    let mlp = Mlp::new_on(&MlpConfig::new(2, &[], 1), 0, DType::F64, &cpu).unwrap();
    mlp.parameters()[0]
        .set(&Tensor::new(&[[3.0_f64, -4.0]], &cpu).unwrap())
        .unwrap();
    mlp.parameters()[1]
        .set(&Tensor::new(&[2.0_f64], &cpu).unwrap())
        .unwrap();
    let all = scalar(l2_penalty(&mlp, 0.1, L2Scope::AllParameters).unwrap());
    let weights = scalar(l2_penalty(&mlp, 0.1, L2Scope::WeightsOnly).unwrap());
    assert!((all - 0.05 * 29.0).abs() < 1e-15);
    assert!((weights - 0.05 * 25.0).abs() < 1e-15);

    let x = Tensor::new(&[[1.0_f64, 1.0]], &cpu).unwrap();
    let labels = Tensor::new(&[0_u32], &cpu).unwrap();
    let outputs = mlp.forward(&x).unwrap(); // 3 - 4 + 2 = 1
    let loss = Loss::mean_squared_error().with_l2(0.1).unwrap();
    assert!((scalar(loss.value(&mlp, &outputs, &labels).unwrap()) - 0.05 * 29.0).abs() < 1e-15);

    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Loss::cross_entropy().with_l2(bad),
            Err(ModelError::InvalidArgument { name: "l2", .. })
        ));
    }
}
