//! Reply parsing: arbitrary payloads never panic, and what parses re-encodes to exactly the
//! same bytes (the reply grammar has one spelling for each value).
#![no_main]

use confab::protocol::Reply;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Reply::parse(data) {
        Ok(reply) => {
            assert_eq!(reply.to_payload(), data);
            assert_eq!(reply.encoded_len(), data.len());
        }
        Err(e) => assert!(e.offset <= data.len()),
    }
});
