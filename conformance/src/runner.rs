//! Running cases against a target: one at a time, each with its own names, each on a server
//! started afresh when the harness starts it (so that no verdict depends on what ran before),
//! each followed by a liveness check through the sentinel that tells a crashed or hung server
//! apart from a wrong reply. The case's connections stay open until that check is done: what
//! a server does when they close is not the case's business.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::case::{Case, Ctx, FailureKind, Suite, Verdict};
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
    /// A case finished.
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

/// Runs the selected cases against a started target whose dialect is known.
pub async fn run(target: &mut Target, options: &RunOptions, observer: &mut dyn Observer) -> Report {
    let cases = options.selected();
    let run_tag = options.tag.clone().unwrap_or_else(random_tag);
    let started = Instant::now();
    observer.started(cases.len(), &target.describe());
    let mut reports = Vec::with_capacity(cases.len());
    let mut down: Option<String> = None;
    let mut silent_cases = 0;
    let mut needs_fresh = false;
    // Set once the server has been left unclean by a case: from then on every case gets a
    // fresh server, instead of a wait for names that do not go.
    let mut always_fresh = false;
    let mut previous_names: Vec<String> = Vec::new();
    let mut others_only_noticed = false;
    let guard = (options.timeout * 10).max(Duration::from_secs(10));
    let lenient = Arc::new(Profile {
        matching: crate::profile::Matching::Lenient,
        ..(*options.profile).clone()
    });
    let server = target.traits().cloned().unwrap_or_default();
    for (index, case) in cases.iter().enumerate() {
        // A server the harness starts is started afresh when starting costs nothing, for the
        // example run and the rubric (each row on a fresh server, as a grader plays them, so
        // that no score depends on what ran before), for a case that needs the server to
        // itself, and whenever the last case left it unclean. Otherwise the same process goes
        // on, with the sentinel connected.
        let wants_fresh = target.restartable()
            && (target.cheap_to_restart()
                || always_fresh
                || matches!(case.suite, Suite::Example | Suite::Rubric)
                || case.alone
                || !target.has_sentinel());
        let mut fresh_now = needs_fresh || (index > 0 && wants_fresh);
        if down.is_none() && !fresh_now && index > 0 && !target.cheap_to_restart() {
            // The same server goes on: wait (briefly) until it has let go of the last case's
            // names, so that this case does not see them. One that keeps them, or no longer
            // answers the sentinel, is started afresh if the harness can, and from then on
            // for every case; otherwise a server that keeps names (CONN-3) is the business of
            // the cases that check it, not a reason to stall the run.
            let wait = options.timeout.min(Duration::from_millis(500));
            let clean = target.await_gone(&previous_names, wait).await;
            if !clean && target.restartable() {
                always_fresh = true;
                fresh_now = true;
            }
        }
        if down.is_none() && fresh_now {
            if let Err(e) = target.fresh().await {
                let msg = format!(
                    "the server could not be started again before {}: {e}",
                    case.id
                );
                observer.notice(&msg);
                down = Some(msg);
            }
            needs_fresh = false;
        }
        // On a server started for this case, the sentinel joins first, unless the case needs
        // the server to itself: a server that serves its sockets in order then serves the
        // sentinel before anything a case leaves behind, as it would a client started
        // first. (The embedded server is asked after the case instead, so that its
        // transcripts show the case's own names only.)
        if down.is_none()
            && target.restartable()
            && !target.cheap_to_restart()
            && !case.alone
            && !target.has_sentinel()
        {
            let _ = target.join_sentinel(options.timeout).await;
        }
        if let Some(why) = &down {
            let report = CaseReport::not_run(case, why);
            observer.finished(index, cases.len(), &report);
            reports.push(report);
            continue;
        }
        let Some(addr) = target.addr() else {
            break;
        };
        // The grading sheet judges leniently, whatever the profile.
        let profile = if case.suite == Suite::Rubric {
            lenient.clone()
        } else {
            options.profile.clone()
        };
        // The case has the server to itself when the harness started it and no sentinel is
        // connected.
        let alone = target.owned() && !target.has_sentinel();
        let mut ctx = Ctx::new(
            profile,
            addr,
            options.timeout,
            alone,
            case_tag(&run_tag, index),
        );
        ctx.server = server.clone();
        ctx.listed = target.sentinel().cloned().into_iter().collect();
        ctx.lists_others_only = target.lists_others_only();
        let t0 = Instant::now();
        let outcome = tokio::time::timeout(guard, (case.run)(&mut ctx)).await;
        let duration = t0.elapsed();
        if let Some(header) =
            crate::wire::padded_header(ctx.profile.dialect.framing, &ctx.transcript().events())
        {
            ctx.deviation(format!(
                "length fields are padded with spaces (`{header}`), read as decimal lengths \
                 (DIALECT-6)"
            ));
        }
        let (mut verdict, failure) = match outcome {
            Ok(Ok(())) if ctx.is_informational() => (Verdict::Informational, None),
            Ok(Ok(())) if !ctx.deviations().is_empty() => (Verdict::PassWithDeviation, None),
            Ok(Ok(())) => (Verdict::Pass, None),
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
                    format!("the case to finish within {} s", guard.as_secs()),
                    "the server answered too slowly for the case to finish",
                )),
            ),
        };
        // The liveness check, while the case's connections are still open: a wrong reply, a
        // crash and a hang are different verdicts.
        let mut liveness = None;
        match target.liveness(options.timeout).await {
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
        if target.lists_others_only() && !others_only_noticed {
            others_only_noticed = true;
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
        silent_cases = if heard { 0 } else { silent_cases + 1 };
        let report = CaseReport::new(
            case,
            verdict,
            failure,
            liveness.clone(),
            &ctx,
            events,
            duration,
        );
        observer.finished(index, cases.len(), &report);
        let failed = report.verdict.is_failure();
        reports.push(report);
        if options.fail_fast && failed && index + 1 < cases.len() {
            let msg = format!(
                "--fail-fast: stopped after the first failing case, {}; the rest are not run",
                case.id
            );
            observer.notice(&msg);
            down = Some(msg);
            continue;
        }
        if silent_cases >= SILENT_CASES && index + 1 < cases.len() {
            let msg = format!(
                "the server answered nothing in the last {SILENT_CASES} cases; the rest are not run"
            );
            observer.notice(&msg);
            down = Some(msg);
            continue;
        }
        if let Some(why) = liveness {
            if target.restartable() {
                observer.notice(&format!("restarting the server after {}", case.id));
                target.restarts += 1;
                needs_fresh = true;
            } else if target.owned() {
                observer.notice(&format!("restarting the server after {}", case.id));
                match target
                    .restart(options.restart_deadline, options.timeout)
                    .await
                {
                    Ok(_) => observer.notice(&format!("restarted: {}", target.describe())),
                    Err(e) => {
                        let msg = format!(
                            "the server is down since {} ({why}) and could not be restarted: {e}",
                            case.id
                        );
                        observer.notice(&msg);
                        down = Some(msg);
                    }
                }
            } else {
                down = Some(format!("the server is down since {} ({why})", case.id));
            }
        }
        previous_names = ctx.registered_names();
    }
    Report {
        profile: (*options.profile).clone(),
        target: target.describe(),
        suites: options.suites.clone(),
        cases: reports,
        duration: started.elapsed(),
        restarts: target.restarts,
        dialect: None,
    }
}
