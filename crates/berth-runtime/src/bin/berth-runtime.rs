//! The runc-compatible CLI around the berth-runtime library (being written).

fn main() {}
