//! Bookkeeping that proves nothing was lost, duplicated or reordered (MSG-8).
//!
//! Every (sender, recipient) pair has its own sequence: the sender numbers the messages it
//! sends to one recipient 0, 1, 2, ... and the recipient expects them in that order. A number
//! above the expected one opens a gap (the skipped numbers are *missing*); a number below it is
//! either a missing one arriving late (*reordered*) or one already received (*duplicated*).
//! At the end, whatever a sender sent to a recipient and the recipient never received is
//! *lost*, counted pair by pair.
//!
//! Memory is proportional to the pairs actually used, not to clients squared, so a random
//! pattern over 10,000 clients costs what its messages cost.

use rustc_hash::FxHashMap;

/// The counts that decide whether a run passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Integrity {
    /// Messages sent and never received.
    pub lost: u64,
    /// Messages received more than once (each extra copy counts).
    pub duplicated: u64,
    /// Messages received after a later message of the same pair.
    pub reordered: u64,
    /// Texts received by a client they were not meant for, or naming a sender the run does
    /// not have, or a sequence number never sent.
    pub misrouted: u64,
}

impl Integrity {
    /// True when nothing went wrong.
    pub fn is_clean(&self) -> bool {
        *self == Integrity::default()
    }
}

/// What one received message was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// The next message of its pair.
    InOrder,
    /// Later than expected: at least one message of the pair is still missing.
    AheadOfGap,
    /// A missing message arriving after a later one.
    Reordered,
    /// A copy of a message already received.
    Duplicate,
    /// Not a message this run sent to this client.
    Misrouted,
}

impl Receipt {
    /// True for the first receipt of a message that was sent: it leaves the sender's flight.
    pub fn is_first_copy(self) -> bool {
        matches!(
            self,
            Receipt::InOrder | Receipt::AheadOfGap | Receipt::Reordered
        )
    }
}

/// One pair's receiving side, kept to 8 bytes: a random pattern over 1,000 clients has some
/// 600,000 of these, looked up at random once per message, so their size decides how many of
/// those lookups miss the cache.
#[derive(Debug, Default, Clone, Copy)]
struct Incoming {
    /// The sequence number expected next.
    next: u32,
    /// 0 when nothing below `next` is missing, else 1 + the index in `Ledger::gaps` of the
    /// missing numbers (only a faulty server makes any).
    gap: u32,
}

/// The per-pair sequences of a run with `clients` clients.
#[derive(Debug)]
pub struct Ledger {
    /// Per sender: recipient → messages sent so far.
    sent: Vec<FxHashMap<u32, u32>>,
    /// Per recipient: sender → what has been received.
    received: Vec<FxHashMap<u32, Incoming>>,
    /// No sender sends more than this many messages, so no sequence number reaches it.
    max_seq: u32,
    /// Numbers below a pair's `next` not received yet, ascending, for the pairs that have any.
    gaps: Vec<Vec<u32>>,
    duplicated: u64,
    reordered: u64,
    misrouted: u64,
}

impl Ledger {
    /// An empty ledger for `clients` clients, each sending at most `messages` messages.
    pub fn new(clients: usize, messages: u32) -> Ledger {
        Ledger {
            max_seq: messages,
            gaps: Vec::new(),
            sent: (0..clients).map(|_| FxHashMap::default()).collect(),
            received: (0..clients).map(|_| FxHashMap::default()).collect(),
            duplicated: 0,
            reordered: 0,
            misrouted: 0,
        }
    }

    /// Records a message from `sender` to `recipient` and answers its sequence number.
    /// Both must be client indexes of this run.
    pub fn send(&mut self, sender: u32, recipient: u32) -> u32 {
        let count = self.sent[sender as usize].entry(recipient).or_insert(0);
        let seq = *count;
        *count += 1;
        seq
    }

    /// Records the receipt, by client `at`, of a text stamped `sender`, `recipient`, `seq`.
    pub fn receive(&mut self, at: u32, sender: u32, recipient: u32, seq: u32) -> Receipt {
        // Only the recipient's own book is looked at here: the sender's count is another
        // random memory access per message, so "a sequence number never sent" is settled in
        // `integrity` instead. `max_seq` still bounds what a bad number can make us allocate.
        if at != recipient || sender as usize >= self.sent.len() || seq >= self.max_seq {
            self.misrouted += 1;
            return Receipt::Misrouted;
        }
        let Some(book) = self.received.get_mut(at as usize) else {
            self.misrouted += 1;
            return Receipt::Misrouted;
        };
        let pair = book.entry(sender).or_default();
        if seq == pair.next {
            pair.next += 1;
            return match pair.gap {
                0 => Receipt::InOrder,
                g if self.gaps[g as usize - 1].is_empty() => Receipt::InOrder,
                _ => Receipt::AheadOfGap,
            };
        }
        if seq > pair.next {
            if pair.gap == 0 {
                self.gaps.push(Vec::new());
                pair.gap = self.gaps.len() as u32;
            }
            self.gaps[pair.gap as usize - 1].extend(pair.next..seq);
            pair.next = seq + 1;
            return Receipt::AheadOfGap;
        }
        let found = match pair.gap {
            0 => None,
            g => {
                let missing = &mut self.gaps[g as usize - 1];
                missing.binary_search(&seq).ok().map(|i| missing.remove(i))
            }
        };
        if found.is_some() {
            self.reordered += 1;
            Receipt::Reordered
        } else {
            self.duplicated += 1;
            Receipt::Duplicate
        }
    }

    /// Counts a received text that is not a message of this run at all (it does not parse,
    /// or its sender field disagrees with who the server says sent it).
    pub fn note_misrouted(&mut self) {
        self.misrouted += 1;
    }

    /// Messages sent so far, in all.
    pub fn total_sent(&self) -> u64 {
        self.sent
            .iter()
            .flat_map(|m| m.values())
            .map(|&n| u64::from(n))
            .sum()
    }

    /// The counts so far; `lost` counts every message sent and not (yet) received.
    pub fn integrity(&self) -> Integrity {
        let mut lost = 0u64;
        for (sender, to) in self.sent.iter().enumerate() {
            for (&recipient, &count) in to {
                // Received: the numbers below both `next` and `count` that are not missing.
                let got = self.received[recipient as usize]
                    .get(&(sender as u32))
                    .map_or(0, |p| {
                        let below = p.next.min(count);
                        let missing = match p.gap {
                            0 => 0,
                            g => self.gaps[g as usize - 1]
                                .iter()
                                .filter(|&&m| m < below)
                                .count(),
                        };
                        u64::from(below) - missing as u64
                    });
                lost += u64::from(count).saturating_sub(got);
            }
        }
        // Numbers received beyond what was sent: texts this run never sent.
        let mut never_sent = 0u64;
        for (recipient, from) in self.received.iter().enumerate() {
            for (&sender, pair) in from {
                let sent = self.sent[sender as usize]
                    .get(&(recipient as u32))
                    .copied()
                    .unwrap_or(0);
                never_sent += u64::from(pair.next.saturating_sub(sent));
            }
        }
        Integrity {
            lost,
            duplicated: self.duplicated,
            reordered: self.reordered,
            misrouted: self.misrouted + never_sent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_delivery_of_everything_is_clean() {
        let mut l = Ledger::new(3, 100);
        for _ in 0..5 {
            for (s, r) in [(0, 1), (1, 2), (2, 0), (0, 2)] {
                let seq = l.send(s, r);
                assert_eq!(l.receive(r, s, r, seq), Receipt::InOrder);
            }
        }
        assert_eq!(l.total_sent(), 20);
        assert!(l.integrity().is_clean());
    }

    #[test]
    fn sequences_are_counted_per_pair() {
        let mut l = Ledger::new(3, 100);
        assert_eq!(l.send(0, 1), 0);
        assert_eq!(l.send(0, 2), 0);
        assert_eq!(l.send(0, 1), 1);
        assert_eq!(l.send(2, 1), 0);
    }

    #[test]
    fn a_message_never_received_is_lost() {
        let mut l = Ledger::new(2, 100);
        for _ in 0..3 {
            l.send(0, 1);
        }
        l.receive(1, 0, 1, 0);
        l.receive(1, 0, 1, 1);
        assert_eq!(
            l.integrity(),
            Integrity {
                lost: 1,
                ..Integrity::default()
            }
        );
    }

    #[test]
    fn a_gap_filled_late_is_reordered_not_lost() {
        let mut l = Ledger::new(2, 100);
        for _ in 0..3 {
            l.send(0, 1);
        }
        assert_eq!(l.receive(1, 0, 1, 0), Receipt::InOrder);
        assert_eq!(l.receive(1, 0, 1, 2), Receipt::AheadOfGap);
        assert_eq!(l.integrity().lost, 1, "1 is missing until it arrives");
        assert_eq!(l.receive(1, 0, 1, 1), Receipt::Reordered);
        assert_eq!(
            l.integrity(),
            Integrity {
                reordered: 1,
                ..Integrity::default()
            }
        );
    }

    #[test]
    fn a_second_copy_is_duplicated() {
        let mut l = Ledger::new(2, 100);
        l.send(0, 1);
        l.send(0, 1);
        assert_eq!(l.receive(1, 0, 1, 0), Receipt::InOrder);
        assert_eq!(l.receive(1, 0, 1, 0), Receipt::Duplicate);
        assert_eq!(l.receive(1, 0, 1, 1), Receipt::InOrder);
        assert_eq!(l.receive(1, 0, 1, 1), Receipt::Duplicate);
        assert_eq!(
            l.integrity(),
            Integrity {
                duplicated: 2,
                ..Integrity::default()
            }
        );
    }

    #[test]
    fn texts_for_someone_else_or_never_sent_are_misrouted() {
        let mut l = Ledger::new(3, 100);
        l.send(0, 1);
        assert_eq!(l.receive(2, 0, 1, 0), Receipt::Misrouted, "wrong recipient");
        assert_eq!(l.receive(1, 7, 1, 0), Receipt::Misrouted, "no such sender");
        assert_eq!(
            l.receive(1, 0, 1, 100),
            Receipt::Misrouted,
            "beyond any sender"
        );
        assert_eq!(l.integrity().misrouted, 3);
        // A number below the bound but never sent is found out at the end.
        l.receive(1, 0, 1, 1);
        l.receive(1, 2, 1, 0);
        let i = l.integrity();
        assert_eq!((i.misrouted, i.lost), (5, 1), "{i:?}");
    }
}
