//! The (network, loss, data) objective: gradients against central
//! differences, values against hand computations, mini-batches, errors and
//! a short training run.
//!
//! ReLU and max pooling have kinks; central differences with steps
//! `h = eps^(1/3) max(1, |x_i|)` (about 6e-6) cross a kink only when a
//! pre-activation (or the gap between the two largest entries of a pooling
//! window) is within about `h` times an input's size of zero. With the
//! random points below that does not happen (a crossing would show as a
//! relative error near 1e-2, not 1e-9), and the seeds are fixed.

use candle_core::{DType, Device, Tensor};
use ndarray::Array1;
use opt_core::gradient::{GradientAccumulator, accumulate_batch_gradient, check_gradient};
use opt_core::{FiniteSum, Objective, OptError, VectorSpace};
use opt_models::ModelError;
use opt_models::loss::{L2Scope, Loss};
use opt_models::network::{Activation, Cnn, CnnConfig, Mlp, MlpConfig, Network};
use opt_models::objective::NetworkObjective;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `n` samples of shape `shape` with entries uniform on [-1, 1) and labels
/// cycling through `0..classes`, in `dtype`.
fn toy_data(n: usize, shape: &[usize], classes: u32, seed: u64, dtype: DType) -> (Tensor, Tensor) {
    let mut rng = StdRng::seed_from_u64(seed);
    let per_sample: usize = shape.iter().product();
    let values: Vec<f64> = (0..n * per_sample)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let mut dims = vec![n];
    dims.extend_from_slice(shape);
    let images = Tensor::from_vec(values, dims, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap();
    let labels: Vec<u32> = (0..n as u32).map(|i| (i * 7 + 1) % classes).collect();
    let labels = Tensor::from_vec(labels, n, &Device::Cpu).unwrap();
    (images, labels)
}

fn mlp64(activation: Activation, seed: u64) -> Mlp {
    let config = MlpConfig::new(4, &[5], 3).with_activation(activation);
    Mlp::new_on(&config, seed, DType::F64, &Device::Cpu).unwrap()
}

fn losses() -> Vec<(&'static str, Loss)> {
    vec![
        ("cross-entropy", Loss::cross_entropy()),
        ("mse", Loss::mean_squared_error()),
        (
            "cross-entropy + l2",
            Loss::cross_entropy().with_l2(0.1).unwrap(),
        ),
        ("mse + l2", Loss::mean_squared_error().with_l2(0.3).unwrap()),
        (
            "cross-entropy + l2 (weights only)",
            Loss::cross_entropy()
                .with_l2(0.2)
                .unwrap()
                .with_l2_scope(L2Scope::WeightsOnly),
        ),
    ]
}

/// A point near the initialisation but off it, so that gradients are not special.
fn perturbed_start<N: Network>(objective: &NetworkObjective<N, f64>, seed: u64) -> Array1<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    objective
        .current_parameters()
        .unwrap()
        .mapv(|v| v + rng.random_range(-0.2..0.2))
}

#[test]
fn mlp_gradients_match_central_differences() {
    let (images, labels) = toy_data(6, &[4], 3, 11, DType::F64);
    for activation in [Activation::Tanh, Activation::Relu] {
        for (name, loss) in losses() {
            let objective =
                NetworkObjective::<_, f64>::new(mlp64(activation, 1), loss, &images, &labels)
                    .unwrap();
            assert_eq!(objective.dim(), 4 * 5 + 5 + 5 * 3 + 3);
            let x = perturbed_start(&objective, 2);
            let check = check_gradient(&objective, &x).unwrap();
            eprintln!("MLP {activation:?} {name}: {:.2e}", check.relative_error);
            assert!(
                check.relative_error < 1e-8,
                "{activation:?} {name}: relative error {} at {}",
                check.relative_error,
                check.worst_index
            );
            assert!(
                check.analytic.norm2() > 1e-3,
                "{activation:?} {name}: gradient vanishes"
            );
        }
    }
}

#[test]
fn cnn_gradients_match_central_differences() {
    // 1x6x6 inputs: 6 -> pool 3 -> crop to 2 -> pool 1, so the odd-size
    // crop before the second pooling is on the path
    let config = CnnConfig {
        input_shape: [1, 6, 6],
        channels: [2, 3],
        hidden: vec![4],
        outputs: 3,
    };
    let (images, labels) = toy_data(4, &[1, 6, 6], 3, 5, DType::F64);
    for (name, loss) in [losses()[0], losses()[3]] {
        let cnn = Cnn::new_on(&config, 9, DType::F64, &Device::Cpu).unwrap();
        let objective = NetworkObjective::<_, f64>::new(cnn, loss, &images, &labels).unwrap();
        assert_eq!(objective.dim(), 18 + 2 + 54 + 3 + 3 * 4 + 4 + 4 * 3 + 3);
        let x = perturbed_start(&objective, 4);
        let check = check_gradient(&objective, &x).unwrap();
        eprintln!("CNN {name}: {:.2e}", check.relative_error);
        assert!(
            check.relative_error < 1e-8,
            "CNN {name}: relative error {} at {}",
            check.relative_error,
            check.worst_index
        );
        // every convolution parameter receives gradient
        assert!(check.analytic.iter().take(20).any(|g| g.abs() > 1e-6));
    }
}

#[test]
fn values_and_gradients_of_a_linear_model_equal_hand_computations() {
    // a 2-input, 3-class linear model (no hidden layer): z = W a + b
    let cpu = Device::Cpu;
    let model = Mlp::new_on(&MlpConfig::new(2, &[], 3), 0, DType::F64, &cpu).unwrap();
    let images = Tensor::new(&[[1.0_f64, 2.0], [-0.5, 0.25]], &cpu).unwrap();
    let labels = Tensor::new(&[2_u32, 0], &cpu).unwrap();
    let w = [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]];
    let b = [0.05, -0.1, 0.2];
    // flat order: W row-major, then b
    let x = Array1::from(vec![0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.05, -0.1, 0.2]);
    let a = [[1.0, 2.0], [-0.5, 0.25]];
    let y = [2, 0];
    let logits: Vec<[f64; 3]> = a
        .iter()
        .map(|ai| std::array::from_fn(|k| w[k][0] * ai[0] + w[k][1] * ai[1] + b[k]))
        .collect();

    // cross-entropy: value and gradient (p - onehot) a^T / n
    let objective =
        NetworkObjective::<_, f64>::new(model, Loss::cross_entropy(), &images, &labels).unwrap();
    let mut expected_value = 0.0;
    let mut expected_grad = [0.0; 9];
    for i in 0..2 {
        let lse = logits[i].iter().map(|z| z.exp()).sum::<f64>().ln();
        expected_value += (lse - logits[i][y[i]]) / 2.0;
        for k in 0..3 {
            let residual = (logits[i][k] - lse).exp() - f64::from(u8::from(k == y[i]));
            expected_grad[2 * k] += residual * a[i][0] / 2.0;
            expected_grad[2 * k + 1] += residual * a[i][1] / 2.0;
            expected_grad[6 + k] += residual / 2.0;
        }
    }
    let mut grad = Array1::zeros(9);
    let value = objective.value_and_grad(&x, &mut grad).unwrap();
    assert!(
        (value - expected_value).abs() < 1e-15,
        "{value} vs {expected_value}"
    );
    assert!((objective.value(&x).unwrap() - expected_value).abs() < 1e-15);
    for (g, e) in grad.iter().zip(expected_grad) {
        assert!((g - e).abs() < 1e-15, "{grad} vs {expected_grad:?}");
    }

    // MSE against one-hot, mean over n k = 6 entries: gradient 2 (z - t) a^T / 6
    let model = objective.into_network();
    let objective =
        NetworkObjective::<_, f64>::new(model, Loss::mean_squared_error(), &images, &labels)
            .unwrap();
    let mut expected_value = 0.0;
    let mut expected_grad = [0.0; 9];
    for i in 0..2 {
        for k in 0..3 {
            let residual = logits[i][k] - f64::from(u8::from(k == y[i]));
            expected_value += residual * residual / 6.0;
            expected_grad[2 * k] += 2.0 * residual * a[i][0] / 6.0;
            expected_grad[2 * k + 1] += 2.0 * residual * a[i][1] / 6.0;
            expected_grad[6 + k] += 2.0 * residual / 6.0;
        }
    }
    let value = objective.value_and_grad(&x, &mut grad).unwrap();
    assert!(
        (value - expected_value).abs() < 1e-15,
        "{value} vs {expected_value}"
    );
    for (g, e) in grad.iter().zip(expected_grad) {
        assert!((g - e).abs() < 1e-15, "{grad} vs {expected_grad:?}");
    }
}

#[test]
fn l2_adds_half_l2_times_the_squared_norm_in_every_batch() {
    let (images, labels) = toy_data(5, &[4], 3, 3, DType::F64);
    let plain = NetworkObjective::<_, f64>::new(
        mlp64(Activation::Tanh, 0),
        Loss::cross_entropy(),
        &images,
        &labels,
    )
    .unwrap();
    let x = perturbed_start(&plain, 1);
    let (mut g_plain, mut g_all, mut g_weights) = (x.zeros_like(), x.zeros_like(), x.zeros_like());
    let batch = [4, 1, 1];
    let f_plain = plain
        .batch_value_and_grad(&x, &batch, &mut g_plain)
        .unwrap();
    let with = |scope| {
        NetworkObjective::<_, f64>::new(
            mlp64(Activation::Tanh, 0),
            Loss::cross_entropy()
                .with_l2(0.5)
                .unwrap()
                .with_l2_scope(scope),
            &images,
            &labels,
        )
        .unwrap()
    };
    let f_all = with(L2Scope::AllParameters)
        .batch_value_and_grad(&x, &batch, &mut g_all)
        .unwrap();
    let f_weights = with(L2Scope::WeightsOnly)
        .batch_value_and_grad(&x, &batch, &mut g_weights)
        .unwrap();
    assert!((f_all - f_plain - 0.25 * x.dot(&x)).abs() < 1e-14);
    let slots = plain.slots();
    let weight_ranges: Vec<_> = [0, 2]
        .iter()
        .map(|&s| slots[s].offset..slots[s].offset + slots[s].len())
        .collect();
    let weight_square: f64 = weight_ranges
        .iter()
        .flat_map(|r| r.clone())
        .map(|i| x[i] * x[i])
        .sum();
    assert!((f_weights - f_plain - 0.25 * weight_square).abs() < 1e-14);
    for i in 0..x.len() {
        assert!((g_all[i] - g_plain[i] - 0.5 * x[i]).abs() < 1e-14);
        let in_weight = weight_ranges.iter().any(|r| r.contains(&i));
        let expected = g_plain[i] + if in_weight { 0.5 * x[i] } else { 0.0 };
        assert!((g_weights[i] - expected).abs() < 1e-14);
    }
}

#[test]
fn a_batch_is_the_objective_of_its_samples_and_micro_batches_add_up() {
    let (images, labels) = toy_data(7, &[4], 3, 21, DType::F64);
    let loss = Loss::cross_entropy().with_l2(0.01).unwrap();
    let objective =
        NetworkObjective::<_, f64>::new(mlp64(Activation::Relu, 3), loss, &images, &labels)
            .unwrap();
    assert_eq!(objective.num_samples(), 7);
    let x = perturbed_start(&objective, 8);

    // the batch [5, 0, 5, 2] equals the full objective on those rows
    let batch = [5_usize, 0, 5, 2];
    let selection = Tensor::new(&[5_u32, 0, 5, 2], &Device::Cpu).unwrap();
    let sub = NetworkObjective::<_, f64>::new(
        mlp64(Activation::Relu, 3),
        loss,
        &images.index_select(&selection, 0).unwrap(),
        &labels.index_select(&selection, 0).unwrap(),
    )
    .unwrap();
    let (mut g_batch, mut g_sub) = (x.zeros_like(), x.zeros_like());
    let f_batch = objective
        .batch_value_and_grad(&x, &batch, &mut g_batch)
        .unwrap();
    let f_sub = sub.value_and_grad(&x, &mut g_sub).unwrap();
    assert!((f_batch - f_sub).abs() < 1e-15);
    assert!((&g_batch - &g_sub).norm_inf() < 1e-15);
    assert_eq!(objective.batch_value(&x, &batch).unwrap(), f_batch);

    // all samples in another order: the full objective
    let all: Vec<usize> = (0..7).rev().collect();
    let mut g_full = x.zeros_like();
    let f_full = objective.value_and_grad(&x, &mut g_full).unwrap();
    let f_all = objective
        .batch_value_and_grad(&x, &all, &mut g_batch)
        .unwrap();
    assert!((f_all - f_full).abs() < 1e-14);
    assert!((&g_batch - &g_full).norm_inf() < 1e-14);

    // micro-batches of 1, 2, 3 accumulate to the one-batch gradient
    for micro in [1, 2, 3] {
        let mut accumulator = GradientAccumulator::new(&x);
        let (mut scratch, mut grad) = (x.zeros_like(), x.zeros_like());
        let f = accumulate_batch_gradient(
            &objective,
            &x,
            &all,
            micro,
            &mut accumulator,
            &mut scratch,
            &mut grad,
        )
        .unwrap();
        assert!((f - f_full).abs() < 1e-14, "micro {micro}");
        assert!((&grad - &g_full).norm_inf() < 1e-14, "micro {micro}");
    }
}

#[test]
fn parameters_round_trip_through_the_flat_vector() {
    let (images, labels) = toy_data(3, &[4], 3, 0, DType::F64);
    let objective = NetworkObjective::<_, f64>::new(
        mlp64(Activation::Tanh, 0),
        Loss::cross_entropy(),
        &images,
        &labels,
    )
    .unwrap();
    let slots = objective.slots();
    let offsets: Vec<usize> = slots.iter().map(|s| s.offset).collect();
    assert_eq!(offsets, [0, 20, 25, 40]);
    assert_eq!(slots[2].name, "linear1.weight");
    let x0 = objective.current_parameters().unwrap();
    let first_weight = objective.network().parameters()[0]
        .as_tensor()
        .to_vec2::<f64>()
        .unwrap();
    assert_eq!(x0[1], first_weight[0][1]);
    assert_eq!(x0[4], first_weight[1][0]);
    let x = x0.mapv(|v| 2.0 * v + 1.0);
    objective.load_parameters(&x).unwrap();
    assert_eq!(objective.current_parameters().unwrap(), x);
    // a vector in reversed memory order (no contiguous slice) works too
    let mut reversed: Array1<f64> = x.iter().rev().map(|v| v + 1.0).collect();
    reversed.invert_axis(ndarray::Axis(0));
    assert!(reversed.as_slice().is_none());
    let shifted = x.mapv(|v| v + 1.0);
    assert_eq!(reversed, shifted);
    let mut grad_reversed = x.zeros_like();
    grad_reversed.invert_axis(ndarray::Axis(0));
    let mut grad = x.zeros_like();
    let value_reversed = objective
        .value_and_grad(&reversed, &mut grad_reversed)
        .unwrap();
    assert_eq!(
        value_reversed,
        objective.value_and_grad(&shifted, &mut grad).unwrap()
    );
    assert_eq!(grad_reversed, grad);
}

#[test]
fn f32_and_f64_objectives_agree() {
    let (images, labels) = toy_data(8, &[4], 3, 2, DType::F32);
    let config = MlpConfig::new(4, &[6], 3).with_activation(Activation::Tanh);
    let loss = Loss::cross_entropy().with_l2(0.01).unwrap();
    let single =
        NetworkObjective::<_, f32>::new(Mlp::new(&config, 4).unwrap(), loss, &images, &labels)
            .unwrap();
    let double = NetworkObjective::<_, f64>::new(
        Mlp::new_on(&config, 4, DType::F64, &Device::Cpu).unwrap(),
        loss,
        &images,
        &labels,
    )
    .unwrap();
    let x32 = single.current_parameters().unwrap();
    let x64 = x32.mapv(f64::from);
    let (mut g32, mut g64) = (x32.zeros_like(), x64.zeros_like());
    let f32_value = single.value_and_grad(&x32, &mut g32).unwrap();
    let f64_value = double.value_and_grad(&x64, &mut g64).unwrap();
    assert!((f64::from(f32_value) - f64_value).abs() < 1e-6 * f64_value);
    let difference = (&g32.mapv(f64::from) - &g64).norm2();
    assert!(difference < 1e-5 * g64.norm2(), "{difference}");
}

#[test]
fn shape_and_label_errors_are_clear() {
    let (images, labels) = toy_data(4, &[4], 3, 0, DType::F64);
    let make = |images: &Tensor, labels: &Tensor| {
        NetworkObjective::<_, f64>::new(
            mlp64(Activation::Tanh, 0),
            Loss::cross_entropy(),
            images,
            labels,
        )
    };
    // model input vs data
    let (wide, _) = toy_data(4, &[5], 3, 0, DType::F64);
    match make(&wide, &labels) {
        Err(ModelError::ShapeMismatch { expected, got, .. }) => {
            assert!(expected.contains('4'), "{expected}");
            assert_eq!(got, "[4, 5]");
        }
        other => panic!("{other:?}"),
    }
    // labels vs images count
    let short = labels.narrow(0, 0, 3).unwrap();
    match make(&images, &short) {
        Err(ModelError::ShapeMismatch { expected, got, .. }) => {
            assert_eq!((expected.as_str(), got.as_str()), ("[4]", "[3]"));
        }
        other => panic!("{other:?}"),
    }
    // label >= classes
    let bad_labels = Tensor::new(&[0_u32, 1, 3, 2], &Device::Cpu).unwrap();
    let err = make(&images, &bad_labels).unwrap_err();
    assert!(
        matches!(err, ModelError::InvalidArgument { name: "label", .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("< 3"), "{err}");
    // no samples
    let empty = images.narrow(0, 0, 0).unwrap();
    assert!(matches!(
        make(&empty, &labels.narrow(0, 0, 0).unwrap()),
        Err(ModelError::ShapeMismatch { .. })
    ));
    // network dtype vs vector type
    let f32_net = Mlp::new(&MlpConfig::new(4, &[5], 3), 0).unwrap();
    assert!(matches!(
        NetworkObjective::<_, f64>::new(f32_net, Loss::cross_entropy(), &images, &labels),
        Err(ModelError::InvalidArgument {
            name: "network dtype",
            ..
        })
    ));
    // wrong parameter / gradient length, bad batches: opt-core errors
    let objective = make(&images, &labels).unwrap();
    let x = objective.current_parameters().unwrap();
    let mut short_grad = Array1::zeros(x.len() - 1);
    assert!(matches!(
        objective.value(&Array1::zeros(x.len() + 1)),
        Err(OptError::ShapeMismatch {
            what: "parameters",
            ..
        })
    ));
    assert!(matches!(
        objective.value_and_grad(&x, &mut short_grad),
        Err(OptError::ShapeMismatch {
            what: "gradient buffer",
            ..
        })
    ));
    let mut grad = x.zeros_like();
    assert!(matches!(
        objective.batch_value_and_grad(&x, &[0, 4], &mut grad),
        Err(OptError::IndexOutOfRange { index: 4, len: 4 })
    ));
    assert!(matches!(
        objective.batch_value_and_grad(&x, &[], &mut grad),
        Err(OptError::ShapeMismatch { .. })
    ));
}

/// Two Gaussian blobs in the plane (classes alternate) and an MLP 2-8-2
/// (tanh) objective on them in f32.
fn blobs() -> (Tensor, Vec<u32>, NetworkObjective<Mlp, f32>) {
    let mut rng = StdRng::seed_from_u64(0);
    let n = 40;
    let mut points = Vec::with_capacity(2 * n);
    let mut classes = Vec::with_capacity(n);
    for i in 0..n {
        let class = (i % 2) as u32;
        let centre = if class == 0 { -1.0 } else { 1.0 };
        points.push(centre + 0.4 * (rng.random::<f32>() - 0.5));
        points.push(centre + 0.4 * (rng.random::<f32>() - 0.5));
        classes.push(class);
    }
    let images = Tensor::from_vec(points, (n, 2), &Device::Cpu).unwrap();
    let labels = Tensor::from_vec(classes.clone(), n, &Device::Cpu).unwrap();
    let config = MlpConfig::new(2, &[8], 2).with_activation(Activation::Tanh);
    let objective = NetworkObjective::<_, f32>::new(
        Mlp::new(&config, 1).unwrap(),
        Loss::cross_entropy(),
        &images,
        &labels,
    )
    .unwrap();
    (images, classes, objective)
}

/// Every sample of the blobs classified correctly at `x`.
fn assert_all_correct(
    objective: &NetworkObjective<Mlp, f32>,
    images: &Tensor,
    classes: &[u32],
    x: &Array1<f32>,
) {
    objective.load_parameters(x).unwrap();
    let predictions = objective
        .network()
        .forward(images)
        .unwrap()
        .argmax(1)
        .unwrap();
    assert_eq!(predictions.to_vec1::<u32>().unwrap(), classes);
}

#[test]
fn gradient_descent_fits_a_separable_toy_problem() {
    // full-batch gradient descent with a fixed step
    let (images, classes, objective) = blobs();
    let mut x = objective.current_parameters().unwrap();
    let mut grad = x.zeros_like();
    let initial = objective.value_and_grad(&x, &mut grad).unwrap();
    let mut previous = initial;
    for _ in 0..60 {
        x.axpy(-0.5, &grad);
        let value = objective.value_and_grad(&x, &mut grad).unwrap();
        assert!(value < previous, "{value} >= {previous}");
        previous = value;
    }
    assert!(initial > 0.5, "{initial}");
    assert!(previous < 0.05, "loss {initial} -> {previous}");
    assert_all_correct(&objective, &images, &classes, &x);
}

#[test]
fn second_order_solvers_train_the_network() {
    // The workspace's full-batch solvers drive a candle network through the
    // runner: SCG, L-BFGS and nonlinear CG reach a small loss where the
    // fixed-step loop above needs 60 steps for 0.05.
    use opt_core::{Counted, Runner};
    use opt_second_order::lbfgs::Lbfgs;
    use opt_second_order::nonlinear_cg::{NonlinearCg, NonlinearCgConfig};
    use opt_second_order::scg::{Scg, ScgConfig};
    for name in ["scg", "lbfgs", "cg"] {
        let (images, classes, objective) = blobs();
        let x0 = objective.current_parameters().unwrap();
        let problem = Counted::new(objective);
        let mut runner = Runner::new().max_iters(40);
        let report = match name {
            "scg" => runner.run(&problem, &mut Scg::new(ScgConfig::default()).unwrap(), x0),
            "lbfgs" => runner.run(&problem, &mut Lbfgs::new(10).unwrap(), x0),
            _ => runner.run(
                &problem,
                &mut NonlinearCg::new(NonlinearCgConfig::default()).unwrap(),
                x0,
            ),
        }
        .unwrap();
        assert!(
            report.f < 0.01,
            "{name}: loss {} after {} iterations",
            report.f,
            report.iterations
        );
        assert_all_correct(problem.inner(), &images, &classes, &report.x);
    }
}
