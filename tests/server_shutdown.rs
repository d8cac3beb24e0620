//! Shutdown under full traffic (POLICY-4, POLICY-6, POLICY-7): a hundred clients send and read
//! as fast as they can when the server stops. Each keeps a window of its messages in flight
//! (it sends a batch when it has read as many deliveries), as a busy client that reads does:
//! without one, writers on a loaded machine outrun their own readers and are cut as slow
//! consumers (POLICY-5), which is another policy. Every client that reads must get
//! `ERROR SHUTTING_DOWN` (the bar is 99 %: one may lose a race with the kernel), after whole
//! frames only, then end-of-stream rather than a reset.

mod server_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use confab::protocol::Reply;
use server_support::{GUARD, Wire, frame, start_default};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::Notify;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

const CLIENTS: usize = 100;

/// Messages a client may have sent beyond those it has received.
const WINDOW: usize = 40;

/// Deliveries a client has read, and a wake-up for its writer.
type Progress = Arc<(AtomicUsize, Notify)>;

/// How one client's connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The notice, then end-of-stream.
    Notice,
    /// The notice, then a reset (the notice was read all the same).
    NoticeThenReset,
    /// No notice: end-of-stream or a reset between frames.
    Lost,
    /// The stream ended inside a frame (POLICY-6).
    CutFrame,
    /// A frame that is not a reply, or anything after the notice.
    Wrong,
}

/// Reads frames until the end; `busy` is told when the first delivery arrives.
async fn read_to_end(
    mut rd: OwnedReadHalf,
    busy: Arc<(AtomicUsize, Notify)>,
    read: Progress,
    stop: CancellationToken,
) -> Ending {
    let mut first = true;
    let mut noticed = false;
    let mut header = [0u8; 4];
    loop {
        match rd.read(&mut header[..1]).await {
            Ok(0) if noticed => return Ending::Notice,
            Ok(0) => return Ending::Lost,
            Err(_) if noticed => return Ending::NoticeThenReset,
            Err(_) => return Ending::Lost,
            Ok(_) => {}
        }
        if noticed {
            return Ending::Wrong;
        }
        if rd.read_exact(&mut header[1..]).await.is_err() {
            return Ending::CutFrame;
        }
        let Some(len) = std::str::from_utf8(&header)
            .ok()
            .and_then(|h| h.parse::<usize>().ok())
        else {
            return Ending::Wrong;
        };
        let mut payload = vec![0u8; len];
        if rd.read_exact(&mut payload).await.is_err() {
            return Ending::CutFrame;
        }
        match Reply::parse(&payload) {
            Ok(Reply::Error { code, .. }) if code.as_str() == "SHUTTING_DOWN" => {
                noticed = true;
                stop.cancel();
            }
            Ok(Reply::Delivery { .. }) => {
                read.0.fetch_add(1, Ordering::AcqRel);
                read.1.notify_one();
                if std::mem::take(&mut first) {
                    busy.0.fetch_add(1, Ordering::AcqRel);
                    busy.1.notify_one();
                }
            }
            _ => return Ending::Wrong,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_full_traffic_reaches_busy_readers_with_whole_frames() {
    let server = start_default().await;
    let addr = server.addr();
    let mut wires = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        wires.push(Wire::named(addr, &format!("c{i}")).await);
    }
    let busy = Arc::new((AtomicUsize::new(0), Notify::new()));
    let mut clients = tokio::task::JoinSet::new();
    for (i, w) in wires.into_iter().enumerate() {
        let (rd, mut wr) = w.stream.into_split();
        let stop = CancellationToken::new();
        // Ten messages of 500 bytes to the next client, again and again, until the notice.
        let text = "z".repeat(500);
        let batch: Vec<u8> = (0..10)
            .flat_map(|_| frame(format!("MSG c{} {text}", (i + 1) % CLIENTS)))
            .collect();
        let writing = stop.clone();
        let read: Progress = Arc::new((AtomicUsize::new(0), Notify::new()));
        let credit = Arc::clone(&read);
        tokio::spawn(async move {
            let mut sent = 0;
            loop {
                // The window: wait until enough deliveries have been read.
                while sent >= credit.0.load(Ordering::Acquire) + WINDOW {
                    tokio::select! {
                        () = writing.cancelled() => return,
                        () = credit.1.notified() => {}
                    }
                }
                tokio::select! {
                    () = writing.cancelled() => break,
                    r = wr.write_all(&batch) => if r.is_err() { break },
                }
                sent += 10;
            }
            // Dropping the write half half-closes: the server's linger sees the end.
        });
        clients.spawn(read_to_end(rd, Arc::clone(&busy), read, stop));
    }
    // Everyone is sending and receiving.
    timeout(GUARD, async {
        while busy.0.load(Ordering::Acquire) < CLIENTS {
            busy.1.notified().await;
        }
    })
    .await
    .expect("every client receives deliveries");

    let stopped = tokio::spawn(server.shutdown());
    let mut endings = Vec::with_capacity(CLIENTS);
    timeout(GUARD, async {
        while let Some(ending) = clients.join_next().await {
            endings.push(ending.expect("a client task"));
        }
    })
    .await
    .expect("every connection ends");
    timeout(GUARD, stopped)
        .await
        .expect("the server stops")
        .expect("the server task")
        .expect("a graceful shutdown is Ok");

    let count = |e: Ending| endings.iter().filter(|&&x| x == e).count();
    let noticed = count(Ending::Notice) + count(Ending::NoticeThenReset);
    eprintln!(
        "{} notices then end-of-stream, {} notices then a reset, {} lost",
        count(Ending::Notice),
        count(Ending::NoticeThenReset),
        count(Ending::Lost)
    );
    assert_eq!(count(Ending::CutFrame), 0, "frames cut: {endings:?}");
    assert_eq!(count(Ending::Wrong), 0, "wrong frames: {endings:?}");
    assert!(
        noticed * 100 >= CLIENTS * 99,
        "{noticed} of {CLIENTS} got the notice: {endings:?}"
    );
}
