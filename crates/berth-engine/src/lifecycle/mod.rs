//! The container lifecycle, one file per verb.

pub mod attach;
mod create;
mod monitor;
mod policy;
mod remove;
mod restore;
mod start;
mod stop;
pub mod wait;
