//! The typed error of the benchmark crate: bad specs, bad data, bad files.
//!
//! Every message fits on one line, so the runner can print it as is on
//! stderr.

use opt_core::OptError;

/// What went wrong while reading a spec, a data file or building a problem.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A spec that does not have the shape `name[:key=value,...]`.
    #[error("invalid {kind} spec `{spec}`: {message}")]
    Spec {
        /// `"problem"` or `"optimizer"`.
        kind: &'static str,
        spec: String,
        message: String,
    },
    /// A name the registry does not know (a problem, an optimizer, a data set).
    #[error("unknown {kind} `{name}`; valid: {}", .valid.join(", "))]
    UnknownName {
        kind: &'static str,
        name: String,
        valid: Vec<String>,
    },
    /// A key the named problem or optimizer does not take.
    #[error("unknown argument `{key}` for {kind} `{name}`; valid: {}", list_or_none(.valid))]
    UnknownArgument {
        kind: &'static str,
        name: String,
        key: String,
        valid: Vec<String>,
    },
    /// A value that does not parse or is out of range.
    #[error("invalid value `{value}` for `{key}` of {kind} `{name}`: {reason}")]
    InvalidArgument {
        kind: &'static str,
        name: String,
        key: String,
        value: String,
        reason: String,
    },
    /// A data file with an error on a given line (1-based).
    #[error("{problem}: {file} line {line}: {message}")]
    Data {
        problem: String,
        file: String,
        line: usize,
        message: String,
    },
    /// A data file whose content is wrong as a whole (no single line to blame).
    #[error("{problem}: {file}: {message}")]
    DataFile {
        problem: String,
        file: String,
        message: String,
    },
    /// Data given in memory that does not make a valid problem.
    #[error("{problem}: {message}")]
    InvalidProblem { problem: String, message: String },
    /// A file that could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// A file that could not be written.
    #[error("cannot write {file}: {source}")]
    Write {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// An error from the optimization core (shape mismatch, bad batch, ...).
    #[error(transparent)]
    Opt(#[from] OptError),
    /// An error from a network, its data or its training loop.
    #[error(transparent)]
    Model(#[from] opt_models::ModelError),
}

/// The crate's result type.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;

fn list_or_none(valid: &[String]) -> String {
    if valid.is_empty() {
        "none (it takes no arguments)".to_owned()
    } else {
        valid.join(", ")
    }
}

/// Owned copies of a list of names, for the `valid` fields.
pub(crate) fn names(valid: &[&str]) -> Vec<String> {
    valid.iter().map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_documented() {
        let unknown = BenchError::UnknownName {
            kind: "problem",
            name: "nope".into(),
            valid: names(&["rosenbrock", "quadratic"]),
        };
        assert_eq!(
            unknown.to_string(),
            "unknown problem `nope`; valid: rosenbrock, quadratic"
        );
        let data = BenchError::Data {
            problem: "logistic".into(),
            file: "data.csv".into(),
            line: 3,
            message: "expected 31 fields, found 30".into(),
        };
        assert_eq!(
            data.to_string(),
            "logistic: data.csv line 3: expected 31 fields, found 30"
        );
        let no_args = BenchError::UnknownArgument {
            kind: "optimizer",
            name: "gd".into(),
            key: "x".into(),
            valid: vec![],
        };
        assert!(no_args.to_string().contains("takes no arguments"));
    }
}
