//! The stream table: streams live in a slab, found through an open-addressing
//! index of 8-byte slots (linear probing, at most half full).
//!
//! Why not a `HashMap<ConnKey, Box<Stream>>`: on a busy link hundreds of
//! connections interleave, so each packet's slot and stream have usually left
//! the cache since that connection's previous packet. Here both addresses
//! follow from the four-tuple's hash, which the capture thread computes
//! (`flow_hash`), so the packet loop prefetches them a few packets ahead
//! (`prefetch_slot`, `prefetch_stream`) and the lookup finds them in cache.
//! A slab also frees nothing per stream, and iterates in slab order (creation
//! order until retired streams leave slots for new ones).

use super::{ConnKey, Stream};
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// The hash of a four-tuple, the same in every thread of the process (seeded
/// once at random, so crafted traffic cannot aim at one probe chain).
pub fn hash_key(key: &ConnKey) -> u64 {
    static STATE: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    STATE
        .get_or_init(|| {
            let seed = std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64);
            foldhash::fast::FixedState::with_seed(seed)
        })
        .hash_one(key)
}

/// A slot: the hash's upper 32 bits (a tag that rules out most mismatches
/// without touching the stream) and the slab index plus one; 0 is empty.
const EMPTY: u64 = 0;

#[inline]
fn slot(hash: u64, idx: usize) -> u64 {
    (hash & 0xffff_ffff_0000_0000) | (idx as u64 + 1)
}

#[inline]
fn tag_matches(s: u64, hash: u64) -> bool {
    (s ^ hash) >> 32 == 0
}

#[inline]
fn index_of(s: u64) -> usize {
    (s & 0xffff_ffff) as usize - 1
}

pub struct Table {
    slots: Vec<u64>,
    streams: Vec<Stream>,
    /// Per slab entry: the stream's hash and its last packet's time (as
    /// `sum.last_ts`), so a budget sweep reads 16 bytes a stream, not the
    /// stream (150k streams are 120 MB: a sweep took 40 ms).
    seen: Vec<(u64, i64)>,
    /// Slab entries of removed streams, reused by the next inserts.
    free: Vec<u32>,
    len: usize,
}

impl Table {
    pub fn new() -> Table {
        Table {
            slots: vec![EMPTY; 1024],
            streams: Vec::new(),
            seen: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Room for `n` streams without moving the slab (address space only:
    /// untouched pages cost no memory). Growing a slab of 100k+ streams
    /// moves 100+ MB at once, a visible stall in an interactive view.
    pub fn reserve(&mut self, n: usize) {
        self.streams.reserve(n.saturating_sub(self.streams.len()));
        // The slots too (a rehash of millions is as visible); zeroed pages
        // are mapped lazily, so the empty ones cost nothing until used.
        let size = (n * 2).next_power_of_two();
        if size > self.slots.len() {
            if self.len == 0 {
                self.slots = vec![EMPTY; size];
            } else {
                let live = self.live_indexes();
                self.rebuild(size, live.into_iter());
            }
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Warm the cache line of the slot a lookup for `hash` starts at.
    #[inline]
    pub fn prefetch_slot(&self, hash: u64) {
        crate::prefetch::read(&self.slots[hash as usize & self.mask()]);
    }

    /// Warm the stream a lookup for `hash` would find. Only tags are compared,
    /// so a collision prefetches a wrong stream, which costs nothing but the fetch.
    #[inline]
    pub fn prefetch_stream(&self, hash: u64) {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        for _ in 0..4 {
            let s = self.slots[i];
            if s == EMPTY {
                return;
            }
            if tag_matches(s, hash) {
                if let Some(st) = self.streams.get(index_of(s)) {
                    let p = (st as *const Stream).cast::<u8>();
                    crate::prefetch::span(p, std::mem::size_of::<Stream>());
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The slab index of `key`'s stream, or the slot to insert it at.
    #[inline]
    pub fn find(&self, hash: u64, key: &ConnKey) -> Result<usize, usize> {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return Err(i);
            }
            if tag_matches(s, hash) && self.streams[index_of(s)].key == *key {
                return Ok(index_of(s));
            }
            i = (i + 1) & mask;
        }
    }

    /// The live stream numbered `stream` among those filed under `hash`
    /// (a port reuse files a later stream under the same four-tuple).
    pub fn find_stream(&self, hash: u64, stream: u32) -> Option<&Stream> {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            if tag_matches(s, hash) {
                let st = &self.streams[index_of(s)];
                if st.hash == hash && st.sum.stream == stream {
                    return Some(st);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Insert a stream whose key `find` did not find (`at` is what it returned).
    /// Returns its slab index.
    pub fn insert(&mut self, at: usize, stream: Stream) -> usize {
        let hash = stream.hash;
        let seen = (hash, stream.sum.last_ts);
        let idx = match self.free.pop() {
            Some(i) => {
                self.streams[i as usize] = stream;
                self.seen[i as usize] = seen;
                i as usize
            }
            None => {
                self.streams.push(stream);
                self.seen.push(seen);
                self.streams.len() - 1
            }
        };
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            // The slots do not hold the new stream yet: it goes in with everything else.
            let live = self.live_indexes();
            self.rebuild(self.slots.len() * 2, live.into_iter().chain([idx]));
        } else {
            self.slots[at] = slot(hash, idx);
        }
        idx
    }

    /// Stream `idx` saw a packet at `ts` (its `sum.last_ts` from now on).
    #[inline]
    pub fn touch(&mut self, idx: usize, ts: i64) {
        self.seen[idx].1 = ts;
    }

    /// One pass over the live streams, in slab order: each one's slab
    /// index, hash and last packet's time (see `seen`).
    pub fn scan_seen(&self) -> Vec<(usize, u64, i64)> {
        let free = self.free_marks();
        (self.seen.iter().enumerate())
            .filter(|&(i, _)| !free[i])
            .map(|(i, &(hash, ts))| (i, hash, ts))
            .collect()
    }

    #[inline]
    pub fn get_mut(&mut self, idx: usize) -> &mut Stream {
        &mut self.streams[idx]
    }

    /// Slab indexes of the live streams, in slab order.
    fn live_indexes(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .slots
            .iter()
            .filter(|&&s| s != EMPTY)
            .map(|&s| index_of(s))
            .collect();
        v.sort_unstable();
        v
    }

    fn rebuild(&mut self, size: usize, live: impl Iterator<Item = usize>) {
        self.slots.clear();
        self.slots.resize(size, EMPTY);
        let mask = size - 1;
        for idx in live {
            let hash = self.streams[idx].hash;
            let mut i = hash as usize & mask;
            while self.slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot(hash, idx);
        }
    }

    /// One pass over the live streams, in slab order: each one's slab index,
    /// hash and `key` of it (the streams are scattered: every read is a cache miss).
    #[cfg(test)]
    pub fn scan<K>(&self, key: impl Fn(&Stream) -> K) -> Vec<(usize, u64, K)> {
        // The live streams are the slab's entries not on the free list, in
        // slab order (as `live_indexes`, without reading every slot).
        let free = self.free_marks();
        let live: Vec<usize> = (0..self.streams.len()).filter(|&i| !free[i]).collect();
        // Each read is a cache miss: fetch a few streams ahead.
        const AHEAD: usize = 8;
        let warm = |i: usize| {
            let p = (&self.streams[i] as *const Stream).cast::<u8>();
            crate::prefetch::span(p, 256.min(std::mem::size_of::<Stream>()));
        };
        live.iter().take(AHEAD).for_each(|&i| warm(i));
        live.iter()
            .enumerate()
            .map(|(n, &i)| {
                if let Some(&j) = live.get(n + AHEAD) {
                    warm(j);
                }
                let s = &self.streams[i];
                (i, s.hash, key(s))
            })
            .collect()
    }

    pub fn get(&self, idx: usize) -> &Stream {
        &self.streams[idx]
    }

    /// Keep the streams of `kept` (slab index and hash, from `scan`); the
    /// live streams not in it are removed. Touches no stream.
    pub fn keep_only(&mut self, kept: &[(usize, u64)], removed: impl Iterator<Item = usize>) {
        // Each removed stream leaves its slot (a sweep removes a quarter:
        // clearing and refilling every slot cost more, the slots being
        // sized for the whole file).
        for idx in removed {
            self.remove_slot(idx);
            self.free.push(idx as u32);
        }
        self.len = kept.len();
    }

    /// Empty the slot of slab entry `idx`, moving later entries of its
    /// probe run back so every lookup still finds them (linear probing
    /// without tombstones).
    fn remove_slot(&mut self, idx: usize) {
        let mask = self.mask();
        let hash = self.seen[idx].0;
        let want = slot(hash, idx);
        let mut i = hash as usize & mask;
        while self.slots[i] != want {
            if self.slots[i] == EMPTY {
                return;
            }
            i = (i + 1) & mask;
        }
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s == EMPTY {
                break;
            }
            // An entry may fill the hole unless its home lies cyclically in (i, j].
            let home = self.seen[index_of(s)].0 as usize & mask;
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.slots[i] = s;
                i = j;
            }
        }
        self.slots[i] = EMPTY;
    }

    /// The live streams, oldest slab entry first: the slab's entries not on the free
    /// list (as `scan_seen`; reading every slot and sorting the indexes cost `-q`'s
    /// end-of-capture pass about 5 ms on 91k streams).
    pub fn iter(&self) -> impl Iterator<Item = &Stream> {
        let free = self.free_marks();
        (self.streams.iter().enumerate())
            .filter(move |&(i, _)| !free[i])
            .map(|(_, s)| s)
    }

    /// Per slab entry: is it on the free list (a removed stream's, not yet reused)?
    /// The live streams are the others, in slab order.
    fn free_marks(&self) -> Vec<bool> {
        let mut free = vec![false; self.streams.len()];
        for &i in &self.free {
            if let Some(f) = free.get_mut(i as usize) {
                *f = true;
            }
        }
        free
    }

    /// Keep the streams for which `keep` is true; the others are removed
    /// (their slab entries are reused by later inserts). Built on `scan` and
    /// `keep_only`, as the tracker's budget sweep is.
    #[cfg(test)]
    pub fn retain(&mut self, keep: impl Fn(&Stream) -> bool) {
        let seen = self.scan(keep);
        let kept: Vec<(usize, u64)> = seen.iter().filter(|e| e.2).map(|e| (e.0, e.1)).collect();
        let gone: Vec<usize> = seen.iter().filter(|e| !e.2).map(|e| e.0).collect();
        self.keep_only(&kept, gone.into_iter());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Frame, LinkType};
    use std::collections::HashMap;
    use std::net::{IpAddr, Ipv4Addr};

    fn stream(i: u32, hash: u64) -> Stream {
        let a = crate::track::Endpoint(IpAddr::V4(Ipv4Addr::from(i)), 1000);
        let b = crate::track::Endpoint(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 80);
        let f = Frame::new(1, i as i64, 60, 60, LinkType::Ethernet);
        Stream::new(ConnKey::new(a, b), hash, i, a, b, &f)
    }

    /// Inserts, lookups, growth and removals agree with a HashMap, including
    /// when every hash starts its probe at the same slot.
    #[test]
    fn agrees_with_a_hash_map() {
        for (colliding, reserved) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut t = Table::new();
            if reserved {
                // Reserved before and again partway (below): the same answers.
                t.reserve(3000);
            }
            let mut model: HashMap<ConnKey, u32> = HashMap::new();
            let hash_of = |i: u32| {
                let h = hash_key(&stream(i, 0).key);
                if colliding {
                    h & !0xffff_ffff | 7
                } else {
                    h
                }
            };
            for i in 0..5000u32 {
                if reserved && i == 2500 {
                    t.reserve(20_000);
                }
                let s = stream(i, hash_of(i));
                let key = s.key;
                let at = t.find(s.hash, &key).expect_err("new key");
                let idx = t.insert(at, s);
                assert_eq!(t.get_mut(idx).sum.stream, i);
                model.insert(key, i);
                if i % 7 == 0 {
                    // Remove every stream with an even index so far.
                    t.retain(|s| s.sum.stream % 2 == 1 || s.sum.stream > i.saturating_sub(100));
                    model.retain(|_, v| *v % 2 == 1 || *v > i.saturating_sub(100));
                }
                assert_eq!(t.len(), model.len());
            }
            for i in 0..5000u32 {
                let s = stream(i, hash_of(i));
                match (t.find(s.hash, &s.key), model.get(&s.key)) {
                    (Ok(idx), Some(&v)) => assert_eq!(t.get_mut(idx).sum.stream, v),
                    (Err(_), None) => {}
                    (got, want) => panic!("stream {i}: table {got:?}, model {want:?}"),
                }
            }
            // The side array says what the streams do.
            assert_eq!(t.scan_seen(), t.scan(|s| s.sum.last_ts));
            // In slab order: the slots' live entries, sorted.
            let order: Vec<u32> = (t.live_indexes().into_iter())
                .map(|i| t.streams[i].sum.stream)
                .collect();
            let mut live: Vec<u32> = t.iter().map(|s| s.sum.stream).collect();
            assert_eq!(live, order, "slab order");
            let mut want: Vec<u32> = model.values().copied().collect();
            live.sort_unstable();
            want.sort_unstable();
            assert_eq!(live, want);
        }
    }
}
