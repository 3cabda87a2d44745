//! A small bounded cache with one in-flight fetch per key.
//!
//! Written here rather than taken from a crate such as `moka` because the client needs only
//! three small maps with exact rules (errors never cached, per-key single flight, an optional
//! time to live, a size bound) and this keeps the `http` feature's dependency tree to reqwest and
//! tokio.

use crate::RegistryError;
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// One key's fetch: its value and when it was fetched, or the error every waiter gets.
type Cell<V> = Arc<OnceCell<Result<(V, Instant), RegistryError>>>;

struct Inner<K, V> {
    map: HashMap<K, Cell<V>>,
    /// Insertion order, for evicting the oldest entry. May hold keys already removed.
    order: VecDeque<K>,
}

/// A bounded map from keys to values fetched at most once at a time per key. Every caller waiting
/// on a fetch gets its result, error included; a failed fetch is then dropped, so a later caller
/// fetches again. With a time to live, older values are fetched anew.
pub(crate) struct SingleFlightCache<K, V> {
    inner: Mutex<Inner<K, V>>,
    capacity: usize,
    ttl: Option<Duration>,
}

impl<K: Eq + Hash + Clone, V: Clone> SingleFlightCache<K, V> {
    /// A cache of at most `capacity` entries, whose values live `ttl` if given. A capacity of 0
    /// turns it off: every call fetches.
    pub(crate) fn new(capacity: usize, ttl: Option<Duration>) -> Self {
        SingleFlightCache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
            }),
            capacity,
            ttl,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a caller should use (or wait on) `cell` rather than fetch anew.
    fn fresh(&self, cell: &Cell<V>) -> bool {
        match cell.get() {
            None => true,
            Some(Err(_)) => false,
            Some(Ok((_, at))) => self.ttl.is_none_or(|ttl| at.elapsed() < ttl),
        }
    }

    fn put(&self, inner: &mut Inner<K, V>, key: K, cell: Cell<V>) {
        if !inner.map.contains_key(&key) {
            while inner.map.len() >= self.capacity {
                match inner.order.pop_front() {
                    Some(old) => {
                        inner.map.remove(&old);
                    }
                    None => break,
                }
            }
            inner.order.push_back(key.clone());
        }
        inner.map.insert(key, cell);
        if inner.order.len() > 2 * self.capacity + 16 {
            let Inner { map, order } = inner;
            let mut seen = HashSet::new();
            order.retain(|k| map.contains_key(k) && seen.insert(k.clone()));
        }
    }

    /// The value for `key`, fetching it with `fetch` unless it is cached or being fetched (then
    /// this call waits for that fetch).
    pub(crate) async fn get_or_fetch<F, Fut>(&self, key: K, fetch: F) -> Result<V, RegistryError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, RegistryError>>,
    {
        if self.capacity == 0 {
            return fetch().await;
        }
        let cell = {
            let mut inner = self.lock();
            match inner.map.get(&key) {
                Some(cell) if self.fresh(cell) => cell.clone(),
                _ => {
                    let cell: Cell<V> = Arc::new(OnceCell::new());
                    self.put(&mut inner, key.clone(), cell.clone());
                    cell
                }
            }
        };
        // The fetching caller gets its own error; the waiters a copy of it.
        let mut own_error = None;
        let result = cell
            .get_or_init(|| async {
                match fetch().await {
                    Ok(v) => Ok((v, Instant::now())),
                    Err(e) => {
                        let shared = e.duplicate();
                        own_error = Some(e);
                        Err(shared)
                    }
                }
            })
            .await;
        match result {
            Ok((value, _)) => Ok(value.clone()),
            Err(shared) => {
                let mut inner = self.lock();
                if inner.map.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                    inner.map.remove(&key);
                }
                Err(own_error.unwrap_or_else(|| shared.duplicate()))
            }
        }
    }

    /// The cached value for `key`, if there is a fresh one.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let inner = self.lock();
        let cell = inner.map.get(key)?;
        if !self.fresh(cell) {
            return None;
        }
        cell.get()?.as_ref().ok().map(|(v, _)| v.clone())
    }

    /// Caches `value` for `key` (replacing what was there).
    pub(crate) fn insert(&self, key: K, value: V) {
        if self.capacity == 0 {
            return;
        }
        let cell = Arc::new(OnceCell::new_with(Some(Ok((value, Instant::now())))));
        let mut inner = self.lock();
        self.put(&mut inner, key, cell);
    }

    /// Drops every entry whose key matches.
    pub(crate) fn invalidate(&self, mut matches: impl FnMut(&K) -> bool) {
        self.lock().map.retain(|k, _| !matches(k));
    }

    /// How many entries are held (fetched or in flight).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn one_fetch_for_many_waiters() {
        rt().block_on(async {
            let cache = Arc::new(SingleFlightCache::<u32, u32>::new(10, None));
            let calls = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..32)
                .map(|_| {
                    let (cache, calls) = (cache.clone(), calls.clone());
                    tokio::spawn(async move {
                        cache
                            .get_or_fetch(7, || async {
                                calls.fetch_add(1, Ordering::SeqCst);
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                Ok(42)
                            })
                            .await
                    })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap().unwrap(), 42);
            }
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        });
    }

    /// N callers waiting on one failing fetch (an unreachable registry) make one fetch, and
    /// every one of them gets its error: no caller retries in turn.
    #[test]
    fn one_failing_fetch_for_many_waiters() {
        rt().block_on(async {
            let cache = Arc::new(SingleFlightCache::<u32, u32>::new(10, None));
            let calls = Arc::new(AtomicUsize::new(0));
            let gate = Arc::new(tokio::sync::Notify::new());
            let tasks: Vec<_> = (0..32)
                .map(|_| {
                    let (cache, calls, gate) = (cache.clone(), calls.clone(), gate.clone());
                    tokio::spawn(async move {
                        cache
                            .get_or_fetch(7, || async move {
                                calls.fetch_add(1, Ordering::SeqCst);
                                gate.notified().await;
                                Err(RegistryError::Transport {
                                    url: "http://localhost:1".into(),
                                    source: Box::new(std::io::Error::other("refused")),
                                })
                            })
                            .await
                    })
                })
                .collect();
            // every task is waiting on the one fetch before it fails
            while cache.lock().map.get(&7).is_none_or(|c| Arc::strong_count(c) < 33) {
                tokio::task::yield_now().await;
            }
            gate.notify_one();
            for t in tasks {
                let e = t.await.unwrap().unwrap_err();
                assert!(matches!(&e, RegistryError::Transport { url, .. } if url == "http://localhost:1"), "{e}");
                let source = std::error::Error::source(&e).unwrap().to_string();
                assert_eq!(source, "refused");
            }
            assert_eq!(calls.load(Ordering::SeqCst), 1);
            assert_eq!(cache.len(), 0, "the error is not kept for later callers");
        });
    }

    #[test]
    fn errors_are_not_cached() {
        rt().block_on(async {
            let cache = SingleFlightCache::<u32, u32>::new(10, None);
            let e = cache
                .get_or_fetch(1, || async {
                    Err(RegistryError::SchemaNotFound("x".into()))
                })
                .await;
            assert!(e.is_err());
            assert_eq!(cache.len(), 0);
            assert_eq!(cache.get_or_fetch(1, || async { Ok(5) }).await.unwrap(), 5);
            assert_eq!(cache.get(&1), Some(5));
        });
    }

    #[test]
    fn size_is_bounded_oldest_first() {
        rt().block_on(async {
            let cache = SingleFlightCache::<u32, u32>::new(3, None);
            for k in 0..10 {
                cache
                    .get_or_fetch(k, || async move { Ok(k) })
                    .await
                    .unwrap();
                assert!(cache.len() <= 3);
            }
            assert_eq!(cache.get(&9), Some(9));
            assert_eq!(cache.get(&0), None);
        });
    }

    #[test]
    fn capacity_zero_turns_caching_off() {
        rt().block_on(async {
            let cache = SingleFlightCache::<u32, u32>::new(0, None);
            cache.insert(1, 1);
            assert_eq!(cache.get(&1), None);
            assert_eq!(cache.get_or_fetch(1, || async { Ok(2) }).await.unwrap(), 2);
            assert_eq!(cache.get_or_fetch(1, || async { Ok(3) }).await.unwrap(), 3);
        });
    }

    #[test]
    fn ttl_expires() {
        rt().block_on(async {
            let cache = SingleFlightCache::<u32, u32>::new(3, Some(Duration::from_millis(30)));
            cache.insert(1, 1);
            assert_eq!(cache.get(&1), Some(1));
            tokio::time::sleep(Duration::from_millis(40)).await;
            assert_eq!(cache.get(&1), None);
            let v = cache.get_or_fetch(1, || async { Ok(2) }).await.unwrap();
            assert_eq!(v, 2);
            cache.invalidate(|k| *k == 1);
            assert_eq!(cache.get(&1), None);
        });
    }
}
