//! Running cases against a target: one at a time on each copy of the server (a lane; a server
//! the harness starts runs several copies at once, each with its share of the cases), each
//! with its own names, each on a server started afresh when the harness starts it (so that no
//! verdict depends on what ran before),
//! each followed by a liveness check through the sentinel that tells a crashed or hung server
//! apart from a wrong reply. The case's connections stay open until that check is done: what
//! a server does when they close is not the case's business.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::case::{Case, Check, Ctx, FailureKind, Suite, Verdict};
use crate::profile::Profile;
use crate::report::{CaseReport, Report};
use crate::suites;
use crate::target::{Liveness, Target};

/// What to run and how.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub profile: Arc<Profile>,
    /// Suites to run, in this order.
    pub suites: Vec<Suite>,
    /// Only cases whose ID starts with one of these (all when empty).
    pub only: Vec<String>,
    /// How long to wait for a reply that is due.
    pub timeout: Duration,
    /// A fixed tag for names (for reproducible transcripts); random when `None`.
    pub tag: Option<String>,
    /// How long to keep trying to restart a crashed server.
    pub restart_deadline: Duration,
    /// Stop after the first case that fails, crashes or hangs the server; the rest are
    /// reported as not run.
    pub fail_fast: bool,
    /// How many copies of a server the harness starts on a port of its choosing run cases at
    /// once, each its share ([`plan_lanes`]); 1 runs every case on one copy.
    pub lanes: usize,
}

impl RunOptions {
    /// Defaults for `profile`: every suite, a 2 s timeout.
    pub fn new(profile: Profile) -> RunOptions {
        RunOptions {
            profile: Arc::new(profile),
            suites: Suite::ALL.to_vec(),
            only: Vec::new(),
            timeout: Duration::from_secs(2),
            tag: None,
            restart_deadline: Duration::from_secs(70),
            fail_fast: false,
            lanes: 3,
        }
    }

    /// The cases these options select, in run order.
    pub fn selected(&self) -> Vec<Case> {
        suites::all()
            .into_iter()
            .filter(|c| self.suites.contains(&c.suite))
            .filter(|c| {
                self.only.is_empty() || self.only.iter().any(|p| c.id.starts_with(p.as_str()))
            })
            .collect()
    }
}

/// Hears about the run as it goes, for progress display.
pub trait Observer {
    /// The run is about to start `total` cases.
    fn started(&mut self, _total: usize, _target: &str) {}
    /// The case at `index` in run order finished (cases on several lanes finish out of
    /// order).
    fn finished(&mut self, _index: usize, _total: usize, _case: &CaseReport) {}
    /// Something worth telling the user (a restart, say).
    fn notice(&mut self, _message: &str) {}
}

/// An observer that shows nothing.
pub struct Silent;

impl Observer for Silent {}

/// A short tag of letters that makes this run's names unlikely to meet another run's on a
/// shared server.
pub fn random_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    let mut n = h.finish();
    let alphabet = b"abcdefghijkmnpqrstuvwxyz";
    let mut tag = String::new();
    for _ in 0..3 {
        tag.push(char::from(alphabet[(n % alphabet.len() as u64) as usize]));
        n /= alphabet.len() as u64;
    }
    tag
}

/// A case's names tag: the run's tag and the case's number, in letters.
fn case_tag(run: &str, index: usize) -> String {
    let n = crate::case::letters(u32::try_from(index).unwrap_or(u32::MAX));
    format!("{run}{n:a>2}")
}

/// After this many cases in a row in which the server sent nothing at all, the run stops.
const SILENT_CASES: usize = 3;

/// Runs the selected cases against a started target whose dialect is known, one at a time.
pub async fn run(target: &mut Target, options: &RunOptions, observer: &mut dyn Observer) -> Report {
    run_in_lanes(target, 1, options, observer).await
}

/// How the cases of a run are shared among copies of a server started for it (JUDGE-23),
/// as indices into the run's cases, each list in run order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Run first, one after another on the first copy: the example run and the rubric,
    /// after whose rows the sentinel has seen lists of several names (JUDGE-17).
    pub first: Vec<usize>,
    /// Then run at once, a lane per copy, the first lane on the first copy.
    pub lanes: Vec<Vec<usize>>,
}

/// Shares `cases` among up to `lanes` copies: the example run and the rubric first, then the
/// spec cases dealt in turn to every lane but the last and robustness to the last. With one
/// lane, every case is run first.
pub fn plan_lanes(cases: &[Case], lanes: usize) -> Plan {
    if lanes <= 1 {
        return Plan {
            first: (0..cases.len()).collect(),
            lanes: Vec::new(),
        };
    }
    let mut plan = Plan {
        first: Vec::new(),
        lanes: vec![Vec::new(); lanes],
    };
    let mut spec = 0;
    for (index, case) in cases.iter().enumerate() {
        match case.suite {
            Suite::Example | Suite::Rubric => plan.first.push(index),
            Suite::Spec => {
                plan.lanes[spec % (lanes - 1)].push(index);
                spec += 1;
            }
            Suite::Robustness => plan.lanes[lanes - 1].push(index),
        }
    }
    plan.lanes.retain(|lane| !lane.is_empty());
    plan
}

/// Runs the selected cases on `target`: the plan's first cases one after another, then its
/// lanes at once, each on a copy of the server started for it ([`Target::twin`]), and reports
/// them in run order. Names are the run's and the case's, so no two lanes meet; a lane that
/// crashes or stalls its copy does not touch the others. A copy that cannot be started
/// leaves its cases to the first.
pub async fn run_in_lanes(
    target: &mut Target,
    lanes: usize,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Report {
    let cases = options.selected();
    let Plan { first, mut lanes } = plan_lanes(&cases, lanes);
    let run_tag = options.tag.clone().unwrap_or_else(random_tag);
    let started = Instant::now();
    observer.started(cases.len(), &target.describe());
    let shared = std::cell::RefCell::new(Told {
        observer,
        notices: Default::default(),
    });
    let run = Run {
        cases: &cases,
        tag: &run_tag,
        options,
    };
    let mut state = Lane::new(target, options);
    let mut reports: Vec<(usize, CaseReport)> = Vec::with_capacity(cases.len());
    reports.extend(
        state
            .run(target, &run, &first, lanes.is_empty(), &mut Shared(&shared))
            .await,
    );
    let mut twins = Vec::new();
    while twins.len() + 1 < lanes.len() {
        let twin = match &state.down {
            Some(why) => Err(why.clone()),
            None => target
                .twin(options.timeout)
                .await
                .map_err(|e| e.to_string()),
        };
        match twin {
            Ok(twin) => twins.push(twin),
            Err(why) => {
                if state.down.is_none() {
                    Shared(&shared).notice(&format!(
                        "another copy of the server could not be started ({why}): its cases \
                         run on the first"
                    ));
                }
                let orphans: Vec<usize> = lanes.drain(twins.len() + 1..).flatten().collect();
                if let Some(lane) = lanes.first_mut() {
                    lane.extend(orphans);
                    lane.sort_unstable();
                }
            }
        }
    }
    let mut lanes = lanes.into_iter();
    let mut runs = Vec::new();
    if let Some(lane) = lanes.next() {
        runs.push((&mut *target, state, lane));
    }
    for (twin, lane) in twins.iter_mut().zip(lanes) {
        let state = Lane::new(twin, options);
        runs.push((twin, state, lane));
    }
    let runs = runs.into_iter().map(|(target, mut state, lane)| {
        let mut observer = Shared(&shared);
        let run = &run;
        async move { state.run(target, run, &lane, true, &mut observer).await }
    });
    for lane_reports in futures::future::join_all(runs).await {
        reports.extend(lane_reports);
    }
    let restarts = target.restarts + twins.iter().map(|t| t.restarts).sum::<u32>();
    for twin in &mut twins {
        twin.stop().await;
    }
    reports.sort_by_key(|(index, _)| *index);
    Report {
        profile: (*options.profile).clone(),
        target: target.describe(),
        suites: options.suites.clone(),
        cases: reports.into_iter().map(|(_, r)| r).collect(),
        duration: started.elapsed(),
        restarts,
        dialect: None,
    }
}

/// The run's observer and the notices it has been given, which it is given once however many
/// lanes find the same (JUDGE-17).
struct Told<'o> {
    observer: &'o mut dyn Observer,
    notices: std::collections::HashSet<String>,
}

/// The observer as one lane sees it; each call holds it only while it runs.
struct Shared<'a, 'o>(&'a std::cell::RefCell<Told<'o>>);

impl Observer for Shared<'_, '_> {
    fn started(&mut self, total: usize, target: &str) {
        self.0.borrow_mut().observer.started(total, target);
    }
    fn finished(&mut self, index: usize, total: usize, case: &CaseReport) {
        self.0.borrow_mut().observer.finished(index, total, case);
    }
    fn notice(&mut self, message: &str) {
        let mut told = self.0.borrow_mut();
        if told.notices.insert(message.to_owned()) {
            told.observer.notice(message);
        }
    }
}

/// What every lane of a run shares.
struct Run<'a> {
    cases: &'a [Case],
    tag: &'a str,
    options: &'a RunOptions,
}

/// What one copy of the server has shown so far, as its cases run one after another.
struct Lane {
    /// Why the copy can no longer be used: its cases are not run.
    down: Option<String>,
    /// Cases in a row in which the server sent nothing.
    silent_cases: usize,
    /// The last case crashed or hung the copy.
    needs_fresh: bool,
    /// Set once the server has been left unclean by a case: from then on every case gets a
    /// fresh server, instead of a wait for names that do not go.
    always_fresh: bool,
    /// The names the last case registered.
    previous_names: Vec<String>,
    /// Cases run on this copy so far.
    position: usize,
    others_only_noticed: bool,
    guard: Duration,
    lenient: Arc<Profile>,
    server: crate::sentinel::ServerTraits,
}

impl Lane {
    fn new(target: &Target, options: &RunOptions) -> Lane {
        Lane {
            down: None,
            silent_cases: 0,
            needs_fresh: false,
            always_fresh: false,
            previous_names: Vec::new(),
            position: 0,
            others_only_noticed: false,
            guard: (options.timeout * 10).max(Duration::from_secs(10)),
            lenient: Arc::new(Profile {
                matching: crate::profile::Matching::Lenient,
                ..(*options.profile).clone()
            }),
            server: target.traits().cloned().unwrap_or_default(),
        }
    }

    /// Runs `case` once on the started `target`, with a context of its own; `None` if the
    /// server has no address.
    async fn attempt(
        &self,
        target: &Target,
        run: &Run<'_>,
        case: &Case,
        index: usize,
    ) -> Option<(Ctx, Result<Check, tokio::time::error::Elapsed>, Duration)> {
        let addr = target.addr()?;
        // The grading sheet judges leniently, whatever the profile.
        let profile = if case.suite == Suite::Rubric {
            self.lenient.clone()
        } else {
            run.options.profile.clone()
        };
        // The case has the server to itself when the harness started it and no sentinel is
        // connected.
        let alone = target.owned() && !target.has_sentinel();
        let mut ctx = Ctx::new(
            profile,
            addr,
            run.options.timeout,
            alone,
            case_tag(run.tag, index),
        );
        ctx.server = self.server.clone();
        ctx.listed = target.sentinel().cloned().into_iter().collect();
        ctx.lists_others_only = target.lists_others_only();
        let t0 = Instant::now();
        let outcome = tokio::time::timeout(self.guard, (case.run)(&mut ctx)).await;
        let duration = t0.elapsed();
        if let Some(header) =
            crate::wire::padded_header(ctx.profile.dialect.framing, &ctx.transcript().events())
        {
            ctx.deviation(format!(
                "length fields are padded with spaces (`{header}`), read as decimal lengths \
                 (DIALECT-6)"
            ));
        }
        Some((ctx, outcome, duration))
    }

    /// Plays a row that did all it asks, after which the server died when the sentinel asked
    /// for the names, again on a fresh server, and waits with the row's connections open
    /// without asking anything (JUDGE-28). A note saying so if the row passes again and the
    /// server lives on; `None` if it dies unasked, or the row fails this time.
    async fn replay_unasked(
        &self,
        target: &mut Target,
        run: &Run<'_>,
        case: &Case,
        index: usize,
    ) -> Option<String> {
        target.fresh().await.ok()?;
        target.join_sentinel(run.options.timeout).await.ok()?;
        let (ctx, outcome, _) = self.attempt(target, run, case, index).await?;
        if !matches!(outcome, Ok(Ok(()))) {
            return None;
        }
        let died = target.exits_within(confab::detect::SETTLE).await;
        drop(ctx);
        match died {
            Some(_) => None,
            None => Some(
                "the server died when the harness's sentinel asked for the names after this row, \
                 with the row's connections open; played again on a fresh server, the row passed \
                 and the server lived on while nobody asked: the row is judged on what it asks \
                 (JUDGE-28)"
                    .to_owned(),
            ),
        }
    }

    /// Runs `lane` (indices into the run's cases, in order) on `target`, one at a time;
    /// `ends` when no case follows them on this copy.
    async fn run(
        &mut self,
        target: &mut Target,
        run: &Run<'_>,
        lane: &[usize],
        ends: bool,
        observer: &mut dyn Observer,
    ) -> Vec<(usize, CaseReport)> {
        let mut reports = Vec::with_capacity(lane.len());
        for (at, &index) in lane.iter().enumerate() {
            let case = &run.cases[index];
            let last = ends && at + 1 == lane.len();
            let position = self.position;
            self.position += 1;
            // A server the harness starts is started afresh when starting costs nothing, for the
            // example run and the rubric (each row on a fresh server, as a grader plays them, so
            // that no score depends on what ran before), for a case that needs the server to
            // itself, and whenever the last case left it unclean. Otherwise the same process goes
            // on, with the sentinel connected.
            let wants_fresh = target.restartable()
                && (target.cheap_to_restart()
                    || self.always_fresh
                    || matches!(case.suite, Suite::Example | Suite::Rubric)
                    || case.alone
                    || !target.has_sentinel());
            let mut fresh_now = self.needs_fresh || (position > 0 && wants_fresh);
            if self.down.is_none() && !fresh_now && position > 0 && !target.cheap_to_restart() {
                // The same server goes on: wait (briefly) until it has let go of the last case's
                // names, so that this case does not see them. One that keeps them, or no longer
                // answers the sentinel, is started afresh if the harness can, and from then on
                // for every case; otherwise a server that keeps names (CONN-3) is the business of
                // the cases that check it, not a reason to stall the run.
                let wait = run.options.timeout.min(Duration::from_millis(500));
                let clean = target.await_gone(&self.previous_names, wait).await;
                if !clean && target.restartable() {
                    self.always_fresh = true;
                    fresh_now = true;
                }
            }
            if self.down.is_none() && fresh_now {
                if let Err(e) = target.fresh().await {
                    let msg = format!(
                        "the server could not be started again before {}: {e}",
                        case.id
                    );
                    observer.notice(&msg);
                    self.down = Some(msg);
                }
                self.needs_fresh = false;
            }
            // On a server started for this case, the sentinel joins first, unless the case needs
            // the server to itself: a server that serves its sockets in order then serves the
            // sentinel before anything a case leaves behind, as it would a client started
            // first. (The embedded server is asked after the case instead, so that its
            // transcripts show the case's own names only.)
            if self.down.is_none()
                && target.restartable()
                && !target.cheap_to_restart()
                && !case.alone
                && !target.has_sentinel()
            {
                let _ = target.join_sentinel(run.options.timeout).await;
            }
            if let Some(why) = &self.down {
                let report = CaseReport::not_run(case, why);
                observer.finished(index, run.cases.len(), &report);
                reports.push((index, report));
                continue;
            }
            let Some((mut ctx, outcome, duration)) = self.attempt(target, run, case, index).await
            else {
                break;
            };
            let passed = matches!(outcome, Ok(Ok(())));
            let (mut verdict, failure) = match outcome {
                Ok(Ok(())) => (passed_verdict(&ctx), None),
                Ok(Err(f)) => {
                    let v = match f.kind {
                        FailureKind::Unsupported => Verdict::Unsupported,
                        FailureKind::Harness => Verdict::HarnessError,
                        _ => Verdict::Fail,
                    };
                    (v, Some(f))
                }
                // Every wait in a case is bounded; a case that still runs out of time has a
                // server that answers, but too slowly to be usable.
                Err(_) => (
                    Verdict::Fail,
                    Some(ctx.fail(
                        FailureKind::NoReply,
                        format!("the case to finish within {} s", self.guard.as_secs()),
                        "the server answered too slowly for the case to finish",
                    )),
                ),
            };
            // The liveness check, while the case's connections are still open: a wrong reply, a
            // crash and a hang are different verdicts.
            let mut liveness = None;
            match target.liveness(run.options.timeout).await {
                Liveness::Alive => {}
                Liveness::Crashed(why) => {
                    verdict = Verdict::ServerCrashed;
                    liveness = Some(why);
                }
                Liveness::Hung(why) => {
                    verdict = Verdict::ServerHung;
                    liveness = Some(why);
                }
            }
            // A row of the grading sheet that did all it asks is judged on that alone: a server
            // that dies on the sentinel's question, not on the row, has not failed the row
            // (JUDGE-28).
            if passed
                && verdict == Verdict::ServerCrashed
                && case.suite == Suite::Rubric
                && target.restartable()
                && !target.cheap_to_restart()
                && let Some(note) = self.replay_unasked(target, run, case, index).await
            {
                ctx.note(note);
                verdict = passed_verdict(&ctx);
                liveness = None;
                self.needs_fresh = true;
            }
            if target.lists_others_only() && !self.others_only_noticed {
                self.others_only_noticed = true;
                observer.notice(
                    "the server's names lists leave out the asker, as the sentinel's show: from \
                     here on such a list is taken as the reply and judged at once (JUDGE-17)",
                );
            }
            ctx.transcript().release_held();
            let events = ctx.transcript().events();
            // A case that sent nothing (one not observable on the wire) says nothing of silence.
            let heard = events
                .iter()
                .any(|e| matches!(e.kind, crate::wire::EventKind::Received(_)))
                || !events
                    .iter()
                    .any(|e| matches!(e.kind, crate::wire::EventKind::Sent(_)));
            self.silent_cases = if heard { 0 } else { self.silent_cases + 1 };
            let report = CaseReport::new(
                case,
                verdict,
                failure,
                liveness.clone(),
                &ctx,
                events,
                duration,
            );
            observer.finished(index, run.cases.len(), &report);
            let failed = report.verdict.is_failure();
            reports.push((index, report));
            if run.options.fail_fast && failed && !last {
                let msg = format!(
                    "--fail-fast: stopped after the first failing case, {}; the rest are not run",
                    case.id
                );
                observer.notice(&msg);
                self.down = Some(msg);
                continue;
            }
            if self.silent_cases >= SILENT_CASES && !last {
                let msg = format!(
                    "the server answered nothing in the last {SILENT_CASES} cases; the rest are not run"
                );
                observer.notice(&msg);
                self.down = Some(msg);
                continue;
            }
            if let Some(why) = liveness {
                if target.restartable() {
                    observer.notice(&format!("restarting the server after {}", case.id));
                    target.restarts += 1;
                    self.needs_fresh = true;
                } else if target.owned() {
                    observer.notice(&format!("restarting the server after {}", case.id));
                    match target
                        .restart(run.options.restart_deadline, run.options.timeout)
                        .await
                    {
                        Ok(_) => observer.notice(&format!("restarted: {}", target.describe())),
                        Err(e) => {
                            let msg = format!(
                                "the server is down since {} ({why}) and could not be restarted: {e}",
                                case.id
                            );
                            observer.notice(&msg);
                            self.down = Some(msg);
                        }
                    }
                } else {
                    self.down = Some(format!("the server is down since {} ({why})", case.id));
                }
            }
            self.previous_names = ctx.registered_names();
        }
        reports
    }
}

/// The verdict of a case that did all it asks.
fn passed_verdict(ctx: &Ctx) -> Verdict {
    if ctx.is_informational() {
        Verdict::Informational
    } else if !ctx.deviations().is_empty() {
        Verdict::PassWithDeviation
    } else {
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_run_and_the_rubric_come_first_and_the_rest_is_dealt_to_lanes() {
        let cases = suites::all();
        let suite = |i: &usize| cases[*i].suite;
        let one = plan_lanes(&cases, 1);
        assert_eq!(one.first, (0..cases.len()).collect::<Vec<_>>());
        assert!(one.lanes.is_empty());
        let plan = plan_lanes(&cases, 3);
        assert!(!plan.first.is_empty());
        assert!(
            plan.first
                .iter()
                .all(|i| matches!(suite(i), Suite::Example | Suite::Rubric))
        );
        assert_eq!(plan.lanes.len(), 3);
        for lane in &plan.lanes[..2] {
            assert!(lane.iter().all(|i| suite(i) == Suite::Spec));
            assert!(lane.windows(2).all(|w| w[0] < w[1]), "in run order");
        }
        let (a, b) = (plan.lanes[0].len(), plan.lanes[1].len());
        assert!(a.abs_diff(b) <= 1, "spec cases dealt in turn: {a} and {b}");
        assert!(plan.lanes[2].iter().all(|i| suite(i) == Suite::Robustness));
        let mut all: Vec<usize> = plan
            .first
            .iter()
            .chain(plan.lanes.iter().flatten())
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..cases.len()).collect::<Vec<_>>(), "every case once");
        let spec_only: Vec<Case> = cases
            .iter()
            .filter(|c| c.suite == Suite::Spec)
            .cloned()
            .collect();
        let plan = plan_lanes(&spec_only, 3);
        assert!(plan.first.is_empty());
        assert_eq!(plan.lanes.len(), 2, "no lane without cases");
    }
}
