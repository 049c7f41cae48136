//! Query and reply buffers lent to a connection only while it holds input or output.
//!
//! A server hosting thousands of tenants' connections holds most of them idle. Redis 8 stops
//! giving each idle client a query buffer of its own (its "reusable query buffer"); here both
//! of a connection's buffers go back to a per-thread stock of spares as soon as they are empty
//! between batches, and a connection takes one again when its socket becomes readable (or a
//! Pub/Sub message is to be written). An idle connection then holds no buffer at all, and a
//! busy thread reuses a few warm ones instead of touching one per connection.
//!
//! A connection keeps its buffer while it holds part of a request, unwritten replies, or a
//! blocked command's later input: nothing in hand is ever moved or shared.

use bytes::BytesMut;
use std::cell::RefCell;

/// The size of a lent buffer, and of one read.
pub const CHUNK: usize = 16 * 1024;
/// Spares of each kind one thread keeps: enough for every connection a poll of the sockets
/// makes ready together to hold its replies until they are written (see
/// `server::connection`), without keeping much memory (64 × 16 KiB).
const SPARES: usize = 64;
/// A buffer grown past this for a big request or reply is freed instead of kept.
const KEEP_UP_TO: usize = 2 * CHUNK;

/// One thread's spare buffers of one kind.
pub struct Spares(RefCell<Vec<BytesMut>>);

thread_local! {
    pub static QUERY: Spares = const { Spares(RefCell::new(Vec::new())) };
    pub static REPLY: Spares = const { Spares(RefCell::new(Vec::new())) };
}

impl Spares {
    /// Gives `buf` a buffer if it has none.
    pub fn lend(&self, buf: &mut BytesMut) {
        if buf.capacity() == 0 {
            *buf = self
                .0
                .borrow_mut()
                .pop()
                .unwrap_or_else(|| BytesMut::with_capacity(CHUNK));
        }
    }

    /// Takes `buf`'s buffer back if it is empty, leaving it with none.
    pub fn give_back(&self, buf: &mut BytesMut) {
        if !buf.is_empty() || buf.capacity() == 0 {
            return;
        }
        let mut spare = std::mem::take(buf);
        // A consumed query buffer has moved its start to its end: move it back, in place.
        // This fails only if some `Bytes` still shares the allocation; then it is not a spare.
        if spare.try_reclaim(CHUNK) && spare.capacity() <= KEEP_UP_TO {
            let mut spares = self.0.borrow_mut();
            if spares.len() < SPARES {
                spares.push(spare);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;

    #[test]
    fn an_empty_buffer_goes_back_and_is_lent_again() {
        let spares = Spares(RefCell::new(Vec::new()));
        let mut a = BytesMut::new();
        spares.lend(&mut a);
        assert_eq!(a.capacity(), CHUNK);
        a.extend_from_slice(b"PING\r\n");
        let at = a.as_ptr();
        // Holding input: kept.
        spares.give_back(&mut a);
        assert_eq!(a.len(), 6);
        a.advance(6);
        spares.give_back(&mut a);
        assert_eq!(a.capacity(), 0);
        let mut b = BytesMut::new();
        spares.lend(&mut b);
        assert_eq!((b.as_ptr(), b.capacity()), (at, CHUNK));
    }

    #[test]
    fn a_grown_buffer_is_freed_not_kept() {
        let spares = Spares(RefCell::new(Vec::new()));
        let mut big = BytesMut::with_capacity(8 * CHUNK);
        spares.give_back(&mut big);
        assert_eq!(big.capacity(), 0);
        assert!(spares.0.borrow().is_empty());
    }
}
