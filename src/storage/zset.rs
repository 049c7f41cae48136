//! Sorted-set values.
//!
//! SKELETON (to be completed by the sorted-set work): small sets are kept as Redis keeps them
//! in a listpack, a sorted vector of (score, member), converted to the large representation
//! past `zset-max-listpack-entries` / `-value`: a member → score map plus an order-statistic
//! B-tree (`indexset`) of (score, member) for O(log n) rank and range queries.

use super::value::{alloc_size, EncodingLimits, Member};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {
    /// Sorted by (score, member).
    small: Vec<(f64, Member)>,
    member_heap: usize,
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    pub fn len(&self) -> usize {
        self.small.len()
    }

    pub fn is_empty(&self) -> bool {
        self.small.is_empty()
    }

    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Re-derives the encoding from the whole sorted set (after RESTORE).
    pub fn settle_all(&mut self, _l: &EncodingLimits) {}

    pub fn heap_size(&self) -> usize {
        alloc_size(std::mem::size_of::<ZSet>())
            + alloc_size(self.small.capacity() * std::mem::size_of::<(f64, Member)>())
            + self.member_heap
    }

    /// Members with their scores, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Member, f64)> {
        self.small.iter().map(|(s, m)| (m, *s))
    }

    /// Adds or updates a member; returns its previous score.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let old = self.remove(member);
        let m = Member::new(member);
        self.member_heap += m.heap_size();
        let at = self
            .small
            .partition_point(|(s, x)| (*s, x.as_bytes()) < (score, member));
        self.small.insert(at, (score, m));
        old
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let i = self
            .small
            .iter()
            .position(|(_, m)| m.as_bytes() == member)?;
        let (s, m) = self.small.remove(i);
        self.member_heap -= m.heap_size();
        Some(s)
    }
}
