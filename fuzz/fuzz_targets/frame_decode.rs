//! Frame decoding in every framing: arbitrary bytes never panic, spans stay in bounds, nothing
//! over the limit comes out, and feeding the same bytes in chunks yields the same frames.
#![no_main]

use bytes::BytesMut;
use confab::protocol::{FrameCodec, Framing};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fn frames(framing: Framing, chunks: &[&[u8]]) -> (Vec<Vec<u8>>, bool) {
    let mut codec = FrameCodec::new(framing);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(frame.len() <= framing.max_payload());
                    out.push(frame.to_vec());
                }
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let all: Vec<Framing> = Framing::all().collect();
    let framing = all[usize::from(selector) % all.len()];
    let Some((&step, stream)) = rest.split_first() else {
        return;
    };
    let whole = frames(framing, &[stream]);
    // Raw framing is defined by read boundaries, so only the other framings must agree.
    if framing != Framing::Raw {
        let step = usize::from(step).max(1);
        let chunks: Vec<&[u8]> = stream.chunks(step).collect();
        let split = frames(framing, &chunks);
        assert_eq!(whole, split, "{framing}: chunks of {step}");
    }
});
