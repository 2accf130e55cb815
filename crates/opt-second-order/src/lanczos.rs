//! The Lanczos process on a Hessian, through Hessian-vector products.
//!
//! From a start vector `b`, `k` steps build an orthonormal basis
//! `Q_k = [q_1, ..., q_k]` of the Krylov space
//! `K_k(H, b) = span{b, H b, ..., H^{k-1} b}` and the symmetric tridiagonal
//! `T_k = Q_k' H Q_k` (diagonal `alpha`, off-diagonal `beta`):
//!
//! ```text
//! q_1 = b / ||b||
//! w   = H q_j - alpha_j q_j - beta_{j-1} q_{j-1},   alpha_j = q_j' H q_j
//! beta_j = ||w||,   q_{j+1} = w / beta_j
//! ```
//!
//! so that `H Q_k = Q_k T_k + beta_k q_{k+1} e_k'` (Golub & Van Loan,
//! *Matrix Computations*, 4th ed., section 10.1). In floating point the
//! `q_j` lose orthogonality as soon as a Ritz value converges (Paige's
//! theorem); since `k` is small here, every `w` is orthogonalized again
//! against all previous `q_i`, twice ("twice is enough": Parlett,
//! *The Symmetric Eigenvalue Problem*, 1998, section 6.9), at a cost of
//! `O(k^2 n)` on top of the `k` Hessian-vector products.
//!
//! **Breakdown.** When `beta_j <= tol * ||T||` (an estimate of `||H||`
//! from the entries seen so far) the Krylov space is invariant under `H`:
//! the process stops with `j` vectors and the eigenvalues of `T_j` are
//! eigenvalues of `H`.
//!
//! [`Lanczos`] is a reusable workspace: the basis vectors are allocated on
//! the first run (or when a run needs more of them) and reused afterwards,
//! so repeated runs of the same size allocate nothing of the vectors' size.

use ndarray::Array2;
use opt_core::{Objective, OptError, Result, Scalar, ScalarOf, VectorSpace};

/// The default relative breakdown tolerance: the process stops when
/// `beta_j <= 1e-10 * ||T||`.
pub const DEFAULT_BREAKDOWN_TOLERANCE: f64 = 1e-10;

/// A Lanczos workspace: the orthonormal basis of the last run and its
/// tridiagonal matrix `T = Q' H Q`.
#[derive(Debug, Clone)]
pub struct Lanczos<V> {
    /// Slots for the basis; the first `len` are the last run's `q_j`, the
    /// next one (when the run did not break down) holds `q_{len+1}`.
    slots: Vec<V>,
    len: usize,
    alphas: Vec<f64>,
    betas: Vec<f64>,
    residual_norm: f64,
    broke_down: bool,
    breakdown_tolerance: f64,
}

impl<V: VectorSpace> Default for Lanczos<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: VectorSpace> Lanczos<V> {
    /// An empty workspace with [`DEFAULT_BREAKDOWN_TOLERANCE`].
    pub fn new() -> Self {
        Self {
            slots: Vec::new(),
            len: 0,
            alphas: Vec::new(),
            betas: Vec::new(),
            residual_norm: 0.0,
            broke_down: false,
            breakdown_tolerance: DEFAULT_BREAKDOWN_TOLERANCE,
        }
    }

    /// An empty workspace that stops when `beta_j <= tolerance * ||T||`
    /// (`0 <= tolerance < 1`).
    pub fn with_breakdown_tolerance(tolerance: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&tolerance) {
            return Err(OptError::invalid(
                "breakdown_tolerance",
                tolerance,
                "must be in [0, 1)",
            ));
        }
        Ok(Self {
            breakdown_tolerance: tolerance,
            ..Self::new()
        })
    }

    /// Up to `max_steps` Lanczos steps from `start` with the operator
    /// `hvp(v, out)`: `out = H v`. Returns the number of basis vectors
    /// built: `max_steps`, or fewer when an invariant subspace was found.
    ///
    /// Errors: `max_steps == 0`, a zero or non-finite `start`, a
    /// non-finite product, or the operator's own error.
    pub fn run<F>(&mut self, start: &V, max_steps: usize, mut hvp: F) -> Result<usize>
    where
        F: FnMut(&V, &mut V) -> Result<()>,
    {
        if max_steps == 0 {
            return Err(OptError::invalid("steps", 0, "must be at least 1"));
        }
        let start_norm = start.norm2().to_f64_lossless();
        if !(start_norm.is_finite() && start_norm > 0.0) {
            return Err(OptError::invalid(
                "start",
                start_norm,
                "the start vector must be nonzero and finite (its norm is shown)",
            ));
        }
        self.prepare(start, max_steps + 1);
        self.slots[0].assign(start);
        self.slots[0].scale(ScalarOf::<V>::of(1.0 / start_norm));

        let mut norm_estimate = 0.0_f64;
        for j in 0..max_steps {
            let (done, rest) = self.slots.split_at_mut(j + 1);
            let w = &mut rest[0];
            hvp(&done[j], w)?;
            if !w.is_finite() {
                return Err(OptError::NonFinite {
                    what: "Hessian-vector product in the Lanczos process",
                    iteration: j,
                });
            }
            let mut alpha = done[j].dot(w).to_f64_lossless();
            w.axpy(ScalarOf::<V>::of(-alpha), &done[j]);
            let previous_beta = if j > 0 { self.betas[j - 1] } else { 0.0 };
            if j > 0 {
                w.axpy(ScalarOf::<V>::of(-previous_beta), &done[j - 1]);
            }
            for _pass in 0..2 {
                for (i, q) in done.iter().enumerate() {
                    let overlap = q.dot(w).to_f64_lossless();
                    w.axpy(ScalarOf::<V>::of(-overlap), q);
                    if i == j {
                        alpha += overlap;
                    }
                }
            }
            let beta = w.norm2().to_f64_lossless();
            self.alphas.push(alpha);
            self.len = j + 1;
            norm_estimate = norm_estimate.max(alpha.abs() + beta + previous_beta);
            self.residual_norm = beta;
            if beta <= self.breakdown_tolerance * norm_estimate {
                self.broke_down = true;
                break;
            }
            w.scale(ScalarOf::<V>::of(1.0 / beta));
            if j + 1 < max_steps {
                self.betas.push(beta);
            }
        }
        Ok(self.len)
    }

    /// [`Lanczos::run`] on the Hessian of `problem` at `x`, through
    /// [`Objective::hvp`].
    pub fn run_on<P>(&mut self, problem: &P, x: &V, start: &V, max_steps: usize) -> Result<usize>
    where
        P: Objective<Vector = V> + ?Sized,
    {
        self.run(start, max_steps, |v, out| problem.hvp(x, v, out))
    }

    /// Number of basis vectors of the last run.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` before the first run.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The orthonormal basis `q_1, ..., q_len` of the last run.
    pub fn basis(&self) -> &[V] {
        &self.slots[..self.len]
    }

    /// The diagonal `alpha_1, ..., alpha_len` of `T`.
    pub fn alphas(&self) -> &[f64] {
        &self.alphas
    }

    /// The off-diagonal `beta_1, ..., beta_{len-1}` of `T`.
    pub fn betas(&self) -> &[f64] {
        &self.betas
    }

    /// `beta_len = ||H q_len - alpha_len q_len - beta_{len-1} q_{len-1}||`,
    /// the coupling to the rest of the space (at most the breakdown
    /// threshold when [`Lanczos::broke_down`]).
    pub fn residual_norm(&self) -> f64 {
        self.residual_norm
    }

    /// Whether the last run stopped early on an invariant subspace.
    pub fn broke_down(&self) -> bool {
        self.broke_down
    }

    /// The dense `len x len` tridiagonal `T = Q' H Q`.
    pub fn tridiagonal(&self) -> Array2<f64> {
        let mut t = Array2::zeros((self.len, self.len));
        for (i, &alpha) in self.alphas.iter().enumerate() {
            t[[i, i]] = alpha;
        }
        for (i, &beta) in self.betas.iter().enumerate() {
            t[[i, i + 1]] = beta;
            t[[i + 1, i]] = beta;
        }
        t
    }

    /// Reset the run's results and make sure there are `slots` vectors of
    /// `like`'s length (allocating only when there are too few).
    fn prepare(&mut self, like: &V, slots: usize) {
        if self.slots.first().is_some_and(|q| q.len() != like.len()) {
            self.slots.clear();
        }
        while self.slots.len() < slots {
            self.slots.push(like.zeros_like());
        }
        self.len = 0;
        self.alphas.clear();
        self.betas.clear();
        self.residual_norm = 0.0;
        self.broke_down = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::symmetric_eigen;
    use crate::testing::DenseQuadratic;
    use ndarray::{Array1, array};

    fn diagonal_operator(
        d: Array1<f64>,
    ) -> impl FnMut(&Array1<f64>, &mut Array1<f64>) -> Result<()> {
        move |v, out| {
            out.assign(&(&d * v));
            Ok(())
        }
    }

    fn basis_matrix(lanczos: &Lanczos<Array1<f64>>) -> Array2<f64> {
        let n = lanczos.basis()[0].len();
        let mut q = Array2::zeros((n, lanczos.len()));
        for (j, v) in lanczos.basis().iter().enumerate() {
            q.column_mut(j).assign(v);
        }
        q
    }

    #[test]
    fn full_run_on_a_diagonal_matrix_recovers_its_eigenvalues() {
        let d = array![4.0, -1.0, 2.5, 0.5, 10.0, -3.0];
        let mut lanczos = Lanczos::new();
        let start = Array1::from_elem(6, 1.0);
        let m = lanczos
            .run(&start, 6, diagonal_operator(d.clone()))
            .unwrap();
        assert_eq!(m, 6);
        let (ritz, _) = symmetric_eigen(&lanczos.tridiagonal()).unwrap();
        let mut expected = d.to_vec();
        expected.sort_by(f64::total_cmp);
        for (r, e) in ritz.iter().zip(&expected) {
            assert!((r - e).abs() < 1e-12, "Ritz {ritz} against {expected:?}");
        }
    }

    #[test]
    fn basis_is_orthonormal_and_tridiagonalizes_a_dense_quadratic() {
        let quadratic = DenseQuadratic::with_condition(8, 1e3, 11);
        let a = quadratic.matrix().clone();
        let x = Array1::zeros(8);
        let start = Array1::from_shape_fn(8, |i| 1.0 + i as f64);
        let mut lanczos = Lanczos::new();
        let m = lanczos.run_on(&quadratic, &x, &start, 5).unwrap();
        assert_eq!(m, 5);
        assert!(!lanczos.broke_down());
        let q = basis_matrix(&lanczos);
        let qtq = q.t().dot(&q);
        let identity = Array2::<f64>::eye(5);
        assert!((&qtq - &identity).iter().all(|e| e.abs() < 1e-13), "{qtq}");
        let projected = q.t().dot(&a).dot(&q);
        let t = lanczos.tridiagonal();
        let scale = 1e3;
        assert!(
            (&projected - &t).iter().all(|e| e.abs() < 1e-12 * scale),
            "Q'AQ = {projected}\nT = {t}"
        );
        // q_1 is the normalized start vector.
        let q1 = &lanczos.basis()[0];
        let s = &start / start.dot(&start).sqrt();
        assert!((q1 - &s).iter().all(|e| e.abs() < 1e-15));

        // The full run gives the whole spectrum (1 .. 1e3).
        let m = lanczos.run_on(&quadratic, &x, &start, 8).unwrap();
        assert_eq!(m, 8);
        let (ritz, _) = symmetric_eigen(&lanczos.tridiagonal()).unwrap();
        let (exact, _) = symmetric_eigen(&a).unwrap();
        for (r, e) in ritz.iter().zip(&exact) {
            assert!((r - e).abs() < 1e-10 * scale, "{ritz} vs {exact}");
        }
    }

    #[test]
    fn stops_on_an_invariant_subspace() {
        // The start vector lies in the span of two eigenvectors: K is 2-D.
        let d = array![1.0, 2.0, 3.0, 4.0];
        let start = array![1.0, 0.0, 1.0, 0.0];
        let mut lanczos = Lanczos::new();
        let m = lanczos.run(&start, 4, diagonal_operator(d)).unwrap();
        assert_eq!(m, 2);
        assert!(lanczos.broke_down());
        assert!(lanczos.residual_norm() < 1e-12);
        let (ritz, _) = symmetric_eigen(&lanczos.tridiagonal()).unwrap();
        assert!((ritz[0] - 1.0).abs() < 1e-14 && (ritz[1] - 3.0).abs() < 1e-14);
        // Asking for more steps than the dimension stops at the dimension.
        let m = lanczos
            .run(
                &array![1.0, 1.0, 1.0, 1.0],
                10,
                diagonal_operator(array![1.0, 2.0, 3.0, 4.0]),
            )
            .unwrap();
        assert_eq!(m, 4);
    }

    #[test]
    fn reuses_its_workspace() {
        let d = array![1.0, 5.0, 9.0, 2.0, 7.0];
        let start = array![1.0, -1.0, 0.5, 2.0, 0.1];
        let mut lanczos = Lanczos::new();
        lanczos
            .run(&start, 3, diagonal_operator(d.clone()))
            .unwrap();
        let first = (lanczos.alphas().to_vec(), lanczos.betas().to_vec());
        lanczos.run(&start, 3, diagonal_operator(d)).unwrap();
        assert_eq!(first, (lanczos.alphas().to_vec(), lanczos.betas().to_vec()));
        assert_eq!(lanczos.slots.len(), 4);
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut lanczos = Lanczos::new();
        let op = || diagonal_operator(array![1.0, 2.0]);
        assert!(matches!(
            lanczos.run(&array![1.0, 0.0], 0, op()),
            Err(OptError::InvalidHyperparameter { name: "steps", .. })
        ));
        assert!(matches!(
            lanczos.run(&array![0.0, 0.0], 2, op()),
            Err(OptError::InvalidHyperparameter { name: "start", .. })
        ));
        assert!(matches!(
            lanczos.run(&array![f64::NAN, 1.0], 2, op()),
            Err(OptError::InvalidHyperparameter { name: "start", .. })
        ));
        let nan_operator = |_: &Array1<f64>, out: &mut Array1<f64>| {
            out.fill(f64::NAN);
            Ok(())
        };
        assert!(matches!(
            lanczos.run(&array![1.0, 1.0], 2, nan_operator),
            Err(OptError::NonFinite { .. })
        ));
        assert!(Lanczos::<Array1<f64>>::with_breakdown_tolerance(1.5).is_err());
        assert!(Lanczos::<Array1<f64>>::with_breakdown_tolerance(f64::NAN).is_err());
    }
}
