//! The typed error every fallible call in the workspace returns.

/// What went wrong, with the fields a caller needs to say so precisely.
#[derive(Debug, thiserror::Error)]
pub enum OptError {
    /// A hyperparameter outside its valid range.
    #[error("invalid hyperparameter `{name}` = {value}: {reason}")]
    InvalidHyperparameter {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
    /// Two vectors (or a vector and a problem) disagree on a length.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A NaN or infinity where a finite number is required.
    #[error("non-finite {what} at iteration {iteration}")]
    NonFinite {
        what: &'static str,
        iteration: usize,
    },
    /// A search direction along which the function does not decrease.
    #[error("not a descent direction: directional derivative {slope} is not negative")]
    NotDescentDirection { slope: f64 },
    /// A line search that could not satisfy its conditions.
    #[error("line search failed: {reason}")]
    LineSearch { reason: &'static str },
    /// A sample index past the end of a finite sum.
    #[error("sample index {index} out of range for {len} samples")]
    IndexOutOfRange { index: usize, len: usize },
    /// A capability the problem does not provide (e.g. a Jacobian).
    #[error("the problem does not provide {0}")]
    Unsupported(&'static str),
    /// A matrix that a method needs positive definite is not (e.g. the
    /// Hessian given to plain Newton, which has no modification to fall back on).
    #[error("{what} is not positive definite{detail}")]
    NotPositiveDefinite { what: &'static str, detail: String },
    /// A dense factorization that failed (e.g. an eigensolver that did not converge).
    #[error("{0}")]
    Factorization(String),
    /// A saved optimizer state that does not fit the optimizer it is restored into.
    #[error("cannot restore state: {0}")]
    InvalidState(String),
    /// An error raised by a user's problem.
    #[error("problem evaluation failed: {0}")]
    Problem(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The workspace's result type.
pub type Result<T, E = OptError> = std::result::Result<T, E>;

impl OptError {
    /// An [`OptError::InvalidHyperparameter`] for `name = value`.
    pub fn invalid(
        name: &'static str,
        value: impl std::fmt::Display,
        reason: &'static str,
    ) -> Self {
        OptError::InvalidHyperparameter {
            name,
            value: value.to_string(),
            reason,
        }
    }
}

/// `Ok(())` if `got == expected`, else a [`OptError::ShapeMismatch`] naming `what`.
pub fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(OptError::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}
