//! Deliberate faults of the reference server (feature `faults`), for proving that the
//! conformance harness catches what real servers of the course get wrong.
//!
//! Each [`Fault`] breaks exactly one requirement of PROTOCOL.md, the way servers written for the
//! course break it, and leaves everything else as the spec says. The server runs with at most
//! one at a time (`confab-server --fault NAME`, [`Config::fault`]).
//!
//! These are the faults that need the server's own state: who holds which name, how many
//! connections are open, whether the whole process goes down. Each implements `Mischief`,
//! whose methods the server calls at the hook points of `server::hooks`; the server itself
//! holds no fault logic. Without the feature none of this is compiled and the hook points do
//! nothing.
//!
//! The faults that only change bytes on the wire (unframed replies, a sorted names list, an
//! acknowledgement after `MSG`, a lost delivery, a case-insensitive verb and the like) are not
//! here: the conformance tests put a fault-injecting proxy between the harness and a correct
//! server (`conformance/tests/support/proxy.rs`). They cannot be given to `confab-server`.
//!
//! This module lives beside `server`, not inside it, so that a reader of the server reads the
//! server: what it knows of faults is the three hook calls.
//!
//! [`Config::fault`]: crate::server::Config::fault

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::BufMut;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::protocol::{Command, CommandError, CommandErrorKind, ErrorCode, Name, Verb};
use crate::server::Config;
use crate::server::hooks::{Conn, End, Flow, Hooked};

/// Declares [`Fault`] and its tables from one list, so that a name, its requirement and its
/// description cannot drift apart.
macro_rules! faults {
    ($( $variant:ident = $name:literal, $req:literal, $desc:literal; )*) => {
        /// A deliberate fault of the server, each breaking one requirement the way real
        /// student servers break it. Names are kebab-case (`keep-name-after-exit`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Fault {
            $(
                #[doc = $desc]
                $variant,
            )*
        }

        impl Fault {
            /// Every fault of the server.
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
    MsgBeforeNameDelivers = "msg-before-name-delivers", "MSG-5",
        "MSG before NAME is delivered with sender `None`";
    ListUnnamed = "list-unnamed", "NAMES-3",
        "unnamed connections are listed as `None`";
    CrashOnExit = "crash-on-exit", "EXIT-2",
        "EXIT crashes the whole server";
    CrashOnBadUtf8 = "crash-on-bad-utf8", "ENC-2",
        "invalid UTF-8 crashes the whole server";
    CrashOnMsgBeforeName = "crash-on-msg-before-name", "MSG-5",
        "MSG before NAME crashes the whole server";
    CrashOnUnnamedDisconnect = "crash-on-unnamed-disconnect", "CONN-4",
        "a connection that never named closing crashes the whole server";
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

/// What a fault does at the server's hook points. Every method answers `None` to let the
/// server carry on as the spec says (after changing the connection, if the fault needs to), or
/// `Some` with what to run instead.
pub(crate) trait Mischief: Send + Sync {
    /// Before the server carries out a payload: its command, or the error for one that does
    /// not parse.
    fn command<'a>(
        &self,
        _conn: &'a mut Conn,
        _parsed: &'a Result<Command, CommandError>,
    ) -> Option<Hooked<'a, Flow>> {
        None
    }

    /// After the connection's reader stopped for `end`, before the name is released.
    fn ending<'a>(&self, _conn: &'a mut Conn, _end: &'a End) -> Option<Hooked<'a, ()>> {
        None
    }
}

/// The server's faults, as its hook points see them: the fault it runs with, and whether that
/// fault has crashed it.
pub(crate) struct Hooks {
    fault: Option<Fault>,
    mischief: Option<Box<dyn Mischief>>,
    crashed: CancellationToken,
    reason: Mutex<Option<String>>,
}

impl Hooks {
    pub(crate) fn new(config: &Config) -> Hooks {
        if let Some(fault) = config.fault {
            warn!(%fault, breaks = fault.requirement(), "running with a deliberate fault");
        }
        Hooks {
            fault: config.fault,
            mischief: config.fault.map(mischief),
            crashed: CancellationToken::new(),
            reason: Mutex::new(None),
        }
    }

    /// Whether a fault may take payloads over: then [`Hooks::command`] is asked for each.
    pub(crate) fn armed(&self) -> bool {
        self.mischief.is_some()
    }

    /// See [`Mischief::command`].
    pub(crate) fn command<'a>(
        conn: &'a mut Conn,
        parsed: &'a Result<Command, CommandError>,
    ) -> Option<Hooked<'a, Flow>> {
        let ctx = Arc::clone(&conn.ctx);
        ctx.hooks.mischief.as_ref()?.command(conn, parsed)
    }

    /// See [`Mischief::ending`].
    pub(crate) fn ending<'a>(conn: &'a mut Conn, end: &'a End) -> Option<Hooked<'a, ()>> {
        let ctx = Arc::clone(&conn.ctx);
        ctx.hooks.mischief.as_ref()?.ending(conn, end)
    }

    /// Completes with the reason once a fault has crashed the server.
    pub(crate) async fn crashed(&self) -> String {
        self.crashed.cancelled().await;
        let reason = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        reason.clone().unwrap_or_else(|| "crashed".to_owned())
    }

    /// Crashes the whole server, because of `what` on `conn`: `run` returns at once, and drops
    /// every connection as a dying process would. What this answers never completes, so that
    /// `conn` too goes down with the others, not before.
    fn crash<'a, T: 'a>(conn: &Conn, what: &str) -> Hooked<'a, T> {
        let hooks = &conn.ctx.hooks;
        let name = hooks.fault.map_or("?", Fault::name);
        hooks
            .reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(|| format!("fault {name}: {what} crashed the server"));
        hooks.crashed.cancel();
        Box::pin(std::future::pending())
    }
}

/// The behaviour of `fault`.
fn mischief(fault: Fault) -> Box<dyn Mischief> {
    match fault {
        Fault::KeepNameAfterDisconnect => Box::new(KeepName { after_exit: false }),
        Fault::KeepNameAfterExit => Box::new(KeepName { after_exit: true }),
        Fault::AcceptDuplicateName => Box::new(AcceptDuplicateName),
        Fault::NameRace => Box::new(NameRace),
        Fault::AllowRename => Box::new(AllowRename),
        Fault::AcceptInvalidName => Box::new(AcceptInvalidName),
        Fault::MsgBeforeNameDelivers => Box::new(MsgBeforeNameDelivers),
        Fault::ListUnnamed => Box::new(ListUnnamed),
        Fault::CrashOnExit => Box::new(Crash(CrashOn::Exit)),
        Fault::CrashOnBadUtf8 => Box::new(Crash(CrashOn::BadUtf8)),
        Fault::CrashOnMsgBeforeName => Box::new(Crash(CrashOn::MsgBeforeName)),
        Fault::CrashOnUnnamedDisconnect => Box::new(Crash(CrashOn::UnnamedDisconnect)),
    }
}

/// A hook that has done all there is to do.
fn done<'a, T: Send + 'a>(value: T) -> Option<Hooked<'a, T>> {
    Some(Box::pin(std::future::ready(value)))
}

/// Queues a frame holding `payload` as it is, which need not be a reply of the protocol.
fn send(conn: &mut Conn, payload: &[u8]) {
    let ctx = Arc::clone(&conn.ctx);
    let pushed = conn
        .peer
        .push(|buf| ctx.frame(buf, payload.len(), |d| d.put_slice(payload)));
    conn.note_own(pushed);
}

/// Whether another connection holds `name`.
fn taken(conn: &Conn, name: &Name) -> bool {
    conn.ctx
        .registry
        .with_holder(name.as_str(), |_| ())
        .is_some()
}

/// Whether the client closed or reset the connection (not EXIT, not a policy).
fn client_left(end: &End) -> bool {
    matches!(end, End::Closed | End::Truncated(_) | End::ReadFailed(_))
}

/// `keep-name-after-disconnect`, `keep-name-after-exit`: the connection forgets its name
/// without releasing it.
struct KeepName {
    after_exit: bool,
}

impl Mischief for KeepName {
    fn ending<'a>(&self, conn: &'a mut Conn, end: &'a End) -> Option<Hooked<'a, ()>> {
        let keep = if self.after_exit {
            matches!(end, End::Exit)
        } else {
            client_left(end)
        };
        if keep {
            conn.me = None;
        }
        None
    }
}

/// `accept-duplicate-name`: a taken name is answered `HELLO` and not registered.
struct AcceptDuplicateName;

impl Mischief for AcceptDuplicateName {
    fn command<'a>(
        &self,
        conn: &'a mut Conn,
        parsed: &'a Result<Command, CommandError>,
    ) -> Option<Hooked<'a, Flow>> {
        let Ok(Command::Name(name)) = parsed else {
            return None;
        };
        if conn.me.is_some() || !taken(conn, name) {
            return None;
        }
        done(conn.named(name.clone()))
    }
}

/// How long `name-race` pauses between its check and its insert: wide enough that NAMEs sent
/// at the same moment pass the check together (they arrive within a few milliseconds on
/// loopback), short enough that a case registering hundreds of names one by one stays quick.
const RACE_WINDOW: Duration = Duration::from_millis(30);

/// `name-race`: the check and the insert are two steps with a pause between them, and a NAME
/// that passed the check is answered `HELLO` whoever registered first.
struct NameRace;

impl Mischief for NameRace {
    fn command<'a>(
        &self,
        conn: &'a mut Conn,
        parsed: &'a Result<Command, CommandError>,
    ) -> Option<Hooked<'a, Flow>> {
        let Ok(Command::Name(name)) = parsed else {
            return None;
        };
        if conn.me.is_some() {
            return None;
        }
        Some(Box::pin(async move {
            if taken(conn, name) {
                conn.error(ErrorCode::NameTaken, &format!("the name '{name}' is taken"));
                return None;
            }
            tokio::time::sleep(RACE_WINDOW).await;
            let _ = conn.ctx.registry.register(name, conn.id, &conn.peer);
            conn.named(name.clone())
        }))
    }
}

/// `allow-rename`: a second NAME releases the first name and goes on as a first NAME.
struct AllowRename;

impl Mischief for AllowRename {
    fn command<'a>(
        &self,
        conn: &'a mut Conn,
        parsed: &'a Result<Command, CommandError>,
    ) -> Option<Hooked<'a, Flow>> {
        if let Ok(Command::Name(_)) = parsed
            && conn.me.is_some()
        {
            conn.release();
            conn.me = None;
        }
        None
    }
}

/// `accept-invalid-name`: a one-word name the grammar refuses is answered `HELLO` (and not
/// registered).
struct AcceptInvalidName;

impl Mischief for AcceptInvalidName {
    fn command<'a>(
        &self,
        conn: &'a mut Conn,
        parsed: &'a Result<Command, CommandError>,
    ) -> Option<Hooked<'a, Flow>> {
        let Err(CommandError {
            kind: CommandErrorKind::InvalidName { word, .. },
            ..
        }) = parsed
        else {
            return None;
        };
        if conn.me.is_some() {
            return None;
        }
        conn.me = Some(word.as_str().into());
        send(conn, format!("HELLO {word}").as_bytes());
        done(None)
    }
}

/// `msg-before-name-delivers`: an unnamed sender is called `None`.
struct MsgBeforeNameDelivers;

impl Mischief for MsgBeforeNameDelivers {
    fn command<'a>(
        &self,
        conn: &'a mut Conn,
        parsed: &'a Result<Command, CommandError>,
    ) -> Option<Hooked<'a, Flow>> {
        let Ok(Command::Msg { to, text }) = parsed else {
            return None;
        };
        if conn.me.is_some() {
            return None;
        }
        done(conn.relay("None", to, text.as_str()))
    }
}

/// `list-unnamed`: the names list counts every open connection, an unnamed one as `None`.
struct ListUnnamed;

impl Mischief for ListUnnamed {
    fn command<'a>(
        &self,
        conn: &'a mut Conn,
        parsed: &'a Result<Command, CommandError>,
    ) -> Option<Hooked<'a, Flow>> {
        let Ok(Command::GetNames) = parsed else {
            return None;
        };
        let named = conn.ctx.registry.list(usize::MAX);
        let unnamed = conn.ctx.active().saturating_sub(named.names().len());
        let mut words: Vec<&str> = named.names().iter().map(Name::as_str).collect();
        words.extend(std::iter::repeat_n("None", unnamed));
        let mut list = words.join(" ");
        // Names and `None` are ASCII: any cut is on a character boundary.
        list.truncate(conn.ctx.max_payload);
        send(conn, list.as_bytes());
        done(None)
    }
}

/// Which event crashes the server.
#[derive(Debug, Clone, Copy)]
enum CrashOn {
    Exit,
    BadUtf8,
    MsgBeforeName,
    UnnamedDisconnect,
}

/// `crash-on-*`: an event brings down the whole server.
struct Crash(CrashOn);

impl Mischief for Crash {
    fn command<'a>(
        &self,
        conn: &'a mut Conn,
        parsed: &'a Result<Command, CommandError>,
    ) -> Option<Hooked<'a, Flow>> {
        let what = match (self.0, parsed) {
            (CrashOn::Exit, Ok(Command::Exit)) => Verb::Exit.as_str(),
            (CrashOn::BadUtf8, Err(e)) if matches!(e.kind, CommandErrorKind::BadEncoding) => {
                "invalid UTF-8 in a payload"
            }
            (CrashOn::MsgBeforeName, Ok(Command::Msg { .. })) if conn.me.is_none() => {
                "MSG before NAME"
            }
            _ => return None,
        };
        Some(Hooks::crash(conn, what))
    }

    fn ending<'a>(&self, conn: &'a mut Conn, end: &'a End) -> Option<Hooked<'a, ()>> {
        match self.0 {
            CrashOn::UnnamedDisconnect if conn.me.is_none() && client_left(end) => {
                Some(Hooks::crash(conn, "an unnamed client disconnected"))
            }
            _ => None,
        }
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
        assert_eq!(Fault::ALL.len(), 12);
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
}
