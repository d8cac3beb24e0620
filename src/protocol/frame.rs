//! Framing: where one message ends and the next begins (PROTOCOL.md §2 and §11).
//!
//! The canonical frame is four ASCII decimal digits, zero-padded, then the payload:
//!
//! ```text
//! +---------+---------+---------+---------+--------------------------------+
//! | digit   | digit   | digit   | digit   | payload: exactly LEN bytes     |
//! | '0'-'9' | '0'-'9' | '0'-'9' | '0'-'9' | (UTF-8, 0 to 9999 bytes)       |
//! +---------+---------+---------+---------+--------------------------------+
//! ```
//!
//! Real course servers differ, so framing is a [`Framing`] value: decimal headers of 1 to 9
//! digits, big-endian binary headers of 1, 2, 4 or 8 bytes, or no header at all (`raw`: one
//! read is one message; `line`: a message ends with `\n`).
//!
//! This is the only streaming layer. [`decode_frame`] looks at the bytes received so far and
//! answers where the first frame lies, `None` for "need more bytes", or a [`FrameError`] that
//! ends the stream. It checks the declared length against the dialect's limit before anyone
//! allocates room for the payload (FRAME-8, DIALECT-3).

use nom::IResult;
use nom::Parser;
use nom::bytes::streaming::take;
use nom::character::complete::{digit1, hex_digit1};
use nom::combinator::all_consuming;

use super::dialect::{BinaryWidth, Framing};

/// Why a stream cannot be read on: the connection ends (FRAME-5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A byte of a decimal length header is not an ASCII digit.
    #[error("byte {offset} of the length header is {}, not an ASCII digit", show_byte(*.byte))]
    NotADigit {
        /// The position of the byte within the header.
        offset: usize,
        /// The byte found.
        byte: u8,
    },
    /// The header declares more than the dialect's limit (DIALECT-3); for `line` framing, no
    /// newline came within the limit.
    #[error("declared length {declared} is over the limit of {max} bytes")]
    TooLarge {
        /// The declared length (for `line`, the bytes seen without a newline).
        declared: u64,
        /// The dialect's limit.
        max: usize,
    },
}

impl FrameError {
    /// The byte offset within the frame where decoding failed.
    pub fn offset(&self) -> usize {
        match self {
            FrameError::NotADigit { offset, .. } => *offset,
            FrameError::TooLarge { .. } => 0,
        }
    }
}

/// Why a payload cannot be put in a frame of some dialect. The encoder refuses rather than
/// send bytes that the decoder would reject (FRAME-7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The payload is longer than the dialect's limit.
    #[error("payload of {len} bytes is over the {framing} limit of {max} bytes")]
    TooLarge {
        len: usize,
        max: usize,
        framing: Framing,
    },
    /// `raw` framing cannot carry an empty payload: nothing would be sent.
    #[error("raw framing cannot carry an empty payload")]
    EmptyRaw,
    /// `line` framing cannot carry a `\n`, or a `\r` at the end.
    #[error("line framing cannot carry byte {offset} ({})", show_byte(*.byte))]
    LineBreak { offset: usize, byte: u8 },
}

/// Where the first frame of a buffer lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSpan {
    /// Offset of the payload in the buffer.
    pub start: usize,
    /// Payload length.
    pub len: usize,
    /// Bytes that the whole frame takes, header and trailer included.
    pub consumed: usize,
}

impl FrameSpan {
    /// The payload range within the buffer.
    pub fn payload(&self) -> std::ops::Range<usize> {
        self.start..self.start + self.len
    }
}

fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("{:?}", b as char)
    } else {
        format!("0x{b:02x}")
    }
}

/// `length = N DIGIT` (streaming): exactly `width` ASCII digits.
fn decimal_length(width: usize) -> impl Fn(&[u8]) -> IResult<&[u8], u64> {
    move |input| {
        let (rest, header) = take(width).parse(input)?;
        let (_, digits) = all_consuming(digit1).parse(header)?;
        // At most nine digits: no overflow.
        let value = digits
            .iter()
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        Ok((rest, value))
    }
}

/// `length = N HEXDIG` (streaming): exactly `width` hexadecimal digits, in either case.
fn hex_length(width: usize) -> impl Fn(&[u8]) -> IResult<&[u8], u64> {
    move |input| {
        let (rest, header) = take(width).parse(input)?;
        let (_, digits) = all_consuming(hex_digit1).parse(header)?;
        // At most nine digits: no overflow.
        let value = digits.iter().fold(0u64, |acc, d| {
            acc * 16 + u64::from(char::from(*d).to_digit(16).unwrap_or(0))
        });
        Ok((rest, value))
    }
}

/// `length = N OCTET` (streaming): an N-byte unsigned integer, big-endian (`binN`) or
/// little-endian (`binNle`).
fn binary_length(width: BinaryWidth, little: bool) -> impl Fn(&[u8]) -> IResult<&[u8], u64> {
    move |input| {
        let (rest, bytes) = take(usize::from(width.get())).parse(input)?;
        let push = |acc: u64, b: &u8| (acc << 8) | u64::from(*b);
        let value = if little {
            bytes.iter().rev().fold(0, push)
        } else {
            bytes.iter().fold(0, push)
        };
        Ok((rest, value))
    }
}

/// Reads the length header: `Ok(None)` when more bytes are needed.
fn header(framing: Framing, input: &[u8]) -> Result<Option<u64>, FrameError> {
    let parsed = match framing {
        Framing::Decimal(w) => decimal_length(usize::from(w.get()))(input),
        Framing::Hex(w) => hex_length(usize::from(w.get()))(input),
        Framing::Binary(w) => binary_length(w, false)(input),
        Framing::BinaryLe(w) => binary_length(w, true)(input),
        Framing::Raw | Framing::Line => return Ok(Some(0)),
    };
    // Only a header of digits can be wrong, and a partial one can already be seen to be.
    let digit: fn(&u8) -> bool = match framing {
        Framing::Decimal(_) => u8::is_ascii_digit,
        Framing::Hex(_) => u8::is_ascii_hexdigit,
        _ => |_| true,
    };
    let not_a_digit = || {
        let head = &input[..input.len().min(framing.header_len())];
        head.iter()
            .position(|b| !digit(b))
            .map(|offset| FrameError::NotADigit {
                offset,
                byte: head[offset],
            })
    };
    match parsed {
        Ok((_, len)) => Ok(Some(len)),
        Err(nom::Err::Incomplete(_)) => match not_a_digit() {
            Some(e) => Err(e),
            None => Ok(None),
        },
        Err(nom::Err::Error(_) | nom::Err::Failure(_)) => {
            Err(not_a_digit().unwrap_or(FrameError::NotADigit {
                offset: 0,
                byte: input.first().copied().unwrap_or_default(),
            }))
        }
    }
}

/// Finds the first frame in `input`.
///
/// `Ok(None)` means the bytes so far are a valid beginning of a frame and more are needed: a
/// partial header or payload is never an error. A header that can already be seen to be wrong
/// is an error at once, without waiting for the rest of it.
///
/// For `raw` framing every non-empty input is one message, cut at the limit; for `line`, a
/// message ends at the first `\n`, and a `\r` just before it is not part of the payload.
pub fn decode_frame(framing: Framing, input: &[u8]) -> Result<Option<FrameSpan>, FrameError> {
    let max = framing.max_payload();
    match framing {
        Framing::Raw => {
            if input.is_empty() {
                return Ok(None);
            }
            let len = input.len().min(max);
            return Ok(Some(FrameSpan {
                start: 0,
                len,
                consumed: len,
            }));
        }
        Framing::Line => {
            // A payload of `max` bytes may be followed by `\r\n`: look that far and no further.
            let window = &input[..input.len().min(max + 2)];
            return match window.iter().position(|&b| b == b'\n') {
                Some(nl) => {
                    let len = if nl > 0 && window[nl - 1] == b'\r' {
                        nl - 1
                    } else {
                        nl
                    };
                    if len > max {
                        return Err(FrameError::TooLarge {
                            declared: len as u64,
                            max,
                        });
                    }
                    Ok(Some(FrameSpan {
                        start: 0,
                        len,
                        consumed: nl + 1,
                    }))
                }
                None if input.len() > max + 1 => Err(FrameError::TooLarge {
                    declared: input.len() as u64,
                    max,
                }),
                None => Ok(None),
            };
        }
        Framing::Decimal(_) | Framing::Binary(_) | Framing::BinaryLe(_) | Framing::Hex(_) => {}
    }
    let Some(declared) = header(framing, input)? else {
        return Ok(None);
    };
    // FRAME-8: the limit is checked before anyone allocates room for the payload.
    if declared > max as u64 {
        return Err(FrameError::TooLarge { declared, max });
    }
    let start = framing.header_len();
    let len = declared as usize;
    // `take` states the rule; the slice it returns is not needed.
    match take::<usize, &[u8], nom::error::Error<&[u8]>>(len).parse(&input[start..]) {
        Ok(_) => Ok(Some(FrameSpan {
            start,
            len,
            consumed: start + len,
        })),
        Err(_) => Ok(None),
    }
}

/// As [`decode_frame`], but a `decN` length field may be padded with spaces instead of zeros
/// (DIALECT-6): `  11` and `11  ` declare 11, the digits together; a field of spaces alone,
/// or with a space between digits, is an error. For a peer reading a server of a dialect, never
/// for a server.
pub fn decode_frame_padded(
    framing: Framing,
    input: &[u8],
) -> Result<Option<FrameSpan>, FrameError> {
    let Framing::Decimal(width) = framing else {
        return decode_frame(framing, input);
    };
    let width = usize::from(width.get());
    let head = &input[..input.len().min(width)];
    if let Some(offset) = head.iter().position(|b| !b.is_ascii_digit() && *b != b' ') {
        return Err(FrameError::NotADigit {
            offset,
            byte: head[offset],
        });
    }
    if head.len() < width {
        return Ok(None);
    }
    let first = head.iter().position(u8::is_ascii_digit);
    let last = head.iter().rposition(u8::is_ascii_digit);
    let (Some(first), Some(last)) = (first, last) else {
        return Err(FrameError::NotADigit {
            offset: width - 1,
            byte: b' ',
        });
    };
    if let Some(gap) = head[first..=last].iter().position(|b| *b == b' ') {
        return Err(FrameError::NotADigit {
            offset: first + gap,
            byte: b' ',
        });
    }
    // At most nine digits: the value fits.
    let declared = head[first..=last]
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    let max = framing.max_payload();
    if declared > max as u64 {
        return Err(FrameError::TooLarge { declared, max });
    }
    let len = declared as usize;
    if input.len() < width + len {
        return Ok(None);
    }
    Ok(Some(FrameSpan {
        start: width,
        len,
        consumed: width + len,
    }))
}

/// How many bytes the frame whose header starts `input` will take in all, once the header is
/// complete and valid; used to reserve buffer space after the limit has been checked.
pub fn frame_len_hint(framing: Framing, input: &[u8]) -> Option<usize> {
    match framing {
        Framing::Decimal(_) | Framing::Binary(_) | Framing::BinaryLe(_) | Framing::Hex(_) => {
            match header(framing, input) {
                Ok(Some(len)) if len <= framing.max_payload() as u64 => {
                    Some(framing.header_len() + len as usize)
                }
                _ => None,
            }
        }
        Framing::Raw | Framing::Line => None,
    }
}

/// Checks that `payload` can be framed in `framing`.
pub fn check_payload(framing: Framing, payload: &[u8]) -> Result<(), EncodeError> {
    let max = framing.max_payload();
    if payload.len() > max {
        return Err(EncodeError::TooLarge {
            len: payload.len(),
            max,
            framing,
        });
    }
    match framing {
        Framing::Raw if payload.is_empty() => Err(EncodeError::EmptyRaw),
        Framing::Line => {
            if let Some(offset) = payload.iter().position(|&b| b == b'\n') {
                return Err(EncodeError::LineBreak {
                    offset,
                    byte: b'\n',
                });
            }
            if payload.last() == Some(&b'\r') {
                return Err(EncodeError::LineBreak {
                    offset: payload.len() - 1,
                    byte: b'\r',
                });
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Writes the header for a payload of `len` bytes (already checked against the limit).
pub(crate) fn write_header(framing: Framing, len: usize, out: &mut [u8]) {
    write_declared(framing, len as u64, out);
}

fn write_declared(framing: Framing, declared: u64, out: &mut [u8]) {
    match framing {
        Framing::Decimal(_) => {
            let mut n = declared;
            for slot in out.iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
        }
        Framing::Binary(_) => {
            let bytes = declared.to_be_bytes();
            out.copy_from_slice(&bytes[bytes.len() - out.len()..]);
        }
        Framing::BinaryLe(_) => {
            let bytes = declared.to_le_bytes();
            out.copy_from_slice(&bytes[..out.len()]);
        }
        Framing::Hex(_) => {
            let mut n = declared;
            for slot in out.iter_mut().rev() {
                *slot = b"0123456789abcdef"[(n % 16) as usize];
                n /= 16;
            }
        }
        Framing::Raw | Framing::Line => {}
    }
}

/// A length header declaring `declared` bytes, even over the limit, for peers that test
/// what a receiver does with one (the encoder never writes such a header). `None` when the
/// framing has no header or cannot express the number.
pub fn declaring(framing: Framing, declared: u64) -> Option<Vec<u8>> {
    if matches!(framing, Framing::Raw | Framing::Line) || declared > framing.capacity() {
        return None;
    }
    let mut out = vec![0; framing.header_len()];
    write_declared(framing, declared, &mut out);
    Some(out)
}

/// Appends one frame holding `payload` to `out`.
pub fn encode_frame(
    framing: Framing,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    check_payload(framing, payload)?;
    let at = out.len();
    out.resize(at + framing.header_len(), 0);
    write_header(framing, payload.len(), &mut out[at..]);
    out.extend_from_slice(payload);
    if framing == Framing::Line {
        out.push(b'\n');
    }
    Ok(())
}

/// One frame holding `payload`, as a new vector.
pub fn frame(framing: Framing, payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(framing.header_len() + payload.len() + 1);
    encode_frame(framing, payload, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::dialect::DecimalWidth;

    fn dec(w: u8) -> Framing {
        Framing::Decimal(DecimalWidth::new(w).unwrap())
    }

    fn bin(w: u8) -> Framing {
        Framing::Binary(BinaryWidth::new(w).unwrap())
    }

    #[test]
    fn canonical_frame_is_four_digits_then_payload() {
        assert_eq!(frame(Framing::CANONICAL, b"NAME A").unwrap(), b"0006NAME A");
        assert_eq!(frame(Framing::CANONICAL, b"").unwrap(), b"0000");
    }

    #[test]
    fn read_complete_frame_reports_its_span() {
        let span = decode_frame(Framing::CANONICAL, b"0006NAME Axyz")
            .unwrap()
            .unwrap();
        assert_eq!(
            span,
            FrameSpan {
                start: 4,
                len: 6,
                consumed: 10
            }
        );
    }

    #[test]
    fn read_incomplete_head_needs_more() {
        for input in [&b""[..], b"0", b"00", b"000"] {
            assert_eq!(
                decode_frame(Framing::CANONICAL, input),
                Ok(None),
                "{input:?}"
            );
        }
    }

    #[test]
    fn read_incomplete_payload_needs_more() {
        assert_eq!(decode_frame(Framing::CANONICAL, b"0006NAME "), Ok(None));
    }

    #[test]
    fn read_non_digit_header_fails_at_once_with_its_offset() {
        assert_eq!(
            decode_frame(Framing::CANONICAL, b"00x"),
            Err(FrameError::NotADigit {
                offset: 2,
                byte: b'x'
            })
        );
        assert_eq!(
            decode_frame(Framing::CANONICAL, b"-001"),
            Err(FrameError::NotADigit {
                offset: 0,
                byte: b'-'
            })
        );
        assert_eq!(
            decode_frame(Framing::CANONICAL, b" 12 abc"),
            Err(FrameError::NotADigit {
                offset: 0,
                byte: b' '
            })
        );
    }

    #[test]
    fn read_partial_binary_header_needs_more_even_with_zero_bytes() {
        // Regression: a partial binary header was checked for decimal digits.
        assert_eq!(decode_frame(bin(2), b"\x00"), Ok(None));
        assert_eq!(decode_frame(bin(8), b"\x00\x00\x00"), Ok(None));
    }

    #[test]
    fn read_max_frame_len_and_one_past_it() {
        // dec4 cannot describe one past 9999; dec5 can.
        let mut input = b"9999".to_vec();
        input.resize(4 + 9999, b'a');
        let span = decode_frame(Framing::CANONICAL, &input).unwrap().unwrap();
        assert_eq!(span.len, 9999);
        assert_eq!(
            decode_frame(dec(5), b"10000"),
            Err(FrameError::TooLarge {
                declared: 10000,
                max: 9999
            })
        );
        assert_eq!(decode_frame(dec(5), b"09999"), Ok(None));
    }

    #[test]
    fn read_absurd_binary_length_fails_before_any_payload() {
        assert_eq!(
            decode_frame(bin(8), &[0xff; 8]),
            Err(FrameError::TooLarge {
                declared: u64::MAX,
                max: 9999
            })
        );
        assert_eq!(
            decode_frame(bin(4), &[0, 0, 0x27, 0x10]),
            Err(FrameError::TooLarge {
                declared: 10000,
                max: 9999
            })
        );
    }

    #[test]
    fn limits_follow_header_capacity() {
        assert_eq!(dec(1).max_payload(), 9);
        assert_eq!(dec(2).max_payload(), 99);
        assert_eq!(dec(3).max_payload(), 999);
        assert_eq!(dec(4).max_payload(), 9999);
        assert_eq!(dec(9).max_payload(), 9999);
        assert_eq!(bin(1).max_payload(), 255);
        assert_eq!(bin(2).max_payload(), 9999);
        assert_eq!(Framing::Raw.max_payload(), 9999);
    }

    #[test]
    fn write_over_limit_is_refused() {
        assert_eq!(
            frame(dec(2), &[b'a'; 100]),
            Err(EncodeError::TooLarge {
                len: 100,
                max: 99,
                framing: dec(2)
            })
        );
        assert!(frame(dec(2), &[b'a'; 99]).is_ok());
    }

    #[test]
    fn headers_can_declare_more_than_the_limit_but_not_more_than_they_hold() {
        assert_eq!(declaring(dec(5), 10_000).as_deref(), Some(&b"10000"[..]));
        assert_eq!(
            declaring(bin(2), 10_000).as_deref(),
            Some(&[0x27, 0x10][..])
        );
        assert_eq!(declaring(dec(2), 100), None);
        assert_eq!(declaring(Framing::Line, 1), None);
    }

    #[test]
    fn a_decimal_length_padded_with_spaces_is_read_only_where_asked() {
        let padded = |input: &[u8]| decode_frame_padded(dec(4), input);
        for input in [
            &b"  11HELLO Alice"[..],
            b"11  HELLO Alice",
            b" 11 HELLO Alice",
            b"0011HELLO Alice",
        ] {
            let span = padded(input).unwrap().unwrap();
            assert_eq!(&input[span.payload()], b"HELLO Alice", "{input:?}");
            assert_eq!(span.consumed, input.len());
        }
        // Strict decoding refuses the same header (FRAME-5).
        assert!(matches!(
            decode_frame(dec(4), b"  11HELLO Alice"),
            Err(FrameError::NotADigit {
                offset: 0,
                byte: b' '
            })
        ));
        // A partial header or payload waits for more; a wrong byte does not.
        assert_eq!(padded(b"  1").unwrap(), None);
        assert_eq!(padded(b"  11HELLO").unwrap(), None);
        assert!(matches!(
            padded(b" x"),
            Err(FrameError::NotADigit {
                offset: 1,
                byte: b'x'
            })
        ));
        // Spaces alone, or between digits, declare nothing.
        assert!(matches!(
            padded(b"    HELLO"),
            Err(FrameError::NotADigit { offset: 3, .. })
        ));
        assert!(matches!(
            padded(b"1 1 HELLO"),
            Err(FrameError::NotADigit { offset: 1, .. })
        ));
        // The limit is checked before the payload is awaited (FRAME-8).
        assert!(matches!(
            decode_frame_padded(dec(6), b"10000 "),
            Err(FrameError::TooLarge {
                declared: 10000,
                max: 9999
            })
        ));
        // Other framings read as ever.
        assert_eq!(
            decode_frame_padded(bin(1), b"\x02hi").unwrap(),
            decode_frame(bin(1), b"\x02hi").unwrap()
        );
    }

    #[test]
    fn binary_header_is_big_endian() {
        assert_eq!(frame(bin(2), b"hi").unwrap(), b"\x00\x02hi");
        assert_eq!(
            frame(bin(8), b"hi").unwrap(),
            b"\x00\x00\x00\x00\x00\x00\x00\x02hi"
        );
        let span = decode_frame(bin(1), b"\x02hi!").unwrap().unwrap();
        assert_eq!(span.payload(), 1..3);
    }

    #[test]
    fn little_endian_binary_header_is_low_byte_first() {
        let le = |w: &str| -> Framing { w.parse().unwrap() };
        assert_eq!(frame(le("bin2le"), b"hi").unwrap(), b"\x02\x00hi");
        assert_eq!(frame(le("bin4le"), b"hi").unwrap(), b"\x02\x00\x00\x00hi");
        let long = vec![b'a'; 300];
        assert_eq!(&frame(le("bin2le"), &long).unwrap()[..2], b"\x2c\x01");
        let span = decode_frame(le("bin2le"), b"\x17\x00Nice to meet you, Alice!")
            .unwrap()
            .unwrap();
        assert_eq!(span.payload(), 2..25);
        // Read big-endian, the same header is a length of 5,888: more bytes needed.
        assert_eq!(
            decode_frame(bin(2), b"\x17\x00Nice to meet you, Alice"),
            Ok(None)
        );
        assert_eq!(decode_frame(le("bin8le"), b"\x02\x00\x00"), Ok(None));
        assert!(
            decode_frame(le("bin4le"), b"\xff\xff\x00\x00").is_err(),
            "over the limit"
        );
        assert_eq!(frame_len_hint(le("bin2le"), b"\x03\x00abc"), Some(5));
    }

    #[test]
    fn hexadecimal_header_is_written_in_lower_case_and_read_in_either() {
        let hex4: Framing = "hex4".parse().unwrap();
        let text = vec![b'a'; 300];
        assert_eq!(&frame(hex4, &text).unwrap()[..4], b"012c");
        assert_eq!(frame(hex4, b"Hello Alice!!").unwrap(), b"000dHello Alice!!");
        let span = decode_frame(hex4, b"000DHello Alice!!").unwrap().unwrap();
        assert_eq!(span.payload(), 4..17);
        assert_eq!(decode_frame(hex4, b"00"), Ok(None));
        assert!(matches!(
            decode_frame(hex4, b"00g1x"),
            Err(FrameError::NotADigit { offset: 2, .. })
        ));
        // Read as decimal, a header with a letter is no length at all.
        assert!(decode_frame(dec(4), b"000dHello Alice!!").is_err());
        assert_eq!(
            Framing::Hex(DecimalWidth::new(2).unwrap()).max_payload(),
            255
        );
    }

    #[test]
    fn raw_read_is_one_message_cut_at_the_limit() {
        let span = decode_frame(Framing::Raw, b"NAME A").unwrap().unwrap();
        assert_eq!(span.len, 6);
        let long = vec![b'a'; 12_000];
        assert_eq!(
            decode_frame(Framing::Raw, &long).unwrap().unwrap().len,
            9999
        );
        assert_eq!(decode_frame(Framing::Raw, b""), Ok(None));
        assert_eq!(frame(Framing::Raw, b""), Err(EncodeError::EmptyRaw));
    }

    #[test]
    fn line_ends_at_newline_and_drops_carriage_return() {
        let span = decode_frame(Framing::Line, b"NAME A\r\nGET")
            .unwrap()
            .unwrap();
        assert_eq!((span.len, span.consumed), (6, 8));
        assert_eq!(decode_frame(Framing::Line, b"NAME A"), Ok(None));
        assert_eq!(frame(Framing::Line, b"BYE").unwrap(), b"BYE\n");
        assert_eq!(
            frame(Framing::Line, b"a\nb"),
            Err(EncodeError::LineBreak {
                offset: 1,
                byte: b'\n'
            })
        );
    }

    #[test]
    fn line_without_newline_past_the_limit_is_too_large() {
        let mut input = vec![b'a'; 9999];
        input.extend_from_slice(b"\r\n");
        assert_eq!(
            decode_frame(Framing::Line, &input).unwrap().unwrap().len,
            9999
        );
        let long = vec![b'a'; 10_001];
        assert!(matches!(
            decode_frame(Framing::Line, &long),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn framing_names_round_trip() {
        for framing in Framing::all() {
            assert_eq!(framing.to_string().parse::<Framing>(), Ok(framing));
        }
        assert_eq!(Framing::all().count(), 27);
        for bad in [
            "dec0", "dec10", "bin3", "", "DEC4", "dec", "bin16", "bin1le", "bin3le", "binle",
            "dec2le", "hex0", "hex10", "HEX4",
        ] {
            assert!(bad.parse::<Framing>().is_err(), "{bad}");
        }
    }
}
