//! The container lifecycle, one file per verb.

pub mod attach;
pub mod create;
mod host_checks;
mod monitor;
mod namespace_modes;
mod policy;
mod reconcile;
mod remove;
mod restore;
mod shutdown;
mod start;
mod stop;
pub mod wait;
