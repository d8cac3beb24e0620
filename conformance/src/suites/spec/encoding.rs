//! PROTOCOL.md §3, Character encoding (ENC-*): UTF-8 both ways, bytes taken as they come.

use crate::case::{Case, FailureKind};
use crate::suites::decl::refuse_rows;
use crate::suites::{case_twin, client, msg};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.ENC-1.replies-are-utf8",
                title: "every reply payload is valid UTF-8, whatever was sent",
                cites: ["ENC-1"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let inputs: [&[u8]; 4] = [
                    b"\xff\xfe",
                    b"NAME \xc3",
                    b"FOO\x80bar",
                    b"MSG x \xed\xa0\x80",
                ];
                for input in inputs {
                    ctx.step(format!(
                        "A → {} (not UTF-8)",
                        confab::protocol::escape::escape_bytes(input)
                    ));
                    ctx.send_payload(&mut a, input).await?;
                    let p = ctx.recv(&mut a, "a reply in valid UTF-8").await?;
                    if let Err(e) = std::str::from_utf8(&p) {
                        return Err(ctx.fail(
                            FailureKind::Wrong,
                            "a reply in valid UTF-8",
                            format!("a reply with invalid UTF-8 at byte {}", e.valid_up_to()),
                        ));
                    }
                }
                ctx.step("A → GET_NAMES");
                ctx.expect_names(&mut a, &[&an], &[]).await
            }
        ),
        case!(
            Spec {
                id: "spec.ENC-2.invalid-utf8",
                title: "invalid UTF-8 gets BAD_ENCODING and the connection stays open",
                cites: ["ENC-2"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let rows = refusals![
                    (A, b"\xff\xfe", BadEncoding),
                    (A, b"\xc0\xaf", BadEncoding),
                    (A, b"MSG x \xe2\x82", BadEncoding),
                    (A, b"NAME \x80", BadEncoding),
                ];
                refuse_rows(ctx, &mut [&mut a], &[], &[&an], &rows).await
            }
        ),
        case!(
            Spec {
                id: "spec.ENC-3.bytes-not-characters",
                title: "no normalisation, case folding or trimming",
                cites: ["ENC-3"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                for text in [
                    "e\u{301}t\u{e9} \u{fb01}",
                    " padded ",
                    "MiXeD CaSe",
                    "\u{feff}bom",
                ] {
                    ctx.step(format!("A → MSG B {:?}", text));
                    let m = msg(ctx, &bn, text)?;
                    ctx.send(&mut a, &m).await?;
                    ctx.expect_delivery(&mut b, &an, text).await?;
                }
                ctx.step("names differing only in case are different names");
                let mut c = ctx.connect("C").await?;
                let twin = case_twin(ctx, &an)?;
                ctx.register(&mut c, &twin).await
            }
        ),
    ]
}
