//! Loss landscapes: filter-normalised directions, line and plane
//! evaluations, trajectory projections and principal directions.

use ndarray::Array1;
use opt_core::Objective;
use opt_models::ModelError;
use opt_models::data::digits;
use opt_models::landscape::{
    filter_normalized_direction, flat_parameters, linspace, loss_along_line, loss_surface,
    pca_directions, project_trajectory, random_directions,
};
use opt_models::loss::Loss;
use opt_models::network::{Cnn, CnnConfig, Mlp, MlpConfig, Network};
use opt_models::objective::NetworkObjective;
use opt_models::train::objective_on;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

fn small_cnn_objective() -> NetworkObjective<Cnn, f32> {
    let (train, _) = digits().expect("digits");
    let train = train.subset(&(0..40).collect::<Vec<_>>()).expect("subset");
    let mut config = CnnConfig::new([1, 8, 8], 10);
    config.channels = [2, 3];
    config.hidden = vec![5];
    let network = Cnn::new(&config, 4).expect("cnn");
    objective_on(network, Loss::cross_entropy(), &train).expect("objective")
}

fn small_mlp_objective() -> NetworkObjective<Mlp, f32> {
    let (train, _) = digits().expect("digits");
    let train = train.subset(&(0..60).collect::<Vec<_>>()).expect("subset");
    let network = Mlp::new(&MlpConfig::new(64, &[8], 10), 2).expect("mlp");
    let loss = Loss::cross_entropy().with_l2(1e-2).expect("l2");
    objective_on(network, loss, &train).expect("objective")
}

fn gaussian(len: usize, rng: &mut StdRng) -> Array1<f64> {
    (0..len).map(|_| StandardNormal.sample(rng)).collect()
}

fn norm(values: &[f32]) -> f64 {
    values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn each_filter_of_a_direction_has_the_reference_filter_norm_and_biases_are_zero() {
    let objective = small_cnn_objective();
    let reference = objective.current_parameters().expect("theta");
    let mut rng = StdRng::seed_from_u64(11);
    let direction =
        filter_normalized_direction(objective.slots(), &reference, &mut rng).expect("direction");
    let (theta, d) = (
        reference.as_slice().expect("contiguous"),
        direction.as_slice().expect("contiguous"),
    );
    let mut filters = 0;
    for slot in objective.slots() {
        let range = slot.offset..slot.offset + slot.len();
        if slot.shape.len() == 1 {
            assert!(slot.name.ends_with("bias"), "{}", slot.name);
            assert!(d[range].iter().all(|&v| v == 0.0), "{} not zero", slot.name);
            continue;
        }
        // conv weights [c_out, c_in, 3, 3] and linear weights [out, in]:
        // one filter per output unit
        let filter_len = slot.len() / slot.shape[0];
        for start in range.step_by(filter_len) {
            let want = norm(&theta[start..start + filter_len]);
            let got = norm(&d[start..start + filter_len]);
            assert!(
                (got - want).abs() <= 1e-5 * want,
                "{} filter at {start}: {got} vs {want}",
                slot.name
            );
            // a random direction, not the reference rescaled
            assert_ne!(
                &d[start..start + filter_len],
                &theta[start..start + filter_len]
            );
            filters += 1;
        }
    }
    assert_eq!(filters, 2 + 3 + 5 + 10);
    // seeded: the same seed gives the same pair, the two differ
    let [first, second] = random_directions(objective.slots(), &reference, 3).expect("pair");
    let [again, _] = random_directions(objective.slots(), &reference, 3).expect("pair");
    assert_eq!(first, again);
    assert_ne!(first, second);
}

#[test]
fn the_line_ends_are_the_objective_at_a_and_b() {
    let objective = small_mlp_objective();
    let a = objective.current_parameters().expect("a");
    let mut rng = StdRng::seed_from_u64(5);
    let b: Array1<f32> = &a + &gaussian(a.len(), &mut rng).mapv(|v| 0.3 * v as f32);
    let ts = [-0.5, 0.0, 0.5, 1.0, 1.5];
    let losses = loss_along_line(&objective, &a, &b, &ts).expect("line");
    assert_eq!(losses.len(), 5);
    assert_eq!(losses[1], f64::from(objective.value(&a).expect("f(a)")));
    assert_eq!(losses[3], f64::from(objective.value(&b).expect("f(b)")));
    let middle: Array1<f32> = a
        .iter()
        .zip(&b)
        .map(|(&u, &v)| (0.5 * (f64::from(u) + f64::from(v))) as f32)
        .collect();
    assert_eq!(losses[2], f64::from(objective.value(&middle).expect("f")));
    let beyond: Array1<f32> = a
        .iter()
        .zip(&b)
        .map(|(&u, &v)| (-0.5 * f64::from(u) + 1.5 * f64::from(v)) as f32)
        .collect();
    assert_eq!(losses[4], f64::from(objective.value(&beyond).expect("f")));
}

#[test]
fn the_plane_is_indexed_by_beta_then_alpha_and_its_origin_is_the_center() {
    let objective = small_mlp_objective();
    let center = objective.current_parameters().expect("center");
    let [d1, d2] = random_directions(objective.slots(), &center, 9).expect("directions");
    let alphas = [-1.0, 0.0, 0.5];
    let betas = [-0.5, 0.0];
    let surface = loss_surface(&objective, &center, [&d1, &d2], &alphas, &betas).expect("surface");
    assert_eq!(surface.values.len(), 2);
    assert!(surface.values.iter().all(|row| row.len() == 3));
    assert_eq!(
        surface.values[1][1],
        f64::from(objective.value(&center).expect("f"))
    );
    // values[0][2] is (alpha, beta) = (0.5, -0.5)
    let corner: Array1<f32> = center
        .iter()
        .zip(&d1)
        .zip(&d2)
        .map(|((&c, &u), &v)| (f64::from(c) + 0.5 * f64::from(u) - 0.5 * f64::from(v)) as f32)
        .collect();
    assert_eq!(
        surface.values[0][2],
        f64::from(objective.value(&corner).expect("f"))
    );
    assert_ne!(surface.values[0][2], surface.values[1][1]);
}

#[test]
fn projection_recovers_the_coordinates_of_points_built_in_the_plane() {
    let mut rng = StdRng::seed_from_u64(1);
    let n = 40;
    let center = gaussian(n, &mut rng);
    // not orthogonal, not unit: the Gram solve has work to do
    let d1 = gaussian(n, &mut rng);
    let d2 = &d1 * 0.5 + &gaussian(n, &mut rng) * 2.0;
    let coordinates = [[0.0, 0.0], [1.5, -2.0], [-0.25, 0.75], [3.0, 1.0]];
    let trajectory: Vec<Array1<f64>> = coordinates
        .iter()
        .map(|[a, b]| &center + &(&d1 * *a) + &(&d2 * *b))
        .collect();
    let projection = project_trajectory(&center, [&d1, &d2], &trajectory).expect("projection");
    for (got, want) in projection.coordinates.iter().zip(&coordinates) {
        assert!(
            (got[0] - want[0]).abs() < 1e-10 && (got[1] - want[1]).abs() < 1e-10,
            "{got:?} vs {want:?}"
        );
    }
    assert!(projection.residual_fraction < 1e-20, "{projection:?}");
    assert_eq!(projection.residual_fractions[0], 0.0);

    // a point partly outside: v = 3 e1 + 4 e3 on the plane of e1, e2
    let e = |i: usize| Array1::from_shape_fn(3, |j| if i == j { 1.0 } else { 0.0 });
    let point = &e(0) * 3.0 + &e(2) * 4.0;
    let projection =
        project_trajectory(&Array1::zeros(3), [&e(0), &e(1)], &[point]).expect("projection");
    assert_eq!(projection.coordinates, vec![[3.0, 0.0]]);
    assert!((projection.residual_fraction - 16.0 / 25.0).abs() < 1e-15);
}

#[test]
fn principal_directions_span_a_trajectory_made_in_a_plane() {
    let mut rng = StdRng::seed_from_u64(2);
    let n = 60;
    let center = gaussian(n, &mut rng);
    let u = gaussian(n, &mut rng);
    let w = gaussian(n, &mut rng);
    let trajectory: Vec<Array1<f64>> = (0..8)
        .map(|k| {
            let s = k as f64;
            &center + &(&u * (3.0 - 0.4 * s)) + &(&w * (0.1 * s * s - 1.0))
        })
        .collect();
    let pca = pca_directions(&center, &trajectory).expect("pca");
    let [p1, p2] = &pca.directions;
    assert!((p1.dot(p1) - 1.0).abs() < 1e-12 && (p2.dot(p2) - 1.0).abs() < 1e-12);
    assert!(p1.dot(p2).abs() < 1e-10);
    assert!(pca.explained[0] >= pca.explained[1] && pca.explained[1] > 0.0);
    assert!((pca.explained[0] + pca.explained[1] - 1.0).abs() < 1e-12);
    let projection = project_trajectory(&center, [p1, p2], &trajectory).expect("projection");
    assert!(projection.residual_fraction < 1e-20, "{projection:?}");
    // the same trajectory on a random plane is mostly outside it
    let [r1, r2] = [gaussian(n, &mut rng), gaussian(n, &mut rng)];
    let random = project_trajectory(&center, [&r1, &r2], &trajectory).expect("projection");
    assert!(random.residual_fraction > 0.5, "{random:?}");
}

#[test]
fn flat_parameters_follow_the_objective_layout() {
    let objective = small_cnn_objective();
    let flat: Array1<f32> = flat_parameters(objective.network().parameters()).expect("flat");
    assert_eq!(flat, objective.current_parameters().expect("theta"));
    assert!(matches!(
        flat_parameters::<f64>(objective.network().parameters()),
        Err(ModelError::Candle(_))
    ));
}

#[test]
fn bad_inputs_are_errors() {
    assert!(matches!(
        linspace(-1.0, 1.0, 1),
        Err(ModelError::InvalidArgument { .. })
    ));
    assert!(matches!(
        linspace(1.0, 1.0, 5),
        Err(ModelError::InvalidArgument { .. })
    ));
    assert!(matches!(
        linspace(0.0, f64::INFINITY, 5),
        Err(ModelError::InvalidArgument { .. })
    ));
    let grid = linspace(-0.5, 1.5, 5).expect("grid");
    assert_eq!(grid, vec![-0.5, 0.0, 0.5, 1.0, 1.5]);

    let objective = small_mlp_objective();
    let a = objective.current_parameters().expect("a");
    let short = Array1::<f32>::zeros(a.len() - 1);
    assert!(matches!(
        loss_along_line(&objective, &a, &short, &[0.0]),
        Err(ModelError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        loss_along_line(&objective, &short, &short, &[0.0]),
        Err(ModelError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        loss_along_line(&objective, &a, &a, &[]),
        Err(ModelError::InvalidArgument { .. })
    ));
    assert!(matches!(
        loss_surface(&objective, &a, [&a, &a], &[0.0, f64::NAN], &[0.0]),
        Err(ModelError::InvalidArgument { .. })
    ));
    assert!(matches!(
        filter_normalized_direction(objective.slots(), &short, &mut StdRng::seed_from_u64(0)),
        Err(ModelError::ShapeMismatch { .. })
    ));

    let x = Array1::from(vec![1.0, 2.0, 3.0]);
    let empty: [Array1<f64>; 0] = [];
    assert!(matches!(
        project_trajectory(&x, [&x, &(&x * 2.0)], std::slice::from_ref(&x)),
        Err(ModelError::InvalidArgument { .. })
    ));
    let other = Array1::from(vec![0.0, 1.0, 0.0]);
    assert!(matches!(
        project_trajectory(&x, [&x, &other], &empty),
        Err(ModelError::InvalidArgument { .. })
    ));
    assert!(matches!(
        project_trajectory(&x, [&x, &other], &[Array1::zeros(2)]),
        Err(ModelError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        pca_directions(&x, &empty),
        Err(ModelError::InvalidArgument { .. })
    ));
    // points along one line through the center span one direction only
    let line = [&x + &other, &x - &(&other * 2.0), x.clone()];
    assert!(matches!(
        pca_directions(&x, &line),
        Err(ModelError::InvalidArgument { .. })
    ));
}
