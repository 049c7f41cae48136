//! The Pub/Sub hub: who listens to what, per tenant, and delivery into subscribers' outboxes.
//!
//! Channels, patterns and shard channels (SSUBSCRIBE's, a separate set of names: SPUBLISH reaches
//! only them and PUBLISH never does) live in a *namespace*: the id of the tenant the connection acts in,
//! or `""` for the global (admin) context (tenant ids are never empty). A publish looks only
//! in its own namespace, so tenant A's PUBLISH never reaches tenant B's subscribers of the same
//! name and B's patterns never see A's channels.
//!
//! Delivery never touches a socket. A publisher encodes the message straight into each
//! receiver's `Outbox` (a byte buffer behind the receiver's own small lock) and wakes the
//! receiver's connection task, which writes it. So a publisher never waits on a slow reader,
//! and a slow reader costs memory only up to its `client-output-buffer-limit` (`pubsub`
//! class): past the hard limit, or past the soft limit for longer than its seconds, the
//! subscriber is dropped and disconnected, as Redis does.
//!
//! Ordering: subscription changes append their confirmation to the outbox while holding the
//! hub's write lock, and publishers append under the read lock, so a subscriber sees
//! `subscribe` before the channel's first message and nothing after `unsubscribe`.

use super::session::ClientHandle;
use crate::protocol::args;
use bytes::{BufMut, Bytes, BytesMut};
use indexmap::{IndexMap, IndexSet};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;
use tracing::warn;

type Map<K, V> = IndexMap<K, V, foldhash::fast::RandomState>;
/// Subscribers of one channel or pattern, by client id.
type Subs = Map<u64, Arc<Subscriber>>;

/// One output-buffer class of `client-output-buffer-limit`: bytes, bytes, seconds (0 = off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

impl OutputLimit {
    /// The class `class` (`config::params::COB_*`) of the server's current setting.
    pub fn of(params: &crate::config::params::Params, class: usize) -> OutputLimit {
        let (hard, soft, soft_seconds) = params.output_buffer_limit(class);
        OutputLimit {
            hard,
            soft,
            soft_seconds,
        }
    }

    pub fn is_off(&self) -> bool {
        self.hard == 0 && self.soft == 0
    }

    /// Whether `pending` bytes break the limit now; `soft_since` remembers when the soft limit
    /// was first passed (set on crossing, cleared when back under).
    pub fn exceeded(&self, pending: u64, soft_since: &mut Option<Instant>) -> bool {
        let over_hard = self.hard > 0 && pending >= self.hard;
        let over_soft = self.soft > 0 && pending >= self.soft;
        if !over_hard && !over_soft {
            *soft_since = None;
            return false;
        }
        self.exceeded_at(pending, soft_since, Instant::now())
    }

    fn exceeded_at(&self, pending: u64, soft_since: &mut Option<Instant>, now: Instant) -> bool {
        if self.hard > 0 && pending >= self.hard {
            return true;
        }
        if self.soft == 0 || pending < self.soft {
            *soft_since = None;
            return false;
        }
        let since = *soft_since.get_or_insert(now);
        now.duration_since(since).as_secs() >= self.soft_seconds
    }
}

/// Pending output of a subscribed connection.
#[derive(Default)]
struct Outbox {
    buf: BytesMut,
    /// Bytes the connection took and has not finished writing (they still count).
    in_flight: usize,
    soft_since: Option<Instant>,
    /// Over the limit: the connection is closing, nothing more is queued.
    closed: bool,
}

/// The shared half of a subscribed connection: what publishers write into.
pub struct Subscriber {
    pub client: Arc<ClientHandle>,
    resp3: AtomicBool,
    outbox: Mutex<Outbox>,
    /// Wakes the connection task when its outbox gains data.
    pub wake: Notify,
}

impl Subscriber {
    pub fn new(client: Arc<ClientHandle>, resp3: bool) -> Subscriber {
        Subscriber {
            client,
            resp3: AtomicBool::new(resp3),
            outbox: Mutex::new(Outbox::default()),
            wake: Notify::new(),
        }
    }

    pub fn set_resp3(&self, on: bool) {
        self.resp3.store(on, Relaxed);
    }

    fn header(&self) -> u8 {
        if self.resp3.load(Relaxed) {
            b'>'
        } else {
            b'*'
        }
    }

    /// Appends what `frame` writes, then enforces `limit` on everything still unwritten.
    fn push(&self, limit: OutputLimit, frame: impl FnOnce(&mut BytesMut, u8)) {
        let header = self.header();
        let mut o = self.outbox.lock();
        if o.closed {
            return;
        }
        let was_empty = o.buf.is_empty();
        frame(&mut o.buf, header);
        let pending = (o.buf.len() + o.in_flight) as u64;
        let mut soft_since = o.soft_since;
        if limit.exceeded(pending, &mut soft_since) {
            // Drop the queued bytes now: memory must not wait for the task to notice.
            o.closed = true;
            o.buf = BytesMut::new();
            drop(o);
            warn!(
                client = self.client.id,
                pending, "closing subscriber over its output buffer limit (pubsub class)"
            );
            self.client.kill();
            return;
        }
        o.soft_since = soft_since;
        drop(o);
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Moves queued output into `out` (called by the connection task).
    pub fn drain_into(&self, out: &mut BytesMut) {
        let mut o = self.outbox.lock();
        if o.buf.is_empty() {
            return;
        }
        if out.is_empty() {
            // Swap rather than copy when the connection has nothing else to send.
            std::mem::swap(out, &mut o.buf);
        } else {
            out.extend_from_slice(&o.buf);
            o.buf.clear();
        }
    }

    /// Bytes queued and not yet written.
    pub fn queued_len(&self) -> usize {
        self.outbox.lock().buf.len()
    }

    /// Takes what was queued after the first `at` bytes (a command's confirmations).
    pub fn split_from(&self, at: usize) -> Bytes {
        let mut o = self.outbox.lock();
        let at = at.min(o.buf.len());
        o.buf.split_off(at).freeze()
    }

    /// Drops messages queued and not yet written: when the connection leaves a namespace
    /// (its token revoked, a login elsewhere), what was published there is no longer its own.
    pub fn discard_queued(&self) {
        self.outbox.lock().buf.clear();
    }

    /// Records how many bytes the connection is writing now (0 when done), so a publisher
    /// counts them against the limit while a slow reader holds the write up.
    pub fn set_in_flight(&self, n: usize) {
        self.outbox.lock().in_flight = n;
    }

    fn confirm(&self, kind: &str, name: Option<&[u8]>, count: usize) {
        // Confirmations are replies the client asked for: never refused by the limit.
        self.push(OutputLimit::default(), |b, h| {
            b.put_u8(h);
            b.put_slice(b"3\r\n");
            put_bulk(b, kind.as_bytes());
            match name {
                Some(n) => put_bulk(b, n),
                None if h == b'>' => b.put_slice(b"_\r\n"),
                None => b.put_slice(b"$-1\r\n"),
            }
            put_int(b, count as i64);
        });
    }
}

fn put_bulk(b: &mut BytesMut, data: &[u8]) {
    let mut n = itoa::Buffer::new();
    b.put_u8(b'$');
    b.put_slice(n.format(data.len()).as_bytes());
    b.put_slice(b"\r\n");
    b.put_slice(data);
    b.put_slice(b"\r\n");
}

fn put_int(b: &mut BytesMut, v: i64) {
    let mut n = itoa::Buffer::new();
    b.put_u8(b':');
    b.put_slice(n.format(v).as_bytes());
    b.put_slice(b"\r\n");
}

/// The subscriptions of one namespace.
#[derive(Default)]
struct Space {
    channels: Map<Bytes, Subs>,
    patterns: Map<Bytes, Subs>,
    shard_channels: Map<Bytes, Subs>,
}

impl Space {
    fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty()
    }

    fn names(&self, kind: Kind) -> &Map<Bytes, Subs> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard_channels,
        }
    }

    fn names_mut(&mut self, kind: Kind) -> &mut Map<Bytes, Subs> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }
}

/// Which of a connection's three subscription kinds an operation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    /// Sharded Pub/Sub's channels (SSUBSCRIBE, SPUBLISH): in a single server, channels of their
    /// own that patterns never match.
    Shard,
}

impl Kind {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Kind::Channel => ("subscribe", "unsubscribe"),
            Kind::Pattern => ("psubscribe", "punsubscribe"),
            Kind::Shard => ("ssubscribe", "sunsubscribe"),
        }
    }
}

#[derive(Default)]
pub struct Hub {
    spaces: RwLock<Map<Arc<str>, Space>>,
    /// Subscriptions across all namespaces: zero lets a publish (and every keyspace event)
    /// return without taking the lock.
    total: AtomicUsize,
}

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    /// Whether anyone at all is subscribed (a lock-free pre-check for publishers).
    pub fn is_idle(&self) -> bool {
        self.total.load(Relaxed) == 0
    }

    /// Delivers `message` on `channel` in namespace `ns` to its subscribers and to the
    /// subscribers of matching patterns; returns how many deliveries were made (a client
    /// subscribed both ways counts twice, as in Redis).
    pub fn publish(&self, ns: &str, channel: &[u8], message: &[u8], limit: OutputLimit) -> usize {
        if self.is_idle() {
            return 0;
        }
        let spaces = self.spaces.read();
        let Some(space) = spaces.get(ns) else {
            return 0;
        };
        let mut n = 0;
        if let Some(subs) = space.channels.get(channel) {
            for s in subs.values() {
                s.push(limit, |b, h| {
                    b.put_u8(h);
                    b.put_slice(b"3\r\n$7\r\nmessage\r\n");
                    put_bulk(b, channel);
                    put_bulk(b, message);
                });
            }
            n += subs.len();
        }
        for (pattern, subs) in &space.patterns {
            if !crate::util::glob::matches(pattern, channel, false) {
                continue;
            }
            for s in subs.values() {
                s.push(limit, |b, h| {
                    b.put_u8(h);
                    b.put_slice(b"4\r\n$8\r\npmessage\r\n");
                    put_bulk(b, pattern);
                    put_bulk(b, channel);
                    put_bulk(b, message);
                });
            }
            n += subs.len();
        }
        n
    }

    /// SPUBLISH: delivers `message` to the subscribers of shard channel `channel` in namespace
    /// `ns` (patterns never see shard channels); returns how many received it.
    pub fn publish_shard(
        &self,
        ns: &str,
        channel: &[u8],
        message: &[u8],
        limit: OutputLimit,
    ) -> usize {
        if self.is_idle() {
            return 0;
        }
        let spaces = self.spaces.read();
        let Some(subs) = spaces.get(ns).and_then(|s| s.shard_channels.get(channel)) else {
            return 0;
        };
        for s in subs.values() {
            s.push(limit, |b, h| {
                b.put_u8(h);
                b.put_slice(b"3\r\n$8\r\nsmessage\r\n");
                put_bulk(b, channel);
                put_bulk(b, message);
            });
        }
        subs.len()
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: the namespace's channels (`Kind::Channel`) or shard
    /// channels with subscribers, matching `pattern`.
    pub fn channels(&self, ns: &str, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let spaces = self.spaces.read();
        let Some(space) = spaces.get(ns) else {
            return Vec::new();
        };
        space
            .names(kind)
            .keys()
            .filter(|c| pattern.is_none_or(|p| crate::util::glob::matches(p, c, false)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB: subscribers of one channel (`Kind::Channel`) or shard
    /// channel of the namespace.
    pub fn numsub(&self, ns: &str, kind: Kind, channel: &[u8]) -> usize {
        let spaces = self.spaces.read();
        spaces
            .get(ns)
            .and_then(|s| s.names(kind).get(channel))
            .map_or(0, |subs| subs.len())
    }

    /// Channels, patterns and shard channels with at least one subscriber, across every
    /// namespace (INFO stats `pubsub_channels`, `pubsub_patterns`, `pubsubshard_channels`, for
    /// server admins).
    pub fn totals(&self) -> (usize, usize, usize) {
        let spaces = self.spaces.read();
        spaces.values().fold((0, 0, 0), |(c, p, sc), s| {
            (
                c + s.channels.len(),
                p + s.patterns.len(),
                sc + s.shard_channels.len(),
            )
        })
    }

    /// PUBSUB NUMPAT: distinct patterns subscribed to in the namespace.
    pub fn numpat(&self, ns: &str) -> usize {
        self.spaces.read().get(ns).map_or(0, |s| s.patterns.len())
    }
}

/// A connection's subscriptions (held by its session). Dropping it removes them all from the
/// hub, so a closed or panicked connection never leaves a ghost subscriber behind.
pub struct Subscriptions {
    hub: Arc<Hub>,
    pub sub: Arc<Subscriber>,
    /// The namespace the subscriptions live in (meaningful while there are any).
    ns: Arc<str>,
    channels: IndexSet<Bytes, foldhash::fast::RandomState>,
    patterns: IndexSet<Bytes, foldhash::fast::RandomState>,
    shard_channels: IndexSet<Bytes, foldhash::fast::RandomState>,
    /// What the subscriptions hold in server memory (see `held_bytes`).
    held: usize,
}

/// What one subscription costs beyond its name's two copies (the connection's set and the
/// hub's map): their slots and the hub's entry for the connection.
const SUBSCRIPTION_OVERHEAD: usize = 96;

fn subscription_size(name: &[u8]) -> usize {
    2 * name.len() + SUBSCRIPTION_OVERHEAD
}

impl Subscriptions {
    /// What subscribing to `names` adds to `held_bytes` (names already subscribed, or
    /// repeated, cost nothing more).
    pub fn cost(this: Option<&Subscriptions>, kind: Kind, names: &[&[u8]]) -> usize {
        let mut seen = std::collections::HashSet::with_capacity(names.len());
        names
            .iter()
            .filter(|n| {
                let held = this.is_some_and(|s| s.set_ref(kind).contains(**n));
                seen.insert(**n) && !held
            })
            .map(|n| subscription_size(n))
            .sum()
    }

    /// Server memory the subscriptions hold, charged to the tenant's memory limit.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    pub fn new(hub: Arc<Hub>, client: Arc<ClientHandle>, resp3: bool) -> Subscriptions {
        Subscriptions {
            hub,
            sub: Arc::new(Subscriber::new(client, resp3)),
            ns: Arc::from(""),
            channels: Default::default(),
            patterns: Default::default(),
            shard_channels: Default::default(),
            held: 0,
        }
    }

    /// Subscriptions of every kind: any makes the connection subscribed (`CLIENT_PUBSUB`).
    pub fn total(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard_channels.len()
    }

    /// The count a confirmation of `kind` carries: channels plus patterns for those two kinds,
    /// shard channels alone for shard channels (Redis's `subscriptionCount` of each type).
    fn count_for(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::Shard => self.shard_channels.len(),
        }
    }

    /// Subscriptions of one kind (CLIENT LIST's `sub`, `psub`, `ssub`).
    pub fn count_of(&self, kind: Kind) -> usize {
        self.set_ref(kind).len()
    }

    /// The namespace the subscriptions live in, if there are any.
    pub fn namespace(&self) -> Option<&str> {
        (self.total() > 0).then_some(&*self.ns)
    }

    fn set_ref(&self, kind: Kind) -> &IndexSet<Bytes, foldhash::fast::RandomState> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard_channels,
        }
    }

    fn set(&mut self, kind: Kind) -> &mut IndexSet<Bytes, foldhash::fast::RandomState> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// (P|S)SUBSCRIBE: subscribes to each name in namespace `ns` and queues one confirmation
    /// per name. The caller has already moved the subscriptions to `ns` (see `leave_all`).
    pub fn subscribe(&mut self, ns: &str, kind: Kind, names: &[&[u8]]) {
        if self.total() == 0 && *self.ns != *ns {
            self.ns = Arc::from(ns);
        }
        debug_assert!(*self.ns == *ns, "subscriptions span one namespace");
        let hub = self.hub.clone();
        let mut spaces = hub.spaces.write();
        if !spaces.contains_key(ns) {
            spaces.insert(self.ns.clone(), Space::default());
        }
        let space = spaces.get_mut(ns).expect("just inserted");
        let id = self.sub.client.id;
        for name in names {
            if self.set(kind).insert(Bytes::copy_from_slice(name)) {
                self.held += subscription_size(name);
                space
                    .names_mut(kind)
                    .entry(Bytes::copy_from_slice(name))
                    .or_default()
                    .insert(id, self.sub.clone());
                hub.total.fetch_add(1, Relaxed);
            }
            self.sub
                .confirm(kind.names().0, Some(name), self.count_for(kind));
        }
    }

    /// (P|S)UNSUBSCRIBE: the given names, or every one of `kind` when `names` is empty. One
    /// confirmation per name; with none to leave, a single one with a null name.
    pub fn unsubscribe(&mut self, kind: Kind, names: &[&[u8]]) {
        let all: Vec<Bytes>;
        let listed: Vec<&[u8]>;
        let names = if names.is_empty() {
            all = self.set(kind).iter().cloned().collect();
            if all.is_empty() {
                self.sub.confirm(kind.names().1, None, self.count_for(kind));
                return;
            }
            listed = args::borrowed(&all);
            &listed[..]
        } else {
            names
        };
        let hub = self.hub.clone();
        let mut spaces = hub.spaces.write();
        for &name in names {
            if self.set(kind).shift_remove(name) {
                self.held -= subscription_size(name);
                remove(&hub, &mut spaces, &self.ns, kind, name, self.sub.client.id);
            }
            self.sub
                .confirm(kind.names().1, Some(name), self.count_for(kind));
        }
    }

    /// Leaves everything without confirmations: RESET, a rebind to another namespace, the
    /// end of the connection.
    pub fn leave_all(&mut self) {
        if self.total() == 0 {
            return;
        }
        self.held = 0;
        let mut spaces = self.hub.spaces.write();
        let id = self.sub.client.id;
        for (kind, set) in [
            (Kind::Channel, std::mem::take(&mut self.channels)),
            (Kind::Pattern, std::mem::take(&mut self.patterns)),
            (Kind::Shard, std::mem::take(&mut self.shard_channels)),
        ] {
            for name in &set {
                remove(&self.hub, &mut spaces, &self.ns, kind, name, id);
            }
        }
    }
}

/// Removes one subscription of client `id`, and whatever it leaves empty.
fn remove(
    hub: &Hub,
    spaces: &mut Map<Arc<str>, Space>,
    ns: &str,
    kind: Kind,
    name: &[u8],
    id: u64,
) {
    let Some(space) = spaces.get_mut(ns) else {
        return;
    };
    let map = space.names_mut(kind);
    if let Some(subs) = map.get_mut(name) {
        if subs.swap_remove(&id).is_some() {
            hub.total.fetch_sub(1, Relaxed);
        }
        if subs.is_empty() {
            map.swap_remove(name);
        }
    }
    if space.is_empty() {
        spaces.swap_remove(ns);
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        self.leave_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: u64) -> Arc<ClientHandle> {
        Arc::new(ClientHandle::new(id, String::new(), String::new(), 0))
    }

    fn take(s: &Subscriber) -> Vec<u8> {
        let mut out = BytesMut::new();
        s.drain_into(&mut out);
        out.to_vec()
    }

    #[test]
    fn namespaces_are_separate() {
        let hub = Arc::new(Hub::new());
        let mut a = Subscriptions::new(hub.clone(), client(1), false);
        let mut b = Subscriptions::new(hub.clone(), client(2), false);
        a.subscribe("acme", Kind::Channel, &[b"news"]);
        b.subscribe("beta", Kind::Pattern, &[b"*"]);
        take(&a.sub);
        take(&b.sub);
        let none = OutputLimit::default();
        assert_eq!(hub.publish("acme", b"news", b"hi", none), 1);
        assert_eq!(
            take(&a.sub),
            b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        );
        assert!(take(&b.sub).is_empty());
        assert_eq!(hub.publish("beta", b"news", b"x", none), 1);
        assert_eq!(
            take(&b.sub),
            b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$4\r\nnews\r\n$1\r\nx\r\n"
        );
        assert_eq!(hub.numsub("acme", Kind::Channel, b"news"), 1);
        assert_eq!(hub.numsub("beta", Kind::Channel, b"news"), 0);
        assert_eq!(hub.numpat("beta"), 1);
        drop(a);
        drop(b);
        assert!(hub.is_idle());
        assert!(hub.spaces.read().is_empty());
    }

    #[test]
    fn shard_channels_are_names_of_their_own() {
        let hub = Arc::new(Hub::new());
        let mut a = Subscriptions::new(hub.clone(), client(1), false);
        a.subscribe("", Kind::Shard, &[b"x"]);
        a.subscribe("", Kind::Pattern, &[b"*"]);
        assert_eq!(
            take(&a.sub),
            [
                &b"*3\r\n$10\r\nssubscribe\r\n$1\r\nx\r\n:1\r\n"[..],
                b"*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n",
            ]
            .concat()
        );
        let none = OutputLimit::default();
        assert_eq!(hub.publish_shard("", b"x", b"m", none), 1);
        assert_eq!(
            take(&a.sub),
            b"*3\r\n$8\r\nsmessage\r\n$1\r\nx\r\n$1\r\nm\r\n"
        );
        assert_eq!(hub.numsub("", Kind::Channel, b"x"), 0);
        assert_eq!(hub.numsub("", Kind::Shard, b"x"), 1);
        assert_eq!(hub.totals(), (0, 1, 1));
        assert_eq!(a.total(), 2);
        a.unsubscribe(Kind::Pattern, &[]);
        assert_eq!(
            a.namespace(),
            Some(""),
            "a shard channel alone is a subscription"
        );
        drop(a);
        assert!(hub.is_idle());
        assert!(hub.spaces.read().is_empty());
    }

    #[test]
    fn hard_limit_drops_and_kills() {
        let hub = Arc::new(Hub::new());
        let c = client(7);
        let mut a = Subscriptions::new(hub.clone(), c.clone(), true);
        a.subscribe("", Kind::Channel, &[b"c"]);
        let limit = OutputLimit {
            hard: 1000,
            soft: 0,
            soft_seconds: 0,
        };
        for _ in 0..100 {
            hub.publish("", b"c", &[b'x'; 50], limit);
        }
        assert!(c.is_killed());
        assert!(take(&a.sub).is_empty(), "queued output is freed at once");
    }

    #[test]
    fn soft_limit_needs_time() {
        let limit = OutputLimit {
            hard: 0,
            soft: 10,
            soft_seconds: 60,
        };
        let now = Instant::now();
        let mut since = None;
        assert!(!limit.exceeded_at(20, &mut since, now));
        assert!(since.is_some());
        assert!(limit.exceeded_at(20, &mut since, now + std::time::Duration::from_secs(61)));
        assert!(!limit.exceeded(5, &mut since));
        assert!(since.is_none());
        let zero = OutputLimit {
            soft_seconds: 0,
            ..limit
        };
        assert!(zero.exceeded(20, &mut None));
        assert!(!OutputLimit::default().exceeded(u64::MAX, &mut None));
    }
}
