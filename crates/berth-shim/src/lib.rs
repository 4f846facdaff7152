//! berth-shim: the per-container monitor (being written).
