//! The broker's clock: wall time, or a manual clock a test advances.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A duration in whole milliseconds, saturating at `i64::MAX`.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Where the broker reads "now" (milliseconds since the Unix epoch).
///
/// The clock drives `LogAppendTime` / default `CreateTime` timestamps, session and
/// `max.poll.interval.ms` expiry, auto-commit intervals and offset retention. Poll
/// timeouts are real (tokio) time in both cases, so a waiting `poll` never depends on
/// someone advancing a manual clock.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system wall clock.
    #[default]
    System,
    /// A manual clock shared with the test that created it.
    Manual(ManualClock),
}

impl Clock {
    /// Current time in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(millis)
                .unwrap_or(0),
            Clock::Manual(m) => m.now_ms(),
        }
    }
}

impl From<ManualClock> for Clock {
    fn from(m: ManualClock) -> Self {
        Clock::Manual(m)
    }
}

/// A clock that only moves when told to (Kafka's `MockTime`). Cheap to clone; clones share time.
///
/// ```
/// use kcodec_broker::ManualClock;
/// use std::time::Duration;
/// let clock = ManualClock::new(1_000);
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(clock.now_ms(), 3_000);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock starting at `start_ms` epoch milliseconds.
    pub fn new(start_ms: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start_ms)))
    }

    /// Current time in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Moves time forward by `by`. Expirations happen on the broker's next access to the group
    /// (or [`crate::Cluster::tick`]).
    pub fn advance(&self, by: Duration) {
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(millis(by)))
            });
    }

    /// Sets the time (it may go backwards; the broker copes, like Kafka does with clock skew).
    pub fn set_ms(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    /// Starts at 2024-01-01T00:00:00Z, a fixed, recognisable instant.
    fn default() -> Self {
        ManualClock::new(1_704_067_200_000)
    }
}
