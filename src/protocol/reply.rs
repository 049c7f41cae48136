//! `Reply`: what a handler returns, independent of the protocol version, and its encoder.
//!
//! Handlers build one typed `Reply`; `encode` renders it as RESP2 or RESP3 for the session. RESP3
//! types degrade to what Redis sends RESP2 clients (maps → flat arrays, doubles → bulk strings,
//! booleans → integers, null → `$-1` or `*-1`).
//!
//! Why our own encoder rather than `redis-protocol`'s: the crate encodes its own frame type, so we
//! would build one frame per reply element and then encode it; writing straight from `Reply` to
//! the output buffer is one pass with no allocation. `redis-protocol`'s decoder cross-checks this
//! encoder in the unit tests below.

use super::error::CmdError;
use bytes::{BufMut, Bytes, BytesMut};
use std::borrow::Cow;

/// The protocol version negotiated by HELLO (2 until a client asks for 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Resp2,
    Resp3,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`
    Ok,
    /// A simple string other than OK (`+PONG`, `+QUEUED`, a type name).
    Status(Cow<'static, str>),
    Error(CmdError),
    Int(i64),
    Bulk(Bytes),
    /// A bulk string of at most `SHORT_CAP` bytes held inline: replying with a small stored
    /// value then costs no allocation.
    ShortBulk {
        len: u8,
        buf: [u8; SHORT_CAP],
    },
    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// A missing aggregate: `*-1` in RESP2, `_` in RESP3.
    NilArray,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(f64),
    Bool(bool),
    /// Verbatim text (`=` with format `txt` in RESP3, a bulk string in RESP2).
    Verbatim(Bytes),
    /// Out-of-band data (`>` in RESP3, an array in RESP2).
    Push(Vec<Reply>),
    /// Frames already encoded in the connection's protocol: the confirmations a SUBSCRIBE
    /// queued in MULTI writes, which stand in EXEC's reply where its reply would (as in Redis).
    Encoded(Bytes),
    /// An array of bulk strings already in wire form (`*<n>`, then `$<len>` and the bytes for
    /// each), which reads the same in RESP2 and RESP3. Built by `bulk_array` straight from
    /// stored members, so a 600-element LRANGE costs one buffer rather than a `Reply` per
    /// element to build, encode and drop (a third of the server's time in LRANGE_600).
    BulkArray(Bytes),
}

/// Capacity of `Reply::ShortBulk` (covers every integer and inline-stored string).
pub const SHORT_CAP: usize = 22;

impl Reply {
    /// A bulk reply copied from `data`, inline when short.
    pub fn bulk_from(data: &[u8]) -> Reply {
        if data.len() <= SHORT_CAP {
            let mut buf = [0u8; SHORT_CAP];
            buf[..data.len()].copy_from_slice(data);
            Reply::ShortBulk {
                len: data.len() as u8,
                buf,
            }
        } else {
            Reply::Bulk(Bytes::copy_from_slice(data))
        }
    }

    /// An array of bulk strings (`Reply::BulkArray`), encoded once.
    pub fn bulk_array<'a, I>(items: I) -> Reply
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        let (n, bytes) = items
            .clone()
            .fold((0, 0), |(n, b), m| (n + 1, b + bulk_frame_len(m.len())));
        let size = 3 + digits(n) + bytes;
        let mut out = BytesMut::with_capacity(size);
        put_len(&mut out, b'*', n);
        items.for_each(|m| put_bulk(&mut out, m));
        debug_assert_eq!(out.len(), size, "sized exactly, written without regrowth");
        Reply::BulkArray(out.freeze())
    }

    pub fn bulk(data: impl Into<Bytes>) -> Reply {
        Reply::Bulk(data.into())
    }

    pub fn bulk_copy(data: &[u8]) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(data))
    }

    pub fn status(s: &'static str) -> Reply {
        Reply::Status(Cow::Borrowed(s))
    }

    /// A bulk string or nil.
    pub fn opt_bulk(v: Option<Bytes>) -> Reply {
        v.map_or(Reply::Nil, Reply::Bulk)
    }

    /// A map from string keys, the shape of HELLO, MEMORY STATS and COMMAND DOCS.
    pub fn map_str(pairs: Vec<(&str, Reply)>) -> Reply {
        Reply::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Reply::bulk_copy(k.as_bytes()), v))
                .collect(),
        )
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

impl From<CmdError> for Reply {
    fn from(e: CmdError) -> Self {
        Reply::Error(e)
    }
}

/// Formats a double as Redis 7.2's `d2string` does (`addReplyDouble`: RESP3 doubles, and
/// ZSCORE / WITHSCORES in either protocol):
/// integral values up to 2^62 as integers, `-0` for negative zero, `inf`/`-inf`, and otherwise
/// the shortest round-trip digits laid out by fpconv's `emit_digits` rules (plain notation for
/// moderate exponents, else `d.ddde+X` with an unpadded exponent).
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // `double2ll`: only within ±LLONG_MAX/2, where the cast is exact.
    const LIM: f64 = (i64::MAX / 2) as f64;
    if (-LIM..=LIM).contains(&d) && d == d.trunc() {
        return itoa::Buffer::new().format(d as i64).to_string();
    }
    // Shortest digits and decimal exponent from ryu's scientific form ("d.ddde±x").
    let sci = format!("{:e}", d.abs());
    let (mant, exp) = sci.split_once('e').expect("scientific form");
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let nd = digits.len() as i32;
    let e10: i32 = exp.parse().expect("exponent");
    // fpconv's K: value = digits × 10^K.
    let k = e10 - (nd - 1);
    let mut out = String::with_capacity(26);
    if d < 0.0 {
        out.push('-');
    }
    let exp_abs = (k + nd - 1).abs();
    if k >= 0 && exp_abs < nd + 7 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', k as usize));
    } else if k < 0 && (k > -7 || exp_abs < 4) {
        let offset = nd + k;
        if offset <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-offset) as usize));
            out.push_str(&digits);
        } else {
            out.push_str(&digits[..offset as usize]);
            out.push('.');
            out.push_str(&digits[offset as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if k + nd - 1 < 0 { '-' } else { '+' });
        out.push_str(itoa::Buffer::new().format(exp_abs));
    }
    out
}

fn put_len(out: &mut BytesMut, prefix: u8, n: usize) {
    let mut b = itoa::Buffer::new();
    out.put_u8(prefix);
    out.put_slice(b.format(n).as_bytes());
    out.put_slice(b"\r\n");
}

fn digits(n: usize) -> usize {
    n.checked_ilog10().unwrap_or(0) as usize + 1
}

/// Bytes of `$<len>\r\n<data>\r\n` for `len` bytes of data.
fn bulk_frame_len(len: usize) -> usize {
    len + 5 + digits(len)
}

fn put_bulk(out: &mut BytesMut, data: &[u8]) {
    put_len(out, b'$', data.len());
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// Error text must be one line: Redis replaces newlines with spaces the same way.
fn put_error(out: &mut BytesMut, text: &str) {
    out.put_u8(b'-');
    for &c in text.as_bytes() {
        out.put_u8(if c == b'\r' || c == b'\n' { b' ' } else { c });
    }
    out.put_slice(b"\r\n");
}

/// Appends the encoding of `reply` in protocol `proto` to `out`.
pub fn encode(reply: &Reply, proto: Proto, out: &mut BytesMut) {
    let r3 = proto == Proto::Resp3;
    match reply {
        Reply::Ok => out.put_slice(b"+OK\r\n"),
        Reply::Status(s) => {
            out.put_u8(b'+');
            out.put_slice(s.as_bytes());
            out.put_slice(b"\r\n");
        }
        Reply::Error(e) => put_error(out, &e.text()),
        Reply::Int(i) => {
            let mut b = itoa::Buffer::new();
            out.put_u8(b':');
            out.put_slice(b.format(*i).as_bytes());
            out.put_slice(b"\r\n");
        }
        Reply::Bulk(data) => put_bulk(out, data),
        Reply::ShortBulk { len, buf } => put_bulk(out, &buf[..*len as usize]),
        Reply::Nil if r3 => out.put_slice(b"_\r\n"),
        Reply::Nil => out.put_slice(b"$-1\r\n"),
        Reply::NilArray if r3 => out.put_slice(b"_\r\n"),
        Reply::NilArray => out.put_slice(b"*-1\r\n"),
        Reply::Array(items) => {
            put_len(out, b'*', items.len());
            items.iter().for_each(|r| encode(r, proto, out));
        }
        Reply::Set(items) => {
            put_len(out, if r3 { b'~' } else { b'*' }, items.len());
            items.iter().for_each(|r| encode(r, proto, out));
        }
        Reply::Push(items) => {
            put_len(out, if r3 { b'>' } else { b'*' }, items.len());
            items.iter().for_each(|r| encode(r, proto, out));
        }
        Reply::Map(pairs) => {
            if r3 {
                put_len(out, b'%', pairs.len());
            } else {
                put_len(out, b'*', pairs.len() * 2);
            }
            for (k, v) in pairs {
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Reply::Double(d) => {
            let s = format_double(*d);
            if r3 {
                out.put_u8(b',');
                out.put_slice(s.as_bytes());
                out.put_slice(b"\r\n");
            } else {
                put_bulk(out, s.as_bytes());
            }
        }
        Reply::Bool(b) => match (r3, b) {
            (true, true) => out.put_slice(b"#t\r\n"),
            (true, false) => out.put_slice(b"#f\r\n"),
            (false, true) => out.put_slice(b":1\r\n"),
            (false, false) => out.put_slice(b":0\r\n"),
        },
        Reply::Encoded(frames) | Reply::BulkArray(frames) => out.put_slice(frames),
        Reply::Verbatim(data) => {
            if r3 {
                put_len(out, b'=', data.len() + 4);
                out.put_slice(b"txt:");
                out.put_slice(data);
                out.put_slice(b"\r\n");
            } else {
                put_bulk(out, data);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis_protocol::resp3::decode::complete::decode as decode3;

    fn enc(r: &Reply, p: Proto) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(r, p, &mut out);
        out.to_vec()
    }

    #[test]
    fn resp2_shapes() {
        assert_eq!(enc(&Reply::Ok, Proto::Resp2), b"+OK\r\n");
        assert_eq!(enc(&Reply::Nil, Proto::Resp2), b"$-1\r\n");
        assert_eq!(enc(&Reply::NilArray, Proto::Resp2), b"*-1\r\n");
        assert_eq!(enc(&Reply::Double(1.5), Proto::Resp2), b"$3\r\n1.5\r\n");
        assert_eq!(enc(&Reply::Bool(true), Proto::Resp2), b":1\r\n");
        let m = Reply::map_str(vec![("a", Reply::Int(1))]);
        assert_eq!(enc(&m, Proto::Resp2), b"*2\r\n$1\r\na\r\n:1\r\n");
        let e = Reply::Error(CmdError::err("ERR a\r\nb"));
        assert_eq!(enc(&e, Proto::Resp2), b"-ERR a  b\r\n");
    }

    #[test]
    fn resp3_shapes_decode_with_redis_protocol() {
        let r = Reply::Array(vec![
            Reply::map_str(vec![("k", Reply::Double(2.25)), ("b", Reply::Bool(false))]),
            Reply::Set(vec![Reply::bulk_copy(b"x")]),
            Reply::Nil,
            Reply::Verbatim(Bytes::from_static(b"hello")),
            Reply::Push(vec![Reply::Int(-3)]),
        ]);
        let bytes = enc(&r, Proto::Resp3);
        let (frame, used) = decode3(&bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert!(format!("{frame:?}").contains("2.25"));
    }

    /// The pre-encoded array is byte for byte the array of bulks it stands for, in both
    /// protocols (and `bulk_array` checks, in debug builds, that it sized its buffer exactly).
    #[test]
    fn bulk_array_is_the_array_of_bulks_it_stands_for() {
        let long = vec![b'z'; 1000];
        let cases: [&[&[u8]]; 3] = [&[], &[b""], &[b"a", b"", &[b'x'; 9], &[b'y'; 10], &long]];
        for items in cases {
            let fast = Reply::bulk_array(items.iter().copied());
            let slow = Reply::Array(items.iter().map(|m| Reply::bulk_copy(m)).collect());
            for p in [Proto::Resp2, Proto::Resp3] {
                assert_eq!(enc(&fast, p), enc(&slow, p));
            }
        }
    }

    #[test]
    fn doubles_like_redis() {
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(-0.5), "-0.5");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(1e21), "1e+21");
        assert_eq!(format_double(10.6), "10.6");
    }

    #[test]
    fn scores_format_like_redis_7_2() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1e17, "100000000000000000"),
            (4611686018427387904.0, "4611686018427387904"),
            (9223372036854775808.0, "9223372036854776000"),
            (1e19, "1e+19"),
            (1e21, "1e+21"),
            (123456.7890123, "1.234567890123e+5"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (2.71, "2.71"),
            (12345.678, "12345.678"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (d, want) in cases {
            assert_eq!(format_double(*d), *want, "{d:e}");
        }
    }
}
