//! The outbound side of a connection: a queue of encoded frames that anyone may append to (its
//! own reader with replies, other connections' readers with deliveries) and that one writer
//! drains, and the [`Budget`] that bounds what all queues hold together.
//!
//! The queue is one byte buffer, not a channel of messages: a delivery is encoded once,
//! straight into the recipient's buffer. The writer takes whole frames from the front, up to
//! [`WRITE_CHUNK`] bytes at a time, and sends them with as few writes as the socket allows.
//!
//! # Limits in bytes (POLICY-3, POLICY-5)
//!
//! A connection's queued bytes are what waits in its buffer plus what its writer has taken and
//! not yet sent. Like Redis's `client-output-buffer-limit`, a connection is cut as a slow
//! consumer when a frame would take it over the hard limit, or when it has stayed over the
//! soft limit for longer than the soft time. All connections' queued bytes together stay under
//! the total: a frame that would pass it first cuts the connections that hold the most.
//!
//! Cutting drops the frames not yet begun, keeps the frame being sent (POLICY-6) and queues
//! `ERROR SLOW_CONSUMER` after it; the writer sends those, then closes. The bytes dropped are
//! given back to the budget at once, so the count never passes the total.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use rustc_hash::FxBuildHasher;
use tokio::time::Instant;

use crate::protocol::Framing;
use crate::protocol::frame::frame_len_hint;

use super::OutputLimits;

/// The most a writer takes from its queue at once (then as many more bytes as end the frame).
/// Bytes taken are still counted; a small chunk keeps a cut connection's share small.
pub(crate) const WRITE_CHUNK: usize = 64 * 1024;

/// What the server counts of its queued output, readable while it runs ([`super::Running`]).
#[derive(Debug, Default)]
pub struct Metrics {
    queued: AtomicUsize,
    peak: AtomicUsize,
    slow_consumers: AtomicU64,
}

impl Metrics {
    /// Bytes queued to all connections now: waiting, or taken by a writer and not yet sent.
    pub fn queued_bytes(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// The most [`Metrics::queued_bytes`] has been since the server started.
    pub fn peak_queued_bytes(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }

    /// Connections cut as slow consumers (POLICY-5) since the server started.
    pub fn slow_consumers(&self) -> u64 {
        self.slow_consumers.load(Ordering::Acquire)
    }

    /// Counts `n` more bytes if the count stays within `total`.
    fn reserve(&self, n: usize, total: usize) -> bool {
        let reserved = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                q.checked_add(n).filter(|&after| after <= total)
            });
        match reserved {
            Ok(before) => {
                self.peak.fetch_max(before + n, Ordering::AcqRel);
                true
            }
            Err(_) => false,
        }
    }

    fn release(&self, n: usize) {
        if n > 0 {
            self.queued.fetch_sub(n, Ordering::AcqRel);
        }
    }
}

/// The limits and count shared by every connection of one server.
pub(crate) struct Budget {
    limits: OutputLimits,
    framing: Framing,
    /// The longest frame the dialect sends: a cut connection keeps at most this in flight.
    max_frame: usize,
    /// `ERROR SLOW_CONSUMER`, framed in the server's dialect.
    notice: Bytes,
    metrics: Arc<Metrics>,
    /// Every connection's queue, by connection id: where the largest are found.
    peers: Mutex<HashMap<u64, Arc<Peer>, FxBuildHasher>>,
}

impl Budget {
    /// `notice` is the framed `ERROR SLOW_CONSUMER`. The hard limit is raised to hold at least
    /// two of the longest frames, and the total to hold one hard limit.
    pub(crate) fn new(
        limits: OutputLimits,
        framing: Framing,
        notice: Bytes,
        metrics: Arc<Metrics>,
    ) -> Budget {
        let max_frame = framing.header_len() + framing.max_payload() + framing.trailer_len();
        let hard = limits.hard.max(2 * max_frame);
        let limits = OutputLimits {
            hard,
            soft: limits.soft.min(hard),
            total: limits.total.max(hard),
            ..limits
        };
        Budget {
            limits,
            framing,
            max_frame,
            notice,
            metrics,
            peers: Mutex::new(HashMap::default()),
        }
    }

    /// The limits in force (after [`Budget::new`]'s adjustments).
    pub(crate) fn limits(&self) -> OutputLimits {
        self.limits
    }

    fn peers(&self) -> MutexGuard<'_, HashMap<u64, Arc<Peer>, FxBuildHasher>> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new connection's queue, known to the budget until [`Budget::leave`].
    pub(crate) fn join(self: &Arc<Self>, conn: u64) -> Arc<Peer> {
        let peer = Arc::new(Peer::new(Arc::clone(self)));
        self.peers().insert(conn, Arc::clone(&peer));
        peer
    }

    /// Wakes every connection's task: the server is shutting down (POLICY-4).
    pub(crate) fn wake_all(&self) {
        for peer in self.peers().values() {
            Peer::wake(peer.lock());
        }
    }

    /// The connection has ended.
    pub(crate) fn leave(&self, conn: u64) {
        let gone = self.peers().remove(&conn);
        // Dropped outside the lock: the last reference gives its bytes back.
        drop(gone);
    }

    /// Cuts the connections that hold the most until `need` more bytes fit in the total, or
    /// nobody holds enough to be worth cutting. Answers whether they fit.
    fn make_room(&self, need: usize) -> bool {
        let total = self.limits.total;
        let fits = |m: &Metrics| m.queued_bytes().saturating_add(need) <= total;
        let peers = self.peers();
        while !fits(&self.metrics) {
            let largest = peers
                .values()
                .map(|p| (p.releasable(), p))
                .max_by_key(|(n, _)| *n);
            match largest {
                Some((n, peer)) if n > self.notice.len() => {
                    peer.cut();
                }
                _ => break,
            }
        }
        fits(&self.metrics)
    }
}

/// Where a connection's outbound side is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Frames are accepted.
    Open,
    /// The reader has finished: the writer sends what is queued, then closes.
    Closing,
    /// Cut as a slow consumer (POLICY-5): the writer finishes the frame in progress, sends the
    /// notice queued after it, then closes.
    Cut,
    /// Nothing more will be sent.
    Dead(Death),
}

/// Why a connection's outbound side died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Death {
    /// The socket failed or a closing flush took too long.
    WriteFailed,
}

/// What happened to a frame offered to a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued (and the writer woken if it waited); `over_soft`: the queue is now over the
    /// soft limit.
    Queued { over_soft: bool },
    /// The connection is closing or dead: dropped.
    Gone,
    /// This frame would have taken the queue over its limit: the connection is now cut.
    Overflow,
    /// The dialect cannot frame it: dropped.
    Unframeable,
}

struct Outbox {
    /// Frames not yet taken by the writer.
    buf: BytesMut,
    /// Bytes the writer has taken and not yet sent, as counted in the budget.
    inflight: usize,
    /// Since when the queue has been over the soft limit.
    over_soft_since: Option<Instant>,
    /// The queue was cut while the writer held frames: it keeps only the one in progress.
    trim: bool,
    state: State,
    /// The connection's task (its reader and writer run in one), while it waits on this
    /// queue: for frames to send, for the state to change, or for room under the soft limit.
    /// A waker in the queue's own lock instead of a `Notify` per side, so that an idle
    /// connection's future holds no wait-list entries.
    task: Option<Waker>,
}

impl Outbox {
    fn queued(&self) -> usize {
        self.buf.len() + self.inflight
    }
}

/// One connection as the rest of the server sees it.
pub(crate) struct Peer {
    outbox: Mutex<Outbox>,
    budget: Arc<Budget>,
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

/// Whether the reader may go on handling its own commands.
pub(crate) enum Room {
    /// The queue is under the soft limit.
    Yes,
    /// Over it since a moment that makes it a slow consumer at this deadline.
    WaitUntil(Instant),
    /// Not open any more.
    Gone,
}

impl Peer {
    fn new(budget: Arc<Budget>) -> Peer {
        Peer {
            outbox: Mutex::new(Outbox {
                buf: BytesMut::new(),
                inflight: 0,
                over_soft_since: None,
                trim: false,
                state: State::Open,
                task: None,
            }),
            budget,
        }
    }

    /// Unlocks `ob`, then wakes the connection's task if it waits on this queue.
    fn wake(mut ob: MutexGuard<'_, Outbox>) {
        let task = ob.task.take();
        drop(ob);
        if let Some(task) = task {
            task.wake();
        }
    }

    /// `Ready` when `ready` holds of the queue; otherwise the task is woken at the next change.
    fn poll_until<T>(
        &self,
        cx: &mut Context<'_>,
        ready: impl FnOnce(&Outbox) -> Option<T>,
    ) -> Poll<T> {
        let mut ob = self.lock();
        if let Some(t) = ready(&ob) {
            return Poll::Ready(t);
        }
        match &ob.task {
            Some(task) if task.will_wake(cx.waker()) => {}
            _ => ob.task = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// For the writer: `Ready` when there is something to take, or the state changed.
    pub(crate) fn poll_work(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_until(cx, |ob| {
            (!ob.buf.is_empty() || ob.state != State::Open).then_some(())
        })
    }

    /// For the writer while it sends: `Ready` when what it took must be trimmed (a cut) or the
    /// queue died.
    pub(crate) fn poll_trimmed(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_until(cx, |ob| {
            (ob.trim || matches!(ob.state, State::Dead(_))).then_some(())
        })
    }

    /// For the reader: `Ready` with the state once the queue is no longer open.
    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<State> {
        self.poll_until(cx, |ob| (ob.state != State::Open).then_some(ob.state))
    }

    /// For a paused reader: `Ready` once the queue is back under the soft limit, or no longer
    /// open.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let soft = self.budget.limits.soft;
        self.poll_until(cx, |ob| {
            (ob.state != State::Open || ob.over_soft_since.is_none() || ob.queued() <= soft)
                .then_some(())
        })
    }

    fn lock(&self) -> MutexGuard<'_, Outbox> {
        // Nothing panics while holding the lock; a poisoned lock still holds consistent data.
        self.outbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends one frame that `fill` writes; `fill` answers whether it wrote one. `fill` may be
    /// called twice when the total budget has to make room first.
    pub(crate) fn push(&self, fill: impl Fn(&mut BytesMut) -> bool) -> Pushed {
        match self.try_push(&fill) {
            Err(need) if self.budget.make_room(need) => self.try_push(&fill).unwrap_or_else(|_| {
                self.cut();
                Pushed::Overflow
            }),
            Err(_) => {
                // Nobody else holds enough to make room: this queue is the one to cut.
                self.cut();
                Pushed::Overflow
            }
            Ok(pushed) => pushed,
        }
    }

    /// Answers `Err(bytes)` when the frame does not fit the total budget (nothing is queued).
    fn try_push(&self, fill: &dyn Fn(&mut BytesMut) -> bool) -> Result<Pushed, usize> {
        let mut ob = self.lock();
        if ob.state != State::Open {
            return Ok(Pushed::Gone);
        }
        let start = ob.buf.len();
        if !fill(&mut ob.buf) {
            ob.buf.truncate(start);
            return Ok(Pushed::Unframeable);
        }
        let n = ob.buf.len() - start;
        let limits = self.budget.limits;
        let queued = ob.queued();
        if queued > limits.hard {
            ob.buf.truncate(start);
            self.cut_locked(ob);
            return Ok(Pushed::Overflow);
        }
        let over_soft = queued > limits.soft;
        if over_soft {
            let now = Instant::now();
            let since = *ob.over_soft_since.get_or_insert(now);
            if now.duration_since(since) >= limits.soft_for {
                ob.buf.truncate(start);
                self.cut_locked(ob);
                return Ok(Pushed::Overflow);
            }
        } else {
            ob.over_soft_since = None;
        }
        if !self.budget.metrics.reserve(n, limits.total) {
            ob.buf.truncate(start);
            return Err(n);
        }
        if start == 0 {
            // The first frame since the writer last took: it may be waiting.
            Self::wake(ob);
        }
        Ok(Pushed::Queued { over_soft })
    }

    /// The reader has finished: send what is queued, then close. Wakes the writer.
    pub(crate) fn close(&self) {
        let mut ob = self.lock();
        if ob.state == State::Open {
            ob.state = State::Closing;
        }
        Self::wake(ob);
    }

    /// The reader has finished and its last frame goes before everything not yet begun
    /// (POLICY-4, POLICY-6): drops the queue except the frame in progress, queues the frame
    /// `fill` writes, and closes. Answers whether the connection was still open.
    pub(crate) fn close_with(&self, fill: impl FnOnce(&mut BytesMut) -> bool) -> bool {
        let mut ob = self.lock();
        if ob.state != State::Open {
            return false;
        }
        self.drop_queue(&mut ob);
        let start = ob.buf.len();
        if fill(&mut ob.buf) {
            // The notice is counted without a check: dropping the queue gave back more.
            let n = ob.buf.len() - start;
            self.budget.metrics.queued.fetch_add(n, Ordering::AcqRel);
        }
        ob.state = State::Closing;
        Self::wake(ob);
        true
    }

    /// Drops what was queued and not begun, and marks the writer's frames for trimming; gives
    /// the bytes back to the budget (all but one frame of those in flight).
    fn drop_queue(&self, ob: &mut Outbox) {
        let keep = ob.inflight.min(self.budget.max_frame);
        let dropped = ob.buf.len() + ob.inflight - keep;
        ob.buf = BytesMut::new();
        if ob.inflight > 0 {
            ob.trim = true;
        }
        ob.inflight = keep;
        ob.over_soft_since = None;
        self.budget.metrics.release(dropped);
    }

    /// Cuts a slow consumer (POLICY-5).
    pub(crate) fn cut(&self) {
        let ob = self.lock();
        self.cut_locked(ob);
    }

    fn cut_locked(&self, mut ob: MutexGuard<'_, Outbox>) {
        if !matches!(ob.state, State::Open | State::Closing) {
            return;
        }
        self.drop_queue(&mut ob);
        ob.buf.extend_from_slice(&self.budget.notice);
        self.budget
            .metrics
            .queued
            .fetch_add(self.budget.notice.len(), Ordering::AcqRel);
        ob.state = State::Cut;
        Self::wake(ob);
        self.budget
            .metrics
            .slow_consumers
            .fetch_add(1, Ordering::AcqRel);
    }

    /// What cutting this queue would give back to the budget (0 unless open or closing).
    fn releasable(&self) -> usize {
        let ob = self.lock();
        match ob.state {
            State::Open | State::Closing => {
                ob.buf.len() + ob.inflight.saturating_sub(self.budget.max_frame)
            }
            State::Cut | State::Dead(_) => 0,
        }
    }

    /// Nothing more will be sent: drops the queue and wakes both sides. The first death wins.
    pub(crate) fn die(&self, death: Death) {
        let mut ob = self.lock();
        if !matches!(ob.state, State::Dead(_)) {
            ob.state = State::Dead(death);
            let dropped = ob.buf.len() + ob.inflight;
            ob.buf = BytesMut::new();
            ob.inflight = 0;
            self.budget.metrics.release(dropped);
        }
        Self::wake(ob);
    }

    /// The state now.
    pub(crate) fn state(&self) -> State {
        self.lock().state
    }

    /// Whether the reader may handle more of its own commands (see [`Room`]).
    pub(crate) fn room(&self) -> Room {
        let ob = self.lock();
        if ob.state != State::Open {
            return Room::Gone;
        }
        match ob.over_soft_since {
            Some(since) if ob.queued() > self.budget.limits.soft => {
                Room::WaitUntil(since + self.budget.limits.soft_for)
            }
            _ => Room::Yes,
        }
    }

    /// Moves whole frames from the front of the queue into `out` (which must be empty), about
    /// [`WRITE_CHUNK`] bytes of them, for the writer.
    pub(crate) fn take(&self, out: &mut BytesMut) -> Take {
        let mut ob = self.lock();
        if let State::Dead(_) = ob.state {
            return Take::Dead;
        }
        ob.trim = false;
        if ob.buf.is_empty() {
            return if ob.state == State::Open {
                Take::Empty
            } else {
                Take::Drained
            };
        }
        let end = frame_boundary(self.budget.framing, &ob.buf, WRITE_CHUNK);
        if end >= ob.buf.len() {
            std::mem::swap(&mut ob.buf, out);
        } else {
            out.extend_from_slice(&ob.buf[..end]);
            let _ = ob.buf.split_to(end);
        }
        ob.inflight = out.len();
        Take::Frames
    }

    /// The writer has `left` bytes of what it took still to send, of `out`; answers where
    /// `out` now ends: earlier than its length when the queue was cut (only the frame in
    /// progress, from `sent`, is kept).
    pub(crate) fn progress(&self, out: &[u8], sent: usize) -> usize {
        let mut ob = self.lock();
        let mut end = out.len();
        if std::mem::take(&mut ob.trim) {
            end = frame_boundary(self.budget.framing, out, sent).max(sent);
        }
        let left = end - sent;
        if left < ob.inflight {
            let given = ob.inflight - left;
            ob.inflight = left;
            self.budget.metrics.release(given);
        }
        if ob.over_soft_since.is_some() && ob.queued() <= self.budget.limits.soft {
            ob.over_soft_since = None;
            Self::wake(ob);
        }
        end
    }
}

impl Drop for Peer {
    /// Gives back whatever this queue still counts.
    fn drop(&mut self) {
        let ob = self
            .outbox
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        self.budget.metrics.release(ob.buf.len() + ob.inflight);
    }
}

/// The first frame boundary at or after `at` in `buf`, which starts with a frame: where a
/// writer may stop without cutting one (POLICY-6). `buf.len()` when there is none before the
/// end. In `raw` framing every byte is a boundary (DIALECT-5).
pub(crate) fn frame_boundary(framing: Framing, buf: &[u8], at: usize) -> usize {
    if at >= buf.len() {
        return buf.len();
    }
    match framing {
        Framing::Raw => at,
        Framing::Line if at == 0 => 0,
        Framing::Line => buf[at - 1..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| at + i),
        Framing::Decimal(_) | Framing::Binary(_) | Framing::BinaryLe(_) | Framing::Hex(_) => {
            let mut pos = 0;
            while pos < at {
                match frame_len_hint(framing, &buf[pos..]) {
                    Some(len) if len > 0 => pos += len,
                    _ => return buf.len(),
                }
            }
            pos.min(buf.len())
        }
    }
}

/// Every queue's limits, for the tests of this module and of the connection.
#[cfg(test)]
pub(crate) fn test_budget(hard: usize, soft: usize, total: usize) -> Arc<Budget> {
    let limits = OutputLimits {
        hard,
        soft,
        soft_for: std::time::Duration::from_secs(3600),
        total,
    };
    Arc::new(Budget::new(
        limits,
        Framing::CANONICAL,
        Bytes::from_static(b"0019ERROR SLOW_CONSUMER"),
        Arc::new(Metrics::default()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    /// A 1,004-byte frame.
    fn big(b: &mut BytesMut) -> bool {
        b.put_slice(b"1000");
        b.put_slice(&[b'x'; 1000]);
        true
    }

    fn bye(b: &mut BytesMut) -> bool {
        b.put_slice(b"0003BYE");
        true
    }

    #[test]
    fn a_frame_past_the_hard_limit_cuts_the_connection_with_a_notice() {
        // The hard limit is raised to two of the longest frames: 2 × 10,003 bytes.
        let budget = test_budget(0, usize::MAX, 1 << 20);
        let peer = budget.join(1);
        for _ in 0..19 {
            assert!(matches!(peer.push(big), Pushed::Queued { .. }));
        }
        assert_eq!(budget.metrics.queued_bytes(), 19 * 1004);
        assert_eq!(peer.push(big), Pushed::Overflow);
        assert_eq!(peer.state(), State::Cut);
        assert_eq!(peer.push(bye), Pushed::Gone);
        let mut out = BytesMut::new();
        assert!(matches!(peer.take(&mut out), Take::Frames));
        assert_eq!(&out[..], b"0019ERROR SLOW_CONSUMER");
        assert_eq!(budget.metrics.queued_bytes(), out.len());
        assert_eq!(budget.metrics.slow_consumers(), 1);
        out.clear();
        assert!(matches!(peer.take(&mut out), Take::Drained));
    }

    #[test]
    fn a_cut_keeps_the_frame_in_progress_and_drops_the_rest() {
        let budget = test_budget(0, usize::MAX, 1 << 20);
        let peer = budget.join(1);
        for _ in 0..3 {
            peer.push(big);
        }
        let mut out = BytesMut::new();
        assert!(matches!(peer.take(&mut out), Take::Frames));
        assert_eq!(out.len(), 3 * 1004);
        peer.push(bye);
        // 1,500 bytes sent: the second frame is in progress.
        assert_eq!(peer.progress(&out, 1500), out.len());
        peer.cut();
        // Only the rest of the second frame and the notice are still counted.
        let end = peer.progress(&out, 1500);
        assert_eq!(end, 2 * 1004);
        assert_eq!(budget.metrics.queued_bytes(), 2008 - 1500 + 23);
        assert_eq!(peer.progress(&out[..end], end), end);
        assert_eq!(budget.metrics.queued_bytes(), 23);
        let mut next = BytesMut::new();
        assert!(matches!(peer.take(&mut next), Take::Frames));
        assert_eq!(&next[..], b"0019ERROR SLOW_CONSUMER");
    }

    #[test]
    fn the_total_cuts_the_largest_queue_to_make_room() {
        // Totals are raised to one hard limit: 20,006 bytes.
        let budget = test_budget(0, usize::MAX, 0);
        let hog = budget.join(1);
        let other = budget.join(2);
        for _ in 0..15 {
            assert!(matches!(hog.push(big), Pushed::Queued { .. }));
        }
        for _ in 0..4 {
            assert!(matches!(other.push(big), Pushed::Queued { .. }));
        }
        // 19 frames of 1,004 bytes: one more does not fit, so the hog is cut.
        assert!(matches!(other.push(big), Pushed::Queued { .. }));
        assert_eq!(hog.state(), State::Cut);
        assert_eq!(other.state(), State::Open);
        assert!(budget.metrics.peak_queued_bytes() <= budget.limits().total);
        assert_eq!(budget.metrics.queued_bytes(), 5 * 1004 + 23);
    }

    /// A waker that counts its wakes.
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    fn wakes(count: &Count) -> usize {
        count.0.load(Ordering::SeqCst)
    }

    #[test]
    fn a_waiting_task_is_woken_by_the_first_frame_and_not_by_the_next() {
        let budget = test_budget(1 << 20, 1 << 20, 1 << 20);
        let peer = budget.join(1);
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(peer.poll_work(&mut cx).is_pending());
        peer.push(bye);
        assert_eq!(wakes(&count), 1);
        // The writer has not taken yet: a second frame does not wake it again.
        peer.push(bye);
        assert_eq!(wakes(&count), 1);
        assert!(peer.poll_work(&mut cx).is_ready());
        let mut out = BytesMut::new();
        assert!(matches!(peer.take(&mut out), Take::Frames));
        assert!(peer.poll_work(&mut cx).is_pending());
        peer.close();
        assert_eq!(wakes(&count), 2);
        assert!(peer.poll_work(&mut cx).is_ready());
    }

    #[test]
    fn a_waiting_reader_is_woken_by_a_cut_and_by_the_shutdown() {
        let budget = test_budget(0, usize::MAX, 1 << 20);
        let cut = budget.join(1);
        let idle = budget.join(2);
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(cut.poll_closed(&mut cx).is_pending());
        assert!(idle.poll_closed(&mut cx).is_pending());
        cut.cut();
        assert_eq!(wakes(&count), 1);
        assert_eq!(cut.poll_closed(&mut cx), Poll::Ready(State::Cut));
        budget.wake_all();
        assert_eq!(
            wakes(&count),
            2,
            "the shutdown wakes the idle connection's task"
        );
        // Nothing changed for it: it waits again.
        assert!(idle.poll_closed(&mut cx).is_pending());
    }

    #[test]
    fn a_paused_reader_is_woken_when_its_queue_is_back_under_the_soft_limit() {
        let budget = test_budget(0, 2000, 1 << 20);
        let peer = budget.join(1);
        for _ in 0..3 {
            peer.push(big);
        }
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(peer.poll_room(&mut cx).is_pending());
        let mut out = BytesMut::new();
        peer.take(&mut out);
        assert_eq!(wakes(&count), 0);
        peer.progress(&out, out.len());
        assert_eq!(wakes(&count), 1);
        assert!(peer.poll_room(&mut cx).is_ready());
    }

    #[test]
    fn over_the_soft_limit_the_reader_waits_and_drained_it_goes_on() {
        let budget = test_budget(0, 2000, 1 << 20);
        let peer = budget.join(1);
        assert!(matches!(
            peer.push(big),
            Pushed::Queued {
                over_soft: false,
                ..
            }
        ));
        peer.push(big);
        assert!(matches!(
            peer.push(big),
            Pushed::Queued {
                over_soft: true,
                ..
            }
        ));
        assert!(matches!(peer.room(), Room::WaitUntil(_)));
        let mut out = BytesMut::new();
        peer.take(&mut out);
        peer.progress(&out, out.len());
        assert!(matches!(peer.room(), Room::Yes));
    }

    #[test]
    fn the_writer_takes_whole_frames_about_a_chunk_at_a_time() {
        let budget = test_budget(1 << 20, 1 << 20, 1 << 20);
        let peer = budget.join(1);
        for _ in 0..100 {
            peer.push(big);
        }
        let mut out = BytesMut::new();
        assert!(matches!(peer.take(&mut out), Take::Frames));
        assert_eq!(out.len(), WRITE_CHUNK.div_ceil(1004) * 1004);
        assert_eq!(budget.metrics.queued_bytes(), 100 * 1004);
        peer.progress(&out, out.len());
        assert_eq!(
            budget.metrics.queued_bytes(),
            (100 - WRITE_CHUNK.div_ceil(1004)) * 1004
        );
        drop(peer);
        budget.leave(1);
        assert_eq!(budget.metrics.queued_bytes(), 0);
    }

    #[test]
    fn frame_boundaries_in_each_framing() {
        let dec = b"0001a0002bc0000";
        assert_eq!(frame_boundary(Framing::CANONICAL, dec, 0), 0);
        assert_eq!(frame_boundary(Framing::CANONICAL, dec, 1), 5);
        assert_eq!(frame_boundary(Framing::CANONICAL, dec, 5), 5);
        assert_eq!(frame_boundary(Framing::CANONICAL, dec, 6), 11);
        assert_eq!(frame_boundary(Framing::CANONICAL, dec, 12), 15);
        let line = b"ab\ncd\n";
        assert_eq!(frame_boundary(Framing::Line, line, 0), 0);
        assert_eq!(frame_boundary(Framing::Line, line, 1), 3);
        assert_eq!(frame_boundary(Framing::Line, line, 3), 3);
        assert_eq!(frame_boundary(Framing::Line, line, 4), 6);
        assert_eq!(frame_boundary(Framing::Raw, b"abc", 2), 2);
    }
}
