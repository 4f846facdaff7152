//! Output formatting as docker prints it: Go-template `--format`, human units,
//! tab-aligned tables.

pub mod progress;
pub mod template;
pub mod units;

use std::io::Write;

/// Writes tab-separated lines aligned as docker's Go `tabwriter` (minwidth 10, padding 3):
/// a tab-terminated cell is padded to its column's width, the text after a line's last
/// tab is not (so a row whose last cell is empty keeps the previous cell's padding).
pub fn write_table(out: &mut impl Write, lines: &[String]) -> std::io::Result<()> {
    let rows: Vec<Vec<&str>> = lines
        .iter()
        .flat_map(|l| l.split('\n'))
        .map(|l| l.split('\t').collect())
        .collect();
    let mut widths: Vec<usize> = Vec::new();
    for r in &rows {
        for (i, cell) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            let w = (cell.chars().count() + 3).max(10);
            if widths.len() <= i {
                widths.push(w);
            } else {
                widths[i] = widths[i].max(w);
            }
        }
    }
    for r in &rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < r.len() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{line}")?;
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
