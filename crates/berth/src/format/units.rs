//! Human-readable durations and sizes, as docker's `go-units` prints them.

use std::time::Duration;

/// `go-units.HumanDuration`: "Less than a second", "About a minute", "3 hours", ...
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 1 {
        return "Less than a second".into();
    }
    if secs == 1 {
        return "1 second".into();
    }
    if secs < 60 {
        return format!("{secs} seconds");
    }
    let minutes = secs / 60;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", secs / 3600 / 24 / 365)
}

/// "About a minute ago" for a Unix time, relative to `now` (Unix seconds).
pub fn ago(then: i64, now: i64) -> String {
    let d = Duration::from_secs(u64::try_from(now.saturating_sub(then)).unwrap_or(0));
    format!("{} ago", human_duration(d))
}

/// `go-units.HumanSizeWithPrecision(size, 3)`: decimal units, 3 significant digits
/// (`4.27MB`, `123kB`, `0B`).
pub fn human_size(size: i64) -> String {
    human_size_prec(size, 3)
}

/// `go-units.HumanSizeWithPrecision`: decimal units, `prec` significant digits
/// (`HumanSize` is 4: `1.982MB`).
pub fn human_size_prec(size: i64, prec: i32) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut s = size as f64;
    let mut i = 0;
    while s >= 1000.0 && i < UNITS.len() - 1 {
        s /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(s, prec), UNITS[i])
}

/// A time as Go's `time.Time.String()` prints it in UTC
/// (`2026-12-07 19:29:01.592888402 +0000 UTC`); unparsable or absent is Go's zero time.
pub fn go_time_string(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => {
            let t = t.with_timezone(&chrono::Utc);
            let nanos = t.timestamp_subsec_nanos();
            let frac = if nanos == 0 {
                String::new()
            } else {
                format!(".{nanos:09}").trim_end_matches('0').to_string()
            };
            format!("{}{frac} +0000 UTC", t.format("%Y-%m-%d %H:%M:%S"))
        }
        Err(_) => "0001-01-01 00:00:00 +0000 UTC".into(),
    }
}

/// `go-units.BytesSize`: binary units, 4 significant digits (`23.54GiB`).
pub fn bytes_size(size: i64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut s = size as f64;
    let mut i = 0;
    while s >= 1024.0 && i < UNITS.len() - 1 {
        s /= 1024.0;
        i += 1;
    }
    format!("{}{}", go_g(s, 4), UNITS[i])
}

/// Go's `%.<prec>g` for values below 10^prec: significant digits, trailing zeros dropped.
fn go_g(v: f64, prec: i32) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let exp = v.abs().log10().floor() as i32;
    // Round to `prec` significant digits first; rounding may carry into a new digit.
    let decimals = (prec - 1 - exp).max(0) as usize;
    let rounded = format!("{v:.decimals$}");
    let r: f64 = rounded.parse().unwrap_or(v);
    if r.abs() >= 10f64.powi(prec) {
        // Only values just below 10^prec round up here; Go prints them in exponent form.
        return format!("1e+{prec:02}");
    }
    if rounded.contains('.') {
        rounded
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        rounded
    }
}

/// docker's `RAMInBytes`: `512m`, `1g`, `100k`, `1024`, with an optional trailing `b`.
pub fn ram_in_bytes(s: &str) -> Option<i64> {
    let lower = s.trim().to_ascii_lowercase();
    let t = lower.strip_suffix('b').unwrap_or(&lower);
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1i64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        't' => (&t[..t.len() - 1], 1 << 40),
        'p' => (&t[..t.len() - 1], 1 << 50),
        _ => (t, 1),
    };
    let n: f64 = num.trim().parse().ok()?;
    if n.is_nan() || n < 0.0 {
        return None;
    }
    Some((n * mult as f64) as i64)
}

/// A Go duration (`1h30m`, `10s`, `500ms`).
pub fn go_duration(s: &str) -> Option<Duration> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        let v: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += v * scale;
        rest = &rest[u..];
    }
    Some(Duration::from_secs_f64(total))
}

/// docker's `--since`/`--until` value as the API's `seconds[.nanos]`: a Unix timestamp,
/// an RFC 3339 time or date, or a Go duration before `now`.
pub fn api_timestamp(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Some(v.to_string());
    }
    if let Some(d) = go_duration(v) {
        let t = now - chrono::Duration::from_std(d).ok()?;
        return Some(format!(
            "{}.{:09}",
            t.timestamp(),
            t.timestamp_subsec_nanos()
        ));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(format!(
            "{}.{:09}",
            t.timestamp(),
            t.timestamp_subsec_nanos()
        ));
    }
    let date = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    let t = date.and_hms_opt(0, 0, 0)?.and_utc();
    Some(format!("{}.{:09}", t.timestamp(), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go_units() {
        let s = Duration::from_secs;
        assert_eq!(
            human_duration(Duration::from_millis(400)),
            "Less than a second"
        );
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(59)), "59 seconds");
        assert_eq!(human_duration(s(60)), "About a minute");
        assert_eq!(human_duration(s(119)), "About a minute");
        assert_eq!(human_duration(s(120)), "2 minutes");
        assert_eq!(human_duration(s(3599)), "59 minutes");
        assert_eq!(human_duration(s(3600)), "About an hour");
        assert_eq!(human_duration(s(5400)), "2 hours");
        assert_eq!(human_duration(s(47 * 3600)), "47 hours");
        assert_eq!(human_duration(s(3 * 86400)), "3 days");
        assert_eq!(human_duration(s(20 * 86400)), "2 weeks");
        assert_eq!(human_duration(s(90 * 86400)), "3 months");
        assert_eq!(human_duration(s(800 * 86400)), "2 years");
        assert_eq!(ago(100, 160), "About a minute ago");
    }

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1000), "1kB");
        assert_eq!(human_size(4_270_000), "4.27MB");
        assert_eq!(human_size(4_266_000), "4.27MB");
        assert_eq!(human_size(123_456_789), "123MB");
        assert_eq!(human_size(1_500_000_000), "1.5GB");
        assert_eq!(bytes_size(25_275_056_128), "23.54GiB");
        assert_eq!(bytes_size(512), "512B");
    }

    #[test]
    fn ram_and_go_durations() {
        assert_eq!(ram_in_bytes("512m"), Some(512 << 20));
        assert_eq!(ram_in_bytes("1g"), Some(1 << 30));
        assert_eq!(ram_in_bytes("1GB"), Some(1 << 30));
        assert_eq!(ram_in_bytes("100"), Some(100));
        assert_eq!(ram_in_bytes("x"), None);
        assert_eq!(go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(go_duration("10"), None);
    }

    #[test]
    fn api_timestamps() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:10:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(api_timestamp("1700000000", now).unwrap(), "1700000000");
        assert_eq!(api_timestamp("10m", now).unwrap(), "1767225600.000000000");
        assert_eq!(
            api_timestamp("2026-01-01T00:00:00Z", now).unwrap(),
            "1767225600.000000000"
        );
        assert!(api_timestamp("soon", now).is_none());
    }
}
