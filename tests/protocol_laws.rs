//! The laws of the protocol layer, for every dialect, checked with proptest:
//!
//! - decode(encode(x)) == x for frames, commands and replies;
//! - encode(decode(b)) == b for canonical bytes;
//! - arbitrary bytes never panic any decoder;
//! - any split of a byte stream into chunks yields the same frames;
//! - the encoder never produces what the decoder rejects, and sizes are known in advance.
//!
//! The same laws are fuzzed in `fuzz/`.

use bytes::BytesMut;
use confab::protocol::frame::{self, decode_frame};
use confab::protocol::{
    ClientCodec, Command, Dialect, ErrorCode, FrameCodec, Framing, MAX_TEXT_LEN, Message, Name,
    NameList, RESERVED_WORDS, Reply, ServerCodec, Spelling, Text,
};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

fn name() -> impl Strategy<Value = Name> {
    "[A-Za-z][A-Za-z0-9]{0,31}"
        .prop_filter("reserved", |s| !RESERVED_WORDS.contains(&s.as_str()))
        .prop_map(|s| Name::new(&s).expect("the regex only makes valid names"))
}

/// Any characters, control characters and multi-byte ones included, or a long ASCII run.
fn text() -> impl Strategy<Value = Text> {
    prop_oneof![
        4 => proptest::collection::vec(any::<char>(), 1..40)
            .prop_map(|cs| cs.into_iter().collect::<String>()),
        1 => (1..=MAX_TEXT_LEN).prop_map(|n| "x".repeat(n)),
        1 => Just("a".repeat(MAX_TEXT_LEN)),
    ]
    .prop_filter_map("too long in bytes", |s| Text::new(&s).ok())
}

fn message() -> impl Strategy<Value = Message> {
    "[^\\p{Cc}]{1,60}".prop_filter_map("control", |s| Message::new(&s))
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    proptest::sample::select(ErrorCode::ALL.to_vec())
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        name().prop_map(Command::Name),
        Just(Command::GetNames),
        (name(), text()).prop_map(|(to, text)| Command::Msg { to, text }),
        Just(Command::Exit),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        name().prop_map(Reply::Hello),
        (proptest::collection::vec(name(), 0..20), 0u64..100_000)
            .prop_map(|(names, omitted)| Reply::Names(NameList::with_omitted(names, omitted))),
        (name(), text()).prop_map(|(from, text)| Reply::Delivery { from, text }),
        (error_code(), proptest::option::of(message()))
            .prop_map(|(code, message)| Reply::Error { code, message }),
        Just(Reply::Bye),
    ]
}

fn framing() -> impl Strategy<Value = Framing> {
    proptest::sample::select(Framing::all().collect::<Vec<_>>())
}

fn spelling() -> impl Strategy<Value = Spelling> {
    proptest::sample::select(vec![
        Spelling::Canonical,
        Spelling::GetNames,
        Spelling::Numeric,
    ])
}

/// Words that make arbitrary input look like commands and replies often enough to matter.
fn wordy_bytes() -> impl Strategy<Value = Vec<u8>> {
    let word = prop_oneof![
        Just("NAME".to_owned()),
        Just("GET_NAMES".to_owned()),
        Just("GETNAMES".to_owned()),
        Just("MSG".to_owned()),
        Just("EXIT".to_owned()),
        Just("HELLO".to_owned()),
        Just("SENT".to_owned()),
        Just("ERROR".to_owned()),
        Just("BYE".to_owned()),
        Just("BAD_ARGS".to_owned()),
        Just("+3".to_owned()),
        Just("+0".to_owned()),
        Just(String::new()),
        "[A-Za-z][A-Za-z0-9]{0,3}",
        "[^ ]{0,4}",
    ];
    proptest::collection::vec(word, 1..6).prop_map(|ws| ws.join(" ").into_bytes())
}

/// Whether `framing` can carry `payload` (the encoder's own rule, restated for the generator).
fn carries(framing: Framing, payload: &[u8]) -> bool {
    frame::check_payload(framing, payload).is_ok()
}

fn decode_all<D: Decoder>(codec: &mut D, chunks: &[&[u8]]) -> Vec<D::Item>
where
    D::Error: std::fmt::Debug,
{
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(item) = codec.decode(&mut buf).expect("valid stream") {
            out.push(item);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn command_round_trips_in_every_spelling(cmd in command(), spelling in spelling()) {
        let mut payload = Vec::new();
        cmd.encode(spelling, &mut payload);
        prop_assert_eq!(payload.len(), cmd.encoded_len(spelling));
        prop_assert_eq!(Command::parse_with(&payload, spelling), Ok(cmd));
    }

    #[test]
    fn reply_round_trips(reply in reply()) {
        let payload = reply.to_payload();
        prop_assert_eq!(payload.len(), reply.encoded_len());
        prop_assert_eq!(Reply::parse(&payload), Ok(reply));
    }

    #[test]
    fn canonical_command_bytes_re_encode_identically(bytes in wordy_bytes()) {
        if let Ok(cmd) = Command::parse(&bytes) {
            // GETNAMES is accepted (CMD-2) but GET_NAMES is the canonical spelling.
            let expected: &[u8] = if bytes == b"GETNAMES" { b"GET_NAMES" } else { &bytes };
            prop_assert_eq!(cmd.to_payload(), expected);
        }
    }

    #[test]
    fn canonical_reply_bytes_re_encode_identically(bytes in wordy_bytes()) {
        if let Ok(reply) = Reply::parse(&bytes) {
            prop_assert_eq!(reply.to_payload(), bytes);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64),
                                   framing in framing(), spelling in spelling()) {
        let _ = Command::parse_with(&bytes, spelling);
        let _ = Reply::parse(&bytes);
        if let Ok(Some(span)) = decode_frame(framing, &bytes) {
            prop_assert!(span.consumed <= bytes.len());
            prop_assert!(span.start + span.len <= span.consumed);
            prop_assert!(span.len <= framing.max_payload());
        }
        let mut buf = BytesMut::from(&bytes[..]);
        let mut codec = ServerCodec::new(Dialect { framing, spelling });
        while let Ok(Some(_)) = codec.decode(&mut buf) {}
        let mut buf = BytesMut::from(&bytes[..]);
        let mut codec = ClientCodec::new(Dialect { framing, spelling });
        while let Ok(Some(_)) = codec.decode_eof(&mut buf) {}
    }

    #[test]
    fn frames_round_trip_in_every_framing(
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        framing in framing(),
    ) {
        let encoded = frame::frame(framing, &payload);
        prop_assert_eq!(encoded.is_ok(), carries(framing, &payload));
        if let Ok(bytes) = encoded {
            let span = decode_frame(framing, &bytes).expect("own frame").expect("complete");
            prop_assert_eq!(&bytes[span.payload()], &payload[..]);
            prop_assert_eq!(span.consumed, bytes.len());
        }
    }

    /// Raw framing is left out: there, where reads split the stream *is* where messages end.
    #[test]
    fn any_split_of_a_stream_yields_the_same_frames(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..8),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
        framing in framing().prop_filter("raw", |f| *f != Framing::Raw),
    ) {
        let payloads: Vec<Vec<u8>> =
            payloads.into_iter().filter(|p| carries(framing, p)).collect();
        let mut stream = Vec::new();
        for p in &payloads {
            frame::encode_frame(framing, p, &mut stream).expect("checked");
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points.into_iter().chain([stream.len()]) {
            chunks.push(&stream[last..p]);
            last = p;
        }
        let frames = decode_all(&mut FrameCodec::new(framing), &chunks);
        let frames: Vec<Vec<u8>> = frames.into_iter().map(|f| f.to_vec()).collect();
        prop_assert_eq!(frames, payloads);
    }

    #[test]
    fn codecs_round_trip_commands_and_replies(
        cmds in proptest::collection::vec(command(), 1..5),
        replies in proptest::collection::vec(reply(), 1..5),
        framing in framing(),
        spelling in spelling(),
    ) {
        let dialect = Dialect { framing, spelling };
        let mut client = ClientCodec::new(dialect);
        let mut server = ServerCodec::new(dialect);
        let mut wire = BytesMut::new();
        let mut sent = Vec::new();
        for cmd in &cmds {
            if client.encode(cmd, &mut wire).is_ok() {
                sent.push(cmd.clone());
            }
        }
        if framing != Framing::Raw {
            let got: Vec<Command> = decode_all(&mut server, &[&wire])
                .into_iter().map(|r| r.expect("own command")).collect();
            prop_assert_eq!(got, sent);
        }
        let mut wire = BytesMut::new();
        let mut sent = Vec::new();
        for reply in &replies {
            let before = wire.len();
            match server.encode(reply, &mut wire) {
                Ok(()) => sent.push(reply.clone()),
                // A refused reply leaves nothing behind.
                Err(_) => prop_assert_eq!(wire.len(), before),
            }
        }
        if framing != Framing::Raw {
            let got: Vec<Reply> = decode_all(&mut client, &[&wire])
                .into_iter().map(|r| r.expect("own reply")).collect();
            prop_assert_eq!(got, sent);
        }
    }

    #[test]
    fn names_list_fit_is_the_longest_prefix_that_fits(
        names in proptest::collection::vec(name(), 0..40),
        max in 0usize..400,
    ) {
        let list = NameList::fit(&names, max);
        let reply = Reply::Names(list.clone());
        let shown = list.names().len();
        prop_assert_eq!(&names[..shown], list.names());
        prop_assert_eq!(list.omitted() as usize, names.len() - shown);
        if shown > 0 || names.is_empty() {
            prop_assert!(reply.encoded_len() <= max);
        }
        if shown < names.len() {
            // One more name would not fit, with or without a marker for the rest.
            let longer = NameList::with_omitted(
                names[..=shown].to_vec(),
                (names.len() - shown - 1) as u64,
            );
            prop_assert!(Reply::Names(longer).encoded_len() > max);
        }
    }

    #[test]
    fn fitted_replies_fit(reply in reply(), max in 0usize..200) {
        match reply.clone().fit(max) {
            Some(fitted) => {
                prop_assert!(fitted.encoded_len() <= max);
                prop_assert_eq!(Reply::parse(&fitted.to_payload()), Ok(fitted));
            }
            None => prop_assert!(reply.encoded_len() > max),
        }
    }
}

#[test]
fn a_frame_fed_one_byte_at_a_time_appears_only_at_its_last_byte() {
    for framing in Framing::all().filter(|f| *f != Framing::Raw) {
        let payload = "MSG B é".as_bytes(); // 8 bytes: fits even dec1
        let bytes = frame::frame(framing, payload).expect("fits");
        let mut codec = FrameCodec::new(framing);
        let mut buf = BytesMut::new();
        for (i, b) in bytes.iter().enumerate() {
            buf.extend_from_slice(&[*b]);
            let got = codec.decode(&mut buf).expect("valid prefix");
            if i + 1 < bytes.len() {
                assert_eq!(got, None, "{framing}: frame early at byte {i}");
            } else {
                assert_eq!(got.as_deref(), Some(payload), "{framing}");
            }
        }
    }
}

#[test]
fn several_frames_in_one_read_all_come_out() {
    let stream = b"0006NAME A0009GET_NAMES0004EXIT";
    let mut codec = ServerCodec::new(Dialect::CANONICAL);
    let got: Vec<Command> = decode_all(&mut codec, &[stream])
        .into_iter()
        .map(|r| r.expect("valid"))
        .collect();
    let a = Name::new("A").expect("valid");
    assert_eq!(
        got,
        vec![Command::Name(a), Command::GetNames, Command::Exit]
    );
}

#[test]
fn a_bad_payload_is_an_item_and_the_stream_goes_on() {
    let mut codec = ServerCodec::new(Dialect::CANONICAL);
    let got = decode_all(&mut codec, &[b"0002\xff\xfe0004EXIT0003FOO"]);
    let codes: Vec<Option<ErrorCode>> = got
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.code()))
        .collect();
    assert_eq!(
        codes,
        vec![
            Some(ErrorCode::BadEncoding),
            None,
            Some(ErrorCode::UnknownCommand)
        ]
    );
}

#[test]
fn a_bad_header_ends_the_stream_with_its_offset() {
    let mut codec = ServerCodec::new(Dialect::CANONICAL);
    let mut buf = BytesMut::from(&b"0004EXIT00x4EXIT"[..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Ok(Some(Ok(Command::Exit)))
    ));
    match codec.decode(&mut buf) {
        Err(confab::protocol::CodecError::Frame(e)) => assert_eq!(e.offset(), 2),
        other => panic!("expected a frame error, got {other:?}"),
    }
}

#[test]
fn a_stream_that_ends_mid_frame_is_truncated_not_a_frame() {
    let mut codec = FrameCodec::new(Framing::CANONICAL);
    let mut buf = BytesMut::from(&b"0010NAME"[..]);
    assert_eq!(codec.decode(&mut buf).ok(), Some(None));
    match codec.decode_eof(&mut buf) {
        Err(confab::protocol::CodecError::Truncated { buffered }) => assert_eq!(buffered, 8),
        other => panic!("expected truncation, got {other:?}"),
    }
    // And a clean end is just the end.
    let mut empty = BytesMut::new();
    assert_eq!(codec.decode_eof(&mut empty).ok(), Some(None));
}

#[test]
fn a_huge_declared_length_reserves_nothing() {
    let framing = Framing::Binary(confab::protocol::BinaryWidth::Eight);
    let mut codec = FrameCodec::new(framing);
    let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..]);
    let before = buf.capacity();
    assert!(codec.decode(&mut buf).is_err());
    assert_eq!(buf.capacity(), before);
}

#[test]
fn a_payload_over_the_limit_is_refused_and_leaves_nothing_behind() {
    let mut codec = FrameCodec::new(Framing::Decimal(
        confab::protocol::DecimalWidth::new(2).expect("valid width"),
    ));
    let mut dst = BytesMut::from(&b"keep"[..]);
    let long = [b'a'; 100];
    assert!(codec.encode(&long[..], &mut dst).is_err());
    assert_eq!(&dst[..], b"keep");
}
