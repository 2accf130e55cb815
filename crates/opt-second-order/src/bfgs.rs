//! BFGS with the inverse update (Nocedal & Wright 2006, *Numerical
//! Optimization*, 2nd ed., Algorithm 6.1).
//!
//! From `x_k` with gradient `g_k` and the inverse-Hessian approximation
//! `H_k`, step along `p_k = -H_k g_k` by a line search to
//! `x_{k+1} = x_k + a_k p_k`, then with `s_k = a_k p_k`,
//! `y_k = g_{k+1} - g_k` and `rho_k = 1 / (y_k' s_k)` update (eq. 6.17)
//!
//! ```text
//! H_{k+1} = (I - rho s y') H (I - rho y s') + rho s s'
//!         = H - rho (s (Hy)' + (Hy) s') + (rho^2 y'Hy + rho) s s'.
//! ```
//!
//! The second line is what is computed: one product `H y` and one pass over
//! `H` that applies the rank-two correction and, row by row while the row is
//! in cache, forms the next direction `-H_{k+1} g_{k+1}`. Neither
//! `I - rho s y'` nor any other matrix is formed, and nothing is allocated
//! after [`Solver::init`]. The correction is written so that each entry is
//! computed by the same floating-point expression as its mirror image, so
//! `H` stays exactly symmetric.
//!
//! Details, each a choice the book leaves open:
//!
//! - **Initial matrix.** The first step is along `-g_0` (`H_0 = I`). Before
//!   the first update `H_0` is replaced by `(y'_0 s_0 / y'_0 y_0) I`
//!   (eq. 6.20), which gives the matrix the scale of the inverse Hessian
//!   along `y_0`.
//! - **First trial step.** While `H = I` is still unscaled the search starts
//!   at `a = min(1, 1 / ||g||_2)`, a step of length at most 1 along `-g`
//!   (L-BFGS-B starts at `1 / ||g||_2` on its first iteration; SciPy's BFGS
//!   at about `1.01 / ||g||_2`); afterwards at `a = 1`, the quasi-Newton
//!   step, which the book recommends trying first.
//! - **Line search.** Strong Wolfe (Moré-Thuente) with `c1 = 1e-4`,
//!   `c2 = 0.9` (Nocedal & Wright's values for quasi-Newton methods), which
//!   guarantees `y's > 0`; or the exact step of a quadratic
//!   ([`QuasiNewtonLineSearch::Exact`]), with which BFGS ends on a strictly
//!   convex quadratic in `n` steps with `H_n = A^{-1}` (Nocedal & Wright,
//!   Theorem 6.4 and the discussion after it).
//! - **Skipped updates.** The update is skipped (and counted) when
//!   `y's <= eps ||s|| ||y||`, `eps` the machine epsilon of the scalar type:
//!   the issue's `y's <= 0` test made relative, so that a curvature lost in
//!   rounding does not produce a huge `rho` (a positive definite `H` needs
//!   `y's > 0`, section 6.1). Wolfe steps never trigger it in exact
//!   arithmetic.
//! - **Line-search failure.** When the search fails (or the direction is not
//!   one of descent, which only rounding can cause) with a scaled `H`, `H`
//!   is reset to `I` and the search is retried once along `-g`; a second
//!   failure stops the run with [`StopReason::LineSearchFailed`].
//! - **Precision.** `H` and the vectors of the update are kept in `f64` for
//!   every scalar type: over many rank-two corrections an `f32` matrix loses
//!   the cancellation in `H - rho (s (Hy)' + (Hy) s')` and with it positive
//!   definiteness, while the widening costs `O(n)` against the `O(n^2)`
//!   update. The direction is rounded to the problem's scalar once.

use ndarray::{Array1, Array2, Zip};
use opt_core::line_search::{ExactQuadratic, LineSearch, LineSearchOutcome, MoreThuente};
use opt_core::num_traits::{Float, One, Zero};
use opt_core::{
    Counted, IterState, Objective, OptError, Result, Scalar, ScalarOf, Solver, StopReason,
    VectorSpace, check_len,
};
use serde::{Deserialize, Serialize};

/// The line search of a quasi-Newton method.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum QuasiNewtonLineSearch {
    /// Moré-Thuente search for the strong Wolfe conditions (the default,
    /// `c1 = 1e-4`, `c2 = 0.9`).
    StrongWolfe(MoreThuente),
    /// The exact minimizer along the direction of a quadratic, from one
    /// Hessian-vector product (for tests on quadratics: it assumes `f` is
    /// quadratic and does not check for decrease).
    Exact(ExactQuadratic),
}

impl Default for QuasiNewtonLineSearch {
    fn default() -> Self {
        QuasiNewtonLineSearch::StrongWolfe(MoreThuente::default())
    }
}

impl QuasiNewtonLineSearch {
    /// Strong Wolfe with the given constants; requires `0 < c1 < c2 < 1`.
    pub fn strong_wolfe(c1: f64, c2: f64) -> Result<Self> {
        Ok(QuasiNewtonLineSearch::StrongWolfe(MoreThuente::new(
            c1, c2,
        )?))
    }

    /// Check the search's parameters.
    pub fn validate(&self) -> Result<()> {
        match self {
            QuasiNewtonLineSearch::StrongWolfe(search) => search.validate(),
            QuasiNewtonLineSearch::Exact(_) => Ok(()),
        }
    }

    /// Search from `state` along `direction` (see [`LineSearch::search`]).
    pub(crate) fn search<P: Objective + ?Sized>(
        &mut self,
        problem: &P,
        state: &IterState<P::Vector>,
        direction: &P::Vector,
        initial_step: ScalarOf<P::Vector>,
        x_new: &mut P::Vector,
        grad_new: &mut P::Vector,
    ) -> Result<LineSearchOutcome<ScalarOf<P::Vector>>> {
        let (x, f, g) = (&state.x, state.f, &state.grad);
        match self {
            QuasiNewtonLineSearch::StrongWolfe(search) => {
                search.search(problem, x, f, g, direction, initial_step, x_new, grad_new)
            }
            QuasiNewtonLineSearch::Exact(search) => {
                search.search(problem, x, f, g, direction, initial_step, x_new, grad_new)
            }
        }
    }
}

/// Whether a line-search error means "no acceptable step along this
/// direction" (a quasi-Newton method then resets its curvature memory).
pub(crate) fn is_search_failure(error: &OptError) -> bool {
    matches!(
        error,
        OptError::LineSearch { .. } | OptError::NotDescentDirection { .. }
    )
}

/// The curvature test of both methods: `y's > eps ||s|| ||y||` (false for NaN).
pub(crate) fn enough_curvature<S: Float>(sy: S, ss: S, yy: S, eps: S) -> bool {
    sy > eps * ss.sqrt() * yy.sqrt()
}

/// The first trial step along `-g` when no curvature is known:
/// `min(1, 1 / ||g||_2)`, kept positive when the norm overflows.
pub(crate) fn first_trial_step<V: VectorSpace>(grad: &V) -> V::Scalar {
    let one = V::Scalar::one();
    let norm = grad.norm2();
    let step = if norm > one { one / norm } else { one };
    if step > V::Scalar::zero() {
        step
    } else {
        V::Scalar::min_positive_value()
    }
}

/// The checks at the start of every quasi-Newton iteration: buffers sized
/// by `init`, a finite value and gradient. Returns `Some(reason)` when the
/// gradient is exactly zero (nothing left to do).
pub(crate) fn check_iteration_start<V: VectorSpace>(
    state: &IterState<V>,
    buffer_len: Option<usize>,
) -> Result<Option<StopReason>> {
    match buffer_len {
        Some(n) => check_len("iterate", n, state.x.len())?,
        None => {
            return Err(OptError::InvalidState(
                "next_iter called before init".into(),
            ));
        }
    }
    if !(state.f.is_finite() && state.grad.is_finite()) {
        return Err(OptError::NonFinite {
            what: "objective or gradient at the current iterate",
            iteration: state.iter,
        });
    }
    if state.grad.norm_inf() == ScalarOf::<V>::zero() {
        return Ok(Some(StopReason::GradientTolerance));
    }
    Ok(None)
}

/// BFGS on problems over `Array1<T>`: Nocedal & Wright, Algorithm 6.1, with
/// the inverse update (6.17) and the initial scaling (6.20).
///
/// Memory and time per iteration are `O(n^2)` (`8 n^2` bytes for `H`):
/// beyond a few thousand variables use [`crate::lbfgs::Lbfgs`].
#[derive(Debug, Clone)]
pub struct Bfgs<T> {
    line_search: QuasiNewtonLineSearch,
    /// `H_k`, exactly symmetric.
    inverse_hessian: Array2<f64>,
    /// `false` while `H` is the unscaled identity of the start (or of a reset).
    has_curvature: bool,
    /// `p_k = -H_k g_k`, rounded to `T`: the line search's direction.
    direction: Array1<T>,
    x_new: Array1<T>,
    grad_new: Array1<T>,
    /// `g_{k+1}` widened to `f64`.
    grad_wide: Vec<f64>,
    s: Vec<f64>,
    y: Vec<f64>,
    /// `H_k y_k`.
    hy: Vec<f64>,
    last_step: f64,
    skipped_updates: usize,
    resets: usize,
    initialized: bool,
}

impl<T: Scalar> Default for Bfgs<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar> Bfgs<T> {
    /// BFGS with the default strong Wolfe search (`c1 = 1e-4`, `c2 = 0.9`).
    pub fn new() -> Self {
        Self {
            line_search: QuasiNewtonLineSearch::default(),
            inverse_hessian: Array2::zeros((0, 0)),
            has_curvature: false,
            direction: Array1::zeros(0),
            x_new: Array1::zeros(0),
            grad_new: Array1::zeros(0),
            grad_wide: Vec::new(),
            s: Vec::new(),
            y: Vec::new(),
            hy: Vec::new(),
            last_step: 0.0,
            skipped_updates: 0,
            resets: 0,
            initialized: false,
        }
    }

    /// BFGS with the given line search (validated).
    pub fn with_line_search(line_search: QuasiNewtonLineSearch) -> Result<Self> {
        line_search.validate()?;
        Ok(Self {
            line_search,
            ..Self::new()
        })
    }

    /// The line search in use.
    pub fn line_search(&self) -> &QuasiNewtonLineSearch {
        &self.line_search
    }

    /// The current inverse-Hessian approximation `H_k` (the identity until
    /// the first update; empty before `init`).
    pub fn inverse_hessian(&self) -> &Array2<f64> {
        &self.inverse_hessian
    }

    /// Updates skipped because `y's <= eps ||s|| ||y||`.
    pub fn skipped_updates(&self) -> usize {
        self.skipped_updates
    }

    /// Times `H` was reset to the identity after a failed line search.
    pub fn resets(&self) -> usize {
        self.resets
    }

    /// `H = I` (unscaled) and `p = -g`.
    fn reset(&mut self, grad: &Array1<T>) {
        set_identity(&mut self.inverse_hessian, 1.0);
        self.has_curvature = false;
        Zip::from(&mut self.direction)
            .and(grad)
            .for_each(|p, &g| *p = -g);
    }

    /// Update `H` with the step just taken (`s = a p`, `y = g_new - g_old`,
    /// already in `self.s`, `self.y`) and set the next direction
    /// `p = -H g_new` (`g_new` in `self.grad_wide`).
    fn update(&mut self) -> Result<()> {
        let n = self.s.len();
        if n == 0 {
            return Ok(());
        }
        let Some(h) = self.inverse_hessian.as_slice_mut() else {
            return Err(OptError::InvalidState(
                "the inverse Hessian is not in standard layout".into(),
            ));
        };
        let (s, y, g) = (&self.s[..], &self.y[..], &self.grad_wide[..]);
        let sy = dot(s, y);
        let ss = dot(s, s);
        let yy = dot(y, y);
        if !enough_curvature(sy, ss, yy, T::epsilon().to_f64_lossless()) {
            self.skipped_updates += 1;
            // H unchanged: p = -H g_new.
            for (i, p) in self.direction.iter_mut().enumerate() {
                let hg = if self.has_curvature {
                    dot(&h[i * n..(i + 1) * n], g)
                } else {
                    g[i]
                };
                *p = T::of(-hg);
            }
            return Ok(());
        }
        let rho = 1.0 / sy;
        let hy = &mut self.hy[..];
        if self.has_curvature {
            for (i, hy) in hy.iter_mut().enumerate() {
                *hy = dot(&h[i * n..(i + 1) * n], y);
            }
        } else {
            // Eq. (6.20): H_0 = gamma I before the first update.
            let gamma = sy / yy;
            h.fill(0.0);
            for i in 0..n {
                h[i * n + i] = gamma;
            }
            for (hy, &y) in hy.iter_mut().zip(y) {
                *hy = gamma * y;
            }
            self.has_curvature = true;
        }
        let hy = &self.hy[..];
        let ss_coefficient = rho * rho * dot(y, hy) + rho;
        for (i, (row, p)) in h.chunks_exact_mut(n).zip(&mut self.direction).enumerate() {
            let (si, hyi) = (s[i], hy[i]);
            // Entries (i, j) and (j, i) get the same expression: H stays symmetric.
            for ((h, &sj), &hyj) in row.iter_mut().zip(s).zip(hy) {
                *h += (si * sj) * ss_coefficient - rho * (hyi * sj + si * hyj);
            }
            *p = T::of(-dot(row, g));
        }
        Ok(())
    }
}

/// `<a, b>` with the sum in eight lanes, so that it vectorizes.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 8;
    let mut lanes = [0.0; LANES];
    let split = a.len().min(b.len()) / LANES * LANES;
    for (a, b) in a[..split]
        .chunks_exact(LANES)
        .zip(b[..split].chunks_exact(LANES))
    {
        for lane in 0..LANES {
            lanes[lane] += a[lane] * b[lane];
        }
    }
    let tail: f64 = a[split..].iter().zip(&b[split..]).map(|(a, b)| a * b).sum();
    lanes.iter().sum::<f64>() + tail
}

/// `matrix = value I`.
fn set_identity(matrix: &mut Array2<f64>, value: f64) {
    matrix.fill(0.0);
    matrix.diag_mut().fill(value);
}

impl<T, P> Solver<P> for Bfgs<T>
where
    T: Scalar,
    P: Objective<Vector = Array1<T>>,
{
    fn init(&mut self, problem: &Counted<P>, state: &mut IterState<Array1<T>>) -> Result<()> {
        let n = problem.dim();
        check_len("starting point", n, state.x.len())?;
        self.line_search.validate()?;
        state.f = problem.value_and_grad(&state.x, &mut state.grad)?;
        self.inverse_hessian = Array2::zeros((n, n));
        self.direction = Array1::zeros(n);
        self.x_new = Array1::zeros(n);
        self.grad_new = Array1::zeros(n);
        self.grad_wide = vec![0.0; n];
        self.s = vec![0.0; n];
        self.y = vec![0.0; n];
        self.hy = vec![0.0; n];
        self.last_step = 0.0;
        self.skipped_updates = 0;
        self.resets = 0;
        self.initialized = true;
        self.reset(&state.grad);
        Ok(())
    }

    fn next_iter(
        &mut self,
        problem: &Counted<P>,
        state: &mut IterState<Array1<T>>,
    ) -> Result<Option<StopReason>> {
        let buffer_len = self.initialized.then_some(self.direction.len());
        if let Some(stop) = check_iteration_start(state, buffer_len)? {
            return Ok(Some(stop));
        }
        let initial_step = if self.has_curvature {
            T::one()
        } else {
            first_trial_step(&state.grad)
        };
        let mut outcome = self.line_search.search(
            problem,
            state,
            &self.direction,
            initial_step,
            &mut self.x_new,
            &mut self.grad_new,
        );
        if let Err(error) = &outcome
            && is_search_failure(error)
            && self.has_curvature
        {
            self.resets += 1;
            self.reset(&state.grad);
            outcome = self.line_search.search(
                problem,
                state,
                &self.direction,
                first_trial_step(&state.grad),
                &mut self.x_new,
                &mut self.grad_new,
            );
        }
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) if is_search_failure(&error) => {
                return Ok(Some(StopReason::LineSearchFailed));
            }
            Err(error) => return Err(error),
        };
        let step = outcome.step.to_f64_lossless();
        // s = a p, y = g_new - g, both widened before subtracting.
        for (s, &p) in self.s.iter_mut().zip(&self.direction) {
            *s = step * p.to_f64_lossless();
        }
        for (((y, wide), &new), &old) in self
            .y
            .iter_mut()
            .zip(&mut self.grad_wide)
            .zip(&self.grad_new)
            .zip(&state.grad)
        {
            *wide = new.to_f64_lossless();
            *y = *wide - old.to_f64_lossless();
        }
        std::mem::swap(&mut state.x, &mut self.x_new);
        std::mem::swap(&mut state.grad, &mut self.grad_new);
        state.f = outcome.value;
        self.last_step = step;
        self.update()?;
        Ok(None)
    }

    fn metrics(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("step", self.last_step),
            ("skipped_updates", self.skipped_updates as f64),
            ("resets", self.resets as f64),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::DenseQuadratic;
    use ndarray::array;
    use opt_core::Runner;

    /// One iteration by hand on `f = 1/2 x'Ax - b'x`, `A = diag(2, 8)`,
    /// `b = 0`, from `(1, 1)` with exact steps: `p_0 = -g_0 = (-2, -8)`,
    /// `a_0 = g'g / g'Ag = 68 / 520`, then `H_1` from (6.20) and (6.17).
    #[test]
    fn first_iteration_matches_the_formulas() {
        let a = array![[2.0, 0.0], [0.0, 8.0]];
        let problem = Counted::new(DenseQuadratic::new(a.clone(), array![0.0, 0.0]).unwrap());
        let mut solver =
            Bfgs::with_line_search(QuasiNewtonLineSearch::Exact(ExactQuadratic)).unwrap();
        let mut state = IterState::new(array![1.0, 1.0]);
        solver.init(&problem, &mut state).unwrap();
        assert_eq!(solver.inverse_hessian(), &Array2::<f64>::eye(2));
        assert_eq!(solver.next_iter(&problem, &mut state).unwrap(), None);

        let step = 68.0 / 520.0;
        let s = array![-2.0 * step, -8.0 * step];
        let x1 = array![1.0, 1.0] + &s;
        let y = a.dot(&s);
        let sy: f64 = s.dot(&y);
        let gamma = sy / y.dot(&y);
        let rho = 1.0 / sy;
        let left = Array2::eye(2) - rho * outer(&s, &y);
        let right = Array2::eye(2) - rho * outer(&y, &s);
        let expected = left.dot(&(gamma * Array2::<f64>::eye(2))).dot(&right) + rho * outer(&s, &s);
        let error = (solver.inverse_hessian() - &expected)
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            error < 1e-15,
            "H_1 off by {error}: {}",
            solver.inverse_hessian()
        );
        assert!((&state.x - &x1).iter().all(|v| v.abs() < 1e-15));
        // Secant equation H_1 y_0 = s_0 (eq. 6.14).
        let secant = solver.inverse_hessian().dot(&y) - &s;
        assert!(secant.iter().all(|v| v.abs() < 1e-15), "{secant}");
        // The next direction is -H_1 g_1.
        let g1 = a.dot(&x1);
        let p1 = -expected.dot(&g1);
        assert!((&solver.direction - &p1).iter().all(|v| v.abs() < 1e-14));
    }

    fn outer(u: &Array1<f64>, v: &Array1<f64>) -> Array2<f64> {
        Array2::from_shape_fn((u.len(), v.len()), |(i, j)| u[i] * v[j])
    }

    #[test]
    fn inverse_hessian_stays_exactly_symmetric() {
        let problem = Counted::new(crate::testing::Rosenbrock { dim: 5 });
        let mut solver = Bfgs::new();
        let mut runner = Runner::new().max_iters(15);
        runner
            .run(&problem, &mut solver, problem.inner().start())
            .unwrap();
        let h = solver.inverse_hessian();
        assert_eq!(h, &h.t().to_owned());
        assert!(h.iter().any(|&v| v != 0.0 && v != 1.0));
    }

    #[test]
    fn next_iter_before_init_is_an_error() {
        let problem = Counted::new(crate::testing::Rosenbrock { dim: 2 });
        let mut solver = Bfgs::new();
        let mut state = IterState::new(array![0.0, 0.0]);
        state.f = 1.0;
        assert!(matches!(
            solver.next_iter(&problem, &mut state),
            Err(OptError::InvalidState(_))
        ));
    }
}
