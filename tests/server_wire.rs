//! The reference server on the wire: one test (or more) per requirement of PROTOCOL.md that
//! applies to a server, named after its ID. Exact bytes in, exact bytes out.

mod server_support;

use confab::protocol::{Dialect, Framing, MAX_TEXT_LEN};
use confab::server::Config;
use server_support::{GUARD, Wire, frame, start, start_default, wait_until_unlisted};

// ---------------------------------------------------------------------------------------------
// §2 Framing

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_1_replies_are_four_digit_headers_then_payload() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"0006NAME A").await;
    a.expect(b"0007HELLO A").await;
    a.send(b"0009GET_NAMES").await;
    a.expect(b"0001A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_2_lengths_count_bytes_not_characters() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    // "MSG B é" is 8 bytes; the delivery "A SENT é" is 9.
    a.send("0008MSG B é".as_bytes()).await;
    b.expect("0009A SENT é".as_bytes()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_3_empty_frame_is_valid_framing_and_an_unknown_command() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"0000").await;
    a.expect_error("UNKNOWN_COMMAND").await;
    // The connection is still fine.
    a.send(b"0006NAME A").await;
    a.expect(b"0007HELLO A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_3_largest_payload_of_9999_bytes_is_read() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    // A 9999-byte payload: an unknown verb, then padding.
    let payload = vec![b'x'; 9999];
    a.cmd(&payload).await;
    a.expect_error("UNKNOWN_COMMAND").await;
    a.names().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_4_frame_split_into_single_bytes_is_reassembled() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    for b in b"0006NAME A" {
        a.send([*b]).await;
    }
    a.expect(b"0007HELLO A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_4_several_frames_in_one_segment_are_all_handled() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    // Three frames and the first half of a fourth in one write; the rest in a second.
    a.send(b"0006NAME A0009GET_NAMES0008GETNAMES00").await;
    a.expect(b"0007HELLO A0001A0001A").await;
    a.send(b"09GET_NAMES").await;
    a.expect(b"0001A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_5_bad_header_gets_bad_frame_then_close() {
    let server = start_default().await;
    for bad in [&b"00x4EXIT"[..], b"-001", b" 12 abc", b"abcd"] {
        let mut a = Wire::connect(server.addr()).await;
        a.send(bad).await;
        a.expect_error("BAD_FRAME").await;
        a.expect_eof().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_5_bad_frame_releases_the_name_and_ignores_what_follows() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    // A valid-looking command after the bad header must not be carried out.
    let mut bytes = b"0x".to_vec();
    bytes.extend_from_slice(&frame("NAME Q"));
    a.send(&bytes).await;
    a.expect_error("BAD_FRAME").await;
    a.expect_eof().await;
    let mut b = Wire::connect(server.addr()).await;
    assert_eq!(b.names().await, "");
    b.cmd("NAME A").await;
    b.expect_frame("HELLO A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_6_partial_frame_does_not_delay_other_connections() {
    let server = start_default().await;
    let mut slow = Wire::connect(server.addr()).await;
    // Declares 9 bytes, sends 3, and stalls.
    slow.send(b"0009GET").await;
    let mut a = Wire::named(server.addr(), "A").await;
    assert_eq!(a.names().await, "A");
    // The slow one finishes later and is served normally.
    slow.send(b"_NAMES").await;
    slow.expect(b"0001A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_6_close_in_the_middle_of_a_frame_releases_the_name() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    a.send(b"0011MSG B").await;
    a.shutdown_write().await;
    // CONN-3: the name is gone by the time the server closes its side.
    a.expect_eof().await;
    let mut b = Wire::connect(server.addr()).await;
    b.cmd("NAME A").await;
    b.expect_frame("HELLO A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_7_every_reply_header_matches_its_payload() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    a.send("0014MSG A é日本".as_bytes()).await;
    a.expect("0015A SENT é日本".as_bytes()).await;
    // A name with é is invalid; the error message quotes it, in bytes counted right.
    let mut b = Wire::connect(server.addr()).await;
    b.cmd("NAME Zoé").await;
    let text = b.expect_error("INVALID_NAME").await;
    assert!(text.contains('é'), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_8_declared_length_over_the_limit_is_refused_before_reading_it() {
    // dec5 can declare 10000, one past the limit (DIALECT-3).
    let config = Config {
        dialect: Dialect::with_framing("dec5".parse().unwrap()),
        ..Config::default()
    };
    let server = start(config).await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"10000").await;
    let header = a.read_exact(5).await;
    let len: usize = std::str::from_utf8(&header).unwrap().parse().unwrap();
    let payload = a.read_exact(len).await;
    assert!(payload.starts_with(b"ERROR BAD_FRAME"), "{payload:?}");
    a.expect_eof().await;
}

// ---------------------------------------------------------------------------------------------
// §3 Encoding

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enc_2_invalid_utf8_gets_bad_encoding_and_the_connection_stays_open() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"0002\xff\xfe").await;
    a.expect_error("BAD_ENCODING").await;
    a.send(b"0007NAME A\xc3").await;
    a.expect_error("BAD_ENCODING").await;
    // CMD-5: nothing was registered.
    a.send(b"0006NAME A").await;
    a.expect(b"0007HELLO A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enc_3_names_are_compared_byte_for_byte_and_text_is_relayed_unchanged() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "a").await;
    // NAME-2: `A` is not `a`.
    let mut b = Wire::named(server.addr(), "A").await;
    let text = "  Ünïcode\u{301} \t\x1b[2J\x07 ";
    a.cmd(format!("MSG A {text}")).await;
    b.expect_frame(format!("a SENT {text}")).await;
}

// ---------------------------------------------------------------------------------------------
// §4 Commands

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmd_1_verbs_are_case_sensitive() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    for bad in ["name A", "Name A", "get_names", "Exit", "msg A hi"] {
        a.cmd(bad).await;
        a.expect_error("UNKNOWN_COMMAND").await;
    }
    assert_eq!(a.names().await, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmd_2_getnames_is_a_second_spelling_of_get_names() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    a.send(b"0008GETNAMES").await;
    a.expect(b"0001A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmd_3_unknown_verbs_get_unknown_command_and_the_connection_stays_open() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    for bad in ["HELLO", "GET NAMES", " NAME A", "BLOCK B", "1 A", ""] {
        a.cmd(bad).await;
        a.expect_error("UNKNOWN_COMMAND").await;
    }
    a.cmd("NAME A").await;
    a.expect_frame("HELLO A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmd_4_malformed_arguments_get_bad_args() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    for bad in [
        "NAME",
        "NAME ",
        "NAME  A",
        "NAME A B",
        "GET_NAMES now",
        "GETNAMES now",
        "EXIT please",
        "EXIT ",
        "MSG",
        "MSG B",
        "MSG B ",
        "MSG  B hi",
        "MSG b@d hi",
    ] {
        a.cmd(bad).await;
        a.expect_error("BAD_ARGS").await;
    }
    // The connection stays open and nothing happened (CMD-5).
    assert_eq!(a.names().await, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmd_5_a_refused_command_has_no_effect() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    a.cmd(format!("MSG B {}", "x".repeat(MAX_TEXT_LEN + 1)))
        .await;
    a.expect_error("TEXT_TOO_LONG").await;
    a.cmd("NAME 1x").await;
    a.expect_error("INVALID_NAME").await;
    a.cmd("NAME B").await;
    a.expect_error("ALREADY_NAMED").await;
    assert_eq!(a.names().await, "A B");
    // Nothing was delivered to B: its next frame answers its own command.
    assert_eq!(b.names().await, "A B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmd_6_the_first_fault_in_precedence_order_is_reported() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut u = Wire::connect(server.addr()).await;
    // Encoding before anything.
    u.send(b"0006name \xff").await;
    u.expect_error("BAD_ENCODING").await;
    // Unknown verb before arguments.
    u.cmd("NAMES A B").await;
    u.expect_error("UNKNOWN_COMMAND").await;
    // Form before state: an unnamed sender with malformed arguments gets BAD_ARGS.
    u.cmd("MSG b@d hi").await;
    u.expect_error("BAD_ARGS").await;
    // TEXT_TOO_LONG before NAME_REQUIRED.
    u.cmd(format!("MSG A {}", "x".repeat(MAX_TEXT_LEN + 1)))
        .await;
    u.expect_error("TEXT_TOO_LONG").await;
    // INVALID_NAME before ALREADY_NAMED.
    a.cmd("NAME 9").await;
    a.expect_error("INVALID_NAME").await;
    // NAME_REQUIRED before NO_SUCH_USER.
    u.cmd("MSG Nobody hi").await;
    u.expect_error("NAME_REQUIRED").await;
    // ALREADY_NAMED before NAME_TAKEN.
    let mut b = Wire::named(server.addr(), "B").await;
    b.cmd("NAME A").await;
    b.expect_error("ALREADY_NAMED").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmd_7_replies_keep_command_order_under_pipelining() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    let mut batch = Vec::new();
    for payload in [
        "GET_NAMES",
        "MSG A hi",
        "NAME A",
        "NAME A",
        "bogus",
        "MSG Z x",
        "MSG A self",
        "GET_NAMES",
        "EXIT",
    ] {
        batch.extend_from_slice(&frame(payload));
    }
    a.send(&batch).await;
    a.expect_frame("").await;
    a.expect_error("NAME_REQUIRED").await;
    a.expect_frame("HELLO A").await;
    a.expect_error("ALREADY_NAMED").await;
    a.expect_error("UNKNOWN_COMMAND").await;
    a.expect_error("NO_SUCH_USER").await;
    a.expect_frame("A SENT self").await;
    a.expect_frame("A").await;
    a.expect_frame("BYE").await;
    a.expect_eof().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmd_8_every_command_gets_exactly_its_replies() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    // Three successful MSGs get no reply (MSG-2); the GET_NAMES after them gets exactly one.
    for i in 0..3 {
        a.cmd(format!("MSG B m{i}")).await;
    }
    assert_eq!(a.names().await, "A B");
    for i in 0..3 {
        b.expect_frame(format!("A SENT m{i}")).await;
    }
    assert_eq!(b.names().await, "A B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_spelling_reads_numbers_and_replies_canonically() {
    let config = Config {
        dialect: Dialect {
            framing: Framing::CANONICAL,
            spelling: "numeric".parse().unwrap(),
        },
        ..Config::default()
    };
    let server = start(config).await;
    let mut a = Wire::connect(server.addr()).await;
    a.cmd("1 A").await;
    a.expect_frame("HELLO A").await;
    a.cmd("3 A hi there").await;
    a.expect_frame("A SENT hi there").await;
    a.cmd("2").await;
    a.expect_frame("A").await;
    a.cmd("NAME B").await;
    a.expect_error("UNKNOWN_COMMAND").await;
    a.cmd("4").await;
    a.expect_frame("BYE").await;
    a.expect_eof().await;
}

// ---------------------------------------------------------------------------------------------
// §5.1 NAME

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_1_a_free_valid_name_gets_hello() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    let long = "abcdefghijklmnopqrstuvwxyzABCDEF";
    a.cmd(format!("NAME {long}")).await;
    a.expect_frame(format!("HELLO {long}")).await;
    assert_eq!(a.names().await, long);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_2_a_taken_name_gets_name_taken_and_names_are_case_sensitive() {
    let server = start_default().await;
    let _a = Wire::named(server.addr(), "Bob").await;
    let mut b = Wire::connect(server.addr()).await;
    b.cmd("NAME Bob").await;
    b.expect_error("NAME_TAKEN").await;
    // Still unnamed: MSG needs a name.
    b.cmd("MSG Bob hi").await;
    b.expect_error("NAME_REQUIRED").await;
    b.cmd("NAME bob").await;
    b.expect_frame("HELLO bob").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_3_and_name_4_invalid_names_get_invalid_name() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    for bad in [
        "1abc",
        "_a",
        "a_b",
        "abcdefghijklmnopqrstuvwxyzABCDEFG",
        "Zoé",
        "HELLO",
        "SENT",
        "ERROR",
        "BYE",
        "a-b",
    ] {
        a.cmd(format!("NAME {bad}")).await;
        a.expect_error("INVALID_NAME").await;
    }
    assert_eq!(a.names().await, "");
    a.cmd("NAME ERRORS").await;
    a.expect_frame("HELLO ERRORS").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_5_no_renaming() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    a.cmd("NAME B").await;
    a.expect_error("ALREADY_NAMED").await;
    a.cmd("NAME A").await;
    a.expect_error("ALREADY_NAMED").await;
    assert_eq!(a.names().await, "A");
}

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

// ---------------------------------------------------------------------------------------------
// §5.2 GET_NAMES

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_1_registration_order_with_the_asker_included() {
    let server = start_default().await;
    let mut c = Wire::named(server.addr(), "Carol").await;
    let _a = Wire::named(server.addr(), "alice").await;
    let _b = Wire::named(server.addr(), "Bob").await;
    c.send(b"0009GET_NAMES").await;
    c.expect(b"0015Carol alice Bob").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_2_empty_list_is_the_empty_payload() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"0009GET_NAMES").await;
    a.expect(b"0000").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_3_an_unnamed_asker_is_not_listed() {
    let server = start_default().await;
    let _a = Wire::named(server.addr(), "A").await;
    let mut u = Wire::connect(server.addr()).await;
    u.send(b"0009GET_NAMES").await;
    u.expect(b"0001A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_4_a_released_name_disappears_and_a_retaken_one_goes_last() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    let _c = Wire::named(server.addr(), "C").await;
    b.cmd("EXIT").await;
    b.expect_frame("BYE").await;
    assert_eq!(a.names().await, "A C");
    let _b = Wire::named(server.addr(), "B").await;
    assert_eq!(a.names().await, "A C B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_5_a_list_too_long_for_a_frame_ends_with_the_count_left_out() {
    let server = start_default().await;
    let mut wires = Vec::new();
    let names: Vec<String> = (0..320).map(|i| format!("n{i:031}")).collect();
    for n in &names {
        wires.push(Wire::named(server.addr(), n).await);
    }
    let list = wires[0].names().await;
    // 32-byte names and a space: 302 fit in 9999 bytes with room for " +18".
    let shown: Vec<&str> = list.split(' ').collect();
    let (last, shown) = shown.split_last().unwrap();
    assert_eq!(shown, &names[..shown.len()]);
    assert_eq!(*last, format!("+{}", names.len() - shown.len()));
    assert!(list.len() <= 9999);
    assert!(
        list.len() + 33 > 9999,
        "one more name would have fit: {}",
        list.len()
    );
}

// ---------------------------------------------------------------------------------------------
// §5.3 MSG

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_1_delivery_names_the_sender() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "Alice").await;
    let mut b = Wire::named(server.addr(), "Bob").await;
    a.send(b"0013MSG Bob hello").await;
    b.expect(b"0016Alice SENT hello").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_2_a_successful_msg_gets_no_reply() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    a.cmd("MSG B hi").await;
    // The next frame A reads is the answer to its GET_NAMES.
    a.send(b"0009GET_NAMES").await;
    a.expect(b"0003A B").await;
    b.expect_frame("A SENT hi").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_3_a_message_to_yourself_is_delivered_to_you() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    a.send(b"0008MSG A hi").await;
    a.expect(b"0009A SENT hi").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_4_no_such_user() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    a.send(b"0008MSG Z hi").await;
    a.expect_error("NO_SUCH_USER").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_5_msg_before_name_gets_name_required_whoever_the_recipient() {
    let server = start_default().await;
    let mut b = Wire::named(server.addr(), "B").await;
    let mut u = Wire::connect(server.addr()).await;
    u.send(b"0008MSG B hi").await;
    u.expect_error("NAME_REQUIRED").await;
    u.send(b"0008MSG Z hi").await;
    u.expect_error("NAME_REQUIRED").await;
    assert_eq!(b.names().await, "B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_6_text_is_everything_after_the_second_space_byte_for_byte() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    for text in [
        " hi",
        "hi ",
        "  two  words  ",
        "MSG B x",
        "\t\r\n\x00",
        "é 日本 🎉",
        " ",
    ] {
        a.cmd(format!("MSG B {text}")).await;
        b.expect_frame(format!("A SENT {text}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_7_text_limit_is_9961_bytes_and_empty_text_is_bad_args() {
    let server = start_default().await;
    let longest = "L".repeat(32);
    let mut a = Wire::named(server.addr(), &longest).await;
    let mut b = Wire::named(server.addr(), "B").await;
    let text = "t".repeat(MAX_TEXT_LEN);
    a.cmd(format!("MSG B {text}")).await;
    // The longest delivery fills a frame exactly.
    let delivery = format!("{longest} SENT {text}");
    assert_eq!(delivery.len(), 9999);
    b.expect(format!("9999{delivery}")).await;
    a.cmd(format!("MSG B {text}t")).await;
    a.expect_error("TEXT_TOO_LONG").await;
    a.cmd("MSG B ").await;
    a.expect_error("BAD_ARGS").await;
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
async fn msg_9_a_reply_to_the_next_command_implies_the_delivery_was_queued() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    // MSG then EXIT: when A reads BYE, the delivery is queued to B, whose name still exists.
    a.cmd("MSG B last words").await;
    a.cmd("EXIT").await;
    a.expect_frame("BYE").await;
    b.expect_frame("A SENT last words").await;
}

// ---------------------------------------------------------------------------------------------
// §5.4 EXIT

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_1_and_exit_2_name_released_before_bye_then_close() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::connect(server.addr()).await;
    a.send(b"0004EXIT").await;
    a.expect(b"0003BYE").await;
    b.cmd("NAME A").await;
    b.expect_frame("HELLO A").await;
    a.expect_eof().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_3_anything_after_exit_is_ignored() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    let mut bytes = frame("EXIT");
    bytes.extend_from_slice(&frame("NAME A"));
    bytes.extend_from_slice(&frame("GET_NAMES"));
    a.send(&bytes).await;
    a.expect_frame("BYE").await;
    a.expect_eof().await;
    let mut b = Wire::connect(server.addr()).await;
    assert_eq!(b.names().await, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_4_exit_is_allowed_unnamed() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"0004EXIT").await;
    a.expect(b"0003BYE").await;
    a.expect_eof().await;
}

// ---------------------------------------------------------------------------------------------
// §6, §7 Replies and errors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_1_reserved_words_cannot_be_names() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    for word in ["HELLO", "SENT", "ERROR", "BYE"] {
        a.cmd(format!("NAME {word}")).await;
        a.expect_error("INVALID_NAME").await;
        a.cmd(format!("MSG {word} x")).await;
        a.expect_error("BAD_ARGS").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_2_every_frame_is_a_reply_of_the_grammar() {
    // `Wire::frame` parses every frame it reads; drive every kind of reply through it.
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    for payload in [
        "GET_NAMES",
        "NAME A",
        "NAME B",
        "GET_NAMES",
        "MSG A x",
        "MSG Q x",
        "\u{7}",
        "EXIT",
    ] {
        a.cmd(payload).await;
        a.frame().await;
    }
    a.expect_eof().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn err_1_codes_come_from_the_table() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    let cases = [
        ("MSG A hi", "NAME_REQUIRED"),
        ("NAME 1", "INVALID_NAME"),
        ("NAME A", "HELLO A"),
        ("NAME B", "ALREADY_NAMED"),
        ("MSG Z hi", "NO_SUCH_USER"),
        ("nope", "UNKNOWN_COMMAND"),
        ("EXIT x", "BAD_ARGS"),
    ];
    for (payload, code) in cases {
        a.cmd(payload).await;
        if code.starts_with("HELLO") {
            a.expect_frame(code).await;
        } else {
            a.expect_error(code).await;
        }
    }
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

// ---------------------------------------------------------------------------------------------
// §8 Connection lifecycle

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conn_1_nothing_is_sent_before_a_complete_command() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    // Half a command; the first bytes the server sends answer the whole one.
    a.send(b"0009GET_").await;
    a.send(b"NAMES").await;
    a.expect(b"0000").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conn_2_bad_input_on_one_connection_does_not_affect_another() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    let mut bad = Wire::connect(server.addr()).await;
    bad.send(b"0002\xff\xfe").await;
    bad.expect_error("BAD_ENCODING").await;
    bad.send(b"zzzz").await;
    bad.expect_error("BAD_FRAME").await;
    let mut partial = Wire::connect(server.addr()).await;
    partial.send(b"9999abc").await;
    a.cmd("MSG B still here").await;
    b.expect_frame("A SENT still here").await;
    assert_eq!(b.names().await, "A B");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conn_3_half_close_still_gets_the_replies_to_what_was_sent() {
    let server = start_default().await;
    let mut a = Wire::connect(server.addr()).await;
    let mut bytes = frame("NAME A");
    bytes.extend_from_slice(&frame("GET_NAMES"));
    a.send(&bytes).await;
    a.shutdown_write().await;
    a.expect_frame("HELLO A").await;
    a.expect_frame("A").await;
    a.expect_eof().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conn_3_a_reset_connection_releases_its_name() {
    let server = start_default().await;
    let a = Wire::named(server.addr(), "A").await;
    // SO_LINGER 0: closing sends a reset.
    a.stream.set_zero_linger().unwrap();
    drop(a);
    let mut b = Wire::connect(server.addr()).await;
    wait_until_unlisted(&mut b, "A").await;
    b.cmd("NAME A").await;
    b.expect_frame("HELLO A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conn_4_unnamed_connections_may_close_at_any_time() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    for i in 0..10 {
        let mut u = Wire::connect(server.addr()).await;
        if i % 2 == 0 {
            u.send(b"0009GET_NA").await;
        }
        if i % 3 == 0 {
            u.stream.set_zero_linger().unwrap();
        }
        drop(u);
    }
    assert_eq!(a.names().await, "A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conn_5_policy_close_sends_the_error_first_and_releases_the_name() {
    let server = start_default().await;
    let mut a = Wire::named(server.addr(), "A").await;
    a.send(b"x").await;
    a.expect_error("BAD_FRAME").await;
    a.expect_eof().await;
    let mut b = Wire::connect(server.addr()).await;
    b.cmd("NAME A").await;
    b.expect_frame("HELLO A").await;
}

// ---------------------------------------------------------------------------------------------
// §11 Dialects

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialect_1_raw_framing_one_read_is_one_message() {
    let server = dialect_server("raw").await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"NAME A").await;
    a.expect(b"HELLO A").await;
    a.send(b"MSG A hi").await;
    a.expect(b"A SENT hi").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialect_3_declared_length_over_the_framings_limit_is_bad_frame() {
    let server = dialect_server("bin2").await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"\x27\x10").await; // 10000
    let header = a.read_exact(2).await;
    let len = usize::from(u16::from_be_bytes([header[0], header[1]]));
    let payload = a.read_exact(len).await;
    assert!(payload.starts_with(b"ERROR BAD_FRAME"), "{payload:?}");
    a.expect_eof().await;

    let server = dialect_server("line").await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(vec![b'a'; 10_001]).await;
    let mut got = Vec::new();
    loop {
        let b = a.read_exact(1).await;
        if b[0] == b'\n' {
            break;
        }
        got.extend_from_slice(&b);
    }
    assert!(got.starts_with(b"ERROR BAD_FRAME"), "{got:?}");
    a.expect_eof().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialect_4_small_frames_shorten_errors_cut_lists_and_refuse_long_deliveries() {
    let server = dialect_server("dec2").await;
    async fn read2(w: &mut Wire) -> String {
        let h = w.read_exact(2).await;
        let len: usize = std::str::from_utf8(&h).unwrap().parse().unwrap();
        String::from_utf8(w.read_exact(len).await).unwrap()
    }
    let mut a = Wire::connect(server.addr()).await;
    // An unknown command whose error message would be long.
    let long = "x".repeat(90);
    a.send(format!("90{long}")).await;
    let err = read2(&mut a).await;
    assert!(
        err.starts_with("ERROR UNKNOWN_COMMAND") && err.len() <= 99,
        "{err}"
    );
    // Names lists: five 32-byte names do not fit in 99 bytes.
    let mut wires = Vec::new();
    for i in 0..5 {
        let n = format!("n{i:031}");
        let mut w = Wire::connect(server.addr()).await;
        w.send(format!("{:02}NAME {n}", 5 + n.len())).await;
        assert_eq!(read2(&mut w).await, format!("HELLO {n}"));
        wires.push(w);
    }
    a.send(b"09GET_NAMES").await;
    let list = read2(&mut a).await;
    assert_eq!(
        list,
        format!("n{:031} n{:031} +3", 0, 1),
        "NAMES-5 in a 99-byte frame"
    );
    // A delivery that would not fit: 32-byte sender + " SENT " + 62 bytes = 100.
    let text = "t".repeat(62);
    wires[0]
        .send(format!("{:02}MSG A {text}", 6 + text.len()))
        .await;
    let err = read2(&mut wires[0]).await;
    assert!(err.starts_with("ERROR TEXT_TOO_LONG"), "{err}");
    // One byte shorter fits: to A, who is not named, so NO_SUCH_USER: the fit was accepted.
    let text = "t".repeat(61);
    wires[0]
        .send(format!("{:02}MSG A {text}", 6 + text.len()))
        .await;
    let err = read2(&mut wires[0]).await;
    assert!(err.starts_with("ERROR NO_SUCH_USER"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialect_5_raw_framing_sends_no_empty_names_list_and_line_framing_an_empty_line() {
    let server = dialect_server("raw").await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"GET_NAMES").await;
    // In raw framing the next command cannot be told apart if it comes too soon, so the end of
    // the stream is the barrier: the server closes having sent nothing.
    a.shutdown_write().await;
    a.expect_eof().await;
    let mut b = Wire::connect(server.addr()).await;
    b.send(b"NAME A").await;
    b.expect(b"HELLO A").await;
    b.send(b"GET_NAMES").await;
    b.expect(b"A").await;
    let server = dialect_server("line").await;
    let mut a = Wire::connect(server.addr()).await;
    a.send(b"GET_NAMES\nNAME A\n").await;
    a.expect(b"\nHELLO A\n").await;
}

#[test]
fn guard_is_generous() {
    assert!(GUARD.as_secs() >= 5);
}
