//! Just enough RESP (the Redis serialization protocol, version 2) to run the benchmark's
//! workload over Redis pub/sub: commands out, replies and pushes in.
//!
//! ```text
//! value   = simple / error / integer / bulk / array
//! simple  = "+" line          error = "-" line          integer = ":" [-] 1*DIGIT CRLF
//! bulk    = "$" len CRLF len-bytes CRLF / "$-1" CRLF
//! array   = "*" count CRLF count*value / "*-1" CRLF
//! ```
//!
//! Commands go out as arrays of bulk strings. Parsing is streaming like the confab frame
//! layer: a value, "need more bytes" (`Ok(None)`), or an error after which the stream cannot be
//! read on. Lengths are checked before anything is allocated for them.

use bytes::{BufMut, BytesMut};

/// The longest bulk string accepted, in bytes (Redis's own default limit).
pub const MAX_BULK: usize = 512 * 1024 * 1024;

/// The most elements accepted in one array.
pub const MAX_ARRAY: usize = 1 << 20;

/// The deepest nesting of arrays accepted.
pub const MAX_DEPTH: usize = 8;

/// One RESP value, borrowing its bytes from the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// `+OK`
    Simple(&'a [u8]),
    /// `-ERR message`
    Error(&'a [u8]),
    /// `:1`
    Integer(i64),
    /// `$3 abc`, or `None` for the null bulk string.
    Bulk(Option<&'a [u8]>),
    /// `*2 ...`, or `None` for the null array.
    Array(Option<Vec<Value<'a>>>),
}

/// Why a byte stream is not RESP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespError {
    /// The first byte of a value is not a known type marker.
    #[error("byte {offset} ({byte:#04x}) does not start a RESP value")]
    BadType { offset: usize, byte: u8 },
    /// A length or integer is not a number, or a line is not ended by CRLF.
    #[error("malformed number or line ending at byte {offset}")]
    BadLine { offset: usize },
    /// A length is over the limit.
    #[error("declared length {declared} at byte {offset} is over the limit")]
    TooLarge { offset: usize, declared: i64 },
    /// Arrays nested deeper than [`MAX_DEPTH`].
    #[error("arrays nested deeper than {MAX_DEPTH}")]
    TooDeep,
}

/// Appends the command `args` as an array of bulk strings.
pub fn encode_command(args: &[&[u8]], out: &mut BytesMut) {
    out.put_u8(b'*');
    put_decimal(args.len(), out);
    out.put_slice(b"\r\n");
    for arg in args {
        out.put_u8(b'$');
        put_decimal(arg.len(), out);
        out.put_slice(b"\r\n");
        out.put_slice(arg);
        out.put_slice(b"\r\n");
    }
}

fn put_decimal(mut n: usize, out: &mut BytesMut) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[i..]);
}

/// Parses the first value of `input`: the value and the bytes it took, or `None` when more
/// bytes are needed.
pub fn parse(input: &[u8]) -> Result<Option<(Value<'_>, usize)>, RespError> {
    let mut pos = 0;
    match value(input, &mut pos, 0)? {
        Some(v) => Ok(Some((v, pos))),
        None => Ok(None),
    }
}

fn value<'a>(
    input: &'a [u8],
    pos: &mut usize,
    depth: usize,
) -> Result<Option<Value<'a>>, RespError> {
    let start = *pos;
    let Some(&marker) = input.get(start) else {
        return Ok(None);
    };
    let Some(line) = line(input, start + 1)? else {
        return Ok(None);
    };
    let after_line = start + 1 + line.len() + 2;
    match marker {
        b'+' => {
            *pos = after_line;
            Ok(Some(Value::Simple(line)))
        }
        b'-' => {
            *pos = after_line;
            Ok(Some(Value::Error(line)))
        }
        b':' => {
            let n = integer(line, start + 1)?;
            *pos = after_line;
            Ok(Some(Value::Integer(n)))
        }
        b'$' => {
            let len = integer(line, start + 1)?;
            if len == -1 {
                *pos = after_line;
                return Ok(Some(Value::Bulk(None)));
            }
            let len = usize::try_from(len).ok().filter(|&l| l <= MAX_BULK).ok_or(
                RespError::TooLarge {
                    offset: start,
                    declared: len,
                },
            )?;
            let end = after_line + len;
            if input.len() < end + 2 {
                return Ok(None);
            }
            if &input[end..end + 2] != b"\r\n" {
                return Err(RespError::BadLine { offset: end });
            }
            *pos = end + 2;
            Ok(Some(Value::Bulk(Some(&input[after_line..end]))))
        }
        b'*' | b'>' => {
            let count = integer(line, start + 1)?;
            if count == -1 {
                *pos = after_line;
                return Ok(Some(Value::Array(None)));
            }
            let count = usize::try_from(count)
                .ok()
                .filter(|&c| c <= MAX_ARRAY)
                .ok_or(RespError::TooLarge {
                    offset: start,
                    declared: count,
                })?;
            if depth >= MAX_DEPTH {
                return Err(RespError::TooDeep);
            }
            let mut at = after_line;
            // Each element takes at least 3 bytes: don't reserve for more than could be here.
            let mut items = Vec::with_capacity(count.min(input.len().saturating_sub(at) / 3));
            for _ in 0..count {
                match value(input, &mut at, depth + 1)? {
                    Some(v) => items.push(v),
                    None => return Ok(None),
                }
            }
            *pos = at;
            Ok(Some(Value::Array(Some(items))))
        }
        byte => Err(RespError::BadType {
            offset: start,
            byte,
        }),
    }
}

/// The bytes from `from` to the next CRLF, or `None` when it has not arrived.
fn line(input: &[u8], from: usize) -> Result<Option<&[u8]>, RespError> {
    let rest = input.get(from..).unwrap_or_default();
    match rest.iter().position(|&b| b == b'\n') {
        Some(nl) if nl > 0 && rest[nl - 1] == b'\r' => Ok(Some(&rest[..nl - 1])),
        Some(nl) => Err(RespError::BadLine { offset: from + nl }),
        None => Ok(None),
    }
}

fn integer(line: &[u8], offset: usize) -> Result<i64, RespError> {
    let bad = RespError::BadLine { offset };
    let (negative, digits) = match line {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    let n = digits
        .iter()
        .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    Ok(if negative { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(input: &[u8]) -> (Value<'_>, usize) {
        parse(input).unwrap().unwrap()
    }

    #[test]
    fn command_is_an_array_of_bulk_strings() {
        let mut out = BytesMut::new();
        encode_command(&[b"PUBLISH", b"c1", b"hi there"], &mut out);
        assert_eq!(
            &out[..],
            b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nc1\r\n$8\r\nhi there\r\n"
        );
        let (v, used) = parsed(&out);
        assert_eq!(used, out.len());
        assert_eq!(
            v,
            Value::Array(Some(vec![
                Value::Bulk(Some(b"PUBLISH")),
                Value::Bulk(Some(b"c1")),
                Value::Bulk(Some(b"hi there")),
            ]))
        );
    }

    #[test]
    fn scalar_replies_parse() {
        assert_eq!(parsed(b"+PONG\r\nextra"), (Value::Simple(b"PONG"), 7));
        assert_eq!(parsed(b"-ERR no\r\n"), (Value::Error(b"ERR no"), 9));
        assert_eq!(parsed(b":1\r\n"), (Value::Integer(1), 4));
        assert_eq!(parsed(b":-12\r\n"), (Value::Integer(-12), 6));
        assert_eq!(parsed(b"$-1\r\n"), (Value::Bulk(None), 5));
        assert_eq!(parsed(b"*-1\r\n"), (Value::Array(None), 5));
        assert_eq!(parsed(b"$0\r\n\r\n"), (Value::Bulk(Some(b"")), 6));
    }

    #[test]
    fn a_pubsub_message_parses_byte_by_byte_only_when_complete() {
        let push = b"*3\r\n$7\r\nmessage\r\n$2\r\nc7\r\n$5\r\nhello\r\n";
        for cut in 0..push.len() {
            assert_eq!(parse(&push[..cut]), Ok(None), "cut at {cut}");
        }
        let (v, used) = parsed(push);
        assert_eq!(used, push.len());
        let Value::Array(Some(items)) = v else {
            panic!("not an array: {v:?}")
        };
        assert_eq!(items[2], Value::Bulk(Some(b"hello")));
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(matches!(parse(b"?x\r\n"), Err(RespError::BadType { .. })));
        assert!(matches!(parse(b":1x\r\n"), Err(RespError::BadLine { .. })));
        assert!(matches!(parse(b":1\n"), Err(RespError::BadLine { .. })));
        assert!(matches!(
            parse(b"$3\r\nabcXY"),
            Err(RespError::BadLine { .. })
        ));
        assert!(matches!(parse(b"$-2\r\n"), Err(RespError::TooLarge { .. })));
        assert!(matches!(
            parse(b"$999999999999\r\n"),
            Err(RespError::TooLarge { .. })
        ));
        assert!(matches!(
            parse(b"*99999999\r\n"),
            Err(RespError::TooLarge { .. })
        ));
        assert_eq!(
            parse(&[b"*1\r\n".as_slice(); 9].concat()),
            Err(RespError::TooDeep)
        );
    }
}
