//! The time of day for `--timestamps`, in the local time zone.

/// The local time as `HH:MM`; the UTC time when the local time cannot be had.
pub fn now_hh_mm() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (hour, minute) = local_hour_minute(secs).unwrap_or(((secs / 3600) % 24, (secs / 60) % 60));
    format!("{hour:02}:{minute:02}")
}

#[cfg(unix)]
fn local_hour_minute(secs: u64) -> Option<(u64, u64)> {
    let time = libc::time_t::try_from(secs).ok()?;
    // SAFETY: an all-zero `tm` is a valid value for localtime_r to overwrite.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is the thread-safe variant.
    let done = unsafe { libc::localtime_r(&time, &mut tm) };
    if done.is_null() {
        return None;
    }
    Some((
        u64::try_from(tm.tm_hour).ok()?,
        u64::try_from(tm.tm_min).ok()?,
    ))
}

#[cfg(not(unix))]
fn local_hour_minute(_secs: u64) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_reads_as_hours_and_minutes() {
        let t = now_hh_mm();
        let (h, m) = t.split_once(':').expect("HH:MM");
        assert_eq!((h.len(), m.len()), (2, 2), "{t}");
        assert!(h.parse::<u8>().is_ok_and(|h| h < 24), "{t}");
        assert!(m.parse::<u8>().is_ok_and(|m| m < 60), "{t}");
    }
}
