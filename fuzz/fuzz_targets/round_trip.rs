//! decode(encode(x)) == x through the codecs: builds commands and replies from fuzz input by
//! validation (so only valid values), frames them in some dialect, and decodes them back.
#![no_main]

use bytes::BytesMut;
use confab::protocol::{
    ClientCodec, Command, Dialect, ErrorCode, Framing, Message, Name, NameList, Reply,
    ServerCodec, Spelling, Text,
};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::{Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    let [a, b, c, rest @ ..] = data else {
        return;
    };
    let framings: Vec<Framing> = Framing::all().filter(|f| *f != Framing::Raw).collect();
    let spellings = [Spelling::Canonical, Spelling::GetNames, Spelling::Numeric];
    let dialect = Dialect {
        framing: framings[usize::from(*a) % framings.len()],
        spelling: spellings[usize::from(*b) % spellings.len()],
    };
    let text = String::from_utf8_lossy(rest);
    let mut words = text.split(' ');
    let first = words.next().unwrap_or_default();
    let name = Name::new(first).ok();
    let body = text.get(first.len() + 1..).unwrap_or_default();

    let command = match (c % 4, &name) {
        (0, Some(n)) => Some(Command::Name(n.clone())),
        (1, _) => Some(Command::GetNames),
        (2, Some(n)) => Text::new(body).ok().map(|t| Command::Msg { to: n.clone(), text: t }),
        (3, _) => Some(Command::Exit),
        _ => None,
    };
    if let Some(cmd) = command {
        let mut wire = BytesMut::new();
        if ClientCodec::new(dialect).encode(&cmd, &mut wire).is_ok() {
            let got = ServerCodec::new(dialect).decode(&mut wire);
            assert!(matches!(got, Ok(Some(Ok(ref c))) if *c == cmd), "{cmd:?}: {got:?}");
            assert!(wire.is_empty());
        }
    }

    let names: Vec<Name> = text.split(' ').filter_map(|w| Name::new(w).ok()).collect();
    let code = ErrorCode::ALL[usize::from(*c) % ErrorCode::ALL.len()];
    let replies = [
        name.clone().map(Reply::Hello),
        Some(Reply::Names(NameList::fit(&names, dialect.max_payload()))),
        name.zip(Text::new(body).ok()).map(|(from, text)| Reply::Delivery { from, text }),
        Some(Reply::Error { code, message: Message::new(&text) }),
        Some(Reply::Bye),
    ];
    for reply in replies.into_iter().flatten() {
        let Some(reply) = reply.fit(dialect.max_payload()) else {
            continue;
        };
        let mut wire = BytesMut::new();
        if ServerCodec::new(dialect).encode(&reply, &mut wire).is_ok() {
            let got = ClientCodec::new(dialect).decode(&mut wire);
            assert!(matches!(got, Ok(Some(Ok(ref r))) if *r == reply), "{reply:?}: {got:?}");
            assert!(wire.is_empty());
        }
    }
});
