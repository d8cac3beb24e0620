//! Command parsing: arbitrary payloads never panic; what parses re-encodes to the same bytes
//! (canonical spelling) and parses back to the same command (every spelling).
#![no_main]

use confab::protocol::{Command, Spelling};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for spelling in [Spelling::Canonical, Spelling::GetNames, Spelling::Numeric] {
        let Ok(cmd) = Command::parse_with(data, spelling) else {
            if let Err(e) = Command::parse_with(data, spelling) {
                assert!(e.offset <= data.len());
                let _ = e.to_reply().to_payload();
            }
            continue;
        };
        let mut again = Vec::new();
        cmd.encode(spelling, &mut again);
        assert_eq!(again.len(), cmd.encoded_len(spelling));
        assert_eq!(Command::parse_with(&again, spelling).as_ref(), Ok(&cmd));
        if spelling == Spelling::Canonical && data != b"GETNAMES" {
            assert_eq!(again, data);
        }
    }
});
