//! PROTOCOL.md §9, Server policies (POLICY-*): their limits are the server's own, so these
//! cases are informational.

use crate::case::{Case, Check, Ctx};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.POLICY-1.connection-limit",
                title: "a connection limit, if any, answers SERVER_FULL",
                cites: ["POLICY-1"],
                level: May,
            },
            |ctx| { not_probed(ctx) }
        ),
        case!(
            Spec {
                id: "spec.POLICY-2.stalled-frames",
                title: "stalled frames may time out; idle connections stay",
                cites: ["POLICY-2"],
                level: May,
            },
            |ctx| { not_probed(ctx) }
        ),
        case!(
            Spec {
                id: "spec.POLICY-3.slow-readers",
                title: "a bound on queued replies, if any, closes the slow reader",
                cites: ["POLICY-3"],
                level: May,
            },
            |ctx| { not_probed(ctx) }
        ),
        case!(
            Spec {
                id: "spec.POLICY-4.shutdown",
                title: "shutdown sends SHUTTING_DOWN (not probed: needs a server stop)",
                cites: ["POLICY-4"],
                level: Should,
            },
            |ctx| { not_probed(ctx) }
        ),
    ]
}

/// A policy's limits are the server's own: reported, not judged.
fn not_probed(ctx: &mut Ctx) -> Check {
    ctx.informational(
        "a server policy whose limits are the server's own; not probed by the harness \
         (the reference server's tests cover its policies)",
    );
    Ok(())
}
