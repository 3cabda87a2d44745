//! Records and records/s on stderr while `produce`/`consume` run, when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the line is redrawn at most (4 times a second).
const REDRAW: Duration = Duration::from_millis(250);

/// A progress line, redrawn in place; silent when stderr is not a terminal.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    verb: &'static str,
    count: u64,
    start: Instant,
    last_draw: Instant,
    drawn: bool,
}

impl Progress {
    /// A progress line saying `<count> records <verb> (<rate> records/s)`.
    pub fn new(verb: &'static str) -> Progress {
        let now = Instant::now();
        Progress {
            enabled: std::io::stderr().is_terminal(),
            verb,
            count: 0,
            start: now,
            last_draw: now,
            drawn: false,
        }
    }

    /// Counts `n` more records and redraws if the last draw is old enough.
    pub fn add(&mut self, n: u64) {
        self.count += n;
        if self.enabled && self.last_draw.elapsed() >= REDRAW {
            self.draw();
        }
    }

    fn draw(&mut self) {
        self.last_draw = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let rate = self.count as f64 / secs;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} records {} ({:.0} records/s)",
            self.count, self.verb, rate
        );
        let _ = err.flush();
        self.drawn = true;
    }

    /// Erases the line (before other output on stderr, and at the end).
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
