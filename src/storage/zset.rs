//! Sorted-set values, in Redis 7.2's two encodings.
//!
//! Small sets are Redis's listpack: one vector of (score, member) sorted by score then member
//! bytes, where a member lookup is a linear scan (cheap below `zset-max-listpack-entries`).
//! Past `zset-max-listpack-entries` entries or a member longer than `zset-max-listpack-value`
//! bytes a set converts, once and for good, to the large form Redis calls `skiplist`: a
//! member → score map (an `IndexMap`, so ZRANDMEMBER samples by position in O(1) and ZSCAN walks
//! positions downward like `Keyspace::scan`) plus an order-statistic index of (score, member)
//! for O(log n) rank and range queries.
//!
//! The index is a list of sorted blocks with a Fenwick tree over their lengths (the shape the
//! `indexset` crate uses), written here rather than taken from that crate because its node count
//! and node capacities are private, and accounting must be true to the allocator in O(1): every
//! block here is allocated at exactly `BLOCK` entries and never grows, so the index costs
//! `blocks × alloc_size(BLOCK entries)` plus its two spines. Blocks split when full and merge
//! when a removal leaves one nearly empty, so memory stays proportional to the entries.
//!
//! Order: by score, then member bytes; -0.0 and 0.0 compare equal (IEEE), and NaN is never
//! stored (commands refuse it before it gets here).

use super::value::{alloc_size, index_map_size, EncodingLimits, Member};
use std::cmp::Ordering;

type Map = indexmap::IndexMap<Member, f64, foldhash::fast::RandomState>;

/// Entries per index block: 64 × 24 bytes = one 1.5 KiB allocation. Large enough that the
/// block spine stays short (n/64), small enough that an insert's shift is a few cache lines.
const BLOCK: usize = 64;

/// One entry of the sorted order.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub score: f64,
    pub member: Member,
}

/// The sorted-set order of (score, member) pairs.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2)
        .unwrap_or(Ordering::Equal)
        .then_with(|| m1.cmp(m2))
}

impl Item {
    fn cmp_to(&self, score: f64, member: &[u8]) -> Ordering {
        cmp_entry(self.score, self.member.as_bytes(), score, member)
    }
}

/// Heap cost of a vector's buffer (nothing until it allocates).
fn vec_heap(bytes: usize) -> usize {
    if bytes == 0 {
        0
    } else {
        alloc_size(bytes)
    }
}

/// The order-statistic index of the large encoding (see the module doc).
#[derive(Clone, Debug, Default)]
struct Index {
    blocks: Vec<Vec<Item>>,
    /// Fenwick tree over block lengths (0-based; entry i covers blocks `(i & (i + 1))..=i`).
    fen: Vec<usize>,
    len: usize,
}

impl Index {
    fn new_block() -> Vec<Item> {
        Vec::with_capacity(BLOCK)
    }

    fn heap_size(&self) -> usize {
        self.blocks.len() * alloc_size(BLOCK * std::mem::size_of::<Item>())
            + vec_heap(self.blocks.capacity() * std::mem::size_of::<Vec<Item>>())
            + vec_heap(self.fen.capacity() * std::mem::size_of::<usize>())
    }

    /// Builds from entries already in order, blocks three-quarters full so the next inserts
    /// do not split at once.
    fn from_sorted(items: impl ExactSizeIterator<Item = Item>) -> Index {
        let mut ix = Index {
            len: items.len(),
            ..Index::default()
        };
        let fill = BLOCK * 3 / 4;
        ix.blocks.reserve_exact(items.len().div_ceil(fill));
        for it in items {
            if ix.blocks.last().is_none_or(|b| b.len() >= fill) {
                ix.blocks.push(Index::new_block());
            }
            ix.blocks.last_mut().expect("pushed").push(it);
        }
        ix.rebuild();
        ix
    }

    fn rebuild(&mut self) {
        let n = self.blocks.len();
        self.fen.clear();
        self.fen.extend(self.blocks.iter().map(Vec::len));
        for i in 0..n {
            let j = i | (i + 1);
            if j < n {
                self.fen[j] += self.fen[i];
            }
        }
    }

    fn fen_add(&mut self, mut i: usize, delta: isize) {
        while i < self.fen.len() {
            self.fen[i] = self.fen[i].wrapping_add_signed(delta);
            i |= i + 1;
        }
    }

    /// Entries in blocks `0..b`.
    fn prefix(&self, mut b: usize) -> usize {
        let mut s = 0;
        while b > 0 {
            s += self.fen[b - 1];
            b &= b - 1;
        }
        s
    }

    /// The block and offset of global position `i` (< len).
    fn locate(&self, i: usize) -> (usize, usize) {
        let n = self.fen.len();
        let (mut pos, mut rem) = (0usize, i);
        let mut step = n.checked_next_power_of_two().unwrap_or(0);
        if step > n {
            step >>= 1;
        }
        while step > 0 {
            if pos + step <= n && self.fen[pos + step - 1] <= rem {
                pos += step;
                rem -= self.fen[pos - 1];
            }
            step >>= 1;
        }
        (pos, rem)
    }

    /// How many entries satisfy `before`, which must hold for a prefix of the order.
    fn rank_by(&self, before: impl Fn(&Item) -> bool) -> usize {
        let b = self
            .blocks
            .partition_point(|blk| before(blk.last().expect("blocks are never empty")));
        if b == self.blocks.len() {
            return self.len;
        }
        self.prefix(b) + self.blocks[b].partition_point(&before)
    }

    fn get(&self, i: usize) -> &Item {
        let (b, o) = self.locate(i);
        &self.blocks[b][o]
    }

    fn insert(&mut self, item: Item) {
        if self.blocks.is_empty() {
            self.blocks.push(Index::new_block());
            self.fen.push(0);
        }
        let key = |it: &Item| it.cmp_to(item.score, item.member.as_bytes()) == Ordering::Less;
        // A block is empty only as the sole block of a new index.
        let mut b = self
            .blocks
            .partition_point(|blk| blk.last().is_some_and(key));
        b = b.min(self.blocks.len() - 1);
        let mut at = self.blocks[b].partition_point(key);
        self.len += 1;
        if self.blocks[b].len() < BLOCK {
            self.blocks[b].insert(at, item);
            self.fen_add(b, 1);
            return;
        }
        // Full: split in halves, each keeping a full-size allocation.
        let mut upper = Index::new_block();
        upper.extend(self.blocks[b].drain(BLOCK / 2..));
        self.blocks.insert(b + 1, upper);
        if at > BLOCK / 2 {
            b += 1;
            at -= BLOCK / 2;
        }
        self.blocks[b].insert(at, item);
        self.rebuild();
    }

    /// Removes the entry at block `b`, offset `o`.
    fn remove_at(&mut self, b: usize, o: usize) -> Item {
        let it = self.blocks[b].remove(o);
        self.len -= 1;
        let n = self.blocks[b].len();
        if n == 0 {
            self.blocks.remove(b);
            self.rebuild();
        } else if n < BLOCK / 4 {
            // Merge with a neighbour when both fit in half a block, so sparse blocks cannot
            // pile up after many removals.
            let merge = if b + 1 < self.blocks.len() && n + self.blocks[b + 1].len() <= BLOCK / 2 {
                Some(b)
            } else if b > 0 && n + self.blocks[b - 1].len() <= BLOCK / 2 {
                Some(b - 1)
            } else {
                None
            };
            match merge {
                Some(left) => {
                    let right = self.blocks.remove(left + 1);
                    self.blocks[left].extend(right);
                    self.rebuild();
                }
                None => self.fen_add(b, -1),
            }
        } else {
            self.fen_add(b, -1);
        }
        it
    }

    fn remove(&mut self, score: f64, member: &[u8]) -> Option<Item> {
        let before = |it: &Item| it.cmp_to(score, member) == Ordering::Less;
        let b = self
            .blocks
            .partition_point(|blk| before(blk.last().expect("non-empty")));
        let o = self.blocks.get(b)?.partition_point(before);
        let found = self.blocks[b].get(o)?;
        if found.cmp_to(score, member) != Ordering::Equal {
            return None;
        }
        Some(self.remove_at(b, o))
    }

    fn pop(&mut self, i: usize) -> Item {
        let (b, o) = self.locate(i);
        self.remove_at(b, o)
    }

    fn iter(&self) -> std::iter::Flatten<std::slice::Iter<'_, Vec<Item>>> {
        self.blocks.iter().flatten()
    }

    /// Entries from position `i` upward.
    fn iter_from(&self, i: usize) -> impl Iterator<Item = &Item> + '_ {
        let (b, o) = if i < self.len {
            self.locate(i)
        } else {
            (self.blocks.len(), 0)
        };
        self.blocks[b..].iter().flatten().skip(o)
    }

    /// Entries from position `i` downward.
    fn iter_down_from(&self, i: usize) -> impl Iterator<Item = &Item> + '_ {
        let (b, skip) = if i < self.len {
            let (b, o) = self.locate(i);
            (b + 1, self.blocks[b].len() - 1 - o)
        } else {
            (0, 0)
        };
        self.blocks[..b]
            .iter()
            .rev()
            .flat_map(|blk| blk.iter().rev())
            .skip(skip)
    }
}

#[derive(Clone, Debug)]
enum Repr {
    /// Redis's `listpack`: sorted by (score, member).
    Small(Vec<Item>),
    /// Redis's `skiplist`: every member is held twice, once per structure.
    Large { map: Map, index: Index },
}

#[derive(Clone, Debug)]
pub struct ZSet {
    repr: Repr,
    /// Heap bytes of spilled members (both copies in the large form), kept as they change.
    member_heap: usize,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet {
            repr: Repr::Small(Vec::new()),
            member_heap: 0,
        }
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// A score as Redis's listpack keeps it: a whole number is stored as an integer
/// (`double2ll`), so -0 comes back as 0 from a small set, and only from a small set.
fn listpack_score(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    /// A new set in the encoding Redis's `zsetTypeCreate` picks for the expected size and
    /// longest member.
    pub fn with_hint(size: usize, longest: usize, l: &EncodingLimits) -> ZSet {
        let mut z = ZSet::new();
        if size > l.zset_entries || longest > l.zset_value {
            z.convert_to_large();
        }
        z
    }

    /// A set built from entries already in order and unique (what ZRANGESTORE and the STORE
    /// set operations produce), in the encoding its content calls for.
    pub fn from_sorted(items: Vec<(Member, f64)>, l: &EncodingLimits) -> ZSet {
        let member_heap = items.iter().map(|(m, _)| m.heap_size()).sum();
        let fits =
            items.len() <= l.zset_entries && items.iter().all(|(m, _)| m.len() <= l.zset_value);
        let mut v = Vec::with_capacity(items.len());
        v.extend(items.into_iter().map(|(member, score)| Item {
            score: if fits { listpack_score(score) } else { score },
            member,
        }));
        let mut z = ZSet {
            repr: Repr::Small(v),
            member_heap,
        };
        if !fits {
            z.convert_to_large();
        }
        z
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(v) => v.len(),
            Repr::Large { index, .. } => index.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Small(_) => "listpack",
            Repr::Large { .. } => "skiplist",
        }
    }

    pub fn heap_size(&self) -> usize {
        let repr = match &self.repr {
            Repr::Small(v) => vec_heap(v.capacity() * std::mem::size_of::<Item>()),
            Repr::Large { map, index } => {
                index_map_size(map.capacity(), 8 + std::mem::size_of::<(Member, f64)>())
                    + index.heap_size()
            }
        };
        alloc_size(std::mem::size_of::<ZSet>()) + repr + self.member_heap
    }

    /// Re-derives the encoding from the whole set (after RESTORE, and for sets a command
    /// builds from scratch, as Redis's `zsetConvertToListpackIfNeeded`): both directions.
    pub fn settle_all(&mut self, l: &EncodingLimits) {
        let fits =
            self.len() <= l.zset_entries && self.iter().all(|(m, _)| m.len() <= l.zset_value);
        match (&self.repr, fits) {
            (Repr::Small(_), false) => self.convert_to_large(),
            (Repr::Large { .. }, true) => self.convert_to_small(),
            _ => {}
        }
    }

    fn convert_to_large(&mut self) {
        let Repr::Small(v) = &mut self.repr else {
            return;
        };
        let items = std::mem::take(v);
        let mut map = Map::with_capacity_and_hasher(items.len(), Default::default());
        for it in &items {
            self.member_heap += it.member.heap_size();
            map.insert(it.member.clone(), it.score);
        }
        let index = Index::from_sorted(items.into_iter());
        self.repr = Repr::Large { map, index };
    }

    fn convert_to_small(&mut self) {
        let Repr::Large { map, index } = &mut self.repr else {
            return;
        };
        for m in map.keys() {
            self.member_heap -= m.heap_size();
        }
        let mut v = Vec::with_capacity(index.len);
        v.extend(
            std::mem::take(&mut index.blocks)
                .into_iter()
                .flatten()
                .map(|it| Item {
                    score: listpack_score(it.score),
                    ..it
                }),
        );
        self.repr = Repr::Small(v);
    }

    /// The member's score.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Small(v) => v
                .iter()
                .find(|it| it.member.as_bytes() == member)
                .map(|it| it.score),
            Repr::Large { map, .. } => map.get(member).copied(),
        }
    }

    /// Adds or updates a member, converting to the large encoding as Redis's `zsetAdd` does;
    /// returns the previous score.
    pub fn add(&mut self, member: &[u8], score: f64, l: &EncodingLimits) -> Option<f64> {
        debug_assert!(!score.is_nan());
        if let Repr::Small(v) = &mut self.repr {
            let score = listpack_score(score);
            if let Some(i) = v.iter().position(|it| it.member.as_bytes() == member) {
                let old = v[i].score;
                if old != score {
                    let it = v.remove(i);
                    let at = v.partition_point(|x| x.cmp_to(score, member) == Ordering::Less);
                    v.insert(at, Item { score, ..it });
                }
                return Some(old);
            }
            if v.len() < l.zset_entries && member.len() <= l.zset_value {
                let at = v.partition_point(|x| x.cmp_to(score, member) == Ordering::Less);
                let m = Member::new(member);
                self.member_heap += m.heap_size();
                v.insert(at, Item { score, member: m });
                return None;
            }
            self.convert_to_large();
        }
        let Repr::Large { map, index } = &mut self.repr else {
            unreachable!("converted above");
        };
        match map.get_mut(member) {
            Some(slot) => {
                let old = *slot;
                if old != score {
                    *slot = score;
                    let it = index.remove(old, member).expect("index mirrors the map");
                    index.insert(Item { score, ..it });
                }
                Some(old)
            }
            None => {
                let m = Member::new(member);
                self.member_heap += 2 * m.heap_size();
                map.insert(m.clone(), score);
                index.insert(Item { score, member: m });
                None
            }
        }
    }

    /// Adds or updates a member under Redis's default encoding limits (loading a DUMP, where
    /// `settle_all` applies the configured ones afterwards).
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        self.add(member, score, &EncodingLimits::default())
    }

    /// Removes a member; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Small(v) => {
                let i = v.iter().position(|it| it.member.as_bytes() == member)?;
                let it = v.remove(i);
                self.member_heap -= it.member.heap_size();
                Some(it.score)
            }
            Repr::Large { map, index } => {
                let (m, score) = map.swap_remove_entry(member)?;
                let it = index.remove(score, member).expect("index mirrors the map");
                self.member_heap -= m.heap_size() + it.member.heap_size();
                shrink_map(map);
                Some(score)
            }
        }
    }

    /// How many entries come before the first one `before` rejects; `before` must hold for a
    /// prefix of the order (score and lexicographic bounds).
    pub fn rank_by(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Small(v) => v.partition_point(|it| before(it.score, it.member.as_bytes())),
            Repr::Large { index, .. } => index.rank_by(|it| before(it.score, it.member.as_bytes())),
        }
    }

    /// The member's 0-based position in ascending order, with its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Small(v) => v
                .iter()
                .position(|it| it.member.as_bytes() == member)
                .map(|i| (i, v[i].score)),
            Repr::Large { map, index } => {
                let score = *map.get(member)?;
                let r = index.rank_by(|it| it.cmp_to(score, member) == Ordering::Less);
                Some((r, score))
            }
        }
    }

    /// The entry at a position of the sorted order.
    pub fn get(&self, i: usize) -> Option<(&Member, f64)> {
        if i >= self.len() {
            return None;
        }
        let it = match &self.repr {
            Repr::Small(v) => &v[i],
            Repr::Large { index, .. } => index.get(i),
        };
        Some((&it.member, it.score))
    }

    /// Entries in order from position `start` (ascending) or downward from it (`rev`).
    pub fn iter_from(
        &self,
        start: usize,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (&Member, f64)> + '_> {
        fn f(it: &Item) -> (&Member, f64) {
            (&it.member, it.score)
        }
        match (&self.repr, rev) {
            (Repr::Small(v), false) => Box::new(v.iter().skip(start).map(f)),
            (Repr::Small(v), true) => {
                let end = if start < v.len() { start + 1 } else { 0 };
                Box::new(v[..end].iter().rev().map(f))
            }
            (Repr::Large { index, .. }, false) => Box::new(index.iter_from(start).map(f)),
            (Repr::Large { index, .. }, true) => Box::new(index.iter_down_from(start).map(f)),
        }
    }

    /// Members with their scores, in order.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Small(v) => Iter::Small(v.iter()),
            Repr::Large { index, .. } => Iter::Large(index.iter()),
        }
    }

    /// Removes and returns the entry at a position of the sorted order (ZPOPMIN/ZPOPMAX).
    pub fn pop(&mut self, i: usize) -> Option<(Member, f64)> {
        if i >= self.len() {
            return None;
        }
        let it = match &mut self.repr {
            Repr::Small(v) => {
                let it = v.remove(i);
                self.member_heap -= it.member.heap_size();
                it
            }
            Repr::Large { map, index } => {
                let it = index.pop(i);
                let (m, _) = map
                    .swap_remove_entry(it.member.as_bytes())
                    .expect("map mirrors the index");
                self.member_heap -= m.heap_size() + it.member.heap_size();
                shrink_map(map);
                it
            }
        };
        Some((it.member, it.score))
    }

    /// Removes positions `start..end` of the sorted order; returns how many went.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Small(v) => {
                for it in v.drain(start..end) {
                    self.member_heap -= it.member.heap_size();
                }
            }
            Repr::Large { .. } => {
                for _ in start..end {
                    self.pop(start);
                }
            }
        }
        end - start
    }

    /// The entry at a position of the storage order (not the sorted order): O(1) in the large
    /// encoding, for random sampling and ZSCAN cursors.
    pub fn sample(&self, i: usize) -> Option<(&Member, f64)> {
        match &self.repr {
            Repr::Small(v) => v.get(i).map(|it| (&it.member, it.score)),
            Repr::Large { map, .. } => map.get_index(i).map(|(m, s)| (m, *s)),
        }
    }

    /// True for the listpack encoding, which ZSCAN returns whole in one call, as Redis does.
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Small(_))
    }
}

fn shrink_map(map: &mut Map) {
    let cap = map.capacity();
    if cap > 64 && map.len() < cap / 4 {
        map.shrink_to(cap / 2);
    }
}

/// In-order iteration over either encoding.
pub enum Iter<'a> {
    Small(std::slice::Iter<'a, Item>),
    Large(std::iter::Flatten<std::slice::Iter<'a, Vec<Item>>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Member, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let it = match self {
            Iter::Small(i) => i.next(),
            Iter::Large(i) => i.next(),
        }?;
        Some((&it.member, it.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries: usize, value: usize) -> EncodingLimits {
        EncodingLimits {
            zset_entries: entries,
            zset_value: value,
            ..EncodingLimits::default()
        }
    }

    /// Recomputes what `heap_size` must report from the structure itself.
    fn expected_heap(z: &ZSet) -> usize {
        let mut members = 0;
        let repr = match &z.repr {
            Repr::Small(v) => {
                members += v.iter().map(|it| it.member.heap_size()).sum::<usize>();
                vec_heap(v.capacity() * std::mem::size_of::<Item>())
            }
            Repr::Large { map, index } => {
                members += map.keys().map(Member::heap_size).sum::<usize>();
                members += index.iter().map(|it| it.member.heap_size()).sum::<usize>();
                for b in &index.blocks {
                    assert_eq!(b.capacity(), BLOCK, "blocks never reallocate");
                    assert!(!b.is_empty());
                }
                assert_eq!(index.blocks.iter().map(Vec::len).sum::<usize>(), index.len);
                assert_eq!(map.len(), index.len);
                index_map_size(map.capacity(), 32)
                    + index.blocks.len() * alloc_size(BLOCK * 24)
                    + vec_heap(index.blocks.capacity() * 24)
                    + vec_heap(index.fen.capacity() * 8)
            }
        };
        alloc_size(std::mem::size_of::<ZSet>()) + repr + members
    }

    #[test]
    fn item_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Item>(), 24);
    }

    #[test]
    fn accounting_stays_true_across_inserts_updates_removes() {
        let l = limits(16, 64);
        let mut z = ZSet::new();
        for i in 0..600 {
            let m = format!("member-{i}-{}", "x".repeat(i % 40));
            z.add(m.as_bytes(), (i % 17) as f64, &l);
            assert_eq!(z.heap_size(), expected_heap(&z));
        }
        assert_eq!(z.encoding(), "skiplist");
        for i in (0..600).step_by(3) {
            let m = format!("member-{i}-{}", "x".repeat(i % 40));
            z.add(m.as_bytes(), -(i as f64), &l);
            assert_eq!(z.heap_size(), expected_heap(&z));
        }
        for i in (0..600).step_by(2) {
            let m = format!("member-{i}-{}", "x".repeat(i % 40));
            assert!(z.remove(m.as_bytes()).is_some());
            assert_eq!(z.heap_size(), expected_heap(&z));
        }
        while z.len() > 3 {
            z.pop(z.len() / 2);
            assert_eq!(z.heap_size(), expected_heap(&z));
        }
        z.settle_all(&l);
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(z.heap_size(), expected_heap(&z));
        let mut small = ZSet::new();
        for i in 0..10 {
            small.add(format!("a-rather-long-member-{i}").as_bytes(), 1.0, &l);
            assert_eq!(small.heap_size(), expected_heap(&small));
        }
        small.remove_range(2, 5);
        assert_eq!(small.heap_size(), expected_heap(&small));
    }

    #[test]
    fn created_large_from_the_start() {
        let l = limits(0, 64);
        let mut z = ZSet::with_hint(1, 1, &l);
        assert_eq!(z.encoding(), "skiplist");
        z.add(b"a", 1.0, &l);
        z.add(b"b", 0.5, &l);
        assert_eq!(
            z.get(0).map(|(m, s)| (m.as_bytes(), s)),
            Some((&b"b"[..], 0.5))
        );
        assert_eq!(z.remove(b"a"), Some(1.0));
        assert_eq!(z.remove(b"b"), Some(0.5));
        z.add(b"c", 2.0, &l);
        assert_eq!(z.rank(b"c"), Some((0, 2.0)));
        assert_eq!(z.heap_size(), expected_heap(&z));
    }

    #[test]
    fn long_member_converts_and_stays_converted() {
        let l = limits(128, 4);
        let mut z = ZSet::new();
        z.add(b"abc", 1.0, &l);
        assert_eq!(z.encoding(), "listpack");
        z.add(b"abcde", 2.0, &l);
        assert_eq!(z.encoding(), "skiplist");
        z.remove(b"abcde");
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.score(b"abc"), Some(1.0));
    }

    /// Compares both encodings against a naive sorted model through random operations,
    /// crossing the conversion.
    #[test]
    fn randomized_against_model() {
        for seed in 0..6u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let l = limits(if seed % 2 == 0 { 40 } else { 1_000_000 }, 64);
            let mut z = ZSet::new();
            let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
            for step in 0..4000 {
                let m = format!("m{}", rng.u32(..300)).into_bytes();
                let score = (rng.i32(-20..20) as f64) / 2.0;
                match rng.u8(..10) {
                    0..=4 => {
                        let old = model.iter().position(|(_, x)| *x == m);
                        let want = old.map(|i| model.remove(i).0);
                        model.push((score, m.clone()));
                        assert_eq!(z.add(&m, score, &l), want);
                    }
                    5..=6 => {
                        let old = model.iter().position(|(_, x)| *x == m);
                        let want = old.map(|i| model.remove(i).0);
                        assert_eq!(z.remove(&m), want);
                    }
                    7 if !model.is_empty() => {
                        model.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
                        let i = rng.usize(..model.len());
                        let (s, mm) = model.remove(i);
                        let (gm, gs) = z.pop(i).expect("in range");
                        assert_eq!((gs, gm.as_bytes()), (s, &mm[..]));
                    }
                    _ => {}
                }
                model.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
                assert_eq!(z.len(), model.len());
                if step % 50 == 0 || step > 3900 {
                    let got: Vec<(f64, Vec<u8>)> =
                        z.iter().map(|(m, s)| (s, m.as_bytes().to_vec())).collect();
                    assert_eq!(got, model);
                    assert_eq!(z.heap_size(), expected_heap(&z));
                }
                // Ranks, positions, score bounds and ranges.
                if !model.is_empty() {
                    let i = rng.usize(..model.len());
                    let (s, mm) = &model[i];
                    assert_eq!(z.rank(mm), Some((i, *s)));
                    let (gm, gs) = z.get(i).expect("in range");
                    assert_eq!((gs, gm.as_bytes()), (*s, &mm[..]));
                    let bound = (rng.i32(-22..22) as f64) / 2.0;
                    let want = model.iter().filter(|(x, _)| *x < bound).count();
                    assert_eq!(z.rank_by(|x, _| x < bound), want);
                    let want: Vec<_> = model[i..].iter().take(7).collect();
                    let got: Vec<_> = z.iter_from(i, false).take(7).collect();
                    assert_eq!(got.len(), want.len());
                    for ((gm, gs), (s, m)) in got.iter().zip(want) {
                        assert_eq!((*gs, gm.as_bytes()), (*s, &m[..]));
                    }
                    let want: Vec<_> = model[..=i].iter().rev().take(7).collect();
                    let got: Vec<_> = z.iter_from(i, true).take(7).collect();
                    assert_eq!(got.len(), want.len());
                    for ((gm, gs), (s, m)) in got.iter().zip(want) {
                        assert_eq!((*gs, gm.as_bytes()), (*s, &m[..]));
                    }
                }
            }
            if seed % 2 == 0 {
                assert_eq!(z.encoding(), "skiplist");
            }
            let n = z.len();
            assert_eq!(z.remove_range(1, n.saturating_sub(1)), n.saturating_sub(2));
            assert_eq!(z.heap_size(), expected_heap(&z));
        }
    }

    #[test]
    fn negative_zero_equals_zero() {
        let l = EncodingLimits::default();
        let mut z = ZSet::new();
        z.add(b"a", -0.0, &l);
        z.add(b"b", 0.0, &l);
        assert_eq!(z.rank_by(|s, _| s < 0.0), 0);
        assert_eq!(z.rank_by(|s, _| s <= 0.0), 2);
    }
}
