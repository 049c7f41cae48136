//! Hash values: an insertion-ordered hash map of fields to values. Positional access gives
//! HRANDFIELD its O(1) sampling and HSCAN a cursor that survives deletes (see the keyspace's
//! cursor notes: removal is `swap_remove`, so cursors walk positions downward).

use super::value::{alloc_size, index_map_size, EncodingLimits, Member};

type Map = indexmap::IndexMap<Member, Member, foldhash::fast::RandomState>;

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

    /// Applies Redis's conversion rule after a write: more than `max_entries` fields, or a
    /// field or value longer than `max_value` (`hash-max-listpack-*`), makes it a hashtable.
    pub fn settle_encoding(&mut self, max_entries: usize, max_value: usize, written: &[&[u8]]) {
        if self.compact
            && (self.map.len() > max_entries || written.iter().any(|w| w.len() > max_value))
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
        let bucket = 8 + 2 * std::mem::size_of::<Member>();
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

    /// Sets a field; true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        let v = Member::new(value);
        self.member_heap += v.heap_size();
        if let Some(slot) = self.map.get_mut(field) {
            self.member_heap -= slot.heap_size();
            *slot = v;
            false
        } else {
            let f = Member::new(field);
            self.member_heap += f.heap_size();
            self.map.insert(f, v);
            true
        }
    }

    /// Removes a field; returns its value.
    pub fn remove(&mut self, field: &[u8]) -> Option<Member> {
        let (f, v) = self.map.swap_remove_entry(field)?;
        self.member_heap -= f.heap_size() + v.heap_size();
        self.shrink();
        Some(v)
    }

    pub fn iter(&self) -> indexmap::map::Iter<'_, Member, Member> {
        self.map.iter()
    }

    /// The field and value at a position (0..len), for sampling and cursors.
    pub fn get_index(&self, i: usize) -> Option<(&Member, &Member)> {
        self.map.get_index(i)
    }

    fn shrink(&mut self) {
        let cap = self.map.capacity();
        if cap > 64 && self.map.len() < cap / 4 {
            self.map.shrink_to(cap / 2);
        }
    }
}
