//! The error every fallible call of `opt-models` returns.

/// What went wrong, naming the file, tensor or argument at fault.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file that cannot be read.
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// A data file whose contents are not what its format says.
    #[error("malformed {file}: {reason}")]
    Malformed { file: String, reason: String },
    /// Two things that must agree in size do not (model and data, images and labels).
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        what: String,
        expected: String,
        got: String,
    },
    /// An argument outside its valid range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidArgument {
        name: &'static str,
        value: String,
        reason: String,
    },
    /// An error of candle.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// An error of the optimizers' core.
    #[error(transparent)]
    Opt(#[from] opt_core::OptError),
}

/// `Result` with [`ModelError`].
pub type Result<T> = std::result::Result<T, ModelError>;

impl From<ModelError> for opt_core::OptError {
    /// A model error seen by an optimizer: its own `OptError` when it is
    /// one, a problem error otherwise.
    fn from(error: ModelError) -> Self {
        match error {
            ModelError::Opt(inner) => inner,
            other => opt_core::OptError::Problem(Box::new(other)),
        }
    }
}
