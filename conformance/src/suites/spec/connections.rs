//! PROTOCOL.md §8, Connection lifecycle (CONN-*): no greeting, independent connections, and
//! names released by a close.

use confab::protocol::Command;

use crate::case::{Case, FailureKind};
use crate::judge;
use crate::suites::{client, leave_by_half_close, msg, needs_decimal};

use super::framing::bad_header;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.CONN-1.no-greeting",
                title: "nothing is sent before the first command",
                cites: ["CONN-1"],
                level: Must,
            },
            |ctx| {
                ctx.step("A connects and sends GET_NAMES at once");
                let mut a = ctx.connect("A").await?;
                let (_b, bn) = client(ctx, "B").await?;
                ctx.send(&mut a, &Command::GetNames).await?;
                let p = ctx
                    .recv(&mut a, "the names list as the first frame")
                    .await?;
                let want = judge::NamesExpectation {
                    present: &[&bn],
                    absent: &[],
                    allow_omitted: true,
                };
                match judge::names(&ctx.profile, &p, want) {
                    judge::Judgement::Mismatch(_) => Err(ctx.fail(
                        FailureKind::Wrong,
                        "no greeting: the first frame is the reply to the first command",
                        format!(
                            "the first frame was `{}`",
                            confab::protocol::escape::escape_bytes(&p)
                        ),
                    )),
                    judge::Judgement::Deviation(d) => {
                        ctx.deviation(d);
                        Ok(())
                    }
                    judge::Judgement::Exact => Ok(()),
                }
            }
        ),
        case!(
            Spec {
                id: "spec.CONN-2.independence",
                title: "bad and stalled clients do not affect others",
                cites: ["CONN-2"],
                level: Must,
                concurrent: true,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                ctx.step("P starts a frame and stalls");
                let mut p = ctx.connect("P").await?;
                if ctx.profile.dialect.framing.has_length_field() {
                    let mut partial =
                        confab::protocol::frame::frame(ctx.profile.dialect.framing, &[b'M'; 40])
                            .map_err(|e| ctx.unsupported(e.to_string()))?;
                    partial.truncate(ctx.profile.dialect.framing.header_len() + 3);
                    ctx.send_raw(&mut p, &partial).await?;
                }
                ctx.step("Q sends invalid UTF-8");
                let mut q = ctx.connect("Q").await?;
                ctx.send_payload(&mut q, b"NAME \xff\xfe").await?;
                let _ = q.recv(ctx.timeout).await;
                ctx.step("K connects and is killed without EXIT");
                let k = ctx.connect("K").await?;
                k.abort();
                ctx.step("meanwhile B names, and A and B talk");
                let (mut b, bn) = client(ctx, "B").await?;
                let m = msg(ctx, &bn, "all fine")?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery(&mut b, &an, "all fine").await?;
                ctx.expect_names(&mut b, &[&an, &bn], &[]).await?;
                drop(p);
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.CONN-3.close-releases",
                title: "a close or reset without EXIT releases the name",
                cites: ["CONN-3"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (h, hn) = client(ctx, "H").await?;
                leave_by_half_close(ctx, h).await?;
                ctx.step(format!(
                    "A → GET_NAMES right after H's close was acknowledged: {hn} is gone"
                ));
                ctx.expect_names(&mut a, &[&an], &[&hn]).await?;
                let (k, kn) = client(ctx, "K").await?;
                ctx.step("K is reset, as a killed client");
                k.abort();
                ctx.step(format!(
                    "A → GET_NAMES until {kn} is gone (bounded by the timeout)"
                ));
                ctx.expect_names_eventually(&mut a, &[&an], &[&kn]).await?;
                ctx.step("both names can be taken again");
                let mut h2 = ctx.connect("H'").await?;
                ctx.register(&mut h2, &hn).await?;
                let mut k2 = ctx.connect("K'").await?;
                ctx.register(&mut k2, &kn).await
            }
        ),
        case!(
            Spec {
                id: "spec.CONN-4.unnamed-close",
                title: "an unnamed client closing is harmless",
                cites: ["CONN-4"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                ctx.step("U1 connects and closes");
                let u1 = ctx.connect("U1").await?;
                u1.close();
                ctx.step("U2 connects and is reset");
                let u2 = ctx.connect("U2").await?;
                u2.abort();
                if ctx.profile.dialect.framing.has_length_field() {
                    ctx.step("U3 connects, sends half a header, and closes");
                    let mut u3 = ctx.connect("U3").await?;
                    let header = vec![
                        b'0';
                        ctx.profile
                            .dialect
                            .framing
                            .header_len()
                            .saturating_sub(1)
                            .max(1)
                    ];
                    ctx.send_raw(&mut u3, &header[..1]).await?;
                    u3.close();
                }
                ctx.step("A → GET_NAMES");
                ctx.expect_names(&mut a, &[&an], &[]).await?;
                let (_b, bn) = client(ctx, "B").await?;
                ctx.expect_names(&mut a, &[&an, &bn], &[]).await
            }
        ),
        case!(
            Spec {
                id: "spec.CONN-5.error-before-close",
                title: "a server-side close sends the error first and releases the name",
                cites: ["CONN-5"],
                level: Must,
            },
            |ctx| {
                needs_decimal(ctx)?;
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                let mut header = vec![b'0'; ctx.profile.dialect.framing.header_len()];
                header[0] = b'?';
                bad_header(ctx, &mut b, &header).await?;
                ctx.step(format!("A → GET_NAMES: {bn} was released"));
                ctx.expect_names_eventually(&mut a, &[&an], &[&bn]).await
            }
        ),
    ]
}
