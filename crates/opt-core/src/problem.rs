//! What a user implements: an objective, a finite sum, a least-squares problem.
//!
//! Every method is fallible so that a problem backed by a file, a network or
//! a GPU can report failure instead of panicking.

use ndarray::{Array1, Array2, ArrayView1};
use num_traits::{Float, One, Zero};

use crate::error::{OptError, Result, check_len};
use crate::scalar::Scalar;
use crate::vector::VectorSpace;

/// The scalar type of a vector space.
pub type ScalarOf<V> = <V as VectorSpace>::Scalar;

/// A differentiable function `f: R^n -> R` to minimize.
pub trait Objective {
    /// The parameter vector type.
    type Vector: VectorSpace;

    /// Number of parameters `n`.
    fn dim(&self) -> usize;

    /// `f(x)`.
    fn value(&self, x: &Self::Vector) -> Result<ScalarOf<Self::Vector>>;

    /// `f(x)`, writing `grad f(x)` into the caller's `grad`.
    fn value_and_grad(
        &self,
        x: &Self::Vector,
        grad: &mut Self::Vector,
    ) -> Result<ScalarOf<Self::Vector>>;

    /// Hessian-vector product `out = H(x) v`.
    ///
    /// The default is a central difference of gradients,
    /// `H v ~ (g(x + h v) - g(x - h v)) / (2 h)` with
    /// `h = eps^(1/3) (1 + ||x||) / ||v||` (`eps` the machine epsilon): two
    /// gradient evaluations, error `O(h^2)`, and three temporary vectors per
    /// call. Problems with an analytic Hessian should override it.
    fn hvp(&self, x: &Self::Vector, v: &Self::Vector, out: &mut Self::Vector) -> Result<()> {
        central_difference_hvp(self, x, v, out)
    }
}

/// The central-difference Hessian-vector product documented on [`Objective::hvp`].
pub fn central_difference_hvp<P: Objective + ?Sized>(
    problem: &P,
    x: &P::Vector,
    v: &P::Vector,
    out: &mut P::Vector,
) -> Result<()> {
    type T<P> = ScalarOf<<P as Objective>::Vector>;
    let v_norm = v.norm2();
    if v_norm == T::<P>::zero() {
        out.fill(T::<P>::zero());
        return Ok(());
    }
    let h = T::<P>::epsilon().cbrt() * (T::<P>::one() + x.norm2()) / v_norm;
    let mut shifted = x.clone();
    shifted.axpy(h, v);
    problem.value_and_grad(&shifted, out)?;
    shifted.axpy(-(h + h), v);
    let mut grad_minus = x.zeros_like();
    problem.value_and_grad(&shifted, &mut grad_minus)?;
    out.axpy(-T::<P>::one(), &grad_minus);
    out.scale(T::<P>::one() / (h + h));
    Ok(())
}

/// `f(x) = (1/n) sum_i f_i(x)`: an objective that is an average over samples.
///
/// Each `f_i` includes the regularizer, so the mini-batch estimate
/// `f_B(x) = (1/|B|) sum_{i in B} f_i(x)` is unbiased for `f`.
pub trait FiniteSum: Objective {
    /// Number of samples `n`.
    fn num_samples(&self) -> usize;

    /// `f_B(x)` for the (possibly repeated) sample indices `B`, writing
    /// `grad f_B(x)` into `grad`. An index `>= n` is an
    /// [`OptError::IndexOutOfRange`]; an empty batch a shape mismatch.
    fn batch_value_and_grad(
        &self,
        x: &Self::Vector,
        indices: &[usize],
        grad: &mut Self::Vector,
    ) -> Result<ScalarOf<Self::Vector>>;

    /// Per-sample Lipschitz constants `L_i` of `grad f_i`, when known
    /// (used for SAG's non-uniform sampling).
    fn lipschitz_constants(&self) -> Option<Vec<ScalarOf<Self::Vector>>> {
        None
    }

    /// The generalized-linear form, when the problem has one.
    fn generalized_linear(&self) -> Option<&dyn GeneralizedLinear<ScalarOf<Self::Vector>>> {
        None
    }
}

/// `f_i(x) = phi_i(a_i . x) + (l2/2) ||x||^2`, so that
/// `grad f_i(x) = phi_i'(a_i . x) a_i + l2 x`: a method may store the scalar
/// `phi_i'` per sample instead of a d-vector (SAG/SAGA in O(n) memory).
pub trait GeneralizedLinear<T: Scalar> {
    /// Number of samples `n`.
    fn num_samples(&self) -> usize;
    /// The feature vector `a_i`.
    fn features(&self, i: usize) -> ArrayView1<'_, T>;
    /// `phi_i(t)` at the margin `t = a_i . x`.
    fn loss(&self, i: usize, margin: T) -> T;
    /// `phi_i'(t)`.
    fn loss_derivative(&self, i: usize, margin: T) -> T;
    /// The ridge coefficient `l2`.
    fn l2(&self) -> T;
}

/// Check a mini-batch against a finite sum of `n` samples.
pub fn check_batch(indices: &[usize], n: usize) -> Result<()> {
    if indices.is_empty() {
        return Err(OptError::ShapeMismatch {
            what: "mini-batch size",
            expected: 1,
            got: 0,
        });
    }
    match indices.iter().find(|&&i| i >= n) {
        Some(&index) => Err(OptError::IndexOutOfRange { index, len: n }),
        None => Ok(()),
    }
}

/// A nonlinear least-squares problem: residuals `r: R^n -> R^m` with
/// `f(x) = c ||r(x)||^2`, `c` = [`LeastSquares::value_scale`].
pub trait LeastSquares {
    /// The scalar type.
    type Scalar: Scalar;

    /// Number of parameters `n`.
    fn num_parameters(&self) -> usize;
    /// Number of residuals `m`.
    fn num_residuals(&self) -> usize;
    /// `r(x)` into `residuals` (length `m`).
    fn residuals(
        &self,
        x: &Array1<Self::Scalar>,
        residuals: &mut Array1<Self::Scalar>,
    ) -> Result<()>;
    /// The `m x n` Jacobian `J_ij = d r_i / d x_j` into `jacobian`.
    fn jacobian(&self, x: &Array1<Self::Scalar>, jacobian: &mut Array2<Self::Scalar>)
    -> Result<()>;

    /// `out = J(x) v` (length `m`). The default forms the dense Jacobian.
    fn jvp(
        &self,
        x: &Array1<Self::Scalar>,
        v: &Array1<Self::Scalar>,
        out: &mut Array1<Self::Scalar>,
    ) -> Result<()> {
        check_len("J v input", self.num_parameters(), v.len())?;
        let mut jacobian = Array2::zeros((self.num_residuals(), self.num_parameters()));
        self.jacobian(x, &mut jacobian)?;
        out.assign(&jacobian.dot(v));
        Ok(())
    }

    /// `out = J(x)^T u` (length `n`). The default forms the dense Jacobian.
    fn jtvp(
        &self,
        x: &Array1<Self::Scalar>,
        u: &Array1<Self::Scalar>,
        out: &mut Array1<Self::Scalar>,
    ) -> Result<()> {
        check_len("J^T u input", self.num_residuals(), u.len())?;
        let mut jacobian = Array2::zeros((self.num_residuals(), self.num_parameters()));
        self.jacobian(x, &mut jacobian)?;
        out.assign(&jacobian.t().dot(u));
        Ok(())
    }

    /// `c` in `f = c ||r||^2`: 1/2 by default (Nocedal & Wright); the
    /// More-Garbow-Hillstrom problems use 1.
    fn value_scale(&self) -> Self::Scalar {
        Self::Scalar::of(0.5)
    }
}

/// Any [`LeastSquares`] problem seen as an [`Objective`]:
/// `f = c ||r||^2`, `grad f = 2 c J^T r`.
#[derive(Debug, Clone)]
pub struct SumOfSquares<P>(pub P);

impl<P: LeastSquares> Objective for SumOfSquares<P> {
    type Vector = Array1<P::Scalar>;

    fn dim(&self) -> usize {
        self.0.num_parameters()
    }

    fn value(&self, x: &Self::Vector) -> Result<P::Scalar> {
        check_len("parameters", self.0.num_parameters(), x.len())?;
        let mut r = Array1::zeros(self.0.num_residuals());
        self.0.residuals(x, &mut r)?;
        Ok(self.0.value_scale() * r.dot(&r))
    }

    fn value_and_grad(&self, x: &Self::Vector, grad: &mut Self::Vector) -> Result<P::Scalar> {
        check_len("parameters", self.0.num_parameters(), x.len())?;
        check_len("gradient buffer", self.0.num_parameters(), grad.len())?;
        let mut r = Array1::zeros(self.0.num_residuals());
        self.0.residuals(x, &mut r)?;
        self.0.jtvp(x, &r, grad)?;
        let c = self.0.value_scale();
        grad.scale(c + c);
        Ok(c * r.dot(&r))
    }
}
