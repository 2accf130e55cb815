//! Line searches (being written).
