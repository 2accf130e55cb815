//! `opt-second-order`: methods that use curvature.
//!
//! What goes here, one module per method (full batch unless said):
//! Newton and damped Newton (Cholesky, modified when indefinite); linear and
//! preconditioned CG and Newton-CG; nonlinear CG (`fr`, `pr`, `prplus`, `hs`,
//! `dy`); Moller's scaled conjugate gradient (full batch and mini-batched with
//! gradient accumulation); BFGS and L-BFGS (Nocedal & Wright 2006);
//! Gauss-Newton and Levenberg-Marquardt (More 1978 / MINPACK) on
//! `opt_core::LeastSquares`; saddle-free Newton via Lanczos (Dauphin et al.
//! 2014); the online parabola model OGR (Duda 2019); TONGA (Le Roux, Manzagol
//! & Bengio 2008). Dense factorizations use faer, or ndarray-linalg behind
//! the `lapack` feature.
//!
//! Nothing is implemented yet; the crate compiles so that the workspace's
//! layout is in place.
