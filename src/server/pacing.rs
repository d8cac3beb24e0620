//! Round pacing (POLICY-8): under load from clients that pipeline their commands, the worker
//! waits a little between two rounds of the event loop, so that more input arrives per round
//! and each connection's deliveries leave in fewer, fuller writes.
//!
//! A write through TCP costs the server about the same for one frame as for ten, so a round
//! that finds ten frames for a connection instead of one saves nine writes. When clients write
//! one message per `write`, as people typing do, a server that keeps up with them runs short
//! rounds and pays one write for nearly every delivery (BENCHMARKS.md, "Round pacing").
//!
//! Pacing pays only when clients keep sending while the server waits, when the writes are
//! many for the frames, and it must not slow down clients that wait for each message to
//! arrive before they send the next. So the pacer:
//!
//! - samples the load every [`SAMPLE`] and starts after [`BASELINE_SAMPLES`] samples in a row
//!   in which the server handled at least [`BUSY_RATE`] frames a second, at least
//!   [`PIPELINED`] per read (clients that have several commands on the way), and wrote at
//!   least once per [`WRITES_WORTH_PACING`] frames; their mean rate and writes per frame are
//!   the baseline;
//! - makes every round last at least the pace, and judges each pace after a window of
//!   [`WINDOW`] and at least [`WINDOW_ROUNDS`] rounds, by two tests: the frames handled keep
//!   [`KEEP`] of the baseline rate, or while climbing [`CLIMB_KEEP`] of it or of the rate the
//!   shorter pace reached when that was higher (the clients are not slowed down), and the
//!   writes per frame fall to [`FEWER_WRITES`] of the baseline's (pacing saves something); a
//!   pace fails only after [`STRIKES`] windows in a row miss, since bursty traffic moves one
//!   window's rate by more than [`KEEP`] allows, or at once while climbing when the rate
//!   falls under [`KEEP`] of what the climb must keep;
//! - climbs: starts at [`FIRST_PACE`] and doubles the pace after each window that keeps the
//!   rate, up to the configured bound ([`Config::pace`](super::Config::pace)); settles at the
//!   bound, or at the last pace that kept the rate when a longer one failed;
//! - climbs again from a pace settled below the bound after [`RETRY_FIRST`] windows kept
//!   there, the rate to keep being their mean: one window's rate moves by more than the
//!   climb allows, so a longer pace may have failed by chance; twice as many windows after
//!   each retry that fails, up to [`RETRY_MAX`];
//! - halves the pace it settled at when that no longer keeps the rate (down to
//!   [`FIRST_PACE`]), and keeps it while it does not fail; after [`RENEW_AFTER`] windows it
//!   stops for [`BASELINE_SAMPLES`] samples, to measure the unpaced load again, and resumes
//!   at that pace;
//! - stops when a pace fails, and then rests [`BACKOFF_FIRST`] samples before it tries
//!   again, twice as long after each failed try, up to [`BACKOFF_MAX`];
//! - stops as soon as a window no longer shows pipelined load, and goes back to sampling.
//!
//! The wait blocks the worker thread: the pacer runs only on a runtime with one worker
//! ([`run`](super::run) checks), where nothing else could run meanwhile anyway.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tracing::{debug, trace};

/// How often the load is sampled while the pacer does not pace.
pub(crate) const SAMPLE: Duration = Duration::from_millis(25);
/// How long a pace is kept before it is judged, at least: clients' traffic comes in bursts.
pub(crate) const WINDOW: Duration = Duration::from_millis(100);
/// Rounds in a window, at least, at long paces.
pub(crate) const WINDOW_ROUNDS: u32 = 8;
/// Windows a pace is kept before the pacing stops for [`BASELINE_SAMPLES`] samples, to
/// measure the unpaced load again: what the clients do changes.
pub(crate) const RENEW_AFTER: u32 = 50;
/// Samples in a row worth pacing that make the baseline a pace is judged against: one
/// [`WINDOW`] of unpaced load.
pub(crate) const BASELINE_SAMPLES: u32 = 4;
/// Windows in a row that miss a test before their pace fails.
pub(crate) const STRIKES: u32 = 2;
/// The pace a climb starts at, and the shortest.
pub(crate) const FIRST_PACE: Duration = Duration::from_millis(1);
/// Frames a second below which there is nothing worth pacing.
pub(crate) const BUSY_RATE: f64 = 50_000.0;
/// Frames per read, at least: clients that have several commands on the way.
pub(crate) const PIPELINED: u64 = 4;
/// Frames per write, at most, for pacing to be worth trying: rounds that already gather
/// several frames per write have little left to save.
pub(crate) const WRITES_WORTH_PACING: u64 = 4;
/// The share of the baseline rate that a paced window must keep.
pub(crate) const KEEP: f64 = 0.85;
/// The share of the rate to keep while climbing: a longer pace is tried only while it keeps
/// most of what the shorter one reached, because clients that keep several messages on the
/// way run out of them, and slow down, as soon as the pace nears the time one takes to
/// come back.
pub(crate) const CLIMB_KEEP: f64 = 0.9;
/// The share of the baseline's writes per frame that a paced window may make, at most.
pub(crate) const FEWER_WRITES: f64 = 0.75;
/// Windows kept at a pace below the bound before a longer one is tried again, at first.
pub(crate) const RETRY_FIRST: u32 = 10;
/// The most windows kept at a pace below the bound between two retries.
pub(crate) const RETRY_MAX: u32 = 160;
/// Samples without pacing after a first failed try (0.1 s).
pub(crate) const BACKOFF_FIRST: u32 = 4;
/// The longest rest between tries, in samples (10 s).
pub(crate) const BACKOFF_MAX: u32 = 400;

/// What the connections count for the pacer: frames handled, reads that brought bytes and
/// writes.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    frames: AtomicU64,
    reads: AtomicU64,
    writes: AtomicU64,
    /// Set while the pacer waits for the next read after a quiet sample.
    idle: AtomicBool,
    wake: Notify,
}

impl Activity {
    /// One read brought bytes.
    pub(crate) fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
        if self.idle.load(Ordering::Relaxed) && self.idle.swap(false, Ordering::AcqRel) {
            self.wake.notify_one();
        }
    }

    /// `n` frames were handled.
    pub(crate) fn frames(&self, n: u32) {
        if n > 0 {
            self.frames.fetch_add(u64::from(n), Ordering::Relaxed);
        }
    }

    /// One write was made.
    pub(crate) fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts since the last call.
    pub(crate) fn take(&self) -> Load {
        Load {
            frames: self.frames.swap(0, Ordering::Relaxed),
            reads: self.reads.swap(0, Ordering::Relaxed),
            writes: self.writes.swap(0, Ordering::Relaxed),
        }
    }

    /// Waits for the next read.
    async fn quiet(&self) {
        self.idle.store(true, Ordering::Release);
        // A read between the last sample and the flag leaves a count behind.
        if self.reads.load(Ordering::Relaxed) > 0 {
            self.idle.store(false, Ordering::Release);
            return;
        }
        self.wake.notified().await;
    }
}

/// Frames handled, reads and writes made over some time.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Load {
    pub(crate) frames: u64,
    pub(crate) reads: u64,
    pub(crate) writes: u64,
}

impl Load {
    fn add(&mut self, other: Load) {
        self.frames += other.frames;
        self.reads += other.reads;
        self.writes += other.writes;
    }

    /// Frames a second over `elapsed`.
    fn rate(self, elapsed: Duration) -> f64 {
        let secs = elapsed.as_secs_f64();
        if secs > 0.0 {
            self.frames as f64 / secs
        } else {
            0.0
        }
    }

    fn writes_per_frame(self) -> f64 {
        self.writes as f64 / self.frames.max(1) as f64
    }

    /// Enough frames, from clients that pipeline, for pacing to apply.
    fn pipelined(self, elapsed: Duration) -> bool {
        self.frames >= PIPELINED.saturating_mul(self.reads) && self.rate(elapsed) >= BUSY_RATE
    }

    /// Pipelined load whose writes pacing could make fewer.
    fn worth_pacing(self, elapsed: Duration) -> bool {
        self.pipelined(elapsed) && self.writes.saturating_mul(WRITES_WORTH_PACING) >= self.frames
    }
}

/// The pacer's decisions, apart from time and I/O.
#[derive(Debug)]
pub(crate) struct Pacer {
    max: Duration,
    /// The samples in a row worth pacing so far, added up, how long they took and how many
    /// they are.
    baseline: Option<(Load, Duration, u32)>,
    /// Samples to let pass before the next try.
    rest: u32,
    /// The pace to start at after measuring the unpaced load again: the last one kept.
    resume: Option<Duration>,
    backoff: u32,
    /// Windows to keep a pace below the bound before trying a longer one again.
    retry_after: u32,
    pacing: Option<Pacing>,
}

#[derive(Debug)]
struct Pacing {
    pace: Duration,
    /// Doubling the pace while the clients keep their rate.
    climbing: bool,
    /// The longest pace that kept the rate while climbing, and the rate it reached: the rate
    /// to keep while climbing when that is higher than the baseline's (fuller deliveries can
    /// let the clients send faster, and a longer pace that loses that gain slows them down).
    good: Option<(Duration, f64)>,
    /// Frames a second before the pacing started: the rate to keep.
    rate: f64,
    /// Writes per frame before the pacing started.
    writes_per_frame: f64,
    window: Load,
    since: Instant,
    /// Windows kept at the pace found.
    kept: u32,
    /// Windows kept at this pace since it was settled at below the bound, and their rates
    /// added up.
    held: (u32, f64),
    /// The climb started again from a pace it had settled at.
    retrying: bool,
    /// Windows in a row at this pace that missed a test.
    misses: u32,
}

/// Why a pacing stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// To measure the unpaced load again, and resume at the same pace.
    Renew,
    /// The load is no longer pipelined: the next one starts afresh.
    LoadGone,
    /// No pace kept the clients' rate and saved writes: rest before the next try.
    Failed,
}

impl Pacer {
    /// A pacer whose rounds last at most `max`.
    pub(crate) fn new(max: Duration) -> Pacer {
        Pacer {
            max,
            baseline: None,
            rest: 0,
            resume: None,
            backoff: BACKOFF_FIRST,
            retry_after: RETRY_FIRST,
            pacing: None,
        }
    }

    /// The pace rounds are held to, when pacing.
    #[cfg(test)]
    pub(crate) fn pace(&self) -> Option<Duration> {
        self.pacing.as_ref().map(|p| p.pace)
    }

    /// The load over the last `elapsed`, while not pacing. Answers `true` when pacing starts
    /// at `now` (then [`Pacer::round`] after every round, until it stops).
    pub(crate) fn sample(&mut self, load: Load, elapsed: Duration, now: Instant) -> bool {
        if self.rest > 0 || !load.worth_pacing(elapsed) {
            self.rest = self.rest.saturating_sub(1);
            self.baseline = None;
            return false;
        }
        let (mut sum, time, samples) = self.baseline.unwrap_or_default();
        sum.add(load);
        let (time, samples) = (time + elapsed, samples + 1);
        if samples < BASELINE_SAMPLES {
            self.baseline = Some((sum, time, samples));
            return false;
        }
        self.baseline = None;
        if self.resume.is_none() {
            self.retry_after = RETRY_FIRST;
        }
        self.pacing = Some(Pacing {
            pace: self.resume.unwrap_or(FIRST_PACE.min(self.max)),
            climbing: self.resume.is_none(),
            good: None,
            rate: sum.rate(time),
            writes_per_frame: sum.writes_per_frame(),
            window: Load::default(),
            since: now,
            kept: 0,
            held: (0, 0.0),
            retrying: false,
            misses: 0,
        });
        true
    }

    /// A round of the event loop ended at `now` after `work` of it, having handled `load`.
    /// Answers how long to wait before the next round, or `None` when the pacing stops (back
    /// to [`Pacer::sample`]).
    pub(crate) fn round(&mut self, load: Load, work: Duration, now: Instant) -> Option<Duration> {
        let p = self.pacing.as_mut()?;
        p.window.add(load);
        let elapsed = now.saturating_duration_since(p.since);
        if elapsed >= WINDOW.max(p.pace * WINDOW_ROUNDS) {
            let window = std::mem::take(&mut p.window);
            p.since = now;
            if let Err(stop) = self.judge(window, elapsed) {
                self.stop(stop);
                return None;
            }
        }
        let p = self.pacing.as_ref()?;
        Some(p.pace.saturating_sub(work))
    }

    /// Judges the window that ended, and picks the next pace.
    fn judge(&mut self, window: Load, elapsed: Duration) -> Result<(), Stop> {
        let Some(p) = self.pacing.as_mut() else {
            return Ok(());
        };
        if !window.pipelined(elapsed) {
            return Err(Stop::LoadGone);
        }
        let rate = window.rate(elapsed);
        let to_keep = if p.climbing {
            CLIMB_KEEP * p.good.map_or(p.rate, |(_, rate)| rate.max(p.rate))
        } else {
            KEEP * p.rate
        };
        let rate_kept = rate >= to_keep;
        let writes_saved = window.writes_per_frame() <= FEWER_WRITES * p.writes_per_frame;
        trace!(
            pace = ?p.pace,
            climbing = p.climbing,
            rate = rate / to_keep,
            writes_per_frame = window.writes_per_frame() / p.writes_per_frame,
            "round pacing judged a window (rate against the least to keep, writes against the unpaced load)"
        );
        // While climbing below the bound only the rate counts: the saving is judged where the
        // climb settles.
        let passed = rate_kept && (writes_saved || p.climbing && p.pace < self.max);
        // A pace tried for the first time that loses much more of the rate than noise moves
        // a window fails at once: the clients are out of messages to send.
        let far_below = p.climbing && rate < KEEP * to_keep;
        if !passed {
            p.misses += 1;
            if p.misses < STRIKES && !far_below {
                return Ok(());
            }
        }
        p.misses = 0;
        if !rate_kept {
            // Too long for the clients: settle at a shorter pace, judged on its own next; the
            // longest that kept the rate while climbing, half this one once settled.
            let shorter = if p.climbing {
                p.good.map(|(pace, _)| pace)
            } else {
                (p.pace > FIRST_PACE).then(|| (p.pace / 2).max(FIRST_PACE))
            };
            let Some(shorter) = shorter else {
                return Err(Stop::Failed);
            };
            self.settle(shorter);
            return Ok(());
        }
        if p.climbing && p.pace < self.max {
            p.good = Some((p.pace, rate));
            p.pace = (p.pace * 2).min(self.max);
            return Ok(());
        }
        if !writes_saved {
            // A retry that saves nothing at the bound goes back to where it climbed from.
            return match p.good {
                Some((pace, _)) if p.retrying => {
                    self.settle(pace);
                    Ok(())
                }
                _ => Err(Stop::Failed),
            };
        }
        p.climbing = false;
        self.backoff = BACKOFF_FIRST;
        self.resume = Some(p.pace);
        p.kept += 1;
        if p.kept >= RENEW_AFTER {
            return Err(Stop::Renew);
        }
        if p.pace < self.max {
            p.held.0 += 1;
            p.held.1 += rate;
            if p.held.0 >= self.retry_after {
                p.good = Some((p.pace, p.held.1 / f64::from(p.held.0)));
                p.pace = (p.pace * 2).min(self.max);
                p.climbing = true;
                p.retrying = true;
                p.held = (0, 0.0);
            }
        }
        Ok(())
    }

    /// Keeps `pace`, shorter than the one that failed, without climbing; after a retry that
    /// failed, the next one waits twice as long.
    fn settle(&mut self, pace: Duration) {
        let Some(p) = self.pacing.as_mut() else {
            return;
        };
        if std::mem::take(&mut p.retrying) {
            self.retry_after = self.retry_after.saturating_mul(2).min(RETRY_MAX);
        }
        p.pace = pace;
        p.climbing = false;
        p.held = (0, 0.0);
    }

    fn stop(&mut self, why: Stop) {
        self.pacing = None;
        self.baseline = None;
        if why != Stop::Renew {
            self.resume = None;
        }
        if why == Stop::Failed {
            self.rest = self.backoff;
            self.backoff = self.backoff.saturating_mul(2).min(BACKOFF_MAX);
        }
    }
}

/// Paces the runtime's rounds while `activity` shows pipelined load, until dropped. Rounds last
/// at most `max`.
pub(crate) async fn pace(activity: &Activity, max: Duration) {
    let mut pacer = Pacer::new(max);
    loop {
        let start = Instant::now();
        tokio::time::sleep(SAMPLE).await;
        let load = activity.take();
        if load == Load::default() {
            activity.quiet().await;
            continue;
        }
        let now = Instant::now();
        if !pacer.sample(load, now.saturating_duration_since(start), now) {
            continue;
        }
        debug!(
            frames_per_read = load.frames / load.reads.max(1),
            frames_per_write = load.frames / load.writes.max(1),
            "round pacing starts"
        );
        let mut woke = Instant::now();
        loop {
            // One round: every task that is ready runs before this one runs again.
            tokio::task::yield_now().await;
            let now = Instant::now();
            let work = now.saturating_duration_since(woke);
            let Some(wait) = pacer.round(activity.take(), work, now) else {
                debug!("round pacing stops");
                break;
            };
            if !wait.is_zero() {
                // The one worker waits on purpose: input gathers in the sockets meanwhile.
                std::thread::sleep(wait);
            }
            woke = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_millis(8);

    /// Frames in a sample at 300,000 a second.
    const SAMPLE_FRAMES: u64 = 300 * SAMPLE.as_millis() as u64;

    /// Load worth pacing: 300,000 frames a second, 15 per read, a write for every other
    /// frame.
    const PIPELINED_LOAD: Load = Load {
        frames: SAMPLE_FRAMES,
        reads: SAMPLE_FRAMES / 15,
        writes: SAMPLE_FRAMES / 2,
    };

    fn us(n: u64) -> Option<Duration> {
        Some(Duration::from_micros(n))
    }

    /// A pacer that started pacing, and when it did.
    fn started() -> (Pacer, Instant) {
        started_with(MAX)
    }

    /// A pacer bound to `max` that started pacing, and when it did.
    fn started_with(max: Duration) -> (Pacer, Instant) {
        let mut pacer = Pacer::new(max);
        let mut at = Instant::now();
        assert_eq!(baseline(&mut pacer, &mut at), BASELINE_SAMPLES);
        (pacer, at)
    }

    /// Samples pipelined load from `at` on until the pacing starts; answers how many samples
    /// that took, the last one included.
    fn baseline(pacer: &mut Pacer, at: &mut Instant) -> u32 {
        let mut samples = 1;
        while !pacer.sample(PIPELINED_LOAD, SAMPLE, *at) {
            assert_eq!(pacer.pace(), None);
            *at += SAMPLE;
            samples += 1;
            assert!(samples < 10_000, "never paces");
        }
        samples
    }

    /// What the server sees at a pace: frames a second, frames per read and per write.
    type Model = fn(Duration) -> (u64, u64, u64);

    /// Clients that keep sending at 300,000 frames a second whatever the pace, and rounds that
    /// gather five frames per write when they last 4 ms or more.
    fn pacing_pays(pace: Duration) -> (u64, u64, u64) {
        (300_000, 15, if pace >= MAX / 2 { 5 } else { 2 })
    }

    /// As [`pacing_pays`], but the clients slow down to 200,000 frames a second at paces
    /// over 4 ms.
    fn over_4ms_slows(pace: Duration) -> (u64, u64, u64) {
        let rate = if pace > MAX / 2 { 200_000 } else { 300_000 };
        (rate, 15, 5)
    }

    /// Runs rounds of 100 us of work each, as `model` says, from `at` until the pacer judges
    /// a window; answers the last wait and when the window ended.
    fn window(pacer: &mut Pacer, at: Instant, model: Model) -> (Option<Duration>, Instant) {
        let work = Duration::from_micros(100);
        let length = WINDOW.max(pacer.pace().unwrap_or_default() * WINDOW_ROUNDS);
        let mut now = at;
        loop {
            let pace = pacer.pace().unwrap_or_default();
            let (rate, per_read, per_write) = model(pace);
            let round = pace.max(work);
            let frames = rate * round.as_micros() as u64 / 1_000_000;
            now += round;
            let load = Load {
                frames,
                reads: frames / per_read,
                writes: frames / per_write,
            };
            let wait = pacer.round(load, work, now);
            if wait.is_none() || now.saturating_duration_since(at) >= length {
                return (wait, now);
            }
        }
    }

    /// The pace of each window until the pacing stops or `most` windows have passed.
    fn run_windows(
        pacer: &mut Pacer,
        at: &mut Instant,
        model: Model,
        most: usize,
    ) -> Vec<Duration> {
        let mut paces = vec![];
        while let Some(pace) = pacer.pace() {
            if paces.len() == most {
                break;
            }
            paces.push(pace);
            *at = window(pacer, *at, model).1;
        }
        paces
    }

    fn micros(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|&n| Duration::from_micros(n)).collect()
    }

    /// A hundred samples of `load` in a row start no pacing.
    fn never_paced(load: Load) {
        let t = Instant::now();
        let mut pacer = Pacer::new(MAX);
        for i in 0..100 {
            assert!(!pacer.sample(load, SAMPLE, t + SAMPLE * i), "{load:?}");
        }
    }

    #[test]
    fn pipelined_load_starts_pacing_at_the_first_pace_after_a_baseline_of_samples() {
        let mut pacer = Pacer::new(MAX);
        let mut start = Instant::now();
        assert_eq!(baseline(&mut pacer, &mut start), BASELINE_SAMPLES);
        assert_eq!(pacer.pace(), Some(FIRST_PACE));
        // The first round already waits out the rest of the pace.
        let work = Duration::from_micros(50);
        assert_eq!(
            pacer.round(Load::default(), work, start + work),
            Some(FIRST_PACE - work)
        );
    }

    #[test]
    fn a_quiet_sample_restarts_the_baseline() {
        let t = Instant::now();
        let mut pacer = Pacer::new(MAX);
        for i in 0..BASELINE_SAMPLES - 1 {
            assert!(!pacer.sample(PIPELINED_LOAD, SAMPLE, t + SAMPLE * i));
        }
        let mut at = t + SAMPLE * BASELINE_SAMPLES;
        assert!(!pacer.sample(Load::default(), SAMPLE, at));
        at += SAMPLE;
        assert_eq!(baseline(&mut pacer, &mut at), BASELINE_SAMPLES);
    }

    #[test]
    fn clients_that_wait_for_each_delivery_are_never_paced() {
        // As fast as pipelined load, but one frame per read: each client waits for its last
        // message to arrive before it sends the next. Three frames per read are not enough
        // either.
        for reads in [SAMPLE_FRAMES, SAMPLE_FRAMES / 3] {
            never_paced(Load {
                reads,
                ..PIPELINED_LOAD
            });
        }
    }

    #[test]
    fn light_load_is_never_paced() {
        // 4,000 frames a second: a busy chat room of people typing.
        never_paced(Load {
            frames: 4 * SAMPLE.as_millis() as u64,
            reads: 2,
            writes: 4 * SAMPLE.as_millis() as u64,
        });
    }

    #[test]
    fn rounds_that_already_fill_their_writes_are_never_paced() {
        // Ten frames per write: clients that batch their messages.
        never_paced(Load {
            writes: SAMPLE_FRAMES / 10,
            ..PIPELINED_LOAD
        });
    }

    #[test]
    fn a_busy_sample_between_quiet_ones_does_not_start_pacing() {
        let t = Instant::now();
        let mut pacer = Pacer::new(MAX);
        for i in 0..10 {
            let load = if i % 2 == 0 {
                PIPELINED_LOAD
            } else {
                Load::default()
            };
            assert!(!pacer.sample(load, SAMPLE, t + SAMPLE * i));
        }
    }

    #[test]
    fn the_pace_doubles_to_the_bound_and_stays_while_it_saves_writes_and_keeps_the_rate() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, pacing_pays, 10);
        assert_eq!(
            paces,
            micros(&[1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000, 8000, 8000])
        );
        assert_eq!(
            pacer.round(Load::default(), Duration::from_micros(100), at),
            Some(MAX - Duration::from_micros(100))
        );
    }

    #[test]
    fn the_pace_settles_at_the_longest_that_does_not_slow_the_clients() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 8);
        // 8 ms leaves the rate far below what the climb keeps: it fails at once.
        assert_eq!(
            paces,
            micros(&[1000, 2000, 4000, 8000, 4000, 4000, 4000, 4000])
        );
    }

    #[test]
    fn a_pace_that_saves_no_writes_is_given_up() {
        // Rounds that gather no more frames per write however long they last (clients spread
        // over many more recipients than a round reaches).
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, |_| (300_000, 15, 2), 100);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 8000]));
        assert_eq!(pacer.pace(), None);
    }

    #[test]
    fn one_window_that_misses_is_forgiven_and_two_in_a_row_fail_the_pace() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, pacing_pays, 5);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 8000]));
        let slowed: Model = |_| (100_000, 15, 5);
        let no_saving: Model = |_| (300_000, 15, 2);
        // A window that slows down, or saves nothing, between two that pass: the pace holds.
        for miss in [slowed, no_saving, slowed] {
            at = window(&mut pacer, at, miss).1;
            assert_eq!(pacer.pace(), us(8000));
            at = window(&mut pacer, at, pacing_pays).1;
            assert_eq!(pacer.pace(), us(8000));
        }
        // Two in a row that slow the clients down: a shorter pace.
        for _ in 0..STRIKES {
            assert_eq!(pacer.pace(), us(8000));
            at = window(&mut pacer, at, slowed).1;
        }
        assert_eq!(pacer.pace(), us(4000));
        // Two in a row that save nothing: the pacing stops.
        at = window(&mut pacer, at, no_saving).1;
        assert_eq!(pacer.pace(), us(4000));
        let (wait, _) = window(&mut pacer, at, no_saving);
        assert_eq!(wait, None);
        assert_eq!(pacer.pace(), None);
    }

    #[test]
    fn a_pace_that_loses_what_a_shorter_one_gained_is_too_long() {
        // Fuller deliveries let the clients send faster at 4 ms; 8 ms is still faster than
        // unpaced, but slower than 4 ms by more than KEEP allows.
        let (mut pacer, mut at) = started();
        let model: Model = |pace| match pace.as_micros() {
            4000 => (400_000, 15, 5),
            8000.. => (330_000, 15, 5),
            _ => (300_000, 15, 2),
        };
        let paces = run_windows(&mut pacer, &mut at, model, 8);
        assert_eq!(
            paces,
            micros(&[1000, 2000, 4000, 8000, 8000, 4000, 4000, 4000])
        );
        // Once settled, the pace is held to the unpaced rate: the clients falling back from
        // the climb's best to above the unpaced rate is no reason to shorten it.
        let paces = run_windows(&mut pacer, &mut at, |_| (330_000, 15, 5), 5);
        assert_eq!(paces, [Duration::from_millis(4); 5]);
    }

    #[test]
    fn a_climb_asks_more_of_the_rate_than_a_settled_pace() {
        // 8 ms keeps 88 % of the rate: enough to stay at, not enough to climb to.
        let (mut pacer, mut at) = started();
        let model: Model = |pace| {
            let rate = if pace >= MAX { 264_000 } else { 300_000 };
            (rate, 15, 5)
        };
        let paces = run_windows(&mut pacer, &mut at, model, 7);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 8000, 4000, 4000]));
        let paces = run_windows(&mut pacer, &mut at, |_| (264_000, 15, 5), 5);
        assert_eq!(paces, [Duration::from_millis(4); 5]);
    }

    #[test]
    fn a_settled_pace_that_slows_the_clients_is_halved() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, pacing_pays, 5);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 8000]));
        // The clients' windows shrink: 8 ms now slows them down, 4 ms does not.
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 6);
        assert_eq!(paces, micros(&[8000, 8000, 4000, 4000, 4000, 4000]));
    }

    #[test]
    fn after_a_failed_try_pacing_rests_twice_as_long_each_time() {
        let (mut pacer, mut at) = started();
        let mut rests = vec![];
        for _ in 0..3 {
            // Even the first pace slows the clients down.
            let paces = run_windows(&mut pacer, &mut at, |_| (100_000, 15, 5), 100);
            assert_eq!(paces, [FIRST_PACE]);
            rests.push(baseline(&mut pacer, &mut at) - BASELINE_SAMPLES);
        }
        let first = BACKOFF_FIRST;
        assert_eq!(rests, [first, 2 * first, 4 * first]);
    }

    #[test]
    fn a_kept_pace_measures_the_unpaced_load_again_and_resumes() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 100);
        // The climb, then RENEW_AFTER windows kept at the pace found, and between them the
        // retries of 8 ms, each failing at once.
        let kept = |n: u32| vec![Duration::from_millis(4); n as usize];
        let retry = || vec![Duration::from_millis(8)];
        let first = RETRY_FIRST;
        let expected = [
            micros(&[1000, 2000, 4000, 8000]),
            kept(first),
            retry(),
            kept(2 * first),
            retry(),
            kept(RENEW_AFTER - 3 * first),
        ]
        .concat();
        assert_eq!(paces, expected);
        assert_eq!(pacer.pace(), None);
        // A baseline of unpaced samples, without a rest, and the pacing resumes at the pace it
        // kept, without climbing again; the next retry still waits twice as long as the last.
        at += SAMPLE;
        assert_eq!(baseline(&mut pacer, &mut at), BASELINE_SAMPLES);
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 4 * first as usize + 2);
        assert_eq!(paces, [kept(4 * first), retry(), kept(1)].concat());
    }

    #[test]
    fn a_longer_pace_that_failed_is_tried_again_later() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 5);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 4000]));
        // The clients no longer slow down at 8 ms: after RETRY_FIRST windows kept at 4 ms, the
        // climb goes on.
        let paces = run_windows(&mut pacer, &mut at, pacing_pays, RETRY_FIRST as usize + 2);
        let mut expected = vec![Duration::from_millis(4); RETRY_FIRST as usize - 1];
        expected.extend(micros(&[8000, 8000, 8000]));
        assert_eq!(paces, expected);
    }

    #[test]
    fn a_retry_keeps_the_mean_rate_of_the_windows_it_climbs_from() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 5);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 4000]));
        // Windows at 4 ms of 300,000 to 480,000 frames a second, the fastest last: their mean
        // is 350,000.
        for i in 1..RETRY_FIRST {
            let model: Model = if i == RETRY_FIRST - 1 {
                |_| (480_000, 15, 5)
            } else if i % 2 == 0 {
                |_| (360_000, 15, 5)
            } else {
                |_| (320_000, 15, 5)
            };
            at = window(&mut pacer, at, model).1;
        }
        assert_eq!(pacer.pace(), us(8000));
        // 8 ms keeps 90 % of the mean, not of the last window: it holds.
        let paces = run_windows(&mut pacer, &mut at, |_| (330_000, 15, 5), 3);
        assert_eq!(paces, micros(&[8000, 8000, 8000]));
    }

    #[test]
    fn a_retry_that_saves_no_writes_at_the_bound_goes_back_and_pacing_goes_on() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 5);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 4000]));
        // 8 ms keeps the rate now, but its rounds gather no more frames per write than
        // unpaced ones.
        let model: Model = |pace| (300_000, 15, if pace >= MAX { 2 } else { 5 });
        let first = RETRY_FIRST as usize;
        let paces = run_windows(&mut pacer, &mut at, model, first + 2 + 2 * first + 1);
        let kept = |n: usize| vec![Duration::from_millis(4); n];
        let retry = || micros(&[8000, 8000]);
        let expected = [kept(first - 1), retry(), kept(2 * first), retry()].concat();
        assert_eq!(paces, expected);
    }

    #[test]
    fn a_failed_try_forgets_the_pace_it_kept() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 6);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 4000, 4000]));
        // Then every pace slows the clients down: halved down to the first, which fails.
        let paces = run_windows(&mut pacer, &mut at, |_| (100_000, 15, 5), 100);
        assert_eq!(paces, micros(&[4000, 4000, 2000, 2000, 1000, 1000]));
        baseline(&mut pacer, &mut at);
        let paces = run_windows(&mut pacer, &mut at, pacing_pays, 5);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 8000]));
    }

    #[test]
    fn pacing_stops_without_penalty_when_the_load_goes() {
        let (mut pacer, mut at) = started();
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 6);
        assert_eq!(paces, micros(&[1000, 2000, 4000, 8000, 4000, 4000]));
        // At once, not after STRIKES windows.
        let (wait, mut at) = window(&mut pacer, at, |_| (10_000, 15, 2));
        assert_eq!(wait, None);
        // No rest, and the next load is searched afresh.
        at += SAMPLE;
        assert_eq!(baseline(&mut pacer, &mut at), BASELINE_SAMPLES);
        assert_eq!(pacer.pace(), Some(FIRST_PACE));
    }

    #[test]
    fn a_new_start_tries_again_as_soon_as_the_first_one() {
        let (mut pacer, mut at) = started();
        let first = RETRY_FIRST as usize;
        let climb = micros(&[1000, 2000, 4000, 8000]);
        let kept = |n: usize| vec![Duration::from_millis(4); n];
        let retry = || micros(&[8000]);
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 4 + first + 1 + 1);
        assert_eq!(
            paces,
            [climb.clone(), kept(first), retry(), kept(1)].concat()
        );
        // The load goes and comes back: the first retry after RETRY_FIRST windows again.
        let (wait, next) = window(&mut pacer, at, |_| (10_000, 15, 2));
        assert_eq!(wait, None);
        at = next + SAMPLE;
        baseline(&mut pacer, &mut at);
        let paces = run_windows(&mut pacer, &mut at, over_4ms_slows, 4 + first + 1);
        assert_eq!(paces, [climb, kept(first), retry()].concat());
    }

    #[test]
    fn a_bound_under_the_first_pace_is_the_only_pace() {
        let bound = Duration::from_micros(100);
        let (mut pacer, mut at) = started_with(bound);
        let paces = run_windows(&mut pacer, &mut at, |_| (300_000, 15, 5), 3);
        assert_eq!(paces, [bound, bound, bound]);
    }

    #[tokio::test]
    async fn a_quiet_pacer_wakes_at_the_next_read() {
        let activity = std::sync::Arc::new(Activity::default());
        let waiting = tokio::spawn({
            let activity = std::sync::Arc::clone(&activity);
            async move { activity.quiet().await }
        });
        // Let it wait, then read.
        while !activity.idle.load(Ordering::Acquire) {
            tokio::task::yield_now().await;
        }
        activity.read();
        tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the read did not wake the pacer")
            .unwrap();
        // A read made just before the pacer looks is not missed either.
        activity.read();
        tokio::time::timeout(Duration::from_secs(10), activity.quiet())
            .await
            .expect("a counted read did not end the wait");
    }

    #[test]
    fn a_round_longer_than_the_pace_does_not_wait() {
        let (mut pacer, start) = started();
        let work = MAX * 3;
        assert_eq!(
            pacer.round(PIPELINED_LOAD, work, start + work),
            Some(Duration::ZERO)
        );
    }
}
