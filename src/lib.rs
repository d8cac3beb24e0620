//! confab: a small TCP chat protocol, its reference server and client.
//!
//! The layers go one way, each knowing only the ones above it in this list:
//!
//! - [`protocol`]: the wire, with no sockets. Framing ([`protocol::frame`]), the validated
//!   values that travel in frames ([`protocol::name`], [`protocol::text`]), commands and
//!   replies ([`protocol::command`], [`protocol::reply`]), and a `tokio_util` codec that puts
//!   them together ([`protocol::codec`]).
//! - [`server`]: the reference server, `run(listener, config, shutdown)`.
//! - `faults` (feature `faults`, never in release builds): deliberate faults of the server, for
//!   proving the conformance harness; they reach into the server only through its hook points.
//! - [`detect`]: the first exchange with a server whose dialect is unknown.
//! - [`client`]: the reference terminal client.
//! - [`bench`](mod@bench): the load generator behind `confab-bench`.
//! - [`cli`]: what the binaries' command lines share (addresses as `HOST:PORT`, `PORT`).
//!
//! `protocol` and `cli` are always built. The rest each have a Cargo feature of the same name,
//! which also builds the matching binary: `server`, `client` and `bench` are on by default,
//! `detect` comes with `client`. A crate that needs only the wire (a fuzzer, another
//! implementation) takes confab with `default-features = false`, and a conformance harness adds
//! `server` and `detect`, without the terminal and load-generation dependencies.
//!
//! `PROTOCOL.md` at the root of the repository is the specification; requirement IDs such as
//! `FRAME-5` in these docs point into it.

#[cfg(feature = "bench")]
pub mod bench;
pub mod cli;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "detect")]
pub mod detect;
#[cfg(feature = "faults")]
pub mod faults;
pub mod protocol;
#[cfg(feature = "server")]
pub mod server;
