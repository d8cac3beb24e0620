//! The course's example run (PROTOCOL.md §12), byte for byte, and the table of faults below it.

mod server_support;

use server_support::{Wire, start_default};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_course_example_run_byte_for_byte() {
    let server = start_default().await;
    let addr = server.addr();
    // 1-3
    let mut a = Wire::connect(addr).await;
    a.send(b"0006NAME A").await;
    a.expect(b"0007HELLO A").await;
    // 4-5
    let mut b = Wire::connect(addr).await;
    b.send(b"0006NAME B").await;
    b.expect(b"0007HELLO B").await;
    // 6-7
    a.send(b"0009GET_NAMES").await;
    a.expect(b"0003A B").await;
    // 8: B closes; the server closing its side means B's name is released (CONN-3).
    b.shutdown_write().await;
    b.expect_eof().await;
    drop(b);
    // 9-10
    a.send(b"0009GET_NAMES").await;
    a.expect(b"0001A").await;
    // 11-12
    let mut b2 = Wire::connect(addr).await;
    b2.send(b"0006NAME B").await;
    b2.expect(b"0007HELLO B").await;
    // 13-14
    a.send(b"0009GET_NAMES").await;
    a.expect(b"0003A B").await;
    // 15-16
    a.send(b"0011MSG B HELLO").await;
    b2.expect(b"0012A SENT HELLO").await;
    // 17-18
    b2.send(b"0011MSG A HELLO").await;
    a.expect(b"0012B SENT HELLO").await;
    // 19-20
    b2.send(b"0004EXIT").await;
    b2.expect(b"0003BYE").await;
    b2.expect_eof().await;
    // 21-22
    a.send(b"0004EXIT").await;
    a.expect(b"0003BYE").await;
    a.expect_eof().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_faults_get_their_errors() {
    let server = start_default().await;
    let addr = server.addr();
    let _b = Wire::named(addr, "B").await;
    let mut a = Wire::connect(addr).await;
    a.send(b"0008MSG A hi").await;
    a.expect_error("NAME_REQUIRED").await;
    a.send(b"0006NAME B").await;
    a.expect_error("NAME_TAKEN").await;
    a.send(b"0006NAME A").await;
    a.expect(b"0007HELLO A").await;
    a.send(b"0008MSG Z hi").await;
    a.expect_error("NO_SUCH_USER").await;
    a.send(b"0005HELLO").await;
    a.expect_error("UNKNOWN_COMMAND").await;
    a.send(b"0002\xff\xfe").await;
    a.expect_error("BAD_ENCODING").await;
    a.send(b"00x4EXIT").await;
    a.expect_error("BAD_FRAME").await;
    a.expect_eof().await;
}
