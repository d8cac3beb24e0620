//! One or more cases per requirement of PROTOCOL.md, each citing its ID and level: one module
//! per section of PROTOCOL.md, each case declared beside its body.
//!
//! Requirements that a server cannot be observed to meet on the wire (CLIENT-*, the MAY
//! policies, FRAME-8) have informational cases that say so, so that every ID has a case.

mod clients;
mod commands;
mod connections;
mod dialects;
mod encoding;
mod errors;
mod exit;
mod framing;
mod get_names;
mod msg;
mod name;
mod policies;
mod replies;

pub(crate) use name::race;

use crate::case::Case;

/// The spec cases, in the order of PROTOCOL.md's sections.
pub fn cases() -> Vec<Case> {
    [
        framing::cases(),     // §2
        encoding::cases(),    // §3
        commands::cases(),    // §4
        name::cases(),        // §5.1
        get_names::cases(),   // §5.2
        msg::cases(),         // §5.3
        exit::cases(),        // §5.4
        replies::cases(),     // §6
        errors::cases(),      // §7
        connections::cases(), // §8
        policies::cases(),    // §9
        clients::cases(),     // §10
        dialects::cases(),    // §11
    ]
    .concat()
}
