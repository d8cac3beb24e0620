//! What a started server may use: its working folder, a cap on its memory and on its open
//! files, and (on Linux) the signal it gets when the harness dies.
//!
//! The limits are set in the child between `fork` and `exec` (`setrlimit`), so they bind the
//! shell that runs the command and everything it starts. Memory is capped with `RLIMIT_DATA`
//! (the heap and private writable mappings), not `RLIMIT_AS`: runtimes that reserve large
//! address ranges up front (Go, the JVM) would not start under an address-space cap that
//! leaves a Python server room.
//!
//! No server outlives the harness: it is started in a process group of its own, and the whole
//! group is killed when the harness stops it, when its grading is abandoned, and when the
//! harness is interrupted (SIGINT, SIGTERM). A harness killed with SIGKILL can do nothing; as a
//! best effort on Linux the started process asks the kernel for a SIGKILL when the harness's
//! thread that started it dies (`PR_SET_PDEATHSIG`). That reaches the started process (the
//! shell, or the server that the shell replaced by `exec`), not processes the server forks.

use std::path::PathBuf;

/// Where and within what a started server runs. The default: the harness's folder, no
/// limits beyond the harness's own, and the death signal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confinement {
    /// The working folder of the command.
    pub dir: Option<PathBuf>,
    /// `RLIMIT_DATA`, in bytes.
    pub data_bytes: Option<u64>,
    /// `RLIMIT_NOFILE`: open files, sockets included.
    pub open_files: Option<u64>,
}

impl Confinement {
    /// Sets the working folder, and the limits and the death signal to apply in the child
    /// before `exec`.
    pub(crate) fn apply(&self, command: &mut tokio::process::Command) {
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        let data = self.data_bytes;
        let files = self.open_files;
        let parent = nix::unistd::getpid();
        // SAFETY: the closure runs in the child between fork and exec, and makes only
        // async-signal-safe system calls (prctl, getppid, getrlimit, setrlimit); it allocates
        // nothing (an `io::Error` from an errno does not allocate).
        unsafe {
            command.pre_exec(move || in_child(parent, data, files));
        }
    }
}

/// Runs in the forked child, before `exec`.
fn in_child(
    parent: nix::unistd::Pid,
    data: Option<u64>,
    files: Option<u64>,
) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
            .map_err(std::io::Error::from)?;
        // The harness may have died between fork and prctl: then no signal will come.
        if nix::unistd::getppid() != parent {
            return Err(std::io::Error::from_raw_os_error(nix::libc::ESRCH));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
    use nix::sys::resource::Resource;
    if let Some(bytes) = data {
        lower(Resource::RLIMIT_DATA, bytes)?;
    }
    if let Some(n) = files {
        lower(Resource::RLIMIT_NOFILE, n)?;
    }
    Ok(())
}

/// Lowers both the soft and the hard limit of `resource` to `value` (never raises them: an
/// unprivileged process may not).
fn lower(resource: nix::sys::resource::Resource, value: u64) -> std::io::Result<()> {
    let (soft, hard) = nix::sys::resource::getrlimit(resource).map_err(std::io::Error::from)?;
    let value = value as nix::sys::resource::rlim_t;
    nix::sys::resource::setrlimit(resource, soft.min(value), hard.min(value))
        .map_err(std::io::Error::from)
}
