//! A user's own candle-nn model trained by this workspace's AdamW, stepped
//! in place on the model's storage: the loop a candle user writes, with
//! `opt_first_order::Optimizer` where `candle_nn::AdamW` would be.
//!
//! The model (two `candle_nn::linear` layers in a `VarMap`) is not one of
//! `opt-models`' networks; all it needs is its list of `Var`s. Each step:
//! forward, `loss.backward()`, then
//! `params.update_with(&grads, |p, g| adamw.step_slices(p, g))`, which runs
//! the fused AdamW kernel (PyTorch's `torch.optim.AdamW` semantics) on the
//! variables' CPU storage, one pass, no temporaries.
//!
//! `RAYON_NUM_THREADS=2 cargo run --release -p opt-models --example candle_adamw`
//! (set RAYON_NUM_THREADS: see the crate documentation).

use std::time::Instant;

use candle_core::{DType, Device, Module};
use candle_nn::{VarBuilder, VarMap, linear};
use opt_first_order::{Adam, Optimizer, ParamGroup};
use opt_models::data::{BatchLayout, digits};
use opt_models::loss::cross_entropy;
use opt_models::params::CandleParams;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

const EPOCHS: usize = 20;
const BATCH: usize = 32;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::Cpu;
    let (train, test) = digits()?;

    // The user's model: 64-128-10 with ReLU, candle-nn's own initialisation.
    let varmap = VarMap::new();
    let builder = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let hidden = linear(train.feature_len(), 128, builder.pp("hidden"))?;
    let output = linear(128, train.num_classes(), builder.pp("output"))?;
    let forward = |x: &candle_core::Tensor| -> candle_core::Result<candle_core::Tensor> {
        output.forward(&hidden.forward(x)?.relu()?)
    };

    // Its parameters as one vector over the model's own storage, and AdamW
    // (lr 1e-3, weight decay 1e-2 as torch.optim.AdamW's defaults) with one
    // state buffer per variable.
    let params = CandleParams::<f32>::new(varmap.all_vars())?;
    let mut adamw = Optimizer::<Adam, f32>::with_groups(vec![ParamGroup {
        config: Adam::adamw(),
        arrays: params.vars().len(),
    }])?;

    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut rng = StdRng::seed_from_u64(0);
    let started = Instant::now();
    for epoch in 1..=EPOCHS {
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        for batch in order.chunks(BATCH) {
            let (images, labels) = train.batch(batch, BatchLayout::Flat, &device)?;
            let loss = cross_entropy(&forward(&images)?, &labels)?;
            loss_sum += f64::from(loss.to_scalar::<f32>()?) * batch.len() as f64;
            let grads = params.gradients(&loss.backward()?)?;
            params.update_with(&grads, |p, g| adamw.step_slices(p, g))??;
        }
        let (images, labels) =
            test.batch_range(0..test.len(), BatchLayout::Flat, DType::F32, &device)?;
        let predicted = forward(&images)?.argmax(1)?.to_vec1::<u32>()?;
        let correct = predicted
            .iter()
            .zip(labels.to_vec1::<u32>()?)
            .filter(|(p, l)| **p == *l)
            .count();
        println!(
            "epoch {epoch:>2}  train loss {:.4}  test accuracy {:.4}",
            loss_sum / train.len() as f64,
            correct as f64 / test.len() as f64
        );
    }
    println!(
        "{EPOCHS} epochs in {:.3} s ({} AdamW steps)",
        started.elapsed().as_secs_f64(),
        adamw.steps()
    );
    Ok(())
}
