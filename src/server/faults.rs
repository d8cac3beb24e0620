//! Deliberate faults (feature `faults`), for proving that the conformance harness catches what
//! real servers of the course get wrong.
//!
//! Each [`Fault`] breaks exactly one requirement of PROTOCOL.md, the way servers written for the
//! course break it (the servers whose framings and spellings PROTOCOL.md §11 lists as dialects),
//! and leaves everything else as the spec says. The server runs with at most one at a time
//! (`--fault NAME`, [`Config::fault`]).
//!
//! Without the feature none of this is compiled: the checks in the server are written with the
//! `fault!` macro, which is the constant `false` then.
//!
//! [`Config::fault`]: super::Config::fault

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Declares [`Fault`] and its tables from one list, so that a name, its requirement and its
/// description cannot drift apart.
macro_rules! faults {
    ($( $variant:ident = $name:literal, $req:literal, $desc:literal; )*) => {
        /// A deliberate fault, each breaking one requirement the way real student servers break
        /// it. Names are kebab-case (`keep-name-after-exit`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Fault {
            $(
                #[doc = $desc]
                $variant,
            )*
        }

        impl Fault {
            /// Every fault, in the order of the table in `notes/server.md`.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant),*];

            /// The kebab-case name, as `--fault` takes it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Fault::$variant => $name,)*
                }
            }

            /// The PROTOCOL.md requirement ID this fault breaks.
            pub const fn requirement(self) -> &'static str {
                match self {
                    $(Fault::$variant => $req,)*
                }
            }

            /// What the server does wrong.
            pub const fn description(self) -> &'static str {
                match self {
                    $(Fault::$variant => $desc,)*
                }
            }
        }
    };
}

faults! {
    KeepNameAfterDisconnect = "keep-name-after-disconnect", "CONN-3",
        "a TCP close without EXIT never releases the name";
    KeepNameAfterExit = "keep-name-after-exit", "EXIT-1",
        "EXIT replies BYE and closes but never releases the name";
    AcceptDuplicateName = "accept-duplicate-name", "NAME-2",
        "NAME succeeds even when the name is taken";
    NameRace = "name-race", "NAME-6",
        "check-then-insert with a pause in between: duplicates under a race, correct when sequential";
    AllowRename = "allow-rename", "NAME-5",
        "a second NAME renames";
    AcceptInvalidName = "accept-invalid-name", "NAME-4",
        "any one-word name is accepted (e.g. `1abc`, `HELLO`)";
    SilentUnknownCommand = "silent-unknown-command", "CMD-3",
        "unknown commands get no reply";
    CaseInsensitiveVerbs = "case-insensitive-verbs", "CMD-1",
        "`name A` works like `NAME A`";
    RejectGetnames = "reject-getnames", "CMD-2",
        "`GETNAMES` is an unknown command";
    IgnoreExtraArgs = "ignore-extra-args", "CMD-4",
        "`GET_NAMES now` and `EXIT now` are accepted";
    WrongErrorCode = "wrong-error-code", "ERR-1",
        "every error reply uses code UNKNOWN_COMMAND";
    RawInputInError = "raw-input-in-error", "ERR-2",
        "error messages echo the raw payload, control characters included";
    SilentNoSuchUser = "silent-no-such-user", "MSG-4",
        "MSG to a missing user gets no reply";
    WrongSender = "wrong-sender", "MSG-1",
        "deliveries name the recipient as the sender";
    FirstWordOnly = "first-word-only", "MSG-6",
        "only the first word of the text is delivered";
    TrimText = "trim-text", "MSG-6",
        "leading and trailing spaces of the text are trimmed";
    AckMsg = "ack-msg", "MSG-2",
        "the sender gets an extra reply `Message sent.` after each MSG";
    NoSelfDelivery = "no-self-delivery", "MSG-3",
        "MSG to yourself gets no delivery (silently dropped)";
    MsgBeforeNameDelivers = "msg-before-name-delivers", "MSG-5",
        "MSG before NAME is delivered with sender `None`";
    NoTextLimit = "no-text-limit", "MSG-7",
        "texts over 9961 bytes are accepted (the delivery is cut to fit)";
    DropEveryTenth = "drop-every-tenth", "MSG-8",
        "every tenth delivery to a connection is lost";
    ReorderDeliveries = "reorder-deliveries", "MSG-8",
        "deliveries to a connection are sent in swapped pairs";
    SortedNames = "sorted-names", "NAMES-1",
        "the names list is sorted alphabetically";
    TrailingSpaceNames = "trailing-space-names", "NAMES-1",
        "the names list ends with a space";
    NamesPrefix = "names-prefix", "REPLY-2",
        "the names list is prefixed with `Connected clients: `";
    NamesNoMarker = "names-no-marker", "NAMES-5",
        "a list that doesn't fit is cut without the ` +N` marker";
    ListUnnamed = "list-unnamed", "NAMES-3",
        "unnamed connections are listed as `None`";
    GreetOnConnect = "greet-on-connect", "CONN-1",
        "a greeting frame `HELLO` is sent on connect";
    NoBye = "no-bye", "EXIT-2",
        "EXIT closes without sending BYE";
    ExitKeepsOpen = "exit-keeps-open", "EXIT-2",
        "EXIT sends BYE but keeps the connection open";
    NoErrorOnBadFrame = "no-error-on-bad-frame", "FRAME-5",
        "a bad header closes the connection without ERROR BAD_FRAME";
    IgnoreBadFrame = "ignore-bad-frame", "FRAME-5",
        "a bad header gets BAD_FRAME but the connection stays open";
    UnframedReplies = "unframed-replies", "FRAME-1",
        "replies are sent without a length header";
    CharCountLength = "char-count-length", "FRAME-2",
        "reply headers count characters, not bytes";
    OneFramePerRead = "one-frame-per-read", "FRAME-4",
        "only the first frame of each read is handled; the rest of the read is dropped";
    CloseOnBadUtf8 = "close-on-bad-utf8", "ENC-2",
        "invalid UTF-8 drops that client without a reply";
    CrashOnExit = "crash-on-exit", "EXIT-2",
        "EXIT crashes the whole server";
    CrashOnBadUtf8 = "crash-on-bad-utf8", "ENC-2",
        "invalid UTF-8 crashes the whole server";
    CrashOnMsgBeforeName = "crash-on-msg-before-name", "MSG-5",
        "MSG before NAME crashes the whole server";
    CrashOnUnnamedDisconnect = "crash-on-unnamed-disconnect", "CONN-4",
        "a connection that never named closing crashes the whole server";
    HangOnShortPayload = "hang-on-short-payload", "FRAME-6",
        "a frame whose payload has not fully arrived blocks the whole server until it does, \
         and for good if its client leaves first";
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--fault` name that is not one of [`Fault::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault {0:?} (`--fault list` lists them)")]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFault(s.to_owned()))
    }
}

/// The payload as a faulty parser would see it, before the real parser does: the faults of
/// CMD-1, CMD-2 and CMD-4 are rewrites of the input.
pub(super) fn rewrite_payload(fault: Fault, payload: &[u8]) -> Cow<'_, [u8]> {
    let (verb, args) = match payload.iter().position(|&b| b == b' ') {
        Some(sp) => (&payload[..sp], &payload[sp..]),
        None => (payload, &b""[..]),
    };
    match fault {
        Fault::CaseInsensitiveVerbs => {
            let upper = verb.to_ascii_uppercase();
            if upper != verb
                && matches!(
                    &upper[..],
                    b"NAME" | b"GET_NAMES" | b"GETNAMES" | b"MSG" | b"EXIT"
                )
            {
                let mut out = upper;
                out.extend_from_slice(args);
                return Cow::Owned(out);
            }
            Cow::Borrowed(payload)
        }
        Fault::RejectGetnames if verb == b"GETNAMES" => {
            // A verb nobody knows, so that the parser answers UNKNOWN_COMMAND.
            let mut out = b"GETNAMES?".to_vec();
            out.extend_from_slice(args);
            Cow::Owned(out)
        }
        Fault::IgnoreExtraArgs if matches!(verb, b"GET_NAMES" | b"GETNAMES" | b"EXIT") => {
            Cow::Borrowed(verb)
        }
        _ => Cow::Borrowed(payload),
    }
}

/// The text as a faulty relay would deliver it (MSG-6 faults).
pub(super) fn mangle_text(fault: Option<Fault>, text: &str) -> &str {
    match fault {
        Some(Fault::FirstWordOnly) => text.split_whitespace().next().unwrap_or(text),
        Some(Fault::TrimText) => text.trim_matches(' '),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &fault in Fault::ALL {
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault));
            assert!(seen.insert(fault.name()), "duplicate name {fault}");
            assert!(
                fault
                    .name()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{fault} is not kebab-case"
            );
            assert!(!fault.description().is_empty());
        }
        assert_eq!(Fault::ALL.len(), 41);
        assert!("nope".parse::<Fault>().is_err());
    }

    #[test]
    fn every_fault_names_a_requirement_of_the_spec() {
        let spec = include_str!("../../PROTOCOL.md");
        for &fault in Fault::ALL {
            let id = format!("**{}**", fault.requirement());
            assert!(spec.contains(&id), "{fault}: {id} is not in PROTOCOL.md");
        }
    }

    #[test]
    fn payload_rewrites() {
        let r = |f, p: &[u8]| rewrite_payload(f, p).into_owned();
        assert_eq!(r(Fault::CaseInsensitiveVerbs, b"name A"), b"NAME A");
        assert_eq!(r(Fault::CaseInsensitiveVerbs, b"hello A"), b"hello A");
        assert_eq!(r(Fault::RejectGetnames, b"GETNAMES"), b"GETNAMES?");
        assert_eq!(r(Fault::RejectGetnames, b"GET_NAMES"), b"GET_NAMES");
        assert_eq!(r(Fault::IgnoreExtraArgs, b"EXIT now"), b"EXIT");
        assert_eq!(r(Fault::IgnoreExtraArgs, b"NAME A B"), b"NAME A B");
    }
}
