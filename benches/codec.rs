//! Micro-benchmarks of the protocol layer: frame decoding, command parsing, reply
//! encoding, and the client side's mirror images, in frames per second and bytes per second.
//!
//! ```sh
//! cargo bench --bench codec
//! ```
//!
//! Each iteration handles a batch of [`BATCH`] frames of the hot path of a chat server: `MSG`
//! commands with 32-byte texts in, deliveries out. The figures are recorded in BENCHMARKS.md.

use bytes::BytesMut;
use confab::protocol::{
    ClientCodec, Command, Dialect, FrameCodec, Framing, Name, Reply, ServerCodec, Text,
};
use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use tokio_util::codec::{Decoder, Encoder};

fn main() {
    divan::main();
}

/// Frames per iteration.
const BATCH: usize = 1000;

/// The framings compared: canonical, binary, and newline-delimited.
const FRAMINGS: &[&str] = &["dec4", "bin2", "line"];

fn framing(name: &str) -> Framing {
    name.parse().unwrap_or(Framing::CANONICAL)
}

/// A 32-byte text like the benchmark's.
fn text(i: usize) -> Text {
    let s = format!("{i:x} {:x} 0 1234abcd ", i % 97);
    let padded = format!("{s:.<32}");
    Text::new(&padded).unwrap()
}

fn name(i: usize) -> Name {
    Name::new(&format!("c{i}")).unwrap()
}

fn commands() -> Vec<Command> {
    (0..BATCH)
        .map(|i| Command::Msg {
            to: name(i % 1000),
            text: text(i),
        })
        .collect()
}

fn deliveries() -> Vec<Reply> {
    (0..BATCH)
        .map(|i| Reply::Delivery {
            from: name(i % 1000),
            text: text(i),
        })
        .collect()
}

/// A stream of `BATCH` framed `MSG` commands.
fn command_stream(framing: Framing) -> BytesMut {
    let mut codec = ClientCodec::new(Dialect::with_framing(framing));
    let mut out = BytesMut::new();
    for c in &commands() {
        codec.encode(c, &mut out).unwrap();
    }
    out
}

/// A stream of `BATCH` framed deliveries.
fn delivery_stream(framing: Framing) -> BytesMut {
    let mut codec = ServerCodec::new(Dialect::with_framing(framing));
    let mut out = BytesMut::new();
    for r in &deliveries() {
        codec.encode(r, &mut out).unwrap();
    }
    out
}

/// Cutting a stream into payloads, without parsing them.
#[divan::bench(args = FRAMINGS)]
fn frame_decode(bencher: Bencher, framing_name: &str) {
    let f = framing(framing_name);
    let stream = command_stream(f);
    bencher
        .counter(ItemsCount::new(BATCH))
        .counter(BytesCount::new(stream.len()))
        .with_inputs(|| stream.clone())
        .bench_local_values(|mut buf| {
            let mut codec = FrameCodec::new(f);
            let mut n = 0;
            while let Ok(Some(frame)) = codec.decode(&mut buf) {
                n += frame.len();
            }
            n
        });
}

/// Parsing complete `MSG` payloads into commands.
#[divan::bench]
fn command_parse(bencher: Bencher) {
    let payloads: Vec<Vec<u8>> = commands().iter().map(Command::to_payload).collect();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    bencher
        .counter(ItemsCount::new(BATCH))
        .counter(BytesCount::new(bytes))
        .bench_local(|| {
            payloads
                .iter()
                .filter(|p| Command::parse(divan::black_box(p)).is_ok())
                .count()
        });
}

/// The server's read path: frames in, commands out.
#[divan::bench(args = FRAMINGS)]
fn server_decode(bencher: Bencher, framing_name: &str) {
    let f = framing(framing_name);
    let stream = command_stream(f);
    bencher
        .counter(ItemsCount::new(BATCH))
        .counter(BytesCount::new(stream.len()))
        .with_inputs(|| stream.clone())
        .bench_local_values(|mut buf| {
            let mut codec = ServerCodec::new(Dialect::with_framing(f));
            let mut n = 0;
            while let Ok(Some(Ok(_))) = codec.decode(&mut buf) {
                n += 1;
            }
            n
        });
}

/// The server's write path: deliveries encoded and framed into one buffer.
#[divan::bench(args = FRAMINGS)]
fn reply_encode(bencher: Bencher, framing_name: &str) {
    let f = framing(framing_name);
    let replies = deliveries();
    let bytes = delivery_stream(f).len();
    bencher
        .counter(ItemsCount::new(BATCH))
        .counter(BytesCount::new(bytes))
        .with_inputs(|| BytesMut::with_capacity(bytes))
        .bench_local_values(|mut out| {
            let mut codec = ServerCodec::new(Dialect::with_framing(f));
            for r in &replies {
                let _ = codec.encode(r, &mut out);
            }
            out
        });
}

/// The client's read path: frames in, replies (deliveries) out.
#[divan::bench]
fn client_decode(bencher: Bencher) {
    let stream = delivery_stream(Framing::CANONICAL);
    bencher
        .counter(ItemsCount::new(BATCH))
        .counter(BytesCount::new(stream.len()))
        .with_inputs(|| stream.clone())
        .bench_local_values(|mut buf| {
            let mut codec = ClientCodec::new(Dialect::CANONICAL);
            let mut n = 0;
            while let Ok(Some(Ok(_))) = codec.decode(&mut buf) {
                n += 1;
            }
            n
        });
}

/// The client's write path: `MSG` commands encoded and framed.
#[divan::bench]
fn command_encode(bencher: Bencher) {
    let cmds = commands();
    let bytes = command_stream(Framing::CANONICAL).len();
    bencher
        .counter(ItemsCount::new(BATCH))
        .counter(BytesCount::new(bytes))
        .with_inputs(|| BytesMut::with_capacity(bytes))
        .bench_local_values(|mut out| {
            let mut codec = ClientCodec::new(Dialect::CANONICAL);
            for c in &cmds {
                let _ = codec.encode(c, &mut out);
            }
            out
        });
}
