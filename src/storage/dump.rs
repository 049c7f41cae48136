//! DUMP / RESTORE payloads: tenantkv's own versioned, checksummed value format.
//!
//! Layout: `TK` magic, format version (u8), type tag (u8), type payload, then a CRC-32 (LE) of
//! everything before it. Like Redis's, a payload is opaque to clients; unlike Redis's it is not
//! RDB, so payloads move between tenantkv servers only. New value types add a tag; a newer
//! format version is refused rather than misread.

use super::value::{Str, Value};

const MAGIC: &[u8; 2] = b"TK";
pub const FORMAT_VERSION: u8 = 1;

const TAG_STR_INT: u8 = 0;
const TAG_STR_RAW: u8 = 1;

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
            s.with_bytes(|b| {
                out.extend_from_slice(&(b.len() as u64).to_le_bytes());
                out.extend_from_slice(b);
            });
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
        _ => Err(DumpError::BadFormat),
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
        ] {
            let p = serialize(&v);
            assert_eq!(deserialize(&p).unwrap(), v);
            let mut bad = p.clone();
            bad[5] ^= 1;
            assert_eq!(deserialize(&bad), Err(DumpError::VersionOrChecksum));
        }
        assert_eq!(deserialize(b"junk"), Err(DumpError::VersionOrChecksum));
    }
}
