//! The berth-shim binary (being written).

fn main() {}
