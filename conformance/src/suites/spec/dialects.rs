//! PROTOCOL.md §11, Dialects (DIALECT-*): limits of small and unframed framings.

use confab::protocol::{ErrorCode, Framing};

use crate::case::Case;
use crate::suites::{client, refused};

use super::framing::bad_header;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.DIALECT-3.over-the-limit",
                title: "a declared length over the limit is a framing error",
                cites: ["DIALECT-3", "FRAME-5"],
                level: Must,
            },
            |ctx| {
                let framing = ctx.profile.dialect.framing;
                let max = framing.max_payload() as u64;
                match framing {
                    Framing::Decimal(_)
                    | Framing::Binary(_)
                    | Framing::BinaryLe(_)
                    | Framing::Hex(_)
                        if framing.capacity() > max => {}
                    Framing::Line => {}
                    _ => {
                        return Err(ctx.unsupported(format!(
                            "{framing} cannot declare more than its limit of {max} bytes"
                        )));
                    }
                }
                let (mut a, an) = client(ctx, "A").await?;
                let bytes = match framing {
                    Framing::Line => vec![b'x'; framing.max_payload() + 2],
                    _ => confab::protocol::frame::declaring(framing, max + 1).ok_or_else(|| {
                        ctx.unsupported(format!("{framing} cannot declare {}", max + 1))
                    })?,
                };
                let (mut b, bn) = client(ctx, "B").await?;
                bad_header(ctx, &mut a, &bytes).await?;
                ctx.step("B → GET_NAMES: A was released");
                ctx.expect_names_eventually(&mut b, &[&bn], &[&an]).await
            }
        ),
        case!(
            Spec {
                id: "spec.DIALECT-4.small-frames",
                title: "with small frames: short errors, refused long deliveries",
                cites: ["DIALECT-4"],
                level: Must,
            },
            |ctx| {
                let max = ctx.profile.max_payload();
                if max >= confab::protocol::MAX_PAYLOAD {
                    return Err(ctx.unsupported(format!(
                        "{} frames carry the full 9999 bytes",
                        ctx.profile.dialect.framing
                    )));
                }
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("A → an unknown command that fills the frame: the error fits");
                let filler = vec![b'Z'; max];
                refused(ctx, &mut a, &filler, ErrorCode::UnknownCommand, &[&an, &bn]).await?;
                let room = max.saturating_sub(4 + bn.len() + 1);
                if room > 0 {
                    ctx.step(
                        "A → MSG B with the longest text the frame holds: \
                         its delivery would not fit",
                    );
                    let text = "y".repeat(room);
                    let m = format!("MSG {bn} {text}");
                    if an.len() + 6 + room > max {
                        refused(
                            ctx,
                            &mut a,
                            m.as_bytes(),
                            ErrorCode::TextTooLong,
                            &[&an, &bn],
                        )
                        .await?;
                        ctx.expect_nothing_before_names(
                            &mut b,
                            &[&an, &bn],
                            "a refused MSG delivers nothing",
                        )
                        .await?;
                    }
                }
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.DIALECT-5.unframed",
                title: "raw and line framing limits (not probed)",
                cites: ["DIALECT-5"],
                level: Must,
            },
            |ctx| {
                match ctx.profile.dialect.framing {
                    Framing::Raw | Framing::Line => {
                        ctx.informational("what raw and line framing cannot carry is not probed");
                        Ok(())
                    }
                    f => Err(ctx.unsupported(format!("{f} is neither raw nor line framing"))),
                }
            }
        ),
    ]
}
