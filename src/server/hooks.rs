//! The three points where the deliberate faults of [`crate::faults`] (feature `faults`) reach
//! into the server. Without the feature [`Hooks`] is an empty type whose calls answer "carry
//! on" and compile to nothing.
//!
//! - [`Hooks::command`]: before a connection carries out a payload (a command, or the error
//!   reply for one that does not parse); a fault may take it over.
//! - [`Hooks::ending`]: after a connection's reader has stopped, before its name is released
//!   and its last reply queued.
//! - [`Hooks::crashed`]: completes when a fault has crashed the whole server; `run` returns
//!   its reason as an error.

use std::future::Future;
use std::pin::Pin;

pub(crate) use super::connection::{Conn, End, Flow};

/// What a hook that takes over runs instead of the server.
pub(crate) type Hooked<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[cfg(feature = "faults")]
pub(crate) use crate::faults::Hooks;

#[cfg(not(feature = "faults"))]
pub(crate) use off::Hooks;

#[cfg(not(feature = "faults"))]
mod off {
    use super::super::Config;
    use super::{Conn, End, Flow, Hooked};
    use crate::protocol::{Command, CommandError};

    /// No faults: every hook carries on.
    pub(crate) struct Hooks;

    impl Hooks {
        pub(crate) fn new(_config: &Config) -> Hooks {
            Hooks
        }

        /// Whether a fault may take payloads over: never.
        #[inline(always)]
        pub(crate) fn armed(&self) -> bool {
            false
        }

        #[inline(always)]
        pub(crate) fn command<'a>(
            _conn: &'a mut Conn,
            _parsed: &'a Result<Command, CommandError>,
        ) -> Option<Hooked<'a, Flow>> {
            None
        }

        #[inline(always)]
        pub(crate) fn ending<'a>(_conn: &'a mut Conn, _end: &'a End) -> Option<Hooked<'a, ()>> {
            None
        }

        pub(crate) fn crashed(&self) -> impl Future<Output = String> + Send + '_ {
            std::future::pending()
        }
    }
}
