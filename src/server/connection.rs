//! One task per connection: read, frame, dispatch, encode, write.
//!
//! Everything in the read buffer is parsed and executed before the replies are written with a
//! single `write_all`, which is what makes pipelining fast. Command errors become error replies
//! and the connection lives on; framing errors and I/O errors close it.
//!
//! A subscribed connection also waits on its Pub/Sub outbox (`server::pubsub`): messages
//! published while it is idle are written as soon as they arrive.

use super::buffers::{self, QUERY, REPLY};
use super::pubsub::{OutputLimit, Subscriber};
use super::session::{ClientHandle, ReplyMode, Session, UNBLOCK_ERROR, UNBLOCK_TIMEOUT};
use super::Server;
use crate::command::{dispatch, tenancy};
use crate::config::params::{COB_NORMAL, COB_PUBSUB};
use crate::protocol::args;
use crate::protocol::request::{peek_first_args, unborrow, Limits, Parsed, RequestParser};
use crate::protocol::CmdError;
use crate::protocol::{encode, Reply};
use crate::storage::keyspace::WARM_MAX;
use crate::storage::now_ms;
use crate::storage::watch;
use crate::tenant::quota::Resource;
use bytes::BytesMut;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::futures::Notified;
use tracing::debug;

const READ_CHUNK: usize = buffers::CHUNK;
/// Output buffers above this are released after a write so one huge reply does not pin memory.
const KEEP_OUT_CAPACITY: usize = 1024 * 1024;

pub async fn serve(server: Arc<Server>, mut stream: TcpStream, peer: SocketAddr) {
    server.stats.connections_received.fetch_add(1, Relaxed);
    let _ = stream.set_nodelay(true);
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let id = server.next_client_id();
    let handle = Arc::new(ClientHandle::new(id, peer.to_string(), laddr, now_ms()));

    let maxclients = server.params.maxclients().max(0) as usize;
    if server.clients.len() >= maxclients {
        server.stats.rejected_connections.fetch_add(1, Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    server.clients.insert(id, handle.clone());
    // Deregisters the client however the task ends, a panic included, so a crash can never
    // leave a ghost entry holding a `maxclients` slot.
    let _registered = Registered(&server, id);
    let authenticated = !server.auth_required();
    let session = Session::new(
        handle.clone(),
        server.storage.global.clone(),
        authenticated,
        server.started,
    );
    run(&server, &mut stream, session).await;
    let _ = stream.shutdown().await;
}

struct Registered<'a>(&'a Server, u64);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.0.clients.remove(&self.1);
    }
}

async fn run(server: &Arc<Server>, stream: &mut TcpStream, mut session: Session) {
    let handle = session.handle.clone();
    // Lent only while in use (`server::buffers`).
    let mut inbuf = BytesMut::new();
    let mut out = BytesMut::new();
    let mut parser = RequestParser::default();
    let mut guard = OutputGuard::default();
    let killed = handle.kill_signal.notified();
    tokio::pin!(killed);

    loop {
        if handle.is_killed() {
            return;
        }
        // Waiting for input, a connection with nothing in hand holds no buffer.
        REPLY.with(|r| r.give_back(&mut out));
        if parser.is_idle() {
            QUERY.with(|q| q.give_back(&mut inbuf));
        }
        // A subscribed connection also wakes for messages published while it is idle.
        let sub = session.pubsub.as_ref().map(|p| p.sub.clone());
        // Idle clients are closed by the server cron (`timeout`), which kills them. Biased
        // (no random branch order to draw per request): a kill is also checked at the top of
        // the loop, and a subscriber's messages go out after every command it runs.
        let n = tokio::select! {
            biased;
            r = read_input(stream, &mut inbuf, parser.bytes_needed()) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = &mut killed => return,
            _ = outbox_ready(sub.as_deref()) => {
                // The clock of a batch long past would not see a token expire meanwhile.
                if !tenancy::may_receive(server, &mut session, now_ms()) {
                    return;
                }
                REPLY.with(|r| r.lend(&mut out));
                if let Some(s) = &sub {
                    s.drain_into(&mut out);
                }
                if !write_out(server, stream, &mut out, sub.as_deref(), killed.as_mut()).await {
                    return;
                }
                continue;
            }
        };
        server.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
        if let Some(bp) = &server.busy_poll {
            bp.activity();
        }
        if inbuf.len() as i64 > server.params.client_query_buffer_limit() {
            debug!(
                client = handle.id,
                "closing client that reached the query buffer limit"
            );
            return;
        }

        REPLY.with(|r| r.lend(&mut out));
        // Replies are written when the input is used up, or earlier when they pass
        // `FLUSH_AT`: a pipeline of big GETs must not build one unbounded output buffer.
        loop {
            session.begin_batch();
            // The batch's clock, not a clock read of its own: reads show in -P 1 profiles.
            handle.last_ms.store(session.clock.now_ms(), Relaxed);
            let step = process_input(
                server,
                &mut session,
                &mut parser,
                &mut inbuf,
                &mut out,
                &mut guard,
            );
            // Never held across an await: other connections' EXEC waits for it.
            session.release_gate();
            tenancy::pace_admitted(&mut session);
            session.pipelining = session.counters.commands > 1 || !inbuf.is_empty();
            session.flush_counters(server);
            session.settle_memory();
            session.settle_state_charge();
            session.publish_state();
            // Used up: back to the spares (one grown for a big request is freed), so CLIENT
            // LIST shows an idle connection holding no query buffer, as Redis 8 does.
            if parser.is_idle() {
                QUERY.with(|q| q.give_back(&mut inbuf));
            }
            let st = &handle.state;
            st.qbuf.store(inbuf.len(), Relaxed);
            st.qbuf_free.store(inbuf.capacity() - inbuf.len(), Relaxed);
            if step == Step::Overflow {
                debug!(
                    client = handle.id,
                    pending = out.len(),
                    "closing client over its output buffer limit"
                );
                return;
            }
            // Replies wait until every connection that became readable with this one has been
            // read and served, as Redis writes them all in `beforeSleep`: the client, woken
            // by the first reply, then finds the others already there, instead of being woken
            // (and going back to sleep) once per reply. Yielding defers this task until the
            // runtime has polled for I/O again. Measured: -P 16 -c 50 throughput +15-20% with
            // ~15% less CPU per command. Large replies go out at once: their client spends
            // longer reading them than a wake-up costs, and holding them only delays its next
            // request (LRANGE_100 -P 16: -30% ops/s, +10% CPU per command when deferred).
            // A connection that just blocked is parked (a key pushed now is handed to it), so
            // its earlier replies go out at once; if its peer is not reading them, it gives
            // up the park while it waits for the peer, so it holds nobody back.
            let blocked = step == Step::Blocked;
            if (out.len() < DEFER_BELOW || step == Step::Yield) && !blocked {
                tokio::task::yield_now().await;
            }
            let sub = session.pubsub.as_ref().map(|p| p.sub.clone());
            if blocked && !write_now(server, stream, &mut out) {
                session.block_signal.unpark();
                if !write_out(server, stream, &mut out, sub.as_deref(), killed.as_mut()).await {
                    return;
                }
                session.block_signal.park();
            }
            if !write_out(server, stream, &mut out, sub.as_deref(), killed.as_mut()).await {
                return;
            }
            if step == Step::Close || session.closing {
                return;
            }
            if step == Step::Blocked {
                match wait_blocked(
                    server,
                    stream,
                    &mut session,
                    &mut inbuf,
                    &mut out,
                    &mut killed,
                )
                .await
                {
                    Some(()) => continue,
                    None => return,
                }
            }
            if let Some(until) = session.throttle_until.take() {
                tokio::select! {
                    _ = tokio::time::sleep_until(until.into()) => {}
                    _ = &mut killed => return,
                }
                // Paced connections resume together on a timer tick; requests of other
                // tenants that arrive over the next two I/O polls go first. A/B in the
                // noisy-neighbour bench, victim's p99 under attack: no yield 255-321 µs, one
                // 198-222 µs, two 170-229 µs (median 185), four 215-221 µs.
                for _ in 0..2 {
                    tokio::task::yield_now().await;
                }
            }
            if step == Step::NeedInput {
                break;
            }
        }
    }
}

/// Waits for a parked connection's keys, its timeout, CLIENT UNBLOCK, or the client leaving;
/// writes the reply. Input arriving meanwhile is buffered, not run (as Redis does). None: close.
async fn wait_blocked(
    server: &Arc<Server>,
    stream: &mut TcpStream,
    session: &mut Session,
    inbuf: &mut BytesMut,
    out: &mut BytesMut,
    killed: &mut std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
) -> Option<()> {
    let handle = session.handle.clone();
    let _waiting = handle.waiting();
    // Written out before the wait: a blocked client holds no reply buffer while it waits.
    REPLY.with(|r| r.give_back(out));
    loop {
        let (signal, deadline) = {
            let b = session.blocked.as_ref().expect("blocked");
            (b.signal.clone(), b.deadline)
        };
        let timeout = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = signal.wait() => {
                // Held until the command has run: the store's other connections wait for it.
                let handoff = signal.take_handoff();
                // Still in the keys' queues while it runs again: if it must wait once more
                // (nothing it can take), it waits where it was, as in Redis.
                let mut b = session.blocked.take().expect("blocked");
                let (args, deadline) = (std::mem::take(&mut b.args), b.deadline);
                session.begin_batch();
                session.rewoken = true;
                let reply = dispatch::dispatch(server, session, &args::borrowed(&args));
                session.rewoken = false;
                session.release_gate();
                session.flush_counters(server);
                if let Some(again) = session.blocked.as_mut() {
                    again.deadline = deadline;
                    b.waits_again = true;
                    drop((b, handoff));
                    continue;
                }
                // Served: it leaves the queues.
                b.served = true;
                let keys = b.keys.clone();
                drop(b);
                if reply.is_error() {
                    // Served with an error (BLMOVE into a key of the wrong type): nothing was
                    // taken, so the wake-up goes to the next client waiting on the keys.
                    for (ks, k) in &keys {
                        ks.watchers.touch(k);
                    }
                }
                drop(handoff);
                write_reply(session, Some(&reply), out);
            }
            _ = timeout => end_wait(server, session, None, out),
            _ = handle.unblock_signal.notified() => {
                // CLIENT UNBLOCK: the wait ends as on timeout, or with Redis's error.
                let reply = match handle.unblock.load(Relaxed) {
                    UNBLOCK_TIMEOUT => None,
                    UNBLOCK_ERROR => Some(Reply::Error(CmdError::err(
                        "UNBLOCKED client unblocked via CLIENT UNBLOCK",
                    ))),
                    // A wake-up left over from an earlier wait.
                    _ => continue,
                };
                end_wait(server, session, reply, out);
            }
            r = read_input(stream, inbuf, 0) => {
                match r {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => {
                        server.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
                        if inbuf.len() as i64 > server.params.client_query_buffer_limit() {
                            return None;
                        }
                        continue;
                    }
                }
            }
            _ = killed.as_mut() => return None,
        }
        let sub = session.pubsub.as_ref().map(|p| p.sub.clone());
        return write_out(server, stream, out, sub.as_deref(), killed.as_mut())
            .await
            .then_some(());
    }
}

/// Ends a blocked wait that nothing served: with `reply`, or the command's timeout reply. The
/// command counts once now (Redis's `updateStatsOnUnblock`).
fn end_wait(server: &Server, session: &mut Session, reply: Option<Reply>, out: &mut BytesMut) {
    let mut b = session.blocked.take().expect("blocked");
    let reply = reply.unwrap_or_else(|| std::mem::replace(&mut b.on_timeout, Reply::Nil));
    drop(b);
    let id = session.handle.last_cmd.load(Relaxed);
    session.counters.record_call(id, 0, reply.is_error());
    session.flush_counters(server);
    write_reply(session, Some(&reply), out);
}

/// Reads what the socket has into `inbuf`, lending it a buffer only once there is something
/// to read, sized for the pending request (a big bulk arrives in large reads, not 16 KiB
/// ones). Readiness comes from `poll_read_ready`, whose waker has a slot of its own, not from
/// `readable()`, whose waiters are listed under a lock the I/O driver takes to wake them
/// (measured: 5-7% more CPU per request at -P 16). Stale readiness (the read would block)
/// is cleared and waited out here, as `read_buf` does, not by a turn of the caller's loop.
async fn read_input(
    stream: &TcpStream,
    inbuf: &mut BytesMut,
    needed: usize,
) -> std::io::Result<usize> {
    std::future::poll_fn(|cx| loop {
        std::task::ready!(stream.poll_read_ready(cx))?;
        let lent = inbuf.capacity() == 0;
        QUERY.with(|q| q.lend(inbuf));
        let want = needed
            .saturating_sub(inbuf.len())
            .clamp(READ_CHUNK, 4 * 1024 * 1024);
        if inbuf.capacity() - inbuf.len() < want / 2 {
            inbuf.reserve(want);
        }
        match stream.try_read_buf(inbuf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if lent {
                    QUERY.with(|q| q.give_back(inbuf));
                }
            }
            r => return std::task::Poll::Ready(r),
        }
    })
    .await
}

/// Resolves when a subscriber's outbox has data; never without a subscriber.
async fn outbox_ready(sub: Option<&Subscriber>) {
    match sub {
        Some(s) => s.wake.notified().await,
        None => std::future::pending().await,
    }
}

/// Writes `out` and clears it; false when the connection must close (I/O error, or killed
/// while the peer was not reading: a slow subscriber dropped over its output limit must not
/// keep its task parked on a write forever). While the write is pending its bytes count
/// against a subscriber's output limit.
async fn write_out(
    server: &Server,
    stream: &mut TcpStream,
    out: &mut BytesMut,
    sub: Option<&Subscriber>,
    killed: Pin<&mut Notified<'_>>,
) -> bool {
    if out.is_empty() {
        return true;
    }
    if let Some(s) = sub {
        s.set_in_flight(out.len());
    }
    // Biased: a write that completes at once is never cut short by a kill that arrived
    // meanwhile (the killed connection's last reply still goes out, as before).
    let written = tokio::select! {
        biased;
        r = stream.write_all(out) => r.is_ok(),
        _ = killed => false,
    };
    if let Some(s) = sub {
        s.set_in_flight(0);
    }
    if !written {
        return false;
    }
    server
        .stats
        .net_output_bytes
        .fetch_add(out.len() as u64, Relaxed);
    out.clear();
    if out.capacity() > KEEP_OUT_CAPACITY {
        *out = BytesMut::with_capacity(READ_CHUNK);
    }
    true
}

/// Writes what of `out` the socket takes without waiting; true once all of it is written.
fn write_now(server: &Server, stream: &TcpStream, out: &mut BytesMut) -> bool {
    while !out.is_empty() {
        match stream.try_write(out) {
            Ok(0) => return false,
            Ok(n) => {
                server.stats.net_output_bytes.fetch_add(n as u64, Relaxed);
                bytes::Buf::advance(out, n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Would block, or an error the awaited write will meet again.
            Err(_) => return false,
        }
    }
    out.clear();
    true
}

/// The connection's own check of `client-output-buffer-limit` (class `normal`, or `pubsub`
/// while subscribed) on the replies of a batch; publishers check a subscriber's queued
/// messages themselves as they add them.
#[derive(Default)]
struct OutputGuard {
    soft_since: Option<std::time::Instant>,
}

impl OutputGuard {
    fn exceeded(&mut self, server: &Server, session: &Session, pending: usize) -> bool {
        let class = if session.subscribed() {
            COB_PUBSUB
        } else {
            COB_NORMAL
        };
        OutputLimit::of(&server.params, class).exceeded(pending as u64, &mut self.soft_since)
    }
}

/// Output past which a batch stops to write before running more commands.
const FLUSH_AT: usize = 1024 * 1024;

/// Output up to which a batch's replies wait for the runtime's next I/O poll.
const DEFER_BELOW: usize = 4096;

#[derive(PartialEq, Eq)]
enum Step {
    /// Every complete request ran: read more.
    NeedInput,
    /// The output passed `FLUSH_AT`: write it, then run the rest.
    Flush,
    /// A blocked client was handed a key: let it run, then run the rest.
    Yield,
    /// A framing error: close.
    Close,
    /// A blocking command parked the connection: wait, then run the rest.
    Blocked,
    /// The output broke `client-output-buffer-limit`: close without writing it.
    Overflow,
}

/// Before a pipelined batch runs: brings the first keys of its requests into the cache, so
/// their misses overlap instead of stalling each command in turn (see `Keyspace::warm`).
fn warm_keys(session: &Session, inbuf: &[u8]) {
    let mut keys: [&[u8]; WARM_MAX] = [&[]; WARM_MAX];
    let mut n = 0;
    peek_first_args(inbuf, WARM_MAX, |k| {
        if n > 0 && keys[n - 1] == k {
            // A pipeline that opens with one key twice is taken for a pipeline on one hot key
            // (LPUSH after LPUSH): nothing to warm, and no use walking the rest of it.
            return n > 1;
        }
        keys[n] = k;
        n += 1;
        true
    });
    if n >= 2 {
        if let Some(ks) = session.store.db_if_created(session.db) {
            ks.warm(&keys[..n]);
        }
    }
}

/// Parses and executes the complete requests in `inbuf`, appending replies to `out`, until the
/// input is used up, the output passes `FLUSH_AT`, or a framing error.
fn process_input(
    server: &Arc<Server>,
    session: &mut Session,
    parser: &mut RequestParser,
    inbuf: &mut BytesMut,
    out: &mut BytesMut,
    guard: &mut OutputGuard,
) -> Step {
    session.query = (inbuf.len(), inbuf.capacity() - inbuf.len());
    // Nothing is looked up for a client that has not authenticated yet.
    if parser.is_idle() && session.authenticated && session.pipelining {
        warm_keys(session, inbuf);
    }
    loop {
        // A blocked client that a write of this store (this connection's last command,
        // perhaps) handed a key runs first, as Redis serves it inside the writing command:
        // nothing may take the key from it in between.
        if !inbuf.is_empty() && handoff_pending(session) {
            return Step::Yield;
        }
        let limits = Limits {
            max_bulk_len: server.params.proto_max_bulk_len(),
            authenticated: session.authenticated,
            // A tenant's request limit applies to its own credentials, not to admins.
            max_request: match &session.tenant {
                Some(b) if !session.server_admin => b.tenant.request_limit(),
                _ => 0,
            },
        };
        match parser.next(inbuf, limits) {
            Ok(Parsed::Command) => {
                let mut args = parser.take_spare();
                parser.args(inbuf, &mut args);
                // Messages queued before the command precede its reply. Those it causes
                // itself (a RESP3 client's own PUBLISH, keyspace events of its writes)
                // follow it, as Redis 7.2 postpones pushes to the client it is serving;
                // (un)subscribe confirmations are the reply itself.
                deliver_outbox(server, session, out);
                let reply = dispatch::dispatch(server, session, &args);
                parser.keep_spare(unborrow(args));
                parser.consume(inbuf);
                if session.blocked.is_some() {
                    // The reply comes when the wait ends; later input waits for it.
                    return Step::Blocked;
                }
                if std::mem::take(&mut session.no_reply) {
                    deliver_outbox(server, session, out);
                    write_reply(session, None, out);
                } else {
                    write_reply(session, Some(&reply), out);
                    deliver_outbox(server, session, out);
                }
                if guard.exceeded(server, session, out.len()) {
                    return Step::Overflow;
                }
                if session.closing {
                    return Step::NeedInput;
                }
                if out.len() > FLUSH_AT {
                    return Step::Flush;
                }
            }
            Ok(Parsed::Empty) => {}
            Ok(Parsed::TooLarge) => {
                let b = session
                    .tenant
                    .as_ref()
                    .expect("only tenants have a request limit");
                b.tenant.rejections.count(Resource::Request);
                let text = format!(
                    "ERR max request size exceeded for tenant '{}' ({} bytes)",
                    b.tenant.id,
                    b.tenant.request_limit()
                );
                write_reply(session, Some(&Reply::Error(CmdError::err(text))), out);
            }
            Ok(Parsed::Incomplete) => return Step::NeedInput,
            Err(e) => {
                if let Some(text) = e.reply_text() {
                    debug!(client = session.id(), error = %text, "protocol error");
                    let reply = Reply::Error(crate::protocol::CmdError::err(text));
                    encode(&reply, session.proto, out);
                }
                return Step::Close;
            }
        }
    }
}

/// A blocked client of the data this connection's commands reach has been handed a key and
/// not yet run: its own store's, or for an admin in the global context (which may name a
/// tenant's keys by their global names) any store's.
fn handoff_pending(session: &Session) -> bool {
    if session.tenant.is_none() && session.authenticated {
        watch::Handoffs::pending_anywhere()
    } else {
        session.store.usage.handoffs.pending()
    }
}

/// Moves a subscriber's queued messages to `out`, unless the connection may no longer receive
/// them: then they are dropped and a subscriber closes (a connection that has left every
/// channel just loses them).
fn deliver_outbox(server: &Server, session: &mut Session, out: &mut BytesMut) {
    let Some(p) = session.pubsub.as_ref().map(|p| p.sub.clone()) else {
        return;
    };
    if tenancy::may_receive(server, session, session.clock.now_ms()) {
        p.drain_into(out);
    } else {
        p.discard_queued();
        session.closing |= session.subscribed();
    }
}

/// Writes `reply` as CLIENT REPLY allows; `None` (the reply already went out through the
/// Pub/Sub outbox) still counts as a reply for SKIP.
fn write_reply(session: &mut Session, reply: Option<&Reply>, out: &mut BytesMut) {
    match session.reply_mode {
        ReplyMode::On => {
            if let Some(r) = reply {
                encode(r, session.proto, out)
            }
        }
        ReplyMode::Off => {}
        ReplyMode::SkipNext => session.reply_mode = ReplyMode::Skipping,
        ReplyMode::Skipping => session.reply_mode = ReplyMode::On,
    }
}
