//! Stored values and their memory cost.
//!
//! Layout is chosen for memory per key, which is a product target (≤ Redis's): a key is a 24-byte
//! inline-or-heap string (`CompactBytes`, inline up to 23 bytes, which covers typical keys such as
//! `user:1234` or `key:000000012345`), a value is 16 bytes (small strings and integers inline,
//! everything else behind one pointer).

use bytes::Bytes;
use compact_bytes::{CompactBytes, CompactBytesSlice};
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

pub use super::hash::HashValue;
pub use super::list::List;
pub use super::set::SetValue;
pub use super::zset::ZSet;

/// A key as stored: hashes and compares as its bytes, so lookups take `&[u8]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(CompactBytes);

impl Key {
    pub fn new(bytes: &[u8]) -> Key {
        Key(CompactBytes::new(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// Heap bytes beyond the inline representation, as the allocator charges them.
    pub fn heap_size(&self) -> usize {
        if self.0.spilled() {
            alloc_size(self.0.capacity())
        } else {
            0
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// Defines a collection member type over an inline-or-heap byte string: hashes and compares as
/// its bytes (so lookups take `&[u8]`), orders as Redis compares members (`memcmp`).
macro_rules! member_type {
    ($(#[$doc:meta])* $name:ident, $repr:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name($repr);

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_bytes().cmp(other.as_bytes())
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl $name {
            pub fn new(bytes: &[u8]) -> $name {
                $name($repr::new(bytes))
            }

            pub fn as_bytes(&self) -> &[u8] {
                self.0.as_slice()
            }

            pub fn len(&self) -> usize {
                self.0.len()
            }

            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// The bytes as a reply-ready buffer (a copy: members are not reference counted).
            pub fn to_bytes(&self) -> Bytes {
                Bytes::copy_from_slice(self.as_bytes())
            }

            /// Heap bytes beyond the inline representation, as the allocator charges them.
            pub fn heap_size(&self) -> usize {
                if self.0.spilled() {
                    alloc_size(self.0.capacity())
                } else {
                    0
                }
            }
        }

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.as_bytes().hash(state)
            }
        }

        impl Borrow<[u8]> for $name {
            fn borrow(&self) -> &[u8] {
                self.as_bytes()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
            }
        }
    };
}

member_type!(
    /// A member of a collection (list element, hash value, sorted-set member): 16 bytes,
    /// inline up to 15 bytes, which covers most members (ids, small numbers, short names).
    Member,
    CompactBytesSlice
);

member_type!(
    /// A member found by hashing it on every write: a set member or a hash field. 24 bytes,
    /// inline up to 23, like a key, so a lookup of a typical member (`element:000000012345`,
    /// `user:1234:name`) compares it in the table's entry without following a pointer to
    /// the heap: one cache miss less per SADD/HSET/SISMEMBER/HGET on a big collection
    /// (SADD -P 16 on a 100k-member set: ~15-25% less CPU per command), and no allocation
    /// for members of 16 to 23 bytes.
    IndexedMember,
    CompactBytes
);

const INLINE_CAP: usize = 14;

/// What an allocation of `n` bytes really costs with the system allocator (glibc): a
/// 16-byte-aligned chunk with an 8-byte header, 32 bytes at least. Counting requested bytes
/// alone under-reported mixed data by ~12% against RSS.
pub fn alloc_size(n: usize) -> usize {
    ((n + 8 + 15) & !15).max(32)
}

/// What an `IndexMap`/`IndexSet` with room for `cap` entries of `bucket` bytes each costs: the
/// entry vector plus the hash index (8-byte slots and a control byte each, at a 7/8 load factor,
/// plus one group of trailing control bytes).
pub fn index_map_size(cap: usize, bucket: usize) -> usize {
    if cap == 0 {
        return 0;
    }
    alloc_size(cap * bucket) + alloc_size(index_buckets(cap) * 9 + 16)
}

/// Buckets of the hash index that holds `cap` entries (hashbrown's sizing: a 7/8 load factor,
/// powers of two, 4 at least).
fn index_buckets(cap: usize) -> usize {
    match cap {
        0..4 => 4,
        4..8 => 8,
        _ => (cap * 8 / 7).next_power_of_two(),
    }
}

/// The capacity a hash index sized for `n` entries really has, so a map shrunk to it has entry
/// vector and index of the same capacity (what `index_map_size` assumes).
pub fn full_capacity(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let buckets = index_buckets(n);
    if buckets < 8 {
        buckets - 1
    } else {
        buckets / 8 * 7
    }
}

/// A string value: Redis's `int` / `embstr` / `raw` encodings in 16 bytes.
///
/// The `*Raw` variants hold strings that were modified in place (APPEND, SETRANGE): Redis
/// reports those as `raw` whatever their length, and OBJECT ENCODING must agree.
#[derive(Clone, Debug, PartialEq)]
pub enum Str {
    /// Strings that are canonical integers (`string2ll`), as Redis's `int` encoding.
    Int(i64),
    Inline {
        len: u8,
        buf: [u8; INLINE_CAP],
    },
    InlineRaw {
        len: u8,
        buf: [u8; INLINE_CAP],
    },
    Heap(Box<Bytes>),
    HeapRaw(Box<Bytes>),
}

/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`: what OBJECT ENCODING calls `embstr`.
const EMBSTR_LIMIT: usize = 44;

impl Str {
    /// Builds a string value, choosing the integer encoding when the bytes are a canonical
    /// integer (as `tryObjectEncoding` does).
    pub fn from_slice(data: &[u8]) -> Str {
        if data.len() <= 20 {
            if let Some(i) = crate::protocol::request::parse_i64(data) {
                return Str::Int(i);
            }
        }
        Str::raw(data)
    }

    /// Builds a string value without trying the integer encoding.
    pub fn raw(data: &[u8]) -> Str {
        if data.len() <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..data.len()].copy_from_slice(data);
            Str::Inline {
                len: data.len() as u8,
                buf,
            }
        } else {
            // Copy so the stored value never pins the connection's read buffer.
            Str::Heap(Box::new(Bytes::copy_from_slice(data)))
        }
    }

    /// Builds the result of an in-place modification (Redis's `raw` encoding).
    pub fn modified(data: &[u8]) -> Str {
        match Str::raw(data) {
            Str::Inline { len, buf } => Str::InlineRaw { len, buf },
            Str::Heap(b) => Str::HeapRaw(b),
            other => other,
        }
    }

    /// The stored bytes, for every variant but `Int`.
    fn stored(&self) -> Option<&[u8]> {
        match self {
            Str::Int(_) => None,
            Str::Inline { len, buf } | Str::InlineRaw { len, buf } => Some(&buf[..*len as usize]),
            Str::Heap(b) | Str::HeapRaw(b) => Some(b),
        }
    }

    /// The value's bytes (integers formatted on demand).
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Str::Int(i) => Bytes::copy_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
            Str::Heap(b) | Str::HeapRaw(b) => (**b).clone(),
            other => Bytes::copy_from_slice(other.stored().expect("not an int")),
        }
    }

    /// The shared buffer of a heap-stored string (cloning it is a reference count, not a copy).
    pub fn shared(&self) -> Option<&Bytes> {
        match self {
            Str::Heap(b) | Str::HeapRaw(b) => Some(b),
            _ => None,
        }
    }

    /// Calls `f` with the bytes without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Str::Int(i) => f(itoa::Buffer::new().format(*i).as_bytes()),
            other => f(other.stored().expect("not an int")),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(i) => itoa::Buffer::new().format(*i).len(),
            other => other.stored().map_or(0, <[u8]>::len),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The integer value, if the string is a canonical integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Str::Int(i) => Some(*i),
            other => other.with_bytes(crate::protocol::request::parse_i64),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::InlineRaw { .. } | Str::HeapRaw(_) => "raw",
            s if s.len() <= EMBSTR_LIMIT => "embstr",
            _ => "raw",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            // The Box<Bytes> and the buffer it points to: two allocations.
            Str::Heap(b) | Str::HeapRaw(b) => {
                alloc_size(std::mem::size_of::<Bytes>()) + alloc_size(b.len())
            }
            _ => 0,
        }
    }
}

/// A stored value: a string inline, collections behind one pointer, so every value is 16 bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Str),
    List(Box<List>),
    Hash(Box<HashValue>),
    Set(Box<SetValue>),
    ZSet(Box<ZSet>),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// Heap bytes owned by the value, in O(1): collections keep their totals as they change.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
        }
    }

    /// Re-derives a collection's encoding from its whole content (after RESTORE), where writes
    /// settle it incrementally.
    pub fn settle_encoding(&mut self, l: &EncodingLimits) {
        match self {
            Value::Str(_) => {}
            Value::List(x) => x.settle_all(l),
            Value::Hash(x) => x.settle_all(l),
            Value::Set(x) => x.settle_all(l),
            Value::ZSet(x) => x.settle_all(l),
        }
    }

    /// A collection left with no elements: Redis deletes such keys, and so must every writer.
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
        }
    }
}

/// When collections leave their compact encodings (Redis's `*-max-listpack-*` and
/// `set-max-intset-entries` parameters). Only OBJECT ENCODING observes the result.
#[derive(Clone, Copy, Debug)]
pub struct EncodingLimits {
    pub hash_entries: usize,
    pub hash_value: usize,
    pub zset_entries: usize,
    pub zset_value: usize,
    pub set_intset_entries: usize,
    pub set_listpack_entries: usize,
    pub set_listpack_value: usize,
    /// `list-max-listpack-size`: positive = entries per node, negative = node size class.
    pub list_size: i64,
}

impl Default for EncodingLimits {
    /// Redis's defaults.
    fn default() -> Self {
        EncodingLimits {
            hash_entries: 512,
            hash_value: 64,
            zset_entries: 128,
            zset_value: 64,
            set_intset_entries: 512,
            set_listpack_entries: 128,
            set_listpack_value: 64,
            list_size: -2,
        }
    }
}

/// One key's slot: value, absolute expiry (unix ms, 0 = none) and the access clock used by
/// OBJECT IDLETIME/FREQ and eviction sampling.
#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    pub expire_at: u64,
    pub access: u32,
}

/// What one more key adds to its shard's table, averaged over the table's growth: the
/// index-map bucket (hash + key + entry = 64 bytes) plus the hash index slot (8 bytes + control
/// byte), at the load a table has on average between doublings. The accounted total counts the
/// tables by their real capacity instead (`table_size`); this estimate is for one key's cost
/// before it exists (quota reservations) and for MEMORY USAGE. Part of the documented memory
/// model (docs/tenancy.md).
pub const ENTRY_OVERHEAD: usize = 100;

/// What a shard's table with room for `cap` keys costs: its entry vector and hash index.
pub fn table_size(cap: usize) -> usize {
    let bucket = 8 + std::mem::size_of::<Key>() + std::mem::size_of::<Entry>();
    index_map_size(cap, bucket)
}

/// The accounted size of a key's own data: its key and value heap bytes (the table slot is
/// accounted by the table, see `table_size`).
pub fn entry_size(key: &Key, value: &Value) -> usize {
    key.heap_size() + value.heap_size()
}

/// Typed access: each returns None for another type (callers turn that into WRONGTYPE).
macro_rules! accessors {
    ($($variant:ident, $t:ty, $get:ident, $get_mut:ident;)*) => {
        impl Value {
            $(
                pub fn $get(&self) -> Option<&$t> {
                    match self {
                        Value::$variant(v) => Some(v),
                        _ => None,
                    }
                }

                pub fn $get_mut(&mut self) -> Option<&mut $t> {
                    match self {
                        Value::$variant(v) => Some(v),
                        _ => None,
                    }
                }
            )*
        }
    };
}

accessors! {
    Str, Str, as_str, as_str_mut;
    List, List, as_list, as_list_mut;
    Hash, HashValue, as_hash, as_hash_mut;
    Set, SetValue, as_set, as_set_mut;
    ZSet, ZSet, as_zset, as_zset_mut;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_layout() {
        assert_eq!(std::mem::size_of::<Str>(), 16);
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<Key>(), 24);
        assert_eq!(std::mem::size_of::<Entry>(), 32);
        assert_eq!(std::mem::size_of::<Member>(), 16);
        assert_eq!(std::mem::size_of::<IndexedMember>(), 24);
    }

    #[test]
    fn encodings() {
        assert_eq!(Str::from_slice(b"123").encoding(), "int");
        assert_eq!(Str::from_slice(b"0123").encoding(), "embstr");
        assert_eq!(Str::from_slice(&[b'a'; 45]).encoding(), "raw");
        assert_eq!(Str::from_slice(b"-5").as_int(), Some(-5));
        assert_eq!(&Str::from_slice(b"hello").to_bytes()[..], b"hello");
        assert_eq!(
            &Str::from_slice(&[b'x'; 30]).to_bytes()[..],
            &[b'x'; 30][..]
        );
    }
}
