//! The container lifecycle, one file per verb.

pub mod attach;
mod cgroup;
pub mod create;
pub(crate) mod health;
mod host_checks;
mod monitor;
mod namespace_modes;
mod pause;
mod policy;
mod prune;
mod reconcile;
mod remove;
mod rename;
mod restore;
mod shutdown;
mod start;
pub mod stats;
mod stop;
mod top;
mod update;
pub mod wait;
