//! The chirp cache: the JSON of chirps by id and of the feed's first pages, so a hot read
//! costs neither the database nor serialisation. What a chirp was posted with never changes,
//! only disappears, so that part of its JSON (a [`Fragment`]) stays right until the chirp is
//! deleted (for a chirp) or any chirp is posted or deleted (for a page). Its counts (likes,
//! replies) do change: they are kept apart, per chirp, spliced into the JSON at each
//! response, and marked outdated on their own when they change. The next read takes them
//! again from the primary; readers that come while that read is on its way get the outdated
//! ones rather than all going to the primary at once. So a storm of likes on a hot chirp
//! costs its cached page nothing and its counts one read at a time, not one per reader.
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

    /// JSON with a tag made otherwise (from its parts, see [`etag_of`]).
    pub fn tagged(json: Vec<u8>, etag: HeaderValue) -> Self {
        Self {
            json: json.into(),
            etag,
            link: None,
        }
    }

    pub fn with_link(self, link: Option<String>) -> Self {
        Self { link, ..self }
    }
}

/// The part of a chirp's JSON that never changes: everything but its counts, without the
/// closing brace; with a hash of it, for tags.
#[derive(Debug, PartialEq, Eq)]
pub struct Fragment {
    pub json: Bytes,
    hash: u64,
}

/// A chirp's counts, which change (likes, replies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    pub likes: i64,
    pub replies: i64,
}

impl Fragment {
    /// From the JSON of a chirp without its counts (an object: its closing brace is dropped).
    pub fn new(mut json: Vec<u8>) -> Self {
        debug_assert_eq!(json.last(), Some(&b'}'));
        json.pop();
        let mut hasher = std::hash::DefaultHasher::new();
        json.hash(&mut hasher);
        Self {
            hash: hasher.finish(),
            json: Bytes::copy_from_slice(&json),
        }
    }

    /// The whole chirp's JSON, with `counts`, appended to `out`.
    pub fn write(&self, counts: Counts, out: &mut Vec<u8>) {
        use std::io::Write as _;
        out.extend_from_slice(&self.json);
        if self.json.len() > 1 {
            out.push(b',');
        }
        let _ = write!(
            out,
            "\"like_count\":{},\"reply_count\":{}}}",
            counts.likes, counts.replies
        );
    }
}

/// The strong tag of chirps as sent: their fragments' hashes and their counts.
pub fn etag_of<'a>(chirps: impl IntoIterator<Item = (&'a Fragment, Counts)>, salt: u8) -> HeaderValue {
    let mut hasher = std::hash::DefaultHasher::new();
    salt.hash(&mut hasher);
    for (fragment, counts) in chirps {
        fragment.hash.hash(&mut hasher);
        counts.hash(&mut hasher);
    }
    HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish())).expect("hex digits in quotes are a valid header")
}

/// A first page of the feed as kept: its chirps' fragments, and its `Link` to the next.
#[derive(Debug)]
pub struct CachedPage {
    pub chirps: Vec<(Uuid, Arc<Fragment>)>,
    pub link: Option<String>,
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
    Chirp(Arc<Fragment>),
    /// Deleted: it will never exist again (ids are never reused).
    Deleted,
}

pub enum Lookup {
    Found(Arc<Fragment>),
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
    pages: Option<Sized<PageKey, Arc<CachedPage>>>,
    /// Counts as the primary last gave them, and when.
    counts: Option<Sized<Uuid, Counted>>,
    /// Chirps whose outdated counts one reader is reading again (see [`Refreshing`]).
    refreshing: Mutex<HashSet<Uuid>>,
    /// Bumped for a chirp (by its id's hash) whenever its counts change, so a read of counts
    /// that began before the change never puts them in afterwards.
    counts_generations: Box<[AtomicU64]>,
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
/// 1,000 chirps (a longer list is streamed, never kept). Counts get 1/8: an entry is about
/// a sixth of a chirp's, and every cached chirp read needs its counts too.
const PAGES_SHARE: u64 = 16;
const COUNTS_SHARE: u64 = 8;
/// Counts older than this are read again: a change whose announcement was lost (an
/// instance that died between its commit and its NOTIFY, and a liker that never retried)
/// shows within this long. Every kept chirp's counts are read once per this long, so it is
/// long: a minute of 100,000 hot chirps is 1,700 reads a second.
pub const COUNTS_FOR: std::time::Duration = std::time::Duration::from_secs(60);
const COUNTS_GENERATIONS: usize = 256;
/// What a counts entry costs beyond its value: key and `quick_cache`'s slot and table.
/// Measured: 89 bytes an entry in all for 100,000 entries of 40 bytes.
const COUNTS_OVERHEAD: u64 = 56;

/// Counts, the generation of their chirp's bucket when their read began, and when that was.
#[derive(Debug, Clone, Copy)]
struct Counted {
    counts: Counts,
    generation: u64,
    at: std::time::Instant,
}

/// A miss of a chirp's counts: the generation it was seen in and when; and, if the cache
/// had outdated ones, the claim to read them again.
#[derive(Debug)]
pub struct CountsMiss<'a> {
    generation: u64,
    at: std::time::Instant,
    _refreshing: Option<Refreshing<'a>>,
}

/// One reader's claim to read a chirp's outdated counts again; given up when it is dropped
/// (read, failed or cancelled), so a cancelled read never leaves the others stuck.
#[derive(Debug)]
pub struct Refreshing<'a> {
    refreshing: &'a Mutex<HashSet<Uuid>>,
    id: Uuid,
}

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        lock(self.refreshing).remove(&self.id);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The counts generations before a read of many chirps (a page), so that the counts it
/// finds can be kept.
pub struct CountsBefore {
    generations: Vec<u64>,
    at: std::time::Instant,
}
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
            chirps: sized(bytes - bytes / PAGES_SHARE - bytes / COUNTS_SHARE, lifecycle.clone()),
            pages: sized(bytes / PAGES_SHARE, lifecycle.clone()),
            counts: sized(bytes / COUNTS_SHARE, lifecycle),
            refreshing: Mutex::default(),
            counts_generations: (0..COUNTS_GENERATIONS).map(|_| AtomicU64::new(0)).collect(),
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
    pub fn remember_chirp(&self, miss: Miss, id: Uuid, chirp: Arc<Fragment>) {
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

    pub fn page(&self, key: PageKey) -> Result<Arc<CachedPage>, Miss> {
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

    pub fn remember_page(&self, miss: Miss, key: PageKey, page: Arc<CachedPage>) {
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

    fn counts_bucket(id: Uuid) -> usize {
        let mut hasher = std::hash::DefaultHasher::new();
        id.hash(&mut hasher);
        hasher.finish() as usize % COUNTS_GENERATIONS
    }

    fn counts_generation(&self, id: Uuid) -> &AtomicU64 {
        &self.counts_generations[Self::counts_bucket(id)]
    }

    /// The chirp's counts, if the cache has them current (read after their last change, in
    /// the last `COUNTS_FOR`), or outdated while another reader is reading them again.
    /// Otherwise a miss: the caller reads them and gives them to
    /// [`ChirpCache::remember_counts`].
    pub fn counts(&self, id: Uuid) -> Result<Counts, CountsMiss<'_>> {
        let generation = self.counts_generation(id).load(Ordering::Acquire);
        let kept = match &self.counts {
            Some(counts) if self.usable(&self.counts) => counts.get(&id),
            _ => None,
        };
        let refreshing = match kept {
            Some(kept) if kept.generation == generation && kept.at.elapsed() < COUNTS_FOR => {
                self.hit();
                return Ok(kept.counts);
            }
            Some(kept) => match self.claim_refresh(id) {
                Some(claim) => Some(claim),
                // Another reader is reading them again: these miss only the changes since
                // the last read, and cost nothing while the next is on its way.
                None => {
                    self.hit();
                    return Ok(kept.counts);
                }
            },
            None => None,
        };
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        Err(CountsMiss {
            generation,
            at: std::time::Instant::now(),
            _refreshing: refreshing,
        })
    }

    fn claim_refresh(&self, id: Uuid) -> Option<Refreshing<'_>> {
        let claimed = lock(&self.refreshing).insert(id);
        claimed.then(|| Refreshing {
            refreshing: &self.refreshing,
            id,
        })
    }

    /// A miss for counts the caller wants read again whatever the cache has (taken before
    /// the read).
    pub fn counts_miss(&self, id: Uuid) -> CountsMiss<'_> {
        CountsMiss {
            generation: self.counts_generation(id).load(Ordering::Acquire),
            at: std::time::Instant::now(),
            _refreshing: None,
        }
    }

    /// Keeps counts read after `miss`, unless the cache has some read later. Counts that
    /// changed during the read are kept as outdated: served only while they are read again.
    pub fn remember_counts(&self, miss: CountsMiss<'_>, id: Uuid, counts: Counts) {
        let Some(cache) = self.counts.as_ref().filter(|_| self.usable(&self.counts)) else {
            return;
        };
        let later = |kept: &Counted| (kept.generation, kept.at) >= (miss.generation, miss.at);
        if cache.get(&id).is_some_and(|kept| later(&kept)) {
            return;
        }
        cache.insert(
            id,
            Counted {
                counts,
                generation: miss.generation,
                at: miss.at,
            },
        );
    }

    /// The counts generations now, before a page is read.
    pub fn counts_before_read(&self) -> CountsBefore {
        CountsBefore {
            generations: self
                .counts_generations
                .iter()
                .map(|generation| generation.load(Ordering::Acquire))
                .collect(),
            at: std::time::Instant::now(),
        }
    }

    /// Keeps a chirp's counts from a read that began at `before`.
    pub fn remember_counts_read(&self, before: &CountsBefore, id: Uuid, counts: Counts) {
        let miss = CountsMiss {
            generation: before.generations[Self::counts_bucket(id)],
            at: before.at,
            _refreshing: None,
        };
        self.remember_counts(miss, id, counts);
    }

    /// The chirp's counts changed (a like, an unlike, a reply posted or deleted; here, or as
    /// announced): those kept are outdated from now on.
    pub fn counts_changed(&self, id: Uuid) {
        self.counts_generation(id).fetch_add(1, Ordering::AcqRel);
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
    /// (`reply_to`: the parent whose reply count moved.)
    pub fn logged(&self, id: Uuid, deleted: bool, reply_to: Option<Uuid>) {
        if self.was_heard(id) {
            return;
        }
        if let Some(parent) = reply_to {
            self.counts_changed(parent);
        }
        if deleted {
            self.forget(id);
        } else {
            self.pages_changed();
        }
    }

    fn heard(&self, id: Uuid) {
        let mut heard = lock(&self.heard);
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
        lock(&self.heard).1.contains(&id)
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
        for generation in &self.counts_generations {
            generation.fetch_add(1, Ordering::AcqRel);
        }
        if let Some(counts) = &self.counts {
            counts.clear();
        }
        self.pages_changed();
    }

    /// Bytes held, as the cache weighs them.
    pub fn weight(&self) -> u64 {
        self.chirps.as_ref().map_or(0, |c| c.weight())
            + self.pages.as_ref().map_or(0, |c| c.weight())
            + self.counts.as_ref().map_or(0, |c| c.weight())
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

impl Weighter<PageKey, Arc<CachedPage>> for ByBytes {
    /// The page's list, its chirps' fragments and its link.
    fn weight(&self, _: &PageKey, page: &Arc<CachedPage>) -> u64 {
        let list = page.chirps.len() * std::mem::size_of::<(Uuid, Arc<Fragment>)>();
        let fragments: usize = page.chirps.iter().map(|(_, fragment)| fragment.json.len()).sum();
        (list + fragments + page.link.as_ref().map_or(0, String::len)) as u64 + ENTRY_OVERHEAD
    }
}

impl Weighter<Uuid, Counted> for ByBytes {
    fn weight(&self, _: &Uuid, _: &Counted) -> u64 {
        (std::mem::size_of::<Counted>() as u64) + COUNTS_OVERHEAD
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

    fn representation(text: &str) -> Arc<Fragment> {
        Arc::new(Fragment::new(format!("{{\"text\":{text:?}}}").into_bytes()))
    }

    fn page(text: &str) -> Arc<CachedPage> {
        Arc::new(CachedPage {
            chirps: vec![(Uuid::nil(), representation(text))],
            link: None,
        })
    }

    fn found(cache: &ChirpCache, id: Uuid) -> Option<Arc<Fragment>> {
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
        let full = |text: &str| Representation::new(text.as_bytes().to_vec());
        assert_eq!(full("{}").etag, full("{}").etag);
        assert_ne!(full("{}").etag, full("[]").etag);
        let tag = full("{}").etag.to_str().unwrap().to_owned();
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 18, "{tag}");
    }

    #[test]
    fn a_chirp_is_its_fragment_with_its_counts_and_its_tag_follows_both() {
        let fragment = Fragment::new(br#"{"id":1,"body":"x"}"#.to_vec());
        let mut json = Vec::new();
        fragment.write(Counts { likes: 3, replies: 1 }, &mut json);
        assert_eq!(json, br#"{"id":1,"body":"x","like_count":3,"reply_count":1}"#);
        let tag = |likes| etag_of([(&fragment, Counts { likes, replies: 1 })], 0);
        assert_eq!(tag(3), tag(3));
        assert_ne!(tag(3), tag(4), "a like changes the tag");
        let other = Fragment::new(br#"{"id":2,"body":"x"}"#.to_vec());
        assert_ne!(tag(3), etag_of([(&other, Counts { likes: 3, replies: 1 })], 0));
    }

    #[test]
    fn counts_are_kept_until_they_change_and_a_read_from_before_a_change_is_not_current() {
        let cache = trusted(1);
        let id = Uuid::from_u128(40);
        let (one, two) = (Counts { likes: 1, replies: 0 }, Counts { likes: 2, replies: 0 });
        let seen = cache.counts(id).unwrap_err();
        cache.remember_counts(seen, id, one);
        assert_eq!(cache.counts(id).unwrap(), one);
        let other = cache.counts(Uuid::from_u128(41)).unwrap_err();
        cache.counts_changed(id);
        let stale = cache.counts(id).expect_err("changed: read again");
        cache.counts_changed(id);
        cache.remember_counts(stale, id, one);
        let again = cache.counts(id).expect_err("read before a change: not current");
        cache.remember_counts(again, id, two);
        assert_eq!(cache.counts(id).unwrap(), two);
        cache.remember_counts(other, Uuid::from_u128(41), Counts::default());
        assert!(
            cache.counts(Uuid::from_u128(41)).is_ok(),
            "another chirp's change is no matter"
        );
    }

    #[test]
    fn while_one_reader_reads_changed_counts_again_the_others_get_the_kept_ones() {
        let cache = trusted(1);
        let id = Uuid::from_u128(42);
        let (one, two) = (Counts { likes: 1, replies: 0 }, Counts { likes: 2, replies: 0 });
        cache.remember_counts(cache.counts_miss(id), id, one);
        cache.counts_changed(id);
        let first = cache.counts(id).expect_err("the first reader reads them again");
        assert_eq!(cache.counts(id).unwrap(), one, "the others meanwhile: the kept ones");
        drop(first);
        let second = cache.counts(id).expect_err("a read given up lets the next one read");
        let fresher = cache.counts_miss(id);
        cache.remember_counts(fresher, id, two);
        cache.remember_counts(second, id, one);
        assert_eq!(
            cache.counts(id).unwrap(),
            two,
            "an earlier read never replaces a later one"
        );
    }

    #[test]
    fn a_page_read_keeps_the_counts_current_when_it_began() {
        let cache = trusted(1);
        let (quiet, liked) = (Uuid::from_u128(43), Uuid::from_u128(44));
        let before = cache.counts_before_read();
        cache.counts_changed(liked);
        cache.remember_counts_read(&before, quiet, Counts::default());
        cache.remember_counts_read(&before, liked, Counts::default());
        assert!(cache.counts(quiet).is_ok());
        assert!(cache.counts(liked).is_err(), "liked during the read");
    }

    #[test]
    fn remembers_a_chirp_until_it_is_deleted_and_then_knows_it_is_gone() {
        let cache = trusted(1);
        let id = Uuid::from_u128(1);
        let seen = miss(&cache, id);
        cache.remember_chirp(seen, id, representation("one"));
        assert_eq!(found(&cache, id).unwrap().json, "{\"text\":\"one\"");
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
            cache.remember_page(seen, key, page("[]"));
        };
        page(&cache);
        cache.posted(Uuid::from_u128(10));
        assert!(cache.page(key).is_err(), "an announced post empties the pages");
        page(&cache);
        cache.logged(Uuid::from_u128(10), false, None);
        assert!(cache.page(key).is_ok(), "its copy in the log changes nothing more");
        cache.logged(Uuid::from_u128(11), false, None);
        assert!(cache.page(key).is_err(), "a post only the log tells of counts");
        let id = Uuid::from_u128(12);
        cache.remember_chirp(miss(&cache, id), id, representation("x"));
        cache.logged(id, true, None);
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
        cache.remember_page(seen, key, page("[a page read before a post]"));
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
        cache.remember_page(seen, key, page("[page]"));
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
