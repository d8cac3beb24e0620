//! The interactive session loop, driven with synthetic key events and drawn on a virtual
//! terminal (vt100), against a server double: everything of interactive mode except the
//! real terminal, which `client_tmux.rs` covers.

mod client_support;
mod launch;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::{
    Behaviour, CoursePeer, Double, Peer, ZooServer, eventually, real_server, within,
};
use confab::client::render::Screen;
use confab::client::{ClientError, Ending, Options, Outcome, Profile, interactive};
use confab::protocol::{Dialect, Name};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

const COLUMNS: u16 = 160;

/// What the session has drawn, shared with the test.
#[derive(Clone, Default)]
struct Drawn(Arc<Mutex<Vec<u8>>>);

impl Write for Drawn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("drawn").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drawn {
    /// The screen as a terminal would show it.
    fn screen(&self) -> vt100::Parser {
        let rows = NonZeroU16::new(40).expect("rows");
        let cols = NonZeroU16::new(COLUMNS).expect("cols");
        let mut vt = vt100::Parser::new(rows, cols, 0);
        vt.process(&self.0.lock().expect("drawn"));
        vt
    }

    /// The non-empty rows of the screen.
    fn rows(&self) -> Vec<String> {
        self.screen()
            .screen()
            .rows(0, COLUMNS)
            .filter(|r| !r.is_empty())
            .collect()
    }

    fn text(&self) -> String {
        self.rows().join("\n")
    }

    fn bytes(&self) -> Vec<u8> {
        self.0.lock().expect("drawn").clone()
    }
}

/// A session running in the background.
struct Session {
    keys: mpsc::UnboundedSender<io::Result<Event>>,
    /// Completing this plays a stop signal (SIGTERM and the like).
    signal: Option<tokio::sync::oneshot::Sender<()>>,
    drawn: Drawn,
    task: JoinHandle<Result<Outcome, ClientError>>,
}

impl Session {
    async fn start(addr: SocketAddr, name: Option<&str>, wait: Duration) -> Session {
        let options = Options {
            addr: addr.to_string(),
            name: name.map(|n| Name::new(n).expect("name")),
            wait,
            ..Options::default()
        };
        Session::start_with(addr, options).await
    }

    async fn start_with(addr: SocketAddr, options: Options) -> Session {
        let stream = within(TcpStream::connect(addr)).await.expect("connect");
        let (keys, events) = mpsc::unbounded();
        let (signal, signalled) = tokio::sync::oneshot::channel::<()>();
        let drawn = Drawn::default();
        let mut out = drawn.clone();
        let task = tokio::spawn(async move {
            let screen = Screen::new(COLUMNS, false);
            interactive::run(events, stream, &mut out, &options, screen, async move {
                if signalled.await.is_err() {
                    // The test is over without a signal.
                    std::future::pending::<()>().await;
                }
            })
            .await
        });
        Session {
            keys,
            signal: Some(signal),
            drawn,
            task,
        }
    }

    fn signal(&mut self) {
        if let Some(signal) = self.signal.take() {
            let _ = signal.send(());
        }
    }

    fn key(&self, code: KeyCode) {
        self.event(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    fn ctrl(&self, c: char) {
        self.event(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )));
    }

    fn event(&self, event: Event) {
        self.keys
            .unbounded_send(Ok(event))
            .expect("session is running");
    }

    fn type_text(&self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn enter(&self, line: &str) {
        self.type_text(line);
        self.key(KeyCode::Enter);
    }

    /// Waits until the screen shows a row equal to `row`.
    async fn shows_row(&self, row: &str) {
        eventually(
            &format!("the row {row:?}"),
            || self.drawn.rows().iter().any(|r| r == row).then_some(()),
            || self.drawn.text(),
        )
        .await
    }

    /// Waits until the last row is `row` with the cursor at `column` on it.
    async fn input_is(&self, row: &str, column: u16) {
        eventually(
            &format!("the input line {row:?} with the cursor at {column}"),
            || {
                let vt = self.drawn.screen();
                let rows = self.drawn.rows();
                let (r, c) = vt.screen().cursor_position();
                let at_last = usize::from(r) + 1 == rows.len();
                (rows.last().map(String::as_str) == Some(row) && at_last && c == column)
                    .then_some(())
            },
            || {
                let (r, c) = self.drawn.screen().screen().cursor_position();
                format!("{}\n(cursor at row {r}, column {c})", self.drawn.text())
            },
        )
        .await
    }

    async fn ended(self) -> (Outcome, Drawn) {
        let outcome = within(self.task)
            .await
            .expect("session task")
            .expect("session outcome");
        (outcome, self.drawn)
    }
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn message_arriving_mid_typing_is_printed_above_and_the_partial_line_survives_client_3() {
    let server = real_server().await;
    let session = Session::start(server.addr(), None, WAIT).await;
    session.enter("NAME A");
    session.shows_row("* you are A").await;
    let mut other = Peer::named(server.addr(), "B").await;

    session.type_text("MSG B hé日");
    session.input_is("A> MSG B hé日", 3 + 8 + 2).await;
    session.key(KeyCode::Left);
    session.input_is("A> MSG B hé日", 3 + 8).await;

    other.send("MSG A are you there? \x1b[2J").await;
    session.shows_row("<B> are you there? \\e[2J").await;
    // The partial line is intact below the message, the cursor where it was.
    session.input_is("A> MSG B hé日", 3 + 8).await;
    assert!(!session.drawn.bytes().windows(4).any(|w| w == b"\x1b[2J"));

    session.key(KeyCode::End);
    session.type_text("!");
    session.key(KeyCode::Enter);
    assert_eq!(
        other.recv_delivery().await,
        ("A".to_owned(), "hé日!".to_owned())
    );
    session.shows_row("A> MSG B hé日!").await;
    session.input_is("A> ", 3).await;
}

#[tokio::test]
async fn refused_line_is_explained_and_comes_back_with_the_cursor_at_its_end_client_1() {
    let server = real_server().await;
    let mut other = Peer::named(server.addr(), "B").await;
    let session = Session::start(server.addr(), Some("A"), WAIT).await;
    session.shows_row("* you are A").await;

    session.enter("MSG  B hi");
    session
        .shows_row("- not sent: empty argument (two spaces in a row?); usage: MSG <name> <text>")
        .await;
    // Back for fixing, the cursor at its end: what is typed next goes after it.
    session.input_is("A> MSG  B hi", 3 + 9).await;
    session.key(KeyCode::Home);
    for _ in 0..3 {
        session.key(KeyCode::Right);
    }
    session.input_is("A> MSG  B hi", 3 + 3).await;
    session.key(KeyCode::Delete);
    session.key(KeyCode::Enter);
    assert_eq!(
        other.recv_delivery().await,
        ("A".to_owned(), "hi".to_owned())
    );

    // The refused line was never sent: the double would have answered it with BAD_ARGS
    // before this names list (CMD-7).
    session.enter("GET_NAMES");
    session.shows_row("* 2 names: B, A").await;
    assert!(
        !session.drawn.text().contains("BAD_ARGS"),
        "{}",
        session.drawn.text()
    );
}

#[tokio::test]
async fn watch_polls_the_names_and_shows_joins_and_leaves() {
    let server = real_server().await;
    let options = Options {
        addr: server.addr().to_string(),
        name: Some(Name::new("A").expect("name")),
        wait: WAIT,
        watch: Some(Duration::from_millis(50)),
        ..Options::default()
    };
    let session = Session::start_with(server.addr(), options).await;
    session.shows_row("* you are A").await;
    // The first list polled is shown as it is.
    session.shows_row("* 1 name: A").await;
    let bob = Peer::named(server.addr(), "Bob").await;
    session.shows_row("* Bob joined").await;
    drop(bob);
    session.shows_row("* Bob left").await;
    // Later lists are shown as changes only.
    assert!(
        !session.drawn.text().contains("2 names"),
        "{}",
        session.drawn.text()
    );
    // A names list asked for is shown as usual.
    session.enter("/names");
    session.shows_row("A> /names").await;
    eventually(
        "a second names list",
        || (session.drawn.text().matches("* 1 name: A").count() == 2).then_some(()),
        || session.drawn.text(),
    )
    .await;
}

/// On zoo 25 of the harness, a course server that sends a heading and then a frame per name,
/// a names list shows as one, and `--watch` compares whole lists (CLIENT-7).
#[tokio::test]
async fn a_names_list_in_several_frames_shows_as_one_and_is_watched_whole_client_7() {
    let server = ZooServer::start("25_listframes_dec2.py").await;
    let _alice = CoursePeer::named(server.port(), 2, "Alice").await;
    let addr: SocketAddr = server.addr().parse().expect("an address");
    let options = |name: &str, watch| Options {
        addr: server.addr(),
        name: Some(Name::new(name).expect("name")),
        dialect: Dialect::with_framing("dec2".parse().expect("a framing")),
        profile: Profile::Course,
        wait: WAIT,
        watch,
        ..Options::default()
    };
    // Asked for: the list is shown once no part follows within the gap.
    let asking = Session::start_with(addr, options("Dave", None)).await;
    asking.shows_row("* you are Dave").await;
    asking.enter("/names");
    asking.shows_row("* 2 names: Alice, Dave").await;
    // The server answers EXIT by forgetting the name and closing.
    asking.enter("EXIT");
    assert_eq!(asking.ended().await.0.ending, Ending::Left);
    // Watched: every poll's list is compared whole.
    let session = Session::start_with(addr, options("Bob", Some(Duration::from_millis(300)))).await;
    session.shows_row("* you are Bob").await;
    session.shows_row("* 2 names: Alice, Bob").await;
    let carol = CoursePeer::named(server.port(), 2, "Carol").await;
    session.shows_row("* Carol joined").await;
    drop(carol);
    session.shows_row("* Carol left").await;
    let text = session.drawn.text();
    assert!(
        !text.contains("nobody") && !text.contains("Alice left") && !text.contains("Bob left"),
        "{text}"
    );
}

#[tokio::test]
async fn typed_exit_ends_the_session_on_bye() {
    let server = real_server().await;
    let mut other = Peer::named(server.addr(), "B").await;
    let session = Session::start(server.addr(), Some("A"), WAIT).await;
    session.shows_row("* you are A").await;
    session.enter("EXIT");
    let (outcome, drawn) = session.ended().await;
    assert_eq!(outcome.ending, Ending::Left);
    assert_eq!(outcome.exit_code(), 0);
    let rows = drawn.rows();
    assert!(rows.contains(&"A> EXIT".to_owned()), "{rows:?}");
    assert!(
        rows.contains(&"* BYE: the server ended the session".to_owned()),
        "{rows:?}"
    );
    assert_eq!(other.names().await, ["B"]);
}

#[tokio::test]
async fn ctrl_c_and_ctrl_d_send_exit_and_leave_on_bye() {
    for leave in ['c', 'd'] {
        let server = real_server().await;
        let session = Session::start(server.addr(), Some("A"), WAIT).await;
        session.shows_row("* you are A").await;
        session.ctrl(leave);
        let (outcome, drawn) = session.ended().await;
        assert_eq!(outcome.ending, Ending::Left, "Ctrl-{leave}");
        assert!(drawn.rows().contains(&"A> EXIT".to_owned()), "Ctrl-{leave}");
        // The input line is cleared on the way out: the cursor is on an empty row.
        let vt = drawn.screen();
        let (row, column) = vt.screen().cursor_position();
        assert_eq!(column, 0);
        assert_eq!(usize::from(row), drawn.rows().len());
    }
}

#[tokio::test]
async fn server_shutting_down_is_shown_and_ends_the_session_closed_by_server() {
    let server = real_server().await;
    let session = Session::start(server.addr(), Some("A"), WAIT).await;
    session.shows_row("* you are A").await;
    session.type_text("MSG B half-typed");
    session.input_is("A> MSG B half-typed", 19).await;
    within(server.shutdown()).await.expect("shutdown");
    let (outcome, drawn) = session.ended().await;
    assert_eq!(outcome.ending, Ending::ClosedByServer);
    assert_eq!(outcome.exit_code(), 1);
    let rows = drawn.rows();
    assert!(
        rows.iter().any(|r| r.starts_with("! SHUTTING_DOWN")
            && r.ends_with("(the server closes the connection)")),
        "{}",
        drawn.text()
    );
    assert!(
        rows.contains(&"- the server closed the connection".to_owned()),
        "{}",
        drawn.text()
    );
}

#[tokio::test]
async fn exit_unanswered_within_the_wait_ends_with_no_bye() {
    let server = Double::with(Behaviour {
        silent_exit: true,
        ..Behaviour::default()
    })
    .await;
    let session = Session::start(server.addr(), None, Duration::from_millis(100)).await;
    session.enter("EXIT");
    let (outcome, drawn) = session.ended().await;
    assert_eq!(outcome.ending, Ending::NoBye);
    assert_eq!(outcome.exit_code(), 1);
    assert!(
        drawn.text().contains("- no BYE from the server"),
        "{}",
        drawn.text()
    );
}

#[tokio::test]
async fn help_is_answered_locally() {
    let server = real_server().await;
    let session = Session::start(server.addr(), None, WAIT).await;
    session.enter("/help");
    session.shows_row("commands (sent to the server):").await;
    session
        .shows_row("  MSG <name> <text>  send a text to someone (to yourself, too)")
        .await;
    session.input_is("> ", 2).await;
}

#[tokio::test]
async fn pasted_line_break_does_not_send() {
    let server = real_server().await;
    let session = Session::start(server.addr(), Some("A"), WAIT).await;
    session.shows_row("* you are A").await;
    session.event(Event::Paste("MSG A one\ntwo\x1b[2J".to_owned()));
    session.input_is("A> MSG A one two[2J", 19).await;
    session.key(KeyCode::Enter);
    session.shows_row("<A> one two[2J").await;
}

#[tokio::test]
async fn up_arrow_brings_back_the_last_line_and_resize_redraws() {
    let server = real_server().await;
    let session = Session::start(server.addr(), None, WAIT).await;
    session.enter("GET_NAMES");
    session.shows_row("* nobody has a name yet").await;
    session.key(KeyCode::Up);
    session.input_is("> GET_NAMES", 11).await;
    // On a screen 8 columns wide, 5 cells of the line fit beside the prompt.
    session.event(Event::Resize(8, 20));
    session.input_is("> NAMES", 7).await;
}

#[tokio::test]
async fn unparsed_greeting_is_shown_escaped_and_the_session_goes_on() {
    let server = Double::with(Behaviour {
        greeting: Some(b"Welcome to \x1b[1mthe\x1b[0m server!".to_vec()),
        ..Behaviour::default()
    })
    .await;
    let session = Session::start(server.addr(), Some("A"), WAIT).await;
    session.shows_row("* you are A").await;
    let text = session.drawn.text();
    assert!(
        text.contains("? unparsed") && text.contains("Welcome to \\e[1mthe\\e[0m server!"),
        "{text}"
    );
}

#[tokio::test]
async fn stop_signal_sends_exit_and_leaves_on_bye() {
    let server = real_server().await;
    let mut session = Session::start(server.addr(), Some("A"), WAIT).await;
    session.shows_row("* you are A").await;
    session.signal();
    let (outcome, drawn) = session.ended().await;
    assert_eq!(outcome.ending, Ending::Left);
    assert!(
        drawn.rows().contains(&"A> EXIT".to_owned()),
        "{}",
        drawn.text()
    );
    // EXIT released the name (EXIT-1).
    assert!(Peer::connect(server.addr()).await.names().await.is_empty());
}

#[tokio::test]
async fn session_opens_with_where_it_is_connected_and_how_to_get_help() {
    let server = real_server().await;
    let session = Session::start(server.addr(), None, WAIT).await;
    session
        .shows_row(&format!(
            "- connected to {} (dec4 framing, confab profile); /help lists the commands, Ctrl-C leaves",
            server.addr()
        ))
        .await;
    session.input_is("> ", 2).await;
}
