//! `opt-bench`: the benchmark side of the `opt` workspace.
//!
//! - [`spec`]: the `name[:key=value,...]` specs of the runner's command line
//!   (`--problem SPEC`, `--optimizer SPEC`), with typed getters;
//! - [`problems`]: the problem registry ([`build_problem`]): chained
//!   Rosenbrock, quadratics from JSON, logistic, least-squares and softmax
//!   regression, each with analytic gradients and Hessian-vector products,
//!   gathered in one [`Problem`] enum that implements
//!   [`opt_core::Objective`] and [`opt_core::FiniteSum`];
//! - [`data`]: the CSV and JSON loaders and the embedded data sets
//!   (breast cancer, digits; sources and licences in `data/*/README.md`),
//!   and their CSV export;
//! - [`synthetic`]: the generated logistic data set (`data=synthetic`,
//!   50000 x 100, fixed seed, a self-contained SplitMix64 generator);
//! - [`optimizers`]: the optimizer registry ([`optimizers::build_optimizer`]);
//! - [`run`]: one run as `cargo xtask run` does it, with its JSON record;
//! - [`report`] and [`plot`]: `cargo xtask bench`'s suites, tables and plots
//!   ([`first_order_suite`], [`finite_sum_suite`], [`unconstrained_suite`],
//!   [`least_squares_suite`], [`networks_suite`]), with [`landscape_plot`]'s
//!   heat maps, line charts and animated GIFs;
//! - [`training`]: optimizer specs as training methods for candle networks
//!   (what `cargo xtask train` and the `networks` suite run);
//! - [`BenchError`]: one-line, typed errors naming the spec, file, line or
//!   argument at fault.
//!
//! ```
//! use opt_bench::{Spec, build_problem};
//! use opt_core::Objective;
//!
//! let spec = Spec::parse("problem", "rosenbrock:dim=4")?;
//! let problem = build_problem(&spec)?;
//! let x = problem.start();
//! let mut grad = x.clone();
//! let f = problem.value_and_grad(&x, &mut grad)?;
//! assert_eq!(problem.name(), "rosenbrock:dim=4");
//! assert!(f > 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod data;
pub mod error;
pub mod finite_sum_suite;
pub mod first_order_suite;
pub mod landscape_plot;
pub mod least_squares_suite;
pub mod networks_suite;
pub mod optimizers;
pub mod plot;
pub mod problems;
pub mod report;
pub mod run;
pub mod spec;
pub mod synthetic;
pub mod throughput;
pub mod training;
pub mod unconstrained_suite;

pub use error::{BenchError, Result};
pub use problems::{
    LeastSquaresRegression, Logistic, MGH_NAMES, Mgh, NIST_NAMES, Nist, PROBLEM_NAMES, Problem,
    Quadratic, Rosenbrock, Softmax, build_problem,
};
pub use spec::Spec;
