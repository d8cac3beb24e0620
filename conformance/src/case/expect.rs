//! The `expect_*` helpers of [`Ctx`]: each sends or reads what a case states, judges the reply
//! by the profile, and turns a wrong, missing or late reply into a [`Failure`].

use std::time::Duration;

use bytes::Bytes;
use confab::protocol::escape::escape_bytes;
use confab::protocol::{Command, ErrorCode, Name, Text};

use super::{Check, Ctx, FailureKind, SKIPPED, is_names_list};
use crate::judge::{self, Judgement, NamesExpectation};
use crate::profile::Profile;
use crate::wire::{Conn, Received};
use confab::protocol::lenient::{self, LIST_PART_GAP, ListParts};

impl Ctx {
    /// Sends `NAME name` and expects `HELLO name` (NAME-1).
    pub async fn register(&mut self, conn: &mut Conn, name: &Name) -> Check {
        self.register_answered(conn, name).await.map(|_| ())
    }

    /// As [`Ctx::register`], answering the server's reply.
    pub async fn register_answered(&mut self, conn: &mut Conn, name: &Name) -> Check<Bytes> {
        self.step(format!("{} → NAME {name}", conn.label()));
        self.send(conn, &Command::Name(name.clone())).await?;
        self.expect_hello_reply(conn, name).await
    }

    /// Reads frames until `awaited` says one is the reply being waited for. Lenient matching
    /// skips up to [`SKIPPED`] other frames first (acknowledgements, broadcasts), each a
    /// deviation; strict matching takes the first frame. A failure after skipping names what
    /// was skipped, so that it never says nothing came when something did.
    pub async fn recv_awaited(
        &mut self,
        conn: &mut Conn,
        what: &str,
        awaited: &(dyn Fn(&[u8]) -> bool + Sync),
    ) -> Check<Bytes> {
        self.recv_reply(conn, what, awaited, false).await
    }

    /// [`Ctx::recv_awaited`]; with `list`, a frame that may open a names list sent in several
    /// frames is read with the rest of it first.
    async fn recv_reply(
        &mut self,
        conn: &mut Conn,
        what: &str,
        awaited: &(dyn Fn(&[u8]) -> bool + Sync),
        list: bool,
    ) -> Check<Bytes> {
        let mut skipped: Vec<Bytes> = Vec::new();
        loop {
            let mut payload = match self.recv(conn, what).await {
                Ok(p) => p,
                Err(mut f) => {
                    if !skipped.is_empty() && f.actual.starts_with("nothing arrived") {
                        f.actual = format!(
                            "{} arrived on {} (not {what}), then {}",
                            quoted(&skipped),
                            conn.label(),
                            f.actual
                        );
                    }
                    return Err(f);
                }
            };
            if self.profile.strict() || awaited(&payload) {
                return Ok(payload);
            }
            if list && ListParts::opened_by(&payload) {
                payload = self.recv_list_parts(conn, payload).await;
                if awaited(&payload) {
                    return Ok(payload);
                }
            }
            // A heading and its content in two frames (JUDGE-26).
            if let Some(heading) = skipped.last().filter(|h| lenient::opens_list(h)) {
                let joined = Bytes::from([&heading[..], b" ", &payload[..]].concat());
                if awaited(&joined) {
                    self.deviation(format!(
                        "read `{}` and `{}` on {} as one reply: a heading and its content \
                         (JUDGE-26)",
                        escape_bytes(heading),
                        escape_bytes(&payload),
                        conn.label()
                    ));
                    return Ok(joined);
                }
            }
            if skipped.len() >= SKIPPED {
                return Ok(payload);
            }
            self.deviation(format!(
                "skipped `{}` on {} while waiting for {what}",
                escape_bytes(&payload),
                conn.label()
            ));
            skipped.push(payload);
        }
    }

    /// Expects `HELLO name` (NAME-1).
    pub async fn expect_hello(&mut self, conn: &mut Conn, name: &Name) -> Check {
        self.expect_hello_reply(conn, name).await.map(|_| ())
    }

    /// Expects `HELLO name` (NAME-1), and answers the reply. From a server that accepts a
    /// name without repeating it (`OK`, [`ServerTraits::unnamed_hello`]), lenient matching
    /// takes the first reply that is no refusal as the acceptance, a deviation (JUDGE-15).
    ///
    /// [`ServerTraits::unnamed_hello`]: crate::sentinel::ServerTraits::unnamed_hello
    pub async fn expect_hello_reply(&mut self, conn: &mut Conn, sent: &Name) -> Check<Bytes> {
        let name = &self.as_shown(sent);
        let expected = format!("`HELLO {name}`");
        let profile = self.profile.clone();
        let unnamed = self.server.unnamed_hello && !profile.strict();
        let awaited = |p: &[u8]| {
            judge::hello(&profile, p, name).accepted()
                || judge::reads_as_refusal(p)
                || unnamed && !p.is_empty()
        };
        let payload = self.recv_awaited(conn, &expected, &awaited).await?;
        match judge::hello(&self.profile, &payload, name) {
            Judgement::Mismatch(_) if unnamed && !judge::reads_as_refusal(&payload) => {
                self.deviation(format!(
                    "NAME is answered `{}`, without the name",
                    escape_bytes(&payload)
                ));
            }
            j => self.judge(j, &expected)?,
        }
        conn.set_named(sent);
        self.registered.insert(name.to_string());
        Ok(payload)
    }

    /// Sends GET_NAMES and judges the list (NAMES-1): `present` in this order, `absent` not at
    /// all; other clients' names are ignored.
    pub async fn expect_names(
        &mut self,
        conn: &mut Conn,
        present: &[&Name],
        absent: &[&Name],
    ) -> Check {
        self.send(conn, &Command::GetNames).await?;
        self.expect_names_reply(conn, present, absent).await
    }

    /// Reads and judges the reply to a GET_NAMES already sent, as [`Ctx::expect_names`] does.
    pub async fn expect_names_reply(
        &mut self,
        conn: &mut Conn,
        present: &[&Name],
        absent: &[&Name],
    ) -> Check {
        let present: Vec<Name> = present.iter().map(|n| self.as_shown(n)).collect();
        let absent: Vec<Name> = absent.iter().map(|n| self.as_shown(n)).collect();
        let present: Vec<&Name> = present.iter().collect();
        let absent: Vec<&Name> = absent.iter().collect();
        let payload = self.recv_list(conn, &present).await?;
        let want = NamesExpectation {
            present: &present,
            absent: &absent,
            allow_omitted: false,
        };
        let j = judge::names(&self.profile, &payload, want);
        self.judge(j, "the names list")
    }

    /// The names a list must show to be told from other frames when the asker `own` may be
    /// left out of it, as some course servers do: the harness's own clients connected
    /// throughout the case, or else `own` (JUDGE-16).
    pub fn shown_to(&self, own: &Name) -> Vec<Name> {
        if self.listed.is_empty() {
            vec![own.clone()]
        } else {
            self.listed.clone()
        }
    }

    /// Reads the reply to a GET_NAMES just sent: in lenient matching, frames that are neither
    /// a list showing `present` nor a refusal are skipped first, and a list sent in several
    /// frames is read whole (see [`Ctx::recv_list_parts`]).
    ///
    /// From a server that lists only the other users (JUDGE-17), a list that shows the
    /// others expected (or the harness's own clients, where the asker is the only one
    /// expected) is the reply.
    async fn recv_list(&mut self, conn: &mut Conn, present: &[&Name]) -> Check<Bytes> {
        let profile = self.profile.clone();
        let others = self.others_shown(conn, present);
        let without_asker = |p: &[u8]| {
            others.as_ref().is_some_and(|o| shows(&profile, p, o))
                && !is_names_list(&profile, p, present)
        };
        let awaited = |p: &[u8]| {
            is_names_list(&profile, p, present) || judge::reads_as_refusal(p) || without_asker(p)
        };
        let payload = self
            .recv_reply(conn, "the names list", &awaited, true)
            .await?;
        if without_asker(&payload) {
            self.taken_without_asker(conn, &payload);
        }
        Ok(payload)
    }

    /// Notes that `payload`, a list without the asker, was taken as `conn`'s names list.
    fn taken_without_asker(&mut self, conn: &Conn, payload: &[u8]) {
        self.note(format!(
            "the server lists only the other users (JUDGE-17, as the sentinel's lists showed): \
             `{}` on {} is taken as the names list",
            escape_bytes(payload),
            conn.label()
        ));
    }

    /// The names a list from a server that lists only the other users shows to `conn`'s
    /// client where `present` are expected: `present` but the asker, or else the harness's
    /// own clients (JUDGE-17). `None` where the server lists the asker, where the asker is
    /// not expected, and in strict matching.
    fn others_shown(&self, conn: &Conn, present: &[&Name]) -> Option<Vec<Name>> {
        let own = conn.name()?;
        if !self.lists_others_only || self.profile.strict() || !present.contains(&own) {
            return None;
        }
        let others: Vec<Name> = present
            .iter()
            .filter(|n| **n != own)
            .map(|n| (*n).clone())
            .collect();
        let others = if others.is_empty() {
            self.listed.iter().filter(|n| *n != own).cloned().collect()
        } else {
            others
        };
        (!others.is_empty()).then_some(others)
    }

    /// Reads the next frame as the reply to a GET_NAMES already sent, in its turn (nothing is
    /// skipped): in lenient matching, a frame that opens a names list without showing
    /// `present` is read with the rest of the list (JUDGE-13).
    pub async fn recv_names(&mut self, conn: &mut Conn, present: &[&Name]) -> Check<Bytes> {
        let payload = self.recv(conn, "the names list").await?;
        if self.profile.strict()
            || self.is_names_list(&payload, present)
            || !ListParts::opened_by(&payload)
        {
            return Ok(payload);
        }
        Ok(self.recv_list_parts(conn, payload).await)
    }

    /// Reads the rest of a names list that `first` may have opened, as some course servers
    /// send it (JUDGE-13): a frame per name, or a heading and then the names (`Connected
    /// users:`, `Alice`, `Bob`). Frames of names alone that follow each other within
    /// [`LIST_PART_GAP`] (or a tenth of the reply timeout, if longer) are joined to `first`,
    /// one per line, until one repeats a word already read (a list names no one twice: that
    /// is the next reply, as when a server answers two GET_NAMES at once); what the first
    /// other read answers is left for the next read.
    async fn recv_list_parts(&mut self, conn: &mut Conn, first: Bytes) -> Bytes {
        let gap = LIST_PART_GAP.max(self.timeout / 10);
        let mut list = ListParts::new(first);
        loop {
            match conn.recv(gap).await {
                Received::Frame(p) if list.take(&p) => {}
                // The list ended (a close is seen again by the next read).
                Received::Timeout | Received::Closed => break,
                other => {
                    conn.unread(other);
                    break;
                }
            }
        }
        let joined = list.joined();
        if list.parts().len() > 1 {
            let frames = quoted(list.parts());
            self.deviation(format!(
                "a names list came in {} frames on {}: {frames}",
                list.parts().len(),
                conn.label(),
            ));
            self.joined_list(format!("`{}`", escape_bytes(&joined)), frames);
        }
        joined
    }

    /// Asks for the names until `gone` are no longer listed, within the timeout: for a name
    /// released by a close the harness cannot synchronise with (a reset connection).
    pub async fn expect_names_eventually(
        &mut self,
        conn: &mut Conn,
        present: &[&Name],
        gone: &[&Name],
    ) -> Check {
        let payload = self
            .poll_names(conn, present, |list| {
                let words = judge::words(list);
                !gone.iter().any(|n| words.contains(&n.as_str()))
            })
            .await?;
        let want = NamesExpectation {
            present,
            absent: gone,
            allow_omitted: false,
        };
        let j = judge::names(&self.profile, &payload, want);
        self.judge(j, "the names list without the departed names")
    }

    /// Asks for the names until `done` says the list is as awaited, or the timeout passes;
    /// answers the last list. For what the server does on its own schedule (noticing a close):
    /// the polling orders nothing, and the timeout bounds it.
    pub async fn poll_names(
        &mut self,
        conn: &mut Conn,
        present: &[&Name],
        done: impl Fn(&[u8]) -> bool,
    ) -> Check<Bytes> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            self.send(conn, &Command::GetNames).await?;
            let payload = self.recv_list(conn, present).await?;
            if done(&payload) || tokio::time::Instant::now() >= deadline {
                return Ok(payload);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Expects the delivery `from SENT text` (MSG-1). Lenient matching skips a few other
    /// frames first (acknowledgements of the server's own), as deviations.
    pub async fn expect_delivery(&mut self, conn: &mut Conn, from: &Name, text: &str) -> Check {
        self.expect_delivered(conn, from, text, judge::delivery)
            .await
    }

    /// Expects a delivery of `text` from `from` as the grading sheet's rows ask for it: in
    /// lenient matching the text may come in another letter case (JUDGE-22).
    pub async fn expect_delivery_words(
        &mut self,
        conn: &mut Conn,
        from: &Name,
        text: &str,
    ) -> Check {
        self.expect_delivered(conn, from, text, judge::delivery_words)
            .await
    }

    async fn expect_delivered(
        &mut self,
        conn: &mut Conn,
        from: &Name,
        text: &str,
        judged: fn(&Profile, &[u8], &str, &str) -> Judgement,
    ) -> Check {
        let expected = format!("`{from} SENT {}`", escape_bytes(text.as_bytes()));
        let profile = self.profile.clone();
        // The text in another letter case ends the wait too, to be judged at once.
        let awaited = |p: &[u8]| judge::delivery_words(&profile, p, from.as_str(), text).accepted();
        let payload = self.recv_awaited(conn, &expected, &awaited).await?;
        let j = judged(&self.profile, &payload, from.as_str(), text);
        self.judge(j, &expected)
    }

    /// Expects an error reply with `code`; `success` recognises the reply that would mean the
    /// command worked, which lenient matching must not take for an error.
    pub async fn expect_error_or(
        &mut self,
        conn: &mut Conn,
        code: ErrorCode,
        success: &(dyn Fn(&[u8]) -> bool + Sync),
    ) -> Check<Bytes> {
        let expected = format!("`ERROR {code} ...`");
        let payload = self.recv(conn, &expected).await?;
        let j = judge::error(&self.profile, &payload, code, success);
        self.judge(j, &expected)?;
        Ok(payload)
    }

    /// Expects an error reply with `code`, for a command that has no success reply to confuse
    /// it with.
    pub async fn expect_error(&mut self, conn: &mut Conn, code: ErrorCode) -> Check<Bytes> {
        self.expect_error_or(conn, code, &|_| false).await
    }

    /// Expects `BYE` and then the close (EXIT-2). Lenient matching accepts a close without
    /// BYE, and a connection the server leaves open, as deviations.
    pub async fn expect_bye_and_close(&mut self, conn: &mut Conn) -> Check {
        let strict = self.profile.strict();
        match conn.recv(self.timeout).await {
            Received::Frame(p) => {
                let j = judge::bye(&self.profile, &p);
                self.judge(j, "`BYE`")?;
            }
            Received::Closed | Received::Failed(_) if !strict => {
                self.deviation("the server closed the connection after EXIT without a reply");
                return Ok(());
            }
            Received::Timeout if !strict => {
                self.deviation("EXIT got no reply and the connection stayed open");
                return Ok(());
            }
            other => {
                return Err(self.fail(
                    FailureKind::Wrong,
                    "`BYE`, then the server closes",
                    self.describe(&other, conn.label()),
                ));
            }
        }
        self.expect_closed(conn, "the server closes the connection after BYE")
            .await
    }

    /// Expects the server to close the connection, with no further frame.
    pub async fn expect_closed(&mut self, conn: &mut Conn, what: &str) -> Check {
        match conn.recv(self.timeout).await {
            Received::Closed | Received::Failed(_) => Ok(()),
            Received::Timeout if !self.profile.strict() => {
                self.deviation(format!("the connection stayed open: expected {what}"));
                Ok(())
            }
            other => Err(self.fail(
                FailureKind::Wrong,
                what.to_owned(),
                self.describe(&other, conn.label()),
            )),
        }
    }

    /// Expects that nothing arrives on `conn` before the reply to a GET_NAMES sent now: the
    /// round trip is the barrier, no waiting for silence. `present` are names the list must
    /// show (so that lenient matching can tell the list from anything else).
    pub async fn expect_nothing_before_names(
        &mut self,
        conn: &mut Conn,
        present: &[&Name],
        why: &str,
    ) -> Check {
        self.send(conn, &Command::GetNames).await?;
        let others = self.others_shown(conn, present);
        let mut extra = Vec::new();
        loop {
            let mut payload = self.recv(conn, "the names list").await?;
            if !self.profile.strict()
                && !self.is_names_list(&payload, present)
                && ListParts::opened_by(&payload)
            {
                payload = self.recv_list_parts(conn, payload).await;
            }
            if self.is_names_list(&payload, present) {
                break;
            }
            if others
                .as_ref()
                .is_some_and(|o| shows(&self.profile, &payload, o))
            {
                self.taken_without_asker(conn, &payload);
                break;
            }
            extra.push(payload);
            if extra.len() > 16 {
                break;
            }
        }
        if extra.is_empty() {
            return Ok(());
        }
        let shown: Vec<String> = extra
            .iter()
            .map(|p| format!("`{}`", escape_bytes(p)))
            .collect();
        Err(self.fail(
            FailureKind::Wrong,
            format!("nothing on {} ({why})", conn.label()),
            format!("got {}", shown.join(", ")),
        ))
    }

    /// Whether `payload` is a names list showing `present` (in any order): how a GET_NAMES
    /// barrier's reply is told from other frames.
    pub fn is_names_list(&self, payload: &[u8], present: &[&Name]) -> bool {
        is_names_list(&self.profile, payload, present)
    }

    /// A text payload for this case's commands.
    pub fn text(&self, s: &str) -> Check<Text> {
        Text::new(s).map_err(|e| {
            self.fail(
                FailureKind::Harness,
                "a valid text",
                format!("the case built a bad text: {e}"),
            )
        })
    }
}

/// Whether `payload` is a names list showing `names`, as `profile` reads it.
fn shows(profile: &Profile, payload: &[u8], names: &[Name]) -> bool {
    let refs: Vec<&Name> = names.iter().collect();
    is_names_list(profile, payload, &refs)
}

/// Payloads quoted for a report, comma-separated.
fn quoted(payloads: &[Bytes]) -> String {
    payloads
        .iter()
        .map(|p| format!("`{}`", escape_bytes(p)))
        .collect::<Vec<_>>()
        .join(", ")
}
