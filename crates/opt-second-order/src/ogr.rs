//! OGR: online gradient regression, a parabola model of the objective in a
//! few directions, fitted to the recent gradients (Duda 2019: "SGD momentum
//! optimizer with step estimation by online parabola model",
//! arXiv:1907.07063, for one direction; "Improving SGD convergence by
//! online linear regression of gradients in multiple statistically relevant
//! directions", arXiv:1901.11457, for `d` directions; and the author's
//! reference notebooks, github.com/JarekDuda/SGD-OGR-Hessian-estimator,
//! `SGD-sORG 3D subspace.nb` and `dsOGR.nb`).
//!
//! **Model.** Along an orthonormal set of directions `V = [v_1 .. v_d]`
//! (`d` small; 1 by default) the gradient is modelled as linear in the
//! parameters, `V'g ~ H V'(theta - p)`: a parabola with Hessian `H` (`d x d`)
//! and minimum (or saddle) `p`. `H` is the least-squares linear regression of
//! the projected gradients on the projected parameters, from exponential
//! moving averages with decay `beta` of `theta`, `g` and of the covariances
//! `S_tt = E[dt dt']`, `S_gt = E[dg dt']` of the centred projections
//! `dt = V'(theta - mean theta)`, `dg = V'(g - mean g)`. The symmetric `H`
//! minimizing `E||dg - H dt||^2` solves `H S_tt + S_tt H = S_gt + S_gt'`,
//! which in the eigenbasis `S_tt = Q diag(e) Q'` reads
//! `(Q'HQ)_ij = (Q'(S_gt + S_gt')Q)_ij / (e_i + e_j)` (for `d = 1`,
//! `lambda = cov(g, theta) / var(theta)`, the paper's estimate).
//!
//! **Step.** With `H = U diag(lambda) U'` and the model's gradient at
//! `theta`, `g_hat = V'(mean g) + H V'(theta - mean theta)`, the modelled
//! directions take
//!
//! ```text
//! delta = -U diag(m_i) U' g_hat,   m_i = min(eta / |lambda_i|, max_lr)
//! ```
//!
//! For `lambda_i > 0` and `eta = 1` this jumps to the modelled minimum `p`
//! (`eta < 1`: a fraction `eta` of the way); for `lambda_i < 0` it moves
//! away from the modelled saddle or maximum by the same rule
//! (saddle-free Newton's `|H|^{-1}`, which repels instead of attracting);
//! `max_lr` caps the step where the curvature is tiny or uncertain (the
//! notebooks' `1/max(div |lambda|, cut)` is `eta = 1/div`,
//! `max_lr = 1/cut`). In the remaining directions the method is plain SGD,
//! `-lr (I - VV') g`.
//!
//! **Directions.** The subspace follows the recent gradients, the
//! paper's online PCA "by slowly rotating considered directions toward new
//! gradients": each step `v_i <- v_i + rotation * g/||g||`, then Gram-Schmidt
//! (the notebooks add `rotation * g`; normalizing `g` makes `rotation` a
//! dimensionless rate). For `d = 1` the direction is the normalized average
//! of recent gradients, the 1907.07063 setting (momentum's direction). The
//! statistics are rotated with the basis (`S <- R S R'`, `R = V_new' V_old`),
//! so a slow rotation does not corrupt the fitted `H`; the notebooks keep
//! them unrotated.
//!
//! **Choices beyond the papers**, each a safeguard or a consequence of the
//! vector-space interface:
//! - directions are born from gradients (the first from `g_1`, the next from
//!   the part of a later gradient outside the current span), since a generic
//!   vector space has no random vectors;
//! - averages start at the first sample (not at 0), and the covariances use
//!   the exact exponentially weighted update (West 1979:
//!   `S <- (1 - w)(S + w dt dt')` with `w = 1 - beta` and `dt` taken from the
//!   previous mean), so on a quadratic the regression is exact;
//! - an eigendirection of `S_tt` with variance below
//!   `(sqrt(eps) (1 + ||theta||))^2` (the parameters have not moved there,
//!   its curvature is undetermined) is left to SGD;
//! - the step uses the model's `g_hat` (the attraction to `p` of
//!   1907.07063) rather than the notebooks' momentum.
//!
//! **A limit of the method.** The averages forget at rate `beta` per step;
//! when the iterates converge faster than that (displacements shrinking by
//! more than `sqrt(beta)` per step, as Newton-like steps do on a smooth
//! deterministic problem), the older, larger displacements dominate the
//! covariances and the fitted `H` stops following the local curvature. The
//! step then stays bounded by `eta / |lambda|` and `max_lr` and the
//! convergence is linear. Under mini-batch noise the parameters keep moving
//! and the fit keeps being refreshed, the setting the papers address.
//!
//! Cost per step: about `4 + 3d` passes over the parameters plus `O(d^2)`
//! passes for the Gram-Schmidt rotation; memory `(d + 3)` parameter vectors,
//! allocated on the first step. Nothing of the parameters' size is
//! allocated afterwards; for `d > 1` the two `d x d` eigendecompositions
//! (`linalg::symmetric_eigen`) allocate their small outputs each step.

use ndarray::{Array1, Array2};
use opt_core::num_traits::Float;
use opt_core::{OptError, Result, Scalar, ScalarOf, Stepper, VectorSpace, check_len};
use serde::{Deserialize, Serialize};

use crate::linalg::symmetric_eigen;

/// Hyperparameters of [`Ogr`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OgrConfig {
    /// SGD learning rate in the directions outside the model (and where the
    /// model's curvature is not yet determined). Default 1e-3.
    pub lr: f64,
    /// Decay of the moving averages, in `(0, 1)` (the papers' `1 - beta`):
    /// the newest sample has weight `1 - beta`. Default 0.5.
    pub beta: f64,
    /// Number of modelled directions. Default 1.
    pub d: usize,
    /// Fraction of the model's Newton step, in `(0, 2)`; 1 jumps to the
    /// modelled minimum. Default 0.7.
    pub eta: f64,
    /// Largest step per unit of modelled gradient in a modelled direction
    /// (the notebooks' `1/cut`). Default 0.1.
    pub max_lr: f64,
    /// Rate at which the directions turn towards each new gradient, in
    /// `[0, 1)`. Default 0.1.
    pub rotation: f64,
}

impl Default for OgrConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta: 0.5,
            d: 1,
            eta: 0.7,
            max_lr: 0.1,
            rotation: 0.1,
        }
    }
}

fn check_lr(lr: f64) -> Result<f64> {
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(OptError::invalid("lr", lr, "must be positive and finite"))
    }
}

impl OgrConfig {
    /// Check every hyperparameter.
    pub fn validate(&self) -> Result<()> {
        check_lr(self.lr)?;
        if !(self.beta > 0.0 && self.beta < 1.0) {
            return Err(OptError::invalid("beta", self.beta, "must be in (0, 1)"));
        }
        if self.d == 0 {
            return Err(OptError::invalid("d", 0, "must be at least 1"));
        }
        if !(self.eta > 0.0 && self.eta < 2.0) {
            return Err(OptError::invalid("eta", self.eta, "must be in (0, 2)"));
        }
        if !(self.max_lr.is_finite() && self.max_lr > 0.0) {
            return Err(OptError::invalid(
                "max_lr",
                self.max_lr,
                "must be positive and finite",
            ));
        }
        if !(0.0..1.0).contains(&self.rotation) {
            return Err(OptError::invalid(
                "rotation",
                self.rotation,
                "must be in [0, 1)",
            ));
        }
        Ok(())
    }
}

/// The state created on the first step.
#[derive(Clone)]
struct Workspace<V> {
    mean_params: V,
    mean_grad: V,
    /// `d` slots; the first `active` are the orthonormal directions.
    directions: Vec<V>,
    active: usize,
    scratch: V,
    /// `S_tt`, `d x d` (the top-left `active x active` block is in use).
    cov_params: Array2<f64>,
    /// `S_gt`, rows: gradient, columns: parameters.
    cov_grad_params: Array2<f64>,
    /// Gram-Schmidt coefficients of the rotated directions over
    /// `[v_1 .. v_m, g/||g||]`, row-major `d x (d + 1)`.
    rotation_coefficients: Vec<f64>,
    /// `R = V_new' V_old` and a temporary, `d x d`.
    rotation_matrix: Array2<f64>,
    product: Array2<f64>,
    overlaps: Vec<f64>,
    delta_params: Vec<f64>,
    delta_grad: Vec<f64>,
    grad_projection: Vec<f64>,
    adjustment: Vec<f64>,
    work: Vec<f64>,
}

impl<V: VectorSpace> Workspace<V> {
    fn new(params: &V, grad: &V, d: usize) -> Self {
        let mut directions: Vec<V> = (0..d).map(|_| params.zeros_like()).collect();
        let grad_norm = grad.norm2().to_f64_lossless();
        let mut active = 0;
        if grad_norm > 0.0 {
            directions[0].assign(grad);
            directions[0].scale(ScalarOf::<V>::of(1.0 / grad_norm));
            active = 1;
        }
        Self {
            mean_params: params.clone(),
            mean_grad: grad.clone(),
            directions,
            active,
            scratch: params.zeros_like(),
            cov_params: Array2::zeros((d, d)),
            cov_grad_params: Array2::zeros((d, d)),
            rotation_coefficients: vec![0.0; d * (d + 1)],
            rotation_matrix: Array2::zeros((d, d)),
            product: Array2::zeros((d, d)),
            overlaps: vec![0.0; d],
            delta_params: vec![0.0; d],
            delta_grad: vec![0.0; d],
            grad_projection: vec![0.0; d],
            adjustment: vec![0.0; d],
            work: vec![0.0; d + 1],
        }
    }

    /// Turn every direction towards `grad / grad_norm` by `rate`, keep them
    /// orthonormal, and rotate the statistics with them.
    fn rotate(&mut self, grad: &V, grad_norm: f64, rate: f64) {
        let m = self.active;
        for k in 0..m {
            self.overlaps[k] = self.directions[k].dot(grad).to_f64_lossless() / grad_norm;
        }
        let p = &self.overlaps[..m];
        let stride = self.directions.len() + 1;
        let c = &mut self.rotation_coefficients;
        let u = &mut self.work;
        for i in 0..m {
            u[..=m].fill(0.0);
            u[i] = 1.0;
            u[m] = rate;
            for _pass in 0..2 {
                for q in 0..i {
                    let row = &c[q * stride..q * stride + m + 1];
                    let projection = gram_inner(&u[..=m], row, p);
                    for (uj, cj) in u[..=m].iter_mut().zip(row) {
                        *uj -= projection * cj;
                    }
                }
            }
            let norm = gram_inner(&u[..=m], &u[..=m], p).max(0.0).sqrt();
            if norm.is_nan() || norm <= 1e-12 {
                // Degenerate (g nearly cancels a direction): skip this turn.
                return;
            }
            for j in 0..=m {
                c[i * stride + j] = u[j] / norm;
            }
        }
        let c = |i: usize, j: usize| self.rotation_coefficients[i * stride + j];
        // R_ij = v_new_i . v_old_j = c_ij + c_im p_j.
        for i in 0..m {
            for j in 0..m {
                self.rotation_matrix[[i, j]] = c(i, j) + c(i, m) * self.overlaps[j];
            }
        }
        // New directions in place, last first (v_new_i uses old v_k, k <= i).
        for i in (0..m).rev() {
            let (older, rest) = self.directions.split_at_mut(i);
            let v = &mut rest[0];
            v.scale(ScalarOf::<V>::of(c(i, i)));
            for (k, old) in older.iter().enumerate() {
                v.axpy(ScalarOf::<V>::of(c(i, k)), old);
            }
            v.axpy(ScalarOf::<V>::of(c(i, m) / grad_norm), grad);
            let norm = v.norm2().to_f64_lossless();
            v.scale(ScalarOf::<V>::of(1.0 / norm));
        }
        rotate_block(
            &mut self.cov_params,
            &self.rotation_matrix,
            &mut self.product,
            m,
        );
        rotate_block(
            &mut self.cov_grad_params,
            &self.rotation_matrix,
            &mut self.product,
            m,
        );
    }

    /// Add a direction from the part of `grad` outside the current span,
    /// when that part is not negligible.
    fn add_direction(&mut self, grad: &V, grad_norm: f64) {
        let m = self.active;
        self.scratch.assign(grad);
        for _pass in 0..2 {
            for v in &self.directions[..m] {
                let overlap = v.dot(&self.scratch);
                self.scratch.axpy(-overlap, v);
            }
        }
        let residual = self.scratch.norm2().to_f64_lossless();
        if residual > 1e-6 * grad_norm {
            self.directions[m].assign(&self.scratch);
            self.directions[m].scale(ScalarOf::<V>::of(1.0 / residual));
            for k in 0..=m {
                self.cov_params[[m, k]] = 0.0;
                self.cov_params[[k, m]] = 0.0;
                self.cov_grad_params[[m, k]] = 0.0;
                self.cov_grad_params[[k, m]] = 0.0;
            }
            self.active = m + 1;
        }
    }
}

/// Inner product of two coefficient vectors over `[v_1 .. v_m, g_hat]`
/// (length `m + 1`), where the `v_k` are orthonormal, `g_hat` is a unit
/// vector and `v_k . g_hat = p_k`.
fn gram_inner(a: &[f64], b: &[f64], p: &[f64]) -> f64 {
    let m = p.len();
    let mut sum = a[m] * b[m];
    for k in 0..m {
        sum += a[k] * b[k] + a[m] * p[k] * b[k] + b[m] * p[k] * a[k];
    }
    sum
}

/// `block <- R block R'` on the top-left `m x m` block.
fn rotate_block(block: &mut Array2<f64>, r: &Array2<f64>, product: &mut Array2<f64>, m: usize) {
    for i in 0..m {
        for j in 0..m {
            product[[i, j]] = (0..m).map(|k| r[[i, k]] * block[[k, j]]).sum();
        }
    }
    for i in 0..m {
        for j in 0..m {
            block[[i, j]] = (0..m).map(|k| product[[i, k]] * r[[j, k]]).sum();
        }
    }
}

/// The online gradient-regression optimizer; see the
/// [module documentation](self).
#[derive(Clone)]
pub struct Ogr<V> {
    config: OgrConfig,
    workspace: Option<Workspace<V>>,
    steps: u64,
    curvatures: Vec<f64>,
}

impl<V> std::fmt::Debug for Ogr<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ogr")
            .field("config", &self.config)
            .field("steps", &self.steps)
            .field(
                "directions",
                &self.workspace.as_ref().map_or(0, |ws| ws.active),
            )
            .field("curvatures", &self.curvatures)
            .finish()
    }
}

impl<V: VectorSpace> Ogr<V> {
    /// The optimizer with validated hyperparameters.
    pub fn new(config: OgrConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            workspace: None,
            steps: 0,
            curvatures: Vec::new(),
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &OgrConfig {
        &self.config
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Eigenvalues (ascending) of the modelled Hessian `H` used by the last
    /// step; empty when no direction was modelled.
    pub fn curvatures(&self) -> &[f64] {
        &self.curvatures
    }

    /// The current orthonormal directions (empty before the first step).
    pub fn directions(&self) -> &[V] {
        match &self.workspace {
            Some(ws) => &ws.directions[..ws.active],
            None => &[],
        }
    }

    fn first_step(&mut self, params: &mut V, grad: &V) -> Result<()> {
        if self.config.d > params.len() {
            return Err(OptError::invalid(
                "d",
                self.config.d,
                "must not exceed the number of parameters",
            ));
        }
        self.workspace = Some(Workspace::new(params, grad, self.config.d));
        self.curvatures.clear();
        params.axpy(ScalarOf::<V>::of(-self.config.lr), grad);
        self.steps = 1;
        Ok(())
    }
}

impl<V: VectorSpace> Stepper<V> for Ogr<V> {
    fn step(&mut self, params: &mut V, grad: &V) -> Result<()> {
        check_len("gradient", params.len(), grad.len())?;
        if !grad.is_finite() {
            return Err(OptError::NonFinite {
                what: "gradient",
                iteration: self.steps as usize,
            });
        }
        let config = self.config;
        let ws = match self.workspace.as_mut() {
            Some(ws) => ws,
            None => return self.first_step(params, grad),
        };
        check_len(
            "parameters (the optimizer's state was created for another length)",
            ws.mean_params.len(),
            params.len(),
        )?;
        let grad_norm = grad.norm2().to_f64_lossless();
        if grad_norm > 0.0 {
            if config.rotation > 0.0 && ws.active > 0 {
                ws.rotate(grad, grad_norm, config.rotation);
            }
            if ws.active < config.d {
                ws.add_direction(grad, grad_norm);
            }
        }
        let m = ws.active;

        // Centred projections against the previous means, then the averages.
        let new_weight = 1.0 - config.beta;
        ws.scratch.assign(params);
        ws.scratch.axpy(ScalarOf::<V>::of(-1.0), &ws.mean_params);
        for i in 0..m {
            ws.delta_params[i] = ws.directions[i].dot(&ws.scratch).to_f64_lossless();
        }
        ws.scratch.assign(grad);
        ws.scratch.axpy(ScalarOf::<V>::of(-1.0), &ws.mean_grad);
        for i in 0..m {
            ws.delta_grad[i] = ws.directions[i].dot(&ws.scratch).to_f64_lossless();
            ws.grad_projection[i] = ws.directions[i].dot(grad).to_f64_lossless();
        }
        for i in 0..m {
            for j in 0..m {
                let tt =
                    ws.cov_params[[i, j]] + new_weight * ws.delta_params[i] * ws.delta_params[j];
                ws.cov_params[[i, j]] = config.beta * tt;
                let gt =
                    ws.cov_grad_params[[i, j]] + new_weight * ws.delta_grad[i] * ws.delta_params[j];
                ws.cov_grad_params[[i, j]] = config.beta * gt;
            }
        }
        ws.mean_params.scale(ScalarOf::<V>::of(config.beta));
        ws.mean_params.axpy(ScalarOf::<V>::of(new_weight), params);
        ws.mean_grad.scale(ScalarOf::<V>::of(config.beta));
        ws.mean_grad.axpy(ScalarOf::<V>::of(new_weight), grad);

        // The model's step in the subspace (as corrections to plain SGD).
        let eps = ScalarOf::<V>::epsilon().to_f64_lossless();
        let resolution = eps.sqrt() * (1.0 + params.norm2().to_f64_lossless());
        self.curvatures.clear();
        ws.adjustment[..m].fill(0.0);
        if m == 1 {
            model_step_1d(ws, &config, resolution * resolution, &mut self.curvatures);
        } else if m > 1 {
            model_step(ws, &config, resolution * resolution, &mut self.curvatures)?;
        }
        if !ws.adjustment[..m].iter().all(|a| a.is_finite()) {
            return Err(OptError::NonFinite {
                what: "OGR model step",
                iteration: self.steps as usize,
            });
        }
        params.axpy(ScalarOf::<V>::of(-config.lr), grad);
        for (v, &a) in ws.directions[..m].iter().zip(&ws.adjustment[..m]) {
            params.axpy(ScalarOf::<V>::of(-a), v);
        }
        self.steps += 1;
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.config.lr = check_lr(lr)?;
        Ok(())
    }
}

/// The multiplier `min(eta / |lambda|, max_lr)`.
fn step_multiplier(curvature: f64, config: &OgrConfig) -> f64 {
    if curvature.abs() * config.max_lr > config.eta {
        config.eta / curvature.abs()
    } else {
        config.max_lr
    }
}

/// One modelled direction: `lambda = S_gt / S_tt`.
fn model_step_1d<V>(
    ws: &mut Workspace<V>,
    config: &OgrConfig,
    min_variance: f64,
    curvatures: &mut Vec<f64>,
) {
    let variance = ws.cov_params[[0, 0]];
    if variance.is_nan() || variance <= min_variance {
        return;
    }
    let curvature = ws.cov_grad_params[[0, 0]] / variance;
    // theta - new mean = beta (theta - old mean); likewise for g.
    let offset = config.beta * ws.delta_params[0];
    let mean_grad = ws.grad_projection[0] - config.beta * ws.delta_grad[0];
    let model_grad = mean_grad + curvature * offset;
    ws.adjustment[0] =
        step_multiplier(curvature, config) * model_grad - config.lr * ws.grad_projection[0];
    curvatures.push(curvature);
}

/// `m > 1` modelled directions: the symmetric regression in the eigenbasis
/// of `S_tt`, restricted to its determined eigendirections.
fn model_step<V>(
    ws: &mut Workspace<V>,
    config: &OgrConfig,
    min_variance: f64,
    curvatures: &mut Vec<f64>,
) -> Result<()> {
    let m = ws.active;
    let cov = Array2::from_shape_fn((m, m), |(i, j)| ws.cov_params[[i, j]]);
    let (variances, basis) = symmetric_eigen(&cov)?;
    let determined: Vec<usize> = (0..m).filter(|&i| variances[i] > min_variance).collect();
    let r = determined.len();
    if r == 0 {
        return Ok(());
    }
    // W = the determined eigenvectors of S_tt (m x r).
    let w = Array2::from_shape_fn((m, r), |(i, a)| basis[[i, determined[a]]]);
    let symmetric = Array2::from_shape_fn((m, m), |(i, j)| {
        ws.cov_grad_params[[i, j]] + ws.cov_grad_params[[j, i]]
    });
    let projected = w.t().dot(&symmetric).dot(&w);
    let hessian = Array2::from_shape_fn((r, r), |(a, b)| {
        projected[[a, b]] / (variances[determined[a]] + variances[determined[b]])
    });
    // g_hat = W'(V' mean g) + H W'(V'(theta - mean theta)).
    let offset = Array1::from_shape_fn(m, |i| config.beta * ws.delta_params[i]);
    let mean_grad = Array1::from_shape_fn(m, |i| {
        ws.grad_projection[i] - config.beta * ws.delta_grad[i]
    });
    let model_grad = w.t().dot(&mean_grad) + hessian.dot(&w.t().dot(&offset));
    let (lambdas, u) = symmetric_eigen(&hessian)?;
    let rotated = u.t().dot(&model_grad);
    let scaled = Array1::from_shape_fn(r, |a| step_multiplier(lambdas[a], config) * rotated[a]);
    let model_step = w.dot(&u.dot(&scaled));
    let grad_projection = Array1::from_vec(ws.grad_projection[..m].to_vec());
    let sgd_part = w.dot(&w.t().dot(&grad_projection));
    for i in 0..m {
        ws.adjustment[i] = model_step[i] - config.lr * sgd_part[i];
    }
    curvatures.extend(lambdas.iter());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn first_steps_on_a_one_dimensional_parabola() {
        // f = a (x - p)^2 / 2: step 1 is SGD, step 2 fits lambda = a exactly
        // and moves eta of the way to p.
        let (a, p) = (3.0, 2.0);
        let config = OgrConfig {
            lr: 0.1,
            eta: 0.5,
            max_lr: 10.0,
            ..OgrConfig::default()
        };
        let mut ogr = Ogr::new(config).unwrap();
        let mut x = array![0.0];
        let grad = |x: &Array1<f64>| array![a * (x[0] - p)];
        let g = grad(&x);
        ogr.step(&mut x, &g).unwrap();
        assert!((x[0] - 0.6).abs() < 1e-15);
        let g = grad(&x);
        ogr.step(&mut x, &g).unwrap();
        assert!(
            (ogr.curvatures()[0] - a).abs() < 1e-14,
            "{:?}",
            ogr.curvatures()
        );
        let expected = 0.6 + 0.5 * (p - 0.6);
        assert!((x[0] - expected).abs() < 1e-14, "{x}");
    }

    #[test]
    fn rotation_keeps_the_directions_orthonormal() {
        let config = OgrConfig {
            d: 3,
            rotation: 0.5,
            ..OgrConfig::default()
        };
        let mut ogr = Ogr::new(config).unwrap();
        let mut x = Array1::zeros(5);
        let gradients = [
            array![1.0, 0.0, 2.0, 0.0, 0.0],
            array![0.0, 1.0, 0.0, 0.5, 0.0],
            array![0.3, -1.0, 0.0, 0.0, 2.0],
            array![-2.0, 0.5, 1.0, 1.0, 1.0],
            array![0.1, 0.2, -0.3, 0.4, -0.5],
        ];
        for g in &gradients {
            ogr.step(&mut x, g).unwrap();
        }
        let v = ogr.directions();
        assert_eq!(v.len(), 3);
        for i in 0..3 {
            for j in 0..3 {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((v[i].dot(&v[j]) - expected).abs() < 1e-14);
            }
        }
    }
}
