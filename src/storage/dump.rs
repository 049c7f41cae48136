//! DUMP / RESTORE payloads: tenantkv's own versioned, checksummed value format.
//!
//! Layout: `TK` magic, format version (u8), type tag (u8), type payload, then a CRC-32 (LE) of
//! everything before it. Like Redis's, a payload is opaque to clients; unlike Redis's it is not
//! RDB, so payloads move between tenantkv servers only. New value types add a tag; a newer
//! format version is refused rather than misread.

use super::value::{HashValue, List, SetValue, Str, Value, ZSet};

const MAGIC: &[u8; 2] = b"TK";
pub const FORMAT_VERSION: u8 = 1;

const TAG_STR_INT: u8 = 0;
const TAG_STR_RAW: u8 = 1;
const TAG_LIST: u8 = 2;
const TAG_HASH: u8 = 3;
const TAG_SET: u8 = 4;
const TAG_ZSET: u8 = 5;

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

/// Reads a payload's fields in order; any overrun is a format error, never a panic.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DumpError> {
        if self.0.len() < n {
            return Err(DumpError::BadFormat);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, DumpError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn bytes(&mut self) -> Result<&'a [u8], DumpError> {
        let n = self.u64()?;
        self.take(usize::try_from(n).map_err(|_| DumpError::BadFormat)?)
    }

    /// An element count, refused when the payload could not possibly hold that many (each
    /// element takes at least 8 bytes), so a forged count cannot make us allocate.
    fn count(&mut self) -> Result<usize, DumpError> {
        let n = self.u64()?;
        if n > (self.0.len() / 8) as u64 {
            return Err(DumpError::BadFormat);
        }
        Ok(n as usize)
    }

    fn end(&self) -> Result<(), DumpError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DumpError::BadFormat)
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum DumpError {
    /// Version or checksum mismatch (Redis: "DUMP payload version or checksum are wrong").
    VersionOrChecksum,
    /// Checksum fine but content unreadable (Redis: "Bad data format").
    BadFormat,
}

pub fn serialize(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    match value {
        Value::Str(Str::Int(i)) => {
            out.push(TAG_STR_INT);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Str(s) => {
            out.push(TAG_STR_RAW);
            s.with_bytes(|b| put_bytes(&mut out, b));
        }
        Value::List(l) => {
            out.push(TAG_LIST);
            out.extend_from_slice(&(l.len() as u64).to_le_bytes());
            l.iter().for_each(|m| put_bytes(&mut out, m.as_bytes()));
        }
        Value::Hash(h) => {
            out.push(TAG_HASH);
            out.extend_from_slice(&(h.len() as u64).to_le_bytes());
            for (f, v) in h.iter() {
                put_bytes(&mut out, f.as_bytes());
                put_bytes(&mut out, v.as_bytes());
            }
        }
        Value::Set(st) => {
            out.push(TAG_SET);
            out.extend_from_slice(&(st.len() as u64).to_le_bytes());
            st.iter().for_each(|m| put_bytes(&mut out, m.as_bytes()));
        }
        Value::ZSet(z) => {
            out.push(TAG_ZSET);
            out.extend_from_slice(&(z.len() as u64).to_le_bytes());
            for (m, score) in z.iter() {
                put_bytes(&mut out, m.as_bytes());
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

pub fn deserialize(payload: &[u8]) -> Result<Value, DumpError> {
    if payload.len() < 2 + 1 + 1 + 4 || &payload[..2] != MAGIC || payload[2] != FORMAT_VERSION {
        return Err(DumpError::VersionOrChecksum);
    }
    let (body, crc) = payload.split_at(payload.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(DumpError::VersionOrChecksum);
    }
    let data = &body[4..];
    match body[3] {
        TAG_STR_INT => {
            let b: [u8; 8] = data.try_into().map_err(|_| DumpError::BadFormat)?;
            Ok(Value::Str(Str::Int(i64::from_le_bytes(b))))
        }
        TAG_STR_RAW => {
            if data.len() < 8 {
                return Err(DumpError::BadFormat);
            }
            let len = u64::from_le_bytes(data[..8].try_into().expect("8 bytes")) as usize;
            if data.len() - 8 != len {
                return Err(DumpError::BadFormat);
            }
            Ok(Value::Str(Str::raw(&data[8..])))
        }
        TAG_LIST => {
            let mut r = Reader(data);
            let mut l = List::new();
            for _ in 0..r.count()? {
                l.push_back(r.bytes()?);
            }
            r.end()?;
            non_empty(Value::List(Box::new(l)))
        }
        TAG_HASH => {
            let mut r = Reader(data);
            let mut h = HashValue::new();
            for _ in 0..r.count()? {
                let (f, v) = (r.bytes()?, r.bytes()?);
                if !h.insert(f, v) {
                    return Err(DumpError::BadFormat);
                }
            }
            r.end()?;
            non_empty(Value::Hash(Box::new(h)))
        }
        TAG_SET => {
            let mut r = Reader(data);
            let mut st = SetValue::new();
            for _ in 0..r.count()? {
                if !st.insert(r.bytes()?) {
                    return Err(DumpError::BadFormat);
                }
            }
            r.end()?;
            non_empty(Value::Set(Box::new(st)))
        }
        TAG_ZSET => {
            let mut r = Reader(data);
            let mut z = ZSet::new();
            for _ in 0..r.count()? {
                let m = r.bytes()?;
                let score = f64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
                if score.is_nan() || z.insert(m, score).is_some() {
                    return Err(DumpError::BadFormat);
                }
            }
            r.end()?;
            non_empty(Value::ZSet(Box::new(z)))
        }
        _ => Err(DumpError::BadFormat),
    }
}

/// Redis never stores an empty collection, so a payload describing one is malformed.
fn non_empty(v: Value) -> Result<Value, DumpError> {
    if v.is_empty_collection() {
        Err(DumpError::BadFormat)
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        for v in [
            Value::Str(Str::Int(-42)),
            Value::Str(Str::raw(b"hello")),
            Value::Str(Str::raw(&[7u8; 300])),
            collection_samples().0,
            collection_samples().1,
            collection_samples().2,
            collection_samples().3,
        ] {
            let p = serialize(&v);
            assert_eq!(deserialize(&p).unwrap(), v);
            let mut bad = p.clone();
            bad[5] ^= 1;
            assert_eq!(deserialize(&bad), Err(DumpError::VersionOrChecksum));
        }
        assert_eq!(deserialize(b"junk"), Err(DumpError::VersionOrChecksum));
    }

    fn collection_samples() -> (Value, Value, Value, Value) {
        let mut l = List::new();
        let mut h = HashValue::new();
        let mut st = SetValue::new();
        let mut z = ZSet::new();
        for i in 0..50 {
            let m = format!("member-{i}-{}", "x".repeat(i));
            l.push_back(m.as_bytes());
            h.insert(m.as_bytes(), &i.to_string().into_bytes());
            st.insert(m.as_bytes());
            z.insert(m.as_bytes(), i as f64 / 3.0);
        }
        (
            Value::List(Box::new(l)),
            Value::Hash(Box::new(h)),
            Value::Set(Box::new(st)),
            Value::ZSet(Box::new(z)),
        )
    }

    #[test]
    fn forged_collections_are_refused() {
        // A count larger than the payload, and a valid checksum around it.
        let mut p = vec![b'T', b'K', FORMAT_VERSION, TAG_LIST];
        p.extend_from_slice(&u64::MAX.to_le_bytes());
        let crc = crc32fast::hash(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(deserialize(&p), Err(DumpError::BadFormat));
        // An empty collection.
        let mut p = vec![b'T', b'K', FORMAT_VERSION, TAG_SET];
        p.extend_from_slice(&0u64.to_le_bytes());
        let crc = crc32fast::hash(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(deserialize(&p), Err(DumpError::BadFormat));
    }
}
