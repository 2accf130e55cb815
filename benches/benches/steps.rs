//! Step cost against the memory-bandwidth floor, and problem evaluation cost.
//!
//! `gd step` reads x and g and writes x (12 bytes per f32 parameter); the
//! reference `copy` reads one buffer and writes another of the same total
//! size, so `time(gd step) / time(copy)` near 1 means the step runs at
//! memory speed.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array1;
use opt_bench::problems::build_problem;
use opt_bench::spec::Spec;
use opt_core::{Objective, Stepper};
use opt_first_order::GradientDescent;

fn gd_step_against_copy(c: &mut Criterion) {
    let mut group = c.benchmark_group("gd_step_f32");
    for &n in &[1usize << 16, 1 << 22] {
        let bytes = (3 * n * std::mem::size_of::<f32>()) as u64;
        group.throughput(Throughput::Bytes(bytes));
        let mut params = Array1::<f32>::from_elem(n, 1.0);
        let grad = Array1::<f32>::from_elem(n, 1e-3);
        let mut gd = GradientDescent::new(1e-3).expect("valid lr");
        group.bench_with_input(BenchmarkId::new("gd step", n), &n, |b, _| {
            b.iter(|| {
                gd.step(black_box(&mut params), black_box(&grad))
                    .expect("finite")
            })
        });
        // Same bytes moved: read 1.5 n floats, write 1.5 n floats.
        let source = vec![1.0f32; 3 * n / 2];
        let mut target = vec![0.0f32; 3 * n / 2];
        group.bench_with_input(BenchmarkId::new("copy", n), &n, |b, _| {
            b.iter(|| target.copy_from_slice(black_box(&source)))
        });
    }
    group.finish();
}

fn problem_gradients(c: &mut Criterion) {
    let mut group = c.benchmark_group("value_and_grad");
    for spec in [
        "logistic:data=breast-cancer,l2=0.001",
        "softmax:data=digits,l2=0.001",
        "rosenbrock:dim=1000",
    ] {
        let problem = build_problem(&Spec::parse("problem", spec).expect("spec")).expect("problem");
        let x = problem.start();
        let mut grad = Array1::zeros(x.len());
        group.bench_function(spec, |b| {
            b.iter(|| {
                problem
                    .value_and_grad(black_box(&x), &mut grad)
                    .expect("evaluates")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, gd_step_against_copy, problem_gradients);
criterion_main!(benches);
