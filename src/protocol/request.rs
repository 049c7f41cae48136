//! Request framing: turns bytes from the socket into command argument vectors.
//!
//! A request is either a RESP multibulk (`*<n>\r\n` followed by n `$<len>\r\n<data>\r\n`) or an
//! inline command line (what telnet and `redis-cli` in some modes send). Requests are walked
//! header by header, incrementally, because that is where Redis enforces its limits (bulk
//! length, multibulk length, count-string size) and the only way to refuse an abusive header
//! *before* buffering its payload. The walk records each argument's range as it goes, so a
//! complete request is never parsed twice.
//!
//! Why not decode with `redis-protocol` after the walk: measured with `cargo bench --bench
//! protocol` (parse/16 pipelined SETs), walk + `decode_range` took 6.4 µs and the walk alone
//! 2.3 µs: the second parse was 65% of framing cost, ~260 ns per command, for nothing the walk
//! had not already established. Its recursive decoder would also need guarding against nested
//! arrays. `redis-protocol` is instead the oracle our framing is tested against
//! (`tests::agrees_with_redis_protocol`), and the decoder the raw-protocol tests read replies with.

use super::error::ProtocolError;
use bytes::{Buf, BytesMut};

/// Redis's `PROTO_INLINE_MAX_SIZE`: the longest inline line or count string.
pub const INLINE_MAX: usize = 64 * 1024;
/// Limits that apply before a connection has authenticated, as in Redis.
const UNAUTH_MAX_MULTIBULK: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16 * 1024;

/// What each argument counts toward a request's size beyond its bytes: what the server keeps
/// for it while the request is read (its place in the argument list). A request of millions
/// of empty arguments is large, whatever its payload.
pub const ARG_COST: u64 = 16;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`
    pub max_bulk_len: i64,
    /// False while authentication is required and not yet done.
    pub authenticated: bool,
    /// A tenant's largest request (sum of argument lengths), 0 = none. A request declaring
    /// more is not buffered: its payload is dropped as it arrives and `Parsed::TooLarge`
    /// reports it, so the connection stays usable.
    pub max_request: u64,
}

/// Incremental parser state: where the header walk of a partly received multibulk stopped, so a
/// request arriving in many reads is walked once, not once per read.
///
/// A complete request stays at the front of the buffer while it runs: its arguments are
/// borrowed from there ([`RequestParser::args`]) and [`RequestParser::consume`] drops it
/// afterwards. Handing out `Bytes` slices of the buffer instead cost an atomic increment and
/// decrement of the buffer's count per argument, ~5% of the server's time at `-P 16`.
#[derive(Debug, Default)]
pub struct RequestParser {
    pending: Option<Pending>,
    /// Ranges of the current request's arguments walked so far. Kept across requests: a
    /// fresh vector per request was an allocation and a free per command.
    ranges: Vec<(usize, usize)>,
    /// The complete request `next` reported, until `consume`.
    ready: Option<Ready>,
    /// An inline command's arguments: unquoting can change them, so they are not slices of
    /// the buffer.
    inline: Vec<Vec<u8>>,
    /// An emptied argument vector kept for the next request (see [`RequestParser::take_spare`]).
    spare: Vec<&'static [u8]>,
}

/// A complete request at the front of the buffer: its length, and where its arguments are.
#[derive(Debug, Clone, Copy)]
enum Ready {
    /// Arguments at `ranges` in the buffer.
    Multibulk(usize),
    /// Arguments in `inline`.
    Inline(usize),
}

/// Past this many ranges (or arguments) a kept vector is shrunk or let go after use, so one
/// huge request does not pin its memory for the connection's life.
const KEPT_CAPACITY: usize = 1024;

/// Empties an argument vector and ends its borrow, keeping the allocation: a collect from a
/// vector's own iterator into elements of the same layout reuses its buffer in place (the
/// test `spare_vectors_are_reused_and_huge_ones_let_go` checks that it does).
pub fn unborrow(mut args: Vec<&[u8]>) -> Vec<&'static [u8]> {
    args.clear();
    args.into_iter().map(|_| -> &'static [u8] { &[] }).collect()
}

#[derive(Debug, Clone)]
struct Pending {
    argc: usize,
    seen: usize,
    /// Offset of the next bulk header in the buffer.
    pos: usize,
    /// Bytes the buffer must hold before the next step can progress.
    need: usize,
    /// Sum of the argument lengths declared so far, each plus `ARG_COST`.
    declared: u64,
    /// Over `max_request`: the rest of the request is walked and dropped, not kept.
    discarding: bool,
    /// Payload bytes of the current argument still to drop (when discarding).
    skip: usize,
}

/// What the parser found at the front of the buffer.
#[derive(Debug)]
pub enum Parsed {
    /// A complete request: read it with [`RequestParser::args`], then
    /// [`RequestParser::consume`] it.
    Command,
    /// A blank line or `*0`: consumed, nothing to run.
    Empty,
    /// A request over `Limits::max_request`, consumed without being buffered.
    TooLarge,
    Incomplete,
}

impl RequestParser {
    /// No request is partly walked.
    pub fn is_idle(&self) -> bool {
        self.pending.is_none()
    }

    /// Bytes the buffer must reach for the pending request to make progress (a read-size hint).
    pub fn bytes_needed(&self) -> usize {
        self.pending.as_ref().map_or(0, |p| p.need)
    }

    /// Parses one request from the front of `buf`. A complete one stays there until
    /// [`RequestParser::consume`] (called here if the caller has not).
    pub fn next(&mut self, buf: &mut BytesMut, limits: Limits) -> Result<Parsed, ProtocolError> {
        self.consume(buf);
        if buf.is_empty() {
            return Ok(Parsed::Incomplete);
        }
        if self.pending.is_none() && buf[0] != b'*' {
            return self.parse_inline(buf, limits);
        }
        let mut p = match self.pending.take() {
            Some(p) => p,
            None => match start_multibulk(buf, limits)? {
                Header::Incomplete => return Ok(Parsed::Incomplete),
                Header::Empty(consumed) => {
                    buf.advance(consumed);
                    return Ok(Parsed::Empty);
                }
                Header::Start(argc, pos) => {
                    self.ranges.clear();
                    Pending {
                        argc,
                        seen: 0,
                        pos,
                        need: pos,
                        declared: 0,
                        discarding: false,
                        skip: 0,
                    }
                }
            },
        };
        if p.skip > 0 {
            let n = p.skip.min(buf.len());
            buf.advance(n);
            p.skip -= n;
            if p.skip > 0 {
                self.pending = Some(p);
                return Ok(Parsed::Incomplete);
            }
        }
        while p.seen < p.argc {
            match bulk_header(buf, p.pos, limits)? {
                None => {
                    p.need = p.pos + 1;
                    self.pending = Some(p);
                    return Ok(Parsed::Incomplete);
                }
                Some((data_start, len)) => {
                    let end = data_start + len + 2;
                    // Counted once the argument is taken: a payload arriving over several
                    // reads has its header read again each time.
                    let declared = p.declared.saturating_add(len as u64 + ARG_COST);
                    if !p.discarding && limits.max_request > 0 && declared > limits.max_request {
                        p.discarding = true;
                        self.drop_ranges();
                    }
                    if p.discarding {
                        p.declared = declared;
                        // Drop what was walked, then this argument's payload as it arrives.
                        p.seen += 1;
                        p.pos = 0;
                        p.need = 0;
                        if buf.len() >= end {
                            buf.advance(end);
                            continue;
                        }
                        p.skip = end - buf.len();
                        buf.clear();
                        self.pending = Some(p);
                        return Ok(Parsed::Incomplete);
                    }
                    if buf.len() < end {
                        p.need = end;
                        self.pending = Some(p);
                        return Ok(Parsed::Incomplete);
                    }
                    self.ranges.push((data_start, data_start + len));
                    p.declared = declared;
                    p.pos = end;
                    p.seen += 1;
                }
            }
        }
        if p.discarding {
            return Ok(Parsed::TooLarge);
        }
        self.ready = Some(Ready::Multibulk(p.pos));
        Ok(Parsed::Command)
    }

    /// The arguments of the request `next` reported complete, appended to `args`: slices of
    /// `buf` (which must be the buffer `next` parsed, not yet consumed) or of the parser.
    pub fn args<'a>(&'a self, buf: &'a [u8], args: &mut Vec<&'a [u8]>) {
        match self.ready {
            Some(Ready::Multibulk(_)) => {
                args.extend(self.ranges.iter().map(|&(s, e)| &buf[s..e]));
            }
            Some(Ready::Inline(_)) => args.extend(self.inline.iter().map(Vec::as_slice)),
            None => {}
        }
    }

    /// Drops the request `next` reported complete from the front of `buf`; nothing if none.
    pub fn consume(&mut self, buf: &mut BytesMut) {
        match self.ready.take() {
            Some(Ready::Multibulk(len)) => {
                buf.advance(len);
                self.drop_ranges();
            }
            Some(Ready::Inline(len)) => {
                buf.advance(len);
                self.inline.clear();
            }
            None => {}
        }
    }

    /// An empty argument vector for [`RequestParser::args`]; hand it back with
    /// [`RequestParser::keep_spare`] after [`unborrow`], and the next request reuses its
    /// allocation (one allocation and one free fewer per command).
    pub fn take_spare(&mut self) -> Vec<&'static [u8]> {
        std::mem::take(&mut self.spare)
    }

    /// Keeps an argument vector emptied by [`unborrow`] for the next request; a huge one is
    /// let go.
    pub fn keep_spare(&mut self, args: Vec<&'static [u8]>) {
        if args.capacity() <= KEPT_CAPACITY {
            self.spare = args;
        }
    }

    fn parse_inline(
        &mut self,
        buf: &mut BytesMut,
        limits: Limits,
    ) -> Result<Parsed, ProtocolError> {
        let Some(nl) = memchr(b'\n', buf) else {
            if buf.len() > INLINE_MAX {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(Parsed::Incomplete);
        };
        let mut text = &buf[..nl];
        if text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        let args = split_args(text).ok_or(ProtocolError::UnbalancedQuotes)?;
        if args.is_empty() {
            buf.advance(nl + 1);
            return Ok(Parsed::Empty);
        }
        // Counted as a multibulk request is: a tenant's limit may be below the line limit.
        let declared: u64 = args.iter().map(|a| a.len() as u64 + ARG_COST).sum();
        if limits.max_request > 0 && declared > limits.max_request {
            buf.advance(nl + 1);
            return Ok(Parsed::TooLarge);
        }
        self.inline = args;
        self.ready = Some(Ready::Inline(nl + 1));
        Ok(Parsed::Command)
    }

    /// Done with the current request's ranges.
    fn drop_ranges(&mut self) {
        self.ranges.clear();
        if self.ranges.capacity() > KEPT_CAPACITY {
            self.ranges.shrink_to(KEPT_CAPACITY);
        }
    }
}

/// Looks ahead at the complete multibulk requests at the front of `buf`, up to `max` of them,
/// without consuming anything: calls `f` with each one's second argument (the first key of
/// most commands), until `f` returns false. Stops at the first thing it does not take for a
/// plain complete request (inline command, partial frame, anything malformed), which the
/// parser then judges as usual. Walks at most `PEEK_ARGS` arguments in all, so a huge request arriving over many
/// reads is never walked again and again. Returns how many requests it walked.
pub fn peek_first_args<'a>(
    buf: &'a [u8],
    max: usize,
    mut f: impl FnMut(&'a [u8]) -> bool,
) -> usize {
    let mut pos = 0;
    let mut walked = 0;
    let mut budget = PEEK_ARGS;
    while walked < max && pos < buf.len() && buf[pos] == b'*' {
        let Some((argc, mut at)) = peek_number(buf, pos + 1) else {
            break;
        };
        let mut second = None;
        let mut complete = true;
        if argc > budget {
            break;
        }
        budget -= argc;
        for i in 0..argc {
            let Some((len, data)) = buf
                .get(at)
                .filter(|&&c| c == b'$')
                .and_then(|_| peek_number(buf, at + 1))
            else {
                complete = false;
                break;
            };
            let end = data.saturating_add(len).saturating_add(2);
            if end > buf.len() {
                complete = false;
                break;
            }
            if i == 1 {
                second = Some(&buf[data..data + len]);
            }
            at = end;
        }
        if !complete {
            break;
        }
        walked += 1;
        pos = at;
        if let Some(arg) = second {
            if !f(arg) {
                break;
            }
        }
    }
    walked
}

/// Most arguments `peek_first_args` walks in one call.
const PEEK_ARGS: usize = 256;

/// A small non-negative decimal ending in `\r\n` at `from`: its value and where the next
/// line starts. Its own loop rather than `find_crlf` + `parse_i64`: it runs for every header of
/// every pipelined batch, and that pair measured slower here (SET -P 16 A/B, 5 rounds: 1.09×
/// server CPU per request, within this machine's noise but not worth the risk).
fn peek_number(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut n: usize = 0;
    let mut i = from;
    while i < buf.len() && i - from < 20 {
        match buf[i] {
            c @ b'0'..=b'9' => n = n.checked_mul(10)?.checked_add(usize::from(c - b'0'))?,
            b'\r' if i > from && buf.get(i + 1) == Some(&b'\n') => return Some((n, i + 2)),
            _ => return None,
        }
        i += 1;
    }
    None
}

enum Header {
    Incomplete,
    Empty(usize),
    Start(usize, usize),
}

/// Finds `\r\n` starting at `from`; returns the index of `\r`.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let idx = memchr(b'\r', &buf[from..])? + from;
    // Redis also waits for the '\n' after '\r' to arrive.
    if idx + 1 < buf.len() {
        Some(idx)
    } else {
        None
    }
}

fn memchr(c: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == c)
}

/// Redis's `string2ll`: strict decimal, optional '-', no '+', no spaces, no leading zeros.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = (c - b'0') as i64;
        v = if neg {
            v.checked_mul(10)?.checked_sub(d)?
        } else {
            v.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(v)
}

fn start_multibulk(buf: &[u8], limits: Limits) -> Result<Header, ProtocolError> {
    let Some(cr) = find_crlf(buf, 1) else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError::TooBigMbulkCount);
        }
        return Ok(Header::Incomplete);
    };
    if cr > INLINE_MAX {
        return Err(ProtocolError::TooBigMbulkCount);
    }
    let n = parse_i64(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
    if n > i32::MAX as i64 {
        return Err(ProtocolError::InvalidMultibulkLength);
    }
    if n > UNAUTH_MAX_MULTIBULK && !limits.authenticated {
        return Err(ProtocolError::UnauthenticatedMultibulkLength);
    }
    if n <= 0 {
        return Ok(Header::Empty(cr + 2));
    }
    Ok(Header::Start(n as usize, cr + 2))
}

/// Parses the `$<len>\r\n` at `pos`: returns where the data starts and its length.
fn bulk_header(
    buf: &[u8],
    pos: usize,
    limits: Limits,
) -> Result<Option<(usize, usize)>, ProtocolError> {
    if pos >= buf.len() {
        return Ok(None);
    }
    let Some(cr) = find_crlf(buf, pos) else {
        if buf.len() - pos > INLINE_MAX {
            return Err(ProtocolError::TooBigBulkCount);
        }
        return Ok(None);
    };
    if buf[pos] != b'$' {
        return Err(ProtocolError::ExpectedDollar(buf[pos]));
    }
    if cr - pos > INLINE_MAX {
        return Err(ProtocolError::TooBigBulkCount);
    }
    let len = parse_i64(&buf[pos + 1..cr]).ok_or(ProtocolError::InvalidBulkLength)?;
    if len < 0 || len > limits.max_bulk_len {
        return Err(ProtocolError::InvalidBulkLength);
    }
    if len > UNAUTH_MAX_BULK && !limits.authenticated {
        return Err(ProtocolError::UnauthenticatedBulkLength);
    }
    Ok(Some((cr + 2, len as usize)))
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Redis's `sdssplitargs`: whitespace-separated words, `"..."` with C escapes (`\n`, `\xHH`, ...)
/// and `'...'` with only `\'`. A closing quote must be followed by a space or the end.
/// Returns `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = line.get(i).copied();
            if in_dq {
                match c {
                    None => return None,
                    Some(b'\\') if i + 3 < line.len() && line[i + 1] == b'x' => {
                        match (hex_val(line[i + 2]), hex_val(line[i + 3])) {
                            (Some(h), Some(l)) => {
                                cur.push(h * 16 + l);
                                i += 3;
                            }
                            _ => cur.push(b'\\'),
                        }
                    }
                    Some(b'\\') if i + 1 < line.len() => {
                        i += 1;
                        cur.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if i + 1 < line.len() && !is_space(line[i + 1]) {
                            return None;
                        }
                        in_dq = false;
                        i += 1;
                        break;
                    }
                    Some(other) => cur.push(other),
                }
            } else if in_sq {
                match c {
                    None => return None,
                    Some(b'\\') if i + 1 < line.len() && line[i + 1] == b'\'' => {
                        i += 1;
                        cur.push(b'\'');
                    }
                    Some(b'\'') => {
                        if i + 1 < line.len() && !is_space(line[i + 1]) {
                            return None;
                        }
                        in_sq = false;
                        i += 1;
                        break;
                    }
                    Some(other) => cur.push(other),
                }
            } else {
                match c {
                    None => break,
                    Some(ch) if is_space(ch) => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(other) => cur.push(other),
                }
            }
            i += 1;
        }
        let _ = (in_dq, in_sq);
        args.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        max_bulk_len: 512 * 1024 * 1024,
        authenticated: true,
        max_request: 0,
    };

    #[test]
    fn spare_vectors_are_reused_and_huge_ones_let_go() {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n"[..]);
        assert!(matches!(p.next(&mut buf, L).unwrap(), Parsed::Command));
        let mut first = p.take_spare();
        p.args(&buf, &mut first);
        assert_eq!(first, [&b"GET"[..], b"k"]);
        let at = first.as_ptr() as usize;
        let spare = unborrow(first);
        p.keep_spare(spare);
        p.consume(&mut buf);
        assert!(matches!(p.next(&mut buf, L).unwrap(), Parsed::Command));
        let mut second = p.take_spare();
        p.args(&buf, &mut second);
        assert_eq!(second, [&b"PING"[..]]);
        assert_eq!(
            second.as_ptr() as usize,
            at,
            "the spare vector holds the next request"
        );
        p.keep_spare(unborrow(second));
        // A request of many arguments leaves no big vector behind.
        let n = 5 * KEPT_CAPACITY;
        let mut wire = format!("*{n}\r\n").into_bytes();
        for _ in 0..n {
            wire.extend_from_slice(b"$1\r\nx\r\n");
        }
        buf.extend_from_slice(&wire);
        assert!(matches!(p.next(&mut buf, L).unwrap(), Parsed::Command));
        let mut big = p.take_spare();
        p.args(&buf, &mut big);
        assert_eq!(big.len(), n);
        p.keep_spare(unborrow(big));
        p.consume(&mut buf);
        assert!(buf.is_empty());
        assert!(p.spare.capacity() <= KEPT_CAPACITY);
        assert!(p.ranges.capacity() <= KEPT_CAPACITY);
    }

    #[test]
    fn a_request_stays_in_the_buffer_until_consumed() {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\nECHO \"a b\"\r\n"[..]);
        assert!(matches!(p.next(&mut buf, L).unwrap(), Parsed::Command));
        assert_eq!(buf.len(), 26);
        p.consume(&mut buf);
        p.consume(&mut buf); // a second consume drops nothing more
        assert_eq!(&buf[..], b"ECHO \"a b\"\r\n");
        // An inline command's arguments are unquoted, so they live in the parser.
        assert!(matches!(p.next(&mut buf, L).unwrap(), Parsed::Command));
        let mut args = Vec::new();
        p.args(&buf, &mut args);
        assert_eq!(args, [&b"ECHO"[..], b"a b"]);
        // `next` consumes what the caller left.
        assert!(matches!(p.next(&mut buf, L).unwrap(), Parsed::Incomplete));
        assert!(buf.is_empty());
    }

    #[test]
    fn oversized_request_is_dropped_without_buffering_and_the_stream_stays_in_sync() {
        // SET and k fit (36 with their costs); the 100-byte value does not.
        let limits = Limits {
            max_request: 50,
            ..L
        };
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\n"[..]);
        buf.extend_from_slice(&[b'x'; 40]);
        assert!(matches!(
            p.next(&mut buf, limits).unwrap(),
            Parsed::Incomplete
        ));
        // Nothing of the oversized payload is kept.
        assert!(buf.is_empty(), "{} bytes kept", buf.len());
        assert_eq!(p.bytes_needed(), 0);
        buf.extend_from_slice(&[b'x'; 60]);
        buf.extend_from_slice(b"\r\n*1\r\n$4\r\nPING\r\n");
        assert!(matches!(
            p.next(&mut buf, limits).unwrap(),
            Parsed::TooLarge
        ));
        assert!(matches!(p.next(&mut buf, limits).unwrap(), Parsed::Command));
        let mut a = Vec::new();
        p.args(&buf, &mut a);
        assert_eq!(a, [&b"PING"[..]]);
    }

    #[test]
    fn a_request_under_the_limit_arriving_in_pieces_is_taken() {
        // SET, k and 100 bytes: 104 bytes, 152 with each argument's cost.
        let limits = Limits {
            max_request: 160,
            ..L
        };
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\n"[..]);
        // The payload in ten reads: its header is read again each time, counted once.
        for _ in 0..10 {
            assert!(matches!(
                p.next(&mut buf, limits).unwrap(),
                Parsed::Incomplete
            ));
            buf.extend_from_slice(&[b'x'; 10]);
        }
        buf.extend_from_slice(b"\r\n");
        assert!(matches!(p.next(&mut buf, limits).unwrap(), Parsed::Command));
        assert_eq!(command_args(&p, &buf)[2].len(), 100);
    }

    #[test]
    fn an_inline_request_counts_toward_the_request_size_as_a_multibulk_one_does() {
        // SET, k and 20 bytes: 24 bytes, 72 with each argument's cost.
        let line = format!("SET k {}\r\nPING\r\n", "x".repeat(20));
        for (max_request, taken) in [(71, false), (72, true)] {
            let limits = Limits { max_request, ..L };
            let mut p = RequestParser::default();
            let mut buf = BytesMut::from(line.as_bytes());
            let first = p.next(&mut buf, limits).unwrap();
            assert_eq!(matches!(first, Parsed::Command), taken, "{max_request}");
            assert_eq!(matches!(first, Parsed::TooLarge), !taken, "{max_request}");
            // The stream stays in sync either way.
            assert!(matches!(p.next(&mut buf, limits).unwrap(), Parsed::Command));
            assert_eq!(command_args(&p, &buf), [b"PING".to_vec()]);
        }
    }

    #[test]
    fn empty_arguments_count_toward_the_request_size() {
        let limits = Limits {
            max_request: 1000,
            ..L
        };
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*5000001\r\n$6\r\nEXISTS\r\n"[..]);
        for _ in 0..100 {
            buf.extend_from_slice(b"$0\r\n\r\n");
        }
        // 100 empty arguments cost 1600: the request is being dropped, not kept.
        assert!(matches!(
            p.next(&mut buf, limits).unwrap(),
            Parsed::Incomplete
        ));
        assert!(buf.is_empty(), "{} bytes kept", buf.len());
    }

    fn command_args(p: &RequestParser, buf: &[u8]) -> Vec<Vec<u8>> {
        let mut a = Vec::new();
        p.args(buf, &mut a);
        a.iter().map(|b| b.to_vec()).collect()
    }

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut buf = BytesMut::from(input);
        let mut p = RequestParser::default();
        let mut out = Vec::new();
        loop {
            match p.next(&mut buf, L)? {
                Parsed::Command => out.push(command_args(&p, &buf)),
                Parsed::Empty | Parsed::TooLarge => {}
                Parsed::Incomplete => return Ok(out),
            }
        }
    }

    #[test]
    fn multibulk_and_pipelining() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(
            cmds,
            vec![vec![b"GET".to_vec(), b"k".to_vec()], vec![b"PING".to_vec()]]
        );
    }

    #[test]
    fn incremental_arrival() {
        let whole = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        let mut buf = BytesMut::new();
        let mut p = RequestParser::default();
        for (i, b) in whole.iter().enumerate() {
            buf.extend_from_slice(&[*b]);
            let r = p.next(&mut buf, L).unwrap();
            if i + 1 < whole.len() {
                assert!(matches!(r, Parsed::Incomplete), "at {i}");
            } else {
                assert!(matches!(r, Parsed::Command));
                assert_eq!(command_args(&p, &buf).len(), 3);
            }
        }
    }

    #[test]
    fn inline_quoting() {
        assert_eq!(
            split_args(b"set \"a b\" 'c\\'d' \"\\x41\\n\"").unwrap(),
            vec![
                b"set".to_vec(),
                b"a b".to_vec(),
                b"c'd".to_vec(),
                b"A\n".to_vec()
            ]
        );
        assert!(split_args(b"get \"abc").is_none());
        assert!(split_args(b"get \"abc\"x").is_none());
        assert_eq!(parse_all(b"PING\r\n\r\nECHO x\n").unwrap().len(), 2);
    }

    #[test]
    fn limits_and_malformed() {
        assert_eq!(
            parse_all(b"*abc\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\n+OK\r\n"),
            Err(ProtocolError::ExpectedDollar(b'+'))
        );
        assert_eq!(
            parse_all(b"*1\r\n*1\r\n"),
            Err(ProtocolError::ExpectedDollar(b'*'))
        );
        assert_eq!(
            parse_all(b"*1\r\n$-1\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\n$999999999999\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(b"*3000000000\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        let long = vec![b'a'; INLINE_MAX + 10];
        assert_eq!(parse_all(&long), Err(ProtocolError::TooBigInline));
        let mut star = b"*".to_vec();
        star.extend(vec![b'1'; INLINE_MAX + 10]);
        assert_eq!(parse_all(&star), Err(ProtocolError::TooBigMbulkCount));
        let unauth = Limits {
            authenticated: false,
            ..L
        };
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            RequestParser::default().next(&mut buf, unauth).unwrap_err(),
            ProtocolError::UnauthenticatedMultibulkLength
        );
    }

    /// Our framing must agree with `redis-protocol`'s decoder on every well-formed request,
    /// including when it arrives split at every possible point.
    #[test]
    fn agrees_with_redis_protocol() {
        use redis_protocol::resp2::{decode::decode, types::OwnedFrame};
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..500 {
            let argc = rng.usize(1..6);
            let args: Vec<Vec<u8>> = (0..argc)
                .map(|_| (0..rng.usize(0..40)).map(|_| rng.u8(..)).collect())
                .collect();
            let mut wire = format!("*{argc}\r\n").into_bytes();
            for a in &args {
                wire.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                wire.extend_from_slice(a);
                wire.extend_from_slice(b"\r\n");
            }
            let (frame, used) = decode(&wire).unwrap().unwrap();
            assert_eq!(used, wire.len());
            let oracle: Vec<Vec<u8>> = match frame {
                OwnedFrame::Array(items) => items
                    .into_iter()
                    .map(|f| match f {
                        OwnedFrame::BulkString(b) => b,
                        other => panic!("unexpected {other:?}"),
                    })
                    .collect(),
                other => panic!("unexpected {other:?}"),
            };
            let cut = rng.usize(0..wire.len());
            let mut buf = BytesMut::from(&wire[..cut]);
            let mut p = RequestParser::default();
            let first = p.next(&mut buf, L).unwrap();
            if cut < wire.len() {
                assert!(matches!(first, Parsed::Incomplete));
                buf.extend_from_slice(&wire[cut..]);
            }
            let ours = match p.next(&mut buf, L).unwrap() {
                Parsed::Command => command_args(&p, &buf),
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(ours, oracle);
            p.consume(&mut buf);
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"012"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    }

    fn peeked(buf: &[u8], max: usize) -> (usize, Vec<Vec<u8>>) {
        let mut seen = Vec::new();
        let n = peek_first_args(buf, max, |a| {
            seen.push(a.to_vec());
            true
        });
        (n, seen)
    }

    #[test]
    fn peek_walks_complete_requests_and_stops_at_anything_else() {
        let two = b"*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n";
        assert_eq!(peeked(two, 32), (2, vec![b"k1".to_vec(), b"k2".to_vec()]));
        // At most `max` requests.
        assert_eq!(peeked(two, 1), (1, vec![b"k1".to_vec()]));
        // A one-argument request is walked but has no second argument.
        assert_eq!(peeked(b"*1\r\n$4\r\nPING\r\n", 32), (1, vec![]));
        // Binary and empty arguments are taken as they are.
        assert_eq!(
            peeked(
                b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$3\r\na\r\n\r\n",
                32
            ),
            (2, vec![b"".to_vec(), b"a\r\n".to_vec()])
        );
        // The caller can end the walk.
        let mut calls = 0;
        assert_eq!(
            peek_first_args(two, 32, |_| {
                calls += 1;
                false
            }),
            1
        );
        assert_eq!(calls, 1);
        // A request with more arguments than one walk takes ends it.
        let mut big = b"*300\r\n".to_vec();
        for _ in 0..300 {
            big.extend_from_slice(b"$1\r\nk\r\n");
        }
        assert_eq!(peeked(&big, 32).0, 0);
        let mut after = two.to_vec();
        after.extend_from_slice(&big);
        assert_eq!(peeked(&after, 32).0, 2);
        // A partial request ends the walk; what came before it counts.
        let mut partial = two.to_vec();
        partial.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$5\r\nab");
        assert_eq!(peeked(&partial, 32).0, 2);
        // Inline commands, malformed headers and absurd lengths are left to the parser.
        for bad in [
            &b"GET k\r\n"[..],
            b"*x\r\n",
            b"*2\r\n$3\r\nGET\r\n:1\r\n",
            b"*-1\r\n",
            b"*2\r\n$99999999999999999999999\r\n",
            b"*2\r\n$3\r\nGET\r\n$18446744073709551615\r\nk\r\n",
            b"*2\r",
            b"",
        ] {
            assert_eq!(
                peeked(bad, 32),
                (0, vec![]),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
