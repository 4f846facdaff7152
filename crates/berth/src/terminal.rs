//! Raw mode for `run -t` / `start -a` on a terminal, restored when the guard drops, as the
//! docker CLI does so keystrokes (Ctrl-C included) reach the container's TTY.

use std::os::fd::AsFd;

use rustix::termios::{OptionalActions, Termios, isatty, tcgetattr, tcsetattr};

/// Puts stdin's terminal in raw mode until dropped; does nothing when stdin is no TTY.
pub struct RawMode {
    saved: Option<Termios>,
}

impl RawMode {
    /// Enters raw mode if stdin is a terminal.
    pub fn enter() -> std::io::Result<Self> {
        let stdin = std::io::stdin();
        let fd = stdin.as_fd();
        if !isatty(fd) {
            return Ok(Self { saved: None });
        }
        let saved = tcgetattr(fd)?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(fd, OptionalActions::Now, &raw)?;
        Ok(Self { saved: Some(saved) })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let stdin = std::io::stdin();
            // Nothing more can be done if restoring fails at exit.
            let _ = tcsetattr(stdin.as_fd(), OptionalActions::Now, saved);
        }
    }
}
