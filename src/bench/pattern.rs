//! Who sends to whom.

use std::fmt;
use std::str::FromStr;

/// How each client picks the recipient of its next message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// A peer drawn uniformly at random for every message, never the sender itself (unless
    /// it is alone).
    #[default]
    Random,
    /// Client `i` sends to client `i + 1`, the last to the first.
    Ring,
    /// Clients `2k` and `2k + 1` send to each other; needs an even number of clients.
    Pairs,
}

impl Pattern {
    /// Every pattern, for help texts.
    pub const ALL: [Pattern; 3] = [Pattern::Random, Pattern::Ring, Pattern::Pairs];

    /// The pattern's name on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Pattern::Random => "random",
            Pattern::Ring => "ring",
            Pattern::Pairs => "pairs",
        }
    }

    /// Why `clients` clients cannot follow this pattern, if they cannot.
    pub fn check(self, clients: usize) -> Result<(), ClientsError> {
        if clients == 0 {
            return Err(ClientsError::None);
        }
        if self == Pattern::Pairs && !clients.is_multiple_of(2) {
            return Err(ClientsError::OddPairs(clients));
        }
        Ok(())
    }

    /// The recipient of the next message of client `me` out of `clients`.
    pub fn recipient(self, me: u32, clients: u32, rng: &mut Rng) -> u32 {
        match self {
            Pattern::Random if clients > 1 => {
                let r = rng.below(clients - 1);
                if r >= me { r + 1 } else { r }
            }
            Pattern::Random => me,
            Pattern::Ring => {
                if me + 1 == clients {
                    0
                } else {
                    me + 1
                }
            }
            Pattern::Pairs => me ^ 1,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Pattern {
    type Err = UnknownPattern;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pattern::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPattern(s.to_owned()))
    }
}

/// A `--pattern` that is not one of [`Pattern::ALL`]; it holds the word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pattern {0:?} is not one of: random, ring, pairs")]
pub struct UnknownPattern(pub String);

/// Why a number of clients cannot follow a pattern ([`Pattern::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientsError {
    /// No client at all.
    #[error("at least one client is needed")]
    None,
    /// [`Pattern::Pairs`] with an odd number of clients (the number).
    #[error("pattern pairs needs an even number of clients, not {0}")]
    OddPairs(usize),
}

/// SplitMix64: small, fast, and good enough to spread recipients; seeded per client so that a
/// run is reproducible from `--seed`.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for stream `stream` of seed `seed`.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by multiply-shift (bias below 2^-32 for any `u32` n).
    pub fn below(&mut self, n: u32) -> u32 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_never_picks_the_sender_and_reaches_every_peer() {
        let mut rng = Rng::new(1, 0);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            let r = Pattern::Random.recipient(2, 5, &mut rng);
            seen[r as usize] += 1;
        }
        assert_eq!(seen[2], 0);
        for (i, n) in seen.iter().enumerate() {
            if i != 2 {
                assert!(*n > 1000, "peer {i} picked {n} times of 5000");
            }
        }
    }

    #[test]
    fn a_lone_client_sends_to_itself() {
        let mut rng = Rng::new(1, 0);
        assert_eq!(Pattern::Random.recipient(0, 1, &mut rng), 0);
        assert_eq!(Pattern::Ring.recipient(0, 1, &mut rng), 0);
    }

    #[test]
    fn ring_and_pairs_have_fixed_peers() {
        let mut rng = Rng::new(1, 0);
        let ring: Vec<u32> = (0..4)
            .map(|i| Pattern::Ring.recipient(i, 4, &mut rng))
            .collect();
        assert_eq!(ring, [1, 2, 3, 0]);
        let pairs: Vec<u32> = (0..4)
            .map(|i| Pattern::Pairs.recipient(i, 4, &mut rng))
            .collect();
        assert_eq!(pairs, [1, 0, 3, 2]);
    }

    #[test]
    fn pairs_refuses_an_odd_number_of_clients() {
        assert_eq!(Pattern::Pairs.check(3), Err(ClientsError::OddPairs(3)));
        assert_eq!(Pattern::Pairs.check(4), Ok(()));
        assert_eq!(Pattern::Random.check(0), Err(ClientsError::None));
        assert_eq!(Pattern::Pairs.check(0), Err(ClientsError::None));
    }

    #[test]
    fn pattern_names_round_trip() {
        for p in Pattern::ALL {
            assert_eq!(p.to_string().parse::<Pattern>(), Ok(p));
        }
        assert_eq!(
            "Random".parse::<Pattern>(),
            Err(UnknownPattern("Random".to_owned()))
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_recipients() {
        let draw = |seed| {
            let mut rng = Rng::new(seed, 7);
            (0..16).map(|_| rng.below(1000)).collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }
}
