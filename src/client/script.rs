//! Line mode: commands from lines of input, replies as lines of output, for scripts.
//!
//! ```sh
//! printf 'NAME A\nGET_NAMES\nEXIT\n' | confab-client
//! ```
//!
//! - Each input line (without its `\n` or `\r\n`) is read as a typed line ([`input`]): a
//!   command is sent, an empty line is skipped, and a line that is not a command, does not fit
//!   a frame or is not UTF-8 is refused with a message on stderr naming its line number, and
//!   not sent (CLIENT-1). The session goes on.
//! - Each frame received is one line on stdout, in the format of [`show`]; output is flushed
//!   after every line, so a script can read replies as they come.
//! - Input is read while replies are written: a delivery that arrives at any moment is
//!   printed at once.
//! - After `EXIT`, or at the end of input (when `EXIT` is sent for the script), nothing more
//!   is read; the client waits for `BYE` or the server closing, at most [`Options::wait`], so
//!   that every reply to the commands sent is printed before it exits. The server answers in
//!   order (CMD-7), so `BYE` comes after every other reply. In the course profile a server
//!   that does not answer `EXIT` is left when the wait is over, as a clean end.
//! - Diagnostics go to stderr, prefixed `confab-client: `.
//!
//! The exit code says how it went (see [`super::exit`]).

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Write};

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use tokio::time::{Instant, sleep_until};
use tokio_util::codec::{FramedRead, FramedWrite};

use super::input::{self, Outgoing, Typed};
use super::show;
use super::wire::{ClientWire, Incoming, WireError};
use super::{ClientError, Ending, Options, Outcome, Profile, RAW_GAP};
use crate::protocol::Command;
use crate::protocol::lenient::LIST_PART_GAP;
use crate::protocol::recognise::{Conversation, Read, Recognised};

/// The most bytes read as one input line; a longer line cannot be a frame anyway.
const MAX_LINE: usize = 64 * 1024;

/// Runs line mode on the process's stdin, stdout and stderr over `stream`.
pub async fn run_stdio(
    stream: impl AsyncRead + AsyncWrite,
    options: &Options,
    stop: impl Future<Output = ()>,
) -> Result<Outcome, ClientError> {
    let stdin = BufReader::new(tokio::io::stdin());
    let mut stdout = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    run(stdin, stream, &mut stdout, &mut stderr, options, stop).await
}

/// Runs line mode: lines from `input`, replies to `out`, diagnostics to `diagnostics`.
pub async fn run<I, C, O, D>(
    input: I,
    connection: C,
    out: &mut O,
    diagnostics: &mut D,
    options: &Options,
    stop: impl Future<Output = ()>,
) -> Result<Outcome, ClientError>
where
    I: AsyncBufRead + Unpin,
    C: AsyncRead + AsyncWrite,
    O: Write,
    D: Write,
{
    let (reader, writer) = tokio::io::split(connection);
    let mut replies = FramedRead::new(reader, options.reading_wire());
    let mut writer = FramedWrite::new(writer, ClientWire::new(options.dialect));
    let mut lines = Lines::new(input);
    let mut conversation = Conversation::new(options.profile.reading());
    let mut query = None;
    let mut refused = 0;
    let mut received = false;
    let mut last_sent: Option<Instant> = None;
    // What waits to be sent: in `raw` framing, messages go at least RAW_GAP apart, and
    // replies are read meanwhile (DIALECT-5).
    let mut queue: VecDeque<Outgoing> = VecDeque::new();
    let pacing = sleep_until(Instant::now());
    tokio::pin!(pacing);
    let mut leaving: Option<Instant> = None;
    let mut stopped = false;
    let mut stop = std::pin::pin!(stop);
    let deadline = sleep_until(Instant::now());
    tokio::pin!(deadline);
    // The wait for the next part of a names list held (CLIENT-7).
    let list_part = sleep_until(Instant::now());
    tokio::pin!(list_part);

    if let Some(name) = &options.name {
        let name = Outgoing::Command(Command::Name(name.clone()));
        if options.name_sent {
            note_sent(&mut conversation, &name);
        } else {
            queue.push_back(name);
        }
    }

    loop {
        // Send what may be sent now.
        while let Some(outgoing) = queue.front() {
            if options.dialect.framing.needs_write_gap()
                && let Some(at) = last_sent.map(|t| t + RAW_GAP)
                && Instant::now() < at
            {
                pacing.as_mut().reset(at);
                break;
            }
            note_sent(&mut conversation, outgoing);
            writer
                .send(outgoing)
                .await
                .map_err(|e| ClientError::from_send(e, received, options.dialect.framing))?;
            last_sent = Some(Instant::now());
            if outgoing.is_exit() {
                let at = Instant::now() + options.wait;
                leaving = Some(at);
                deadline.as_mut().reset(at);
                queue.clear();
            } else {
                queue.pop_front();
            }
        }
        let exit_queued = queue.iter().any(Outgoing::is_exit);
        let mut to_send = None;
        tokio::select! {
            () = &mut pacing, if !queue.is_empty() => {},
            line = lines.next(), if leaving.is_none() && !exit_queued && queue.len() < MAX_QUEUED => match line {
                Ok(Some((number, bytes))) => match read(&bytes, options, &mut query) {
                    Ok(Some(outgoing)) => to_send = Some(outgoing),
                    Ok(None) => {}
                    Err(why) => {
                        refused += 1;
                        note(diagnostics, &format!("line {number}: not sent: {why}"))?;
                    }
                },
                Ok(None) => to_send = Some(Outgoing::Command(Command::Exit)),
                Err(e) => {
                    note(diagnostics, &format!("cannot read the input: {e}; leaving"))?;
                    to_send = Some(Outgoing::Command(Command::Exit));
                }
            },
            item = replies.next() => match item {
                Some(Ok(incoming)) => {
                    received = true;
                    for read in conversation.read(&incoming.payload) {
                        if print_read(out, read)? {
                            return Ok(Outcome { ending: Ending::Left, refused });
                        }
                    }
                    if conversation.holds_list() {
                        list_part.as_mut().reset(Instant::now() + LIST_PART_GAP);
                    }
                }
                // A reset before any reply is a close before any reply (below).
                Some(Err(WireError::Codec(e))) if options.name.is_some() => {
                    return Err(ClientError::from_send(e, received, options.dialect.framing));
                }
                Some(Err(e)) => return Err(ClientError::from_wire(e)),
                // A close before any reply, even to the NAME sent first, is a framing the
                // server does not read, whether or not the input has ended meanwhile.
                None if !received && options.name.is_some() => {
                    return Err(ClientError::NoReply { framing: options.dialect.framing });
                }
                None if leaving.is_some() => {
                    print_held_list(out, &mut conversation)?;
                    return Ok(Outcome { ending: Ending::Left, refused });
                }
                None => {
                    print_held_list(out, &mut conversation)?;
                    note(diagnostics, "the server closed the connection")?;
                    return Ok(Outcome { ending: Ending::ClosedByServer, refused });
                }
            },
            () = &mut stop, if !stopped && leaving.is_none() && !exit_queued => {
                stopped = true;
                to_send = Some(Outgoing::Command(Command::Exit));
            },
            () = &mut list_part, if conversation.holds_list() => {
                print_held_list(out, &mut conversation)?;
            },
            () = &mut deadline, if leaving.is_some() => {
                print_held_list(out, &mut conversation)?;
                if options.profile == Profile::Course {
                    note(diagnostics, &format!(
                        "no reply to EXIT within {:?}; leaving",
                        options.wait
                    ))?;
                    return Ok(Outcome { ending: Ending::Unanswered, refused });
                }
                note(diagnostics, &format!(
                    "no BYE from the server within {:?}; leaving anyway",
                    options.wait
                ))?;
                return Ok(Outcome { ending: Ending::NoBye, refused });
            },
        }
        if let Some(outgoing) = to_send {
            queue.push_back(outgoing);
        }
    }
}

/// Prints what `read` reads as, one line; answers whether it ends the session.
fn print_read(out: &mut impl Write, read: Read) -> Result<bool, ClientError> {
    let Read { payload, reading } = read;
    writeln!(out, "{}", show::script(&Incoming::new(payload), &reading))
        .and_then(|()| out.flush())
        .map_err(ClientError::Output)?;
    Ok(reading == Recognised::Bye)
}

/// Prints the names list held, if any (CLIENT-7).
fn print_held_list(
    out: &mut impl Write,
    conversation: &mut Conversation,
) -> Result<(), ClientError> {
    if let Some(read) = conversation.end_list() {
        print_read(out, read)?;
    }
    Ok(())
}

/// The most lines read ahead of what has been sent.
const MAX_QUEUED: usize = 16;

/// Counts `outgoing` as sent in `conversation`, for reading the replies to it.
fn note_sent(conversation: &mut Conversation, outgoing: &Outgoing) {
    if let Outgoing::Command(command) = outgoing {
        let name = match command {
            Command::Name(name) => Some(name),
            _ => None,
        };
        conversation.sent(command.verb(), name);
    }
}

/// One input line as something to send, nothing, or why not. `/query` changes `query`.
fn read(
    bytes: &[u8],
    options: &Options,
    query: &mut Option<crate::protocol::Name>,
) -> Result<Option<Outgoing>, String> {
    if bytes.len() > MAX_LINE {
        return Err(format!(
            "the line is longer than {MAX_LINE} bytes (a frame holds at most {})",
            options.dialect.max_payload()
        ));
    }
    let line = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the line is not valid UTF-8 (byte {}); a payload must be (ENC-1)",
            e.valid_up_to()
        )
    })?;
    match input::read_typed(line, options.dialect, query.as_ref()) {
        Ok(Typed::Send(outgoing)) => Ok(Some(outgoing)),
        Ok(Typed::Query(to)) => {
            *query = to;
            Ok(None)
        }
        Ok(Typed::Nothing) => Ok(None),
        Ok(Typed::Help) => Err("/help is for interactive use".to_owned()),
        Err(refusal) => Err(refusal.to_string()),
    }
}

fn note(diagnostics: &mut impl Write, text: &str) -> Result<(), ClientError> {
    writeln!(diagnostics, "confab-client: {text}")
        .and_then(|()| diagnostics.flush())
        .map_err(ClientError::Output)
}

/// Numbered lines of bytes, without their line ending, read in a way that a `select!` may
/// interrupt and resume: the line being read is kept between calls.
struct Lines<I> {
    input: I,
    buffer: Vec<u8>,
    number: u64,
    /// The line being read is over [`MAX_LINE`]: its bytes are dropped as they come.
    overlong: bool,
}

impl<I: AsyncBufRead + Unpin> Lines<I> {
    fn new(input: I) -> Lines<I> {
        Lines {
            input,
            buffer: Vec::new(),
            number: 0,
            overlong: false,
        }
    }

    /// The next line and its number, or `None` at the end of input. A last line without a
    /// line ending counts as a line. A line over [`MAX_LINE`] comes back cut to one byte
    /// more than that, so it is refused without holding it all.
    async fn next(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        loop {
            let chunk = self.input.fill_buf().await?;
            if chunk.is_empty() {
                if self.buffer.is_empty() && !self.overlong {
                    return Ok(None);
                }
                return Ok(Some(self.take()));
            }
            let (used, end) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let data = &chunk[..if end { used - 1 } else { used }];
            let room = (MAX_LINE + 1).saturating_sub(self.buffer.len());
            if data.len() > room {
                self.overlong = true;
            }
            self.buffer.extend_from_slice(&data[..data.len().min(room)]);
            self.input.consume(used);
            if end {
                return Ok(Some(self.take()));
            }
        }
    }

    fn take(&mut self) -> (u64, Vec<u8>) {
        self.number += 1;
        self.overlong = false;
        let mut line = std::mem::take(&mut self.buffer);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        (self.number, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all_lines(input: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut lines = Lines::new(input);
        let mut out = Vec::new();
        while let Some(line) = lines.next().await.unwrap() {
            out.push(line);
        }
        out
    }

    #[tokio::test]
    async fn lines_are_numbered_and_lose_their_endings() {
        let lines = all_lines(b"NAME A\r\nGET_NAMES\n\nEXIT").await;
        let expected: Vec<(u64, Vec<u8>)> = vec![
            (1, b"NAME A".to_vec()),
            (2, b"GET_NAMES".to_vec()),
            (3, b"".to_vec()),
            (4, b"EXIT".to_vec()),
        ];
        assert_eq!(lines, expected);
        assert!(all_lines(b"").await.is_empty());
    }

    #[tokio::test]
    async fn overlong_line_is_cut_and_the_next_line_is_whole() {
        let mut input = vec![b'a'; MAX_LINE * 2];
        input.extend_from_slice(b"\nEXIT\n");
        let lines = all_lines(&input).await;
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].1.len(), MAX_LINE + 1);
        assert_eq!(lines[1], (2, b"EXIT".to_vec()));
        let options = Options::default();
        assert!(read(&lines[0].1, &options, &mut None).is_err());
    }

    #[test]
    fn input_that_cannot_be_a_payload_is_refused_client_1() {
        let options = Options::default();
        let why = read(b"MSG B \xff", &options, &mut None).unwrap_err();
        assert!(why.contains("UTF-8"), "{why}");
        assert!(read(b"hello", &options, &mut None).is_err());
        assert!(read(b"/help", &options, &mut None).is_err());
        assert_eq!(read(b"", &options, &mut None), Ok(None));
        assert_eq!(
            read(b"EXIT", &options, &mut None),
            Ok(Some(Outgoing::Command(Command::Exit)))
        );
    }
}
