//! `opt-second-order`: methods that use curvature.
//!
//! One module per method (full batch unless said):
//!
//! | module | method | source |
//! |---|---|---|
//! | [`newton`] | Newton (Cholesky; modified by `tau I` when indefinite) and damped Newton (`H + eps I`, `eps` from the reduction ratio) | Nocedal & Wright (2006), sections 3.3-3.4 and 4 |
//! | [`linear_cg`] | linear and Jacobi-preconditioned CG on a matrix-free operator | Nocedal & Wright, Algorithms 5.2 and 5.3 |
//! | [`newton_cg`] | truncated Newton (Hessian-free) with a forcing sequence | Nocedal & Wright, Algorithm 7.1 |
//! | [`nonlinear_cg`] | Fletcher-Reeves, Polak-Ribiere, PR+, Hestenes-Stiefel, Dai-Yuan | Nocedal & Wright, chapter 5.2; Dai & Yuan (1999) |
//! | [`scg`] | Moller's scaled conjugate gradient, full batch and mini-batched with gradient accumulation | Moller (1993), *Neural Networks* 6(4) |
//! | [`bfgs`], [`lbfgs`] | BFGS (inverse update) and L-BFGS (two-loop recursion) | Nocedal & Wright, Algorithms 6.1 and 7.4-7.5 |
//! | [`lanczos`], [`saddle_free`] | saddle-free Newton in a Krylov subspace | Dauphin et al. (2014), NeurIPS |
//! | [`gauss_newton`], [`levenberg_marquardt`] | Gauss-Newton with a line search; Levenberg-Marquardt with column scaling, trust-region control of lambda and a QR step | Nocedal & Wright, chapter 10; More (1978), MINPACK |
//! | [`ogr`] | the online gradient-regression parabola model | Duda (2019), arXiv:1902.02366 |
//! | [`tonga`] | TONGA, a low-rank natural gradient | Le Roux, Manzagol & Bengio (2008), NeurIPS |
//!
//! Dense factorizations go through [`linalg`]: faer by default, LAPACK
//! (ndarray-linalg with the system's OpenBLAS) with the `lapack` feature.
//! [`testing`] holds small problems with known solutions for tests and
//! examples.

pub mod bfgs;
pub mod gauss_newton;
pub mod lanczos;
pub mod lbfgs;
pub mod levenberg_marquardt;
pub mod linalg;
pub mod linear_cg;
pub mod newton;
pub mod newton_cg;
pub mod nonlinear_cg;
pub mod ogr;
pub mod saddle_free;
pub mod scg;
pub mod testing;
pub mod tonga;
