//! Deliberate faults (feature `faults`): each breaks the requirement it claims, on the wire,
//! and the same check passes against the server without faults. A fault is a hook of the
//! server (`confab::server::Fault`), or made by the fault-injecting proxy of the conformance
//! tests in front of a correct server (`WireFault`); the probes see only the wire either way.
//!
//! Every fault has a probe: a short conversation that answers `Ok` when the server behaves as
//! PROTOCOL.md says and `Err(why)` when it does not. `every_probe_passes_without_faults` runs
//! all of them against a correct server; one test per fault, named after it, runs its probe
//! against a server with that fault. Probes use round trips as barriers, so a missing reply
//! shows up as the wrong next frame rather than as a wait.
#![cfg(feature = "faults")]

#[path = "../conformance/tests/support/proxy.rs"]
mod proxy;
mod server_support;

use std::net::SocketAddr;
use std::time::Duration;

use confab::protocol::escape::escape_bytes;
use confab::server::{Config, Fault, Running};
use proxy::{AnyFault, WireFault};
use server_support::frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

type Check = Result<(), String>;

/// Bounds every read of a probe.
const READ_GUARD: Duration = Duration::from_secs(5);

/// How long the hang probe gives an unrelated command to be answered. A correct server answers
/// in microseconds; a hung one never does.
const HANG_WINDOW: Duration = Duration::from_secs(1);

/// A client that reports deviations instead of panicking.
struct P {
    s: TcpStream,
}

impl P {
    async fn connect(addr: SocketAddr) -> Result<P, String> {
        let s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(P { s })
    }

    async fn named(addr: SocketAddr, name: &str) -> Result<P, String> {
        let mut p = P::connect(addr).await?;
        p.cmd(&format!("NAME {name}")).await?;
        p.expect(&format!("HELLO {name}")).await?;
        Ok(p)
    }

    async fn send(&mut self, bytes: &[u8]) -> Check {
        self.s.write_all(bytes).await.map_err(|e| e.to_string())
    }

    async fn cmd(&mut self, payload: impl AsRef<[u8]>) -> Check {
        self.send(&frame(payload)).await
    }

    async fn read_exact_within(&mut self, n: usize, guard: Duration) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; n];
        match timeout(guard, self.s.read_exact(&mut buf)).await {
            Err(_) => Err(format!("no {n} bytes within {guard:?}")),
            Ok(Err(e)) => Err(format!("connection ended: {e}")),
            Ok(Ok(_)) => Ok(buf),
        }
    }

    async fn frame_within(&mut self, guard: Duration) -> Result<Vec<u8>, String> {
        let header = self.read_exact_within(4, guard).await?;
        let text = std::str::from_utf8(&header).unwrap_or("");
        let len: usize = match text.parse() {
            Ok(len) if text.bytes().all(|b| b.is_ascii_digit()) => len,
            _ => return Err(format!("bad header {:?}", escape_bytes(&header))),
        };
        self.read_exact_within(len, READ_GUARD).await
    }

    async fn frame(&mut self) -> Result<Vec<u8>, String> {
        self.frame_within(READ_GUARD).await
    }

    async fn expect(&mut self, payload: &str) -> Check {
        let got = self.frame().await?;
        if got == payload.as_bytes() {
            Ok(())
        } else {
            Err(format!(
                "expected {payload:?}, got {:?}",
                escape_bytes(&got)
            ))
        }
    }

    async fn expect_error(&mut self, code: &str) -> Result<String, String> {
        let got = self.frame().await?;
        let text = String::from_utf8_lossy(&got).into_owned();
        let head = format!("ERROR {code}");
        if text == head || text.starts_with(&format!("{head} ")) {
            Ok(text)
        } else {
            Err(format!("expected {head}, got {:?}", escape_bytes(&got)))
        }
    }

    async fn names(&mut self) -> Result<String, String> {
        self.cmd("GET_NAMES").await?;
        let got = self.frame().await?;
        Ok(String::from_utf8_lossy(&got).into_owned())
    }

    /// Every byte until the server closes.
    async fn read_to_close(&mut self) -> Result<Vec<u8>, String> {
        let mut all = Vec::new();
        match timeout(READ_GUARD, self.s.read_to_end(&mut all)).await {
            Err(_) => Err(format!(
                "the server did not close; sent {:?}",
                escape_bytes(&all)
            )),
            Ok(_) => Ok(all),
        }
    }

    /// The next read is the end of the stream (or a reset), with no bytes before it.
    async fn eof(&mut self) -> Check {
        let mut buf = [0u8; 256];
        match timeout(READ_GUARD, self.s.read(&mut buf)).await {
            Err(_) => Err("the server did not close".to_owned()),
            Ok(Ok(0) | Err(_)) => Ok(()),
            Ok(Ok(n)) => Err(format!(
                "expected the end, got {:?}",
                escape_bytes(&buf[..n])
            )),
        }
    }
}

fn check(ok: bool, why: impl FnOnce() -> String) -> Check {
    if ok { Ok(()) } else { Err(why()) }
}

/// Sends 30 messages A to B and answers what B received before its own GET_NAMES reply.
async fn thirty_deliveries(addr: SocketAddr) -> Result<Vec<String>, String> {
    let mut a = P::named(addr, "A").await?;
    let mut b = P::named(addr, "B").await?;
    let mut batch = Vec::new();
    for i in 0..30 {
        batch.extend_from_slice(&frame(format!("MSG B m{i}")));
    }
    a.send(&batch).await?;
    // MSG-9: once A's GET_NAMES is answered, all 30 are queued to B.
    a.names().await?;
    b.cmd("GET_NAMES").await?;
    let mut got = Vec::new();
    loop {
        let f = String::from_utf8_lossy(&b.frame().await?).into_owned();
        if !f.contains(" SENT ") {
            return Ok(got);
        }
        got.push(f);
    }
}

/// The conversation that shows whether the requirement `fault` breaks holds.
async fn probe(fault: AnyFault, addr: SocketAddr) -> Check {
    match fault {
        AnyFault::Hook(Fault::KeepNameAfterDisconnect) => {
            let mut a = P::named(addr, "A").await?;
            a.s.shutdown().await.map_err(|e| e.to_string())?;
            a.eof().await?;
            let mut b = P::connect(addr).await?;
            b.cmd("NAME A").await?;
            b.expect("HELLO A").await
        }
        AnyFault::Hook(Fault::KeepNameAfterExit) => {
            let mut a = P::named(addr, "A").await?;
            a.cmd("EXIT").await?;
            a.expect("BYE").await?;
            let mut b = P::connect(addr).await?;
            b.cmd("NAME A").await?;
            b.expect("HELLO A").await
        }
        AnyFault::Hook(Fault::AcceptDuplicateName) => {
            let _a = P::named(addr, "A").await?;
            let mut b = P::connect(addr).await?;
            b.cmd("NAME A").await?;
            b.expect_error("NAME_TAKEN").await.map(drop)
        }
        AnyFault::Hook(Fault::NameRace) => {
            let mut all = Vec::new();
            for _ in 0..100 {
                all.push(P::connect(addr).await?);
            }
            let bytes = frame("NAME X");
            for p in &mut all {
                p.send(&bytes).await?;
            }
            let mut hellos = 0;
            for p in &mut all {
                if p.frame().await? == b"HELLO X" {
                    hellos += 1;
                }
            }
            check(hellos == 1, || format!("{hellos} connections got HELLO X"))
        }
        AnyFault::Hook(Fault::AllowRename) => {
            let mut a = P::named(addr, "A").await?;
            a.cmd("NAME B").await?;
            a.expect_error("ALREADY_NAMED").await.map(drop)
        }
        AnyFault::Hook(Fault::AcceptInvalidName) => {
            let mut a = P::connect(addr).await?;
            for bad in ["1abc", "HELLO"] {
                a.cmd(format!("NAME {bad}")).await?;
                a.expect_error("INVALID_NAME").await?;
            }
            Ok(())
        }
        AnyFault::Wire(WireFault::SilentUnknownCommand) => {
            let mut a = P::connect(addr).await?;
            a.cmd("bogus").await?;
            a.cmd("GET_NAMES").await?;
            a.expect_error("UNKNOWN_COMMAND").await.map(drop)
        }
        AnyFault::Wire(WireFault::CaseInsensitiveVerbs) => {
            let mut a = P::connect(addr).await?;
            a.cmd("name A").await?;
            a.expect_error("UNKNOWN_COMMAND").await.map(drop)
        }
        AnyFault::Wire(WireFault::RejectGetnames) => {
            let _a = P::named(addr, "A").await?;
            let mut b = P::connect(addr).await?;
            b.cmd("GETNAMES").await?;
            b.expect("A").await
        }
        AnyFault::Wire(WireFault::IgnoreExtraArgs) => {
            let mut a = P::connect(addr).await?;
            a.cmd("GET_NAMES now").await?;
            a.expect_error("BAD_ARGS").await?;
            a.cmd("EXIT now").await?;
            a.expect_error("BAD_ARGS").await.map(drop)
        }
        AnyFault::Wire(WireFault::WrongErrorCode) => {
            let mut a = P::named(addr, "A").await?;
            a.cmd("MSG Z hi").await?;
            a.expect_error("NO_SUCH_USER").await?;
            a.cmd("NAME B").await?;
            a.expect_error("ALREADY_NAMED").await.map(drop)
        }
        AnyFault::Wire(WireFault::RawInputInError) => {
            let mut a = P::connect(addr).await?;
            a.cmd("\x1b[2J\x07").await?;
            let text = a.expect_error("UNKNOWN_COMMAND").await?;
            check(!text.chars().any(char::is_control), || {
                format!("control characters in {text:?}")
            })
        }
        AnyFault::Wire(WireFault::SilentNoSuchUser) => {
            let mut a = P::named(addr, "A").await?;
            a.cmd("MSG Z hi").await?;
            a.cmd("GET_NAMES").await?;
            a.expect_error("NO_SUCH_USER").await.map(drop)
        }
        AnyFault::Wire(WireFault::WrongSender) => {
            let mut a = P::named(addr, "A").await?;
            let mut b = P::named(addr, "B").await?;
            a.cmd("MSG B hi").await?;
            b.expect("A SENT hi").await
        }
        AnyFault::Wire(WireFault::FirstWordOnly) | AnyFault::Wire(WireFault::TrimText) => {
            let mut a = P::named(addr, "A").await?;
            let mut b = P::named(addr, "B").await?;
            a.cmd("MSG B  two words ").await?;
            b.expect("A SENT  two words ").await
        }
        AnyFault::Wire(WireFault::AckMsg) => {
            let mut a = P::named(addr, "A").await?;
            let _b = P::named(addr, "B").await?;
            a.cmd("MSG B hi").await?;
            a.cmd("GET_NAMES").await?;
            a.expect("A B").await
        }
        AnyFault::Wire(WireFault::NoSelfDelivery) => {
            let mut a = P::named(addr, "A").await?;
            a.cmd("MSG A hi").await?;
            a.cmd("GET_NAMES").await?;
            a.expect("A SENT hi").await
        }
        AnyFault::Hook(Fault::MsgBeforeNameDelivers) => {
            let mut b = P::named(addr, "B").await?;
            let mut u = P::connect(addr).await?;
            u.cmd("MSG B hi").await?;
            u.cmd("GET_NAMES").await?;
            u.expect_error("NAME_REQUIRED").await?;
            b.cmd("GET_NAMES").await?;
            b.expect("B").await
        }
        AnyFault::Wire(WireFault::NoTextLimit) => {
            let mut a = P::named(addr, "A").await?;
            let _b = P::named(addr, "B").await?;
            a.cmd(format!("MSG B {}", "t".repeat(9962))).await?;
            a.cmd("GET_NAMES").await?;
            a.expect_error("TEXT_TOO_LONG").await.map(drop)
        }
        AnyFault::Wire(WireFault::DropEveryTenth)
        | AnyFault::Wire(WireFault::ReorderDeliveries) => {
            let got = thirty_deliveries(addr).await?;
            let want: Vec<String> = (0..30).map(|i| format!("A SENT m{i}")).collect();
            check(got == want, || format!("B received {got:?}"))
        }
        AnyFault::Wire(WireFault::SortedNames) => {
            let mut b = P::named(addr, "b").await?;
            let _a = P::named(addr, "a").await?;
            let list = b.names().await?;
            check(list == "b a", || format!("list {list:?}"))
        }
        AnyFault::Wire(WireFault::TrailingSpaceNames) | AnyFault::Wire(WireFault::NamesPrefix) => {
            let mut a = P::named(addr, "A").await?;
            let _b = P::named(addr, "B").await?;
            let list = a.names().await?;
            check(list == "A B", || format!("list {list:?}"))
        }
        AnyFault::Wire(WireFault::NamesNoMarker) => {
            let mut all = Vec::new();
            for i in 0..310 {
                all.push(P::named(addr, &format!("n{i:031}")).await?);
            }
            let list = all[0].names().await?;
            check(list.ends_with(" +8"), || {
                format!(
                    "a list of {} bytes ends {:?}",
                    list.len(),
                    &list[list.len() - 40..]
                )
            })
        }
        AnyFault::Hook(Fault::ListUnnamed) => {
            let _a = P::named(addr, "A").await?;
            let mut u = P::connect(addr).await?;
            let list = u.names().await?;
            check(list == "A", || format!("list {list:?}"))
        }
        AnyFault::Wire(WireFault::GreetOnConnect) => {
            let mut a = P::connect(addr).await?;
            a.cmd("GET_NAMES").await?;
            a.expect("").await
        }
        AnyFault::Wire(WireFault::NoBye) | AnyFault::Wire(WireFault::ExitKeepsOpen) => {
            let mut a = P::named(addr, "A").await?;
            a.cmd("EXIT").await?;
            a.expect("BYE").await?;
            // EXIT-3: what follows is ignored, and the server closes.
            a.cmd("GET_NAMES").await?;
            a.eof().await
        }
        AnyFault::Wire(WireFault::NoErrorOnBadFrame)
        | AnyFault::Wire(WireFault::IgnoreBadFrame) => {
            let mut a = P::connect(addr).await?;
            a.send(b"00x4EXIT").await?;
            a.expect_error("BAD_FRAME").await?;
            a.cmd("GET_NAMES").await?;
            a.eof().await
        }
        AnyFault::Wire(WireFault::UnframedReplies) | AnyFault::Wire(WireFault::CharCountLength) => {
            let mut a = P::connect(addr).await?;
            let mut bytes = frame("NAME A");
            bytes.extend_from_slice(&frame("MSG A é"));
            bytes.extend_from_slice(&frame("EXIT"));
            a.send(&bytes).await?;
            let all = a.read_to_close().await?;
            let want = "0007HELLO A0009A SENT é0003BYE".as_bytes();
            check(all == want, || format!("got {:?}", escape_bytes(&all)))
        }
        AnyFault::Wire(WireFault::OneFramePerRead) => {
            let mut a = P::connect(addr).await?;
            let mut bytes = frame("NAME A");
            bytes.extend_from_slice(&frame("GET_NAMES"));
            a.send(&bytes).await?;
            a.expect("HELLO A").await?;
            a.cmd("EXIT").await?;
            let all = a.read_to_close().await?;
            check(all == b"0001A0003BYE", || {
                format!("got {:?}", escape_bytes(&all))
            })
        }
        AnyFault::Wire(WireFault::CloseOnBadUtf8) | AnyFault::Hook(Fault::CrashOnBadUtf8) => {
            let mut a = P::connect(addr).await?;
            a.send(b"0002\xff\xfe").await?;
            a.expect_error("BAD_ENCODING").await?;
            a.names().await.map(drop)
        }
        AnyFault::Hook(Fault::CrashOnExit) => {
            let mut a = P::named(addr, "A").await?;
            let mut b = P::named(addr, "B").await?;
            a.cmd("EXIT").await?;
            a.expect("BYE").await?;
            a.eof().await?;
            check(b.names().await? == "B", || "B's list is wrong".to_owned())
        }
        AnyFault::Hook(Fault::CrashOnMsgBeforeName) => {
            let mut b = P::named(addr, "B").await?;
            let mut u = P::connect(addr).await?;
            u.cmd("MSG B hi").await?;
            u.expect_error("NAME_REQUIRED").await?;
            b.names().await.map(drop)
        }
        AnyFault::Hook(Fault::CrashOnUnnamedDisconnect) => {
            let mut b = P::named(addr, "B").await?;
            let mut u = P::connect(addr).await?;
            u.cmd("GET_NAMES").await?;
            u.expect("B").await?;
            u.s.shutdown().await.map_err(|e| e.to_string())?;
            u.eof().await?;
            b.names().await.map(drop)
        }
        AnyFault::Wire(WireFault::HangOnShortPayload) => {
            let mut slow = P::connect(addr).await?;
            let mut a = P::connect(addr).await?;
            a.names().await?;
            stall_mid_payload(&mut slow).await?;
            a.cmd("GET_NAMES").await?;
            let answered = a.frame_within(HANG_WINDOW).await;
            // Complete the frame: the server goes on either way.
            slow.send(b"_NAMES").await?;
            answered.map(drop)
        }
    }
}

/// Sends a complete command and the start of a second in one write, and reads the reply to the
/// first: then the server has seen the partial frame (nothing written on this connection after
/// it could serve as a barrier, since it would be part of the payload).
async fn stall_mid_payload(slow: &mut P) -> Check {
    let mut bytes = frame("GET_NAMES");
    bytes.extend_from_slice(b"0009GET");
    slow.send(&bytes).await?;
    slow.frame().await.map(drop)
}

fn config(fault: Option<Fault>) -> Config {
    Config {
        fault,
        // The hang probe relies on the server not cutting the stalled frame first.
        frame_timeout: None,
        ..Config::default()
    }
}

/// A server with a hook fault, or none.
async fn start_with(fault: Option<Fault>) -> Running {
    confab::server::spawn(config(fault))
        .await
        .expect("start the server")
}

/// A correct server behind the proxy with `fault`.
async fn start_proxy(fault: WireFault) -> proxy::Running {
    proxy::spawn(fault, config(None))
        .await
        .expect("start the proxy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_probe_passes_without_faults() {
    for fault in AnyFault::all() {
        let server = start_with(None).await;
        if let Err(why) = probe(fault, server.addr()).await {
            panic!("the probe for {fault} fails on the correct server: {why}");
        }
        server.shutdown().await.expect("no crash");
    }
}

/// Starts a server with `fault` (behind the proxy for a wire fault) and checks that its probe
/// fails.
async fn fault_breaks_its_requirement(fault: AnyFault) {
    let outcome = match fault {
        AnyFault::Hook(f) => {
            let server = start_with(Some(f)).await;
            probe(fault, server.addr()).await
        }
        AnyFault::Wire(f) => {
            let proxy = start_proxy(f).await;
            probe(fault, proxy.addr()).await
        }
    };
    match outcome {
        Ok(()) => panic!(
            "{fault} ({}) did not break {}",
            fault.description(),
            fault.requirement()
        ),
        Err(why) => eprintln!("{fault} breaks {}: {why}", fault.requirement()),
    }
}

/// One test per fault, named after it.
macro_rules! fault_tests {
    ($($test:ident => $fault:expr,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                fault_breaks_its_requirement(AnyFault::from($fault)).await;
            }
        )*

        #[test]
        fn every_fault_has_its_test() {
            let tested = [$(AnyFault::from($fault)),*];
            for fault in AnyFault::all() {
                assert!(tested.contains(&fault), "no test for {fault}");
            }
            assert_eq!(tested.len(), AnyFault::all().len());
        }
    };
}

fault_tests! {
    keep_name_after_disconnect => Fault::KeepNameAfterDisconnect,
    keep_name_after_exit => Fault::KeepNameAfterExit,
    accept_duplicate_name => Fault::AcceptDuplicateName,
    name_race => Fault::NameRace,
    allow_rename => Fault::AllowRename,
    accept_invalid_name => Fault::AcceptInvalidName,
    silent_unknown_command => WireFault::SilentUnknownCommand,
    case_insensitive_verbs => WireFault::CaseInsensitiveVerbs,
    reject_getnames => WireFault::RejectGetnames,
    ignore_extra_args => WireFault::IgnoreExtraArgs,
    wrong_error_code => WireFault::WrongErrorCode,
    raw_input_in_error => WireFault::RawInputInError,
    silent_no_such_user => WireFault::SilentNoSuchUser,
    wrong_sender => WireFault::WrongSender,
    first_word_only => WireFault::FirstWordOnly,
    trim_text => WireFault::TrimText,
    ack_msg => WireFault::AckMsg,
    no_self_delivery => WireFault::NoSelfDelivery,
    msg_before_name_delivers => Fault::MsgBeforeNameDelivers,
    no_text_limit => WireFault::NoTextLimit,
    drop_every_tenth => WireFault::DropEveryTenth,
    reorder_deliveries => WireFault::ReorderDeliveries,
    sorted_names => WireFault::SortedNames,
    trailing_space_names => WireFault::TrailingSpaceNames,
    names_prefix => WireFault::NamesPrefix,
    names_no_marker => WireFault::NamesNoMarker,
    list_unnamed => Fault::ListUnnamed,
    greet_on_connect => WireFault::GreetOnConnect,
    no_bye => WireFault::NoBye,
    exit_keeps_open => WireFault::ExitKeepsOpen,
    no_error_on_bad_frame => WireFault::NoErrorOnBadFrame,
    ignore_bad_frame => WireFault::IgnoreBadFrame,
    unframed_replies => WireFault::UnframedReplies,
    char_count_length => WireFault::CharCountLength,
    one_frame_per_read => WireFault::OneFramePerRead,
    close_on_bad_utf8 => WireFault::CloseOnBadUtf8,
    crash_on_exit => Fault::CrashOnExit,
    crash_on_bad_utf8 => Fault::CrashOnBadUtf8,
    crash_on_msg_before_name => Fault::CrashOnMsgBeforeName,
    crash_on_unnamed_disconnect => Fault::CrashOnUnnamedDisconnect,
    hang_on_short_payload => WireFault::HangOnShortPayload,
}

/// The crash faults bring down the whole server, as if the process died: `run` returns an
/// error, every connection is closed and nothing listens any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_faults_stop_the_whole_server() {
    for fault in [
        Fault::CrashOnExit,
        Fault::CrashOnBadUtf8,
        Fault::CrashOnMsgBeforeName,
        Fault::CrashOnUnnamedDisconnect,
    ] {
        let server = start_with(Some(fault)).await;
        let addr = server.addr();
        let mut bystander = P::named(addr, "Bystander").await.unwrap();
        let mut culprit = P::connect(addr).await.unwrap();
        match fault {
            Fault::CrashOnExit => culprit.cmd("EXIT").await.unwrap(),
            Fault::CrashOnBadUtf8 => culprit.send(b"0001\xff").await.unwrap(),
            Fault::CrashOnMsgBeforeName => culprit.cmd("MSG Bystander hi").await.unwrap(),
            _ => {
                culprit.names().await.unwrap();
                culprit.s.shutdown().await.unwrap();
            }
        }
        let result = timeout(READ_GUARD, server.wait())
            .await
            .expect("the server stopped");
        let err = result.expect_err("a crash is an error");
        assert!(err.to_string().contains(fault.name()), "{err}");
        bystander
            .eof()
            .await
            .unwrap_or_else(|e| panic!("{fault}: {e}"));
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "{fault}: still listening"
        );
    }
}

/// The hang lasts exactly until the payload completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_on_short_payload_resumes_when_the_payload_completes() {
    let server = start_proxy(WireFault::HangOnShortPayload).await;
    let addr = server.addr();
    let mut slow = P::connect(addr).await.unwrap();
    let mut a = P::named(addr, "A").await.unwrap();
    stall_mid_payload(&mut slow).await.unwrap();
    a.cmd("GET_NAMES").await.unwrap();
    assert!(a.frame_within(HANG_WINDOW).await.is_err(), "A was answered");
    slow.send(b"_NAMES").await.unwrap();
    slow.expect("A").await.unwrap();
    a.expect("A").await.unwrap();
}

/// A client that leaves in the middle of its frame leaves the server hung for good, as a
/// `while len(data) < n` loop does; shutting the server down still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_on_short_payload_lasts_after_the_client_leaves_until_shutdown() {
    let server = start_proxy(WireFault::HangOnShortPayload).await;
    let addr = server.addr();
    let mut slow = P::connect(addr).await.unwrap();
    let mut a = P::named(addr, "A").await.unwrap();
    stall_mid_payload(&mut slow).await.unwrap();
    drop(slow);
    a.cmd("GET_NAMES").await.unwrap();
    assert!(a.frame_within(HANG_WINDOW).await.is_err(), "A was answered");
    tokio::time::timeout(READ_GUARD, server.shutdown())
        .await
        .expect("a hung server still shuts down")
        .expect("shutdown");
}

/// Faults that do not crash leave everyone else alone: the example run still works around
/// a connection that a fault dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_on_bad_utf8_drops_only_that_client() {
    let server = start_proxy(WireFault::CloseOnBadUtf8).await;
    let addr = server.addr();
    let mut a = P::named(addr, "A").await.unwrap();
    let mut bad = P::named(addr, "Bad").await.unwrap();
    bad.send(b"0001\xff").await.unwrap();
    bad.eof().await.unwrap();
    assert_eq!(a.names().await.unwrap(), "A");
}
