//! Errors injected into the next calls of one kind (a consumer's polls, commits or group
//! protocol rounds), each call taking one, oldest first.

use crate::BrokerError;
use std::collections::VecDeque;

/// A queue of injected errors: `push(n, e)` makes the next `n` calls fail with `e` (after the
/// errors already queued). Stored as counts, so `n` costs no memory.
#[derive(Debug, Default, Clone)]
pub struct InjectedErrors {
    queue: VecDeque<(usize, BrokerError)>,
}

impl InjectedErrors {
    /// Queues `error` for the next `n` calls, after those already queued.
    pub fn push(&mut self, n: usize, error: BrokerError) {
        if n > 0 {
            self.queue.push_back((n, error));
        }
    }

    /// The error for this call, if one is queued.
    pub fn take(&mut self) -> Option<BrokerError> {
        let (n, error) = self.queue.front_mut()?;
        *n -= 1;
        if *n == 0 {
            self.queue.pop_front().map(|(_, e)| e)
        } else {
            Some(error.clone())
        }
    }

    /// How many calls are still to fail (saturating).
    pub fn pending(&self) -> usize {
        self.queue
            .iter()
            .fold(0usize, |acc, (n, _)| acc.saturating_add(*n))
    }

    /// Drops every queued error.
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_taken_in_order_without_allocating_per_call() {
        let mut q = InjectedErrors::default();
        q.push(usize::MAX, BrokerError::RequestTimedOut);
        assert_eq!(q.pending(), usize::MAX);
        q.clear();
        q.push(2, BrokerError::RequestTimedOut);
        q.push(0, BrokerError::RecordTooLarge);
        q.push(1, BrokerError::InvalidGroupId);
        assert_eq!(q.pending(), 3);
        assert_eq!(q.take(), Some(BrokerError::RequestTimedOut));
        assert_eq!(q.take(), Some(BrokerError::RequestTimedOut));
        assert_eq!(q.take(), Some(BrokerError::InvalidGroupId));
        assert_eq!(q.take(), None);
    }
}
