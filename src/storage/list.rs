//! List values: a ring buffer of members, O(1) at both ends and by index (Redis's quicklist
//! gives O(1) ends and O(n) index; LINDEX/LSET are cheaper here).

use super::value::{alloc_size, EncodingLimits, Member};
use std::collections::VecDeque;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    items: VecDeque<Member>,
    /// Heap bytes of spilled members, kept as they come and go so sizing is O(1).
    member_heap: usize,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Redis 7.0 reports every list as `quicklist`.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Re-derives the encoding from the whole list (after RESTORE).
    pub fn settle_all(&mut self, _l: &EncodingLimits) {}

    pub fn heap_size(&self) -> usize {
        let buf = if self.items.capacity() == 0 {
            0
        } else {
            alloc_size(self.items.capacity() * std::mem::size_of::<Member>())
        };
        alloc_size(std::mem::size_of::<List>()) + buf + self.member_heap
    }

    pub fn push_back(&mut self, m: &[u8]) {
        let m = Member::new(m);
        self.member_heap += m.heap_size();
        self.items.push_back(m);
    }

    pub fn push_front(&mut self, m: &[u8]) {
        let m = Member::new(m);
        self.member_heap += m.heap_size();
        self.items.push_front(m);
    }

    pub fn pop_front(&mut self) -> Option<Member> {
        let m = self.items.pop_front()?;
        self.member_heap -= m.heap_size();
        self.shrink();
        Some(m)
    }

    pub fn pop_back(&mut self) -> Option<Member> {
        let m = self.items.pop_back()?;
        self.member_heap -= m.heap_size();
        self.shrink();
        Some(m)
    }

    pub fn get(&self, i: usize) -> Option<&Member> {
        self.items.get(i)
    }

    /// Replaces the member at `i`; false when out of range.
    pub fn set(&mut self, i: usize, m: &[u8]) -> bool {
        let Some(slot) = self.items.get_mut(i) else {
            return false;
        };
        let m = Member::new(m);
        self.member_heap = self.member_heap - slot.heap_size() + m.heap_size();
        *slot = m;
        true
    }

    pub fn insert(&mut self, i: usize, m: &[u8]) {
        let m = Member::new(m);
        self.member_heap += m.heap_size();
        self.items.insert(i, m);
    }

    pub fn remove(&mut self, i: usize) -> Option<Member> {
        let m = self.items.remove(i)?;
        self.member_heap -= m.heap_size();
        self.shrink();
        Some(m)
    }

    pub fn iter(&self) -> std::collections::vec_deque::Iter<'_, Member> {
        self.items.iter()
    }

    /// Members in positions `start..=end` (already clamped by the caller).
    pub fn range(&self, start: usize, end: usize) -> std::collections::vec_deque::Iter<'_, Member> {
        self.items.range(start..=end)
    }

    /// Keeps only positions `start..=end`; with `start > end` empties the list (LTRIM).
    pub fn retain_range(&mut self, start: usize, end: usize) {
        if start > end || start >= self.items.len() {
            self.items.clear();
            self.member_heap = 0;
        } else {
            let end = end.min(self.items.len() - 1);
            let tail: usize = self.items.drain(end + 1..).map(|m| m.heap_size()).sum();
            let head: usize = self.items.drain(..start).map(|m| m.heap_size()).sum();
            self.member_heap -= tail + head;
        }
        self.shrink();
    }

    /// Removes members for which `keep` is false, in order; returns how many went.
    pub fn retain(&mut self, mut keep: impl FnMut(&Member) -> bool) -> usize {
        let before = self.items.len();
        let mut freed = 0;
        self.items.retain(|m| {
            let k = keep(m);
            if !k {
                freed += m.heap_size();
            }
            k
        });
        self.member_heap -= freed;
        self.shrink();
        before - self.items.len()
    }

    /// Gives memory back once a list has shrunk to a quarter of its buffer, so a drained queue
    /// does not keep (and keep being charged for) its peak size.
    fn shrink(&mut self) {
        let cap = self.items.capacity();
        if cap > 64 && self.items.len() < cap / 4 {
            self.items.shrink_to(cap / 2);
        }
    }
}
