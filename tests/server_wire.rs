//! The reference server on the wire, where the conformance harness does not reach.
//!
//! Every requirement of PROTOCOL.md that applies to a server has its home in the harness's
//! suites, which `conformance/tests/reference.rs` runs against this server (in the canonical
//! framing and five course dialects) with transcripts in snapshots. What stays here is what
//! a harness case does not do to a foreign server, and why:
//!
//! - load and repetition: a hundred simultaneous `NAME`s three times over (NAME-6), 5,000
//!   deliveries in batches (MSG-8), a name released and retaken twenty times in a row
//!   (NAME-7, CONN-3). A harness case probes once, within the patience a student's server
//!   deserves; here the reference server is held to more.
//! - every framing width in both directions (DIALECT-1, DIALECT-2: `dec2`, `dec9`, `bin1`,
//!   `bin2`, `bin8`, `line` with `\r\n`): the harness runs the reference server in five
//!   dialects only.
//! - the reference server's own choice where the spec leaves one: how an error message
//!   escapes control characters (ERR-2 asks that they be escaped, not how).

mod server_support;

use confab::protocol::Dialect;
use confab::server::Config;
use server_support::{Wire, frame, start, start_default};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_6_hundred_simultaneous_names_get_exactly_one_hello() {
    let server = start_default().await;
    for round in 0..3 {
        let name = format!("X{round}");
        let mut wires = Vec::new();
        for _ in 0..100 {
            wires.push(Wire::connect(server.addr()).await);
        }
        // All the NAMEs are written before any reply is read.
        let bytes = frame(format!("NAME {name}"));
        for w in &mut wires {
            w.send(&bytes).await;
        }
        let mut hellos = 0;
        for w in &mut wires {
            let reply = String::from_utf8(w.frame().await).unwrap();
            if reply == format!("HELLO {name}") {
                hellos += 1;
            } else {
                assert!(reply.starts_with("ERROR NAME_TAKEN"), "{reply}");
            }
        }
        assert_eq!(hellos, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_7_a_released_name_can_be_taken_again_at_once() {
    let server = start_default().await;
    let mut b = Wire::connect(server.addr()).await;
    for _ in 0..20 {
        let mut a = Wire::named(server.addr(), "A").await;
        a.cmd("EXIT").await;
        a.expect_frame("BYE").await;
        // EXIT-1: free by the time BYE can be read.
        b.cmd("NAME A").await;
        b.expect_frame("HELLO A").await;
        b.cmd("EXIT").await;
        b.expect_frame("BYE").await;
        b = Wire::connect(server.addr()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_8_many_messages_arrive_in_order_exactly_once() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    const N: usize = 5000;
    let writer = tokio::spawn(async move {
        // In batches, so that many frames share a segment.
        for chunk in (0..N).collect::<Vec<_>>().chunks(50) {
            let mut bytes = Vec::new();
            for i in chunk {
                bytes.extend_from_slice(&frame(format!("MSG B {i}")));
            }
            a.send(&bytes).await;
        }
        a
    });
    for i in 0..N {
        b.expect_frame(format!("A SENT {i}")).await;
    }
    let mut a = writer.await.unwrap();
    assert_eq!(a.names().await, "A B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn err_2_messages_name_the_input_with_control_characters_escaped() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    a.cmd("\x1b[2Jwipe").await;
    let text = a.expect_error("UNKNOWN_COMMAND").await;
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(text.contains("\\e[2Jwipe"), "{text:?}");
    a.cmd("NAME bad\x07name").await;
    let text = a.expect_error("INVALID_NAME").await;
    assert!(!text.chars().any(char::is_control), "{text:?}");
    let _b = Wire::named(server.addr(), "Taken").await;
    a.cmd("NAME Taken").await;
    let text = a.expect_error("NAME_TAKEN").await;
    assert!(text.contains("Taken"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conn_3_half_close_then_end_of_stream_means_the_name_is_free() {
    let server = start_default().await;
    let mut b = Wire::connect(server.addr()).await;
    for _ in 0..20 {
        let mut a = Wire::named(server.addr(), "A").await;
        a.shutdown_write().await;
        a.expect_eof().await;
        b.cmd("NAME A").await;
        b.expect_frame("HELLO A").await;
        b.cmd("EXIT").await;
        b.expect_frame("BYE").await;
        b = Wire::connect(server.addr()).await;
    }
}

async fn dialect_server(framing: &str) -> confab::server::Running {
    start(Config {
        dialect: Dialect::with_framing(framing.parse().unwrap()),
        ..Config::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialect_1_and_2_framing_applies_to_both_directions_in_bytes() {
    let cases: [(&str, &[u8], &[u8]); 6] = [
        ("dec2", b"06NAME A", b"07HELLO A"),
        ("dec9", b"000000006NAME A", b"000000007HELLO A"),
        ("bin1", b"\x06NAME A", b"\x07HELLO A"),
        ("bin2", b"\x00\x06NAME A", b"\x00\x07HELLO A"),
        (
            "bin8",
            b"\x00\x00\x00\x00\x00\x00\x00\x06NAME A",
            b"\x00\x00\x00\x00\x00\x00\x00\x07HELLO A",
        ),
        ("line", b"NAME A\r\n", b"HELLO A\n"),
    ];
    for (framing, send, expect) in cases {
        let server = dialect_server(framing).await;
        let mut a = Wire::connect(server.addr()).await;
        a.send(send).await;
        a.expect(expect).await;
        server.shutdown().await.unwrap();
    }
    // Bytes, not characters, in a dialect too.
    let server = dialect_server("dec2").await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"06NAME A").await;
    a.expect(b"07HELLO A").await;
    a.send("08MSG A é".as_bytes()).await;
    a.expect("09A SENT é".as_bytes()).await;
}
