//! Step cost against the memory-bandwidth floor, and problem evaluation cost.
//!
//! For each method with `K` state values per element, `step` moves
//! `(3 + 2K) * 4` bytes per f32 parameter; `copy` copies a buffer of the same
//! total bytes (read plus written) with the same thread split. The
//! throughput ratio `copy / step` says how close the step is to memory speed.
//! `cargo xtask bench` prints the same ratios as a table.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array1;
use opt_bench::problems::build_problem;
use opt_bench::spec::Spec;
use opt_core::Objective;
use opt_first_order::kernel::parallel_copy;
use opt_first_order::{
    Adadelta, Adagrad, Adam, Adamax, Fista, Ista, Lamb, Lars, Method, Nadam, Optimizer, Radam,
    Rmsprop, Sgd,
};

fn bench_method<M: Method>(c: &mut Criterion, label: &str, config: M) {
    let per_element = config.state_per_element();
    let mut group = c.benchmark_group(format!("step_f32/{label}"));
    group.sample_size(20);
    for &n in &[1_000_000usize, 10_000_000] {
        let bytes = ((3 + 2 * per_element) * 4 * n) as u64;
        group.throughput(Throughput::Bytes(bytes));
        let mut optimizer = Optimizer::<M, f32>::new(config.clone()).expect("valid config");
        let mut params = vec![1.0f32; n];
        let grads = vec![1e-3f32; n];
        group.bench_with_input(BenchmarkId::new("step", n), &n, |b, _| {
            b.iter(|| {
                optimizer
                    .step_slices(&mut [&mut params], &[black_box(&grads)])
                    .expect("finite gradient")
            })
        });
        let source = vec![1.0f32; n * (3 + 2 * per_element) / 2];
        let mut target = vec![0.0f32; source.len()];
        group.bench_with_input(BenchmarkId::new("copy", n), &n, |b, _| {
            b.iter(|| parallel_copy(&mut target, black_box(&source)))
        });
    }
    group.finish();
}

fn steps(c: &mut Criterion) {
    bench_method(c, "sgd", Sgd::default());
    bench_method(
        c,
        "sgd_momentum",
        Sgd {
            momentum: 0.9,
            ..Sgd::default()
        },
    );
    bench_method(c, "adagrad", Adagrad::default());
    bench_method(c, "rmsprop", Rmsprop::default());
    bench_method(c, "adadelta", Adadelta::default());
    bench_method(c, "adam", Adam::default());
    bench_method(c, "adamw", Adam::adamw());
    bench_method(c, "adamax", Adamax::default());
    bench_method(c, "nadam", Nadam::default());
    bench_method(c, "radam", Radam::default());
    bench_method(c, "lars", Lars::default());
    bench_method(c, "lamb", Lamb::default());
    bench_method(c, "ista", Ista::default());
    bench_method(c, "fista", Fista::default());
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

criterion_group!(benches, steps, problem_gradients);
criterion_main!(benches);
