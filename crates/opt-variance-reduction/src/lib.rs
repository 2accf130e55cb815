//! `opt-variance-reduction`: stochastic methods with linear convergence on
//! finite sums `f = (1/n) sum_i f_i` (`opt_core::FiniteSum`).
//!
//! What goes here, one module per method:
//! - SAG (Schmidt, Le Roux & Bach 2017): the table of per-sample gradients and
//!   its running average, Lipschitz-weighted sampling, O(n) memory for
//!   generalized-linear problems;
//! - SAGA (Defazio, Bach & Lacoste-Julien 2014), with a proximal step for L1;
//! - SVRG (Johnson & Zhang 2013): snapshots and variance-reduced inner loops.
//!
//! Nothing is implemented yet; the crate compiles so that the workspace's
//! layout is in place.
