//! Set values: an insertion-ordered hash set of members. Positional access gives SPOP and
//! SRANDMEMBER O(1) sampling and SSCAN a cursor that survives deletes (removal is
//! `swap_remove`, so cursors walk positions downward, as the keyspace's do).
//!
//! The encoding OBJECT ENCODING reports follows Redis 7.2's rules (`setTypeAddAux`): a set of
//! canonical integers is an `intset` up to `set-max-intset-entries`; a small set with short
//! members is a `listpack`; anything else is a `hashtable`. Writes only move down that list.
//! The representation is the same for all three; what the encoding changes is what clients
//! can observe: an intset lists its members in ascending numeric order, a listpack in
//! insertion order (removal shifts while small, so the order survives), and SSCAN answers
//! compact sets in one call.

use super::value::{alloc_size, index_map_size, EncodingLimits, IndexedMember};
use crate::protocol::request::parse_i64;

type Set = indexmap::IndexSet<IndexedMember, foldhash::fast::RandomState>;

/// The encodings Redis 7.2 reports, which only ever move down this list on writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SetEncoding {
    #[default]
    Intset,
    Listpack,
    Hashtable,
}

#[derive(Clone, Debug, Default)]
pub struct SetValue {
    set: Set,
    member_heap: usize,
    enc: SetEncoding,
}

impl PartialEq for SetValue {
    fn eq(&self, other: &Self) -> bool {
        self.set == other.set
    }
}

/// Members in the order Redis would list them: ascending for an intset, stored order
/// otherwise.
pub enum Ordered<'a> {
    Sorted(std::vec::IntoIter<&'a IndexedMember>),
    Stored(indexmap::set::Iter<'a, IndexedMember>),
}

impl<'a> Iterator for Ordered<'a> {
    type Item = &'a IndexedMember;

    fn next(&mut self) -> Option<&'a IndexedMember> {
        match self {
            Ordered::Sorted(i) => i.next(),
            Ordered::Stored(i) => i.next(),
        }
    }
}

fn int_of(m: &[u8]) -> Option<i64> {
    parse_i64(m)
}

impl SetValue {
    /// An empty intset, which is where Redis starts set-operation results.
    pub fn new() -> SetValue {
        SetValue::default()
    }

    /// An empty set with a chosen encoding.
    pub fn with_encoding(enc: SetEncoding) -> SetValue {
        SetValue {
            enc,
            ..SetValue::default()
        }
    }

    /// Redis's `setTypeCreate`: the encoding a new key starts with, given its first member
    /// and how many members the command is about to add.
    pub fn for_first(first: &[u8], size_hint: usize, l: &EncodingLimits) -> SetValue {
        let enc = if int_of(first).is_some() && size_hint <= l.set_intset_entries {
            SetEncoding::Intset
        } else if size_hint <= l.set_listpack_entries {
            SetEncoding::Listpack
        } else {
            SetEncoding::Hashtable
        };
        let mut s = SetValue::with_encoding(enc);
        if enc == SetEncoding::Hashtable {
            s.set.reserve(size_hint);
        }
        s
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    pub fn encoding(&self) -> &'static str {
        match self.enc {
            SetEncoding::Intset => "intset",
            SetEncoding::Listpack => "listpack",
            SetEncoding::Hashtable => "hashtable",
        }
    }

    pub fn current_encoding(&self) -> SetEncoding {
        self.enc
    }

    /// Redis's `setTypeMaybeConvert`: SADD of many members converts a compact set up front.
    pub fn maybe_convert(&mut self, size_hint: usize, l: &EncodingLimits) {
        let over = match self.enc {
            SetEncoding::Listpack => size_hint > l.set_listpack_entries,
            SetEncoding::Intset => size_hint > l.set_intset_entries,
            SetEncoding::Hashtable => false,
        };
        if over {
            self.enc = SetEncoding::Hashtable;
            self.set.reserve(size_hint.saturating_sub(self.set.len()));
        }
    }

    /// Re-derives the encoding from the whole set, as loading does (after RESTORE): intset
    /// when every member is an integer and they fit, else listpack when small, else hashtable.
    pub fn settle_all(&mut self, l: &EncodingLimits) {
        self.enc = if self.set.len() <= l.set_intset_entries.min(1 << 30)
            && self.set.iter().all(|m| int_of(m.as_bytes()).is_some())
        {
            SetEncoding::Intset
        } else {
            self.listpack_or_hashtable(l)
        };
    }

    /// What a set rebuilt member by member into a listpack ends as (SPOP's rebuild of a large
    /// hashtable set): listpack if it fits, hashtable otherwise.
    pub fn settle_listpack_or_hashtable(&mut self, l: &EncodingLimits) {
        self.enc = self.listpack_or_hashtable(l);
    }

    fn listpack_or_hashtable(&self, l: &EncodingLimits) -> SetEncoding {
        if self.set.len() <= l.set_listpack_entries
            && self.set.iter().all(|m| m.len() <= l.set_listpack_value)
        {
            SetEncoding::Listpack
        } else {
            SetEncoding::Hashtable
        }
    }

    /// Redis's `maybeConvertToIntset`, for a result known to hold only integers.
    pub fn maybe_to_intset(&mut self, l: &EncodingLimits) {
        if self.set.len() <= l.set_intset_entries.min(1 << 30) {
            self.enc = SetEncoding::Intset;
        }
    }

    pub fn heap_size(&self) -> usize {
        let bucket = 8 + std::mem::size_of::<IndexedMember>();
        alloc_size(std::mem::size_of::<SetValue>())
            + index_map_size(self.set.capacity(), bucket)
            + self.member_heap
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.set.contains(m)
    }

    /// Adds a member as a command does (`setTypeAddAux`), moving the encoding down when the
    /// member or the new size calls for it. True when it was not there.
    pub fn add(&mut self, m: &[u8], l: &EncodingLimits) -> bool {
        if self.set.contains(m) {
            return false;
        }
        match self.enc {
            SetEncoding::Hashtable => {}
            SetEncoding::Listpack => {
                if self.set.len() >= l.set_listpack_entries || m.len() > l.set_listpack_value {
                    self.enc = SetEncoding::Hashtable;
                }
            }
            SetEncoding::Intset => {
                if int_of(m).is_some() {
                    if self.set.len() + 1 > l.set_intset_entries.min(1 << 30) {
                        self.enc = SetEncoding::Hashtable;
                    }
                } else {
                    // Redis bounds the integers' printed length by the widest of min and max.
                    let widest = self.set.iter().map(IndexedMember::len).max().unwrap_or(0);
                    self.enc = if self.set.len() < l.set_listpack_entries
                        && m.len() <= l.set_listpack_value
                        && widest <= l.set_listpack_value
                    {
                        SetEncoding::Listpack
                    } else {
                        SetEncoding::Hashtable
                    };
                }
            }
        }
        self.insert_new(m);
        true
    }

    /// Adds a member without touching the encoding (loading; `settle_all` follows). True when
    /// it was not there.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        if self.set.contains(m) {
            return false;
        }
        self.insert_new(m);
        true
    }

    /// Stores a member known to be absent.
    fn insert_new(&mut self, m: &[u8]) {
        let m = IndexedMember::new(m);
        self.member_heap += m.heap_size();
        self.set.insert(m);
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        let taken = if self.enc == SetEncoding::Listpack {
            self.set.shift_take(m)
        } else {
            self.set.swap_take(m)
        };
        match taken {
            Some(m) => {
                self.member_heap -= m.heap_size();
                self.shrink();
                true
            }
            None => false,
        }
    }

    /// Removes and returns the member at a position (SPOP).
    pub fn remove_index(&mut self, i: usize) -> Option<IndexedMember> {
        let m = if self.enc == SetEncoding::Listpack {
            self.set.shift_remove_index(i)?
        } else {
            self.set.swap_remove_index(i)?
        };
        self.member_heap -= m.heap_size();
        self.shrink();
        Some(m)
    }

    pub fn get_index(&self, i: usize) -> Option<&IndexedMember> {
        self.set.get_index(i)
    }

    /// Stored order (positions), for sampling and cursors.
    pub fn iter(&self) -> indexmap::set::Iter<'_, IndexedMember> {
        self.set.iter()
    }

    /// Members in the order Redis lists them (see the module notes).
    pub fn ordered(&self) -> Ordered<'_> {
        if self.enc == SetEncoding::Intset {
            let mut v: Vec<&IndexedMember> = self.set.iter().collect();
            v.sort_unstable_by_key(|m| int_of(m.as_bytes()).unwrap_or(0));
            Ordered::Sorted(v.into_iter())
        } else {
            Ordered::Stored(self.set.iter())
        }
    }

    fn shrink(&mut self) {
        let cap = self.set.capacity();
        if cap > 64 && self.set.len() < cap / 4 {
            self.set.shrink_to(cap / 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recount(s: &SetValue) -> usize {
        let bucket = 8 + std::mem::size_of::<IndexedMember>();
        alloc_size(std::mem::size_of::<SetValue>())
            + index_map_size(s.set.capacity(), bucket)
            + s.iter().map(IndexedMember::heap_size).sum::<usize>()
    }

    #[test]
    fn size_stays_true_through_adds_readds_and_removals() {
        let l = EncodingLimits::default();
        let mut s = SetValue::new();
        for i in 0..2000 {
            let m = if i % 3 == 0 {
                format!("{i}")
            } else {
                format!("member-long-enough-{i}")
            };
            assert!(s.add(m.as_bytes(), &l));
            assert!(!s.add(m.as_bytes(), &l));
            assert_eq!(s.heap_size(), recount(&s));
        }
        for i in 0..1990 {
            let m = if i % 3 == 0 {
                format!("{i}")
            } else {
                format!("member-long-enough-{i}")
            };
            assert!(s.remove(m.as_bytes()));
            assert_eq!(s.heap_size(), recount(&s));
        }
        while s.remove_index(0).is_some() {
            assert_eq!(s.heap_size(), recount(&s));
        }
        assert!(s.is_empty());
    }

    #[test]
    fn encodings_follow_redis_7_2() {
        let l = EncodingLimits {
            set_intset_entries: 4,
            set_listpack_entries: 3,
            set_listpack_value: 5,
            ..EncodingLimits::default()
        };
        let mut s = SetValue::for_first(b"1", 1, &l);
        for m in ["1", "2", "3", "4"] {
            s.add(m.as_bytes(), &l);
        }
        assert_eq!(s.encoding(), "intset");
        s.add(b"5", &l);
        assert_eq!(s.encoding(), "hashtable");

        // Intset to listpack on a non-integer while small, then hashtable when full.
        let mut s = SetValue::for_first(b"1", 1, &l);
        s.add(b"1", &l);
        s.add(b"a", &l);
        assert_eq!(s.encoding(), "listpack");
        s.add(b"b", &l);
        assert_eq!(s.encoding(), "listpack");
        s.add(b"c", &l);
        assert_eq!(s.encoding(), "hashtable");

        // A long member goes straight to hashtable.
        let mut s = SetValue::for_first(b"abcdef", 1, &l);
        assert_eq!(s.encoding(), "listpack");
        s.add(b"abcdef", &l);
        assert_eq!(s.encoding(), "hashtable");

        // "-0" and "01" are not canonical integers.
        let mut s = SetValue::for_first(b"-0", 1, &l);
        assert_eq!(s.encoding(), "listpack");
        s.insert(b"07");
        s.settle_all(&l);
        assert_eq!(s.encoding(), "listpack");

        let mut s = SetValue::new();
        for m in ["10", "-3", "2"] {
            s.insert(m.as_bytes());
        }
        s.settle_all(&l);
        assert_eq!(s.encoding(), "intset");
        let order: Vec<&[u8]> = s.ordered().map(IndexedMember::as_bytes).collect();
        assert_eq!(order, vec![&b"-3"[..], b"2", b"10"]);

        let mut s = SetValue::for_first(b"x", 1, &l);
        s.maybe_convert(4, &l);
        assert_eq!(s.encoding(), "hashtable");
    }

    #[test]
    fn listpack_removal_keeps_insertion_order() {
        let l = EncodingLimits::default();
        let mut s = SetValue::for_first(b"a", 4, &l);
        for m in ["a", "b", "c", "d"] {
            s.add(m.as_bytes(), &l);
        }
        s.remove(b"b");
        s.remove_index(0);
        let order: Vec<&[u8]> = s.ordered().map(IndexedMember::as_bytes).collect();
        assert_eq!(order, vec![&b"c"[..], b"d"]);
    }
}
