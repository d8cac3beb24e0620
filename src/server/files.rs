//! File descriptors: the open-file limit fitted to the connection limit at start, as Redis does
//! with `maxclients`, and a spare descriptor so that a connection accepted when the process is
//! out of them still gets `ERROR SERVER_FULL` (POLICY-1) instead of silence.

use std::fs::File;
use std::io;
use std::time::{Duration, Instant};

use tracing::warn;

use super::REFUSALS;

/// Descriptors the server needs besides one per connection: the refusals in progress
/// ([`REFUSALS`]), and a margin for the listener, the runtime, standard streams, logs and the
/// spare.
pub const RESERVED_FILES: u64 = REFUSALS as u64 + 32;

/// The open-file limit as [`fit_open_files`] found and left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimit {
    /// The soft limit the process started with.
    pub soft_before: u64,
    /// The soft limit now.
    pub soft: u64,
    /// The hard limit.
    pub hard: u64,
    /// The connection limit that fits: the one asked for, or lower.
    pub max_clients: usize,
}

/// Raises the soft open-file limit to the hard limit and answers how many connections fit in
/// it next to [`RESERVED_FILES`] (at most `max_clients`, at least 1).
pub fn fit_open_files(max_clients: usize) -> io::Result<FileLimit> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let soft_before = lim.rlim_cur;
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid `rlimit`; raising the soft limit up to the hard one is
        // always allowed.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim = raised;
        }
    }
    let room = lim.rlim_cur.saturating_sub(RESERVED_FILES).max(1);
    let fits = usize::try_from(room).unwrap_or(usize::MAX);
    Ok(FileLimit {
        soft_before,
        soft: lim.rlim_cur,
        hard: lim.rlim_max,
        max_clients: max_clients.min(fits),
    })
}

/// Whether `accept` failed for want of descriptors.
pub(super) fn out_of_files(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// One descriptor held back, given up to accept a connection that can only be refused.
pub(super) struct Spare(Option<File>);

impl Spare {
    pub(super) fn open() -> Spare {
        Spare(File::open("/dev/null").ok())
    }

    /// Gives the descriptor up; answers whether there was one.
    pub(super) fn take(&mut self) -> bool {
        self.0.take().is_some()
    }

    /// Takes a descriptor again if it has none (a refusal has finished since).
    pub(super) fn refill(&mut self) {
        if self.0.is_none() {
            self.0 = File::open("/dev/null").ok();
        }
    }
}

/// Logs accept failures at most once per [`ErrorLog::EVERY`], with how many there were.
#[derive(Default)]
pub(super) struct ErrorLog {
    last: Option<Instant>,
    unlogged: u64,
}

impl ErrorLog {
    const EVERY: Duration = Duration::from_secs(10);

    pub(super) fn note(&mut self, e: &io::Error) {
        self.unlogged += 1;
        if self.last.is_none_or(|t| t.elapsed() >= Self::EVERY) {
            warn!(error = %e, failures = self.unlogged, "accept failed");
            self.unlogged = 0;
            self.last = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_limit_fits_the_open_file_limit() {
        let limit = fit_open_files(usize::MAX).expect("getrlimit");
        assert_eq!(
            limit.soft, limit.hard,
            "the soft limit is raised to the hard one"
        );
        assert!(limit.soft >= limit.soft_before);
        assert_eq!(
            limit.max_clients as u64,
            limit.soft.saturating_sub(RESERVED_FILES).max(1)
        );
        assert_eq!(fit_open_files(10).expect("getrlimit").max_clients, 10);
    }
}
