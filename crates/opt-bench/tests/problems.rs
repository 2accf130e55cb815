//! Behaviour of the problem registry across modules: derivatives against
//! central differences, finite-sum and least-squares consistency, known
//! values, loader and spec errors.

use std::path::PathBuf;

use ndarray::{Array1, Array2};
use opt_bench::{BenchError, Problem, Spec, build_problem};
use opt_core::gradient::check_gradient;
use opt_core::{FiniteSum, Objective, OptError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------- helpers

fn problem(text: &str) -> Problem {
    let spec = Spec::parse("problem", text).unwrap();
    build_problem(&spec).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn problem_error(text: &str) -> String {
    let spec = Spec::parse("problem", text).unwrap();
    build_problem(&spec).map(|_| ()).unwrap_err().to_string()
}

/// A file under the system temp directory, unique to this process and `name`.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("opt-bench-test-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

fn random_vector(rng: &mut StdRng, n: usize, scale: f64) -> Array1<f64> {
    Array1::from_shape_fn(n, |_| scale * rng.random_range(-1.0..1.0))
}

fn relative_error(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let difference = a - b;
    let scale = a.dot(a).sqrt().max(b.dot(b).sqrt()).max(1e-12);
    difference.dot(&difference).sqrt() / scale
}

fn gradient(p: &impl Objective<Vector = Array1<f64>>, x: &Array1<f64>) -> Array1<f64> {
    let mut grad = Array1::zeros(x.len());
    p.value_and_grad(x, &mut grad).unwrap();
    grad
}

/// The shared componentwise central-difference check
/// (`opt_core::gradient::check_gradient`): `||g - g_fd|| / max(||g||, ||g_fd||)`.
fn gradient_check(p: &impl Objective<Vector = Array1<f64>>, x: &Array1<f64>) -> f64 {
    check_gradient(p, x).unwrap().relative_error
}

/// Relative error of `g.v` against `(f(x + hv) - f(x - hv)) / 2h`: a gradient
/// check along one direction, for problems too large for the componentwise one.
fn directional_check(
    p: &impl Objective<Vector = Array1<f64>>,
    x: &Array1<f64>,
    v: &Array1<f64>,
) -> f64 {
    let h = f64::EPSILON.cbrt() * (1.0 + x.dot(x).sqrt()) / v.dot(v).sqrt();
    let numeric =
        (p.value(&(x + &(h * v))).unwrap() - p.value(&(x - &(h * v))).unwrap()) / (2.0 * h);
    let analytic = gradient(p, x).dot(v);
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-12)
}

/// Relative error of the analytic `H v` against `(g(x + hv) - g(x - hv)) / 2h`.
fn hvp_check(p: &impl Objective<Vector = Array1<f64>>, x: &Array1<f64>, v: &Array1<f64>) -> f64 {
    let h = f64::EPSILON.cbrt() * (1.0 + x.dot(x).sqrt()) / v.dot(v).sqrt();
    let numeric = (gradient(p, &(x + &(h * v))) - gradient(p, &(x - &(h * v)))) / (2.0 * h);
    let mut analytic = Array1::zeros(x.len());
    p.hvp(x, v, &mut analytic).unwrap();
    relative_error(&analytic, &numeric)
}

/// Start, a random point and a point far from the optimum.
fn test_points(p: &Problem, rng: &mut StdRng, far: f64) -> Vec<Array1<f64>> {
    let n = p.dim();
    vec![
        p.start(),
        random_vector(rng, n, 1.0),
        random_vector(rng, n, far),
    ]
}

/// Componentwise gradient check and Hessian-vector check at [`test_points`].
fn check_derivatives(p: &Problem, far: f64) {
    let mut rng = StdRng::seed_from_u64(42);
    for x in test_points(p, &mut rng, far) {
        let error = gradient_check(p, &x);
        assert!(
            error < 1e-6,
            "{}: gradient error {error:e} at {x}",
            p.name()
        );
        for _ in 0..2 {
            let v = random_vector(&mut rng, p.dim(), 1.0);
            let error = hvp_check(p, &x, &v);
            assert!(error < 1e-6, "{}: Hessian-vector error {error:e}", p.name());
        }
    }
}

/// Synthetic data: `n` rows of `d` features in [-2, 2] and a last column
/// made by `label` from the row.
fn synthetic_csv(
    rng: &mut StdRng,
    n: usize,
    d: usize,
    label: impl Fn(&[f64], f64) -> f64,
) -> String {
    let mut text = String::new();
    for _ in 0..n {
        let row: Vec<f64> = (0..d).map(|_| rng.random_range(-2.0..2.0)).collect();
        let y = label(&row, rng.random_range(0.0..1.0));
        let fields: Vec<String> = row.iter().chain([y].iter()).map(f64::to_string).collect();
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    text
}

/// A logistic problem on synthetic 0/1 labels (noisy, so not separable).
fn synthetic_logistic(l2: f64) -> Problem {
    let mut rng = StdRng::seed_from_u64(1);
    let csv = synthetic_csv(&mut rng, 40, 5, |row, u| {
        if row[0] - row[1] + 0.5 > 2.0 * u - 1.0 {
            1.0
        } else {
            0.0
        }
    });
    let path = temp_file(&format!("logistic-{l2}.csv"), &csv);
    problem(&format!("logistic:file={},l2={l2}", path.display()))
}

fn synthetic_lstsq(l2: f64) -> Problem {
    let mut rng = StdRng::seed_from_u64(2);
    let csv = synthetic_csv(&mut rng, 30, 4, |row, u| row[0] - 2.0 * row[2] + 0.1 * u);
    let path = temp_file(&format!("lstsq-{l2}.csv"), &csv);
    problem(&format!("lstsq:file={},l2={l2}", path.display()))
}

fn synthetic_softmax(l2: f64) -> Problem {
    let mut rng = StdRng::seed_from_u64(3);
    let csv = synthetic_csv(&mut rng, 30, 4, |row, u| {
        ((row[0] + row[1] + 4.0 + u) as usize % 3) as f64
    });
    let path = temp_file(&format!("softmax-{l2}.csv"), &csv);
    problem(&format!("softmax:file={},l2={l2}", path.display()))
}

fn synthetic_quadratic() -> Problem {
    // A = M'M + I (symmetric positive definite), written with full precision.
    let mut rng = StdRng::seed_from_u64(4);
    let m = Array2::from_shape_fn((5, 5), |_| rng.random_range(-1.0..1.0));
    let a = m.t().dot(&m) + Array2::<f64>::eye(5);
    let a = (&a + &a.t()) / 2.0;
    let rows: Vec<String> = a
        .rows()
        .into_iter()
        .map(|r| {
            format!(
                "[{}]",
                r.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    let json = format!(
        r#"{{"A": [{}], "b": [1, -2, 3, 0.5, 0], "x0": [1, 1, 1, 1, 1]}}"#,
        rows.join(", ")
    );
    let path = temp_file("quadratic.json", &json);
    problem(&format!("quadratic:file={}", path.display()))
}

// ------------------------------------------------------------ derivatives

#[test]
fn rosenbrock_derivatives() {
    check_derivatives(&problem("rosenbrock"), 3.0);
    check_derivatives(&problem("rosenbrock:dim=7"), 3.0);
}

#[test]
fn quadratic_derivatives() {
    check_derivatives(&synthetic_quadratic(), 100.0);
}

#[test]
fn logistic_derivatives() {
    check_derivatives(&problem("logistic:data=breast-cancer,l2=1e-3"), 10.0);
    check_derivatives(&synthetic_logistic(0.0), 10.0);
    check_derivatives(&synthetic_logistic(0.5), 10.0);
}

#[test]
fn logistic_derivatives_on_the_synthetic_data() {
    // The componentwise check costs 2d + 1 evaluations: on 500 of the rows
    // (the whole data set is 50000 x 100, slow in a debug build), then
    // along two random directions on the whole problem.
    let mut rng = StdRng::seed_from_u64(7);
    let (features, labels) = opt_bench::synthetic::synthetic();
    let rows = ndarray::Slice::from(..500);
    let subsample = opt_bench::Logistic::new(
        features.slice_axis(ndarray::Axis(0), rows).to_owned(),
        labels.slice_axis(ndarray::Axis(0), rows).to_owned(),
        1e-4,
    )
    .unwrap();
    for scale in [1.0, 5.0] {
        let x = random_vector(&mut rng, 100, scale);
        let error = gradient_check(&subsample, &x);
        assert!(error < 1e-6, "gradient error {error:e}");
    }
    let p = problem("logistic:data=synthetic,l2=1e-4");
    assert_eq!(p.name(), "logistic:data=synthetic,l2=0.0001");
    assert_eq!((p.dim(), FiniteSum::num_samples(&p)), (100, 50_000));
    assert!((p.value(&p.start()).unwrap() - std::f64::consts::LN_2).abs() < 1e-15);
    let x = random_vector(&mut rng, 100, 1.0);
    for _ in 0..2 {
        let v = random_vector(&mut rng, 100, 1.0);
        let error = directional_check(&p, &x, &v);
        assert!(error < 1e-7, "directional error {error:e}");
    }
}

#[test]
fn lstsq_derivatives() {
    check_derivatives(&synthetic_lstsq(0.0), 100.0);
    check_derivatives(&synthetic_lstsq(0.25), 100.0);
}

#[test]
fn softmax_derivatives_on_synthetic_data() {
    check_derivatives(&synthetic_softmax(0.0), 10.0);
    check_derivatives(&synthetic_softmax(0.1), 10.0);
}

#[test]
fn softmax_derivatives_on_digits_along_random_directions() {
    let p = problem("softmax:data=digits,l2=1e-4");
    assert_eq!(p.dim(), 640);
    let mut rng = StdRng::seed_from_u64(5);
    for x in test_points(&p, &mut rng, 3.0) {
        for _ in 0..3 {
            let v = random_vector(&mut rng, p.dim(), 1.0);
            let error = directional_check(&p, &x, &v);
            assert!(error < 1e-6, "directional derivative error {error:e}");
            let error = hvp_check(&p, &x, &v);
            assert!(error < 1e-6, "Hessian-vector error {error:e}");
        }
    }
}

// ----------------------------------------------------------- finite sums

/// The mean of the single-sample gradients is the full gradient; a batch
/// with a repeated index counts it twice; bad batches are errors.
fn check_finite_sum(p: &Problem, x: &Array1<f64>) {
    let n = p.num_samples();
    let mut full = Array1::zeros(p.dim());
    let f = p.value_and_grad(x, &mut full).unwrap();
    let mut single = Array1::zeros(p.dim());
    let mut sum = Array1::<f64>::zeros(p.dim());
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        values.push(p.batch_value_and_grad(x, &[i], &mut single).unwrap());
        sum += &single;
    }
    let mean_value = values.iter().sum::<f64>() / n as f64;
    assert!(
        (mean_value - f).abs() <= 1e-12 * f.abs().max(1.0),
        "{}: {mean_value} vs {f}",
        p.name()
    );
    assert!(
        relative_error(&(sum / n as f64), &full) < 1e-12,
        "{}",
        p.name()
    );

    // A batch with a repeat is the weighted mean of its distinct samples.
    let (i, j) = (0, n - 1);
    let mut g_i = Array1::zeros(p.dim());
    let mut g_j = Array1::zeros(p.dim());
    let f_i = p.batch_value_and_grad(x, &[i], &mut g_i).unwrap();
    let f_j = p.batch_value_and_grad(x, &[j], &mut g_j).unwrap();
    let mut batch = Array1::zeros(p.dim());
    let f_batch = p.batch_value_and_grad(x, &[i, j, i], &mut batch).unwrap();
    assert!((f_batch - (2.0 * f_i + f_j) / 3.0).abs() <= 1e-12 * f_batch.abs().max(1.0));
    assert!(relative_error(&batch, &((2.0 * g_i + g_j) / 3.0)) < 1e-12);

    assert!(matches!(
        p.batch_value_and_grad(x, &[0, n], &mut batch),
        Err(OptError::IndexOutOfRange { index, len }) if index == n && len == n
    ));
    assert!(p.batch_value_and_grad(x, &[], &mut batch).is_err());
    let mut short = Array1::zeros(p.dim() + 1);
    assert!(p.batch_value_and_grad(x, &[0], &mut short).is_err());
}

#[test]
fn finite_sums_are_means_of_their_samples() {
    let mut rng = StdRng::seed_from_u64(6);
    for p in [
        problem("logistic:data=breast-cancer,l2=1e-3"),
        synthetic_logistic(0.1),
        synthetic_lstsq(0.1),
        synthetic_softmax(0.1),
        problem("softmax:data=digits,l2=1e-3"),
    ] {
        let x = random_vector(&mut rng, p.dim(), 0.5);
        check_finite_sum(&p, &x);
    }
}

#[test]
fn deterministic_problems_are_one_term_finite_sums() {
    for p in [problem("rosenbrock:dim=3"), synthetic_quadratic()] {
        assert_eq!(p.num_samples(), 1);
        assert!(p.lipschitz_constants().is_none());
        assert!(p.generalized_linear().is_none());
        let x = Array1::from_shape_fn(p.dim(), |i| 0.3 * i as f64 - 0.5);
        let mut full = Array1::zeros(p.dim());
        let f = p.value_and_grad(&x, &mut full).unwrap();
        let mut batch = Array1::zeros(p.dim());
        assert_eq!(p.batch_value_and_grad(&x, &[0, 0], &mut batch).unwrap(), f);
        assert_eq!(batch, full);
        assert!(matches!(
            p.batch_value_and_grad(&x, &[1], &mut batch),
            Err(OptError::IndexOutOfRange { index: 1, len: 1 })
        ));
    }
}

#[test]
fn generalized_linear_forms_and_lipschitz_constants_match_the_samples() {
    let mut rng = StdRng::seed_from_u64(7);
    for p in [synthetic_logistic(0.2), synthetic_lstsq(0.2)] {
        let linear = p.generalized_linear().expect("generalized linear");
        let lipschitz = p.lipschitz_constants().expect("Lipschitz constants");
        assert_eq!(linear.num_samples(), p.num_samples());
        assert_eq!(lipschitz.len(), p.num_samples());
        let x = random_vector(&mut rng, p.dim(), 1.0);
        let y = random_vector(&mut rng, p.dim(), 1.0);
        let mut g_x = Array1::zeros(p.dim());
        let mut g_y = Array1::zeros(p.dim());
        for i in [0, 7, p.num_samples() - 1] {
            let a_i = linear.features(i);
            let margin = a_i.dot(&x);
            let expected = linear.loss_derivative(i, margin) * &a_i + linear.l2() * &x;
            let f_i = p.batch_value_and_grad(&x, &[i], &mut g_x).unwrap();
            assert!(relative_error(&g_x, &expected) < 1e-12, "{}", p.name());
            let expected_value = linear.loss(i, margin) + 0.5 * linear.l2() * x.dot(&x);
            assert!((f_i - expected_value).abs() < 1e-12 * f_i.abs().max(1.0));
            // grad f_i is L_i-Lipschitz.
            p.batch_value_and_grad(&y, &[i], &mut g_y).unwrap();
            let (dg, dx) = (&g_x - &g_y, &x - &y);
            assert!(dg.dot(&dg).sqrt() <= lipschitz[i] * dx.dot(&dx).sqrt() * (1.0 + 1e-12));
        }
    }
    // Breast cancer, first row: L_0 = ||a_0||^2 / 4 + l2.
    let p = problem("logistic:data=breast-cancer,l2=0.5");
    let a_0 = p.generalized_linear().unwrap().features(0).to_owned();
    assert!((p.lipschitz_constants().unwrap()[0] - (a_0.dot(&a_0) / 4.0 + 0.5)).abs() < 1e-12);
    // Softmax: L_i = ||a_i||^2 / 2 + l2, no generalized-linear form.
    let p = synthetic_softmax(0.0);
    assert!(p.generalized_linear().is_none());
    assert_eq!(p.lipschitz_constants().unwrap().len(), p.num_samples());
}

// ---------------------------------------------------------- least squares

#[test]
fn lstsq_residuals_and_jacobian_agree_with_the_objective() {
    let mut rng = StdRng::seed_from_u64(8);
    for (l2, extra_rows) in [(0.0, 0), (0.3, 4)] {
        let p = synthetic_lstsq(l2);
        let ls = p
            .as_least_squares()
            .expect("lstsq is a least-squares problem");
        assert_eq!(ls.num_parameters(), p.dim());
        assert_eq!(ls.num_residuals(), p.num_samples() + extra_rows);
        assert_eq!(ls.value_scale(), 0.5);
        let x = random_vector(&mut rng, p.dim(), 2.0);
        let mut r = Array1::zeros(ls.num_residuals());
        ls.residuals(&x, &mut r).unwrap();
        let mut grad = Array1::zeros(p.dim());
        let f = p.value_and_grad(&x, &mut grad).unwrap();
        assert!(
            (0.5 * r.dot(&r) - f).abs() < 1e-13 * f.abs(),
            "0.5 ||r||^2 != f"
        );
        let mut jtr = Array1::zeros(p.dim());
        ls.jtvp(&x, &r, &mut jtr).unwrap();
        assert!(relative_error(&jtr, &grad) < 1e-13, "J'r != grad f");

        let mut jacobian = Array2::zeros((ls.num_residuals(), ls.num_parameters()));
        ls.jacobian(&x, &mut jacobian).unwrap();
        assert!(relative_error(&jacobian.t().dot(&r), &grad) < 1e-13);
        let v = random_vector(&mut rng, p.dim(), 1.0);
        let mut jv = Array1::zeros(ls.num_residuals());
        ls.jvp(&x, &v, &mut jv).unwrap();
        assert!(relative_error(&jv, &jacobian.dot(&v)) < 1e-14);
        // Residuals are affine: r(x + v) - r(x) = J v.
        let mut r_shifted = Array1::zeros(ls.num_residuals());
        ls.residuals(&(&x + &v), &mut r_shifted).unwrap();
        assert!(relative_error(&(r_shifted - &r), &jv) < 1e-12);
    }
    assert!(problem("rosenbrock").as_least_squares().is_none());
}

// ------------------------------------------------------------ known values

#[test]
fn rosenbrock_known_values() {
    let p = problem("rosenbrock");
    assert_eq!(p.start(), ndarray::array![-1.2, 1.0]);
    assert!((p.value(&p.start()).unwrap() - 24.2).abs() < 1e-12);
    let p = problem("rosenbrock:dim=5");
    assert_eq!(p.start(), ndarray::array![-1.2, 1.0, -1.2, 1.0, -1.2]);
    let ones = Array1::ones(5);
    let mut grad = Array1::from_elem(5, f64::NAN);
    assert_eq!(p.value_and_grad(&ones, &mut grad).unwrap(), 0.0);
    assert_eq!(grad, Array1::<f64>::zeros(5));
}

#[test]
fn logistic_breast_cancer_at_zero_is_ln_2() {
    let p = problem("logistic:data=breast-cancer,l2=1e-3");
    assert_eq!(p.name(), "logistic:data=breast-cancer,l2=0.001");
    assert_eq!((p.dim(), p.num_samples()), (30, 569));
    assert_eq!(p.start(), Array1::<f64>::zeros(30));
    let f = p.value(&p.start()).unwrap();
    assert!((f - std::f64::consts::LN_2).abs() < 1e-15, "{f}");
}

#[test]
fn softmax_digits_at_zero_is_ln_10() {
    let p = problem("softmax:data=digits");
    assert_eq!(p.name(), "softmax:data=digits,l2=0");
    assert_eq!((p.dim(), p.num_samples()), (640, 1797));
    let f = p.value(&p.start()).unwrap();
    assert!((f - std::f64::consts::LN_10).abs() < 1e-14, "{f}");
    let Problem::Softmax(softmax) = &p else {
        panic!("not softmax")
    };
    assert_eq!(softmax.num_classes(), 10);
    assert!(softmax.features().iter().all(|&v| (0.0..=1.0).contains(&v)));
}

#[test]
fn quadratic_minimizer_solves_a_x_equals_b() {
    // f = 0.5 x'Ax - b'x with A = [[2, 1], [1, 3]], b = [1, 2]: x* = [0.2, 0.6].
    let path = temp_file(
        "quadratic-known.json",
        r#"{"A": [[2, 1], [1, 3]], "b": [1, 2]}"#,
    );
    let p = problem(&format!("quadratic:file={}", path.display()));
    assert_eq!(p.name(), format!("quadratic:file={}", path.display()));
    assert_eq!(p.start(), Array1::<f64>::zeros(2));
    let x = ndarray::array![0.2, 0.6];
    let mut grad = Array1::zeros(2);
    let f = p.value_and_grad(&x, &mut grad).unwrap();
    assert!(grad.iter().all(|g| g.abs() < 1e-15));
    assert!((f - (-0.5 * (0.2 + 1.2))).abs() < 1e-15);
    let mut hv = Array1::zeros(2);
    p.hvp(&x, &ndarray::array![1.0, -1.0], &mut hv).unwrap();
    assert_eq!(hv, ndarray::array![1.0, -2.0]);
}

#[test]
fn every_problem_reports_shape_mismatches() {
    for p in [
        problem("rosenbrock"),
        synthetic_quadratic(),
        synthetic_logistic(0.0),
        synthetic_lstsq(0.0),
        synthetic_softmax(0.0),
    ] {
        let n = p.dim();
        assert_eq!(p.start().len(), n);
        let wrong = Array1::zeros(n + 1);
        let mut grad = Array1::zeros(n);
        assert!(
            matches!(p.value(&wrong), Err(OptError::ShapeMismatch { .. })),
            "{}",
            p.name()
        );
        assert!(p.value_and_grad(&wrong, &mut grad).is_err());
        assert!(
            p.value_and_grad(&p.start(), &mut Array1::zeros(n - 1))
                .is_err()
        );
        assert!(p.hvp(&p.start(), &wrong, &mut grad).is_err());
    }
}

// ---------------------------------------------------------------- loaders

#[test]
fn malformed_csv_files_name_file_line_and_problem() {
    let cases = [
        ("empty", "", 1, "empty file"),
        (
            "ragged",
            "1,2,1\n3,4,-1\n5,-1\n",
            3,
            "expected 3 fields, found 2",
        ),
        (
            "text",
            "1,2,1\n3,abc,-1\n",
            2,
            "column 2: `abc` is not a number",
        ),
        (
            "nan",
            "1,2,1\n3,4,1\nnan,4,1\n",
            3,
            "column 1: `nan` is not finite",
        ),
        ("one-column", "1\n-1\n", 1, "at least 2 fields"),
        ("bad-label", "1,2,1\n3,4,-1\n3,4,2\n", 3, "label 2"),
        ("mixed-labels", "1,2,1\n3,4,0\n3,4,-1\n", 3, "mixes"),
    ];
    for (name, contents, line, what) in cases {
        let path = temp_file(&format!("bad-{name}.csv"), contents);
        let message = problem_error(&format!("logistic:file={}", path.display()));
        let prefix = format!("logistic: {} line {line}: ", path.display());
        assert!(message.starts_with(&prefix), "{name}: {message}");
        assert!(message.contains(what), "{name}: {message}");
        assert!(!message.contains('\n'), "{name}: one line");
    }
    let path = temp_file("bad-target.csv", "1,2\n3,x\n");
    let message = problem_error(&format!("lstsq:file={}", path.display()));
    assert!(
        message.starts_with(&format!("lstsq: {} line 2: ", path.display())),
        "{message}"
    );
    let path = temp_file("bad-class.csv", "1,2\n3,0.5\n");
    let message = problem_error(&format!("softmax:file={}", path.display()));
    assert!(
        message.starts_with(&format!("softmax: {} line 2: ", path.display())),
        "{message}"
    );
}

#[test]
fn zero_one_labels_are_mapped_to_plus_minus_one() {
    let path = temp_file("zero-one.csv", "1,0,0\n0,1,1\n");
    let Problem::Logistic(p) = problem(&format!("logistic:file={}", path.display())) else {
        panic!("not logistic")
    };
    assert_eq!(p.labels(), &ndarray::array![-1.0, 1.0]);
}

#[test]
fn missing_files_are_io_errors_naming_the_file() {
    let spec = Spec::parse("problem", "lstsq:file=/nonexistent/opt-bench/x.csv").unwrap();
    let error = build_problem(&spec).unwrap_err();
    assert!(matches!(error, BenchError::Io { .. }));
    assert!(
        error
            .to_string()
            .starts_with("cannot read /nonexistent/opt-bench/x.csv: ")
    );
}

#[test]
fn malformed_quadratic_files_are_errors() {
    let cases = [
        (
            "malformed",
            "{\"A\": [[1, 0],\n[0, 1]],\n\"b\": [1, 2,]}",
            "line 3: malformed JSON",
        ),
        (
            "asymmetric",
            r#"{"A": [[1, 0], [1e-3, 1]], "b": [1, 2]}"#,
            "A is not symmetric",
        ),
        (
            "short-b",
            r#"{"A": [[1, 0], [0, 1]], "b": [1]}"#,
            "b has length 1, expected 2",
        ),
        (
            "long-x0",
            r#"{"A": [[1, 0], [0, 1]], "b": [1, 2], "x0": [1, 2, 3]}"#,
            "x0 has length 3",
        ),
        (
            "not-square",
            r#"{"A": [[1, 0, 0], [0, 1, 0]], "b": [1, 2]}"#,
            "must be square",
        ),
    ];
    for (name, contents, what) in cases {
        let path = temp_file(&format!("bad-{name}.json"), contents);
        let message = problem_error(&format!("quadratic:file={}", path.display()));
        assert!(
            message.starts_with(&format!("quadratic: {}", path.display())),
            "{name}: {message}"
        );
        assert!(message.contains(what), "{name}: {message}");
        assert!(!message.contains('\n'), "{name}: one line");
    }
}

// --------------------------------------------------------------- registry

#[test]
fn canonical_names_write_out_the_defaults() {
    assert_eq!(problem("rosenbrock").name(), "rosenbrock:dim=2");
    assert_eq!(problem(" rosenbrock : dim = 6 ").name(), "rosenbrock:dim=6");
    assert_eq!(
        problem("logistic:data=breast-cancer").name(),
        "logistic:data=breast-cancer,l2=0"
    );
    let p = synthetic_lstsq(0.25);
    assert!(
        p.name().starts_with("lstsq:file=") && p.name().ends_with(",l2=0.25"),
        "{}",
        p.name()
    );
    // A canonical name builds the same problem again.
    let again = problem(p.name());
    assert_eq!(again, p);
}

#[test]
fn registry_errors_say_what_is_valid() {
    assert_eq!(
        problem_error("nope"),
        "unknown problem `nope`; valid: rosenbrock, quadratic, logistic, lstsq, softmax, mgh, nist"
    );
    assert_eq!(
        problem_error("rosenbrock:size=3"),
        "unknown argument `size` for problem `rosenbrock`; valid: dim"
    );
    assert!(
        problem_error("rosenbrock:dim=1")
            .contains("invalid value `1` for `dim` of problem `rosenbrock`")
    );
    assert!(problem_error("rosenbrock:dim=two").contains("`two`"));
    assert!(problem_error("rosenbrock:extra").contains("takes no positional argument"));
    assert!(problem_error("quadratic").contains("needs `file=PATH`"));
    assert!(problem_error("lstsq:l2=1").contains("needs `file=PATH`"));
    assert!(problem_error("logistic").contains("exactly one of `file=PATH` and `data=NAME`"));
    assert!(problem_error("logistic:file=x.csv,data=breast-cancer").contains("exactly one of"));
    assert_eq!(
        problem_error("logistic:data=iris"),
        "unknown data set `iris`; valid: breast-cancer, synthetic"
    );
    assert_eq!(
        problem_error("softmax:data=mnist"),
        "unknown data set `mnist`; valid: digits"
    );
    assert!(
        problem_error("logistic:data=breast-cancer,l2=-1").contains("invalid value `-1` for `l2`")
    );
    assert!(problem_error("softmax:data=digits,l2=nan").contains("not a finite number"));
    assert!(problem_error("logistic:data=breast-cancer,lr=1").contains("valid: file, data, l2"));
}

#[test]
fn problems_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Problem>();
}
