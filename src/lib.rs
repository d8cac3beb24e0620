//! confab: a small TCP chat protocol, its reference server and client.
//!
//! The layers go one way, each knowing only the ones above it in this list:
//!
//! - [`protocol`]: the wire, with no sockets. Framing ([`protocol::frame`]), the validated
//!   values that travel in frames ([`protocol::name`], [`protocol::text`]), commands and
//!   replies ([`protocol::command`], [`protocol::reply`]), and a `tokio_util` codec that puts
//!   them together ([`protocol::codec`]).
//! - [`server`]: the reference server, `run(listener, config, shutdown)`.
//! - [`client`]: the reference terminal client.
//! - [`bench`](mod@bench): the load generator behind `confab-bench`.
//! - [`cli`]: what the binaries' command lines share (addresses as `HOST:PORT`, `PORT`).
//!
//! `PROTOCOL.md` at the root of the repository is the specification; requirement IDs such as
//! `FRAME-5` in these docs point into it.

pub mod bench;
pub mod cli;
pub mod client;
pub mod detect;
pub mod protocol;
pub mod server;
