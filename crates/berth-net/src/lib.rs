//! berth's networks: IP address management, a Linux bridge per network with a veth pair per
//! attached container (rtnetlink), NAT, isolation and port publishing in berth's own nftables
//! tables, and an embedded DNS server for user-defined networks.
//!
//! The crate knows nothing of containers' lifecycle: the engine decides when a network is
//! created or removed and when a container's network namespace is attached or detached, and it
//! stores the serializable [`Network`] and [`Attachment`] values this crate returns, so a
//! restarted daemon can [`Driver::restore`] them. `docs/networking.md` describes the design,
//! the rules and what the engine calls when.
//!
//! Every netlink job runs on its own OS thread (inside the container's namespace when it
//! configures the container end), never on a tokio worker; every call here is blocking, so an
//! async caller uses `spawn_blocking`.

pub mod dns;
pub mod driver;
mod error;
pub mod firewall;
pub mod ipam;
mod model;
pub mod netlink;
pub mod netns;
mod reaper;

pub use driver::{Driver, LinkTeardown, NetworkDriver};
pub use error::{Error, ErrorKind, TeardownError};
pub use model::{
    AttachRequest, Attachment, DriverConfig, Network, NetworkRequest, PortBinding, Protocol,
};
