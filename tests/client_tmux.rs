//! End to end on a real terminal: the `confab-client` binary in a tmux pane, typed at with
//! `send-keys` and read with `capture-pane`.
//!
//! Needs tmux (`apt-get install tmux`); without it each test says SKIP and passes, unless
//! `CONFAB_REQUIRE_TOOLS=1` (see `tools`). Each test uses its own tmux server (`tmux -L`), which
//! a guard kills at the end, pass or fail. Waits poll the pane with a bounded deadline.

mod client_support;
mod launch;
mod tools;

use std::process::Command;

use client_support::{CoursePeer, CourseServer, Peer, eventually, real_server, within};

const CLIENT: &str = env!("CARGO_BIN_EXE_confab-client");
const WIDTH: u16 = 120;
const HEIGHT: u16 = 50;

/// A tmux server of its own with one pane running `sh`; killed on drop.
struct Tmux {
    socket: String,
    /// The socket file, removed on drop too (tmux leaves it behind).
    socket_path: Option<std::path::PathBuf>,
}

impl Tmux {
    fn start(test: &str) -> Tmux {
        let socket = format!("confab-client-{}-{test}", std::process::id());
        let mut tmux = Tmux {
            socket,
            socket_path: None,
        };
        let status = tmux
            .command()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "main"])
            .args(["-x", &WIDTH.to_string(), "-y", &HEIGHT.to_string()])
            .args(["env", "PS1=$ ", "sh"])
            .env("LC_ALL", "C.UTF-8")
            .env_remove("NO_COLOR")
            .status()
            .unwrap_or_else(|e| panic!("tmux is needed for this test (apt-get install tmux): {e}"));
        assert!(status.success(), "tmux new-session failed: {status}");
        let path = tmux.tmux(&["display-message", "-p", "#{socket_path}"]);
        tmux.socket_path = Some(path.trim().into());
        tmux
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket]);
        command
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().expect("run tmux");
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Types `text` as it is.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]);
    }

    /// Presses a key by tmux's name for it: `Enter`, `C-c`, `Left`.
    fn press(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "main", key]);
    }

    /// Types a shell command line and runs it.
    fn run(&self, line: &str) {
        self.type_text(line);
        self.press("Enter");
    }

    /// The pane's text, with its scrollback.
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-S", "-200", "-t", "main"])
    }

    /// The pane's text with its colours and attributes as escape sequences.
    fn styled_screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-J", "-S", "-200", "-t", "main"])
    }

    /// The pane's rows, without trailing empty rows.
    fn rows(&self) -> Vec<String> {
        let mut rows: Vec<String> = self
            .screen()
            .lines()
            .map(|l| l.trim_end().to_owned())
            .collect();
        while rows.last().is_some_and(|r| r.is_empty()) {
            rows.pop();
        }
        rows
    }

    /// The cursor column in the pane.
    fn cursor_x(&self) -> u16 {
        self.tmux(&["display-message", "-p", "-t", "main", "#{cursor_x}"])
            .trim()
            .parse()
            .expect("cursor_x")
    }

    async fn shows(&self, needle: &str) {
        eventually(
            &format!("{needle:?} in the pane"),
            || self.screen().contains(needle).then_some(()),
            || self.screen(),
        )
        .await
    }

    /// Waits until the last row is `row` with the cursor at `column`.
    async fn input_is(&self, row: &str, column: u16) {
        eventually(
            &format!("the input line {row:?} with the cursor at {column}"),
            || {
                let last = self.rows().last().cloned().unwrap_or_default();
                (last == row.trim_end() && self.cursor_x() == column).then_some(())
            },
            || format!("{}\n(cursor at column {})", self.screen(), self.cursor_x()),
        )
        .await
    }

    /// Checks, after the client has exited, that the terminal is back in canonical mode with
    /// echo: `stty -a` lists `icanon` and `echo`, not `-icanon` or `-echo`.
    async fn terminal_is_restored(&self) {
        self.run("stty -a; echo stty-status=$?");
        self.shows("stty-status=0").await;
        let screen = self.screen();
        let after = screen
            .rsplit_once("stty -a; echo")
            .map_or(screen.as_str(), |(_, tail)| tail);
        let words: Vec<&str> = after.split_whitespace().collect();
        for mode in ["icanon", "echo"] {
            assert!(
                words.contains(&mode),
                "stty -a should list {mode} after the client exits:\n{screen}"
            );
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn client_line(addr: &str, extra: &str) -> String {
    format!("{CLIENT} --addr {addr} {extra}; echo client-exit=$?")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversation_while_typing_in_a_real_terminal_client_3() {
    if !tools::available(
        "conversation_while_typing_in_a_real_terminal_client_3",
        "tmux",
        "tmux",
    ) {
        return;
    }
    let server = real_server().await;
    let tmux = Tmux::start("conversation");
    tmux.run(&client_line(&server.addr().to_string(), "--name A"));
    tmux.shows("* you are A").await;
    tmux.input_is("A> ", 3).await;
    let mut other = Peer::named(server.addr(), "B").await;

    // Part of a line, with multi-byte and wide characters, cursor moved back over one.
    tmux.type_text("MSG B hé日 part");
    tmux.input_is("A> MSG B hé日 part", 18).await;
    tmux.press("Left");
    tmux.input_is("A> MSG B hé日 part", 17).await;
    tmux.press("End");
    tmux.input_is("A> MSG B hé日 part", 18).await;

    // A message arrives: shown above, the partial line intact, the cursor where it was.
    other.send("MSG A hello from B").await;
    tmux.shows("<B> hello from B").await;
    // On a terminal, with NO_COLOR unset, the sender stands out in colour.
    let styled = tmux.styled_screen();
    let sender = styled
        .lines()
        .find(|l| l.contains("hello from B"))
        .unwrap_or_default();
    assert!(sender.starts_with("\x1b["), "{sender:?}");
    tmux.input_is("A> MSG B hé日 part", 18).await;

    // A text holding ESC [2J is shown escaped and clears nothing (CLIENT-2).
    other.send("MSG A \x1b[2J\x1b[31mred?").await;
    tmux.shows("<B> \\e[2J\\e[31mred?").await;
    let screen = tmux.screen();
    assert!(screen.contains("<B> hello from B"), "{screen}");
    assert!(screen.contains("* you are A"), "{screen}");
    tmux.input_is("A> MSG B hé日 part", 18).await;

    // Finishing the line sends it.
    tmux.type_text("ial");
    tmux.press("Enter");
    assert_eq!(
        other.recv_delivery().await,
        ("A".to_owned(), "hé日 partial".to_owned())
    );
    tmux.shows("A> MSG B hé日 partial").await;

    // A line that is not a command is explained, not sent.
    tmux.type_text("GET_NAMES now");
    tmux.press("Enter");
    tmux.shows("- not sent: unexpected argument; usage: GET_NAMES")
        .await;
    // It comes back for fixing, the cursor at its end.
    tmux.input_is("A> GET_NAMES now", 16).await;
    tmux.press("C-w");
    tmux.press("BSpace");
    tmux.input_is("A> GET_NAMES", 12).await;
    tmux.press("C-u");
    tmux.input_is("A> ", 3).await;

    tmux.run("EXIT");
    tmux.shows("* BYE: the server ended the session").await;
    tmux.shows("client-exit=0").await;
    assert_eq!(other.names().await, ["B"]);
    tmux.terminal_is_restored().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_cleanly_and_restores_the_terminal() {
    if !tools::available(
        "ctrl_c_leaves_cleanly_and_restores_the_terminal",
        "tmux",
        "tmux",
    ) {
        return;
    }
    let server = real_server().await;
    let tmux = Tmux::start("ctrl-c");
    tmux.run(&format!(
        "NO_COLOR=1 {}",
        client_line(&server.addr().to_string(), "--name A")
    ));
    tmux.shows("* you are A").await;
    // NO_COLOR: no colours (https://no-color.org).
    let styled = tmux.styled_screen();
    assert!(!styled.contains("\x1b[38"), "{styled:?}");
    tmux.type_text("MSG B never sent");
    tmux.input_is("A> MSG B never sent", 19).await;
    tmux.press("C-c");
    tmux.shows("* BYE: the server ended the session").await;
    tmux.shows("client-exit=0").await;
    tmux.terminal_is_restored().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_shutting_down_is_reported_exit_1_and_terminal_restored() {
    if !tools::available(
        "server_shutting_down_is_reported_exit_1_and_terminal_restored",
        "tmux",
        "tmux",
    ) {
        return;
    }
    let server = real_server().await;
    let tmux = Tmux::start("closed");
    tmux.run(&client_line(&server.addr().to_string(), "--name A"));
    tmux.shows("* you are A").await;
    tmux.type_text("MSG B half");
    tmux.input_is("A> MSG B half", 13).await;
    within(server.shutdown()).await.expect("shutdown");
    tmux.shows("! SHUTTING_DOWN").await;
    tmux.shows("- the server closed the connection").await;
    tmux.shows("client-exit=1").await;
    tmux.terminal_is_restored().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_hold_a_conversation_in_two_terminals() {
    if !tools::available(
        "two_people_hold_a_conversation_in_two_terminals",
        "tmux",
        "tmux",
    ) {
        return;
    }
    let server = real_server().await;
    let addr = server.addr().to_string();
    let alice = Tmux::start("alice");
    let bob = Tmux::start("bob");
    alice.run(&client_line(&addr, "--name Alice"));
    bob.run(&client_line(&addr, "--name Bob"));
    alice.shows("* you are Alice").await;
    bob.shows("* you are Bob").await;

    alice.run("MSG Bob hi Bob, how are you?");
    bob.shows("<Alice> hi Bob, how are you?").await;

    // Bob is halfway through his answer when Alice writes again.
    bob.type_text("MSG Alice fine, tha");
    bob.input_is("Bob> MSG Alice fine, tha", 24).await;
    alice.run("MSG Bob still there?");
    bob.shows("<Alice> still there?").await;
    bob.input_is("Bob> MSG Alice fine, tha", 24).await;
    bob.type_text("nks!");
    bob.press("Enter");
    alice.shows("<Bob> fine, thanks!").await;

    alice.run("GET_NAMES");
    alice.shows("* 2 names: Alice, Bob").await;
    bob.run("EXIT");
    bob.shows("client-exit=0").await;
    alice.run("GET_NAMES");
    alice.shows("* 1 name: Alice").await;
    alice.run("EXIT");
    alice.shows("client-exit=0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_on_a_course_server_in_its_own_words_and_leave_without_bye() {
    let server = CourseServer::start(&["--greeting", "Welcome to the chat server!"]).await;
    let tmux = Tmux::start("course");
    tmux.run(&client_line(&server.addr(), "--profile course --name Dave"));
    tmux.shows("* Welcome to the chat server!").await;
    tmux.shows("* you are Dave").await;
    tmux.input_is("Dave> ", 6).await;
    let mut bob = CoursePeer::named(server.port(), 2, "Bob").await;

    // `Connected clients: Dave, Bob` is a names list.
    tmux.run("/names");
    tmux.shows("* 2 names: Dave, Bob").await;
    // `Bob: hi there` is a message from Bob.
    bob.send("MSG Dave hi there").await;
    tmux.shows("<Bob> hi there").await;

    // /msg, and the server's acknowledgement.
    tmux.run("/msg Bob hello Bob");
    bob.expect("Dave: hello Bob").await;
    tmux.shows("* Message sent.").await;

    // A line refused locally stays, the cursor at its end; fixed, it is sent.
    tmux.run("msg Bob");
    tmux.shows("- not sent: ").await;
    tmux.input_is("Dave> msg Bob", 13).await;
    tmux.type_text(" fixed now");
    tmux.press("Enter");
    bob.expect("Dave: fixed now").await;

    // /query: plain lines go to Bob, Tab completes his name.
    tmux.run("/query Bob");
    tmux.input_is("Dave [Bob]> ", 12).await;
    tmux.run("how are you");
    bob.expect("Dave: how are you").await;
    tmux.type_text("b");
    tmux.press("Tab");
    tmux.input_is("Dave [Bob]> Bob ", 16).await;
    tmux.type_text("tab done");
    tmux.press("Enter");
    bob.expect("Dave: Bob tab done").await;
    tmux.run("/query");
    tmux.input_is("Dave> ", 6).await;

    // The server never answers EXIT: the client leaves cleanly after its bounded wait.
    tmux.run("EXIT");
    tmux.shows("client-exit=0").await;
    let screen = tmux.screen();
    assert!(!screen.contains("unparsed"), "{screen}");
    assert!(screen.contains("- no reply to EXIT within"), "{screen}");
    tmux.terminal_is_restored().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_lists_several_names_and_long_messages_wrap_under_their_text() {
    let server = real_server().await;
    let tmux = Tmux::start("wrap");
    tmux.run(&client_line(
        &server.addr().to_string(),
        "--name A --timestamps",
    ));
    tmux.shows("* you are A").await;
    let mut alice = Peer::named(server.addr(), "Alice").await;
    let _albert = Peer::named(server.addr(), "Albert").await;
    tmux.run("GET_NAMES");
    tmux.shows("* 3 names: A, Alice, Albert").await;

    // Two names start with "al": Tab completes what they share and lists both.
    tmux.type_text("MSG al");
    tmux.press("Tab");
    tmux.shows("- Alice Albert").await;
    tmux.input_is("A> MSG Al", 9).await;
    tmux.type_text("i");
    tmux.press("Tab");
    tmux.input_is("A> MSG Alice ", 13).await;
    tmux.press("C-u");

    let words: Vec<String> = (1..=40).map(|i| format!("word{i:02}")).collect();
    alice.send(&format!("MSG A {}", words.join(" "))).await;
    tmux.shows("word40").await;
    let rows = tmux.rows();
    let first = rows
        .iter()
        .position(|r| r.contains("<Alice> word01"))
        .expect("the message's first row");
    // `HH:MM <Alice> `: the text starts at column 14, and so do the continuation rows.
    let head = &rows[first];
    assert!(
        head.len() > 6 && head.as_bytes()[2] == b':' && &head[5..14] == " <Alice> ",
        "{head:?}"
    );
    let next = &rows[first + 1];
    assert!(next.starts_with(&" ".repeat(14)), "{rows:#?}");
    assert!(!next[14..].starts_with(' '), "{rows:#?}");
    // Rows break between words, never inside one.
    for row in &rows[first..=first + 2] {
        assert!(row.len() <= usize::from(WIDTH), "{row:?}");
        for word in row.split_whitespace().skip(2) {
            assert!(word.len() == 6 && word.starts_with("word"), "{rows:#?}");
        }
    }
    tmux.run("EXIT");
    tmux.shows("client-exit=0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_shows_who_joins_and_leaves() {
    let server = real_server().await;
    let tmux = Tmux::start("watch");
    tmux.run(&client_line(
        &server.addr().to_string(),
        "--name A --watch 0.2",
    ));
    tmux.shows("* you are A").await;
    tmux.shows("* 1 name: A").await;
    let bob = Peer::named(server.addr(), "Bob").await;
    tmux.shows("* Bob joined").await;
    drop(bob);
    tmux.shows("* Bob left").await;
    // After the first, the polls' lists themselves are not shown.
    assert!(!tmux.screen().contains("2 names"), "{}", tmux.screen());
    tmux.run("EXIT");
    tmux.shows("client-exit=0").await;
}

/// The variable that makes [`raw_mode_panic_helper`] do its work.
const PANIC_HELPER: &str = "CONFAB_CLIENT_RAW_MODE_PANIC";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_in_raw_mode_restores_the_terminal_through_the_hook() {
    if !tools::available(
        "panic_in_raw_mode_restores_the_terminal_through_the_hook",
        "tmux",
        "tmux",
    ) {
        return;
    }
    let tmux = Tmux::start("panic");
    let this = std::env::current_exe().expect("the test binary");
    tmux.run(&format!(
        "{PANIC_HELPER}=1 {} raw_mode_panic_helper --exact --ignored --nocapture \
         --test-threads=1; echo helper-exit=$?",
        this.display()
    ));
    tmux.shows("deliberate panic in raw mode").await;
    tmux.shows("helper-exit=101").await;
    let screen = tmux.screen();
    assert!(
        screen.contains("raw mode entered: -icanon -echo"),
        "the helper must have been in raw mode:\n{screen}"
    );
    tmux.terminal_is_restored().await;
}

/// Not a test by itself: the process that
/// `panic_in_raw_mode_restores_the_terminal_through_the_hook` runs in a tmux pane. It enters
/// raw mode, shows that it did, forgets the guard (so only the panic hook can restore the
/// terminal) and panics.
#[test]
#[ignore = "a helper that the tmux test runs in a pane"]
fn raw_mode_panic_helper() {
    if std::env::var_os(PANIC_HELPER).is_none() {
        return;
    }
    let guard = confab::client::terminal::RawMode::enable().expect("a terminal");
    let stty = Command::new("stty")
        .arg("-a")
        .stdin(std::process::Stdio::inherit())
        .output()
        .expect("stty");
    let modes = String::from_utf8_lossy(&stty.stdout).into_owned();
    let words: Vec<&str> = modes.split_whitespace().collect();
    if words.contains(&"-icanon") && words.contains(&"-echo") {
        print!("raw mode entered: -icanon -echo\r\n");
    }
    std::mem::forget(guard);
    panic!("deliberate panic in raw mode");
}
