//! One task per connection: read, frame, dispatch, encode, write.
//!
//! Everything in the read buffer is parsed and executed before the replies are written with a
//! single `write_all`, which is what makes pipelining fast. Command errors become error replies
//! and the connection lives on; framing errors and I/O errors close it.

use super::session::{ClientHandle, ReplyMode, Session};
use super::Server;
use crate::command::dispatch;
use crate::protocol::request::{Limits, Parsed, RequestParser};
use crate::protocol::CmdError;
use crate::protocol::{encode, Reply};
use crate::storage::now_ms;
use crate::tenant::quota::Resource;
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

const READ_CHUNK: usize = 16 * 1024;
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
    let session = Session::new(handle.clone(), server.storage.global.clone(), authenticated);
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
    let mut inbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = BytesMut::with_capacity(READ_CHUNK);
    let mut parser = RequestParser::default();
    let killed = handle.kill_signal.notified();
    tokio::pin!(killed);

    loop {
        if handle.is_killed() {
            return;
        }
        // Reserve for the pending request (a big bulk arrives in large reads, not 16 KiB ones).
        let want = parser
            .bytes_needed()
            .saturating_sub(inbuf.len())
            .clamp(READ_CHUNK, 4 * 1024 * 1024);
        if inbuf.capacity() - inbuf.len() < want / 2 {
            inbuf.reserve(want);
        }
        // Idle clients are closed by the server cron (`timeout`), which kills them.
        let n = tokio::select! {
            r = stream.read_buf(&mut inbuf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = &mut killed => return,
        };
        server.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
        handle.last_ms.store(now_ms(), Relaxed);
        if inbuf.len() as i64 > server.params.client_query_buffer_limit() {
            debug!(
                client = handle.id,
                "closing client that reached the query buffer limit"
            );
            return;
        }

        // Replies are written when the input is used up, or earlier when they pass
        // `FLUSH_AT`: a pipeline of big GETs must not build one unbounded output buffer.
        loop {
            session.begin_batch();
            let step = process_input(server, &mut session, &mut parser, &mut inbuf, &mut out);
            // Never held across an await: other connections' EXEC waits for it.
            session.release_gate();
            session.flush_counters(server);
            if !out.is_empty() {
                if stream.write_all(&out).await.is_err() {
                    return;
                }
                server
                    .stats
                    .net_output_bytes
                    .fetch_add(out.len() as u64, Relaxed);
                out.clear();
                if out.capacity() > KEEP_OUT_CAPACITY {
                    out = BytesMut::with_capacity(READ_CHUNK);
                }
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
            }
            if step == Step::NeedInput {
                break;
            }
        }
    }
}

/// Waits for a parked connection's keys, its timeout, or the client leaving; writes the
/// reply. Input arriving meanwhile is buffered, not run (as Redis does). None: close.
async fn wait_blocked(
    server: &Arc<Server>,
    stream: &mut TcpStream,
    session: &mut Session,
    inbuf: &mut BytesMut,
    out: &mut BytesMut,
    killed: &mut std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
) -> Option<()> {
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
                // Leave the queues before running again: the retry registers afresh if it
                // has to wait once more.
                let mut b = session.blocked.take().expect("blocked");
                let (args, deadline) = (std::mem::take(&mut b.args), b.deadline);
                b.served = true;
                drop(b);
                session.begin_batch();
                let reply = dispatch::dispatch(server, session, args);
                session.release_gate();
                session.flush_counters(server);
                if let Some(again) = session.blocked.as_mut() {
                    // Someone else took it: wait again, until the original deadline.
                    again.deadline = deadline;
                    continue;
                }
                write_reply(session, &reply, out);
            }
            _ = timeout => {
                let b = session.blocked.take().expect("blocked");
                write_reply(session, &b.on_timeout, out);
            }
            r = stream.read_buf(inbuf) => {
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
        if stream.write_all(out).await.is_err() {
            return None;
        }
        server
            .stats
            .net_output_bytes
            .fetch_add(out.len() as u64, Relaxed);
        out.clear();
        return Some(());
    }
}

/// Output past which a batch stops to write before running more commands.
const FLUSH_AT: usize = 1024 * 1024;

#[derive(PartialEq, Eq)]
enum Step {
    /// Every complete request ran: read more.
    NeedInput,
    /// The output passed `FLUSH_AT`: write it, then run the rest.
    Flush,
    /// A framing error: close.
    Close,
    /// A blocking command parked the connection: wait, then run the rest.
    Blocked,
}

/// Parses and executes the complete requests in `inbuf`, appending replies to `out`, until the
/// input is used up, the output passes `FLUSH_AT`, or a framing error.
fn process_input(
    server: &Arc<Server>,
    session: &mut Session,
    parser: &mut RequestParser,
    inbuf: &mut BytesMut,
    out: &mut BytesMut,
) -> Step {
    loop {
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
            Ok(Parsed::Command(args)) => {
                let reply = dispatch::dispatch(server, session, args);
                if session.blocked.is_some() {
                    // The reply comes when the wait ends; later input waits for it.
                    return Step::Blocked;
                }
                write_reply(session, &reply, out);
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
                write_reply(session, &Reply::Error(CmdError::err(text)), out);
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

fn write_reply(session: &mut Session, reply: &Reply, out: &mut BytesMut) {
    match session.reply_mode {
        ReplyMode::On => encode(reply, session.proto, out),
        ReplyMode::Off => {}
        ReplyMode::SkipNext => session.reply_mode = ReplyMode::Skipping,
        ReplyMode::Skipping => session.reply_mode = ReplyMode::On,
    }
}
