//! Interactive mode: one event loop over key events and the connection.
//!
//! The loop owns the editor and the screen. A key edits the line or submits it; a submitted
//! line stays on screen after the prompt, and is sent, answered locally (`/help`) or refused
//! with an explanation (CLIENT-1), in which case it comes back to the input line with the
//! cursor where the problem is. A frame from the server is printed above the input line,
//! which is then drawn again as it was (CLIENT-3).
//!
//! Replies are read in the profile's way ([`Conversation`]): to the letter of §6, or in a
//! course server's own words. The names seen (in names lists and as senders) are what Tab
//! completes. `/query NAME` sends plain lines to NAME; with `--watch`, `GET_NAMES` is sent
//! every few seconds once named: the first list is shown, and after it the difference
//! between two lists as join and leave lines instead of the list.
//!
//! Leaving: `EXIT`, `/quit`, Ctrl-C, Ctrl-D on an empty line or a signal send `EXIT` (once)
//! and wait, bounded by [`Options::wait`], for `BYE` or the server closing. A second Ctrl-C
//! while waiting leaves at once. In the course profile, no reply within the wait is a clean
//! end ([`Ending::Unanswered`]). The server closing the connection unasked is reported on
//! screen and ends the session with [`Ending::ClosedByServer`].

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Write};

use crossterm::event::{Event, EventStream};
use futures::{SinkExt, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, MissedTickBehavior, sleep_until};
use tokio_util::codec::{FramedRead, FramedWrite};

use super::editor::{Action, Editor};
use super::input::{self, Outgoing, Typed};
use super::render::Screen;
use super::show::{self, Line, Tone};
use super::terminal::{self, RawMode};
use super::wire::{ClientWire, Incoming};
use super::{ClientError, Ending, Options, Outcome, Profile};
use crate::protocol::lenient::LIST_PART_GAP;
use crate::protocol::recognise::{Conversation, Read, Recognised};
use crate::protocol::{Command, Name, NameList, Verb};

/// Runs an interactive session on the process's terminal over `stream`.
pub async fn run_terminal(
    stream: impl AsyncRead + AsyncWrite,
    options: &Options,
    stop: impl Future<Output = ()>,
) -> Result<Outcome, ClientError> {
    let guard = RawMode::enable().map_err(ClientError::Terminal)?;
    let width = crossterm::terminal::size().map_or(80, |(w, _)| w);
    let mut out = io::stdout();
    let result = run(
        EventStream::new(),
        stream,
        &mut out,
        options,
        Screen::new(width, terminal::colour_wanted()),
        stop,
    )
    .await;
    drop(guard);
    result
}

/// Runs an interactive session: terminal `events` in, drawing to `out`, over `connection`.
/// The input line is cleared before this returns, however it returns.
pub async fn run<E, C, W>(
    events: E,
    connection: C,
    out: &mut W,
    options: &Options,
    screen: Screen,
    stop: impl Future<Output = ()>,
) -> Result<Outcome, ClientError>
where
    E: Stream<Item = io::Result<Event>> + Unpin,
    C: AsyncRead + AsyncWrite,
    W: Write,
{
    let (reader, writer) = tokio::io::split(connection);
    let mut session = Session {
        editor: Editor::new(),
        screen,
        out,
        writer: FramedWrite::new(writer, ClientWire::new(options.dialect)),
        options,
        leaving: None,
        conversation: Conversation::new(options.profile.reading()),
        query: None,
        lists: VecDeque::new(),
        watched: None,
        received: false,
        last_sent: None,
    };
    let replies = FramedRead::new(reader, options.reading_wire());
    let result = session.run(events, replies, stop).await;
    let cleared = session.screen.clear_input(session.out);
    let outcome = result?;
    cleared.map_err(ClientError::Output)?;
    Ok(outcome)
}

struct Session<'a, W, S> {
    editor: Editor,
    screen: Screen,
    out: &'a mut W,
    writer: S,
    options: &'a Options,
    /// When leaving: the time by which `BYE` must have come.
    leaving: Option<Instant>,
    /// The replies read so far, in context.
    conversation: Conversation,
    /// Where plain lines go (`/query NAME`).
    query: Option<Name>,
    /// For each `GET_NAMES` not answered yet, oldest first: whether `--watch` sent it.
    lists: VecDeque<bool>,
    /// The last names list, for `--watch` to compare the next one with.
    watched: Option<Vec<Name>>,
    /// Whether anything has come from the server.
    received: bool,
    /// When the last frame was sent, for pacing `raw` framing.
    last_sent: Option<Instant>,
}

/// What to do after handling one event.
enum Next {
    Continue,
    End(Ending),
}

impl<W, S> Session<'_, W, S>
where
    W: Write,
    S: for<'o> futures::Sink<&'o Outgoing, Error = crate::protocol::CodecError> + Unpin,
{
    async fn run<E, R>(
        &mut self,
        mut events: E,
        mut replies: R,
        stop: impl Future<Output = ()>,
    ) -> Result<Outcome, ClientError>
    where
        E: Stream<Item = io::Result<Event>> + Unpin,
        R: Stream<Item = Result<Incoming, super::wire::WireError>> + Unpin,
    {
        let profile = match self.options.profile {
            Profile::Confab => "confab",
            Profile::Course => "course",
        };
        self.say(&format!(
            "connected to {} ({} framing, {profile} profile); /help lists the commands, Ctrl-C leaves",
            self.options.addr, self.options.dialect.framing
        ))?;
        if let Some(name) = &self.options.name {
            let name = Outgoing::Command(Command::Name(name.clone()));
            self.screen
                .print_submitted(self.out, &name.to_string(), &self.editor)
                .map_err(ClientError::Output)?;
            if self.options.name_sent {
                self.sent(&name);
            } else {
                self.send(&name).await?;
            }
        }
        let mut watch = self.options.watch.map(|every| {
            let mut interval = tokio::time::interval_at(Instant::now() + every, every);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        let mut events_open = true;
        let mut stopped = false;
        let mut stop = std::pin::pin!(stop);
        let deadline = sleep_until(Instant::now());
        tokio::pin!(deadline);
        // The wait for the next part of a names list held (CLIENT-7).
        let list_part = sleep_until(Instant::now());
        tokio::pin!(list_part);
        loop {
            let next = tokio::select! {
                event = events.next(), if events_open => match event {
                    Some(Ok(event)) => self.on_event(event).await?,
                    Some(Err(e)) => return Err(ClientError::Terminal(e)),
                    None => {
                        events_open = false;
                        self.leave().await?
                    }
                },
                item = replies.next() => match item {
                    Some(Ok(incoming)) => {
                        self.received = true;
                        let next = self.on_incoming(&incoming)?;
                        if self.conversation.holds_list() {
                            list_part.as_mut().reset(Instant::now() + LIST_PART_GAP);
                        }
                        next
                    }
                    Some(Err(e)) => return Err(ClientError::from_wire(e)),
                    None if self.leaving.is_some() => Next::End(Ending::Left),
                    None => {
                        self.end_list()?;
                        if !self.received && self.conversation.pending().next().is_some() {
                            return Err(ClientError::NoReply {
                                framing: self.options.dialect.framing,
                            });
                        }
                        self.say("the server closed the connection")?;
                        Next::End(Ending::ClosedByServer)
                    }
                },
                () = &mut list_part, if self.conversation.holds_list() => self.end_list()?,
                () = &mut stop, if !stopped => {
                    stopped = true;
                    self.leave().await?
                },
                () = async {
                    match watch.as_mut() {
                        Some(watch) => {
                            watch.tick().await;
                        }
                        None => std::future::pending().await,
                    }
                }, if watch.is_some() && self.leaving.is_none() => {
                    self.poll().await?;
                    Next::Continue
                },
                () = &mut deadline, if self.leaving.is_some() => {
                    self.end_list()?;
                    if self.options.profile == Profile::Course {
                        self.say(&format!(
                            "no reply to EXIT within {:?}; leaving",
                            self.options.wait
                        ))?;
                        Next::End(Ending::Unanswered)
                    } else {
                        self.say(&format!(
                            "no BYE from the server within {:?}; leaving anyway",
                            self.options.wait
                        ))?;
                        Next::End(Ending::NoBye)
                    }
                },
            };
            if let Next::End(ending) = next {
                self.end_list()?;
                return Ok(Outcome { ending, refused: 0 });
            }
            if let Some(at) = self.leaving {
                deadline.as_mut().reset(at);
            }
        }
    }

    async fn on_event(&mut self, event: Event) -> Result<Next, ClientError> {
        match event {
            Event::Key(key) => match self.editor.handle(key) {
                Action::Nothing => {}
                Action::Redraw => self.draw()?,
                Action::Submit(line) => return self.submit(line).await,
                Action::Complete => self.complete()?,
                Action::Leave if self.leaving.is_some() => return Ok(Next::End(Ending::NoBye)),
                Action::Leave => return self.leave().await,
            },
            Event::Paste(text) if self.editor.insert_str(&text) => self.draw()?,
            Event::Resize(width, _) => {
                self.screen.set_width(width);
                self.draw()?;
            }
            _ => {}
        }
        Ok(Next::Continue)
    }

    async fn submit(&mut self, line: String) -> Result<Next, ClientError> {
        self.screen
            .print_submitted(self.out, &line, &self.editor)
            .map_err(ClientError::Output)?;
        if self.leaving.is_some() && !line.is_empty() {
            self.say("not sent: the session is ending (EXIT was sent)")?;
            return Ok(Next::Continue);
        }
        match input::read_typed(&line, self.options.dialect, self.query.as_ref()) {
            Ok(Typed::Nothing) => {}
            Ok(Typed::Help) => {
                for help in input::HELP {
                    self.print(&Line::new(Tone::Local, help))?;
                }
            }
            Ok(Typed::Query(query)) => {
                match (&query, &self.query) {
                    (Some(to), _) => {
                        self.say(&format!("plain lines now go to {to}; /query alone stops"))?
                    }
                    (None, Some(to)) => self.say(&format!("plain lines no longer go to {to}"))?,
                    (None, None) => self.say("no /query to stop")?,
                }
                self.query = query;
                self.screen.set_query(self.query.as_ref());
                self.draw()?;
            }
            Ok(Typed::Send(outgoing)) => {
                self.send(&outgoing).await?;
                if outgoing.is_exit() {
                    self.leaving = Some(Instant::now() + self.options.wait);
                }
            }
            Err(refusal) => {
                self.say(&format!("not sent: {refusal}"))?;
                // The line comes back to be fixed, the cursor at its end: what is typed next
                // goes after it, never into the middle of it.
                self.editor.set(&line, line.len());
                self.draw()?;
            }
        }
        Ok(Next::Continue)
    }

    /// Sends `EXIT` and starts waiting for `BYE`; leaves at once if that was already done.
    async fn leave(&mut self) -> Result<Next, ClientError> {
        if self.leaving.is_some() {
            return Ok(Next::End(Ending::NoBye));
        }
        let exit = Outgoing::Command(Command::Exit);
        self.screen
            .print_submitted(self.out, &exit.to_string(), &self.editor)
            .map_err(ClientError::Output)?;
        self.send(&exit).await?;
        self.leaving = Some(Instant::now() + self.options.wait);
        Ok(Next::Continue)
    }

    fn on_incoming(&mut self, incoming: &Incoming) -> Result<Next, ClientError> {
        let mut next = Next::Continue;
        for read in self.conversation.read(&incoming.payload) {
            next = self.on_read(read)?;
        }
        Ok(next)
    }

    /// Shows the names list held, if any (CLIENT-7).
    fn end_list(&mut self) -> Result<Next, ClientError> {
        match self.conversation.end_list() {
            Some(read) => self.on_read(read),
            None => Ok(Next::Continue),
        }
    }

    fn on_read(&mut self, read: Read) -> Result<Next, ClientError> {
        let Read { payload, reading } = read;
        let incoming = &Incoming::new(payload);
        match &reading {
            Recognised::Named(name) => self.screen.set_name(Some(name)),
            Recognised::Names(list) => {
                let polled = self.lists.pop_front().unwrap_or(false);
                let before = self.watched.replace(list.names().to_vec());
                // The first list the watch brings is shown; later ones as their changes.
                if polled && let Some(before) = before {
                    self.show_changes(&before, list)?;
                    return Ok(Next::Continue);
                }
            }
            _ => {}
        }
        let line = show::person(incoming, &reading);
        self.print_received(line)?;
        Ok(match reading {
            Recognised::Bye => Next::End(Ending::Left),
            _ => Next::Continue,
        })
    }

    /// Join and leave lines: who is in `list` and was not `before`, and the other way round.
    fn show_changes(&mut self, before: &[Name], list: &NameList) -> Result<(), ClientError> {
        for name in list.names().iter().filter(|n| !before.contains(n)) {
            self.print_received(Line::new(Tone::Notice, &format!("* {name} joined")))?;
        }
        for name in before.iter().filter(|n| !list.names().contains(n)) {
            self.print_received(Line::new(Tone::Notice, &format!("* {name} left")))?;
        }
        Ok(())
    }

    /// `--watch`: asks for the names list, once named.
    async fn poll(&mut self) -> Result<(), ClientError> {
        let named = self.conversation.own().is_some()
            && !self.conversation.pending().any(|v| v == Verb::Name);
        if named {
            self.lists.push_back(true);
            self.send_quietly(&Outgoing::Command(Command::GetNames))
                .await?;
        }
        Ok(())
    }

    /// Tab: completes the word before the cursor with a name seen.
    fn complete(&mut self) -> Result<(), ClientError> {
        let names: Vec<&str> = self
            .conversation
            .known()
            .iter()
            .chain(self.query.iter())
            .map(Name::as_str)
            .collect();
        let matches = self.editor.complete(&names);
        if matches.len() > 1 {
            self.say(&matches.join(" "))?;
        } else {
            self.draw()?;
        }
        Ok(())
    }

    async fn send(&mut self, outgoing: &Outgoing) -> Result<(), ClientError> {
        if matches!(outgoing, Outgoing::Command(Command::GetNames)) {
            self.lists.push_back(false);
        }
        self.send_quietly(outgoing).await
    }

    async fn send_quietly(&mut self, outgoing: &Outgoing) -> Result<(), ClientError> {
        self.sent(outgoing);
        super::pace(self.options.dialect.framing, &mut self.last_sent).await;
        self.writer
            .send(outgoing)
            .await
            .map_err(|e| ClientError::from_send(e, self.received, self.options.dialect.framing))
    }

    /// Counts `outgoing` as sent, for reading the replies to it.
    fn sent(&mut self, outgoing: &Outgoing) {
        if let Outgoing::Command(command) = outgoing {
            let name = match command {
                Command::Name(name) => Some(name),
                _ => None,
            };
            self.conversation.sent(command.verb(), name);
        }
    }

    /// A line from the server, with the time before it when asked for.
    fn print_received(&mut self, line: Line) -> Result<(), ClientError> {
        let line = if self.options.timestamps {
            line.prefixed(Tone::Local, &format!("{} ", super::clock::now_hh_mm()))
        } else {
            line
        };
        self.print(&line)
    }

    fn draw(&mut self) -> Result<(), ClientError> {
        self.screen
            .draw_input(self.out, &self.editor)
            .map_err(ClientError::Output)
    }

    fn print(&mut self, line: &Line) -> Result<(), ClientError> {
        self.screen
            .print_above(self.out, line, &self.editor)
            .map_err(ClientError::Output)
    }

    /// A line from the client itself.
    fn say(&mut self, text: &str) -> Result<(), ClientError> {
        self.print(&Line::new(Tone::Local, &format!("- {text}")))
    }
}
