//! opt-first-order
