//! berth's Dockerfile front end (design doc to come).
#![deny(unsafe_code)]

pub mod shell;
