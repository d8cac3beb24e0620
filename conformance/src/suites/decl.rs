//! How cases are declared: each case once, its metadata beside its body, and the commands that
//! must be refused as rows of a table.
//!
//! ```text
//! case!(
//!     Spec {
//!         id: "spec.MSG-3.to-self",
//!         title: "a message to yourself is delivered to you",
//!         cites: ["MSG-3"],
//!         level: Must,
//!     },
//!     |ctx| { ... }
//! )
//! ```
//!
//! After `level`, any other field of [`Case`](crate::case::Case) may follow with its value
//! (`points: 5`, `concurrent: true`, `alone: true`); the rest keep their defaults (no points,
//! neither concurrent nor alone).

use confab::protocol::escape::escape_bytes;
use confab::protocol::{ErrorCode, Name};

use super::refused;
use crate::case::{Check, Ctx, FailureKind};
use crate::wire::Conn;

/// Declares one case: `Suite { id, title, cites, level, other fields }`, then its body as a
/// closure over the [`Ctx`](crate::case::Ctx), whose block becomes the body of an async
/// function.
macro_rules! case {
    (
        $suite:ident {
            id: $id:literal,
            title: $title:literal,
            cites: [$($cite:literal),* $(,)?],
            level: $level:ident
            $(, $field:ident: $value:expr)* $(,)?
        },
        |$ctx:ident| $body:block $(,)?
    ) => {{
        fn run(
            $ctx: &mut $crate::case::Ctx,
        ) -> ::futures::future::BoxFuture<'_, $crate::case::Check> {
            Box::pin(async move $body)
        }
        #[allow(unused_mut)]
        let mut case = $crate::case::Case {
            id: $id,
            suite: $crate::case::Suite::$suite,
            title: $title,
            cites: &[$($cite),*],
            level: $crate::case::Level::$level,
            points: 0,
            concurrent: false,
            alone: false,
            run,
        };
        $(case.$field = $value;)*
        case
    }};
}

/// A refusal table, `[(sender, payload, code), ...]`: the client labelled `sender` sends the
/// payload, written canonically, and must get `ERROR code`. In a payload, `{key}` stands for a
/// name the case made (see [`refuse_rows`]).
macro_rules! refusals {
    ($(($by:ident, $payload:expr, $code:ident)),* $(,)?) => {
        [$(
            $crate::suites::decl::Refusal {
                by: stringify!($by),
                payload: $payload,
                code: ::confab::protocol::ErrorCode::$code,
            }
        ),*]
    };
}

/// One row of a refusal table (see [`refusals!`]).
pub(crate) struct Refusal {
    /// The label of the client that sends the payload.
    pub by: &'static str,
    /// The payload, with `{key}` for a name.
    pub payload: &'static [u8],
    /// The error code that must come back.
    pub code: ErrorCode,
}

/// Runs a refusal table, row by row, each as [`refused`]: `senders` are the clients the rows
/// name by label, `names` fill the payloads' `{key}`s, and `listed` are names the list shows
/// (to tell it from an error in lenient matching).
pub(crate) async fn refuse_rows(
    ctx: &mut Ctx,
    senders: &mut [&mut Conn],
    names: &[(&str, &Name)],
    listed: &[&Name],
    rows: &[Refusal],
) -> Check {
    for row in rows {
        let payload = fill(row.payload, names).map_err(|e| {
            ctx.fail(
                FailureKind::Harness,
                "a payload whose names the case made",
                e,
            )
        })?;
        let Some(conn) = senders.iter_mut().find(|c| c.label() == row.by) else {
            return Err(ctx.fail(
                FailureKind::Harness,
                format!("a client labelled {}", row.by),
                "the case has none",
            ));
        };
        refused(ctx, conn, &payload, row.code, listed).await?;
    }
    Ok(())
}

/// `template` with each `{key}` replaced by the name `names` gives for `key`.
fn fill(template: &[u8], names: &[(&str, &Name)]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.iter().position(|&b| b == b'{') {
        out.extend_from_slice(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .iter()
            .position(|&b| b == b'}')
            .ok_or_else(|| format!("an unclosed `{{` in `{}`", escape_bytes(template)))?;
        let key = &after[..close];
        let (_, name) = names
            .iter()
            .find(|(k, _)| k.as_bytes() == key)
            .ok_or_else(|| format!("no name for `{{{}}}`", escape_bytes(key)))?;
        out.extend_from_slice(name.as_str().as_bytes());
        rest = &after[close + 1..];
    }
    out.extend_from_slice(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::new(s).expect("a valid name")
    }

    #[test]
    fn fill_replaces_every_key_and_keeps_other_bytes() {
        let (a, x) = (name("Alice"), name("Xavier"));
        let names = [("an", &a), ("x", &x)];
        assert_eq!(
            fill(b"MSG {an} {x}{x} \xff", &names),
            Ok(b"MSG Alice XavierXavier \xff".to_vec())
        );
        assert_eq!(fill(b"FOO", &names), Ok(b"FOO".to_vec()));
    }

    #[test]
    fn fill_refuses_unknown_and_unclosed_keys() {
        let a = name("Alice");
        assert!(fill(b"NAME {bn}", &[("an", &a)]).is_err());
        assert!(fill(b"NAME {an", &[("an", &a)]).is_err());
    }
}
