//! Go's `time.ParseDuration` (HEALTHCHECK's `--interval=1m30s`), returning nanoseconds.

/// Parses `[-+]?(\d*\.?\d+(ns|us|µs|μs|ms|s|m|h))+` or `0`; `None` when malformed.
pub(crate) fn parse_go_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_end = rest
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map_or(rest.len(), |(i, _)| i);
        let num = &rest[..num_end];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return None;
        }
        rest = &rest[num_end..];
        let unit_end = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(i, _)| i);
        let unit: i128 = match &rest[..unit_end] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_end..];
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut v = int.checked_mul(unit)?;
        let mut scale = unit;
        for d in frac.chars().take(30) {
            scale /= 10;
            v += i128::from(d.to_digit(10)?) * scale;
        }
        total = total.checked_add(v)?;
        if total > i128::from(i64::MAX) {
            return None;
        }
    }
    Some(if neg { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration as p;

    #[test]
    fn go_durations() {
        assert_eq!(p("0"), Some(0));
        assert_eq!(p("5s"), Some(5_000_000_000));
        assert_eq!(p("1m30s"), Some(90_000_000_000));
        assert_eq!(p("1.5h"), Some(5_400_000_000_000));
        assert_eq!(p("300ms"), Some(300_000_000));
        assert_eq!(p("-2us"), Some(-2_000));
        assert_eq!(p(".5s"), Some(500_000_000));
        for bad in ["", "5", "s", "5x", "1..2s", "-", "1s2", "9999999999h"] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }
}
