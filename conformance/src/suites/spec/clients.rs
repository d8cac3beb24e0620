//! PROTOCOL.md §10, Clients (CLIENT-*): requirements on clients, which a server cannot be tested
//! for; informational.

use crate::case::{Case, Check, Ctx};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.CLIENT-1.valid-frames",
                title: "clients send only valid frames (a client requirement)",
                cites: ["CLIENT-1"],
                level: Must,
            },
            |ctx| { client_requirement(ctx) }
        ),
        case!(
            Spec {
                id: "spec.CLIENT-2.inert-display",
                title: "clients show received text inertly (a client requirement)",
                cites: ["CLIENT-2"],
                level: Must,
            },
            |ctx| { client_requirement(ctx) }
        ),
        case!(
            Spec {
                id: "spec.CLIENT-3.type-while-receiving",
                title: "clients let users type while messages arrive (a client requirement)",
                cites: ["CLIENT-3"],
                level: Should,
            },
            |ctx| { client_requirement(ctx) }
        ),
    ]
}

/// A requirement on clients: reported, not judged.
pub(super) fn client_requirement(ctx: &mut Ctx) -> Check {
    ctx.informational("a requirement on clients: a server cannot be tested for it");
    Ok(())
}
