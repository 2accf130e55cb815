//! opt-second-order
