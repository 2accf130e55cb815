//! Loss landscapes: the loss along a line between two parameter vectors
//! and on a plane through a point, with an optimizer's trajectory
//! projected on the plane (Li, Xu, Taylor, Studer & Goldstein 2018,
//! "Visualizing the Loss Landscape of Neural Nets", NeurIPS).
//!
//! Everything works on flat parameter vectors `Array1<T>` (the layout of
//! [`crate::objective`]) and evaluates an [`Objective`], in practice a
//! [`crate::objective::NetworkObjective`] on the whole training set (data
//! term plus L2 as configured).
//!
//! **Line** (Goodfellow et al. 2015's linear interpolation, Li et al.
//! section 3): `f(theta(t))` with `theta(t) = (1 - t) a + t b` on a grid of
//! `t`, usually `[-0.5, 1.5]` so that both ends are seen from outside.
//!
//! **Plane** (Li et al. sections 3-4): `f(theta* + alpha d1 + beta d2)`
//! on a grid of `(alpha, beta)`, with `d1, d2` **filter-normalised**
//! Gaussian directions: a direction `d ~ N(0, I)` is cut into filters like
//! the reference `theta*`, and each filter `d_f` is rescaled to the norm of
//! the same filter of the reference, `d_f <- d_f ||theta*_f|| / ||d_f||`.
//! A filter is one output unit: a row of a linear weight `[out, in]`, an
//! output channel `[c_in, 3, 3]` of a convolution weight `[c_out, c_in, 3,
//! 3]`; in general the slices along the first axis of a tensor of rank at
//! least 2. The directions are **zero on the biases** (rank-1 tensors), as
//! Li et al. do for biases and batch-norm parameters (section 4). The
//! rescaling accounts for the scale invariance of ReLU networks (a filter
//! multiplied by `c` and the next layer's weights by `1/c` compute the same
//! function): a step along the direction moves every filter by the same
//! amount relative to its size, so that plots of different networks or
//! optimizers can be compared.
//!
//! **Trajectory** (Li et al. section 7): each point `theta_k` is
//! projected on the plane by least squares, `(alpha_k, beta_k)` solving the
//! 2x2 normal equations `G [alpha; beta] = [d1'v; d2'v]` with
//! `v = theta_k - theta*` and `G` the Gram matrix of `d1, d2`. The part of `v` outside
//! the plane, `r = v - alpha_k d1 - beta_k d2`, is reported as the fraction
//! `||r||^2 / ||v||^2`. Two random directions of a space of thousands of
//! dimensions are nearly orthogonal to any given vector, so a trajectory
//! lies almost entirely outside a random plane (fractions close to 1) and
//! its projection is mostly noise; Li et al. therefore draw trajectories on
//! the plane of the two **principal directions** of the differences
//! `theta_k - theta*` ([`pca_directions`]), which captures the largest
//! possible part of them.

use candle_core::Var;
use ndarray::{Array1, Array2};
use opt_core::{Objective, Scalar};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use serde::Serialize;

use crate::error::{ModelError, Result};
use crate::objective::{ModelScalar, ParameterSlot};

/// First `t` of the usual line grid.
pub const LINE_START: f64 = -0.5;
/// Last `t` of the usual line grid.
pub const LINE_END: f64 = 1.5;

/// `points` equally spaced values from `start` to `end`, both included,
/// `start + (end - start) i / (points - 1)` (so `-0.5 + 2 i / 4k` hits 0
/// and 1 exactly).
///
/// Errors: fewer than 2 points, non-finite ends or `start >= end`
/// ([`ModelError::InvalidArgument`]).
pub fn linspace(start: f64, end: f64, points: usize) -> Result<Vec<f64>> {
    if points < 2 {
        return Err(invalid(
            "grid points",
            points,
            "must be at least 2".to_owned(),
        ));
    }
    if !(start.is_finite() && end.is_finite() && start < end) {
        return Err(invalid(
            "grid range",
            format!("[{start}, {end}]"),
            "must be finite with start < end".to_owned(),
        ));
    }
    let width = end - start;
    let intervals = (points - 1) as f64;
    Ok((0..points)
        .map(|i| {
            if i + 1 == points {
                end
            } else {
                start + width * i as f64 / intervals
            }
        })
        .collect())
}

/// The current values of `vars` (e.g. a network's parameters, whose
/// storage a training loop updates in place) as one flat vector in their
/// order, each tensor row-major: the layout of
/// [`crate::objective::NetworkObjective`].
///
/// Errors: a variable whose dtype is not `T`'s (candle's error).
pub fn flat_parameters<T: ModelScalar>(vars: &[Var]) -> Result<Array1<T>> {
    let mut flat = Vec::with_capacity(vars.iter().map(|v| v.elem_count()).sum());
    for var in vars {
        flat.extend(var.as_tensor().flatten_all()?.to_vec1::<T>()?);
    }
    Ok(Array1::from_vec(flat))
}

/// A Gaussian direction drawn from `rng`, filter-normalised to `reference`
/// (module doc): each filter (slice along the first axis of a tensor of
/// rank >= 2) has the norm of the reference's same filter, and the
/// entries of rank-0 and rank-1 tensors (biases) are zero.
///
/// Errors: `slots` that do not tile `reference` (a
/// [`ModelError::ShapeMismatch`]).
pub fn filter_normalized_direction<T: Scalar, R: Rng + ?Sized>(
    slots: &[ParameterSlot],
    reference: &Array1<T>,
    rng: &mut R,
) -> Result<Array1<T>> {
    check_slots(slots, reference.len())?;
    let mut direction = Array1::from_elem(reference.len(), T::of(0.0));
    let mut filter = Vec::new();
    for slot in slots.iter().filter(|s| s.shape.len() >= 2 && !s.is_empty()) {
        let filter_len = slot.len() / slot.shape[0];
        for start in (slot.offset..slot.offset + slot.len()).step_by(filter_len) {
            filter.clear();
            filter.extend((0..filter_len).map(|_| rng.sample::<f64, _>(StandardNormal)));
            let drawn = filter.iter().map(|v| v * v).sum::<f64>().sqrt();
            let target = norm_f64((start..start + filter_len).map(|i| reference[i]));
            let scale = if drawn > 0.0 { target / drawn } else { 0.0 };
            for (i, value) in filter.iter().enumerate() {
                direction[start + i] = T::of(value * scale);
            }
        }
    }
    Ok(direction)
}

/// Two filter-normalised directions ([`filter_normalized_direction`]),
/// drawn one after the other from a `StdRng` seeded with `seed`.
pub fn random_directions<T: Scalar>(
    slots: &[ParameterSlot],
    reference: &Array1<T>,
    seed: u64,
) -> Result<[Array1<T>; 2]> {
    let mut rng = StdRng::seed_from_u64(seed);
    let first = filter_normalized_direction(slots, reference, &mut rng)?;
    let second = filter_normalized_direction(slots, reference, &mut rng)?;
    Ok([first, second])
}

/// `visit(t, theta(t))` for each `t` of `ts`, `theta(t) = (1 - t) a + t b`
/// (computed in `f64`, so `theta(0) = a` and `theta(1) = b` exactly); one
/// buffer is reused for every point.
///
/// Errors: `a` and `b` of different lengths, an empty or non-finite `ts`,
/// and `visit`'s.
pub fn along_line<T: Scalar, R>(
    a: &Array1<T>,
    b: &Array1<T>,
    ts: &[f64],
    mut visit: impl FnMut(f64, &Array1<T>) -> Result<R>,
) -> Result<Vec<R>> {
    check_same_len("line end b", a.len(), b.len())?;
    check_grid("t", ts)?;
    let mut theta = a.clone();
    let mut results = Vec::with_capacity(ts.len());
    for &t in ts {
        for ((x, &u), &v) in theta.iter_mut().zip(a).zip(b) {
            *x = T::of((1.0 - t) * u.to_f64_lossless() + t * v.to_f64_lossless());
        }
        results.push(visit(t, &theta)?);
    }
    Ok(results)
}

/// `f((1 - t) a + t b)` for each `t` of `ts` ([`along_line`]); a
/// non-finite value is kept as it is.
pub fn loss_along_line<O, T>(
    objective: &O,
    a: &Array1<T>,
    b: &Array1<T>,
    ts: &[f64],
) -> Result<Vec<f64>>
where
    O: Objective<Vector = Array1<T>> + ?Sized,
    T: Scalar,
{
    check_same_len("line end a", objective.dim(), a.len())?;
    along_line(a, b, ts, |_, theta| {
        Ok(objective.value(theta)?.to_f64_lossless())
    })
}

/// Values on the grid of a plane: `values[j][i]` at `(alphas[i], betas[j])`
/// (rows are `beta`, as an image).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Surface {
    /// Coordinates along the first direction.
    pub alphas: Vec<f64>,
    /// Coordinates along the second direction.
    pub betas: Vec<f64>,
    /// `values[j][i]` at `(alphas[i], betas[j])`.
    pub values: Vec<Vec<f64>>,
}

/// `visit(alpha, beta, center + alpha d1 + beta d2)` over the grid, `beta`
/// in the outer loop; one buffer is reused for every point, and `alpha =
/// beta = 0` gives `center` exactly.
///
/// Errors: vectors of different lengths, an empty or non-finite grid, and
/// `visit`'s.
pub fn over_plane<T: Scalar, R>(
    center: &Array1<T>,
    directions: [&Array1<T>; 2],
    alphas: &[f64],
    betas: &[f64],
    mut visit: impl FnMut(f64, f64, &Array1<T>) -> Result<R>,
) -> Result<Vec<Vec<R>>> {
    let [d1, d2] = directions;
    check_same_len("first direction", center.len(), d1.len())?;
    check_same_len("second direction", center.len(), d2.len())?;
    check_grid("alpha", alphas)?;
    check_grid("beta", betas)?;
    let mut theta = center.clone();
    let mut rows = Vec::with_capacity(betas.len());
    for &beta in betas {
        let mut row = Vec::with_capacity(alphas.len());
        for &alpha in alphas {
            for (((x, &c), &u), &v) in theta.iter_mut().zip(center).zip(d1).zip(d2) {
                *x = T::of(
                    c.to_f64_lossless() + alpha * u.to_f64_lossless() + beta * v.to_f64_lossless(),
                );
            }
            row.push(visit(alpha, beta, &theta)?);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// `f(center + alpha d1 + beta d2)` over the grid ([`over_plane`]); a
/// non-finite value is kept as it is.
pub fn loss_surface<O, T>(
    objective: &O,
    center: &Array1<T>,
    directions: [&Array1<T>; 2],
    alphas: &[f64],
    betas: &[f64],
) -> Result<Surface>
where
    O: Objective<Vector = Array1<T>> + ?Sized,
    T: Scalar,
{
    check_same_len("plane center", objective.dim(), center.len())?;
    let values = over_plane(center, directions, alphas, betas, |_, _, theta| {
        Ok(objective.value(theta)?.to_f64_lossless())
    })?;
    Ok(Surface {
        alphas: alphas.to_vec(),
        betas: betas.to_vec(),
        values,
    })
}

/// A trajectory projected on a plane (module doc).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// `(alpha_k, beta_k)` of each point, least squares.
    pub coordinates: Vec<[f64; 2]>,
    /// `||r_k||^2 / ||theta_k - theta*||^2` of each point (0 at `theta*`).
    pub residual_fractions: Vec<f64>,
    /// `sum_k ||r_k||^2 / sum_k ||theta_k - theta*||^2` (0 when every point
    /// is `theta*`): the part of the trajectory's squared distances to
    /// `theta*` the plane does not show.
    pub residual_fraction: f64,
}

/// Project `trajectory` on the plane through `center` spanned by the two
/// directions (module doc).
///
/// Errors: an empty trajectory, vectors of different lengths, and
/// directions that are zero or parallel (a Gram determinant below `1e-12`
/// of the product of their squared norms) are
/// [`ModelError::InvalidArgument`] / [`ModelError::ShapeMismatch`].
pub fn project_trajectory<T: Scalar>(
    center: &Array1<T>,
    directions: [&Array1<T>; 2],
    trajectory: &[Array1<T>],
) -> Result<Projection> {
    let [d1, d2] = directions;
    if trajectory.is_empty() {
        return Err(invalid(
            "trajectory",
            "[]",
            "needs at least one point".to_owned(),
        ));
    }
    check_same_len("first direction", center.len(), d1.len())?;
    check_same_len("second direction", center.len(), d2.len())?;
    for point in trajectory {
        check_same_len("trajectory point", center.len(), point.len())?;
    }
    let (g11, g12, g22) = (dot(d1, d1), dot(d1, d2), dot(d2, d2));
    let det = g11 * g22 - g12 * g12;
    if !(det > 1e-12 * g11 * g22 && det.is_finite()) {
        return Err(invalid(
            "plane directions",
            format!("Gram matrix [[{g11:e}, {g12:e}], [{g12:e}, {g22:e}]]"),
            "are zero or parallel".to_owned(),
        ));
    }
    let mut coordinates = Vec::with_capacity(trajectory.len());
    let mut residual_fractions = Vec::with_capacity(trajectory.len());
    let (mut residual_total, mut distance_total) = (0.0, 0.0);
    for point in trajectory {
        let (mut b1, mut b2, mut distance) = (0.0, 0.0, 0.0);
        for (((&p, &c), &u), &v) in point.iter().zip(center).zip(d1).zip(d2) {
            let diff = p.to_f64_lossless() - c.to_f64_lossless();
            b1 += u.to_f64_lossless() * diff;
            b2 += v.to_f64_lossless() * diff;
            distance += diff * diff;
        }
        let alpha = (g22 * b1 - g12 * b2) / det;
        let beta = (g11 * b2 - g12 * b1) / det;
        let mut residual = 0.0;
        for (((&p, &c), &u), &v) in point.iter().zip(center).zip(d1).zip(d2) {
            let r = p.to_f64_lossless()
                - c.to_f64_lossless()
                - alpha * u.to_f64_lossless()
                - beta * v.to_f64_lossless();
            residual += r * r;
        }
        coordinates.push([alpha, beta]);
        residual_fractions.push(fraction(residual, distance));
        residual_total += residual;
        distance_total += distance;
    }
    Ok(Projection {
        coordinates,
        residual_fractions,
        residual_fraction: fraction(residual_total, distance_total),
    })
}

/// The two principal directions of a trajectory's differences to a point.
#[derive(Debug, Clone, PartialEq)]
pub struct PcaDirections<T> {
    /// Unit vectors, the first along the largest principal component.
    pub directions: [Array1<T>; 2],
    /// Fraction of `sum_k ||theta_k - theta*||^2` along each direction.
    pub explained: [f64; 2],
}

/// The top two principal directions of the differences `v_k = theta_k -
/// center` (Li et al. section 7): the right singular vectors of the matrix
/// `M` whose rows are the `v_k`, from the eigenvectors `u` of the small
/// Gram matrix `M M'` as `M' u / sqrt(lambda)`. The differences are not
/// centred on their mean: the plane through `center` spanned by these two
/// directions is the one that leaves the least of `sum_k ||v_k||^2` outside
/// it (Eckart-Young), which is what [`project_trajectory`] then reports.
/// (scikit-learn's PCA, used by Li et al.'s code, centres them first.)
///
/// Errors: an empty trajectory or one of other lengths; differences that
/// span fewer than two directions (second eigenvalue below `1e-12` of the
/// first: a trajectory of one step, or along one line), an
/// [`ModelError::InvalidArgument`].
pub fn pca_directions<T: Scalar>(
    center: &Array1<T>,
    trajectory: &[Array1<T>],
) -> Result<PcaDirections<T>> {
    if trajectory.is_empty() {
        return Err(invalid(
            "trajectory",
            "[]",
            "needs at least one point".to_owned(),
        ));
    }
    for point in trajectory {
        check_same_len("trajectory point", center.len(), point.len())?;
    }
    let differences: Vec<Vec<f64>> = trajectory
        .iter()
        .map(|point| {
            point
                .iter()
                .zip(center)
                .map(|(&p, &c)| p.to_f64_lossless() - c.to_f64_lossless())
                .collect()
        })
        .collect();
    let k = differences.len();
    let mut gram = Array2::<f64>::zeros((k, k));
    for i in 0..k {
        for j in 0..=i {
            let value: f64 = differences[i]
                .iter()
                .zip(&differences[j])
                .map(|(a, b)| a * b)
                .sum();
            gram[[i, j]] = value;
            gram[[j, i]] = value;
        }
    }
    let total: f64 = (0..k).map(|i| gram[[i, i]]).sum();
    let (values, vectors) = opt_second_order::linalg::symmetric_eigen(&gram)?;
    let top = |rank: usize| -> Option<usize> { k.checked_sub(rank + 1) };
    let largest = top(0).map_or(0.0, |i| values[i]);
    let second = top(1).map_or(0.0, |i| values[i]);
    if !(largest > 0.0 && second > 1e-12 * largest) {
        return Err(invalid(
            "trajectory",
            format!("{k} points with principal values {largest:e}, {second:e}"),
            "spans fewer than two directions around the center (run more steps or epochs)"
                .to_owned(),
        ));
    }
    let direction = |column: usize, lambda: f64| -> Array1<T> {
        let mut sum = vec![0.0f64; center.len()];
        for (row, difference) in differences.iter().enumerate() {
            let weight = vectors[[row, column]];
            for (s, d) in sum.iter_mut().zip(difference) {
                *s += weight * d;
            }
        }
        let scale = 1.0 / lambda.sqrt();
        sum.into_iter().map(|s| T::of(s * scale)).collect()
    };
    let (first_index, second_index) = (k - 1, k - 2);
    Ok(PcaDirections {
        directions: [
            direction(first_index, largest),
            direction(second_index, second),
        ],
        explained: [largest / total, second / total],
    })
}

fn dot<T: Scalar>(a: &Array1<T>, b: &Array1<T>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| x.to_f64_lossless() * y.to_f64_lossless())
        .sum()
}

fn norm_f64<T: Scalar>(values: impl Iterator<Item = T>) -> f64 {
    values
        .map(|v| {
            let v = v.to_f64_lossless();
            v * v
        })
        .sum::<f64>()
        .sqrt()
}

fn fraction(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

fn check_slots(slots: &[ParameterSlot], len: usize) -> Result<()> {
    let mut offset = 0;
    for slot in slots {
        if slot.offset != offset {
            return Err(ModelError::ShapeMismatch {
                what: format!("parameter slot {}", slot.name),
                expected: format!("offset {offset}"),
                got: format!("offset {}", slot.offset),
            });
        }
        offset += slot.len();
    }
    check_same_len("parameter slots (total size)", len, offset)
}

fn check_same_len(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(ModelError::ShapeMismatch {
            what: what.to_owned(),
            expected: format!("{expected} values"),
            got: format!("{got} values"),
        })
    }
}

fn check_grid(name: &'static str, grid: &[f64]) -> Result<()> {
    if grid.is_empty() {
        return Err(invalid(
            name,
            "[]",
            "the grid needs at least one value".to_owned(),
        ));
    }
    if let Some(bad) = grid.iter().find(|v| !v.is_finite()) {
        return Err(invalid(name, bad, "grid values must be finite".to_owned()));
    }
    Ok(())
}

fn invalid(name: &'static str, value: impl ToString, reason: String) -> ModelError {
    ModelError::InvalidArgument {
        name,
        value: value.to_string(),
        reason,
    }
}
