//! berthd: the Docker Engine API on a unix socket.
//!
//! The daemon is a thin HTTP layer. [`routes`] turns each endpoint into a call of one
//! [`backend::Backend`] method and its answer into docker's response; errors carry an
//! [`berth_api::ErrorKind`] that [`error::status_for`] maps to a status code in one place.
//! A tower layer around the router strips and checks `/v1.xx` prefixes, so
//! `/v1.45/containers/json` and `/containers/json` are the same route. The engine plugs in
//! as a `Backend` through [`engine_backend::EngineBackend`]; tests may plug in a scripted one.

pub mod activation;
pub mod backend;
pub mod daemon_config;
pub mod distribution;
pub mod engine_backend;
pub mod error;
pub mod host;
pub mod http;
pub mod peer;
pub mod routes;
pub mod server;
pub mod settings;
