//! Step throughput of every first-order method against a plain copy of the
//! same bytes, measured in the same process and interleaved, so the ratio
//! is meaningful on a noisy machine.
//!
//! A method with `K` state values per element reads the parameters, the
//! gradient and the state and writes the parameters and the state:
//! `(3 + 2K) * 4` bytes per f32 parameter (Adam: 28). The reference copies
//! `(3 + 2K) / 2` floats per parameter from one buffer to another (the same
//! bytes read plus written), split over threads as the step is.

use std::fmt::Write as _;
use std::time::Instant;

use opt_first_order::kernel::parallel_copy;
use opt_first_order::{
    Adadelta, Adagrad, Adam, Adamax, Fista, Ista, Lamb, Lars, Method, Nadam, Optimizer, Radam,
    Rmsprop, Sgd,
};
use serde::Serialize;

use crate::error::Result;

/// One measured method at one size.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputRow {
    pub method: String,
    pub parameters: usize,
    pub bytes_per_parameter: usize,
    /// Median seconds per step.
    pub step_s: f64,
    /// Median seconds per copy of the same bytes.
    pub copy_s: f64,
    /// `copy_s / step_s`: the fraction of copy bandwidth the step reaches.
    pub ratio: f64,
    /// Achieved bandwidth of the step, GB/s (1e9 bytes).
    pub step_gb_s: f64,
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn measure<M: Method>(label: &str, config: M, n: usize, repeats: usize) -> Result<ThroughputRow> {
    let per_element = config.state_per_element();
    let bytes_per_parameter = (3 + 2 * per_element) * std::mem::size_of::<f32>();
    let mut optimizer = Optimizer::<M, f32>::new(config)?;
    let mut params = vec![1.0f32; n];
    let grads = vec![1e-3f32; n];
    let copy_len = n * (3 + 2 * per_element) / 2;
    let source = vec![1.0f32; copy_len];
    let mut target = vec![0.0f32; copy_len];
    // first step allocates the state; one more to warm caches and threads
    for _ in 0..2 {
        optimizer.step_slices(&mut [&mut params], &[&grads])?;
        parallel_copy(&mut target, &source);
    }
    let (mut steps, mut copies) = (Vec::with_capacity(repeats), Vec::with_capacity(repeats));
    for _ in 0..repeats {
        let start = Instant::now();
        optimizer.step_slices(&mut [&mut params], &[&grads])?;
        steps.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        parallel_copy(&mut target, std::hint::black_box(&source));
        copies.push(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(&params);
    let (step_s, copy_s) = (median(steps), median(copies));
    Ok(ThroughputRow {
        method: label.to_owned(),
        parameters: n,
        bytes_per_parameter,
        step_s,
        copy_s,
        ratio: copy_s / step_s,
        step_gb_s: (bytes_per_parameter * n) as f64 / step_s / 1e9,
    })
}

/// Measure every method at each size in `sizes`.
pub fn measure_all(sizes: &[usize], repeats: usize) -> Result<Vec<ThroughputRow>> {
    let mut rows = Vec::new();
    for &n in sizes {
        let momentum = Sgd {
            momentum: 0.9,
            ..Sgd::default()
        };
        let centered = Rmsprop {
            centered: true,
            momentum: 0.9,
            ..Rmsprop::default()
        };
        let amsgrad = Adam {
            amsgrad: true,
            ..Adam::default()
        };
        rows.push(measure("sgd", Sgd::default(), n, repeats)?);
        rows.push(measure("sgd:momentum=0.9", momentum, n, repeats)?);
        rows.push(measure("adagrad", Adagrad::default(), n, repeats)?);
        rows.push(measure("rmsprop", Rmsprop::default(), n, repeats)?);
        rows.push(measure(
            "rmsprop:centered=true,momentum=0.9",
            centered,
            n,
            repeats,
        )?);
        rows.push(measure("adadelta", Adadelta::default(), n, repeats)?);
        rows.push(measure("adam", Adam::default(), n, repeats)?);
        rows.push(measure("adam:amsgrad=true", amsgrad, n, repeats)?);
        rows.push(measure("adamw", Adam::adamw(), n, repeats)?);
        rows.push(measure("adamax", Adamax::default(), n, repeats)?);
        rows.push(measure("nadam", Nadam::default(), n, repeats)?);
        rows.push(measure("radam", Radam::default(), n, repeats)?);
        rows.push(measure("lars", Lars::default(), n, repeats)?);
        rows.push(measure("lamb", Lamb::default(), n, repeats)?);
        rows.push(measure("ista", Ista::default(), n, repeats)?);
        rows.push(measure("fista", Fista::default(), n, repeats)?);
    }
    Ok(rows)
}

/// The throughput section of `report.md`.
pub fn render_throughput(rows: &[ThroughputRow]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# Step throughput (f32)\n");
    let _ = writeln!(
        text,
        "Median step time against a plain copy of the same bytes, interleaved in one process \
         (`ratio` = copy time / step time: 1 means the step runs at copy bandwidth). Every step \
         also reads the gradient once more to refuse non-finite values before touching anything.\n"
    );
    let _ = writeln!(
        text,
        "| method | parameters | bytes/param | step (ms) | copy (ms) | ratio | step GB/s |"
    );
    let _ = writeln!(text, "|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let _ = writeln!(
            text,
            "| `{}` | {:.0e} | {} | {:.3} | {:.3} | {:.2} | {:.1} |",
            row.method,
            row.parameters as f64,
            row.bytes_per_parameter,
            row.step_s * 1e3,
            row.copy_s * 1e3,
            row.ratio,
            row.step_gb_s
        );
    }
    text.push('\n');
    text
}
