//! Recognising a server's reply in its own words, from what the reader knows (§11, CLIENT-5).
//!
//! A canonical reply is classified without context (REPLY-1). A course server's reply is not:
//! `Hello Dave` is, word for word, a names list of `Hello` and `Dave`, and `Bob Ann` is a
//! names list only when one was asked for. So a foreign reply is read with a [`Context`]: the
//! reader's own name, the commands still waiting for a reply, and the names seen so far. The
//! reading is one of the kinds of [`Recognised`].
//!
//! The order of the rules, first match wins:
//!
//! 1. The canonical forms that no other reply can take: `HELLO n`, `ERROR CODE ...`, `BYE`,
//!    `n SENT t` (their reserved words cannot be names).
//! 2. A fixed prefix naming the server (`Server Sent: Hello Dave`) is dropped.
//! 3. A delivery, which may come at any moment: `MSG_FROM n t`, `n sent t`, `n SENT: t`,
//!    `n send t`, `n: t`, `... from n: t`.
//! 4. A refusal ([`reads_as_refusal`]).
//! 5. The reply to a command waiting for one, oldest first: NAME is answered by a text holding
//!    the name, GET_NAMES by a names list, MSG by an acknowledgement, EXIT by anything but the
//!    first thing received while a NAME or GET_NAMES sent before it waits (replies come in
//!    order: that is a greeting, rule 7).
//! 6. A farewell, a hello holding the reader's name, or a names list behind a prefix, asked or
//!    not.
//! 7. With nothing asked, or as the first thing received: a greeting. Otherwise: unknown.
//!
//! [`Conversation`] keeps the context up to date as commands are sent and replies read.

use std::collections::VecDeque;

use bytes::Bytes;

use super::lenient::{ListParts, NameCase, list_items, reads_as_refusal, words};
use super::{ErrorCode, Name, NameList, Reply, Verb};

/// What the reader knows when a reply arrives.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The name this reader holds or has asked for.
    pub own: Option<&'a Name>,
    /// Commands sent and not answered yet, oldest first.
    pub pending: &'a [Verb],
    /// Names seen so far: in names lists and as senders.
    pub known: &'a [Name],
    /// Nothing has been received before this reply.
    pub first: bool,
}

/// What a reply reads as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognised {
    /// Text sent before anything was asked (a course server's welcome).
    Greeting(String),
    /// The reader now holds this name (`HELLO n`, `Hello n`, `Welcome, n!`).
    Named(Name),
    /// A names list (`A B`, `Connected clients: A, B`, `NAMES A B`).
    Names(NameList),
    /// A message from `from` (`A SENT t`, `A: t`, `A sent t`, `MSG_FROM A t`).
    Delivery {
        /// The sender.
        from: Name,
        /// The text, as the server sent it.
        text: String,
    },
    /// An error or a refusal; the code when the reply is canonical (`ERROR CODE ...`).
    Refusal {
        /// The canonical code, when there is one.
        code: Option<ErrorCode>,
        /// The whole reply, or the canonical message.
        text: String,
    },
    /// The end of the session (`BYE`, `Bye!`, or whatever answers EXIT).
    Bye,
    /// An acknowledgement of a sent message (`Message sent.`).
    Ack(String),
    /// Nothing above.
    Unknown,
}

impl Recognised {
    /// The command this reading answers, for a reply that answers one. A refusal answers the
    /// oldest command waiting; a greeting, a delivery or an unknown reply answers none.
    pub fn answers(&self) -> Option<Verb> {
        match self {
            Recognised::Named(_) => Some(Verb::Name),
            Recognised::Names(_) => Some(Verb::GetNames),
            Recognised::Ack(_) => Some(Verb::Msg),
            Recognised::Bye => Some(Verb::Exit),
            _ => None,
        }
    }

    /// A canonical reply as a reading, with no context needed (REPLY-1).
    pub fn from_reply(reply: &Reply) -> Recognised {
        match reply {
            Reply::Hello(name) => Recognised::Named(name.clone()),
            Reply::Names(list) => Recognised::Names(list.clone()),
            Reply::Delivery { from, text } => Recognised::Delivery {
                from: from.clone(),
                text: text.as_str().to_owned(),
            },
            Reply::Error { code, message } => Recognised::Refusal {
                code: Some(*code),
                text: message
                    .as_ref()
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
            },
            Reply::Bye => Recognised::Bye,
        }
    }
}

/// Words that cannot be the sender of a delivery: `Error: no such user` is a refusal,
/// `Clients: A B` a names list, `Message sent to B` an acknowledgement.
const NOT_SENDERS: [&str; 14] = [
    "message",
    "msg",
    "server",
    "names",
    "clients",
    "users",
    "online",
    "connected",
    "hello",
    "welcome",
    "name",
    "list",
    "info",
    "warning",
];

/// Words that may stand before the names of a names list, compared without case.
const NAMES_PREFIXES: [&str; 8] = [
    "names",
    "connected_names",
    "clients",
    "users",
    "online",
    "connected",
    "list",
    "get_names",
];

/// Words of an acknowledgement, compared without case.
const ACK_WORDS: [&str; 5] = ["sent", "delivered", "ok", "success", "successfully"];

/// Words of a farewell, compared without case.
const BYE_WORDS: [&str; 4] = ["bye", "goodbye", "farewell", "disconnected"];

/// Words that open a hello, compared without case.
const HELLO_WORDS: [&str; 4] = ["hello", "hi", "welcome", "hey"];

/// Reads one reply payload in its context (see the module docs for the rules).
pub fn recognise(payload: &[u8], context: &Context<'_>) -> Recognised {
    let Ok(text) = std::str::from_utf8(payload) else {
        return Recognised::Unknown;
    };
    // Colour codes are no part of what the server says (JUDGE-24).
    read(&super::lenient::shown(text), context, true)
}

fn read(text: &str, context: &Context<'_>, may_strip: bool) -> Recognised {
    let t = text.trim();
    match Reply::parse(t.as_bytes()) {
        Ok(Reply::Names(_)) | Err(_) => {}
        Ok(reply) => return Recognised::from_reply(&reply),
    }
    if may_strip && let Some(rest) = strip_server_prefix(t) {
        return read(rest, context, false);
    }
    if let Some((from, text)) = delivery(t, context) {
        return Recognised::Delivery { from, text };
    }
    if reads_as_refusal(t.as_bytes()) {
        return Recognised::Refusal {
            code: None,
            text: t.to_owned(),
        };
    }
    let lower: Vec<String> = words(t.as_bytes())
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let has_any = |set: &[&str]| lower.iter().any(|w| set.contains(&w.as_str()));
    // The name asked for, as the reply shows it: a server may keep names in one letter case
    // (JUDGE-21).
    let holds_own = context.own.and_then(|own| {
        NameCase::shown(t.as_bytes(), own.as_str())
            .and_then(|case| Name::new(&case.apply(own.as_str())).ok())
    });
    for (at, verb) in context.pending.iter().enumerate() {
        match verb {
            Verb::Name => {
                if let Some(own) = &holds_own {
                    return Recognised::Named(own.clone());
                }
            }
            Verb::GetNames => {
                if let Some((list, _)) = names(t) {
                    return Recognised::Names(list);
                }
            }
            Verb::Msg if has_any(&ACK_WORDS) => return Recognised::Ack(t.to_owned()),
            Verb::Msg => {}
            Verb::Exit => {
                let earlier_waits = context.pending[..at]
                    .iter()
                    .any(|v| matches!(v, Verb::Name | Verb::GetNames));
                if !(context.first && earlier_waits) {
                    return Recognised::Bye;
                }
            }
        }
    }
    if has_any(&BYE_WORDS) {
        return Recognised::Bye;
    }
    if let Some(own) = holds_own
        && lower
            .first()
            .is_some_and(|w| HELLO_WORDS.contains(&w.as_str()))
    {
        return Recognised::Named(own);
    }
    if let Some((list, true)) = names(t) {
        return Recognised::Names(list);
    }
    if (context.pending.is_empty() || context.first) && !t.is_empty() {
        return Recognised::Greeting(t.to_owned());
    }
    if has_any(&ACK_WORDS[..2]) {
        return Recognised::Ack(t.to_owned());
    }
    Recognised::Unknown
}

/// `Server Sent: rest` and the like: a head before `: ` that names the server.
fn strip_server_prefix(t: &str) -> Option<&str> {
    let (head, rest) = t.split_once(": ")?;
    let server = words(head.as_bytes())
        .iter()
        .any(|w| w.eq_ignore_ascii_case("server"));
    (server && !rest.trim().is_empty()).then_some(rest)
}

/// A name that may send a message: valid, and not a word of refusals, lists or
/// acknowledgements.
fn sender(word: &str) -> Option<Name> {
    let lower = word.to_ascii_lowercase();
    if NOT_SENDERS.contains(&lower.as_str())
        || super::lenient::REFUSAL_WORDS.contains(&lower.as_str())
    {
        return None;
    }
    Name::new(word).ok()
}

/// The sender and text of a delivery in one of the course's wordings.
fn delivery(t: &str, context: &Context<'_>) -> Option<(Name, String)> {
    let (first, rest) = t.split_once(' ')?;
    // MSG_FROM A text
    if first.eq_ignore_ascii_case("MSG_FROM") {
        let (from, text) = rest.split_once(' ')?;
        return Some((Name::new(from).ok()?, text.to_owned()));
    }
    // A sent text, A SENT: text, A send text, A says text, A wrote: text
    if let Some((verb, text)) = rest.split_once(' ') {
        let verb = verb.strip_suffix(':').unwrap_or(verb).to_ascii_lowercase();
        if ["sent", "send", "says", "wrote", "writes", "whispers"].contains(&verb.as_str())
            && !text.is_empty()
            && let Some(from) = sender(first)
        {
            return Some((from, text.to_owned()));
        }
    }
    // A: text. A names list asked for and headed by an unknown word is read as a list.
    if let Some((head, text)) = t.split_once(": ")
        && !text.is_empty()
        && let Some(from) = sender(head)
    {
        let known = context.known.contains(&from) || context.own == Some(&from);
        let list_asked = context.pending.contains(&Verb::GetNames);
        if known || !list_asked || names(text).is_none() {
            return Some((from, text.to_owned()));
        }
    }
    // ... from A: text
    let lower = t.to_ascii_lowercase();
    if let Some(at) = lower.find("from ") {
        let after = &t[at + "from ".len()..];
        if let Some((from, text)) = after.split_once(": ")
            && !text.is_empty()
            && let Some(from) = sender(from)
        {
            return Some((from, text.to_owned()));
        }
    }
    None
}

/// A names list in one of the course's wordings, and whether it had a prefix that says it is
/// one (`Connected clients: `, `NAMES `). Names are separated by spaces, commas or line
/// breaks; a last `+N` counts names left out (NAMES-5).
fn names(t: &str) -> Option<(NameList, bool)> {
    let (mut prefixed, body) = match t.rsplit_once(':') {
        Some((_, body)) => (true, body),
        None => (false, t),
    };
    let mut tokens: Vec<&str> = list_items(body).collect();
    while let Some(first) = tokens.first()
        && NAMES_PREFIXES.contains(&first.to_ascii_lowercase().as_str())
    {
        prefixed = true;
        tokens.remove(0);
    }
    let mut omitted = 0;
    if let Some(more) = tokens.last().and_then(|w| w.strip_prefix('+'))
        && let Ok(n) = more.parse::<u64>()
    {
        omitted = n;
        tokens.pop();
    }
    let names = tokens
        .iter()
        .map(|w| Name::new(w))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    if names.is_empty() && omitted == 0 && !t.is_empty() && !prefixed {
        return None;
    }
    Some((NameList::with_omitted(names, omitted), prefixed))
}

/// The most commands remembered as waiting for a reply; older ones are forgotten (a server
/// that never answers MSG would otherwise grow the queue for ever).
pub const MAX_PENDING: usize = 64;

/// How replies are read: to the letter of §6, or leniently as described above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reading {
    /// Only the canonical grammar (REPLY-1); anything else is unknown.
    #[default]
    Strict,
    /// The canonical grammar first, then the course's wordings, in context.
    Lenient,
}

/// The reader's side of a conversation: its context, kept up to date, and a names list sent
/// in several frames read whole (CLIENT-7).
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    reading: Reading,
    own: Option<Name>,
    pending: VecDeque<Verb>,
    known: Vec<Name>,
    received: bool,
    /// A names list answering `GET_NAMES` that the next frames may go on, with its names so
    /// far.
    list: Option<(ListParts, NameList)>,
}

/// What one frame, or a names list sent in several, reads as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The frame's payload, or the list's frames one per line.
    pub payload: Bytes,
    /// How it reads.
    pub reading: Recognised,
}

/// The most names remembered as seen.
pub const MAX_KNOWN: usize = 4096;

impl Conversation {
    /// A conversation read as `reading`.
    pub fn new(reading: Reading) -> Conversation {
        Conversation {
            reading,
            ..Conversation::default()
        }
    }

    /// A command was sent: `NAME n` (with `n`), or another verb.
    pub fn sent(&mut self, verb: Verb, name: Option<&Name>) {
        if let (Verb::Name, Some(name)) = (verb, name)
            && self.own.is_none()
        {
            self.own = Some(name.clone());
        }
        if self.pending.len() == MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(verb);
    }

    /// Reads one frame and answers what is read now, oldest first: nothing while a names list
    /// is held, the list that this frame ends, and this frame's own reading.
    ///
    /// Read leniently, a names list answering `GET_NAMES` that opens a list or holds names
    /// alone ([`ListParts::opened_by`]) is held: the frames of names alone that follow are
    /// its parts (CLIENT-7). The reader waits [`LIST_PART_GAP`] after each frame held, then
    /// takes the list with [`Conversation::end_list`], as it does before the session ends.
    ///
    /// [`LIST_PART_GAP`]: super::lenient::LIST_PART_GAP
    pub fn read(&mut self, payload: &Bytes) -> Vec<Read> {
        let mut out = Vec::new();
        if let Some((mut parts, names)) = self.list.take() {
            if !self.may_answer_another(payload) && parts.take(payload) {
                let mut all = names.names().to_vec();
                for name in list_items(&String::from_utf8_lossy(payload)) {
                    if let Ok(name) = Name::new(name) {
                        self.remember(&name);
                        all.push(name);
                    }
                }
                self.list = Some((parts, NameList::with_omitted(all, names.omitted())));
                return out;
            }
            self.list = Some((parts, names));
            out.extend(self.end_list());
        }
        let pending_names = self.pending.contains(&Verb::GetNames);
        let reading = self.read_frame(payload);
        match reading {
            Recognised::Names(names)
                if self.reading == Reading::Lenient
                    && pending_names
                    && ListParts::opened_by(payload) =>
            {
                self.list = Some((ListParts::new(payload.clone()), names));
            }
            reading => out.push(Read {
                payload: payload.clone(),
                reading,
            }),
        }
        out
    }

    /// Whether `payload` may answer a command sent after the `GET_NAMES` of the list held
    /// rather than go on with the list: its words greet, take leave or acknowledge (`Hi`,
    /// `Goodbye`, `OK` are names alone, too) while a command other than `GET_NAMES` waits.
    fn may_answer_another(&self, payload: &[u8]) -> bool {
        self.pending.iter().any(|v| *v != Verb::GetNames)
            && words(payload).iter().any(|w| {
                let w = w.to_ascii_lowercase();
                [&HELLO_WORDS[..], &BYE_WORDS, &ACK_WORDS]
                    .iter()
                    .any(|set| set.contains(&w.as_str()))
            })
    }

    /// Whether a names list is held for its next part (see [`Conversation::read`]).
    pub fn holds_list(&self) -> bool {
        self.list.is_some()
    }

    /// The names list held, read whole: its payload is its frames one per line.
    pub fn end_list(&mut self) -> Option<Read> {
        let (parts, names) = self.list.take()?;
        Some(Read {
            payload: parts.joined(),
            reading: Recognised::Names(names),
        })
    }

    /// Reads one frame alone and updates the context: the answered command (and any older
    /// one, which got no reply) stops waiting, and names seen are remembered.
    fn read_frame(&mut self, payload: &[u8]) -> Recognised {
        let reading = match self.reading {
            Reading::Strict => match Reply::parse(payload) {
                Ok(reply) => Recognised::from_reply(&reply),
                Err(_) => Recognised::Unknown,
            },
            Reading::Lenient => {
                let pending: Vec<Verb> = self.pending.iter().copied().collect();
                recognise(
                    payload,
                    &Context {
                        own: self.own.as_ref(),
                        pending: &pending,
                        known: &self.known,
                        first: !self.received,
                    },
                )
            }
        };
        self.received = true;
        let answered = match (&reading, reading.answers()) {
            (_, Some(verb)) => self.pending.iter().position(|v| *v == verb),
            (Recognised::Refusal { .. }, None) if !self.pending.is_empty() => Some(0),
            _ => None,
        };
        if let Some(at) = answered {
            if let Some(Verb::Name) = self.pending.get(at)
                && matches!(reading, Recognised::Refusal { .. })
            {
                // The name was refused: it is not ours.
                self.own = None;
            }
            self.pending.drain(..=at);
        }
        match &reading {
            Recognised::Named(name) => {
                self.own = Some(name.clone());
                self.remember(name);
            }
            Recognised::Names(list) => {
                for name in list.names() {
                    self.remember(name);
                }
            }
            Recognised::Delivery { from, .. } => self.remember(from),
            _ => {}
        }
        reading
    }

    /// The name held or asked for.
    pub fn own(&self) -> Option<&Name> {
        self.own.as_ref()
    }

    /// Names seen so far, oldest first.
    pub fn known(&self) -> &[Name] {
        &self.known
    }

    /// Commands waiting for a reply, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = Verb> + '_ {
        self.pending.iter().copied()
    }

    fn remember(&mut self, name: &Name) {
        if self.known.contains(name) {
            return;
        }
        if self.known.len() == MAX_KNOWN {
            self.known.remove(0);
        }
        self.known.push(name.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).expect("a name")
    }

    /// The one reading of `payload`, a names list held included.
    fn one(c: &mut Conversation, payload: &[u8]) -> Recognised {
        let mut reads = c.read(&Bytes::copy_from_slice(payload));
        reads.extend(c.end_list());
        assert_eq!(reads.len(), 1, "{reads:?}");
        reads.remove(0).reading
    }

    fn list(names: &[&str]) -> Recognised {
        Recognised::Names(NameList::new(names.iter().map(|s| n(s)).collect()))
    }

    fn delivery(from: &str, text: &str) -> Recognised {
        Recognised::Delivery {
            from: n(from),
            text: text.to_owned(),
        }
    }

    fn refusal(text: &str) -> Recognised {
        Recognised::Refusal {
            code: None,
            text: text.to_owned(),
        }
    }

    /// The wordings course servers answer with, read as the client reads them (CLIENT-5): its
    /// name is Dave (or A, as in the example run of PROTOCOL.md §12), Bob is known, and the
    /// command is what was just sent.
    #[test]
    fn course_wordings_are_recognised_in_context_client_5() {
        use Verb::*;
        let dave = n("Dave");
        let a = n("A");
        let known = [n("Bob"), n("Carol")];
        let cases: Vec<(&crate::protocol::Name, &[Verb], &str, Recognised)> = vec![
            // Greetings, before anything is asked.
            (
                &dave,
                &[],
                "Welcome to the chat server!",
                Recognised::Greeting("Welcome to the chat server!".into()),
            ),
            (
                &dave,
                &[],
                "Welcome to the chat server",
                Recognised::Greeting("Welcome to the chat server".into()),
            ),
            // NAME success.
            (&a, &[Name], "HELLO A", Recognised::Named(n("A"))),
            (&a, &[Name], "HELLO A!", Recognised::Named(n("A"))),
            (&dave, &[Name], "Hello Dave", Recognised::Named(n("Dave"))),
            // A server that keeps names in lower case (JUDGE-21).
            (
                &dave,
                &[Name],
                "Welcome dave!",
                Recognised::Named(n("dave")),
            ),
            (
                &dave,
                &[Name],
                "Server Sent: Hello Dave",
                Recognised::Named(n("Dave")),
            ),
            (
                &dave,
                &[Name],
                "Welcome, Dave!",
                Recognised::Named(n("Dave")),
            ),
            (
                &a,
                &[Name],
                "NAME SUCCESS Name set to A",
                Recognised::Named(n("A")),
            ),
            (
                &dave,
                &[Name],
                "CONNECTED_NAMES Dave\n",
                Recognised::Named(n("Dave")),
            ),
            (&dave, &[], "Hello Dave", Recognised::Named(n("Dave"))),
            // Duplicate names and bad names.
            (
                &dave,
                &[Name],
                "ERROR NAME_TAKEN Dave is taken",
                Recognised::Refusal {
                    code: Some(ErrorCode::NameTaken),
                    text: "Dave is taken".into(),
                },
            ),
            (
                &dave,
                &[Name],
                "Name already in use",
                refusal("Name already in use"),
            ),
            (
                &dave,
                &[Name],
                "Error: name Dave exists",
                refusal("Error: name Dave exists"),
            ),
            (
                &dave,
                &[Name],
                "The name must consist of only letters",
                refusal("The name must consist of only letters"),
            ),
            (
                &dave,
                &[Name],
                "NAME ERROR Invalid name",
                refusal("NAME ERROR Invalid name"),
            ),
            // Names lists.
            (&a, &[GetNames], "A B", list(&["A", "B"])),
            (&a, &[GetNames], "A B ", list(&["A", "B"])),
            (
                &dave,
                &[GetNames],
                "Connected clients: Dave, Bob",
                list(&["Dave", "Bob"]),
            ),
            (
                &dave,
                &[GetNames],
                "Connected clients: Dave",
                list(&["Dave"]),
            ),
            (&dave, &[GetNames], "NAMES Dave Bob", list(&["Dave", "Bob"])),
            (
                &dave,
                &[GetNames],
                "The clients are: Dave Bob",
                list(&["Dave", "Bob"]),
            ),
            (&dave, &[GetNames], "Dave\nBob", list(&["Dave", "Bob"])),
            (
                &dave,
                &[GetNames],
                "Clients: Dave, Bob",
                list(&["Dave", "Bob"]),
            ),
            (
                &dave,
                &[GetNames],
                "Dave, Bob, +3",
                Recognised::Names(NameList::with_omitted(vec![n("Dave"), n("Bob")], 3)),
            ),
            (&dave, &[GetNames], "", list(&[])),
            (
                &dave,
                &[],
                "Connected clients: Dave, Bob",
                list(&["Dave", "Bob"]),
            ),
            // Deliveries, asked for or not.
            (&a, &[], "B sent HELLO", delivery("B", "HELLO")),
            (&a, &[], "B: HELLO", delivery("B", "HELLO")),
            (&a, &[], "B SENT HELLO", delivery("B", "HELLO")),
            (&a, &[], "B SENT: HELLO", delivery("B", "HELLO")),
            (&a, &[], "B send HELLO", delivery("B", "HELLO")),
            (&a, &[], "MSG_FROM B HELLO", delivery("B", "HELLO")),
            (&a, &[], "New message from B: HELLO", delivery("B", "HELLO")),
            (
                &dave,
                &[GetNames],
                "Bob: hi there",
                delivery("Bob", "hi there"),
            ),
            (&dave, &[Msg], "Bob: no way", delivery("Bob", "no way")),
            (&dave, &[Name], "Dave sent hi", delivery("Dave", "hi")),
            // Acknowledgements of MSG, and what follows them.
            (
                &dave,
                &[Msg],
                "Message sent.",
                Recognised::Ack("Message sent.".into()),
            ),
            (
                &dave,
                &[Msg, GetNames],
                "MSG to Carol sent",
                Recognised::Ack("MSG to Carol sent".into()),
            ),
            (&dave, &[Msg, GetNames], "Dave Bob", list(&["Dave", "Bob"])),
            (
                &dave,
                &[Msg],
                "Message sent to Bob",
                Recognised::Ack("Message sent to Bob".into()),
            ),
            // Errors: unknown commands, missing users, MSG before NAME.
            (
                &dave,
                &[Msg],
                "ERROR NO_SUCH_USER Zed",
                Recognised::Refusal {
                    code: Some(ErrorCode::NoSuchUser),
                    text: "Zed".into(),
                },
            ),
            (
                &dave,
                &[Msg],
                "User Zed not found",
                refusal("User Zed not found"),
            ),
            (
                &dave,
                &[Msg],
                "Error: no such user",
                refusal("Error: no such user"),
            ),
            (
                &dave,
                &[Msg],
                "ERROR You must set a name first",
                refusal("ERROR You must set a name first"),
            ),
            (
                &dave,
                &[GetNames],
                "Unknown command",
                refusal("Unknown command"),
            ),
            (
                &dave,
                &[],
                "Command not recognized",
                refusal("Command not recognized"),
            ),
            // EXIT: BYE, a friendly word, or whatever answers it.
            (&dave, &[Exit], "BYE", Recognised::Bye),
            (&dave, &[Exit], "Bye!", Recognised::Bye),
            (&dave, &[Exit], "Goodbye Dave", Recognised::Bye),
            (&dave, &[Exit], "Disconnected.", Recognised::Bye),
            (&dave, &[], "Bye!", Recognised::Bye),
            // Nothing known.
            (&dave, &[Name], "Zzz", Recognised::Unknown),
        ];
        for (own, pending, payload, want) in cases {
            let context = Context {
                own: Some(own),
                pending,
                known: &known,
                first: false,
            };
            assert_eq!(
                recognise(payload.as_bytes(), &context),
                want,
                "{payload:?} after {pending:?}"
            );
        }
    }

    #[test]
    fn canonical_replies_read_the_same_without_context_reply_1() {
        let context = Context::default();
        assert_eq!(recognise(b"HELLO A", &context), Recognised::Named(n("A")));
        assert_eq!(recognise(b"A SENT hi", &context), delivery("A", "hi"));
        assert_eq!(recognise(b"BYE", &context), Recognised::Bye);
        assert_eq!(
            recognise(b"ERROR BAD_ARGS", &context),
            Recognised::Refusal {
                code: Some(ErrorCode::BadArgs),
                text: String::new()
            }
        );
        assert_eq!(recognise(b"\xff\xfe", &context), Recognised::Unknown);
    }

    /// Replies in colour are read as a terminal shows them (JUDGE-24).
    #[test]
    fn replies_in_colour_are_read_without_their_escape_sequences_judge_24() {
        let mut c = Conversation::new(Reading::Lenient);
        c.sent(Verb::Name, Some(&n("Dave")));
        assert_eq!(
            one(&mut c, b"\x1b[32mJoined as Dave\x1b[0m"),
            Recognised::Named(n("Dave"))
        );
        c.sent(Verb::GetNames, None);
        assert_eq!(
            one(&mut c, b"\x1b[32mHere now: Dave, Bob\x1b[0m"),
            list(&["Dave", "Bob"])
        );
        assert_eq!(
            one(&mut c, b"\x1b[1mBob\x1b[0m wrote: hi there"),
            delivery("Bob", "hi there")
        );
        assert_eq!(one(&mut c, b"Bob whispers: psst"), delivery("Bob", "psst"));
        c.sent(Verb::Msg, None);
        assert_eq!(
            one(&mut c, b"\x1b[31mNobody is not around\x1b[0m"),
            refusal("Nobody is not around")
        );
    }

    #[test]
    fn a_greeting_that_comes_before_the_reply_to_name_is_a_greeting() {
        let mut c = Conversation::new(Reading::Lenient);
        c.sent(Verb::Name, Some(&n("Dave")));
        assert_eq!(
            one(&mut c, b"Welcome to the chat server!"),
            Recognised::Greeting("Welcome to the chat server!".into())
        );
        assert_eq!(one(&mut c, b"Hello Dave"), Recognised::Named(n("Dave")));
        // Later, the same text is not a greeting.
        c.sent(Verb::Name, Some(&n("Dave")));
        assert_eq!(
            one(&mut c, b"Welcome to the chat server!"),
            Recognised::Unknown
        );
    }

    /// A script's commands can all be out before a slow server greets: the greeting is still
    /// a greeting, not the reply to the EXIT at the end, and the replies after it are read
    /// (CLIENT-5).
    #[test]
    fn a_greeting_after_a_scripts_commands_is_a_greeting_not_the_reply_to_exit() {
        let mut c = Conversation::new(Reading::Lenient);
        let dave = n("Dave");
        c.sent(Verb::Name, Some(&dave));
        c.sent(Verb::GetNames, None);
        c.sent(Verb::Msg, None);
        c.sent(Verb::Exit, None);
        assert_eq!(
            one(&mut c, b"Welcome to the chat server!"),
            Recognised::Greeting("Welcome to the chat server!".into())
        );
        assert_eq!(one(&mut c, b"Hello Dave"), Recognised::Named(dave.clone()));
        assert_eq!(
            one(&mut c, b"Connected clients: Dave"),
            Recognised::Names(NameList::new(vec![dave.clone()]))
        );
        assert_eq!(
            one(&mut c, b"Message sent."),
            Recognised::Ack("Message sent.".into())
        );
        // Then anything answers EXIT.
        assert_eq!(one(&mut c, b"Closing your connection"), Recognised::Bye);

        // Where only MSG (which a course server may leave unanswered) went before the EXIT,
        // or the frame is not the first, anything still answers it.
        let mut c = Conversation::new(Reading::Lenient);
        c.sent(Verb::Msg, None);
        c.sent(Verb::Exit, None);
        assert_eq!(one(&mut c, b"Closing your connection"), Recognised::Bye);
        let mut c = Conversation::new(Reading::Lenient);
        c.sent(Verb::GetNames, None);
        assert_eq!(
            one(&mut c, b"Connected clients: Dave"),
            Recognised::Names(NameList::new(vec![dave]))
        );
        c.sent(Verb::Name, None);
        c.sent(Verb::Exit, None);
        assert_eq!(one(&mut c, b"Closing your connection"), Recognised::Bye);
    }

    #[test]
    fn a_greeting_is_not_a_names_list() {
        let mut conversation = Conversation::new(Reading::Lenient);
        assert_eq!(
            one(&mut conversation, b"Welcome to the chat server"),
            Recognised::Greeting("Welcome to the chat server".into())
        );
        let mut strict = Conversation::new(Reading::Strict);
        assert!(matches!(
            one(&mut strict, b"Welcome to the chat server"),
            Recognised::Names(_)
        ));
    }

    #[test]
    fn a_conversation_keeps_its_context() {
        let mut c = Conversation::new(Reading::Lenient);
        let dave = n("Dave");
        c.sent(Verb::Name, Some(&dave));
        assert_eq!(one(&mut c, b"Hello Dave"), Recognised::Named(dave.clone()));
        assert_eq!(c.own(), Some(&dave));
        assert_eq!(c.pending().count(), 0);
        // A canonical MSG gets no reply; the names list that follows answers GET_NAMES.
        c.sent(Verb::Msg, None);
        c.sent(Verb::GetNames, None);
        assert_eq!(one(&mut c, b"Dave Bob"), list(&["Dave", "Bob"]));
        assert_eq!(c.pending().count(), 0);
        assert_eq!(c.known(), [dave.clone(), n("Bob")]);
        assert_eq!(one(&mut c, b"Carol: hi"), delivery("Carol", "hi"));
        assert_eq!(c.known().len(), 3);
        c.sent(Verb::Msg, None);
        assert_eq!(
            one(&mut c, b"User Zed not found"),
            refusal("User Zed not found")
        );
        assert_eq!(c.pending().count(), 0);
        c.sent(Verb::Exit, None);
        assert_eq!(one(&mut c, b"See you"), Recognised::Bye);
    }

    /// Bytes of `payload`.
    fn b(payload: &str) -> Bytes {
        Bytes::copy_from_slice(payload.as_bytes())
    }

    /// The readings of `reads`.
    fn readings(reads: Vec<Read>) -> Vec<Recognised> {
        reads.into_iter().map(|r| r.reading).collect()
    }

    #[test]
    fn a_names_list_in_several_frames_is_read_whole_client_7() {
        let mut c = Conversation::new(Reading::Lenient);
        c.sent(Verb::Name, Some(&n("Dave")));
        assert_eq!(one(&mut c, b"Hello Dave"), Recognised::Named(n("Dave")));
        // A heading, then a frame per name: held until a frame that is not names alone.
        c.sent(Verb::GetNames, None);
        for part in ["Connected users:", "Dave", "Bob"] {
            assert_eq!(c.read(&b(part)), [], "{part}");
            assert!(c.holds_list());
        }
        assert!(c.known().contains(&n("Bob")));
        let reads = c.read(&b("Bob: hi"));
        assert_eq!(reads[0].payload, b("Connected users:\nDave\nBob"));
        assert_eq!(
            readings(reads),
            [list(&["Dave", "Bob"]), delivery("Bob", "hi")]
        );
        assert!(!c.holds_list());

        // A list names no one twice: a frame that repeats a name is the next reply, and may
        // open the next list.
        c.sent(Verb::GetNames, None);
        c.sent(Verb::GetNames, None);
        assert_eq!(c.read(&b("Dave")), []);
        assert_eq!(c.read(&b("Bob")), []);
        assert_eq!(readings(c.read(&b("Dave"))), [list(&["Dave", "Bob"])]);
        assert_eq!(c.read(&b("Bob")), []);
        assert_eq!(
            c.end_list().map(|r| r.reading),
            Some(list(&["Dave", "Bob"]))
        );
        assert_eq!(c.end_list(), None);

        // A farewell or an acknowledgement while EXIT or MSG waits ends the list.
        c.sent(Verb::GetNames, None);
        c.sent(Verb::Exit, None);
        assert_eq!(c.read(&b("Users online:")), []);
        assert_eq!(c.read(&b("Dave")), []);
        assert_eq!(
            readings(c.read(&b("Goodbye"))),
            [list(&["Dave"]), Recognised::Bye]
        );
        c.sent(Verb::GetNames, None);
        c.sent(Verb::Msg, None);
        assert_eq!(c.read(&b("Dave")), []);
        assert_eq!(
            readings(c.read(&b("OK"))),
            [list(&["Dave"]), Recognised::Ack("OK".into())]
        );

        // A heading alone is an empty list once no part follows.
        c.sent(Verb::GetNames, None);
        assert_eq!(c.read(&b("Connected users:")), []);
        assert_eq!(c.end_list().map(|r| r.reading), Some(list(&[])));

        // A list in one frame that cannot go on is read at once.
        c.sent(Verb::GetNames, None);
        assert_eq!(
            readings(c.read(&b("Connected clients: Dave, Bob"))),
            [list(&["Dave", "Bob"])]
        );
    }

    #[test]
    fn only_a_lenient_reply_to_get_names_is_held() {
        let mut strict = Conversation::new(Reading::Strict);
        strict.sent(Verb::GetNames, None);
        assert_eq!(
            readings(strict.read(&b("Dave Bob"))),
            [list(&["Dave", "Bob"])]
        );
        assert!(!strict.holds_list());
        // Nothing asked: names alone are not a list going on.
        let mut c = Conversation::new(Reading::Lenient);
        assert_eq!(c.read(&b("Welcome")).len(), 1);
        assert!(!c.holds_list());
    }

    #[test]
    fn a_refused_name_is_not_kept() {
        let mut c = Conversation::new(Reading::Lenient);
        c.sent(Verb::Name, Some(&n("Dave")));
        assert!(matches!(
            one(&mut c, b"Name already in use"),
            Recognised::Refusal { .. }
        ));
        assert_eq!(c.own(), None);
        c.sent(Verb::Name, Some(&n("Davy")));
        assert_eq!(one(&mut c, b"Hello Davy"), Recognised::Named(n("Davy")));
    }

    #[test]
    fn waiting_commands_are_bounded() {
        let mut c = Conversation::new(Reading::Lenient);
        for _ in 0..MAX_PENDING * 2 {
            c.sent(Verb::Msg, None);
        }
        assert_eq!(c.pending().count(), MAX_PENDING);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let context = Context::default();
        for payload in [
            &b""[..],
            b":",
            b": ",
            b"a: ",
            b"from : x",
            b"+",
            b"+9 +9",
            b" \n ",
        ] {
            let _ = recognise(payload, &context);
        }
    }
}
