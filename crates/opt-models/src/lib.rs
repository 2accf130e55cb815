//! opt-models
