//! A server's CPU time and memory, read from `/proc` (Linux).
//!
//! CPU time is `utime + stime` from `/proc/PID/stat` (fields 14 and 15, in clock ticks; this
//! counts threads that have already exited too). Memory is `VmRSS` (resident now) and `VmHWM`
//! (the resident high-water mark) from `/proc/PID/status`. For a server embedded in the
//! benchmark's own process, only the threads named for the server are summed, from
//! `/proc/self/task/*/stat`.

use std::fs;
use std::io;
use std::time::Duration;

/// One reading of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sample {
    /// User plus system CPU time so far.
    pub cpu: Duration,
    /// Resident set size now, in KiB.
    pub rss_kib: Option<u64>,
    /// The resident set's high-water mark, in KiB.
    pub hwm_kib: Option<u64>,
}

/// Reads process `pid`.
pub fn sample(pid: u32) -> io::Result<Sample> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let cpu = cpu_from_stat(&stat).ok_or_else(|| bad(&format!("/proc/{pid}/stat")))?;
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(Sample {
        cpu,
        rss_kib: status_kib(&status, "VmRSS:"),
        hwm_kib: status_kib(&status, "VmHWM:"),
    })
}

/// The CPU time of this process's threads whose name starts with `prefix`.
pub fn threads_cpu(prefix: &str) -> io::Result<Duration> {
    let mut total = Duration::ZERO;
    for entry in fs::read_dir("/proc/self/task")? {
        let path = entry?.path();
        // A thread may end between listing and reading: skip it.
        let Ok(stat) = fs::read_to_string(path.join("stat")) else {
            continue;
        };
        if comm_of_stat(&stat).is_some_and(|c| c.starts_with(prefix))
            && let Some(cpu) = cpu_from_stat(&stat)
        {
            total += cpu;
        }
    }
    Ok(total)
}

/// The CPU time of the calling thread.
pub fn this_thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write into.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("cannot read {what}"))
}

fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as u64 } else { 100 }
}

/// `pid (comm) state ...`: the comm may hold spaces and parentheses, so it ends at the last
/// `)`.
fn comm_of_stat(stat: &str) -> Option<&str> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    stat.get(open + 1..close)
}

fn cpu_from_stat(stat: &str) -> Option<Duration> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    // After the comm come fields 3 (state) onwards; utime and stime are fields 14 and 15.
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime + stime;
    let hz = clock_ticks_per_second();
    Some(Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz))
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_found_after_a_comm_with_spaces_and_parentheses() {
        let hz = clock_ticks_per_second();
        let stat = format!(
            "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 {} {} 0 0 20 0 1 0 5 1000 50",
            3 * hz,
            hz / 2
        );
        assert_eq!(comm_of_stat(&stat), Some("a (b) c"));
        assert_eq!(cpu_from_stat(&stat), Some(Duration::from_millis(3500)));
        assert_eq!(cpu_from_stat("42 (x) S 1 2"), None);
    }

    #[test]
    fn status_memory_is_read_in_kib() {
        let status = "Name:\tx\nVmHWM:\t   2048 kB\nVmRSS:\t    1024 kB\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(1024));
        assert_eq!(status_kib(status, "VmHWM:"), Some(2048));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn this_process_can_be_sampled() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_kib.is_some_and(|k| k > 0));
        assert!(s.hwm_kib >= s.rss_kib);
    }
}
