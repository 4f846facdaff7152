//! Output formatting as docker prints it: Go-template `--format`, human units,
//! tab-aligned tables.

pub mod template;
pub mod units;

use std::io::Write;

use tabwriter::TabWriter;

/// Writes tab-separated lines aligned like docker's tables (Go tabwriter: min width 10
/// including the padding of 3; this crate's `minwidth` excludes the padding).
pub fn write_table(out: &mut impl Write, lines: &[String]) -> std::io::Result<()> {
    let mut tw = TabWriter::new(Vec::new()).minwidth(7).padding(3);
    for l in lines {
        writeln!(tw, "{l}")?;
    }
    tw.flush()?;
    let buf = tw
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    // docker's tabwriter leaves no trailing spaces on a row's last cell.
    for line in String::from_utf8_lossy(&buf).lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Shortens a string to `n` characters, ending with `…` when cut (docker's `Ellipsis`).
pub fn ellipsis(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n {
        return s.to_string();
    }
    if n <= 3 {
        return s.chars().take(n).collect();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

/// A 12-character ID without its `sha256:` prefix.
pub fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    id.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_like_docker() {
        let mut out = Vec::new();
        write_table(
            &mut out,
            &[
                "CONTAINER ID\tIMAGE\tNAMES".into(),
                "abc\tbusybox\tx".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "CONTAINER ID   IMAGE     NAMES\nabc            busybox   x\n"
        );
    }

    #[test]
    fn ellipsis_and_ids() {
        assert_eq!(
            ellipsis("\"echo hello world foo\"", 20),
            "\"echo hello world f…"
        );
        assert_eq!(ellipsis("short", 20), "short");
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
    }
}
