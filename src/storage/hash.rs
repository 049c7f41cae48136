//! Hash values: an insertion-ordered hash map of fields to values. Positional access gives
//! HRANDFIELD its O(1) sampling and HSCAN a cursor that survives deletes (see the keyspace's
//! cursor notes: removal is `swap_remove`, so cursors walk positions downward).
//!
//! While a hash is small enough for Redis to keep it as a listpack, removal shifts instead of
//! swapping, so HGETALL and friends list fields in insertion order, as a listpack does. The
//! shift is O(n) with n bounded by `hash-max-listpack-entries`.

use super::value::{alloc_size, index_map_size, EncodingLimits, IndexedMember, Member};

type Map = indexmap::IndexMap<IndexedMember, Member, foldhash::fast::RandomState>;

#[derive(Clone, Debug, Default)]
pub struct HashValue {
    map: Map,
    /// Heap bytes of spilled fields and values, kept as they change so sizing is O(1).
    member_heap: usize,
    /// Still what Redis would encode as a listpack (small); once converted to `hashtable`,
    /// Redis never converts back, and neither does OBJECT ENCODING here.
    compact: bool,
}

impl PartialEq for HashValue {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl HashValue {
    pub fn new() -> HashValue {
        HashValue {
            compact: true,
            ..HashValue::default()
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn encoding(&self) -> &'static str {
        if self.compact {
            "listpack"
        } else {
            "hashtable"
        }
    }

    /// Still listpack-encoded (HSCAN then answers in one call, as Redis does).
    pub fn is_compact(&self) -> bool {
        self.compact
    }

    /// Redis's `hashTypeTryConversion`, run before a multi-field write: more new pairs than
    /// `hash-max-listpack-entries`, or any argument longer than `hash-max-listpack-value`,
    /// converts up front (even if the pairs turn out to overwrite existing fields).
    pub fn prepare<A: AsRef<[u8]>>(&mut self, pairs: &[A], l: &EncodingLimits) {
        if self.compact
            && (pairs.len() / 2 > l.hash_entries
                || pairs.iter().any(|a| a.as_ref().len() > l.hash_value))
        {
            self.compact = false;
        }
    }

    /// Re-derives the encoding from the whole hash (after RESTORE).
    pub fn settle_all(&mut self, l: &EncodingLimits) {
        self.compact = self.map.len() <= l.hash_entries
            && self
                .map
                .iter()
                .all(|(f, v)| f.len() <= l.hash_value && v.len() <= l.hash_value);
    }

    pub fn heap_size(&self) -> usize {
        let bucket = 8 + std::mem::size_of::<IndexedMember>() + std::mem::size_of::<Member>();
        alloc_size(std::mem::size_of::<HashValue>())
            + index_map_size(self.map.capacity(), bucket)
            + self.member_heap
    }

    pub fn get(&self, field: &[u8]) -> Option<&Member> {
        self.map.get(field)
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.map.contains_key(field)
    }

    /// Sets a field as a command does (`hashTypeSet`), converting to `hashtable` when the
    /// field or value is too long or the hash outgrows the listpack limit. True when new.
    pub fn set(&mut self, field: &[u8], value: &[u8], l: &EncodingLimits) -> bool {
        if field.len() > l.hash_value || value.len() > l.hash_value {
            self.compact = false;
        }
        let new = self.insert(field, value);
        if self.map.len() > l.hash_entries {
            self.compact = false;
        }
        new
    }

    /// Sets a field without touching the encoding (loading; `settle_all` follows). True when
    /// the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let Some(slot) = self.map.get_mut(field) {
            // Overwriting with a value of the same length in the same representation reuses
            // nothing either way: members are immutable, so the old one is dropped.
            let v = Member::new(value);
            self.member_heap = self.member_heap + v.heap_size() - slot.heap_size();
            *slot = v;
            false
        } else {
            let (f, v) = (IndexedMember::new(field), Member::new(value));
            self.member_heap += f.heap_size() + v.heap_size();
            self.map.insert(f, v);
            true
        }
    }

    /// Removes a field; returns its value.
    pub fn remove(&mut self, field: &[u8]) -> Option<Member> {
        let (f, v) = if self.compact {
            self.map.shift_remove_entry(field)?
        } else {
            self.map.swap_remove_entry(field)?
        };
        self.member_heap -= f.heap_size() + v.heap_size();
        self.shrink();
        Some(v)
    }

    pub fn iter(&self) -> indexmap::map::Iter<'_, IndexedMember, Member> {
        self.map.iter()
    }

    /// The field and value at a position (0..len), for sampling and cursors.
    pub fn get_index(&self, i: usize) -> Option<(&IndexedMember, &Member)> {
        self.map.get_index(i)
    }

    fn shrink(&mut self) {
        let cap = self.map.capacity();
        if cap > 64 && self.map.len() < cap / 4 {
            self.map.shrink_to(cap / 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tracked size recomputed from scratch, to compare with the O(1) running total.
    fn recount(h: &HashValue) -> usize {
        let bucket = 8 + std::mem::size_of::<IndexedMember>() + std::mem::size_of::<Member>();
        let members: usize = h.iter().map(|(f, v)| f.heap_size() + v.heap_size()).sum();
        alloc_size(std::mem::size_of::<HashValue>())
            + index_map_size(h.map.capacity(), bucket)
            + members
    }

    #[test]
    fn size_stays_true_through_inserts_overwrites_and_removals() {
        let l = EncodingLimits::default();
        let mut h = HashValue::new();
        for i in 0..1000 {
            let long = format!("value-that-spills-to-the-heap-{i}");
            h.set(format!("f{i}").as_bytes(), long.as_bytes(), &l);
            assert_eq!(h.heap_size(), recount(&h));
        }
        // Overwrites: heap to inline, inline to heap, same to same.
        for i in 0..1000 {
            let v = if i % 2 == 0 {
                "s".to_string()
            } else {
                "x".repeat(40 + i % 7)
            };
            assert!(!h.set(format!("f{i}").as_bytes(), v.as_bytes(), &l));
            assert_eq!(h.heap_size(), recount(&h));
        }
        for i in 0..990 {
            assert!(h.remove(format!("f{i}").as_bytes()).is_some());
            assert_eq!(h.heap_size(), recount(&h));
        }
        assert!(h.remove(b"f0").is_none());
        assert_eq!(h.len(), 10);
    }

    #[test]
    fn listpack_until_a_limit_is_crossed_then_hashtable_for_good() {
        let l = EncodingLimits {
            hash_entries: 4,
            hash_value: 8,
            ..EncodingLimits::default()
        };
        let mut h = HashValue::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", &l);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", &l);
        assert_eq!(h.encoding(), "hashtable");
        h.remove(b"f4");
        assert_eq!(h.encoding(), "hashtable");

        let mut h = HashValue::new();
        h.set(b"f", b"123456789", &l);
        assert_eq!(h.encoding(), "hashtable");
        h.settle_all(&l);
        assert_eq!(h.encoding(), "hashtable");
        h.set(b"f", b"short", &l);
        h.settle_all(&l);
        assert_eq!(h.encoding(), "listpack");

        let mut h = HashValue::new();
        let pairs: Vec<&[u8]> = vec![b"a", b"1", b"a", b"2", b"a", b"3", b"a", b"4", b"a", b"5"];
        h.prepare(&pairs, &l);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn listpack_removal_keeps_insertion_order() {
        let l = EncodingLimits::default();
        let mut h = HashValue::new();
        for f in ["a", "b", "c", "d"] {
            h.set(f.as_bytes(), b"v", &l);
        }
        h.remove(b"b");
        let order: Vec<&[u8]> = h.iter().map(|(f, _)| f.as_bytes()).collect();
        assert_eq!(order, vec![&b"a"[..], b"c", b"d"]);
    }
}
