//! The broker's clock: wall time, or a manual clock a test advances.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};
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
/// someone advancing a manual clock. The coordinator's timeouts fire on this clock: with the
/// system clock a waiting `poll` wakes when the next one is due; moving a [`ManualClock`]
/// runs them at once (and wakes the members they affect).
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
/// Moving it ([`advance`](Self::advance), [`set_ms`](Self::set_ms)) runs the coordinator's
/// timed transitions of every cluster built on it before returning (as Kafka's `MockTime`
/// drives its timers), so a test sees a session that expired by the move at once, and a
/// consumer waiting in `poll` is woken by the rebalance it causes.
///
/// ```
/// use kcodec_broker::ManualClock;
/// use std::time::Duration;
/// let clock = ManualClock::new(1_000);
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(clock.now_ms(), 3_000);
/// ```
#[derive(Clone)]
pub struct ManualClock(Arc<ManualInner>);

/// What runs when a manual clock moves (a cluster's timed transitions).
pub(crate) type OnMove = dyn Fn() + Send + Sync;

struct ManualInner {
    now: AtomicI64,
    /// Serialises moves, so that listeners see the moves in order.
    moving: Mutex<()>,
    listeners: Mutex<Vec<Weak<OnMove>>>,
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now_ms()).finish()
    }
}

impl ManualClock {
    /// A clock starting at `start_ms` epoch milliseconds.
    pub fn new(start_ms: i64) -> Self {
        ManualClock(Arc::new(ManualInner {
            now: AtomicI64::new(start_ms),
            moving: Mutex::new(()),
            listeners: Mutex::new(Vec::new()),
        }))
    }

    /// Current time in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.0.now.load(Ordering::SeqCst)
    }

    /// Moves time forward by `by`, then runs the timed transitions due (session, poll and
    /// rebalance timeouts) of every cluster on this clock.
    pub fn advance(&self, by: Duration) {
        let _moving = self.0.moving.lock();
        let _ = self
            .0
            .now
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(millis(by)))
            });
        self.moved();
    }

    /// Sets the time (it may go backwards; the broker copes, like Kafka does with clock skew),
    /// then runs the timed transitions due, as [`advance`](Self::advance).
    pub fn set_ms(&self, ms: i64) {
        let _moving = self.0.moving.lock();
        self.0.now.store(ms, Ordering::SeqCst);
        self.moved();
    }

    /// Registers what runs after each move; dropped listeners are forgotten.
    pub(crate) fn on_move(&self, listener: &Arc<OnMove>) {
        let mut l = self.0.listeners.lock();
        l.retain(|w| w.strong_count() > 0);
        l.push(Arc::downgrade(listener));
    }

    fn moved(&self) {
        let live: Vec<Arc<OnMove>> = self
            .0
            .listeners
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for f in live {
            f();
        }
    }
}

impl Default for ManualClock {
    /// Starts at 2024-01-01T00:00:00Z, a fixed, recognisable instant.
    fn default() -> Self {
        ManualClock::new(1_704_067_200_000)
    }
}
