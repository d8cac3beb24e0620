//! The outbound side of a connection: a bounded queue of encoded frames that anyone may append
//! to (its own reader with replies, other connections' readers with deliveries) and that one
//! writer drains.
//!
//! The queue is one byte buffer, not a channel of messages: a delivery is encoded once,
//! straight into the recipient's buffer, and the writer swaps the whole buffer out and sends it
//! with as few writes as the socket allows. A frame counter bounds it (POLICY-3); appending past
//! the bound kills the connection instead of growing the server's memory.

use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::BytesMut;
use tokio::sync::Notify;

#[cfg(feature = "faults")]
use super::Fault;

/// Where a connection's outbound side is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Frames are accepted.
    Open,
    /// The reader has finished: the writer sends what is queued, then closes.
    Closing,
    /// Nothing more will be sent.
    Dead(Death),
}

/// Why a connection's outbound side died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Death {
    /// More than the queue limit of frames were waiting (POLICY-3).
    Overflow,
    /// The socket failed or a closing flush took too long.
    WriteFailed,
    /// The whole server crashed (a fault).
    #[cfg(feature = "faults")]
    Crashed,
}

/// What happened to a frame offered to a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued; `wake` says the writer may be asleep and must be notified.
    Queued { wake: bool },
    /// The connection is closing or dead: dropped.
    Gone,
    /// This frame would have gone over the limit: the connection is now dead.
    Overflow,
    /// The dialect cannot frame it: dropped.
    Unframeable,
}

struct Outbox {
    buf: BytesMut,
    /// Frames in `buf`.
    frames: usize,
    state: State,
    #[cfg(feature = "faults")]
    deliveries: u64,
    #[cfg(feature = "faults")]
    held: Option<BytesMut>,
}

/// One connection as the rest of the server sees it.
pub(crate) struct Peer {
    outbox: Mutex<Outbox>,
    limit: usize,
    /// Wakes the writer: there is something to send, or the state changed.
    pub(crate) wake: Notify,
    /// Wakes the reader: the connection is dead.
    pub(crate) kill: Notify,
    #[cfg(feature = "faults")]
    fault: Option<Fault>,
}

/// What the writer takes from the queue.
pub(crate) enum Take {
    /// Some frames; the buffer passed in now holds them.
    Frames,
    /// Nothing queued.
    Empty,
    /// Nothing queued and the reader has finished.
    Drained,
    /// Dead: stop.
    Dead,
}

impl Peer {
    /// A connection allowed `limit` frames queued.
    pub(crate) fn new(limit: usize) -> Peer {
        Peer {
            outbox: Mutex::new(Outbox {
                buf: BytesMut::new(),
                frames: 0,
                state: State::Open,
                #[cfg(feature = "faults")]
                deliveries: 0,
                #[cfg(feature = "faults")]
                held: None,
            }),
            limit: limit.max(1),
            wake: Notify::new(),
            kill: Notify::new(),
            #[cfg(feature = "faults")]
            fault: None,
        }
    }

    /// The same, with a fault that acts on deliveries.
    #[cfg(feature = "faults")]
    pub(crate) fn with_fault(limit: usize, fault: Option<Fault>) -> Peer {
        Peer {
            fault,
            ..Peer::new(limit)
        }
    }

    fn lock(&self) -> MutexGuard<'_, Outbox> {
        // Nothing panics while holding the lock; a poisoned lock still holds consistent data.
        self.outbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends one frame that `fill` writes; `fill` answers whether it wrote one.
    pub(crate) fn push(&self, fill: impl FnOnce(&mut BytesMut) -> bool) -> Pushed {
        let mut ob = self.lock();
        if ob.state != State::Open {
            return Pushed::Gone;
        }
        if ob.frames >= self.limit {
            drop(ob);
            self.die(Death::Overflow);
            return Pushed::Overflow;
        }
        let wake = ob.buf.is_empty();
        if fill(&mut ob.buf) {
            ob.frames += 1;
            Pushed::Queued { wake }
        } else {
            Pushed::Unframeable
        }
    }

    /// Appends a delivery (MSG-1) and wakes the writer if needed. Deliveries go through here
    /// so that the MSG-8 faults have one place to act.
    pub(crate) fn deliver(&self, fill: impl Fn(&mut BytesMut) -> bool) -> Pushed {
        #[cfg(feature = "faults")]
        if let Some(pushed) = self.deliver_faultily(&fill) {
            if pushed == (Pushed::Queued { wake: true }) {
                self.wake.notify_one();
            }
            return pushed;
        }
        let pushed = self.push(fill);
        if pushed == (Pushed::Queued { wake: true }) {
            self.wake.notify_one();
        }
        pushed
    }

    #[cfg(feature = "faults")]
    fn deliver_faultily(&self, fill: &dyn Fn(&mut BytesMut) -> bool) -> Option<Pushed> {
        match self.fault {
            Some(Fault::DropEveryTenth) => {
                let mut ob = self.lock();
                ob.deliveries += 1;
                if ob.deliveries.is_multiple_of(10) {
                    return Some(Pushed::Queued { wake: false });
                }
                None
            }
            Some(Fault::ReorderDeliveries) => {
                let mut frame = BytesMut::new();
                if !fill(&mut frame) {
                    return Some(Pushed::Unframeable);
                }
                let mut ob = self.lock();
                if ob.state != State::Open {
                    return Some(Pushed::Gone);
                }
                let Some(first) = ob.held.take() else {
                    ob.held = Some(frame);
                    return Some(Pushed::Queued { wake: false });
                };
                let wake = ob.buf.is_empty();
                ob.buf.extend_from_slice(&frame);
                ob.buf.extend_from_slice(&first);
                ob.frames += 2;
                Some(Pushed::Queued { wake })
            }
            _ => None,
        }
    }

    /// The reader has finished: send what is queued, then close. Wakes the writer.
    pub(crate) fn close(&self) {
        let mut ob = self.lock();
        if ob.state == State::Open {
            ob.state = State::Closing;
        }
        drop(ob);
        self.wake.notify_one();
    }

    /// Nothing more will be sent: drops the queue and wakes both sides. The first death wins.
    pub(crate) fn die(&self, death: Death) {
        let mut ob = self.lock();
        if !matches!(ob.state, State::Dead(_)) {
            ob.state = State::Dead(death);
            ob.buf = BytesMut::new();
            ob.frames = 0;
        }
        drop(ob);
        self.wake.notify_one();
        self.kill.notify_one();
    }

    /// The state now.
    pub(crate) fn state(&self) -> State {
        self.lock().state
    }

    /// Swaps the queued frames into `out` (which must be empty), for the writer.
    pub(crate) fn take(&self, out: &mut BytesMut) -> Take {
        let mut ob = self.lock();
        if let State::Dead(_) = ob.state {
            return Take::Dead;
        }
        if ob.buf.is_empty() {
            return if ob.state == State::Closing {
                Take::Drained
            } else {
                Take::Empty
            };
        }
        std::mem::swap(&mut ob.buf, out);
        ob.frames = 0;
        Take::Frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    fn frame(b: &mut BytesMut) -> bool {
        b.put_slice(b"0003BYE");
        true
    }

    #[test]
    fn queue_over_its_limit_kills_the_connection() {
        let peer = Peer::new(2);
        assert_eq!(peer.push(frame), Pushed::Queued { wake: true });
        assert_eq!(peer.push(frame), Pushed::Queued { wake: false });
        assert_eq!(peer.push(frame), Pushed::Overflow);
        assert_eq!(peer.state(), State::Dead(Death::Overflow));
        assert_eq!(peer.push(frame), Pushed::Gone);
        let mut out = BytesMut::new();
        assert!(matches!(peer.take(&mut out), Take::Dead));
        assert!(out.is_empty());
    }

    #[test]
    fn the_writer_takes_everything_then_drains_after_close() {
        let peer = Peer::new(8);
        peer.push(frame);
        peer.push(frame);
        let mut out = BytesMut::new();
        assert!(matches!(peer.take(&mut out), Take::Frames));
        assert_eq!(&out[..], b"0003BYE0003BYE");
        out.clear();
        // Taking empties the count as well: the limit is on frames waiting.
        for _ in 0..8 {
            assert!(matches!(peer.push(frame), Pushed::Queued { .. }));
        }
        assert!(matches!(peer.take(&mut out), Take::Frames));
        out.clear();
        peer.close();
        assert_eq!(peer.push(frame), Pushed::Gone);
        assert!(matches!(peer.take(&mut out), Take::Drained));
    }
}
