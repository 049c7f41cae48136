//! List values: a ring buffer of members, O(1) at both ends and by index (Redis's quicklist
//! gives O(1) ends and O(n) index; LINDEX/LSET are cheaper here).
//!
//! The storage is the same whatever OBJECT ENCODING says. The reported encoding follows Redis
//! 7.2's rules (`t_list.c` `listTypeTryConversion*`): a list is a `listpack` until a write would
//! take it past `list-max-listpack-size` (a positive value caps entries, a negative one picks a
//! 4/8/16/32/64 KB size class), then a `quicklist` until it shrinks to half the limit. Sizes are
//! measured as Redis's `lpBytes` would be: we keep a running estimate of the listpack encoding
//! of every element (`lp_entry_size`), updated in O(1) as elements come and go.

use super::value::{alloc_size, EncodingLimits, Member};
use std::collections::VecDeque;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    items: VecDeque<Member>,
    /// Heap bytes of spilled members, kept as they come and go so sizing is O(1).
    member_heap: usize,
    /// Sum of `lp_entry_size` over the elements: the list's `lpBytes` minus the header.
    packed: usize,
    /// True once the list outgrew the listpack limits (reported as `quicklist`).
    quick: bool,
}

/// A listpack's fixed bytes: 4 (total bytes) + 2 (count) header and the end marker.
const LP_OVERHEAD: usize = 7;

/// Redis's `optimization_level`: node sizes for `list-max-listpack-size` -1 ..= -5.
const SIZE_CLASSES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// Redis's `SIZE_SAFETY_LIMIT`: with an entry-count limit, a node still never outgrows this.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// Redis's `quicklistNodeLimit`: (max bytes, max entries) of one node for a fill value.
fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, fill.max(1) as usize)
    } else {
        let class = (fill.unsigned_abs() - 1).min(SIZE_CLASSES.len() as u64 - 1) as usize;
        (SIZE_CLASSES[class], usize::MAX)
    }
}

/// Redis's `quicklistNodeExceedsLimit`.
fn exceeds(fill: i64, bytes: usize, count: usize) -> bool {
    match node_limit(fill) {
        (usize::MAX, max_count) => bytes > SIZE_SAFETY_LIMIT || count > max_count,
        (max_bytes, _) => bytes > max_bytes,
    }
}

/// Bytes one element takes in a listpack: its encoding (integers as 1 to 9 bytes, strings as a
/// 1, 2 or 5 byte length header plus the bytes) and the back-length that follows it.
pub fn lp_entry_size(m: &[u8]) -> usize {
    let enc = match int_value(m) {
        Some(v) => match v {
            0..=127 => 1,
            -4096..=4095 => 2,
            -32768..=32767 => 3,
            -8_388_608..=8_388_607 => 4,
            -2_147_483_648..=2_147_483_647 => 5,
            _ => 9,
        },
        None => {
            let n = m.len();
            n + if n < 64 {
                1
            } else if n < 4096 {
                2
            } else {
                5
            }
        }
    };
    enc + match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// The integer a listpack would store `m` as (canonical decimal, as `lpStringToInt64`).
fn int_value(m: &[u8]) -> Option<i64> {
    if m.is_empty() || m.len() > 20 || !(m[0].is_ascii_digit() || m[0] == b'-') {
        return None;
    }
    crate::protocol::request::parse_i64(m)
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

    pub fn encoding(&self) -> &'static str {
        if self.quick {
            "quicklist"
        } else {
            "listpack"
        }
    }

    /// Redis's `listTypeTryConversionAppend`: before adding `add_len` elements of `add_bytes`
    /// raw bytes, a listpack that would outgrow its limit becomes a quicklist.
    pub fn grow(&mut self, l: &EncodingLimits, add_bytes: usize, add_len: usize) {
        if !self.quick {
            let bytes = LP_OVERHEAD + self.packed + add_bytes;
            self.quick = exceeds(l.list_size, bytes, self.items.len() + add_len);
        }
    }

    /// Redis's shrinking conversion, after elements were removed: a quicklist goes back to a
    /// listpack once it fits in half the limit (the hysteresis stops a list at the threshold
    /// from converting on every push and pop).
    pub fn shrunk(&mut self, l: &EncodingLimits) {
        if !self.quick {
            return;
        }
        let bytes = LP_OVERHEAD + self.packed;
        let (max_bytes, max_count) = node_limit(l.list_size);
        // A quicklist converts only when it is down to one node, which with an entry limit
        // also means within the node size safety limit.
        let one_node = max_bytes != usize::MAX || bytes <= SIZE_SAFETY_LIMIT;
        if one_node && bytes <= max_bytes / 2 && self.items.len() <= max_count / 2 {
            self.quick = false;
        }
    }

    /// Re-derives the encoding from the whole list (after RESTORE): a listpack if it fits the
    /// full limit, as Redis decides when loading.
    pub fn settle_all(&mut self, l: &EncodingLimits) {
        self.quick = exceeds(l.list_size, LP_OVERHEAD + self.packed, self.items.len());
    }

    pub fn heap_size(&self) -> usize {
        let buf = if self.items.capacity() == 0 {
            0
        } else {
            alloc_size(self.items.capacity() * std::mem::size_of::<Member>())
        };
        alloc_size(std::mem::size_of::<List>()) + buf + self.member_heap
    }

    fn admit(&mut self, m: &[u8]) -> Member {
        let m = Member::new(m);
        self.member_heap += m.heap_size();
        self.packed += lp_entry_size(m.as_bytes());
        m
    }

    fn release(&mut self, m: &Member) {
        self.member_heap -= m.heap_size();
        self.packed -= lp_entry_size(m.as_bytes());
    }

    pub fn push_back(&mut self, m: &[u8]) {
        let m = self.admit(m);
        self.items.push_back(m);
    }

    pub fn push_front(&mut self, m: &[u8]) {
        let m = self.admit(m);
        self.items.push_front(m);
    }

    /// Pushes at the front (LPUSH) or the back (RPUSH).
    pub fn push(&mut self, front: bool, m: &[u8]) {
        if front {
            self.push_front(m)
        } else {
            self.push_back(m)
        }
    }

    /// Pushes a member taken from another list (LMOVE) without copying it again.
    pub fn push_member(&mut self, front: bool, m: Member) {
        self.member_heap += m.heap_size();
        self.packed += lp_entry_size(m.as_bytes());
        if front {
            self.items.push_front(m)
        } else {
            self.items.push_back(m)
        }
    }

    pub fn pop_front(&mut self) -> Option<Member> {
        let m = self.items.pop_front()?;
        self.release(&m);
        self.shrink();
        Some(m)
    }

    pub fn pop_back(&mut self) -> Option<Member> {
        let m = self.items.pop_back()?;
        self.release(&m);
        self.shrink();
        Some(m)
    }

    /// Pops from the front (LPOP) or the back (RPOP).
    pub fn pop(&mut self, front: bool) -> Option<Member> {
        if front {
            self.pop_front()
        } else {
            self.pop_back()
        }
    }

    /// Pops up to `n` members from one end, in the order they were popped.
    pub fn pop_many(&mut self, front: bool, n: usize) -> Vec<Member> {
        let n = n.min(self.items.len());
        let out: Vec<Member> = if front {
            self.items.drain(..n).collect()
        } else {
            let at = self.items.len() - n;
            self.items.drain(at..).rev().collect()
        };
        for m in &out {
            self.release(m);
        }
        self.shrink();
        out
    }

    pub fn get(&self, i: usize) -> Option<&Member> {
        self.items.get(i)
    }

    /// Replaces the member at `i`; false when out of range.
    pub fn set(&mut self, i: usize, m: &[u8]) -> bool {
        if i >= self.items.len() {
            return false;
        }
        let m = self.admit(m);
        let old = std::mem::replace(&mut self.items[i], m);
        self.release(&old);
        true
    }

    pub fn insert(&mut self, i: usize, m: &[u8]) {
        let m = self.admit(m);
        self.items.insert(i, m);
    }

    pub fn remove(&mut self, i: usize) -> Option<Member> {
        let m = self.items.remove(i)?;
        self.release(&m);
        self.shrink();
        Some(m)
    }

    /// The position of the first member equal to `m`, from the front.
    pub fn position(&self, m: &[u8]) -> Option<usize> {
        self.items.iter().position(|x| x.as_bytes() == m)
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
            self.packed = 0;
        } else {
            let end = end.min(self.items.len() - 1);
            let tail: Vec<Member> = self.items.drain(end + 1..).collect();
            let head: Vec<Member> = self.items.drain(..start).collect();
            for m in tail.iter().chain(&head) {
                self.release(m);
            }
        }
        self.shrink();
    }

    /// Removes members equal to `m` (LREM): up to `count` from the front when positive, from
    /// the back when negative, all of them when 0. Returns how many went.
    pub fn remove_matching(&mut self, m: &[u8], count: i64) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs().min(usize::MAX as u64) as usize
        };
        // Decide which positions go first, so the removal is one pass whatever the direction.
        let n = self.items.len();
        let matches = |(_, x): &(usize, &Member)| x.as_bytes() == m;
        let doomed: Vec<usize> = if count < 0 {
            let mut v: Vec<usize> = self
                .items
                .iter()
                .enumerate()
                .rev()
                .filter(matches)
                .take(limit)
                .map(|(i, _)| i)
                .collect();
            v.reverse();
            v
        } else {
            self.items
                .iter()
                .enumerate()
                .filter(matches)
                .take(limit)
                .map(|(i, _)| i)
                .collect()
        };
        if doomed.is_empty() {
            return 0;
        }
        let freed_heap: usize = doomed.iter().map(|&i| self.items[i].heap_size()).sum();
        let freed_packed = doomed.len() * lp_entry_size(m);
        let (mut pos, mut next) = (0usize, 0usize);
        self.items.retain(|_| {
            let keep = doomed.get(next) != Some(&pos);
            if !keep {
                next += 1;
            }
            pos += 1;
            keep
        });
        debug_assert_eq!(self.items.len(), n - doomed.len());
        self.member_heap -= freed_heap;
        self.packed -= freed_packed;
        self.shrink();
        doomed.len()
    }

    /// Removes members for which `keep` is false, in order; returns how many went.
    pub fn retain(&mut self, mut keep: impl FnMut(&Member) -> bool) -> usize {
        let before = self.items.len();
        let (mut heap, mut packed) = (0, 0);
        self.items.retain(|m| {
            let k = keep(m);
            if !k {
                heap += m.heap_size();
                packed += lp_entry_size(m.as_bytes());
            }
            k
        });
        self.member_heap -= heap;
        self.packed -= packed;
        self.shrink();
        before - self.items.len()
    }

    /// Gives memory back once a list has shrunk to a quarter of its buffer, so a drained queue
    /// does not keep (and keep being charged for) its peak size.
    fn shrink(&mut self) {
        let cap = self.items.capacity();
        if cap > 64 && self.items.len() < cap / 4 {
            // Twice the length leaves room to grow again without reallocating at once.
            self.items.shrink_to((self.items.len() * 2).max(64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the tracked figures should be, recomputed from scratch.
    fn check(l: &List) {
        let heap: usize = l.iter().map(Member::heap_size).sum();
        let packed: usize = l.iter().map(|m| lp_entry_size(m.as_bytes())).sum();
        assert_eq!(l.member_heap, heap, "member heap drifted");
        assert_eq!(l.packed, packed, "packed size drifted");
        let buf = match l.items.capacity() {
            0 => 0,
            c => alloc_size(c * std::mem::size_of::<Member>()),
        };
        assert_eq!(
            l.heap_size(),
            alloc_size(std::mem::size_of::<List>()) + buf + heap
        );
    }

    fn big(i: usize) -> Vec<u8> {
        format!("element-{i}-{}", "x".repeat(i % 40)).into_bytes()
    }

    #[test]
    fn accounting_follows_every_mutation() {
        let mut l = List::new();
        for i in 0..300 {
            l.push(i % 2 == 0, &big(i));
            check(&l);
        }
        l.push_back(b"7");
        l.push_back(b"-100000");
        check(&l);
        // Overwrites, both growing and shrinking an element.
        assert!(l.set(3, &[b'y'; 200]));
        assert!(l.set(4, b"s"));
        assert!(!l.set(10_000, b"s"));
        check(&l);
        l.insert(5, b"inserted-long-element-xxxxxxxxxxxxxxxx");
        check(&l);
        assert!(l.remove(6).is_some());
        check(&l);
        assert!(l.pop_front().is_some());
        assert!(l.pop_back().is_some());
        check(&l);
        assert_eq!(l.pop_many(true, 10).len(), 10);
        assert_eq!(l.pop_many(false, 10).len(), 10);
        check(&l);
        l.push_back(b"dup");
        l.push_front(b"dup");
        l.push_back(b"dup");
        assert_eq!(l.remove_matching(b"dup", -2), 2);
        assert_eq!(l.iter().filter(|m| m.as_bytes() == b"dup").count(), 1);
        check(&l);
        assert_eq!(l.remove_matching(b"dup", 0), 1);
        check(&l);
        l.retain_range(10, 100);
        assert_eq!(l.len(), 91);
        check(&l);
        // Draining gives the buffer back, and an empty list costs only its header.
        let n = l.len();
        assert_eq!(l.pop_many(true, n + 5).len(), n);
        check(&l);
        assert!(l.items.capacity() <= 64);
        l.push_back(b"a");
        l.retain_range(5, 1);
        assert!(l.is_empty());
        check(&l);
    }

    #[test]
    fn remove_matching_respects_direction_and_count() {
        let mut l = List::new();
        for m in ["a", "b", "a", "c", "a"] {
            l.push_back(m.as_bytes());
        }
        assert_eq!(l.remove_matching(b"a", 1), 1);
        let v: Vec<&[u8]> = l.iter().map(Member::as_bytes).collect();
        assert_eq!(v, [&b"b"[..], b"a", b"c", b"a"]);
        assert_eq!(l.remove_matching(b"a", -1), 1);
        let v: Vec<&[u8]> = l.iter().map(Member::as_bytes).collect();
        assert_eq!(v, [&b"b"[..], b"a", b"c"]);
        assert_eq!(l.remove_matching(b"zz", 0), 0);
        check(&l);
    }

    #[test]
    fn listpack_entry_sizes_match_redis_encoding() {
        assert_eq!(lp_entry_size(b"5"), 2);
        assert_eq!(lp_entry_size(b"1000"), 3);
        assert_eq!(lp_entry_size(b"-70000"), 5);
        assert_eq!(lp_entry_size(b"9223372036854775807"), 10);
        // Not canonical integers: strings.
        assert_eq!(lp_entry_size(b"007"), 5);
        assert_eq!(lp_entry_size(b"abc"), 5);
        assert_eq!(lp_entry_size(&[b'x'; 100]), 103);
        assert_eq!(lp_entry_size(&[b'x'; 5000]), 5007);
    }

    #[test]
    fn encoding_follows_limits_with_hysteresis() {
        let count128 = EncodingLimits {
            list_size: 128,
            ..EncodingLimits::default()
        };
        let mut l = List::new();
        for _ in 0..128 {
            l.grow(&count128, 1, 1);
            l.push_back(b"a");
        }
        assert_eq!(l.encoding(), "listpack");
        l.grow(&count128, 1, 1);
        l.push_back(b"a");
        assert_eq!(l.encoding(), "quicklist");
        // Back to a listpack only at half the limit.
        while l.len() > 65 {
            l.pop_back();
            l.shrunk(&count128);
            assert_eq!(l.encoding(), "quicklist");
        }
        l.pop_back();
        l.shrunk(&count128);
        assert_eq!(l.encoding(), "listpack");

        // The default size class (-2: 8 KB).
        let default = EncodingLimits::default();
        let mut l = List::new();
        let elem = [b'x'; 100];
        while l.encoding() == "listpack" {
            l.grow(&default, elem.len(), 1);
            l.push_back(&elem);
        }
        assert!(l.packed + LP_OVERHEAD > 8192 - 110);
        loop {
            l.pop_front();
            l.shrunk(&default);
            if l.packed + LP_OVERHEAD > 4096 {
                assert_eq!(l.encoding(), "quicklist");
            } else {
                assert_eq!(l.encoding(), "listpack");
                break;
            }
        }

        // A single element past the size class converts at once; RESTORE re-derives.
        let mut l = List::new();
        l.grow(&default, 9000, 1);
        l.push_back(&[b'y'; 9000]);
        assert_eq!(l.encoding(), "quicklist");
        l.quick = false;
        l.settle_all(&default);
        assert_eq!(l.encoding(), "quicklist");
        let mut l = List::new();
        l.push_back(b"small");
        l.quick = true;
        l.settle_all(&default);
        assert_eq!(l.encoding(), "listpack");
    }
}
