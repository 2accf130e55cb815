//! opt-variance-reduction
