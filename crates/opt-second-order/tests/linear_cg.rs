//! Linear CG and Jacobi-preconditioned CG on dense operators and on
//! Hessians: convergence within `n` iterations on a well-conditioned
//! system, the gain of Jacobi preconditioning on a badly scaled one,
//! negative curvature, and bad input.

use ndarray::{Array1, Array2, array};
use opt_core::{Counted, OptError};
use opt_second_order::linear_cg::{
    CgOptions, CgStop, CgWorkspace, DenseOperator, HessianOperator, Jacobi, LinearOperator,
    conjugate_gradient,
};
use opt_second_order::testing::{DenseQuadratic, Rosenbrock};

/// `S C S` with `S = diag(s_i)`, `s_i = 10^(3 i / (n - 1))` (so the diagonal
/// runs from 1 to 1e6) and `C` tridiagonal with 1 on the diagonal and 0.25
/// beside it: strictly diagonally dominant (off-diagonal row sums at most
/// `0.25 (s_{i-1} + s_{i+1}) / s_i < 0.6` of the diagonal), condition number
/// of order 1e6, while the Jacobi-scaled matrix is `C` with condition < 3.
fn badly_scaled(n: usize) -> Array2<f64> {
    let scale = Array1::from_shape_fn(n, |i| 10f64.powf(3.0 * i as f64 / (n - 1) as f64));
    Array2::from_shape_fn((n, n), |(i, j)| {
        let c = if i == j {
            1.0
        } else if i.abs_diff(j) == 1 {
            0.25
        } else {
            0.0
        };
        scale[i] * c * scale[j]
    })
}

fn residual_norm(a: &Array2<f64>, x: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let r = b - &a.dot(x);
    r.dot(&r).sqrt()
}

#[test]
fn cg_converges_within_n_iterations_on_a_well_conditioned_quadratic() {
    let n = 20;
    for seed in [1, 2, 3] {
        let q = DenseQuadratic::with_condition(n, 10.0, seed);
        let a = q.matrix();
        let b = q.rhs();
        let mut x = Array1::zeros(n);
        let outcome = conjugate_gradient(
            &DenseOperator::new(a).unwrap(),
            b,
            &mut x,
            &CgOptions::with_tolerance(1e-10),
        )
        .unwrap();
        assert_eq!(outcome.stop, CgStop::Converged);
        assert!(outcome.iterations <= n);
        let b_norm = b.dot(b).sqrt();
        // The true residual, not only the recursive one.
        assert!(residual_norm(a, &x, b) <= 1e-10 * b_norm * 1.01);
        let exact = q.minimizer().unwrap();
        assert!(x.iter().zip(&exact).all(|(u, v)| (u - v).abs() < 1e-9));
    }
}

#[test]
fn jacobi_preconditioning_pays_on_a_badly_scaled_matrix() {
    let n = 50;
    let a = badly_scaled(n);
    let b = Array1::from_shape_fn(n, |i| 1.0 + (i % 3) as f64);
    let operator = DenseOperator::new(&a).unwrap();
    let jacobi = Jacobi::from_matrix(&a).unwrap();
    let mut plain_x = Array1::zeros(n);
    let plain = conjugate_gradient(
        &operator,
        &b,
        &mut plain_x,
        &CgOptions {
            tolerance: 1e-10,
            max_iterations: Some(20 * n),
            preconditioner: None,
        },
    )
    .unwrap();
    let mut pcg_x = Array1::zeros(n);
    let pcg = conjugate_gradient(
        &operator,
        &b,
        &mut pcg_x,
        &CgOptions {
            tolerance: 1e-10,
            max_iterations: Some(20 * n),
            preconditioner: Some(&jacobi),
        },
    )
    .unwrap();
    // Measured: plain CG 295 iterations (rounding destroys the finite
    // termination in n = 50 at condition ~1e6), Jacobi PCG 19. The scaled
    // matrix C has eigenvalues 1 + 0.5 cos(k pi / (n + 1)) in (0.5, 1.5), so
    // kappa < 3 and the CG bound 2 ((sqrt k - 1)/(sqrt k + 1))^j < 2 (0.268)^j
    // reaches 1e-10 near j = 18.
    assert!(plain.converged && pcg.converged, "{plain:?} {pcg:?}");
    assert!(pcg.iterations <= 25, "{pcg:?}");
    assert!(plain.iterations > n, "{plain:?}");
    assert!(plain.iterations >= 10 * pcg.iterations, "{plain:?} {pcg:?}");
    let b_norm = b.dot(&b).sqrt();
    for x in [&plain_x, &pcg_x] {
        assert!(residual_norm(&a, x, &b) <= 1.01e-10 * b_norm);
    }
}

#[test]
fn negative_curvature_in_the_first_direction_leaves_x_unchanged() {
    let a = Array2::from_diag(&array![1.0, -1.0, 2.0]);
    let b = array![0.0, 1.0, 0.0];
    let mut workspace = CgWorkspace::new();
    let mut x = Array1::zeros(3);
    let outcome = workspace
        .solve(
            &DenseOperator::new(&a).unwrap(),
            &b,
            &mut x,
            &CgOptions::default(),
        )
        .unwrap();
    assert_eq!(outcome.stop, CgStop::NegativeCurvature);
    assert_eq!(outcome.iterations, 0);
    assert!(!outcome.converged);
    assert_eq!(x, Array1::<f64>::zeros(3));
    assert_eq!(workspace.last_direction(), Some(&b));
}

#[test]
fn negative_curvature_found_later_returns_the_last_iterate() {
    // A = diag(1, -1), b = (1, 0.1): p_0 = b has p'Ap = 0.99 > 0, so
    // x_1 = (1.01 / 0.99) b; the next direction has negative curvature.
    let a = Array2::from_diag(&array![1.0, -1.0]);
    let b = array![1.0, 0.1];
    let mut workspace = CgWorkspace::new();
    let mut x = Array1::zeros(2);
    let outcome = workspace
        .solve(
            &DenseOperator::new(&a).unwrap(),
            &b,
            &mut x,
            &CgOptions::default(),
        )
        .unwrap();
    assert_eq!(
        (outcome.stop, outcome.iterations),
        (CgStop::NegativeCurvature, 1)
    );
    let x1 = &b * (1.01 / 0.99);
    assert!(
        x.iter()
            .zip(&x1)
            .all(|(u, v): (&f64, &f64)| (u - v).abs() < 1e-15),
        "{x}"
    );
    let p = workspace.last_direction().unwrap();
    assert!(p.dot(&a.dot(p)) <= 0.0);
}

#[test]
fn hessian_operator_solves_the_newton_system_with_counted_products() {
    // Rosenbrock at (-1.2, 1): H = [[1330, 480], [480, 200]] (positive
    // definite), so CG from zero solves H p = -g in two products.
    let problem = Counted::new(Rosenbrock { dim: 2 });
    let x = array![-1.2, 1.0];
    let mut g = Array1::zeros(2);
    opt_core::Objective::value_and_grad(&problem, &x, &mut g).unwrap();
    problem.reset();
    let operator = HessianOperator::new(&problem, &x).unwrap();
    assert_eq!(operator.dim(), 2);
    let mut p = Array1::zeros(2);
    let minus_g = -&g;
    let outcome = conjugate_gradient(
        &operator,
        &minus_g,
        &mut p,
        &CgOptions::with_tolerance(1e-12),
    )
    .unwrap();
    assert_eq!((outcome.stop, outcome.iterations), (CgStop::Converged, 2));
    assert_eq!(problem.evals().hvp, 2);
    let h = array![[1330.0, 480.0], [480.0, 200.0]];
    let residual = &h.dot(&p) + &g;
    assert!(residual.iter().all(|r| r.abs() < 1e-9), "{residual}");
}

#[test]
fn a_workspace_is_reused_and_gives_the_fresh_result() {
    let q = DenseQuadratic::with_condition(12, 100.0, 7);
    let operator = DenseOperator::new(q.matrix()).unwrap();
    let options = CgOptions::with_tolerance(1e-12);
    let mut fresh = Array1::zeros(12);
    let expected = conjugate_gradient(&operator, q.rhs(), &mut fresh, &options).unwrap();
    let mut workspace = CgWorkspace::for_vector(q.rhs());
    for _ in 0..3 {
        let mut x = Array1::zeros(12);
        let outcome = workspace
            .solve(&operator, q.rhs(), &mut x, &options)
            .unwrap();
        assert_eq!(outcome, expected);
        assert_eq!(x, fresh);
    }
    // A system of another size re-makes the buffers.
    let small = array![[2.0, 0.0], [0.0, 4.0]];
    let mut x = Array1::zeros(2);
    workspace
        .solve(
            &DenseOperator::new(&small).unwrap(),
            &array![2.0, 2.0],
            &mut x,
            &options,
        )
        .unwrap();
    assert!(
        (x[0] - 1.0).abs() < 1e-15 && (x[1] - 0.5).abs() < 1e-15,
        "{x}"
    );
}

#[test]
fn a_warm_start_is_used() {
    let q = DenseQuadratic::with_condition(8, 10.0, 4);
    let operator = DenseOperator::new(q.matrix()).unwrap();
    let mut x = q.minimizer().unwrap();
    let outcome =
        conjugate_gradient(&operator, q.rhs(), &mut x, &CgOptions::with_tolerance(1e-8)).unwrap();
    assert_eq!((outcome.iterations, outcome.stop), (0, CgStop::Converged));
}

#[test]
fn works_in_f32() {
    let q = DenseQuadratic::with_condition(10, 10.0, 5);
    let a = q.matrix().mapv(|v| v as f32);
    let b = q.rhs().mapv(|v| v as f32);
    let mut x = Array1::<f32>::zeros(10);
    let outcome = conjugate_gradient(
        &DenseOperator::new(&a).unwrap(),
        &b,
        &mut x,
        &CgOptions::with_tolerance(1e-5),
    )
    .unwrap();
    assert!(outcome.converged, "{outcome:?}");
    let exact = q.minimizer().unwrap();
    assert!(
        x.iter()
            .zip(&exact)
            .all(|(&u, v)| (f64::from(u) - v).abs() < 1e-4)
    );
}

fn shape<T>(result: Result<T, OptError>) -> bool {
    matches!(result, Err(OptError::ShapeMismatch { .. }))
}

fn invalid<T>(result: Result<T, OptError>, expected: &str) -> bool {
    matches!(result, Err(OptError::InvalidHyperparameter { name, .. }) if name == expected)
}

#[test]
fn bad_input_is_an_error() {
    let a = array![[2.0, 0.0], [0.0, 1.0]];
    let operator = DenseOperator::new(&a).unwrap();
    let b = array![1.0, 1.0];
    let options = CgOptions::default();

    assert!(shape(DenseOperator::new(&Array2::<f64>::zeros((2, 3)))));
    assert!(shape(conjugate_gradient(
        &operator,
        &array![1.0],
        &mut Array1::zeros(2),
        &options
    )));
    assert!(shape(conjugate_gradient(
        &operator,
        &b,
        &mut Array1::zeros(3),
        &options
    )));
    let mut out = Array1::zeros(3);
    assert!(shape(operator.apply(&b, &mut out)));
    let jacobi3 = Jacobi::from_diagonal(&array![1.0, 1.0, 1.0]).unwrap();
    let with_wrong_preconditioner = CgOptions {
        preconditioner: Some(&jacobi3),
        ..CgOptions::default()
    };
    assert!(shape(conjugate_gradient(
        &operator,
        &b,
        &mut Array1::zeros(2),
        &with_wrong_preconditioner
    )));
    let rosenbrock = Rosenbrock { dim: 2 };
    assert!(shape(HessianOperator::new(
        &rosenbrock,
        &array![1.0, 2.0, 3.0]
    )));

    for tolerance in [-1e-3, 1.0, 2.0, f64::NAN, f64::INFINITY] {
        let options = CgOptions::<Array1<f64>>::with_tolerance(tolerance);
        assert!(invalid(
            conjugate_gradient(&operator, &b, &mut Array1::zeros(2), &options),
            "tolerance"
        ));
    }
    let no_iterations = CgOptions {
        max_iterations: Some(0),
        ..CgOptions::default()
    };
    assert!(invalid(
        conjugate_gradient(&operator, &b, &mut Array1::zeros(2), &no_iterations),
        "max_iterations"
    ));

    for diagonal in [array![1.0, 0.0], array![1.0, -2.0]] {
        assert!(matches!(
            Jacobi::from_diagonal(&diagonal),
            Err(OptError::NotPositiveDefinite { .. })
        ));
    }
    assert!(matches!(
        Jacobi::from_matrix(&array![[1.0, 0.0], [0.0, -1.0]]),
        Err(OptError::NotPositiveDefinite { .. })
    ));
    assert!(matches!(
        Jacobi::from_diagonal(&array![1.0, f64::NAN]),
        Err(OptError::NonFinite { .. })
    ));
    assert!(matches!(
        conjugate_gradient(
            &operator,
            &array![1.0, f64::INFINITY],
            &mut Array1::zeros(2),
            &options
        ),
        Err(OptError::NonFinite { .. })
    ));
    assert!(matches!(
        conjugate_gradient(&operator, &b, &mut array![f64::NAN, 0.0], &options),
        Err(OptError::NonFinite { .. })
    ));
    let nan_matrix = array![[f64::NAN, 0.0], [0.0, 1.0]];
    assert!(matches!(
        conjugate_gradient(
            &DenseOperator::new(&nan_matrix).unwrap(),
            &b,
            &mut Array1::zeros(2),
            &options
        ),
        Err(OptError::NonFinite { .. })
    ));
}
