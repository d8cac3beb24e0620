//! Cases, their verdicts, and the context a case runs in.
//!
//! A case is an async function over a [`Ctx`]. It connects, sends, and states what it expects
//! through the `expect_*` helpers, which judge each reply by the profile (strictly or
//! leniently), record every byte in the transcript, and turn a wrong, missing or late reply
//! into a [`Failure`] that says what would have been accepted and what happened.
//!
//! Ordering never relies on sleeping. A round trip on the same connection is the barrier
//! (replies come in command order, CMD-7), and a wait for something on another connection is
//! bounded by the run's timeout.

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use confab::protocol::escape::escape_bytes;
use confab::protocol::frame::FrameError;
use confab::protocol::{Command, Name};
use futures::future::BoxFuture;
use serde::Serialize;

use crate::judge::{self, Judgement, NamesExpectation};
use crate::profile::Profile;
use crate::sentinel::ServerTraits;
use crate::wire::{Conn, Received, Transcript};

mod expect;

/// The suites, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// The course's example run, step by step.
    Example,
    /// One case per row of the course's grading sheet, with points.
    Rubric,
    /// One or more cases per requirement of PROTOCOL.md.
    Spec,
    /// Bad input and load of the kinds that break real servers.
    Robustness,
}

impl Suite {
    /// Every suite.
    pub const ALL: [Suite; 4] = [
        Suite::Example,
        Suite::Rubric,
        Suite::Spec,
        Suite::Robustness,
    ];

    /// The suite's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Example => "example",
            Suite::Rubric => "rubric",
            Suite::Spec => "spec",
            Suite::Robustness => "robustness",
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How binding what a case checks is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        })
    }
}

/// The graded outcome of a case, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// As PROTOCOL.md says.
    Pass,
    /// Accepted by lenient matching, with differences reported.
    PassWithDeviation,
    /// Reported, not judged (not observable on the wire, or a MAY).
    Informational,
    /// Does not apply to this profile's dialect.
    Unsupported,
    /// The server did something the requirement rules out, or nothing where a reply was due.
    Fail,
    /// The server stopped accepting connections (or its process exited) during this case.
    ServerCrashed,
    /// The server stopped answering anyone during this case.
    ServerHung,
    /// The harness could not run the case.
    HarnessError,
    /// Not run: the server was down and could not be restarted.
    NotRun,
}

impl Verdict {
    /// The label used in reports.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::PassWithDeviation => "pass (deviation)",
            Verdict::Informational => "info",
            Verdict::Unsupported => "unsupported",
            Verdict::Fail => "FAIL",
            Verdict::ServerCrashed => "CRASHED",
            Verdict::ServerHung => "HUNG",
            Verdict::HarnessError => "harness error",
            Verdict::NotRun => "not run",
        }
    }

    /// Whether this verdict means the server did not do what the case requires.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Verdict::Fail | Verdict::ServerCrashed | Verdict::ServerHung | Verdict::NotRun
        )
    }

    /// Whether this verdict counts as passing.
    pub fn is_pass(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::PassWithDeviation)
    }

    /// Every verdict, best first.
    pub const ALL: [Verdict; 9] = [
        Verdict::Pass,
        Verdict::PassWithDeviation,
        Verdict::Informational,
        Verdict::Unsupported,
        Verdict::Fail,
        Verdict::ServerCrashed,
        Verdict::ServerHung,
        Verdict::HarnessError,
        Verdict::NotRun,
    ];
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What kind of trouble ended a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// A reply was wrong.
    Wrong,
    /// A reply was due and nothing came within the timeout.
    NoReply,
    /// The server closed or reset a connection, or refused one.
    Closed,
    /// The case does not apply to this dialect.
    Unsupported,
    /// The harness itself failed.
    Harness,
}

/// Why a case did not pass: what it was doing, what would have been accepted, what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// The step of the case, e.g. `B ← the names list`.
    pub step: String,
    /// What would have been accepted.
    pub expected: String,
    /// What happened.
    pub actual: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}; {}",
            self.step, self.expected, self.actual
        )
    }
}

/// The result of a case body.
pub type Check<T = ()> = Result<T, Failure>;

/// A case body.
pub type CaseFn = for<'a> fn(&'a mut Ctx) -> BoxFuture<'a, Check>;

/// One case.
#[derive(Clone, Copy)]
pub struct Case {
    /// Stable ID, e.g. `spec.NAME-2.duplicate-refused`.
    pub id: &'static str,
    pub suite: Suite,
    /// One line on what the case checks.
    pub title: &'static str,
    /// What it cites: PROTOCOL.md requirement IDs, or the grading sheet's row.
    pub cites: &'static [&'static str],
    pub level: Level,
    /// Points on the grading sheet (rubric cases only).
    pub points: u32,
    /// Whether several connections act at once, so the transcript's interleaving varies.
    pub concurrent: bool,
    /// Whether the case needs the server to itself (exact names lists), so that a server the
    /// harness starts is started afresh for it, with no sentinel connected.
    pub alone: bool,
    pub run: CaseFn,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Everything a case needs, and what it accumulates besides its result.
pub struct Ctx {
    pub profile: Arc<Profile>,
    pub addr: SocketAddr,
    /// How long to wait for a reply that is due.
    pub timeout: Duration,
    /// Whether the harness started the server itself, so that no one else is connected.
    pub owned: bool,
    /// What the server is like, as detected: whether it greets on connect (a frame
    /// [`Ctx::connect`] reads and skips), accepts a `NAME` in few words without the name
    /// (`OK`: lenient matching takes such a reply as the acceptance), and the letter case it
    /// shows names in (which the names made up here take, JUDGE-21).
    pub server: ServerTraits,
    /// Named clients of the harness's own (the sentinel), connected throughout the case: a
    /// names list shows them whoever asks, also from a server that leaves the asker out.
    pub listed: Vec<Name>,
    /// Whether the server's names lists leave the asker out, as the sentinel found
    /// (JUDGE-17): lenient matching then takes a list without the asker as the reply.
    pub lists_others_only: bool,
    transcript: Transcript,
    tag: String,
    counter: u32,
    step: String,
    deviations: Vec<String>,
    notes: Vec<String>,
    informational: bool,
    /// Names this case registered (for telling its own names from other clients').
    registered: BTreeSet<String>,
    /// Names this case made up, shortest first.
    generated: Vec<String>,
    /// Names lists read in several frames (JUDGE-13), quoted whole and as their frames: a
    /// failure quotes the frames that arrived, not the list they were read as.
    joined_lists: Vec<(String, String)>,
}

impl Ctx {
    /// A context for one case; `tag` makes its names unique.
    pub fn new(
        profile: Arc<Profile>,
        addr: SocketAddr,
        timeout: Duration,
        owned: bool,
        tag: String,
    ) -> Ctx {
        Ctx {
            profile,
            addr,
            timeout,
            owned,
            server: ServerTraits::default(),
            listed: Vec::new(),
            lists_others_only: false,
            transcript: Transcript::new(),
            tag,
            counter: 0,
            step: "start".into(),
            deviations: Vec::new(),
            notes: Vec::new(),
            informational: false,
            registered: BTreeSet::new(),
            generated: Vec::new(),
            joined_lists: Vec::new(),
        }
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Deviations accepted by lenient matching.
    pub fn deviations(&self) -> &[String] {
        &self.deviations
    }

    /// Remarks.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Whether the case declared itself informational.
    pub fn is_informational(&self) -> bool {
        self.informational
    }

    /// Names the step being checked, for failure reports.
    pub fn step(&mut self, step: impl Into<String>) {
        self.step = step.into();
    }

    /// Records a deviation accepted by lenient matching. The case's own names are replaced by
    /// `<name>`, so that the same deviation reads the same in every case.
    pub fn deviation(&mut self, what: impl Into<String>) {
        let mut what = what.into();
        for name in self.generated.iter().rev() {
            what = what.replace(name.as_str(), "<name>");
        }
        if !self.deviations.contains(&what) {
            self.deviations.push(what);
        }
    }

    /// Records a remark.
    pub fn note(&mut self, what: impl Into<String>) {
        self.notes.push(what.into());
    }

    /// Marks the case informational: reported, not judged.
    pub fn informational(&mut self, why: impl Into<String>) {
        self.informational = true;
        self.notes.push(why.into());
    }

    /// A failure of the current step.
    pub fn fail(
        &self,
        kind: FailureKind,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Failure {
        let mut actual = actual.into();
        for (whole, frames) in &self.joined_lists {
            if actual.contains(whole.as_str()) {
                actual = actual.replace(whole.as_str(), &format!("{frames} (one names list)"));
            }
        }
        Failure {
            kind,
            step: self.step.clone(),
            expected: expected.into(),
            actual,
        }
    }

    /// `name` as the server shows it in its replies (JUDGE-21): in lenient matching, in the
    /// letter case the server was seen to keep names in, which a name the case chose itself
    /// (`q`, a name's twin in the other case) may not be in; as sent in strict matching.
    pub fn as_shown(&self, name: &Name) -> Name {
        if self.profile.strict() {
            return name.clone();
        }
        Name::new(&self.server.name_case.apply(name.as_str())).unwrap_or_else(|_| name.clone())
    }

    /// Remembers a names list read in several frames, for failures to quote its frames.
    pub(crate) fn joined_list(&mut self, whole: String, frames: String) {
        self.joined_lists.push((whole, frames));
    }

    /// The case does not apply to this dialect.
    pub fn unsupported(&self, why: impl Into<String>) -> Failure {
        Failure {
            kind: FailureKind::Unsupported,
            step: self.step.clone(),
            expected: "a dialect this case applies to".into(),
            actual: why.into(),
        }
    }

    /// A name unique to this case and run: `role` (ASCII letters) followed by the case's tag
    /// and a counter, all letters, so that servers that take only a word of letters (as the
    /// course's grading sheet asks) accept every name the harness makes up.
    pub fn name(&mut self, role: &str) -> Name {
        self.counter += 1;
        let mut s = format!("{role}{}{}", self.tag, letters(self.counter));
        s.truncate(confab::protocol::MAX_NAME_LEN);
        let s = self.server.name_case.apply(&s);
        self.remember(&s);
        Name::new(&s).expect("roles and tags are ASCII letters")
    }

    fn remember(&mut self, name: &str) {
        let at = self.generated.partition_point(|g| g.len() <= name.len());
        self.generated.insert(at, name.to_owned());
    }

    /// A unique name of exactly 32 characters, letters only.
    pub fn long_name(&mut self, role: &str) -> Name {
        self.counter += 1;
        let mut s = format!("{role}{}{}", self.tag, letters(self.counter));
        // Upper case: the counter is lower case, so the padding cannot run into it.
        while s.len() < confab::protocol::MAX_NAME_LEN {
            s.push('X');
        }
        s.truncate(confab::protocol::MAX_NAME_LEN);
        let s = self.server.name_case.apply(&s);
        self.remember(&s);
        Name::new(&s).expect("roles and tags are ASCII letters")
    }

    /// Connects a new client labelled `label`. A greeting, from a server that sends one on
    /// connect, is read, noted in the transcript and skipped: it is not the reply to anything.
    pub async fn connect(&mut self, label: &str) -> Check<Conn> {
        let dialect = self.profile.dialect;
        let mut conn = Conn::connect(self.addr, label, dialect, &self.transcript, self.timeout)
            .await
            .map_err(|e| {
                self.fail(
                    FailureKind::Closed,
                    format!("{label} can connect"),
                    format!("the connection failed: {e}"),
                )
            })?;
        if !self.profile.strict() {
            conn.read_padded_lengths();
        }
        if self.server.greets {
            match conn.recv(self.timeout).await {
                Received::Frame(_) => conn.note("a greeting on connect: skipped"),
                _ => conn.note("no greeting this time"),
            }
        }
        Ok(conn)
    }

    /// Sends a command in the profile's spelling.
    pub async fn send(&mut self, conn: &mut Conn, cmd: &Command) -> Check {
        let sent = conn.send(cmd).await;
        self.sent(conn, sent)
    }

    /// Sends one framed payload.
    pub async fn send_payload(&mut self, conn: &mut Conn, payload: &[u8]) -> Check {
        let sent = conn.send_payload(payload).await;
        self.sent(conn, sent)
    }

    /// What a write on `conn` means for the case: a payload the framing cannot carry makes it
    /// unsupported, a failed write fails it.
    fn sent(&mut self, conn: &Conn, sent: std::io::Result<()>) -> Check {
        match sent {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                Err(self.unsupported(format!(
                    "{} cannot carry this payload ({e})",
                    self.profile.dialect.framing
                )))
            }
            Err(e) => Err(self.fail(
                FailureKind::Closed,
                format!("{} can send", conn.label()),
                format!("the write failed: {e}"),
            )),
        }
    }

    /// Writes bytes exactly as given.
    pub async fn send_raw(&mut self, conn: &mut Conn, bytes: &[u8]) -> Check {
        conn.send_raw(bytes).await.map_err(|e| {
            self.fail(
                FailureKind::Closed,
                format!("{} can send", conn.label()),
                format!("the write failed: {e}"),
            )
        })
    }

    /// Reads the next frame, which is due: `what` says what it should be.
    pub async fn recv(&mut self, conn: &mut Conn, what: &str) -> Check<Bytes> {
        let mut received = conn.recv(self.timeout).await;
        // A server's echo of the command is no reply to it (JUDGE-30).
        for _ in 0..SKIPPED {
            match &received {
                Received::Frame(p) if !self.profile.strict() && conn.echoes_last(p) => {
                    self.deviation(format!(
                        "skipped `{}` on {}, an echo of the command sent (JUDGE-30)",
                        escape_bytes(p),
                        conn.label()
                    ));
                    received = conn.recv(self.timeout).await;
                }
                _ => break,
            }
        }
        match received {
            Received::Frame(p) => Ok(p),
            Received::Timeout => {
                let actual = self.nothing_more(conn.label());
                Err(self.fail(FailureKind::NoReply, what.to_owned(), actual))
            }
            Received::Closed => Err(self.fail(
                FailureKind::Closed,
                what.to_owned(),
                format!("the server closed {}'s connection", conn.label()),
            )),
            Received::Failed(e) => Err(self.fail(
                FailureKind::Closed,
                what.to_owned(),
                format!("{}'s connection failed: {e}", conn.label()),
            )),
            Received::BadFrame(e) => {
                // A space where a digit belongs: most often `"%4d"` or `str(n).rjust(4)`.
                let padded = if matches!(e, FrameError::NotADigit { byte: b' ', .. }) {
                    "; a length field padded with spaces is read only in lenient matching \
                     (DIALECT-6): pad it with zeros"
                } else {
                    ""
                };
                Err(self.fail(
                    FailureKind::Wrong,
                    format!("{what}, framed in {}", self.profile.dialect.framing),
                    format!(
                        "bytes that are not a {} frame: {e}{padded}",
                        self.profile.dialect.framing
                    ),
                ))
            }
        }
    }

    /// What a wait on `label` that timed out saw: nothing, or what arrived since the case's
    /// last action and then nothing more.
    fn nothing_more(&self, label: &str) -> String {
        let arrived = self.arrived_since_last_write(label);
        if arrived.is_empty() {
            format!(
                "nothing arrived on {label} within {} ms",
                self.timeout.as_millis()
            )
        } else {
            format!(
                "{} arrived on {label} since the last command, then nothing more within {} ms",
                arrived.join(", "),
                self.timeout.as_millis()
            )
        }
    }

    /// Says what a read on `label` produced, for failure reports; a timeout names what did
    /// arrive before it.
    pub fn describe(&self, r: &Received, label: &str) -> String {
        match r {
            Received::Timeout => self.nothing_more(label),
            other => describe(other, label, self.timeout),
        }
    }

    /// The frames that arrived on `label` since the case last acted (wrote, or closed a
    /// side), quoted: what a report of a missing reply must not leave out.
    fn arrived_since_last_write(&self, label: &str) -> Vec<String> {
        let events = self.transcript.events();
        let from = events
            .iter()
            .rposition(|e| crate::wire::is_action(&e.kind))
            .map_or(0, |i| i + 1);
        events[from..]
            .iter()
            .filter(|e| &*e.conn == label)
            .filter_map(|e| match &e.kind {
                crate::wire::EventKind::Received(raw) => Some(format!("`{}`", escape_bytes(raw))),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn judge(&mut self, j: Judgement, expected: &str) -> Check {
        match j {
            Judgement::Exact => Ok(()),
            Judgement::Deviation(d) => {
                self.deviation(d);
                Ok(())
            }
            Judgement::Mismatch(m) => Err(self.fail(FailureKind::Wrong, expected.to_owned(), m)),
        }
    }

    /// The names this case registered.
    pub fn registered_names(&self) -> Vec<String> {
        self.registered.iter().cloned().collect()
    }
}

/// How many other frames lenient matching skips while it waits for a reply.
pub const SKIPPED: usize = 3;

/// Whether `payload` is a names list showing `present` (in any order), as `profile` reads it.
pub fn is_names_list(profile: &Profile, payload: &[u8], present: &[&Name]) -> bool {
    if profile.strict() {
        return matches!(confab::protocol::Reply::parse(payload), Ok(confab::protocol::Reply::Names(list))
            if present.iter().all(|n| list.names().iter().any(|l| l == *n)));
    }
    let want = NamesExpectation {
        present: &[],
        absent: &[],
        allow_omitted: true,
    };
    let words = judge::words(payload);
    present.iter().all(|n| words.contains(&n.as_str()))
        && judge::names(profile, payload, want).accepted()
        && !judge::reads_as_refusal(payload)
}

/// `n` written in lower-case letters: 0 is `a`, 25 is `z`, 26 is `ba`; what names use where
/// other tools would use digits.
pub fn letters(mut n: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Says what a read produced, for failure reports.
pub fn describe(r: &Received, label: &str, timeout: Duration) -> String {
    match r {
        Received::Frame(p) => format!("got `{}`", escape_bytes(p)),
        Received::Closed => format!("the server closed {label}'s connection"),
        Received::Failed(e) => format!("{label}'s connection failed: {e}"),
        Received::Timeout => format!(
            "nothing arrived on {label} within {} ms",
            timeout.as_millis()
        ),
        Received::BadFrame(e) => format!("bytes that are not a frame: {e}"),
    }
}
