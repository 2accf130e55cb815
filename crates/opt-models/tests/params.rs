//! `CandleParams`: vector operations against an `Array1` reference, clone
//! independence, slice updates that reach the model, and a full-batch
//! solver (SCG, nonlinear CG) running on candle parameters with the same
//! iterates as on an `Array1`.

use candle_core::{DType, Device, Tensor, Var};
use ndarray::{Array1, Array2};
use opt_core::{Counted, Objective, Runner, ScalarOf, VectorSpace};
use opt_models::network::{Mlp, MlpConfig, Network};
use opt_models::params::CandleParams;
use opt_second_order::lbfgs::Lbfgs;
use opt_second_order::nonlinear_cg::{NonlinearCg, NonlinearCgConfig};
use opt_second_order::scg::{Scg, ScgConfig};

const SHAPES: [&[usize]; 3] = [&[3, 4], &[5], &[2, 1, 3]];

fn values(n: usize, seed: f64) -> Vec<f64> {
    (0..n)
        .map(|i| ((i as f64 + 1.0) * seed).sin() * 3.0)
        .collect()
}

fn params_f64(seed: f64) -> CandleParams<f64> {
    let mut offset = 0;
    let total: usize = SHAPES.iter().map(|s| s.iter().product::<usize>()).sum();
    let all = values(total, seed);
    let vars = SHAPES
        .iter()
        .map(|shape| {
            let n: usize = shape.iter().product();
            let t = Tensor::from_slice(&all[offset..offset + n], *shape, &Device::Cpu).unwrap();
            offset += n;
            Var::from_tensor(&t).unwrap()
        })
        .collect();
    CandleParams::new(vars).unwrap()
}

fn flatten<T: opt_models::objective::ModelScalar>(p: &CandleParams<T>) -> Vec<T> {
    p.vars()
        .iter()
        .flat_map(|v| v.flatten_all().unwrap().to_vec1::<T>().unwrap())
        .collect()
}

fn assert_close(p: &CandleParams<f64>, a: &Array1<f64>) {
    let flat = flatten(p);
    assert_eq!(flat.len(), a.len());
    for (i, (x, y)) in flat.iter().zip(a).enumerate() {
        assert!(
            (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
            "component {i}: {x} vs {y}"
        );
    }
}

#[test]
fn vector_operations_match_an_array_reference() {
    let mut p = params_f64(0.7);
    let q = params_f64(1.3);
    let mut a = Array1::from(flatten(&p));
    let b = Array1::from(flatten(&q));
    assert_eq!(p.len(), 23);
    assert_eq!(VectorSpace::len(&a), 23);
    assert!((p.dot(&q) - a.dot(&b)).abs() < 1e-12);
    assert!((p.norm2() - VectorSpace::norm2(&a)).abs() < 1e-12);
    assert_eq!(p.norm_inf(), a.norm_inf());
    p.axpy(-0.37, &q);
    a.axpy(-0.37, &b);
    assert_close(&p, &a);
    p.scale_add(1.9, &q);
    a.scale_add(1.9, &b);
    assert_close(&p, &a);
    p.scale(-0.25);
    a.scale(-0.25);
    assert_close(&p, &a);
    assert!(p.is_finite());
    let z = p.zeros_like();
    assert_eq!(z.len(), 23);
    assert_eq!(z.norm_inf(), 0.0);
    p.assign(&q);
    assert_eq!(flatten(&p), flatten(&q));
    p.fill(2.5);
    assert!(flatten(&p).iter().all(|&v| v == 2.5));
}

#[test]
fn non_finite_values_are_found_in_every_tensor() {
    for tensor in 0..SHAPES.len() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let p = params_f64(0.3);
            let var = &p.vars()[tensor];
            let mut data = var.flatten_all().unwrap().to_vec1::<f64>().unwrap();
            let last = data.len() - 1;
            data[last] = bad;
            var.set(&Tensor::from_slice(&data, var.shape(), &Device::Cpu).unwrap())
                .unwrap();
            assert!(!p.is_finite(), "tensor {tensor}, {bad}");
        }
    }
}

#[test]
fn clones_are_independent_and_new_shares_the_model_storage() {
    let network = Mlp::new_on(&MlpConfig::new(4, &[3], 2), 0, DType::F64, &Device::Cpu).unwrap();
    let mut shared = CandleParams::<f64>::from_network(&network).unwrap();
    let before = flatten(&shared);
    let copy = shared.clone();
    shared.scale(2.0);
    // The clone kept the old values; the network sees the new ones.
    assert_eq!(flatten(&copy), before);
    let seen: Vec<f64> = network
        .parameters()
        .iter()
        .flat_map(|v| v.flatten_all().unwrap().to_vec1::<f64>().unwrap())
        .collect();
    let doubled: Vec<f64> = before.iter().map(|v| 2.0 * v).collect();
    assert_eq!(seen, doubled);
    // A set of the wrong dtype is refused.
    assert!(CandleParams::<f32>::from_network(&network).is_err());
}

/// SGD with momentum (PyTorch's form), written on slices.
fn momentum_step(params: &mut [&mut [f32]], grads: &[&[f32]], buffers: &mut [Vec<f32>]) {
    for ((p, g), b) in params.iter_mut().zip(grads).zip(buffers.iter_mut()) {
        for ((p, &g), b) in p.iter_mut().zip(*g).zip(b.iter_mut()) {
            *b = 0.9 * *b + g;
            *p -= 0.01 * *b;
        }
    }
}

#[test]
fn slice_updates_write_the_variables_in_place() {
    let vars: Vec<Var> = SHAPES
        .iter()
        .enumerate()
        .map(|(i, shape)| {
            let n: usize = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|k| (k as f32 + i as f32) * 0.1).collect();
            Var::from_tensor(&Tensor::from_slice(&data, *shape, &Device::Cpu).unwrap()).unwrap()
        })
        .collect();
    let params = CandleParams::<f32>::new(vars.clone()).unwrap();
    let grads: Vec<Tensor> = vars
        .iter()
        .map(|v| v.as_tensor().affine(0.5, -0.2).unwrap())
        .collect();
    let mut reference: Vec<Vec<f32>> = vars
        .iter()
        .map(|v| v.flatten_all().unwrap().to_vec1().unwrap())
        .collect();
    let grad_values: Vec<Vec<f32>> = grads
        .iter()
        .map(|g| g.flatten_all().unwrap().to_vec1().unwrap())
        .collect();
    let mut buffers: Vec<Vec<f32>> = reference.iter().map(|r| vec![0.0; r.len()]).collect();
    let mut reference_buffers = buffers.clone();
    for _ in 0..3 {
        params
            .update_with(&grads, |p, g| momentum_step(p, g, &mut buffers))
            .unwrap();
        let mut slices: Vec<&mut [f32]> = reference.iter_mut().map(|r| r.as_mut_slice()).collect();
        let grad_slices: Vec<&[f32]> = grad_values.iter().map(|g| g.as_slice()).collect();
        momentum_step(&mut slices, &grad_slices, &mut reference_buffers);
    }
    for (var, expected) in vars.iter().zip(&reference) {
        // Bit for bit: the same kernel on the same values.
        assert_eq!(
            &var.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            expected
        );
    }
    // The returned value of the update comes back.
    assert_eq!(
        params
            .update_with(&grads, |p, g| (p.len(), g[1].len()))
            .unwrap(),
        (3, 5)
    );
}

#[test]
fn slice_updates_reject_mismatched_gradients() {
    let params = params_f64(0.5);
    let grads: Vec<Tensor> = params
        .vars()
        .iter()
        .map(|v| v.as_tensor().copy().unwrap())
        .collect();
    assert!(params.update_with(&grads[..2], |_, _| ()).is_err());
    let mut wrong_shape = grads.clone();
    wrong_shape[1] = Tensor::zeros(4, DType::F64, &Device::Cpu).unwrap();
    assert!(params.update_with(&wrong_shape, |_, _| ()).is_err());
    let mut wrong_dtype = grads.clone();
    wrong_dtype[0] = Tensor::zeros((3, 4), DType::F32, &Device::Cpu).unwrap();
    assert!(params.update_with(&wrong_dtype, |_, _| ()).is_err());
    let mut strided = grads.clone();
    strided[0] = Tensor::zeros((4, 3), DType::F64, &Device::Cpu)
        .unwrap()
        .t()
        .unwrap();
    assert!(params.update_with(&strided, |_, _| ()).is_err());
    // Nothing was run, nothing changed.
    assert_eq!(flatten(&params), flatten(&params_f64(0.5)));
}

/// `f(x) = 1/2 x^T A x - b^T x` with a dense SPD `A`, for any vector type
/// that can be flattened and written back.
struct Quadratic<V> {
    a: Array2<f64>,
    b: Array1<f64>,
    read: fn(&V) -> Array1<f64>,
    write: fn(&mut V, &Array1<f64>),
}

impl<V: VectorSpace<Scalar = f64>> Objective for Quadratic<V> {
    type Vector = V;
    fn dim(&self) -> usize {
        self.b.len()
    }
    fn value(&self, x: &V) -> opt_core::Result<ScalarOf<V>> {
        let x = (self.read)(x);
        Ok(0.5 * x.dot(&self.a.dot(&x)) - self.b.dot(&x))
    }
    fn value_and_grad(&self, x: &V, grad: &mut V) -> opt_core::Result<ScalarOf<V>> {
        let x = (self.read)(x);
        let ax = self.a.dot(&x);
        (self.write)(grad, &(&ax - &self.b));
        Ok(0.5 * x.dot(&ax) - self.b.dot(&x))
    }
}

fn quadratic<V>(read: fn(&V) -> Array1<f64>, write: fn(&mut V, &Array1<f64>)) -> Quadratic<V> {
    let n = 23;
    let a = Array2::from_shape_fn((n, n), |(i, j)| {
        let coupling = 1.0 / (1.0 + (i as f64 - j as f64).abs());
        if i == j {
            1.0 + i as f64
        } else {
            0.3 * coupling
        }
    });
    let b = Array1::from(values(n, 0.9));
    Quadratic { a, b, read, write }
}

fn read_params(p: &CandleParams<f64>) -> Array1<f64> {
    Array1::from(flatten(p))
}

fn write_params(p: &mut CandleParams<f64>, values: &Array1<f64>) {
    let mut offset = 0;
    for var in p.vars() {
        let n = var.elem_count();
        let t = Tensor::from_slice(
            &values.as_slice().unwrap()[offset..offset + n],
            var.shape(),
            &Device::Cpu,
        )
        .unwrap();
        var.set(&t).unwrap();
        offset += n;
    }
}

fn read_array(a: &Array1<f64>) -> Array1<f64> {
    a.clone()
}

fn write_array(a: &mut Array1<f64>, values: &Array1<f64>) {
    a.assign(values);
}

#[test]
fn full_batch_solvers_give_the_same_iterates_on_candle_parameters() {
    let on_params = Counted::new(quadratic(read_params, write_params));
    let on_array = Counted::new(quadratic(read_array, write_array));
    let x0 = params_f64(0.2);
    let x0_array = Array1::from(flatten(&x0));

    let mut scg = Scg::new(ScgConfig::default()).unwrap();
    let report = Runner::new()
        .max_iters(200)
        .gtol(1e-10)
        .unwrap()
        .run(&on_params, &mut scg, x0.clone())
        .unwrap();
    let mut scg = Scg::new(ScgConfig::default()).unwrap();
    let reference = Runner::new()
        .max_iters(200)
        .gtol(1e-10)
        .unwrap()
        .run(&on_array, &mut scg, x0_array.clone())
        .unwrap();
    assert!(report.converged && reference.converged);
    assert_eq!(report.iterations, reference.iterations);
    assert_close(&report.x, &reference.x);
    // The minimiser solves A x = b.
    let residual = &on_array.inner().a.dot(&reference.x) - &on_array.inner().b;
    assert!(residual.iter().all(|r| r.abs() < 1e-9));

    // L-BFGS through the default two-loop kernel on candle parameters
    // against the fused one on Array1: the same iterates to rounding.
    let mut lbfgs = Lbfgs::new(5).unwrap();
    let report = Runner::new()
        .max_iters(12)
        .run(&on_params, &mut lbfgs, x0.clone())
        .unwrap();
    let mut lbfgs = Lbfgs::new(5).unwrap();
    let reference = Runner::new()
        .max_iters(12)
        .run(&on_array, &mut lbfgs, x0_array.clone())
        .unwrap();
    assert_eq!(report.iterations, reference.iterations);
    assert_close(&report.x, &reference.x);

    // A fixed number of iterations: the sums of the two dot products round
    // differently in the last bit, so a stop on `gtol` near the threshold
    // could come one iteration apart.
    let mut cg = NonlinearCg::new(NonlinearCgConfig::default()).unwrap();
    let report = Runner::new()
        .max_iters(12)
        .run(&on_params, &mut cg, x0)
        .unwrap();
    let mut cg = NonlinearCg::new(NonlinearCgConfig::default()).unwrap();
    let x0_start = x0_array.clone();
    let reference = Runner::new()
        .max_iters(12)
        .run(&on_array, &mut cg, x0_array)
        .unwrap();
    assert_eq!(report.iterations, 12);
    assert_eq!(reference.iterations, 12);
    assert_close(&report.x, &reference.x);
    let mut g0 = x0_start.zeros_like();
    on_array.inner().value_and_grad(&x0_start, &mut g0).unwrap();
    assert!(
        reference.grad_norm < 0.1 * VectorSpace::norm2(&g0),
        "CG made progress: {}",
        reference.grad_norm
    );
}

#[test]
fn gradients_come_from_a_backprop_in_parameter_order() {
    let first = Var::new(&[1.0f64, -2.0, 3.0], &Device::Cpu).unwrap();
    let second = Var::new(&[[0.5f64, 4.0]], &Device::Cpu).unwrap();
    let unused = Var::new(&[7.0f64], &Device::Cpu).unwrap();
    // loss = sum(first^2) + 3 sum(second): gradients 2 first and 3.
    let loss = (first.as_tensor().sqr().unwrap().sum_all().unwrap()
        + second
            .as_tensor()
            .sum_all()
            .unwrap()
            .affine(3.0, 0.0)
            .unwrap())
    .unwrap();
    let store = loss.backward().unwrap();
    let params = CandleParams::<f64>::new(vec![first.clone(), second.clone()]).unwrap();
    params
        .update_with_store(&store, |p, g| {
            for (p, g) in p.iter_mut().zip(g) {
                for (p, &g) in p.iter_mut().zip(*g) {
                    *p -= 0.25 * g;
                }
            }
        })
        .unwrap();
    assert_eq!(first.to_vec1::<f64>().unwrap(), vec![0.5, -1.0, 1.5]);
    assert_eq!(second.to_vec2::<f64>().unwrap(), vec![vec![-0.25, 3.25]]);
    // A parameter the loss does not depend on has no gradient: an error.
    let with_unused = CandleParams::<f64>::new(vec![first, unused]).unwrap();
    assert!(with_unused.gradients(&store).is_err());
}
