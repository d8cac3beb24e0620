//! Finding a server's dialect from its answers to the first `NAME`: every likely framing in
//! turn, restarting a server that a wrong guess left unclean.

use std::time::Duration;

use confab::detect::{self, Reading};
use confab::protocol::lenient::NameCase;
use confab::protocol::{Dialect, Framing, Name, Spelling};

use super::{Detected, DialectChoice, Target, TargetError};
use crate::sentinel::ServerTraits;

/// How many of the likely framings detection tries when nothing points elsewhere: those met
/// among course servers (dec2, dec4, raw, dec3, line, bin8).
const UNPROMPTED: usize = 7;

impl Target {
    /// Finds the dialect the server speaks (what `choice` leaves open), and joins the
    /// sentinel in it. Each wrong guess may crash a server or leave it reading a broken frame,
    /// so a server the harness starts is started afresh after every attempt that failed.
    pub async fn detect(
        &mut self,
        choice: DialectChoice,
        timeout: Duration,
    ) -> Result<Detected, TargetError> {
        // The first attempt waits as long as a reply may take; later ones, on a server that
        // has already shown it is up, less: a server that answers nothing costs seconds.
        let first_wait = timeout.min(Duration::from_millis(1500));
        let later_wait = timeout.min(Duration::from_millis(800));
        let greet_wait = Duration::from_millis(300);
        // Unprompted, the framings met among course servers; any other is found from a reply
        // or a greeting that shows it, or given with --framing.
        let mut queue: Vec<Framing> = match choice.framing {
            Some(f) => vec![f],
            None => confab::protocol::lenient::likely_framings()
                .into_iter()
                .take(UNPROMPTED)
                .collect(),
        };
        let spellings: Vec<Spelling> = match choice.spelling {
            Some(s) => vec![s],
            None => vec![Spelling::Canonical, Spelling::Numeric],
        };
        let mut tried: Vec<(Framing, Spelling)> = Vec::new();
        let mut greets = None;
        let mut heard_anything = false;
        let mut last_refusal = None;
        // The first reply to NAME that was no refusal but did not repeat the name (`OK`):
        // the dialect, unless another spelling is answered with the name (JUDGE-15).
        let mut unnamed: Option<(ServerTraits, String)> = None;
        let mut first = true;
        while let Some(framing) = queue.first().copied() {
            queue.remove(0);
            for &spelling in &spellings {
                if tried.contains(&(framing, spelling)) {
                    continue;
                }
                tried.push((framing, spelling));
                if !first {
                    self.recover().await?;
                }
                first = false;
                let Some(addr) = self.addr else {
                    return Err(TargetError::AnsweredNothing(
                        "the server is not started".into(),
                    ));
                };
                let gw = if greets.is_none() {
                    greet_wait
                } else {
                    Duration::ZERO
                };
                let connected =
                    match tokio::time::timeout(first_wait, tokio::net::TcpStream::connect(addr))
                        .await
                    {
                        Ok(Ok(stream)) => Ok(stream),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err(format!(
                            "no connection within {} ms",
                            first_wait.as_millis()
                        )),
                    };
                let stream = match connected {
                    Ok(stream) => stream,
                    Err(why) => {
                        if let Some(reason) = self.await_exit(Duration::from_secs(1)).await {
                            return Err(TargetError::Died(reason));
                        }
                        // A server at an address that took an earlier attempt's connection
                        // and then stopped: some die on a frame they cannot parse (JUDGE-7).
                        let why = match &tried[..] {
                            [earlier @ .., _] if !earlier.is_empty() && !self.restartable() => {
                                let mut framings: Vec<String> =
                                    earlier.iter().map(|(f, _)| f.to_string()).collect();
                                framings.dedup();
                                format!(
                                    "{why}; it took a NAME in {} before, which it may not have \
                                     survived: start it again and give its framing with \
                                     --framing",
                                    framings.join(", ")
                                )
                            }
                            _ => why,
                        };
                        return Err(TargetError::Unreachable { addr, why });
                    }
                };
                let _ = stream.set_nodelay(true);
                let wait = if tried.len() == 1 {
                    first_wait
                } else {
                    later_wait
                };
                let first = confab::protocol::Command::Name(self.sentinel_name.clone());
                let Ok(mut attempt) =
                    detect::attempt(stream, framing, spelling, &first, gw, wait).await
                else {
                    // A name this framing cannot carry: the next framing.
                    continue;
                };
                if greets.is_none() {
                    greets = Some(!attempt.greeting.is_empty());
                    if !attempt.greeting.is_empty() && choice.framing.is_none() {
                        // The greeting's framing goes first.
                        let hinted = confab::protocol::lenient::framings_of(&attempt.greeting);
                        for f in hinted.into_iter().rev() {
                            if f != framing && !tried.iter().any(|t| t.0 == f) {
                                queue.retain(|q| *q != f);
                                queue.insert(0, f);
                            }
                        }
                    }
                }
                heard_anything |= !attempt.reply.is_empty() || !attempt.greeting.is_empty();
                let traits = ServerTraits {
                    dialect: Dialect { framing, spelling },
                    greets: greets.unwrap_or(false),
                    unnamed_hello: false,
                    name_case: NameCase::AsSent,
                };
                match attempt.reading(Some(&self.sentinel_name)) {
                    Reading::Answered => {
                        let name_case =
                            NameCase::shown(&attempt.reply, self.sentinel_name.as_str())
                                .unwrap_or_default();
                        let traits = ServerTraits {
                            name_case,
                            ..traits
                        };
                        let shown = match name_case {
                            NameCase::AsSent => "",
                            NameCase::Lower => ", which shows names in lower case",
                            NameCase::Upper => ", which shows names in upper case",
                        };
                        let evidence = format!("{}: {}{shown}", traits.dialect, attempt.evidence());
                        let stream = attempt.stream.take();
                        return self.adopt(traits, evidence, stream, choice, timeout).await;
                    }
                    Reading::Unnamed(_) => {
                        if unnamed.is_none() {
                            let evidence = format!(
                                "{}: {}, which does not repeat the name",
                                traits.dialect,
                                attempt.evidence()
                            );
                            let traits = ServerTraits {
                                unnamed_hello: true,
                                ..traits
                            };
                            unnamed = Some((traits, evidence));
                        }
                        // As for a refusal: the framing is right, the spelling may not be.
                        queue.clear();
                        continue;
                    }
                    Reading::Refused(p) => {
                        last_refusal = Some(format!(
                            "NAME {} in {}: `{}`",
                            self.sentinel_name,
                            traits.dialect,
                            detect::cut(&p)
                        ));
                        // The framing is right; the next spelling may be, and no other
                        // framing needs trying.
                        queue.clear();
                        continue;
                    }
                    Reading::OtherFraming(fits) => {
                        let likely = fits.first().copied().unwrap_or(Framing::Raw);
                        if let Some(given) = choice.framing {
                            return Err(TargetError::WrongFraming {
                                given,
                                likely,
                                evidence: format!("`{}`", detect::cut(&attempt.reply)),
                            });
                        }
                        for f in fits.into_iter().rev() {
                            if !tried.iter().any(|t| t.0 == f) {
                                queue.retain(|q| *q != f);
                                queue.insert(0, f);
                            }
                        }
                        break;
                    }
                    Reading::Silent | Reading::Dropped => break,
                }
            }
        }
        if let Some((traits, evidence)) = unnamed {
            if !self.restartable() {
                self.recover().await?;
            }
            return self.adopt(traits, evidence, None, choice, timeout).await;
        }
        if let Some(r) = last_refusal {
            return Err(TargetError::Refused(r));
        }
        let tried: Vec<String> = tried.iter().map(|(f, _)| f.to_string()).collect();
        let mut tried_once = tried.clone();
        tried_once.dedup();
        Err(match choice.framing {
            Some(f) if heard_anything => TargetError::AnsweredNothing(format!(
                "no reply to NAME {} in {f} framing that reads as a reply; try --framing auto",
                self.sentinel_name
            )),
            Some(f) => TargetError::AnsweredNothing(format!(
                "no reply within {} ms to NAME {} in {f} framing; if it speaks another \
                 framing, try --framing auto",
                first_wait.as_millis(),
                self.sentinel_name
            )),
            None => TargetError::AnsweredNothing(format!(
                "no reply to NAME {} in any framing tried ({})",
                self.sentinel_name,
                tried_once.join(", ")
            )),
        })
    }

    /// Takes `traits` as the server's, shown with `evidence`: a server the harness starts is
    /// started afresh; at an address, the attempt's `stream`, named, stays open (closing it
    /// would be a disconnect of the harness's making) and the sentinel joins beside it.
    async fn adopt(
        &mut self,
        traits: ServerTraits,
        evidence: String,
        stream: Option<tokio::net::TcpStream>,
        choice: DialectChoice,
        timeout: Duration,
    ) -> Result<Detected, TargetError> {
        self.traits = Some(traits.clone());
        // The server keeps names in one letter case: the harness names its clients so
        // (JUDGE-21), the sentinel first.
        if let Ok(name) = Name::new(&traits.name_case.apply(self.sentinel_name.as_str())) {
            self.sentinel_name = name;
        }
        if self.restartable() {
            drop(stream);
            self.fresh().await?;
        } else {
            self.kept.extend(stream);
            self.sentinel_name = Name::new(&format!("{}s", self.sentinel_name))
                .unwrap_or_else(|_| self.sentinel_name.clone());
            self.join_sentinel(timeout).await?;
        }
        Ok(Detected {
            traits,
            evidence,
            detected: choice.framing.is_none(),
        })
    }

    /// After a failed detection attempt: a fresh server if the harness starts it, else a
    /// check that the one at the address still accepts.
    pub(super) async fn recover(&mut self) -> Result<(), TargetError> {
        if self.restartable() {
            self.stop().await;
            self.start().await?;
            return Ok(());
        }
        if let Some(reason) = self.await_exit(Duration::ZERO).await {
            return Err(TargetError::Died(reason));
        }
        Ok(())
    }
}
