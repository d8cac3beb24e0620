//! What a benchmark text carries, so that its recipient can check it.
//!
//! ```text
//! text    = sender SP recipient SP seq SP sent-ns [SP *"."]   ; padded to --size bytes
//! sender, recipient, seq, sent-ns = 1*16HEXDIG                ; lowercase hexadecimal
//! ```
//!
//! `sender` and `recipient` are client indexes, `seq` counts the messages from this sender to
//! this recipient (0, 1, 2, ...), and `sent-ns` is the send time in nanoseconds since the run
//! began. The recipient checks that the text was meant for it, that the pair's sequence has no
//! gap, duplicate or inversion, and how long the trip took. The same text travels through
//! every target: a confab `MSG`, or a Redis `PUBLISH`, which has no sender field of its own.

use std::fmt;

/// The checkable content of one benchmark text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The sending client's index.
    pub sender: u32,
    /// The receiving client's index.
    pub recipient: u32,
    /// The number of earlier messages from `sender` to `recipient`.
    pub seq: u32,
    /// When the message was sent (or, with a rate limit, was due), in nanoseconds since the
    /// run's epoch.
    pub sent_ns: u64,
}

/// Why a received text is not a [`Stamp`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field} of a benchmark text is not lowercase hexadecimal")]
pub struct StampError {
    /// Which field failed, counting from 0.
    pub field: usize,
}

/// The padding byte after the fields.
const PAD: u8 = b'.';

impl Stamp {
    /// Appends the text for this stamp to `out`, padded with `.` to at least `size` bytes.
    /// The fields alone take [`Stamp::encoded_len`] bytes; a smaller `size` is not reached.
    pub fn write(&self, size: usize, out: &mut Vec<u8>) {
        let start = out.len();
        put_hex(u64::from(self.sender), out);
        out.push(b' ');
        put_hex(u64::from(self.recipient), out);
        out.push(b' ');
        put_hex(u64::from(self.seq), out);
        out.push(b' ');
        put_hex(self.sent_ns, out);
        let written = out.len() - start;
        // A separator and at least one padding byte, or nothing.
        if written + 2 <= size {
            out.push(b' ');
            out.resize(start + size, PAD);
        }
    }

    /// The length of the text without padding.
    pub fn encoded_len(&self) -> usize {
        hex_len(u64::from(self.sender))
            + hex_len(u64::from(self.recipient))
            + hex_len(u64::from(self.seq))
            + hex_len(self.sent_ns)
            + 3
    }

    /// Reads a stamp from a received text, ignoring the padding.
    pub fn parse(text: &[u8]) -> Result<Stamp, StampError> {
        let mut fields = text.split(|&b| b == b' ');
        let mut next = |field: usize, max: u64| -> Result<u64, StampError> {
            fields
                .next()
                .and_then(parse_hex)
                .filter(|&v| v <= max)
                .ok_or(StampError { field })
        };
        let sender = next(0, u64::from(u32::MAX))? as u32;
        let recipient = next(1, u64::from(u32::MAX))? as u32;
        let seq = next(2, u64::from(u32::MAX))? as u32;
        let sent_ns = next(3, u64::MAX)?;
        match fields.next() {
            None => {}
            Some(pad) if !pad.is_empty() && pad.iter().all(|&b| b == PAD) => {}
            Some(_) => return Err(StampError { field: 4 }),
        }
        if fields.next().is_some() {
            return Err(StampError { field: 5 });
        }
        Ok(Stamp {
            sender,
            recipient,
            seq,
            sent_ns,
        })
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:x} {:x} {:x} {:x}",
            self.sender, self.recipient, self.seq, self.sent_ns
        )
    }
}

/// The number of lowercase hex digits of `v` (at least one).
fn hex_len(v: u64) -> usize {
    if v == 0 {
        1
    } else {
        (64 - v.leading_zeros() as usize).div_ceil(4)
    }
}

fn put_hex(v: u64, out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let n = hex_len(v);
    for i in (0..n).rev() {
        out.push(DIGITS[((v >> (4 * i)) & 0xf) as usize]);
    }
}

/// `1*16HEXDIG`, lowercase only, so that each value has one spelling.
fn parse_hex(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 16 {
        return None;
    }
    field.iter().try_fold(0u64, |acc, &b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some((acc << 4) | u64::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(stamp: Stamp, size: usize) -> Vec<u8> {
        let mut out = Vec::new();
        stamp.write(size, &mut out);
        out
    }

    const S: Stamp = Stamp {
        sender: 0x2710,
        recipient: 3,
        seq: 0xabc,
        sent_ns: 0x1_0000_0000,
    };

    #[test]
    fn text_is_hex_fields_padded_to_size() {
        assert_eq!(text(S, 0), b"2710 3 abc 100000000");
        assert_eq!(text(S, 24), b"2710 3 abc 100000000 ...");
        assert_eq!(text(S, 32).len(), 32);
        assert_eq!(S.encoded_len(), 20);
    }

    #[test]
    fn a_size_below_the_fields_leaves_them_whole() {
        assert_eq!(text(S, 5), b"2710 3 abc 100000000");
        // One byte more than the fields cannot hold a separator and padding: no padding.
        assert_eq!(text(S, 21), b"2710 3 abc 100000000");
        assert_eq!(text(S, 22), b"2710 3 abc 100000000 .");
    }

    #[test]
    fn written_text_parses_back_to_its_stamp() {
        for size in [0, 20, 21, 22, 32, 200] {
            assert_eq!(Stamp::parse(&text(S, size)), Ok(S), "size {size}");
        }
        let extreme = Stamp {
            sender: u32::MAX,
            recipient: 0,
            seq: u32::MAX,
            sent_ns: u64::MAX,
        };
        assert_eq!(Stamp::parse(&text(extreme, 64)), Ok(extreme));
    }

    #[test]
    fn texts_that_are_not_stamps_are_refused_with_the_field() {
        let cases: [(&[u8], usize); 8] = [
            (b"", 0),
            (b"1 2 3", 3),
            (b"1 2 3 x", 3),
            (b"1 2 3 4 ..x", 4),
            (b"1 2 3 4 .. .", 5),
            (b"1 2 3 4 ", 4),
            (b"1 2 3 FF", 3),
            (b"100000000 2 3 4", 0),
        ];
        for (input, field) in cases {
            assert_eq!(
                Stamp::parse(input),
                Err(StampError { field }),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
