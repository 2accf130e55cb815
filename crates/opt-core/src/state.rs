//! Saving and restoring an optimizer's state.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{OptError, Result};

/// An optimizer whose state can be saved and restored, so that a resumed run
/// continues bit-identically: `restore_state(save_state())` after `k` steps,
/// then `m` more steps, gives the same iterates as `k + m` steps in one go.
pub trait SaveState {
    /// Everything the next step depends on besides the parameters and the
    /// gradient (step count, moment buffers, the last step size, ...).
    type State: Serialize + DeserializeOwned + Clone + std::fmt::Debug;

    /// A copy of the current state.
    fn save_state(&self) -> Self::State;

    /// Replace the current state; a state that does not fit (e.g. buffers of
    /// another length) is an [`OptError::InvalidState`].
    fn restore_state(&mut self, state: Self::State) -> Result<()>;
}

/// The state as JSON text (f64 values round-trip exactly).
pub fn state_to_json<S: SaveState + ?Sized>(optimizer: &S) -> Result<String> {
    serde_json::to_string(&optimizer.save_state())
        .map_err(|e| OptError::InvalidState(e.to_string()))
}

/// Restore a state saved by [`state_to_json`].
pub fn restore_state_from_json<S: SaveState + ?Sized>(optimizer: &mut S, json: &str) -> Result<()> {
    let state = serde_json::from_str(json).map_err(|e| OptError::InvalidState(e.to_string()))?;
    optimizer.restore_state(state)
}
