//! The cryptographic materials cache: one in-memory store that the
//! hierarchical keyring (branch keys), the KMS data-key cache and beacon keys
//! share, generic over what they keep (an `Arc` of their materials).
//! Spec: framework/cryptographic-materials-cache.md,
//! framework/local-cryptographic-materials-cache.md.
//!
//! Every entry has a creation time and an expiry time (TTL), and the cache
//! keeps at most `capacity` of them, evicting the least recently used. Loads
//! are single-flight: concurrent callers of one cold id make one call to the
//! key store or KMS, not one each (the spec's "StormTrackerCMC" concern).
//!
//! The cache runs multi-threaded natively and single-threaded on wasm32,
//! where loads are JS promises and their futures are not `Send`: so it never
//! stores a future, only the values and the senders that wake waiters, and
//! never holds its lock across an `.await`.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_channel::oneshot;

use crate::base::MaybeSendSync;
use crate::error::{Error, Result};

/// Milliseconds since the Unix epoch. The core cannot read a clock on wasm32
/// (std's `SystemTime::now` panics there), so the platform gives one.
pub trait Clock: MaybeSendSync {
    fn now_millis(&self) -> u64;
}

/// The operating system's clock, for native builds.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        use std::time::{SystemTime, UNIX_EPOCH};
        // A clock set before 1970 reads as 0 (every entry then looks young,
        // which TTL expiry still bounds once the clock is right), never a panic.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A 48-byte cache identifier: a SHA-384 digest (Appendix A of
/// framework/aws-kms/aws-kms-hierarchical-keyring.md), so ids of different
/// users of a shared cache never collide.
pub type CacheId = [u8; 48];

/// What a lookup found, for audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Served without this caller loading: the entry was cached, or another
    /// caller's load of the same id was in flight and this one waited for it.
    /// Either way no key store or KMS call was made on this caller's behalf.
    Hit,
    /// This caller ran the load.
    Loaded,
}

/// One cached value with the metadata the spec requires of a cache entry.
struct Entry<V> {
    value: V,
    created_at: u64,
    /// `created_at + ttl`, saturating: a TTL near `u64::MAX` means "never".
    expires_at: u64,
    /// The cache's use counter when this entry was last put or returned;
    /// the smallest is the least recently used.
    last_use: u64,
}

impl<V> Entry<V> {
    /// The spec's TTL: at its expiry time an entry "MUST be considered invalid".
    fn is_live(&self, now: u64) -> bool {
        now < self.expires_at
    }

    /// The hierarchical keyring's cacheEntryWithinLimits: `now - creation <=
    /// ttl` for the caller's own TTL, as a shared cache's entry may have been
    /// put by a keyring with a longer one. A clock that went back reads as age 0.
    fn within(&self, now: u64, max_age_ms: u64) -> bool {
        now.saturating_sub(self.created_at) <= max_age_ms
    }
}

/// A map from cache id to `T`, kept as a vector sorted by id: a lookup is a
/// binary search, an insert or a remove a move of the entries after it (only
/// on loads and evictions, never on a hit). As a `BTreeMap`, each of the two
/// maps below cost about 12 KB of wasm in insert, remove and rebalancing code.
struct IdMap<T>(Vec<(CacheId, T)>);

impl<T> IdMap<T> {
    fn new() -> Self {
        IdMap(Vec::new())
    }

    fn position(&self, id: &CacheId) -> std::result::Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.cmp(id))
    }

    fn get(&self, id: &CacheId) -> Option<&T> {
        self.position(id).ok().map(|i| &self.0[i].1)
    }

    fn get_mut(&mut self, id: &CacheId) -> Option<&mut T> {
        self.position(id).ok().map(|i| &mut self.0[i].1)
    }

    fn insert(&mut self, id: CacheId, value: T) {
        match self.position(&id) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (id, value)),
        }
    }

    fn remove(&mut self, id: &CacheId) -> Option<T> {
        self.position(id).ok().map(|i| self.0.remove(i).1)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = (&CacheId, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// Everything behind the lock.
struct Inner<V> {
    entries: IdMap<Entry<V>>,
    /// Ids being loaded, with the callers waiting for the result. An id may
    /// be here and in `entries` at once (a `put` during a load); the load's
    /// result then replaces the entry. Only the loader removes its id here.
    loading: IdMap<Vec<oneshot::Sender<Result<V>>>>,
    /// Monotonic counter behind `Entry::last_use`.
    uses: u64,
}

impl<V: Clone> Inner<V> {
    fn next_use(&mut self) -> u64 {
        // 2^64 uses cannot happen; wrapping only keeps this panic-free.
        self.uses = self.uses.wrapping_add(1);
        self.uses
    }

    /// The value if live and young enough, marked as used. A TTL-expired
    /// entry is evicted on the way (local CMC: Get prunes expired entries).
    fn lookup(&mut self, id: &CacheId, now: u64, max_age_ms: u64) -> Option<V> {
        let entry = self.entries.get(id)?;
        if !entry.is_live(now) {
            self.entries.remove(id);
            return None;
        }
        if !entry.within(now, max_age_ms) {
            // Still live for callers with a longer TTL: leave it.
            return None;
        }
        let use_no = self.next_use();
        let entry = self.entries.get_mut(id)?;
        entry.last_use = use_no;
        Some(entry.value.clone())
    }

    fn insert(&mut self, id: CacheId, value: V, now: u64, ttl_ms: u64, capacity: usize) {
        let last_use = self.next_use();
        self.entries.insert(
            id,
            Entry {
                value,
                created_at: now,
                expires_at: now.saturating_add(ttl_ms),
                last_use,
            },
        );
        // Local CMC: Put may exceed the capacity only until it returns.
        while self.entries.len() > capacity {
            // Expired entries go first (they are dead weight), then the least
            // recently used. O(capacity) per eviction, only on a put.
            let victim = self
                .entries
                .iter()
                .min_by_key(|(_, e)| (e.is_live(now), e.last_use))
                .map(|(k, _)| *k);
            match victim {
                Some(k) => {
                    self.entries.remove(&k);
                }
                None => break,
            }
        }
    }
}

/// What one look at the cache decided, made under the lock and acted on
/// after it is released.
enum Step<V> {
    Hit(V),
    Wait(oneshot::Receiver<Result<V>>),
    Load,
}

/// An in-memory, least-recently-used cache with TTLs and single-flight loads.
pub struct MaterialsCache<V: Clone> {
    inner: Mutex<Inner<V>>,
    capacity: usize,
    clock: Arc<dyn Clock>,
}

impl<V: Clone + MaybeSendSync> MaterialsCache<V> {
    /// `capacity`: entries kept (at least 1, as the MPL's `entryCapacity`);
    /// the least recently used is evicted first. Nothing is allocated up
    /// front, so a huge capacity costs nothing until used.
    pub fn new(capacity: usize, clock: Arc<dyn Clock>) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::InvalidConfig(
                "materials cache capacity must be at least 1".into(),
            ));
        }
        Ok(MaterialsCache {
            inner: Mutex::new(Inner {
                entries: IdMap::new(),
                loading: IdMap::new(),
                uses: 0,
            }),
            capacity,
            clock,
        })
    }

    /// The most entries this cache keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The entry if present, not past its own expiry, and created at most
    /// `max_age_ms` ago (see [`Source`] and cacheEntryWithinLimits in
    /// framework/aws-kms/aws-kms-hierarchical-keyring.md). Counts as a use.
    pub fn get(&self, id: &CacheId, max_age_ms: u64) -> Option<V> {
        let now = self.clock.now_millis();
        self.lock().lookup(id, now, max_age_ms)
    }

    /// Store `value` for `ttl_ms`, replacing any entry of `id` (spec: Put
    /// removes the old entry first). A load in flight for `id` is left to
    /// finish, and its fresher result replaces this one.
    pub fn put(&self, id: CacheId, value: V, ttl_ms: u64) {
        let now = self.clock.now_millis();
        self.lock().insert(id, value, now, ttl_ms, self.capacity);
    }

    /// Forget the entry of `id`, if any. A load in flight is not an entry
    /// and is left alone: its result will be fresh.
    pub fn remove(&self, id: &CacheId) {
        self.lock().entries.remove(id);
    }

    /// Entries stored, expired ones included until they are pruned.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().entries.is_empty()
    }

    /// The value of `id` if cached within `ttl_ms`, else the result of
    /// `load`, stored for `ttl_ms`.
    ///
    /// Single-flight: of concurrent callers on one id, one runs its `load`
    /// and the others wait for its result ([`Source::Hit`] for them). A
    /// failed load is handed to every waiter and nothing is cached, so the
    /// next call loads again. If the loading call is dropped before it ends
    /// (cancelled, or its load panicked), its waiters wake up and one of them
    /// loads instead: nobody waits for a load that will never finish.
    pub async fn get_or_load<F, Fut>(
        &self,
        id: CacheId,
        ttl_ms: u64,
        load: F,
    ) -> Result<(V, Source)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V>>,
    {
        loop {
            match self.step(&id, ttl_ms) {
                Step::Hit(v) => return Ok((v, Source::Hit)),
                Step::Wait(rx) => match rx.await {
                    Ok(result) => return result.map(|v| (v, Source::Hit)),
                    // The loader was dropped: look again (maybe load ourselves).
                    Err(oneshot::Canceled) => continue,
                },
                Step::Load => break,
            }
        }
        let guard = LoadGuard {
            cache: self,
            id,
            finished: false,
        };
        let result = load().await;
        let waiters = guard.finish(&result, ttl_ms);
        // Outside the lock: waking a waiter may run its executor's code.
        for tx in waiters {
            // A waiter that was dropped meanwhile does not want the result.
            let _ = tx.send(result.clone());
        }
        result.map(|v| (v, Source::Loaded))
    }

    /// One look under the lock: a hit, a load to wait for, or ours to run.
    /// A plain function, so no guard can live across an `.await`.
    fn step(&self, id: &CacheId, max_age_ms: u64) -> Step<V> {
        let now = self.clock.now_millis();
        let mut inner = self.lock();
        if let Some(v) = inner.lookup(id, now, max_age_ms) {
            return Step::Hit(v);
        }
        if let Some(waiters) = inner.loading.get_mut(id) {
            let (tx, rx) = oneshot::channel();
            waiters.push(tx);
            return Step::Wait(rx);
        }
        inner.loading.insert(*id, Vec::new());
        Step::Load
    }
}

impl<V: Clone> MaterialsCache<V> {
    fn lock(&self) -> MutexGuard<'_, Inner<V>> {
        // Every update leaves the maps consistent before anything can panic:
        // a poisoned lock is safe to recover.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<V: Clone> std::fmt::Debug for MaterialsCache<V> {
    /// Sizes only: the values are key materials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("MaterialsCache")
            .field("capacity", &self.capacity)
            .field("entries", &inner.entries.len())
            .field("loading", &inner.loading.len())
            .finish_non_exhaustive()
    }
}

/// Owns an id's "loading" mark while its load runs. Dropped without
/// [`LoadGuard::finish`] (the caller's future was dropped, or the load
/// panicked), it clears the mark and drops the waiters' senders, which wakes
/// them with `Canceled`: they look again and one of them loads.
struct LoadGuard<'a, V: Clone> {
    cache: &'a MaterialsCache<V>,
    id: CacheId,
    finished: bool,
}

impl<V: Clone> LoadGuard<'_, V> {
    /// Clear the mark, cache a successful result, and hand back the waiters
    /// to send it to (after the lock is released).
    fn finish(mut self, result: &Result<V>, ttl_ms: u64) -> Vec<oneshot::Sender<Result<V>>> {
        self.finished = true;
        let now = self.cache.clock.now_millis();
        let mut inner = self.cache.lock();
        let waiters = inner.loading.remove(&self.id).unwrap_or_default();
        if let Ok(v) = result {
            inner.insert(self.id, v.clone(), now, ttl_ms, self.cache.capacity);
        }
        waiters
    }
}

impl<V: Clone> Drop for LoadGuard<'_, V> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let waiters = self.cache.lock().loading.remove(&self.id);
        // Dropping the senders wakes the waiters, outside the lock.
        drop(waiters);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::task::{Context, Poll};

    use futures_util::future::pending;
    use futures_util::FutureExt;

    /// Runs all of `futs` at once, polling them in order, and collects their
    /// outputs in order. futures_util's own `join_all` needs its `alloc`
    /// feature, which this crate does not turn on.
    fn join_all<F: Future>(
        futs: impl IntoIterator<Item = F>,
    ) -> impl Future<Output = Vec<F::Output>> {
        let mut futs: Vec<Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
        let mut outs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
        std::future::poll_fn(move |cx| {
            let mut pending = false;
            for (fut, out) in futs.iter_mut().zip(outs.iter_mut()) {
                if out.is_none() {
                    match fut.as_mut().poll(cx) {
                        Poll::Ready(v) => *out = Some(v),
                        Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                Poll::Pending
            } else {
                Poll::Ready(outs.drain(..).flatten().collect())
            }
        })
    }

    /// A clock the test moves by hand.
    struct ManualClock(AtomicU64);

    impl Clock for ManualClock {
        fn now_millis(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn clock_at(ms: u64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicU64::new(ms)))
    }

    fn cache(capacity: usize, clock: &Arc<ManualClock>) -> MaterialsCache<Arc<String>> {
        let clock: Arc<dyn Clock> = clock.clone();
        match MaterialsCache::new(capacity, clock) {
            Ok(c) => c,
            Err(e) => panic!("capacity {capacity} refused: {e}"),
        }
    }

    fn id(n: u8) -> CacheId {
        [n; 48]
    }

    fn val(s: &str) -> Arc<String> {
        Arc::new(s.to_string())
    }

    /// Pending once, then ready: lets other futures run mid-load.
    struct YieldNow(bool);

    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    async fn yield_now() {
        YieldNow(false).await
    }

    #[test]
    fn new_refuses_zero_capacity() {
        let clock: Arc<dyn Clock> = clock_at(0);
        let err = MaterialsCache::<Arc<String>>::new(0, clock).err();
        assert_eq!(err.map(|e| e.code()), Some("INVALID_CONFIG"));
        let c = cache(1, &clock_at(0));
        assert_eq!(c.capacity(), 1);
        assert!(c.is_empty());
    }

    #[test]
    fn entry_visible_until_its_ttl() {
        let clock = clock_at(1_000);
        let c = cache(10, &clock);
        c.put(id(1), val("a"), 500);
        assert_eq!(
            c.get(&id(1), u64::MAX).as_deref().map(String::as_str),
            Some("a")
        );
        clock.0.store(1_499, Ordering::SeqCst);
        assert!(c.get(&id(1), u64::MAX).is_some());
        // At the expiry time the entry is invalid, and the get prunes it.
        clock.0.store(1_500, Ordering::SeqCst);
        assert!(c.get(&id(1), u64::MAX).is_none());
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn max_age_narrower_than_ttl_hides_entry() {
        let clock = clock_at(10_000);
        let c = cache(10, &clock);
        // Put by a keyring with a 60 s TTL, read by one with a 5 s TTL.
        c.put(id(1), val("a"), 60_000);
        clock.0.store(15_000, Ordering::SeqCst);
        assert!(
            c.get(&id(1), 5_000).is_some(),
            "age 5000 <= 5000 is within limits"
        );
        clock.0.store(15_001, Ordering::SeqCst);
        assert!(c.get(&id(1), 5_000).is_none());
        // Still there for the keyring with the longer TTL.
        assert!(c.get(&id(1), 60_000).is_some());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn clock_going_back_does_not_hide_or_panic() {
        let clock = clock_at(10_000);
        let c = cache(10, &clock);
        c.put(id(1), val("a"), 1_000);
        clock.0.store(0, Ordering::SeqCst);
        assert!(c.get(&id(1), 0).is_some());
    }

    #[test]
    fn ttl_near_u64_max_saturates() {
        let clock = clock_at(u64::MAX - 10);
        let c = cache(10, &clock);
        c.put(id(1), val("a"), u64::MAX);
        assert!(c.get(&id(1), u64::MAX).is_some());
        clock.0.store(u64::MAX - 1, Ordering::SeqCst);
        assert!(c.get(&id(1), u64::MAX).is_some());
        let loaded = pollster::block_on(c.get_or_load(id(2), u64::MAX, || async { Ok(val("b")) }));
        assert_eq!(
            loaded.map(|(v, s)| (v.to_string(), s)),
            Ok(("b".into(), Source::Loaded))
        );
    }

    #[test]
    fn lru_evicts_least_recently_used() {
        let clock = clock_at(0);
        let c = cache(2, &clock);
        c.put(id(1), val("a"), 1_000);
        c.put(id(2), val("b"), 1_000);
        // Reading 1 makes 2 the least recently used.
        assert!(c.get(&id(1), 1_000).is_some());
        c.put(id(3), val("c"), 1_000);
        assert_eq!(c.len(), 2);
        assert!(c.get(&id(2), 1_000).is_none());
        assert!(c.get(&id(1), 1_000).is_some());
        assert!(c.get(&id(3), 1_000).is_some());
        // Now 1 was used before 3: it goes next.
        c.put(id(4), val("d"), 1_000);
        assert!(c.get(&id(1), 1_000).is_none());
        assert!(c.get(&id(3), 1_000).is_some());
        assert!(c.get(&id(4), 1_000).is_some());
    }

    #[test]
    fn expired_entries_are_evicted_before_live_ones() {
        let clock = clock_at(0);
        let c = cache(2, &clock);
        c.put(id(1), val("short"), 10);
        c.put(id(2), val("long"), 1_000);
        clock.0.store(20, Ordering::SeqCst);
        // 1 is expired though more recently used than 2.
        assert!(c.get(&id(2), 1_000).is_some());
        c.put(id(1), val("short"), 10);
        clock.0.store(40, Ordering::SeqCst);
        c.put(id(3), val("new"), 1_000);
        assert_eq!(c.len(), 2);
        assert!(c.get(&id(2), 1_000).is_some());
        assert!(c.get(&id(3), 1_000).is_some());
    }

    #[test]
    fn put_replaces_and_remove_forgets() {
        let clock = clock_at(0);
        let c = cache(4, &clock);
        c.put(id(1), val("a"), 1_000);
        c.put(id(1), val("b"), 1_000);
        assert_eq!(c.len(), 1);
        assert_eq!(
            c.get(&id(1), 1_000).as_deref().map(String::as_str),
            Some("b")
        );
        c.remove(&id(1));
        c.remove(&id(1));
        assert!(c.get(&id(1), 1_000).is_none());
        assert!(c.is_empty());
    }

    #[test]
    fn single_flight_one_load_for_concurrent_callers() {
        let clock = clock_at(0);
        let c = cache(10, &clock);
        let loads = AtomicUsize::new(0);
        let calls = (0..100).map(|_| {
            c.get_or_load(id(7), 1_000, || async {
                loads.fetch_add(1, Ordering::SeqCst);
                for _ in 0..3 {
                    yield_now().await;
                }
                Ok(val("branch key"))
            })
        });
        let results = pollster::block_on(join_all(calls));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        let mut loaded = 0;
        let mut first: Option<Arc<String>> = None;
        for r in results {
            let (v, source) = match r {
                Ok(ok) => ok,
                Err(e) => panic!("load failed: {e}"),
            };
            assert_eq!(v.as_str(), "branch key");
            // The very same Arc: one load, shared.
            if let Some(f) = &first {
                assert!(Arc::ptr_eq(f, &v));
            }
            first = Some(v);
            if source == Source::Loaded {
                loaded += 1;
            }
        }
        assert_eq!(loaded, 1, "one Loaded, 99 Hit");
        // Cached afterwards: a hit without loading.
        let again = pollster::block_on(c.get_or_load(id(7), 1_000, || async {
            Err(Error::Internal("must not load".into()))
        }));
        assert_eq!(again.map(|(_, s)| s), Ok(Source::Hit));
        assert!(c.lock().loading.is_empty());
    }

    #[test]
    fn failed_load_is_shared_and_not_cached() {
        let clock = clock_at(0);
        let c = cache(10, &clock);
        let loads = AtomicUsize::new(0);
        let calls = (0..10).map(|_| {
            c.get_or_load(id(1), 1_000, || async {
                loads.fetch_add(1, Ordering::SeqCst);
                yield_now().await;
                Err(Error::KeyProviderFailure("key store unreachable".into()))
            })
        });
        let results = pollster::block_on(join_all(calls));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(results.len(), 10);
        for r in results {
            assert_eq!(
                r.err(),
                Some(Error::KeyProviderFailure("key store unreachable".into()))
            );
        }
        assert!(c.is_empty());
        assert!(c.lock().loading.is_empty());
        // The next call loads again.
        let next = pollster::block_on(c.get_or_load(id(1), 1_000, || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok(val("ok"))
        }));
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        assert_eq!(
            next.map(|(v, s)| (v.to_string(), s)),
            Ok(("ok".into(), Source::Loaded))
        );
    }

    #[test]
    fn cancelled_loader_hands_over_to_waiter() {
        let clock = clock_at(0);
        let c = cache(10, &clock);
        let mut first = Box::pin(c.get_or_load(id(1), 1_000, || async {
            pending::<()>().await;
            Ok(val("never"))
        }));
        // Polled once: it is now the loader, stuck in its load.
        assert!((&mut first).now_or_never().is_none());
        let mut second = Box::pin(c.get_or_load(id(1), 1_000, || async {
            yield_now().await;
            Ok(val("second"))
        }));
        // Polled once: it waits on the first one's load.
        assert!((&mut second).now_or_never().is_none());
        assert_eq!(c.lock().loading.get(&id(1)).map(Vec::len), Some(1));
        drop(first);
        assert!(c.lock().loading.is_empty());
        let got = pollster::block_on(second);
        assert_eq!(
            got.map(|(v, s)| (v.to_string(), s)),
            Ok(("second".into(), Source::Loaded))
        );
        assert_eq!(
            c.get(&id(1), 1_000).as_deref().map(String::as_str),
            Some("second")
        );
    }

    #[test]
    fn expired_entry_is_reloaded_once_and_old_values_stay_usable() {
        let clock = clock_at(0);
        let c = cache(10, &clock);
        let loads = AtomicUsize::new(0);
        let load = |name: &'static str| {
            let loads = &loads;
            move || async move {
                loads.fetch_add(1, Ordering::SeqCst);
                yield_now().await;
                Ok(val(name))
            }
        };
        let old = pollster::block_on(c.get_or_load(id(1), 100, load("v1")));
        let old = match old {
            Ok((v, Source::Loaded)) => v,
            other => panic!("expected a load, got {other:?}"),
        };
        clock.0.store(100, Ordering::SeqCst);
        let calls = (0..5).map(|_| c.get_or_load(id(1), 100, load("v2")));
        let results = pollster::block_on(join_all(calls));
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        for r in results {
            assert_eq!(r.map(|(v, _)| v.to_string()), Ok("v2".to_string()));
        }
        // The caller holding the old value still has it.
        assert_eq!(old.as_str(), "v1");
    }

    #[test]
    fn put_during_load_is_replaced_by_the_load() {
        let clock = clock_at(0);
        let c = cache(10, &clock);
        let mut loading = Box::pin(c.get_or_load(id(1), 1_000, || async {
            yield_now().await;
            Ok(val("loaded"))
        }));
        assert!((&mut loading).now_or_never().is_none());
        c.put(id(1), val("put"), 1_000);
        c.remove(&id(1));
        assert_eq!(
            c.lock().loading.len(),
            1,
            "remove leaves a load in flight alone"
        );
        let got = pollster::block_on(loading);
        assert_eq!(
            got.map(|(v, s)| (v.to_string(), s)),
            Ok(("loaded".into(), Source::Loaded))
        );
        assert_eq!(
            c.get(&id(1), 1_000).as_deref().map(String::as_str),
            Some("loaded")
        );
    }

    #[test]
    fn debug_shows_sizes_only() {
        let clock = clock_at(0);
        let c = cache(3, &clock);
        c.put(id(1), val("secret"), 1_000);
        let shown = format!("{c:?}");
        assert!(shown.contains("capacity: 3") && shown.contains("entries: 1"));
        assert!(!shown.contains("secret"));
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn system_clock_reads_the_present() {
        // 2020-01-01 in ms: any working clock is past it.
        assert!(SystemClock.now_millis() > 1_577_836_800_000);
    }

    /// Natively keyrings are shared across threads and `async_trait` wants
    /// `Send` futures: the cache and its `get_or_load` future must be both.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn cache_and_its_future_are_send_natively() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let c = cache(1, &clock_at(0));
        send_sync(&c);
        let fut = c.get_or_load(id(1), 1, || async { Ok(val("x")) });
        send(&fut);
        let got = pollster::block_on(fut);
        assert_eq!(got.map(|(_, s)| s), Ok(Source::Loaded));
    }
}
