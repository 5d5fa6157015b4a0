//! The chirp cache: the JSON of chirps by id and of the feed's first pages, with their
//! ETags, so a hot read costs neither the database nor serialisation. Chirps never change
//! once posted, only disappear, so an entry stays right until its chirp is deleted (for a
//! chirp) or any chirp is posted or deleted (for a page).
//!
//! Every instance hears every post and deletion (see `changes`) and evicts at once; the
//! instance that deletes evicts before it answers. While it cannot hear (its LISTEN session
//! is down) it may have missed some, so the cache is emptied and bypassed until it hears
//! again. A read that began before an eviction never puts its result in afterwards: each
//! miss carries the generation it was seen in.

use std::{
    collections::{HashSet, VecDeque},
    hash::{Hash, Hasher},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use bytes::Bytes;
use poem::http::HeaderValue;
use quick_cache::{Lifecycle, Weighter, sync::Cache};
use uuid::Uuid;

use crate::store::Order;

/// A response body and its strong ETag.
#[derive(Debug, PartialEq, Eq)]
pub struct Representation {
    pub json: Bytes,
    /// The quoted entity tag: a hash of the bytes, so the same bytes have the same tag on
    /// every instance.
    pub etag: HeaderValue,
    /// A page's `Link` to the next one.
    pub link: Option<String>,
}

impl Representation {
    pub fn new(json: Vec<u8>) -> Self {
        let mut hasher = std::hash::DefaultHasher::new();
        json.hash(&mut hasher);
        let etag = format!("\"{:016x}\"", hasher.finish());
        Self {
            etag: HeaderValue::from_str(&etag).expect("hex digits in quotes are a valid header"),
            // serde_json grows its buffer by doubling (a 260-byte chirp sits in 512 bytes), and
            // the cache keeps what it is given: an exact-size copy, and the buffer freed for
            // the next one.
            json: Bytes::copy_from_slice(&json),
            link: None,
        }
    }

    pub fn with_link(self, link: Option<String>) -> Self {
        Self { link, ..self }
    }
}

/// Which page of the feed: the first one, of all authors, in `order`, of `limit` chirps
/// (`None`: the whole feed, when it fits one page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub order: Order,
    pub limit: Option<u32>,
}

/// What the cache knows about a chirp.
#[derive(Debug, Clone)]
enum Known {
    Chirp(Arc<Representation>),
    /// Deleted: it will never exist again (ids are never reused).
    Deleted,
}

pub enum Lookup {
    Found(Arc<Representation>),
    Deleted,
    /// Not cached: read it, then [`ChirpCache::remember_chirp`] with this.
    Miss(Miss),
}

/// A miss, and when it was seen.
#[derive(Debug, Clone, Copy)]
pub struct Miss(u64);

/// Hits, misses and evictions since start, for the metrics.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub evictions: AtomicU64,
}

pub struct ChirpCache {
    /// `None` when the cache is off (`CHIRP_CACHE_MIB=0`).
    chirps: Option<Sized<Uuid, Known>>,
    pages: Option<Sized<PageKey, Arc<Representation>>>,
    /// Whether entries can be trusted: this instance is hearing every change.
    trusted: AtomicBool,
    /// Bumped by everything that evicts chirps (deletions, emptying).
    chirps_generation: AtomicU64,
    /// Bumped by everything that evicts pages (any post or deletion, emptying).
    pages_generation: AtomicU64,
    /// The ids of the latest changes heard, oldest first, and as a set.
    heard: Mutex<(VecDeque<Uuid>, HashSet<Uuid>)>,
    pub stats: Arc<CacheStats>,
}

/// Pages get this share of the budget (1/16): a few are all that is ever hot, each at most
/// 1,000 chirps (a longer list is streamed, never kept).
const PAGES_SHARE: u64 = 16;
/// Changes kept in mind, so the log's copy of a change already heard is not applied again:
/// far more than the log's reader ever lags behind.
const REMEMBERED_CHANGES: usize = 8192;
/// What an entry costs beyond its JSON: key, tag, the `Arc`, `quick_cache`'s slot, the
/// allocator's rounding. Measured, not added up: RSS grew 56.7 MiB for 100,000 cached
/// chirps of about 262 bytes of JSON (`just bench`), 332 bytes each beyond the JSON. So
/// `CHIRP_CACHE_MIB` bounds the memory the cache really takes.
const ENTRY_OVERHEAD: u64 = 336;

impl ChirpCache {
    /// A cache of at most `mib` MiB of entries (0: no cache). It trusts nothing until
    /// [`ChirpCache::trust`] is called, once the instance hears every change.
    pub fn new(mib: u64) -> Self {
        let stats = Arc::new(CacheStats::default());
        let bytes = mib * 1024 * 1024;
        let lifecycle = CountEvictions(stats.clone());
        Self {
            chirps: sized(bytes - bytes / PAGES_SHARE, lifecycle.clone()),
            pages: sized(bytes / PAGES_SHARE, lifecycle),
            trusted: AtomicBool::new(false),
            chirps_generation: AtomicU64::new(0),
            pages_generation: AtomicU64::new(0),
            heard: Mutex::default(),
            stats,
        }
    }

    pub fn enabled(&self) -> bool {
        self.chirps.is_some()
    }

    /// Entries can be used: every change from now on will be heard.
    pub fn trust(&self) {
        self.empty();
        self.trusted.store(true, Ordering::Release);
    }

    /// Changes may go unheard: empty, and bypass the cache until [`ChirpCache::trust`].
    pub fn distrust(&self) {
        self.trusted.store(false, Ordering::Release);
        self.empty();
    }

    /// Whether this instance is hearing every change (whatever the cache's size).
    pub fn trusted(&self) -> bool {
        self.trusted.load(Ordering::Acquire)
    }

    fn usable<T>(&self, cache: &Option<T>) -> bool {
        cache.is_some() && self.trusted.load(Ordering::Acquire)
    }

    fn miss(&self, generation: &AtomicU64) -> Miss {
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        Miss(generation.load(Ordering::Acquire))
    }

    fn hit(&self) {
        self.stats.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn chirp(&self, id: Uuid) -> Lookup {
        let known = match &self.chirps {
            Some(chirps) if self.usable(&self.chirps) => chirps.get(&id),
            _ => None,
        };
        match known {
            Some(Known::Chirp(chirp)) => {
                self.hit();
                Lookup::Found(chirp)
            }
            Some(Known::Deleted) => {
                self.hit();
                Lookup::Deleted
            }
            None => Lookup::Miss(self.miss(&self.chirps_generation)),
        }
    }

    /// Keeps what a read after `miss` found, unless something was evicted since the miss
    /// (the read may have seen the chirp before its deletion).
    pub fn remember_chirp(&self, miss: Miss, id: Uuid, chirp: Arc<Representation>) {
        let Some(chirps) = self.chirps.as_ref().filter(|_| self.usable(&self.chirps)) else {
            return;
        };
        let generation = &self.chirps_generation;
        if generation.load(Ordering::Acquire) != miss.0 {
            return;
        }
        chirps.insert(id, Known::Chirp(chirp.clone()));
        // An eviction between the check and the insert: take back only what this put in.
        if generation.load(Ordering::Acquire) != miss.0 {
            chirps.remove_if(
                &id,
                |known| matches!(known, Known::Chirp(kept) if Arc::ptr_eq(kept, &chirp)),
            );
        }
    }

    /// Whether a page read now could be kept (the cache is on and trusted).
    pub fn keeps_pages(&self) -> bool {
        self.usable(&self.pages)
    }

    pub fn page(&self, key: PageKey) -> Result<Arc<Representation>, Miss> {
        let page = match &self.pages {
            Some(pages) if self.usable(&self.pages) => pages.get(&key),
            _ => None,
        };
        match page {
            Some(page) => {
                self.hit();
                Ok(page)
            }
            None => Err(self.miss(&self.pages_generation)),
        }
    }

    pub fn remember_page(&self, miss: Miss, key: PageKey, page: Arc<Representation>) {
        let Some(pages) = self.pages.as_ref().filter(|_| self.usable(&self.pages)) else {
            return;
        };
        let generation = &self.pages_generation;
        if generation.load(Ordering::Acquire) != miss.0 {
            return;
        }
        pages.insert(key, page.clone());
        if generation.load(Ordering::Acquire) != miss.0 {
            pages.remove_if(&key, |kept| Arc::ptr_eq(kept, &page));
        }
    }

    /// A chirp was posted, as announced (or by this instance): applied now, and kept in
    /// mind so that the same change read again from the log is not applied twice.
    pub fn posted(&self, id: Uuid) {
        self.heard(id);
        self.pages_changed();
    }

    /// A chirp was deleted, as announced (or by this instance).
    pub fn deleted(&self, id: Uuid) {
        self.heard(id);
        self.forget(id);
    }

    /// A change read from the log: applied unless it was heard already (the log is the
    /// backstop for announcements that never came, such as from an instance that died).
    pub fn logged(&self, id: Uuid, deleted: bool) {
        if self.was_heard(id) {
            return;
        }
        if deleted {
            self.forget(id);
        } else {
            self.pages_changed();
        }
    }

    fn heard(&self, id: Uuid) {
        let mut heard = self.heard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if heard.1.insert(id) {
            heard.0.push_back(id);
            if heard.0.len() > REMEMBERED_CHANGES
                && let Some(oldest) = heard.0.pop_front()
            {
                heard.1.remove(&oldest);
            }
        }
    }

    fn was_heard(&self, id: Uuid) -> bool {
        self.heard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .1
            .contains(&id)
    }

    /// Every page may be missing a new chirp.
    fn pages_changed(&self) {
        self.pages_generation.fetch_add(1, Ordering::AcqRel);
        if let Some(pages) = &self.pages {
            pages.clear();
        }
    }

    /// A deleted chirp and every page that may hold it go.
    fn forget(&self, id: Uuid) {
        self.chirps_generation.fetch_add(1, Ordering::AcqRel);
        if let Some(chirps) = &self.chirps {
            chirps.insert(id, Known::Deleted);
        }
        self.pages_changed();
    }

    /// Everything goes (`/admin/reset`, or changes that may have been missed).
    pub fn empty(&self) {
        self.chirps_generation.fetch_add(1, Ordering::AcqRel);
        if let Some(chirps) = &self.chirps {
            chirps.clear();
        }
        self.pages_changed();
    }

    /// Bytes held, as the cache weighs them.
    pub fn weight(&self) -> u64 {
        self.chirps.as_ref().map_or(0, |c| c.weight()) + self.pages.as_ref().map_or(0, |c| c.weight())
    }
}

type Sized<K, V> = Cache<K, V, ByBytes, quick_cache::DefaultHashBuilder, CountEvictions>;

/// A cache of `weight` bytes, or none for 0.
fn sized<K: Eq + Hash, V: Clone>(weight: u64, lifecycle: CountEvictions) -> Option<Sized<K, V>>
where
    ByBytes: Weighter<K, V>,
{
    let estimated_items = (weight / 512).max(16) as usize;
    (weight > 0).then(|| {
        Cache::with(
            estimated_items,
            weight,
            ByBytes,
            quick_cache::DefaultHashBuilder::default(),
            lifecycle,
        )
    })
}

/// Entries weigh what their JSON takes, plus a fixed overhead.
#[derive(Debug, Clone, Copy)]
struct ByBytes;

impl Weighter<Uuid, Known> for ByBytes {
    fn weight(&self, _: &Uuid, known: &Known) -> u64 {
        match known {
            Known::Chirp(chirp) => chirp.json.len() as u64 + ENTRY_OVERHEAD,
            Known::Deleted => ENTRY_OVERHEAD,
        }
    }
}

impl Weighter<PageKey, Arc<Representation>> for ByBytes {
    fn weight(&self, _: &PageKey, page: &Arc<Representation>) -> u64 {
        (page.json.len() + page.link.as_ref().map_or(0, String::len)) as u64 + ENTRY_OVERHEAD
    }
}

/// Counts entries pushed out to make room.
#[derive(Debug, Clone)]
struct CountEvictions(Arc<CacheStats>);

impl<Key, Val> Lifecycle<Key, Val> for CountEvictions {
    type RequestState = ();

    fn on_evict(&self, _state: &mut Self::RequestState, _key: Key, _val: Val) {
        self.0.evictions.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(mib: u64) -> ChirpCache {
        let cache = ChirpCache::new(mib);
        cache.trust();
        cache
    }

    fn representation(text: &str) -> Arc<Representation> {
        Arc::new(Representation::new(text.as_bytes().to_vec()))
    }

    fn found(cache: &ChirpCache, id: Uuid) -> Option<Arc<Representation>> {
        match cache.chirp(id) {
            Lookup::Found(chirp) => Some(chirp),
            _ => None,
        }
    }

    fn miss(cache: &ChirpCache, id: Uuid) -> Miss {
        match cache.chirp(id) {
            Lookup::Miss(miss) => miss,
            _ => panic!("expected a miss"),
        }
    }

    #[test]
    fn the_same_bytes_have_the_same_tag_and_others_another() {
        assert_eq!(representation("{}").etag, representation("{}").etag);
        assert_ne!(representation("{}").etag, representation("[]").etag);
        let tag = representation("{}").etag.to_str().unwrap().to_owned();
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 18, "{tag}");
    }

    #[test]
    fn remembers_a_chirp_until_it_is_deleted_and_then_knows_it_is_gone() {
        let cache = trusted(1);
        let id = Uuid::from_u128(1);
        let seen = miss(&cache, id);
        cache.remember_chirp(seen, id, representation("one"));
        assert_eq!(found(&cache, id).unwrap().json, "one");
        cache.deleted(id);
        assert!(matches!(cache.chirp(id), Lookup::Deleted));
    }

    #[test]
    fn the_log_backs_up_what_was_not_announced_and_nothing_else() {
        let cache = trusted(1);
        let key = PageKey {
            order: Order::Desc,
            limit: None,
        };
        let page = |cache: &ChirpCache| {
            let seen = cache.page(key).unwrap_err();
            cache.remember_page(seen, key, representation("[]"));
        };
        page(&cache);
        cache.posted(Uuid::from_u128(10));
        assert!(cache.page(key).is_err(), "an announced post empties the pages");
        page(&cache);
        cache.logged(Uuid::from_u128(10), false);
        assert!(cache.page(key).is_ok(), "its copy in the log changes nothing more");
        cache.logged(Uuid::from_u128(11), false);
        assert!(cache.page(key).is_err(), "a post only the log tells of counts");
        let id = Uuid::from_u128(12);
        cache.remember_chirp(miss(&cache, id), id, representation("x"));
        cache.logged(id, true);
        assert!(matches!(cache.chirp(id), Lookup::Deleted));
    }

    #[test]
    fn a_read_from_before_a_deletion_is_not_kept() {
        let cache = trusted(1);
        let id = Uuid::from_u128(2);
        let seen = miss(&cache, id);
        cache.deleted(id);
        cache.remember_chirp(seen, id, representation("stale"));
        assert!(matches!(cache.chirp(id), Lookup::Deleted), "the deletion wins");
        let other = Uuid::from_u128(3);
        let seen = miss(&cache, other);
        cache.posted(Uuid::from_u128(30));
        cache.remember_chirp(seen, other, representation("a post changes no chirp"));
        assert!(found(&cache, other).is_some());
        let key = PageKey {
            order: Order::Asc,
            limit: None,
        };
        let seen = cache.page(key).unwrap_err();
        cache.posted(Uuid::from_u128(31));
        cache.remember_page(seen, key, representation("[a page read before a post]"));
        assert!(cache.page(key).is_err());
    }

    #[test]
    fn a_post_empties_the_pages_but_keeps_the_chirps() {
        let cache = trusted(1);
        let key = PageKey {
            order: Order::Desc,
            limit: Some(100),
        };
        let seen = cache.page(key).unwrap_err();
        cache.remember_page(seen, key, representation("[page]"));
        let id = Uuid::from_u128(4);
        cache.remember_chirp(miss(&cache, id), id, representation("chirp"));
        assert!(cache.page(key).is_ok());
        cache.posted(Uuid::from_u128(32));
        assert!(cache.page(key).is_err());
        assert!(found(&cache, id).is_some());
    }

    #[test]
    fn an_untrusted_cache_keeps_and_serves_nothing() {
        let cache = ChirpCache::new(1);
        let id = Uuid::from_u128(5);
        cache.remember_chirp(miss(&cache, id), id, representation("x"));
        assert!(found(&cache, id).is_none(), "before trust");
        cache.trust();
        cache.remember_chirp(miss(&cache, id), id, representation("x"));
        assert!(found(&cache, id).is_some());
        cache.distrust();
        assert!(found(&cache, id).is_none(), "emptied and bypassed");
        cache.trust();
        assert!(found(&cache, id).is_none(), "trusting again starts empty");
    }

    #[test]
    fn stays_within_its_budget() {
        let cache = trusted(1);
        let body = "x".repeat(1000);
        for n in 0..5000u128 {
            let id = Uuid::from_u128(n);
            cache.remember_chirp(miss(&cache, id), id, representation(&body));
        }
        assert!(cache.weight() <= 1024 * 1024, "{}", cache.weight());
        assert!(cache.stats.evictions.load(Ordering::Relaxed) > 0);
    }

    #[test]
    fn off_means_always_a_miss() {
        let cache = trusted(0);
        assert!(!cache.enabled());
        let id = Uuid::from_u128(6);
        cache.remember_chirp(miss(&cache, id), id, representation("x"));
        assert!(found(&cache, id).is_none());
    }
}
