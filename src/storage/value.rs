//! Stored values and their memory cost.
//!
//! Layout is chosen for memory per key, which is a product target (≤ Redis's): a key is a 24-byte
//! inline-or-heap string (`CompactBytes`, inline up to 23 bytes, which covers typical keys such as
//! `user:1234` or `key:000000012345`), a value is 16 bytes (small strings and integers inline,
//! everything else behind one pointer).

use bytes::Bytes;
use compact_bytes::CompactBytes;
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

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

const INLINE_CAP: usize = 14;

/// What an allocation of `n` bytes really costs with the system allocator (glibc): a
/// 16-byte-aligned chunk with an 8-byte header, 32 bytes at least. Counting requested bytes
/// alone under-reported mixed data by ~12% against RSS.
pub fn alloc_size(n: usize) -> usize {
    ((n + 8 + 15) & !15).max(32)
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

/// A stored value. Further types (lists, hashes, sets, sorted sets) join as variants.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Str),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
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

/// Fixed bytes each key costs in the table beyond its key and value heap data: the index-map
/// bucket (hash + key + entry = 64 bytes) plus the hash index slot (8 bytes + control byte at
/// the table's load factor). Part of the documented memory model (docs/architecture.md).
pub const ENTRY_OVERHEAD: usize = 80;

/// The accounted size of a key with its value.
pub fn entry_size(key: &Key, value: &Value) -> usize {
    ENTRY_OVERHEAD + key.heap_size() + value.heap_size()
}

impl Value {
    /// The string, or None for another type (callers turn that into WRONGTYPE).
    pub fn as_str(&self) -> Option<&Str> {
        match self {
            Value::Str(s) => Some(s),
        }
    }

    pub fn as_str_mut(&mut self) -> Option<&mut Str> {
        match self {
            Value::Str(s) => Some(s),
        }
    }
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
