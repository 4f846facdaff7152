//! RFC 3339 timestamps in UTC with nanoseconds, as docker writes them
//! (`2006-01-02T15:04:05.000000000Z`, always nine fraction digits), without a date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Format `t` as `YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ` (UTC). Times before 1970 print as the epoch.
pub fn rfc3339_nanos(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// The current time, formatted by [`rfc3339_nanos`].
pub fn now() -> String {
    rfc3339_nanos(SystemTime::now())
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_nanos(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        // 2026-11-30T14:55:01.123456789Z
        let t = UNIX_EPOCH + Duration::new(1_796_050_501, 123_456_789);
        assert_eq!(rfc3339_nanos(t), "2026-11-30T14:55:01.123456789Z");
        // a leap day
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339_nanos(t), "2000-02-29T00:00:00.000000000Z");
        let t = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
        assert_eq!(rfc3339_nanos(t), "9999-12-31T23:59:59.000000000Z");
    }
}
