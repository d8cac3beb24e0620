//! Running cases against a target: one at a time, each with its own names, each followed by a
//! liveness probe that tells a crashed or hung server apart from a wrong reply, with a restart
//! after a crash when the harness owns the server.

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

/// A short tag that makes this run's names unlikely to meet another run's on a shared server.
fn random_tag() -> String {
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
    let alphabet = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut tag = String::new();
    for _ in 0..3 {
        tag.push(char::from(alphabet[(n % alphabet.len() as u64) as usize]));
        n /= alphabet.len() as u64;
    }
    tag
}

/// A case's names tag: the run's tag and the case's number.
fn case_tag(run: &str, index: usize) -> String {
    format!("{run}{index:02}")
}

/// Waits, briefly, until the names a case registered are no longer listed: its connections
/// are closed, but the server notices on its own schedule, and the next case should not see
/// them. Bounded by `timeout` (and half a second): a server that keeps names (CONN-3) is the
/// business of the cases that check it, not a reason to stall the run.
async fn settle(target: &Target, profile: &Profile, names: Vec<String>, timeout: Duration) {
    // An empty list cannot be sent in raw framing (DIALECT-5): nothing to wait for.
    if names.is_empty() || profile.framing == confab::protocol::Framing::Raw {
        return;
    }
    let Some(addr) = target.addr() else {
        return;
    };
    let wait = timeout.min(Duration::from_millis(500));
    let deadline = tokio::time::Instant::now() + wait;
    let transcript = crate::wire::Transcript::new();
    let Ok(mut conn) =
        crate::wire::Conn::connect(addr, "settle", profile.framing, &transcript, wait).await
    else {
        return;
    };
    let mut ask = Vec::new();
    confab::protocol::Command::GetNames.encode(profile.spelling, &mut ask);
    while tokio::time::Instant::now() < deadline {
        if conn.send_payload(&ask).await.is_err() {
            return;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match conn.recv(left).await {
            crate::wire::Received::Frame(list) => {
                let words = crate::judge::words(&list);
                if !names.iter().any(|n| words.contains(&n.as_str())) {
                    return;
                }
            }
            _ => return,
        }
        // Polling the server's list, bounded by `deadline`.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Runs the selected cases against a started target.
pub async fn run(target: &mut Target, options: &RunOptions, observer: &mut dyn Observer) -> Report {
    let cases = options.selected();
    let run_tag = options.tag.clone().unwrap_or_else(random_tag);
    let started = Instant::now();
    observer.started(cases.len(), &target.describe());
    let mut reports = Vec::with_capacity(cases.len());
    let mut down: Option<String> = None;
    let guard = (options.timeout * 20).max(Duration::from_secs(30));
    let lenient = Arc::new(Profile {
        matching: crate::profile::Matching::Lenient,
        ..(*options.profile).clone()
    });
    for (index, case) in cases.iter().enumerate() {
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
        let mut ctx = Ctx::new(
            profile,
            addr,
            options.timeout,
            target.owned(),
            case_tag(&run_tag, index),
        );
        let t0 = Instant::now();
        let outcome = tokio::time::timeout(guard, (case.run)(&mut ctx)).await;
        let duration = t0.elapsed();
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
        // Every case is followed by a liveness probe: a wrong reply, a crash and a hang are
        // different verdicts.
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
        let events = ctx.transcript().events();
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
        reports.push(report);
        if liveness.is_none() {
            settle(
                target,
                &options.profile,
                ctx.registered_names(),
                options.timeout,
            )
            .await;
        }
        if let Some(why) = liveness {
            if target.owned() {
                observer.notice(&format!("restarting the server after {}", case.id));
                match target.restart(options.restart_deadline).await {
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
    }
    Report {
        profile: (*options.profile).clone(),
        target: target.describe(),
        suites: options.suites.clone(),
        cases: reports,
        duration: started.elapsed(),
        restarts: target.restarts,
    }
}
