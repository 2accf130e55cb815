//! First-order steppers on candle parameters: an `Optimizer` step through
//! `CandleParams::update_with` equals the same step on an `Array1` copy bit
//! for bit (Adam and SGD with momentum, f32 and f64), and a non-finite
//! gradient is refused without touching the model.

use candle_core::{Device, Tensor, Var};
use ndarray::Array1;
use opt_core::Stepper;
use opt_first_order::{Adam, Method, Optimizer, ParamGroup, Sgd};
use opt_models::objective::ModelScalar;
use opt_models::params::CandleParams;

/// Shapes that cross the kernel's parallel threshold (2^17) in one tensor.
const SHAPES: [&[usize]; 3] = [&[7, 5], &[300, 500], &[33]];

fn values<T: ModelScalar>(n: usize, seed: f64) -> Vec<T> {
    (0..n)
        .map(|i| T::of(((i % 977) as f64 * seed).sin()))
        .collect()
}

fn setup<T: ModelScalar>() -> (CandleParams<T>, Vec<Tensor>, Array1<T>, Array1<T>) {
    let total: usize = SHAPES.iter().map(|s| s.iter().product::<usize>()).sum();
    let initial = values::<T>(total, 0.37);
    let gradient = values::<T>(total, 1.91);
    let mut offset = 0;
    let mut vars = Vec::new();
    let mut grads = Vec::new();
    for shape in SHAPES {
        let n: usize = shape.iter().product();
        let range = offset..offset + n;
        vars.push(
            Var::from_tensor(
                &Tensor::from_slice(&initial[range.clone()], shape, &Device::Cpu).unwrap(),
            )
            .unwrap(),
        );
        grads.push(Tensor::from_slice(&gradient[range], shape, &Device::Cpu).unwrap());
        offset += n;
    }
    (
        CandleParams::new(vars).unwrap(),
        grads,
        Array1::from(initial),
        Array1::from(gradient),
    )
}

fn flatten<T: ModelScalar>(params: &CandleParams<T>) -> Vec<T> {
    params
        .vars()
        .iter()
        .flat_map(|v| v.flatten_all().unwrap().to_vec1::<T>().unwrap())
        .collect()
}

fn same_steps<M: Method, T: ModelScalar>(config: M) {
    let (params, grads, mut array, array_grad) = setup::<T>();
    let mut on_candle = Optimizer::<M, T>::with_groups(vec![ParamGroup {
        config: config.clone(),
        arrays: SHAPES.len(),
    }])
    .unwrap();
    let mut on_array = Optimizer::<M, T>::new(config).unwrap();
    for _ in 0..4 {
        params
            .update_with(&grads, |p, g| on_candle.step_slices(p, g))
            .unwrap()
            .unwrap();
        on_array.step(&mut array, &array_grad).unwrap();
    }
    let stepped = flatten(&params);
    assert_ne!(
        stepped,
        values::<T>(array.len(), 0.37),
        "the step moved the parameters"
    );
    for (i, (a, b)) in stepped.iter().zip(&array).enumerate() {
        assert!(a == b, "component {i}: {a} vs {b}");
    }
}

#[test]
fn adam_on_candle_parameters_equals_adam_on_an_array() {
    same_steps::<_, f32>(Adam::default());
    same_steps::<_, f64>(Adam {
        lr: 1e-2,
        weight_decay: 1e-3,
        ..Adam::default()
    });
}

#[test]
fn momentum_on_candle_parameters_equals_momentum_on_an_array() {
    let sgd = Sgd {
        lr: 0.1,
        momentum: 0.9,
        ..Sgd::default()
    };
    same_steps::<_, f32>(sgd.clone());
    same_steps::<_, f64>(Sgd {
        nesterov: true,
        ..sgd
    });
}

#[test]
fn a_non_finite_gradient_leaves_the_model_untouched() {
    let (params, mut grads, _, _) = setup::<f32>();
    let mut data = grads[1].flatten_all().unwrap().to_vec1::<f32>().unwrap();
    data[12345] = f32::NAN;
    grads[1] = Tensor::from_slice(&data, SHAPES[1], &Device::Cpu).unwrap();
    let before = flatten(&params);
    let mut adam = Optimizer::<Adam, f32>::with_groups(vec![ParamGroup {
        config: Adam::default(),
        arrays: SHAPES.len(),
    }])
    .unwrap();
    let outcome = params
        .update_with(&grads, |p, g| adam.step_slices(p, g))
        .unwrap();
    assert!(matches!(outcome, Err(opt_core::OptError::NonFinite { .. })));
    assert_eq!(flatten(&params), before);
}
