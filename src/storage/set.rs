//! Set values: an insertion-ordered hash set of members. Positional access gives SPOP and
//! SRANDMEMBER O(1) sampling and SSCAN a cursor that survives deletes (removal is
//! `swap_remove`, so cursors walk positions downward, as the keyspace's do).

use super::value::{alloc_size, index_map_size, EncodingLimits, Member};

type Set = indexmap::IndexSet<Member, foldhash::fast::RandomState>;

/// The encodings Redis 7.2 reports, which only ever move down this list.
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

impl SetValue {
    pub fn new() -> SetValue {
        SetValue::default()
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

    pub fn set_encoding(&mut self, enc: SetEncoding) {
        self.enc = enc;
    }

    pub fn current_encoding(&self) -> SetEncoding {
        self.enc
    }

    /// Re-derives the encoding from the whole set (after RESTORE).
    pub fn settle_all(&mut self, _l: &EncodingLimits) {}

    pub fn heap_size(&self) -> usize {
        let bucket = 8 + std::mem::size_of::<Member>();
        alloc_size(std::mem::size_of::<SetValue>())
            + index_map_size(self.set.capacity(), bucket)
            + self.member_heap
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.set.contains(m)
    }

    /// Adds a member; true when it was not there.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        if self.set.contains(m) {
            return false;
        }
        let m = Member::new(m);
        self.member_heap += m.heap_size();
        self.set.insert(m);
        true
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.set.swap_take(m) {
            Some(m) => {
                self.member_heap -= m.heap_size();
                self.shrink();
                true
            }
            None => false,
        }
    }

    /// Removes and returns the member at a position (SPOP).
    pub fn remove_index(&mut self, i: usize) -> Option<Member> {
        let m = self.set.swap_remove_index(i)?;
        self.member_heap -= m.heap_size();
        self.shrink();
        Some(m)
    }

    pub fn get_index(&self, i: usize) -> Option<&Member> {
        self.set.get_index(i)
    }

    pub fn iter(&self) -> indexmap::set::Iter<'_, Member> {
        self.set.iter()
    }

    fn shrink(&mut self) {
        let cap = self.set.capacity();
        if cap > 64 && self.set.len() < cap / 4 {
            self.set.shrink_to(cap / 2);
        }
    }
}
