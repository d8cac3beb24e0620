//! A dialect: how a peer cuts its stream into messages ([`Framing`]) and how it spells the
//! commands ([`Spelling`]) (PROTOCOL.md §2, §4 and §11), with the verb table ([`Verb::ALL`]).
//!
//! This module is the one place that spells a verb on the wire: [`Verb::as_str`] is the
//! canonical spelling and [`Spelling::word`] a dialect's. It depends on nothing else in the
//! protocol layer, so [`frame`](super::frame) and [`command`](super::command) both build on
//! it without depending on each other.

use std::fmt;
use std::str::FromStr;

use super::MAX_PAYLOAD;

/// The number of digits of a decimal length header: 1 to 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DecimalWidth(u8);

impl DecimalWidth {
    /// The canonical width (FRAME-1).
    pub const CANONICAL: DecimalWidth = DecimalWidth(4);

    /// A width of 1 to 9 digits; `None` otherwise.
    pub const fn new(digits: u8) -> Option<DecimalWidth> {
        if digits >= 1 && digits <= 9 {
            Some(DecimalWidth(digits))
        } else {
            None
        }
    }

    /// The number of digits.
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// The number of bytes of a big-endian binary length header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryWidth {
    One,
    Two,
    Four,
    Eight,
}

impl BinaryWidth {
    /// A width of 1, 2, 4 or 8 bytes; `None` otherwise.
    pub const fn new(bytes: u8) -> Option<BinaryWidth> {
        match bytes {
            1 => Some(BinaryWidth::One),
            2 => Some(BinaryWidth::Two),
            4 => Some(BinaryWidth::Four),
            8 => Some(BinaryWidth::Eight),
            _ => None,
        }
    }

    /// The number of bytes.
    pub const fn get(self) -> u8 {
        match self {
            BinaryWidth::One => 1,
            BinaryWidth::Two => 2,
            BinaryWidth::Four => 4,
            BinaryWidth::Eight => 8,
        }
    }
}

/// How a stream is cut into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// `decN`: N ASCII decimal digits, zero-padded, then the payload.
    Decimal(DecimalWidth),
    /// `binN`: an N-byte big-endian unsigned length, then the payload.
    Binary(BinaryWidth),
    /// `binNle`: an N-byte little-endian unsigned length (N = 2, 4, 8), then the payload, as
    /// Python's `struct.pack('H', n)` writes it on most machines.
    BinaryLe(BinaryWidth),
    /// `hexN`: N hexadecimal digits, zero-padded (written in lower case, read in either),
    /// then the payload, as `f"{n:04x}"` writes it.
    Hex(DecimalWidth),
    /// `raw`: no length field; whatever one read returns is one message.
    Raw,
    /// `line`: no length field; a message ends with `\n` (a `\r` before it is dropped).
    Line,
}

impl Framing {
    /// The canonical framing, `dec4`.
    pub const CANONICAL: Framing = Framing::Decimal(DecimalWidth::CANONICAL);

    /// The largest payload length the header can describe (`u64::MAX` when there is none).
    pub const fn capacity(self) -> u64 {
        match self {
            Framing::Decimal(w) => 10u64.pow(w.get() as u32) - 1,
            Framing::Hex(w) => 16u64.pow(w.get() as u32) - 1,
            Framing::Binary(w) | Framing::BinaryLe(w) => match w {
                BinaryWidth::One => u8::MAX as u64,
                BinaryWidth::Two => u16::MAX as u64,
                BinaryWidth::Four => u32::MAX as u64,
                BinaryWidth::Eight => u64::MAX,
            },
            Framing::Raw | Framing::Line => u64::MAX,
        }
    }

    /// The payload limit of this framing (DIALECT-3): 9999 bytes, or less when the header
    /// cannot describe that much.
    pub const fn max_payload(self) -> usize {
        let cap = self.capacity();
        if cap < MAX_PAYLOAD as u64 {
            cap as usize
        } else {
            MAX_PAYLOAD
        }
    }

    /// Bytes before the payload.
    pub const fn header_len(self) -> usize {
        match self {
            Framing::Decimal(w) | Framing::Hex(w) => w.get() as usize,
            Framing::Binary(w) | Framing::BinaryLe(w) => w.get() as usize,
            Framing::Raw | Framing::Line => 0,
        }
    }

    /// Bytes after the payload.
    pub const fn trailer_len(self) -> usize {
        match self {
            Framing::Line => 1,
            _ => 0,
        }
    }

    /// Whether a header states each payload's length (`decN`, `binN`).
    pub const fn has_length_field(self) -> bool {
        matches!(
            self,
            Framing::Decimal(_) | Framing::Binary(_) | Framing::BinaryLe(_) | Framing::Hex(_)
        )
    }

    /// Whether messages stay apart when several arrive in one read, so that commands may be
    /// pipelined and frames joined in one write. Not in `raw`, where one read is one message
    /// (DIALECT-5).
    pub const fn delimits(self) -> bool {
        !matches!(self, Framing::Raw)
    }

    /// Whether an empty payload can be sent: not in `raw`, where an empty read is the end of
    /// the stream (DIALECT-5).
    pub const fn carries_empty(self) -> bool {
        !matches!(self, Framing::Raw)
    }

    /// Whether a writer must leave time between messages for the reader to see them as
    /// separate reads (`raw` only).
    pub const fn needs_write_gap(self) -> bool {
        matches!(self, Framing::Raw)
    }

    /// Every framing, for tests and help texts.
    pub fn all() -> impl Iterator<Item = Framing> {
        let dec = (1..=9).filter_map(DecimalWidth::new).map(Framing::Decimal);
        let bin = [1, 2, 4, 8]
            .into_iter()
            .filter_map(BinaryWidth::new)
            .map(Framing::Binary);
        let bin_le = [2, 4, 8]
            .into_iter()
            .filter_map(BinaryWidth::new)
            .map(Framing::BinaryLe);
        let hex = (1..=9).filter_map(DecimalWidth::new).map(Framing::Hex);
        dec.chain(bin)
            .chain(bin_le)
            .chain(hex)
            .chain([Framing::Raw, Framing::Line])
    }
}

impl Default for Framing {
    fn default() -> Self {
        Framing::CANONICAL
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Framing::Decimal(w) => write!(f, "dec{}", w.get()),
            Framing::Binary(w) => write!(f, "bin{}", w.get()),
            Framing::BinaryLe(w) => write!(f, "bin{}le", w.get()),
            Framing::Hex(w) => write!(f, "hex{}", w.get()),
            Framing::Raw => f.write_str("raw"),
            Framing::Line => f.write_str("line"),
        }
    }
}

/// A framing, spelling or dialect name that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {input:?} is not one of: {expected}")]
pub struct ParseDialectError {
    /// What was being parsed ("framing", "spelling").
    pub what: &'static str,
    /// The input as given.
    pub input: String,
    /// The accepted forms.
    pub expected: &'static str,
}

impl FromStr for Framing {
    type Err = ParseDialectError;

    /// Parses `dec1`..`dec9`, `bin1`, `bin2`, `bin4`, `bin8`, `bin2le`, `bin4le`, `bin8le`,
    /// `hex1`..`hex9`, `raw`, `line`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseDialectError {
            what: "framing",
            input: s.to_owned(),
            expected: "dec1..dec9, bin1, bin2, bin4, bin8, bin2le, bin4le, bin8le, hex1..hex9, \
                       raw, line",
        };
        let digit = |rest: &str| -> Option<u8> {
            match rest.as_bytes() {
                [d @ b'0'..=b'9'] => Some(d - b'0'),
                _ => None,
            }
        };
        if let Some(rest) = s.strip_prefix("dec") {
            digit(rest)
                .and_then(DecimalWidth::new)
                .map(Framing::Decimal)
                .ok_or_else(err)
        } else if let Some(rest) = s.strip_prefix("hex") {
            digit(rest)
                .and_then(DecimalWidth::new)
                .map(Framing::Hex)
                .ok_or_else(err)
        } else if let Some(rest) = s.strip_prefix("bin").and_then(|r| r.strip_suffix("le")) {
            digit(rest)
                .filter(|w| *w > 1)
                .and_then(BinaryWidth::new)
                .map(Framing::BinaryLe)
                .ok_or_else(err)
        } else if let Some(rest) = s.strip_prefix("bin") {
            digit(rest)
                .and_then(BinaryWidth::new)
                .map(Framing::Binary)
                .ok_or_else(err)
        } else {
            match s {
                "raw" => Ok(Framing::Raw),
                "line" => Ok(Framing::Line),
                _ => Err(err()),
            }
        }
    }
}

/// Everything about how a peer speaks that the canonical protocol lets vary (§11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Dialect {
    /// How messages are delimited.
    pub framing: Framing,
    /// How commands are spelled.
    pub spelling: Spelling,
}

impl Dialect {
    /// The canonical protocol: `dec4` framing, canonical spelling.
    pub const CANONICAL: Dialect = Dialect {
        framing: Framing::CANONICAL,
        spelling: Spelling::Canonical,
    };

    /// The canonical spelling with another framing.
    pub const fn with_framing(framing: Framing) -> Dialect {
        Dialect {
            framing,
            spelling: Spelling::Canonical,
        }
    }

    /// The payload limit (DIALECT-3).
    pub const fn max_payload(&self) -> usize {
        self.framing.max_payload()
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} framing, {} spelling", self.framing, self.spelling)
    }
}

/// The verb of a command, for messages and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Name,
    GetNames,
    Msg,
    Exit,
}

impl Verb {
    /// Every verb, in the order of PROTOCOL.md §5.
    pub const ALL: [Verb; 4] = [Verb::Name, Verb::GetNames, Verb::Msg, Verb::Exit];

    /// The canonical spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verb::Name => "NAME",
            Verb::GetNames => "GET_NAMES",
            Verb::Msg => "MSG",
            Verb::Exit => "EXIT",
        }
    }

    /// What the arguments should look like.
    pub const fn usage(self) -> &'static str {
        match self {
            Verb::Name => "NAME <name>",
            Verb::GetNames => "GET_NAMES",
            Verb::Msg => "MSG <name> <text>",
            Verb::Exit => "EXIT",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How commands are spelled on the wire (§4, §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Spelling {
    /// `NAME`, `GET_NAMES`, `MSG`, `EXIT`; `GETNAMES` is accepted too (CMD-2).
    #[default]
    Canonical,
    /// As canonical, but `GETNAMES` is what gets sent.
    GetNames,
    /// `1 <name>`, `2`, `3 <name> <text>`, `4`.
    Numeric,
}

impl Spelling {
    /// The verb `word` spells in this spelling, if any (case matters: CMD-1).
    pub fn verb(self, word: &str) -> Option<Verb> {
        match (self, word) {
            (Spelling::Numeric, "1") => Some(Verb::Name),
            (Spelling::Numeric, "2") => Some(Verb::GetNames),
            (Spelling::Numeric, "3") => Some(Verb::Msg),
            (Spelling::Numeric, "4") => Some(Verb::Exit),
            (Spelling::Numeric, _) => None,
            (_, "NAME") => Some(Verb::Name),
            (_, "GET_NAMES" | "GETNAMES") => Some(Verb::GetNames),
            (_, "MSG") => Some(Verb::Msg),
            (_, "EXIT") => Some(Verb::Exit),
            _ => None,
        }
    }

    /// The word this spelling sends for `verb`.
    pub const fn word(self, verb: Verb) -> &'static str {
        match (self, verb) {
            (Spelling::Numeric, Verb::Name) => "1",
            (Spelling::Numeric, Verb::GetNames) => "2",
            (Spelling::Numeric, Verb::Msg) => "3",
            (Spelling::Numeric, Verb::Exit) => "4",
            (Spelling::GetNames, Verb::GetNames) => "GETNAMES",
            (_, verb) => verb.as_str(),
        }
    }
}

impl fmt::Display for Spelling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Spelling::Canonical => "canonical",
            Spelling::GetNames => "getnames",
            Spelling::Numeric => "numeric",
        })
    }
}

impl FromStr for Spelling {
    type Err = ParseDialectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "canonical" => Ok(Spelling::Canonical),
            "getnames" => Ok(Spelling::GetNames),
            "numeric" => Ok(Spelling::Numeric),
            _ => Err(ParseDialectError {
                what: "spelling",
                input: s.to_owned(),
                expected: "canonical, getnames, numeric",
            }),
        }
    }
}
