//! The dense linear algebra of Levenberg-Marquardt, after More (1978) and
//! MINPACK's `qrfac`, `qrsolv` and `lmpar`:
//!
//! - [`PivotedQr`]: Householder QR with column pivoting, `J P = Q R`, with
//!   the column norms of `J` (for the scaling `D`);
//! - [`DampedSolver::solve`]: the least-squares solution of
//!   `[J; sqrt(lambda) D] x = [b; 0]` from `R` by Givens rotations that fold
//!   the diagonal rows `sqrt(lambda) D` into `R` (`S' S = R'R + lambda P'D'DP`,
//!   never forming `J'J`);
//! - [`DampedSolver::trust_region_step`]: the Levenberg-Marquardt parameter
//!   `lambda` for a trust-region radius `Delta`, by the safeguarded Newton
//!   iteration on `phi(lambda) = ||D p(lambda)|| - Delta` with the bounds
//!   `[l, u]` of More (1978), section 5.
//!
//! Column pivoting (MINPACK's choice) orders the columns by decreasing
//! remaining norm, so that a rank-deficient `J` shows as trailing zero
//! diagonal entries of `R`; the Gauss-Newton direction is then the basic
//! solution on the leading columns (More 1978, eq. 3.3 and section 4). A
//! pivot that is tiny but not zero gives a huge Gauss-Newton direction,
//! which the trust region bounds (`lambda > 0`); only if that direction
//! overflows is the rank cut at pivots below `n eps |R_00|`.
//! `faer`'s unpivoted QR (`crate::linalg::qr_thin`) does not reveal rank,
//! which is why this module has its own small factorization; the matrices
//! here are `m x n` with `n` the number of parameters.

use ndarray::{Array2, ArrayView1};

/// `||v||`, scaled so that it neither overflows nor underflows for finite
/// entries (the role of MINPACK's `enorm`).
pub(crate) fn norm(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let largest = values.clone().fold(0.0_f64, |m, v| m.max(v.abs()));
    if largest == 0.0 || !largest.is_finite() {
        return largest;
    }
    let sum: f64 = values.map(|v| (v / largest) * (v / largest)).sum();
    largest * sum.sqrt()
}

/// Householder QR with column pivoting of an `m x n` matrix, `J P = Q R`.
///
/// A matrix with fewer rows than columns is padded with zero rows, so `R`
/// is always `n x n` (and then singular).
#[derive(Debug, Clone)]
pub(crate) struct PivotedQr {
    /// Rows of the (padded) matrix, `max(m, n)`.
    rows: usize,
    cols: usize,
    /// Householder vectors on and below the diagonal (column `j` holds
    /// `v_j`, with `H_j = I - v_j v_j' / v_j[j]`); above it, junk.
    householder: Array2<f64>,
    /// `R`, `n x n` upper triangular, in pivoted column order.
    r: Array2<f64>,
    /// Column `j` of `R` is column `permutation[j]` of `J`.
    permutation: Vec<usize>,
    /// `||J e_j||`, in `J`'s column order.
    column_norms: Vec<f64>,
    /// Norms of the not yet reduced part of each column, and the values they
    /// were last recomputed from (MINPACK's downdating safeguard).
    partial_norms: Vec<f64>,
    reference_norms: Vec<f64>,
}

impl PivotedQr {
    /// Workspace for `m x n` matrices.
    pub(crate) fn new(m: usize, n: usize) -> Self {
        let rows = m.max(n);
        Self {
            rows,
            cols: n,
            householder: Array2::zeros((rows, n)),
            r: Array2::zeros((n, n)),
            permutation: (0..n).collect(),
            column_norms: vec![0.0; n],
            partial_norms: vec![0.0; n],
            reference_norms: vec![0.0; n],
        }
    }

    /// Factor `jacobian` (`m x n`, finite).
    pub(crate) fn factor(&mut self, jacobian: &Array2<f64>) {
        let n = self.cols;
        debug_assert_eq!(jacobian.ncols(), n);
        let a = &mut self.householder;
        a.fill(0.0);
        for ((i, j), &value) in jacobian.indexed_iter() {
            a[[i, j]] = value;
        }
        for j in 0..n {
            let column_norm = norm(a.column(j).iter().copied());
            self.column_norms[j] = column_norm;
            self.partial_norms[j] = column_norm;
            self.reference_norms[j] = column_norm;
            self.permutation[j] = j;
        }
        self.r.fill(0.0);
        for j in 0..n {
            // Bring the column of largest remaining norm to position j.
            let mut pivot = j;
            for k in j + 1..n {
                if self.partial_norms[k] > self.partial_norms[pivot] {
                    pivot = k;
                }
            }
            if pivot != j {
                for i in 0..self.rows {
                    a.swap([i, j], [i, pivot]);
                }
                for k in 0..j {
                    self.r.swap([k, j], [k, pivot]);
                }
                self.partial_norms[pivot] = self.partial_norms[j];
                self.reference_norms[pivot] = self.reference_norms[j];
                self.permutation.swap(j, pivot);
            }
            // Reflect a[j.., j] onto a multiple of e_j.
            let mut alpha = norm((j..self.rows).map(|i| a[[i, j]]));
            if alpha != 0.0 {
                if a[[j, j]] < 0.0 {
                    alpha = -alpha;
                }
                for i in j..self.rows {
                    a[[i, j]] /= alpha;
                }
                a[[j, j]] += 1.0;
                let head = a[[j, j]];
                for k in j + 1..n {
                    let dot: f64 = (j..self.rows).map(|i| a[[i, j]] * a[[i, k]]).sum();
                    let factor = dot / head;
                    for i in j..self.rows {
                        a[[i, k]] -= factor * a[[i, j]];
                    }
                    self.r[[j, k]] = a[[j, k]];
                    // Downdate the remaining norm of column k; recompute it
                    // when cancellation has eaten its accuracy.
                    if self.partial_norms[k] != 0.0 {
                        let ratio = a[[j, k]] / self.partial_norms[k];
                        self.partial_norms[k] *= (1.0 - ratio * ratio).max(0.0).sqrt();
                        let relative = self.partial_norms[k] / self.reference_norms[k];
                        if 0.05 * relative * relative <= f64::EPSILON {
                            let fresh = norm((j + 1..self.rows).map(|i| a[[i, k]]));
                            self.partial_norms[k] = fresh;
                            self.reference_norms[k] = fresh;
                        }
                    }
                }
            } else {
                for k in j + 1..n {
                    self.r[[j, k]] = a[[j, k]];
                }
            }
            self.r[[j, j]] = -alpha;
        }
    }

    /// `b <- Q' b` for `b` of length `m` (the padding rows are zero and
    /// need no storage): on return `b[..n]` is `(Q' b)[..n]` when `m >= n`.
    /// `padded` is a buffer of length `max(m, n)`.
    pub(crate) fn apply_qt(&self, b: ArrayView1<'_, f64>, padded: &mut [f64]) {
        for (slot, &value) in padded.iter_mut().zip(b.iter()) {
            *slot = value;
        }
        padded[b.len()..].fill(0.0);
        let a = &self.householder;
        for j in 0..self.cols {
            let head = a[[j, j]];
            if head != 0.0 {
                let dot: f64 = (j..self.rows).map(|i| a[[i, j]] * padded[i]).sum();
                let factor = dot / head;
                for i in j..self.rows {
                    padded[i] -= factor * a[[i, j]];
                }
            }
        }
    }

    /// `R` (`n x n`, upper triangular, pivoted column order).
    pub(crate) fn r(&self) -> &Array2<f64> {
        &self.r
    }

    /// Column `j` of `R` is column `permutation()[j]` of `J`.
    pub(crate) fn permutation(&self) -> &[usize] {
        &self.permutation
    }

    /// `||J e_j||` in `J`'s column order.
    pub(crate) fn column_norms(&self) -> &[f64] {
        &self.column_norms
    }

    /// Rows of the padded matrix, `max(m, n)`.
    #[cfg(test)]
    pub(crate) fn padded_rows(&self) -> usize {
        self.rows
    }

    /// The numerical rank: the number of leading diagonal entries of `R`
    /// with `|R_jj| > tolerance |R_00|` (pivoting makes them decrease).
    pub(crate) fn rank(&self, tolerance: f64) -> usize {
        let n = self.cols;
        if n == 0 {
            return 0;
        }
        let largest = self.r[[0, 0]].abs();
        (0..n)
            .position(|j| self.r[[j, j]].abs() <= tolerance * largest)
            .unwrap_or(n)
    }
}

/// What [`DampedSolver::trust_region_step`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TrustRegionStep {
    /// The Levenberg-Marquardt parameter `lambda` (0: the Gauss-Newton step).
    pub(crate) lambda: f64,
    /// `||D p||`.
    pub(crate) scaled_norm: f64,
}

/// Solves damped least-squares systems against one [`PivotedQr`], with its
/// buffers allocated once.
#[derive(Debug, Clone)]
pub(crate) struct DampedSolver {
    n: usize,
    /// `S'` after [`DampedSolver::solve`]: lower triangular with
    /// `S'S = R'R + lambda P'D'DP` (MINPACK keeps it in `R`'s lower triangle).
    s_transposed: Array2<f64>,
    /// The row `sqrt(lambda) D` being folded in.
    row: Vec<f64>,
    /// Right-hand side being rotated, then the solution in pivoted order.
    rhs: Vec<f64>,
    work: Vec<f64>,
    scaled: Vec<f64>,
}

impl DampedSolver {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            n,
            s_transposed: Array2::zeros((n, n)),
            row: vec![0.0; n],
            rhs: vec![0.0; n],
            work: vec![0.0; n],
            scaled: vec![0.0; n],
        }
    }

    /// The least-squares solution `x` (in `J`'s column order) of
    /// `[J; diag(damping)] x = [b; 0]`, given `qtb = (Q'b)[..n]`:
    /// MINPACK's `qrsolv`. A zero pivot of the damped factor (possible only
    /// where `damping` is zero) zeroes that component and those after it.
    pub(crate) fn solve(&mut self, qr: &PivotedQr, damping: &[f64], qtb: &[f64], x: &mut [f64]) {
        let n = self.n;
        let r = qr.r();
        let permutation = qr.permutation();
        let s = &mut self.s_transposed;
        for j in 0..n {
            for i in j..n {
                s[[i, j]] = r[[j, i]];
            }
            for i in 0..j {
                s[[i, j]] = 0.0;
            }
        }
        self.rhs.copy_from_slice(qtb);
        for j in 0..n {
            let d = damping[permutation[j]];
            if d == 0.0 {
                continue;
            }
            self.row[j..].fill(0.0);
            self.row[j] = d;
            // The extra row's entry of the right-hand side (zero at first).
            let mut extra = 0.0;
            for k in j..n {
                if self.row[k] == 0.0 {
                    continue;
                }
                let (cos, sin) = givens(s[[k, k]], self.row[k]);
                s[[k, k]] = cos * s[[k, k]] + sin * self.row[k];
                let rotated = cos * self.rhs[k] + sin * extra;
                extra = -sin * self.rhs[k] + cos * extra;
                self.rhs[k] = rotated;
                for i in k + 1..n {
                    let rotated = cos * s[[i, k]] + sin * self.row[i];
                    self.row[i] = -sin * s[[i, k]] + cos * self.row[i];
                    s[[i, k]] = rotated;
                }
            }
        }
        // Back substitution with S (upper triangular, S[j][i] = s[i][j]).
        let singular = (0..n).find(|&j| s[[j, j]] == 0.0).unwrap_or(n);
        self.rhs[singular..].fill(0.0);
        for j in (0..singular).rev() {
            let sum: f64 = (j + 1..singular).map(|i| s[[i, j]] * self.rhs[i]).sum();
            self.rhs[j] = (self.rhs[j] - sum) / s[[j, j]];
        }
        for j in 0..n {
            x[permutation[j]] = self.rhs[j];
        }
    }

    /// The Gauss-Newton solution `x` of `J x ~ b` (basic solution on the
    /// first `rank` pivoted columns, the rest zero).
    fn gauss_newton(&mut self, qr: &PivotedQr, qtb: &[f64], rank: usize, x: &mut [f64]) {
        let r = qr.r();
        self.work.copy_from_slice(qtb);
        self.work[rank..].fill(0.0);
        for j in (0..rank).rev() {
            self.work[j] /= r[[j, j]];
            let value = self.work[j];
            for i in 0..j {
                self.work[i] -= r[[i, j]] * value;
            }
        }
        for j in 0..self.n {
            x[qr.permutation()[j]] = self.work[j];
        }
    }

    /// `||D x||`, with `D x` left in `self.scaled`.
    fn scaled_norm(&mut self, diag: &[f64], x: &[f64]) -> f64 {
        for j in 0..self.n {
            self.scaled[j] = diag[j] * x[j];
        }
        norm(self.scaled.iter().copied())
    }

    /// More's (1978) algorithm 5.5 (MINPACK `lmpar`): find `lambda >= 0`
    /// such that `x(lambda)`, the least-squares solution of
    /// `[J; sqrt(lambda) D] x = [b; 0]`, has `||D x||` within 10% of `delta`,
    /// or `lambda = 0` when the Gauss-Newton step is already inside
    /// `1.1 delta`. `lambda` enters as the previous value (a warm start) and
    /// at most 10 Newton iterations on `phi(lambda) = ||D x(lambda)|| - delta`
    /// are made, each kept inside the bracket `[l, u]`
    /// (`l` from `phi'(0)` when `J` has full rank, `u = ||(JD^-1)'b|| / delta`).
    /// `x` (in `J`'s column order) is the solution for the returned `lambda`;
    /// the Levenberg-Marquardt step is `-x` when `b` is the residual.
    pub(crate) fn trust_region_step(
        &mut self,
        qr: &PivotedQr,
        diag: &[f64],
        qtb: &[f64],
        delta: f64,
        lambda: f64,
        damping: &mut [f64],
        x: &mut [f64],
    ) -> TrustRegionStep {
        let n = self.n;
        let r = qr.r();
        let permutation = qr.permutation();
        let dwarf = f64::MIN_POSITIVE;

        // The Gauss-Newton direction: the basic solution when R has exact
        // zeros on its diagonal (MINPACK's rule); if it is not finite (R
        // singular to working precision), cut the rank where pivots fall
        // below n eps |R_00|. Cutting at n eps always would zero the
        // direction along a column that has become negligible (BoxBOD from
        // start 1, where exp(-b2 x) underflows): MINPACK's huge direction
        // there, bounded by the trust region whose scaling remembers the
        // column's earlier norm, is what moves b2 off that plateau.
        let mut rank = (0..n).find(|&j| r[[j, j]] == 0.0).unwrap_or(n);
        self.gauss_newton(qr, qtb, rank, x);
        if !x.iter().all(|v| v.is_finite()) {
            rank = qr.rank(n as f64 * f64::EPSILON);
            self.gauss_newton(qr, qtb, rank, x);
        }
        let mut dxnorm = self.scaled_norm(diag, x);
        let mut fp = dxnorm - delta;
        if fp <= 0.1 * delta {
            return TrustRegionStep {
                lambda: 0.0,
                scaled_norm: dxnorm,
            };
        }

        // Lower bound l = -phi(0) / phi'(0) when J has full rank.
        let mut lower = 0.0;
        if rank == n {
            for j in 0..n {
                let l = permutation[j];
                self.work[j] = diag[l] * (self.scaled[l] / dxnorm);
            }
            for j in 0..n {
                let sum: f64 = (0..j).map(|i| r[[i, j]] * self.work[i]).sum();
                self.work[j] = (self.work[j] - sum) / r[[j, j]];
            }
            let temp = norm(self.work.iter().copied());
            lower = ((fp / delta) / temp) / temp;
        }

        // Upper bound u = ||(J D^-1)' b|| / delta.
        for j in 0..n {
            let sum: f64 = (0..=j).map(|i| r[[i, j]] * qtb[i]).sum();
            self.work[j] = sum / diag[permutation[j]];
        }
        let gradient_norm = norm(self.work.iter().copied());
        let mut upper = gradient_norm / delta;
        if upper == 0.0 {
            upper = dwarf / delta.min(0.1);
        }

        let mut lambda = lambda.max(lower).min(upper);
        if lambda == 0.0 {
            lambda = gradient_norm / dxnorm;
        }

        for iteration in 1..=10 {
            if lambda == 0.0 {
                lambda = dwarf.max(0.001 * upper);
            }
            let root = lambda.sqrt();
            for j in 0..n {
                damping[j] = root * diag[j];
            }
            self.solve(qr, damping, qtb, x);
            dxnorm = self.scaled_norm(diag, x);
            let previous_fp = fp;
            fp = dxnorm - delta;
            if fp.abs() <= 0.1 * delta
                || (lower == 0.0 && fp <= previous_fp && previous_fp < 0.0)
                || iteration == 10
            {
                break;
            }
            // Newton correction: phi / phi' from S' y = P'D'(D x)/||D x||.
            for j in 0..n {
                let l = permutation[j];
                self.work[j] = diag[l] * (self.scaled[l] / dxnorm);
            }
            let s = &self.s_transposed;
            for j in 0..n {
                self.work[j] /= s[[j, j]];
                let value = self.work[j];
                for i in j + 1..n {
                    self.work[i] -= s[[i, j]] * value;
                }
            }
            let temp = norm(self.work.iter().copied());
            let correction = ((fp / delta) / temp) / temp;
            if fp > 0.0 {
                lower = lower.max(lambda);
            }
            if fp < 0.0 {
                upper = upper.min(lambda);
            }
            lambda = lower.max(lambda + correction);
        }
        TrustRegionStep {
            lambda,
            scaled_norm: dxnorm,
        }
    }
}

/// `(cos, sin)` of the rotation that zeroes `b` against `a`:
/// `[cos sin; -sin cos] [a; b] = [rho; 0]`, computed as MINPACK does.
fn givens(a: f64, b: f64) -> (f64, f64) {
    if b == 0.0 {
        (1.0, 0.0)
    } else if a.abs() < b.abs() {
        let cotangent = a / b;
        let sin = 0.5 / (0.25 + 0.25 * cotangent * cotangent).sqrt();
        (sin * cotangent, sin)
    } else {
        let tangent = b / a;
        let cos = 0.5 / (0.25 + 0.25 * tangent * tangent).sqrt();
        (cos, cos * tangent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    fn jacobian() -> Array2<f64> {
        array![
            [1.0, 2.0, 0.5],
            [3.0, -1.0, 2.0],
            [0.5, 4.0, -3.0],
            [2.0, 0.0, 1.0],
            [-1.0, 1.5, 0.25]
        ]
    }

    #[test]
    fn pivoted_qr_reconstructs_the_permuted_matrix() {
        let j = jacobian();
        let mut qr = PivotedQr::new(5, 3);
        qr.factor(&j);
        // Q' J P = [R; 0]: apply Q' to each permuted column.
        let mut padded = vec![0.0; 5];
        for (k, &column) in qr.permutation().iter().enumerate() {
            qr.apply_qt(j.column(column), &mut padded);
            for i in 0..5 {
                let expected = if i < 3 { qr.r()[[i, k]] } else { 0.0 };
                assert!((padded[i] - expected).abs() < 1e-13, "{i} {k}: {padded:?}");
            }
        }
        // Diagonal of R decreasing in magnitude, column norms exact.
        let r = qr.r();
        assert!(r[[0, 0]].abs() >= r[[1, 1]].abs() && r[[1, 1]].abs() >= r[[2, 2]].abs());
        for c in 0..3 {
            let expected = j.column(c).dot(&j.column(c)).sqrt();
            assert!((qr.column_norms()[c] - expected).abs() < 1e-14);
        }
    }

    #[test]
    fn damped_solve_matches_the_normal_equations() {
        // (J'J + D'D) x = J'b for a damping row D = diag(0.3, 0, 1.2).
        let j = jacobian();
        let b = array![1.0, -2.0, 0.5, 3.0, 0.0];
        let damping = [0.3, 0.0, 1.2];
        let mut qr = PivotedQr::new(5, 3);
        qr.factor(&j);
        let mut padded = vec![0.0; 5];
        qr.apply_qt(b.view(), &mut padded);
        let mut solver = DampedSolver::new(3);
        let mut x = vec![0.0; 3];
        solver.solve(&qr, &damping, &padded[..3], &mut x);
        let mut normal = j.t().dot(&j);
        for k in 0..3 {
            normal[[k, k]] += damping[k] * damping[k];
        }
        let residual = normal.dot(&Array1::from(x.clone())) - j.t().dot(&b);
        assert!(residual.iter().all(|v| v.abs() < 1e-12), "{residual}");
    }

    #[test]
    fn rank_deficient_matrix_gives_finite_steps() {
        // Third column = first + second: rank 2 (R_22 at rounding level).
        let mut j = jacobian();
        for i in 0..5 {
            j[[i, 2]] = j[[i, 0]] + j[[i, 1]];
        }
        let mut qr = PivotedQr::new(5, 3);
        qr.factor(&j);
        assert_eq!(qr.rank(1e-12), 2);
        let b = array![1.0, -2.0, 0.5, 3.0, 0.0];
        let mut padded = vec![0.0; 5];
        qr.apply_qt(b.view(), &mut padded);
        let mut solver = DampedSolver::new(3);
        let mut x = vec![0.0; 3];
        let mut damping = vec![0.0; 3];
        // The near-singular Gauss-Newton direction is huge; the trust region
        // turns it into a finite damped step on the radius that solves
        // (J'J + lambda I) x = J'b.
        let delta = 10.0;
        let step = solver.trust_region_step(
            &qr,
            &[1.0; 3],
            &padded[..3],
            delta,
            0.0,
            &mut damping,
            &mut x,
        );
        assert!(step.lambda > 0.0 && x.iter().all(|v| v.is_finite()));
        assert!((step.scaled_norm - delta).abs() <= 0.1 * delta);
        let mut normal = j.t().dot(&j);
        for k in 0..3 {
            normal[[k, k]] += step.lambda;
        }
        let residual = normal.dot(&Array1::from(x.clone())) - j.t().dot(&b);
        assert!(residual.iter().all(|v| v.abs() < 1e-8), "{residual}");
        // An exactly zero column gives an exactly zero pivot: the basic
        // solution, zero in that component, with lambda = 0.
        let mut j = jacobian();
        j.column_mut(1).fill(0.0);
        qr.factor(&j);
        qr.apply_qt(b.view(), &mut padded);
        let step =
            solver.trust_region_step(&qr, &[1.0; 3], &padded[..3], 1e6, 0.0, &mut damping, &mut x);
        assert_eq!(step.lambda, 0.0);
        assert_eq!(x[1], 0.0);
        let g = j.t().dot(&(j.dot(&Array1::from(x)) - &b));
        assert!(g.iter().all(|v| v.abs() < 1e-12), "{g}");
    }

    #[test]
    fn trust_region_step_lands_on_the_radius() {
        let j = jacobian();
        let b = array![10.0, -20.0, 5.0, 30.0, 1.0];
        let mut qr = PivotedQr::new(5, 3);
        qr.factor(&j);
        let mut padded = vec![0.0; 5];
        qr.apply_qt(b.view(), &mut padded);
        let diag = [2.0, 1.0, 0.5];
        let mut solver = DampedSolver::new(3);
        let mut x = vec![0.0; 3];
        let mut damping = vec![0.0; 3];
        let delta = 0.1;
        let step =
            solver.trust_region_step(&qr, &diag, &padded[..3], delta, 0.0, &mut damping, &mut x);
        assert!(step.lambda > 0.0);
        let dx: f64 = (0..3).map(|k| (diag[k] * x[k]).powi(2)).sum::<f64>().sqrt();
        assert!((dx - delta).abs() <= 0.1 * delta, "{dx}");
        assert!((step.scaled_norm - dx).abs() < 1e-14);
        // x solves (J'J + lambda D'D) x = J'b.
        let mut normal = j.t().dot(&j);
        for k in 0..3 {
            normal[[k, k]] += step.lambda * diag[k] * diag[k];
        }
        let residual = normal.dot(&Array1::from(x)) - j.t().dot(&b);
        assert!(residual.iter().all(|v| v.abs() < 1e-9), "{residual}");
    }

    #[test]
    fn wide_matrices_are_padded() {
        let j = array![[1.0, 2.0, 3.0]];
        let mut qr = PivotedQr::new(1, 3);
        qr.factor(&j);
        assert_eq!(qr.padded_rows(), 3);
        assert_eq!(qr.rank(1e-12), 1);
    }

    #[test]
    fn norm_is_safe_for_extreme_values() {
        assert_eq!(norm([3.0, 4.0].into_iter()), 5.0);
        assert!((norm([3e200, 4e200].into_iter()) - 5e200).abs() < 1e186);
        assert!((norm([3e-200, 4e-200].into_iter()) - 5e-200).abs() < 1e-214);
        assert_eq!(norm(std::iter::empty()), 0.0);
    }
}
