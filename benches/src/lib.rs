//! Criterion micro-benchmarks of the `opt` workspace: `cargo bench -p opt-benches`.
//!
//! Each optimizer step is measured beside a plain copy of the same number of
//! bytes in the same process, so the ratio says how close a step is to the
//! memory-bandwidth limit regardless of how noisy the machine is.
