//! Linear conjugate gradient on a matrix-free symmetric operator, plain and
//! preconditioned (Nocedal & Wright 2006, *Numerical Optimization*,
//! Algorithms 5.2 and 5.3).
//!
//! To solve `A x = b` for a symmetric positive definite `A`, with the
//! residual written `r = b - A x` (Nocedal & Wright write `A x - b`; the
//! iterates are the same) and a preconditioner `M` (`M = I` without one):
//!
//! ```text
//! r_0 = b - A x_0,   z_0 = M^{-1} r_0,   p_0 = z_0
//! for k = 0, 1, ...
//!     alpha_k   = r_k'z_k / p_k'A p_k
//!     x_{k+1}   = x_k + alpha_k p_k
//!     r_{k+1}   = r_k - alpha_k A p_k
//!     z_{k+1}   = M^{-1} r_{k+1}
//!     beta_{k+1} = r_{k+1}'z_{k+1} / r_k'z_k
//!     p_{k+1}   = z_{k+1} + beta_{k+1} p_k
//! ```
//!
//! The loop stops when `||r_k||_2 <= tolerance ||b||_2` ([`CgStop::Converged`]),
//! after `max_iterations` products ([`CgStop::MaxIterations`]; the default is
//! `n`, where exact arithmetic would have converged), or when a direction has
//! `p_k'A p_k <= 0` ([`CgStop::NegativeCurvature`]): `A` is then not positive
//! definite, `x` is left at the last iterate (the truncated-Newton use of
//! Nocedal & Wright Algorithm 7.1) and the offending direction stays in the
//! workspace ([`CgWorkspace::last_direction`]).
//!
//! The operator is anything implementing [`LinearOperator`]: a dense matrix
//! ([`DenseOperator`]) or the Hessian of an objective at a point through its
//! Hessian-vector products ([`HessianOperator`]). The preconditioner is a
//! [`Preconditioner`]; [`Jacobi`] (the inverse diagonal) is provided.
//!
//! A [`CgWorkspace`] holds the three or four vectors the loop needs (`r`,
//! `p`, `A p`, and `z` with a preconditioner), made once and reused, so a
//! caller that solves in a loop (Newton-CG) allocates nothing per solve;
//! [`conjugate_gradient`] is the one-off form that makes its own.

use ndarray::linalg::general_mat_vec_mul;
use ndarray::{Array1, Array2, ArrayView2, Zip};
use opt_core::num_traits::{Float, One, Zero};
use opt_core::{Objective, OptError, Result, Scalar, VectorSpace, check_len};

/// A symmetric linear map `v -> A v` on `V`, known only through products.
pub trait LinearOperator<V: VectorSpace> {
    /// The dimension `n` of the (square) operator.
    fn dim(&self) -> usize;

    /// `out = A v`. Both vectors have length [`LinearOperator::dim`].
    fn apply(&self, v: &V, out: &mut V) -> Result<()>;
}

/// A dense square matrix as a [`LinearOperator`] on `Array1<T>`.
#[derive(Debug, Clone, Copy)]
pub struct DenseOperator<'a, T> {
    matrix: ArrayView2<'a, T>,
}

impl<'a, T: Scalar> DenseOperator<'a, T> {
    /// Wraps a square matrix (its symmetry is the caller's promise; CG reads
    /// the whole matrix). A non-square matrix is a shape mismatch.
    pub fn new(matrix: &'a Array2<T>) -> Result<Self> {
        check_len("operator columns", matrix.nrows(), matrix.ncols())?;
        Ok(Self {
            matrix: matrix.view(),
        })
    }

    /// The wrapped matrix.
    pub fn matrix(&self) -> ArrayView2<'a, T> {
        self.matrix
    }
}

impl<T: Scalar> LinearOperator<Array1<T>> for DenseOperator<'_, T> {
    fn dim(&self) -> usize {
        self.matrix.nrows()
    }

    fn apply(&self, v: &Array1<T>, out: &mut Array1<T>) -> Result<()> {
        check_len("operator input", self.dim(), v.len())?;
        check_len("operator output", self.dim(), out.len())?;
        general_mat_vec_mul(T::one(), &self.matrix, v, T::zero(), out);
        Ok(())
    }
}

/// The Hessian `H(x)` of an objective at a fixed point `x`, applied through
/// [`Objective::hvp`] (so a [`opt_core::Counted`] problem counts each product).
#[derive(Debug)]
pub struct HessianOperator<'a, P: Objective + ?Sized> {
    problem: &'a P,
    x: &'a P::Vector,
}

impl<'a, P: Objective + ?Sized> HessianOperator<'a, P> {
    /// The Hessian of `problem` at `x`; `x` must have the problem's dimension.
    pub fn new(problem: &'a P, x: &'a P::Vector) -> Result<Self> {
        check_len("Hessian point", problem.dim(), x.len())?;
        Ok(Self { problem, x })
    }
}

impl<P: Objective + ?Sized> LinearOperator<P::Vector> for HessianOperator<'_, P> {
    fn dim(&self) -> usize {
        self.problem.dim()
    }

    fn apply(&self, v: &P::Vector, out: &mut P::Vector) -> Result<()> {
        check_len("Hessian-vector direction", self.dim(), v.len())?;
        check_len("Hessian-vector output", self.dim(), out.len())?;
        self.problem.hvp(self.x, v, out)
    }
}

/// A symmetric positive definite `M ~ A`, applied as `z = M^{-1} r`.
pub trait Preconditioner<V: VectorSpace> {
    /// The dimension `n`.
    fn dim(&self) -> usize;

    /// `z = M^{-1} r`.
    fn apply_inverse(&self, r: &V, z: &mut V) -> Result<()>;
}

/// The Jacobi (diagonal) preconditioner `M = diag(A)`: `z_i = r_i / A_ii`.
#[derive(Debug, Clone, PartialEq)]
pub struct Jacobi<T> {
    inverse_diagonal: Array1<T>,
}

impl<T: Scalar> Jacobi<T> {
    /// From the diagonal of `A`. Every entry must be finite
    /// ([`OptError::NonFinite`] otherwise) and positive
    /// ([`OptError::NotPositiveDefinite`] otherwise: a symmetric matrix
    /// with a non-positive diagonal entry is not positive definite).
    pub fn from_diagonal(diagonal: &Array1<T>) -> Result<Self> {
        if !diagonal.is_finite() {
            return Err(OptError::NonFinite {
                what: "Jacobi preconditioner diagonal",
                iteration: 0,
            });
        }
        if let Some((index, value)) = diagonal
            .iter()
            .enumerate()
            .find(|(_, value)| **value <= T::zero())
        {
            return Err(OptError::NotPositiveDefinite {
                what: "Jacobi preconditioner diagonal",
                detail: format!(": entry {index} is {value}"),
            });
        }
        Ok(Self {
            inverse_diagonal: diagonal.mapv(|d| T::one() / d),
        })
    }

    /// From the diagonal of a square matrix.
    pub fn from_matrix(matrix: &Array2<T>) -> Result<Self> {
        check_len("matrix columns", matrix.nrows(), matrix.ncols())?;
        Self::from_diagonal(&matrix.diag().to_owned())
    }

    /// From the diagonal of an operator, read with `n` products `A e_i`
    /// (e.g. `n` Hessian-vector products).
    pub fn from_operator<A: LinearOperator<Array1<T>> + ?Sized>(operator: &A) -> Result<Self> {
        let n = operator.dim();
        let mut unit = Array1::zeros(n);
        let mut column = Array1::zeros(n);
        let mut diagonal = Array1::zeros(n);
        for i in 0..n {
            unit[i] = T::one();
            operator.apply(&unit, &mut column)?;
            unit[i] = T::zero();
            diagonal[i] = column[i];
        }
        Self::from_diagonal(&diagonal)
    }

    /// `1 / A_ii`.
    pub fn inverse_diagonal(&self) -> &Array1<T> {
        &self.inverse_diagonal
    }
}

impl<T: Scalar> Preconditioner<Array1<T>> for Jacobi<T> {
    fn dim(&self) -> usize {
        self.inverse_diagonal.len()
    }

    fn apply_inverse(&self, r: &Array1<T>, z: &mut Array1<T>) -> Result<()> {
        check_len("preconditioner input", self.dim(), r.len())?;
        check_len("preconditioner output", self.dim(), z.len())?;
        Zip::from(z)
            .and(r)
            .and(&self.inverse_diagonal)
            .for_each(|z, &r, &inverse| *z = r * inverse);
        Ok(())
    }
}

/// The default relative tolerance of [`CgOptions`].
pub const DEFAULT_CG_TOLERANCE: f64 = 1e-8;

/// What [`conjugate_gradient`] is asked to do.
pub struct CgOptions<'a, V> {
    /// Stop once `||r||_2 <= tolerance ||b||_2`; in `[0, 1)`, default
    /// [`DEFAULT_CG_TOLERANCE`] (`1e-8`). With `0` the loop runs to
    /// `max_iterations` unless the residual vanishes exactly.
    pub tolerance: f64,
    /// Most operator products (iterations), at least 1; `None` (default)
    /// means the dimension `n`.
    pub max_iterations: Option<usize>,
    /// `M` of Algorithm 5.3; `None` (default) is plain CG (Algorithm 5.2).
    pub preconditioner: Option<&'a dyn Preconditioner<V>>,
}

impl<V> Default for CgOptions<'_, V> {
    fn default() -> Self {
        Self {
            tolerance: DEFAULT_CG_TOLERANCE,
            max_iterations: None,
            preconditioner: None,
        }
    }
}

impl<V> Clone for CgOptions<'_, V> {
    fn clone(&self) -> Self {
        Self {
            tolerance: self.tolerance,
            max_iterations: self.max_iterations,
            preconditioner: self.preconditioner,
        }
    }
}

impl<V> std::fmt::Debug for CgOptions<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CgOptions")
            .field("tolerance", &self.tolerance)
            .field("max_iterations", &self.max_iterations)
            .field("preconditioned", &self.preconditioner.is_some())
            .finish()
    }
}

impl<'a, V> CgOptions<'a, V> {
    /// Options with the given relative tolerance and the other defaults.
    pub fn with_tolerance(tolerance: f64) -> Self {
        Self {
            tolerance,
            ..Self::default()
        }
    }

    /// Check the fields (done again by every solve, since they are public).
    pub fn validate(&self) -> Result<()> {
        if !(self.tolerance >= 0.0 && self.tolerance < 1.0) {
            return Err(OptError::invalid(
                "tolerance",
                self.tolerance,
                "relative CG tolerance must lie in [0, 1)",
            ));
        }
        if self.max_iterations == Some(0) {
            return Err(OptError::invalid("max_iterations", 0, "must be at least 1"));
        }
        Ok(())
    }
}

/// Why [`conjugate_gradient`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgStop {
    /// `||r|| <= tolerance ||b||`.
    Converged,
    /// `max_iterations` products without converging.
    MaxIterations,
    /// A direction with `p'A p <= 0`: the operator is not positive definite.
    /// `x` holds the last iterate before that direction.
    NegativeCurvature,
}

/// What a solve did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CgOutcome {
    /// Completed iterations (updates of `x`); with [`CgStop::NegativeCurvature`]
    /// this is the index of the offending direction (0: the first one).
    pub iterations: usize,
    /// `||r||_2` of the recursively updated residual at the returned `x`.
    pub residual_norm: f64,
    /// `stop == CgStop::Converged`.
    pub converged: bool,
    /// Why the loop stopped.
    pub stop: CgStop,
}

impl CgOutcome {
    fn new(iterations: usize, residual_norm: f64, stop: CgStop) -> Self {
        Self {
            iterations,
            residual_norm,
            converged: stop == CgStop::Converged,
            stop,
        }
    }
}

/// The vectors of the CG loop.
#[derive(Debug, Clone)]
struct CgBuffers<V> {
    residual: V,
    direction: V,
    operator_direction: V,
    /// `z = M^{-1} r`, made on the first preconditioned solve.
    preconditioned: Option<V>,
}

/// Reusable buffers for [`CgWorkspace::solve`]: made from `b` on the first
/// solve (and again only if the length of `b` changes), so repeated solves
/// allocate nothing.
#[derive(Debug, Clone)]
pub struct CgWorkspace<V> {
    buffers: Option<CgBuffers<V>>,
}

impl<V> Default for CgWorkspace<V> {
    fn default() -> Self {
        Self { buffers: None }
    }
}

impl<V: VectorSpace> CgWorkspace<V> {
    /// An empty workspace; buffers are made on the first solve.
    pub fn new() -> Self {
        Self::default()
    }

    /// A workspace with its (unpreconditioned) buffers made for vectors
    /// shaped like `template`.
    pub fn for_vector(template: &V) -> Self {
        let mut workspace = Self::new();
        workspace.buffers_for(template, false);
        workspace
    }

    /// The last search direction `p` of the last solve: after a
    /// [`CgStop::NegativeCurvature`] stop, the direction with `p'A p <= 0`.
    pub fn last_direction(&self) -> Option<&V> {
        self.buffers.as_ref().map(|buffers| &buffers.direction)
    }

    fn buffers_for(&mut self, template: &V, preconditioned: bool) -> &mut CgBuffers<V> {
        let fits = self
            .buffers
            .as_ref()
            .is_some_and(|buffers| buffers.residual.len() == template.len());
        if !fits {
            self.buffers = None;
        }
        let buffers = self.buffers.get_or_insert_with(|| CgBuffers {
            residual: template.zeros_like(),
            direction: template.zeros_like(),
            operator_direction: template.zeros_like(),
            preconditioned: None,
        });
        if preconditioned && buffers.preconditioned.is_none() {
            buffers.preconditioned = Some(template.zeros_like());
        }
        buffers
    }

    /// Solve `A x = b` by (preconditioned) conjugate gradients from the
    /// initial guess in `x`, leaving the result in `x`. Each iteration makes
    /// one product `A p`; a nonzero initial guess costs one more (for
    /// `r_0 = b - A x_0`).
    ///
    /// Errors: invalid options ([`OptError::InvalidHyperparameter`]); `b`,
    /// `x` or the preconditioner not of the operator's dimension
    /// ([`OptError::ShapeMismatch`]); a non-finite `b`, `x`, or a non-finite
    /// product or step ([`OptError::NonFinite`], with the iteration); a
    /// preconditioner with `r'M^{-1}r <= 0` ([`OptError::NotPositiveDefinite`]);
    /// any error of the operator. When `b = 0` the solution is `x = 0`,
    /// returned as converged after 0 iterations.
    pub fn solve<A: LinearOperator<V> + ?Sized>(
        &mut self,
        operator: &A,
        b: &V,
        x: &mut V,
        options: &CgOptions<'_, V>,
    ) -> Result<CgOutcome> {
        options.validate()?;
        let n = operator.dim();
        check_len("right-hand side", n, b.len())?;
        check_len("initial guess", n, x.len())?;
        let preconditioner = options.preconditioner;
        if let Some(preconditioner) = preconditioner {
            check_len("preconditioner", n, preconditioner.dim())?;
        }
        if !b.is_finite() {
            return Err(OptError::NonFinite {
                what: "CG right-hand side",
                iteration: 0,
            });
        }
        if !x.is_finite() {
            return Err(OptError::NonFinite {
                what: "CG initial guess",
                iteration: 0,
            });
        }
        let zero = V::Scalar::zero();
        let max_iterations = options.max_iterations.unwrap_or(n);
        let CgBuffers {
            residual,
            direction,
            operator_direction,
            preconditioned,
        } = self.buffers_for(b, preconditioner.is_some());

        let b_norm = b.norm2();
        if b_norm == zero {
            x.fill(zero);
            direction.fill(zero);
            return Ok(CgOutcome::new(0, 0.0, CgStop::Converged));
        }
        let target = V::Scalar::of(options.tolerance) * b_norm;

        residual.assign(b);
        // A zero initial guess (the usual one) needs no product: r_0 = b.
        if x.norm_inf() != zero {
            operator.apply(x, operator_direction)?;
            residual.axpy(-V::Scalar::one(), operator_direction);
        }
        let mut residual_norm = checked_norm(residual, "CG initial residual", 0)?;
        if residual_norm <= target {
            direction.fill(zero);
            return Ok(CgOutcome::new(
                0,
                residual_norm.to_f64_lossless(),
                CgStop::Converged,
            ));
        }

        // rz = r'M^{-1}r (r'r without a preconditioner); p_0 = M^{-1} r_0.
        let mut rz = match (preconditioner, preconditioned.as_mut()) {
            (Some(m), Some(z)) => {
                let rz = apply_preconditioner(m, residual, z, 0)?;
                direction.assign(z);
                rz
            }
            _ => {
                direction.assign(residual);
                residual_norm * residual_norm
            }
        };

        for iteration in 0..max_iterations {
            operator.apply(direction, operator_direction)?;
            let curvature = direction.dot(operator_direction);
            if !curvature.is_finite() {
                return Err(OptError::NonFinite {
                    what: "CG curvature p'A p",
                    iteration,
                });
            }
            if curvature <= zero {
                return Ok(CgOutcome::new(
                    iteration,
                    residual_norm.to_f64_lossless(),
                    CgStop::NegativeCurvature,
                ));
            }
            let alpha = rz / curvature;
            x.axpy(alpha, direction);
            residual.axpy(-alpha, operator_direction);
            residual_norm = checked_norm(residual, "CG residual", iteration + 1)?;
            if residual_norm <= target {
                return Ok(CgOutcome::new(
                    iteration + 1,
                    residual_norm.to_f64_lossless(),
                    CgStop::Converged,
                ));
            }
            let (next_rz, source) = match (preconditioner, preconditioned.as_mut()) {
                (Some(m), Some(z)) => (apply_preconditioner(m, residual, z, iteration + 1)?, &*z),
                _ => (residual_norm * residual_norm, &*residual),
            };
            let beta = next_rz / rz;
            rz = next_rz;
            direction.scale_add(beta, source);
        }
        Ok(CgOutcome::new(
            max_iterations,
            residual_norm.to_f64_lossless(),
            CgStop::MaxIterations,
        ))
    }
}

/// `||v||_2`, or a [`OptError::NonFinite`] naming `what`.
fn checked_norm<V: VectorSpace>(v: &V, what: &'static str, iteration: usize) -> Result<V::Scalar> {
    let norm = v.norm2();
    if norm.is_finite() {
        Ok(norm)
    } else {
        Err(OptError::NonFinite { what, iteration })
    }
}

/// `z = M^{-1} r`, returning `r'z`, which must be positive.
fn apply_preconditioner<V: VectorSpace>(
    preconditioner: &dyn Preconditioner<V>,
    residual: &V,
    z: &mut V,
    iteration: usize,
) -> Result<V::Scalar> {
    preconditioner.apply_inverse(residual, z)?;
    let rz = residual.dot(z);
    if !rz.is_finite() {
        return Err(OptError::NonFinite {
            what: "preconditioned residual r'M^{-1}r",
            iteration,
        });
    }
    if rz <= V::Scalar::zero() {
        return Err(OptError::NotPositiveDefinite {
            what: "preconditioner",
            detail: format!(": r'M^{{-1}}r = {rz} at CG iteration {iteration}"),
        });
    }
    Ok(rz)
}

/// Solve `A x = b` from the initial guess in `x` with a fresh
/// [`CgWorkspace`]; see [`CgWorkspace::solve`] for the errors.
pub fn conjugate_gradient<V: VectorSpace, A: LinearOperator<V> + ?Sized>(
    operator: &A,
    b: &V,
    x: &mut V,
    options: &CgOptions<'_, V>,
) -> Result<CgOutcome> {
    CgWorkspace::new().solve(operator, b, x, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn close(a: &Array1<f64>, b: &Array1<f64>, tolerance: f64) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    #[test]
    fn first_iterate_of_a_two_by_two_system_by_hand() {
        // A = [[4, 1], [1, 3]], b = (1, 2), x0 = (2, 1):
        // r0 = b - A x0 = (-8, -3), A r0 = (-35, -17), alpha0 = 73 / 331,
        // x1 = x0 + alpha0 r0 = (78, 112) / 331; x2 = A^{-1} b = (1, 7) / 11.
        let a = array![[4.0, 1.0], [1.0, 3.0]];
        let b = array![1.0, 2.0];
        let operator = DenseOperator::new(&a).unwrap();
        let mut x = array![2.0, 1.0];
        let one_step = CgOptions {
            tolerance: 0.0,
            max_iterations: Some(1),
            preconditioner: None,
        };
        let outcome = conjugate_gradient(&operator, &b, &mut x, &one_step).unwrap();
        assert_eq!(
            (outcome.iterations, outcome.stop),
            (1, CgStop::MaxIterations)
        );
        assert!(
            close(&x, &array![78.0 / 331.0, 112.0 / 331.0], 1e-15),
            "{x}"
        );
        let mut x = array![2.0, 1.0];
        let outcome =
            conjugate_gradient(&operator, &b, &mut x, &CgOptions::with_tolerance(1e-15)).unwrap();
        assert_eq!((outcome.iterations, outcome.stop), (2, CgStop::Converged));
        assert!(close(&x, &array![1.0 / 11.0, 7.0 / 11.0], 1e-15), "{x}");
    }

    #[test]
    fn jacobi_solves_a_diagonal_system_in_one_iteration() {
        // M = A: z_0 = A^{-1} r_0, so the first step lands on the solution.
        let a = array![[2.0, 0.0, 0.0], [0.0, 50.0, 0.0], [0.0, 0.0, 1e4]];
        let b = array![1.0, -1.0, 3.0];
        let jacobi = Jacobi::from_matrix(&a).unwrap();
        let options = CgOptions {
            tolerance: 1e-14,
            max_iterations: None,
            preconditioner: Some(&jacobi),
        };
        let mut x = Array1::zeros(3);
        let outcome =
            conjugate_gradient(&DenseOperator::new(&a).unwrap(), &b, &mut x, &options).unwrap();
        assert_eq!((outcome.iterations, outcome.stop), (1, CgStop::Converged));
        let expected = array![0.5, -0.02, 3e-4];
        assert!(close(&x, &expected, 1e-16), "{x}");
    }

    #[test]
    fn zero_right_hand_side_gives_zero() {
        let a = array![[1.0, 0.0], [0.0, 1.0]];
        let mut x = array![3.0, 4.0];
        let outcome = conjugate_gradient(
            &DenseOperator::new(&a).unwrap(),
            &Array1::zeros(2),
            &mut x,
            &CgOptions::default(),
        )
        .unwrap();
        assert!(outcome.converged && outcome.iterations == 0);
        assert_eq!(x, Array1::<f64>::zeros(2));
    }
}
