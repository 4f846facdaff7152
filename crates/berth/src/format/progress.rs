//! docker's rendering of a stream of progress messages (pull, push, load, a build's FROM):
//! on a terminal one line per layer ID, redrawn in place with a bar; elsewhere the status
//! changes only.

use std::io::{IsTerminal, Write};

use berth_api::progress::ProgressMessage;

use super::units::human_size;

/// Draws progress messages: on a terminal one line per ID, redrawn in place.
pub(crate) struct Progress {
    tty: bool,
    ids: Vec<String>,
}

fn bar(current: i64, total: i64) -> String {
    if total <= 0 {
        return human_size(current);
    }
    let width = 50i64;
    let filled = (current.clamp(0, total) * width / total) as usize;
    let mut b = "=".repeat(filled);
    if filled < width as usize {
        b.push('>');
        b.push_str(&" ".repeat(width as usize - filled - 1));
    }
    format!("[{b}]  {}/{}", human_size(current), human_size(total))
}

impl Progress {
    /// A renderer for standard output.
    pub(crate) fn new() -> Self {
        Self {
            tty: std::io::stdout().is_terminal(),
            ids: Vec::new(),
        }
    }

    fn line(m: &ProgressMessage, with_bar: bool) -> String {
        let mut s = String::new();
        if let Some(id) = m.id.as_deref().filter(|i| !i.is_empty()) {
            s.push_str(id);
            s.push_str(": ");
        }
        s.push_str(m.status.as_deref().unwrap_or_default());
        if with_bar
            && let Some(d) = &m.progress_detail
            && let (Some(c), Some(t)) = (d.current, d.total)
        {
            s.push(' ');
            s.push_str(&bar(c, t));
        }
        s
    }

    /// Draws one message.
    pub(crate) fn show(&mut self, m: &ProgressMessage) -> anyhow::Result<()> {
        if let Some(stream) = &m.stream {
            print!("{stream}");
            return Ok(());
        }
        if m.status.is_none() {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        let has_detail = m
            .progress_detail
            .as_ref()
            .is_some_and(|d| d.current.is_some());
        let id = m.id.clone().filter(|i| !i.is_empty());
        match (self.tty, id) {
            (true, Some(id)) => match self.ids.iter().position(|i| *i == id) {
                Some(pos) => {
                    let up = self.ids.len() - pos;
                    write!(
                        out,
                        "\x1b[{up}A\r\x1b[2K{}\x1b[{up}B\r",
                        Self::line(m, true)
                    )?;
                }
                None => {
                    self.ids.push(id);
                    writeln!(out, "{}", Self::line(m, true))?;
                }
            },
            // Not a terminal: status changes only, no bars.
            (false, _) if has_detail => {}
            (_, _) => {
                if self.tty {
                    // A line without an ID ends the block of redrawn lines.
                    self.ids.clear();
                }
                writeln!(out, "{}", Self::line(m, false))?;
            }
        }
        out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars() {
        assert!(bar(50, 100).starts_with("[=========================>"));
        assert!(bar(100, 100).starts_with(&format!("[{}]", "=".repeat(50))));
    }
}
