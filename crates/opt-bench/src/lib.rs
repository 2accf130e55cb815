//! opt-bench
