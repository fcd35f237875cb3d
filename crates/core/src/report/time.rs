//! Times in the report: epoch milliseconds in, RFC 3339 (UTC, whole seconds) and ages out. The
//! core has no clock: "now" is an argument of [`super::build()`].

/// `2026-11-30T15:35:50Z` for epoch milliseconds.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whole seconds from `then_ms` to `now_ms` (zero when `then_ms` is in the future).
pub fn age_seconds(now_ms: u64, then_ms: u64) -> u64 {
    now_ms.saturating_sub(then_ms) / 1000
}

/// A short human age: `40 s`, `12 min`, `5 h`, `3 d`.
pub fn human_age(seconds: u64) -> String {
    match seconds {
        0..=119 => format!("{seconds} s"),
        120..=7_199 => format!("{} min", seconds / 60),
        7_200..=172_799 => format!("{} h", seconds / 3600),
        _ => format!("{} d", seconds / 86_400),
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_053_550_999), "2026-11-30T15:45:50Z");
        assert_eq!(rfc3339(4_107_542_399_000), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn ages_are_short_and_never_negative() {
        assert_eq!(age_seconds(10_000, 20_000), 0);
        assert_eq!(age_seconds(20_999, 10_000), 10);
        assert_eq!(human_age(59), "59 s");
        assert_eq!(human_age(600), "10 min");
        assert_eq!(human_age(3 * 3600), "3 h");
        assert_eq!(human_age(9 * 86_400), "9 d");
    }
}
