//! The Adam step on a candle model's parameters against the same step on
//! an ndarray vector: 1e7 `f32` parameters held as 10 candle tensors of 1e6
//! (stepped in place through `CandleParams::update_with` and
//! `Optimizer::step_slices`) and as one `Array1` of 1e7 (`Optimizer::step`),
//! timed interleaved in one process; prints both medians and their ratio
//! (target: at most 1.25).
//!
//! `cargo run --release -p opt-models --example adam_step [-- STEPS]`

use std::time::Instant;

use candle_core::{Device, Tensor, Var};
use ndarray::Array1;
use opt_core::Stepper;
use opt_first_order::{Adam, Optimizer, ParamGroup};
use opt_models::params::CandleParams;

const TENSORS: usize = 10;
const PER_TENSOR: usize = 1_000_000;

fn values(n: usize, seed: f32) -> Vec<f32> {
    (0..n).map(|i| ((i % 1013) as f32 * seed).sin()).collect()
}

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let steps: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 15,
    };
    let n = TENSORS * PER_TENSOR;
    let initial = values(n, 0.37);
    let gradient = values(n, 1.91);

    let vars = (0..TENSORS)
        .map(|k| {
            let range = k * PER_TENSOR..(k + 1) * PER_TENSOR;
            Var::from_tensor(&Tensor::from_slice(
                &initial[range],
                PER_TENSOR,
                &Device::Cpu,
            )?)
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    let grads = (0..TENSORS)
        .map(|k| {
            let range = k * PER_TENSOR..(k + 1) * PER_TENSOR;
            Tensor::from_slice(&gradient[range], PER_TENSOR, &Device::Cpu)
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    let params = CandleParams::<f32>::new(vars)?;
    let mut candle_adam = Optimizer::<Adam, f32>::with_groups(vec![ParamGroup {
        config: Adam::default(),
        arrays: TENSORS,
    }])?;

    let mut array = Array1::from(initial);
    let array_grad = Array1::from(gradient);
    let mut array_adam = Optimizer::<Adam, f32>::new(Adam::default())?;

    // A diagnostic third copy: the same 10 pieces as the candle model, but
    // as ndarray arrays, to separate the cost of holding the parameters as
    // several arrays (one parallel pass over all of them either way) from
    // the cost of reaching candle's storage.
    let mut pieces: Vec<Array1<f32>> = array
        .exact_chunks(PER_TENSOR)
        .into_iter()
        .map(|c| c.to_owned())
        .collect();
    let piece_grads: Vec<Array1<f32>> = array_grad
        .exact_chunks(PER_TENSOR)
        .into_iter()
        .map(|c| c.to_owned())
        .collect();
    let mut pieces_adam = Optimizer::<Adam, f32>::with_groups(vec![ParamGroup {
        config: Adam::default(),
        arrays: TENSORS,
    }])?;

    // The first step allocates each optimizer's state; not timed.
    params.update_with(&grads, |p, g| candle_adam.step_slices(p, g))??;
    array_adam.step(&mut array, &array_grad)?;
    pieces_adam.step_arrays(&mut pieces, &piece_grads)?;

    let mut pieces_times = Vec::with_capacity(steps);
    let mut candle_times = Vec::with_capacity(steps);
    let mut array_times = Vec::with_capacity(steps);
    for _ in 0..steps {
        let start = Instant::now();
        params.update_with(&grads, |p, g| candle_adam.step_slices(p, g))??;
        candle_times.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        array_adam.step(&mut array, &array_grad)?;
        array_times.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        pieces_adam.step_arrays(&mut pieces, &piece_grads)?;
        pieces_times.push(start.elapsed().as_secs_f64());
    }

    // Same kernel, same values: the two copies agree bit for bit.
    let stepped: Vec<f32> = params
        .vars()
        .iter()
        .map(|v| v.to_vec1::<f32>())
        .collect::<candle_core::Result<Vec<_>>>()?
        .concat();
    let identical = stepped
        .iter()
        .zip(&array)
        .all(|(a, b)| a.to_bits() == b.to_bits());

    let candle_ms = 1e3 * median(&mut candle_times);
    let array_ms = 1e3 * median(&mut array_times);
    println!(
        "parameters: {n} f32 ({TENSORS} candle tensors of {PER_TENSOR}); {steps} steps each, interleaved"
    );
    println!(
        "threads available: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("candle tensors: median {candle_ms:.3} ms");
    println!("ndarray vector: median {array_ms:.3} ms");
    println!(
        "ndarray, {TENSORS} arrays of {PER_TENSOR} (diagnostic): median {:.3} ms",
        1e3 * median(&mut pieces_times)
    );
    println!(
        "ratio candle / ndarray: {:.3} (target <= 1.25)",
        candle_ms / array_ms
    );
    println!("results bit-identical: {identical}");
    if !identical {
        return Err("the candle and ndarray steps differ".into());
    }
    Ok(())
}
