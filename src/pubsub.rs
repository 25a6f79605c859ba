//! Pub/sub delivery and keyspace notifications.
//!
//! [`PubSub`] is the registry: channel -> subscribers, pattern -> subscribers (matched with
//! Redis's glob rules) and shard channel -> subscribers. Each subscribing connection owns a
//! [`Subscriptions`] with an unbounded feed; publishing clones the message frame into the
//! feed of every receiver, and the connection task writes what its feed holds (like the
//! MONITOR feed). The registry never touches the keyspace, so it may be used with shard
//! locks held (handlers and the keyspace observer do).
//!
//! Handlers report what they did to a key with [`ExecCtx::notify`] (Redis's
//! `notifyKeyspaceEvent`): the event class, the event name Redis uses (`lpush`, `expire`,
//! `del` ...) and the key. When `notify-keyspace-events` enables the class, the event is
//! published at once on `__keyspace@<db>__:<key>` and / or `__keyevent@<db>__:<event>`.
//! The keyspace reports `expired`, `new` and `keymiss` itself ([`KeyspaceNotifier`]) the
//! moment they happen, so all of a command's events come out in Redis's order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bitflags::bitflags;
use bytes::{BufMut, Bytes, BytesMut};
use indexmap::{IndexMap, IndexSet};
use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::clients::{ClientFlags, ClientState, CommandName};
use crate::commands::CommandSpec;
use crate::commands::ExecCtx;
use crate::error::CmdError;
use crate::glob::glob_match;
use crate::keyspace::{Entry, KeyEvent, KeyNotice, KeyObserver};
use crate::protocol::{Protocol, Reply};

bitflags! {
    /// Redis's keyspace event classes (the letters of `notify-keyspace-events`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct NotifyClass: u16 {
        /// `g`: DEL, EXPIRE, RENAME ... on any type.
        const GENERIC = 1 << 0;
        /// `$`
        const STRING = 1 << 1;
        /// `l`
        const LIST = 1 << 2;
        /// `s`
        const SET = 1 << 3;
        /// `h`
        const HASH = 1 << 4;
        /// `z`
        const ZSET = 1 << 5;
        /// `x`: a key expired.
        const EXPIRED = 1 << 6;
        /// `e`: a key was evicted.
        const EVICTED = 1 << 7;
        /// `t`
        const STREAM = 1 << 8;
        /// `m`: a read found no key (not part of `A`).
        const KEY_MISS = 1 << 9;
        /// `n`: a key was created (not part of `A`).
        const NEW = 1 << 10;
        /// `K`: publish on `__keyspace@<db>__:<key>`.
        const KEYSPACE = 1 << 11;
        /// `E`: publish on `__keyevent@<db>__:<event>`.
        const KEYEVENT = 1 << 12;
    }
}

impl NotifyClass {
    /// The classes a `notify-keyspace-events` value enables (the config already validated it).
    pub fn parse(letters: &str) -> NotifyClass {
        let mut classes = NotifyClass::empty();
        for c in letters.chars() {
            classes |= match c {
                'A' => NotifyClass::GENERIC
                    .union(NotifyClass::STRING)
                    .union(NotifyClass::LIST)
                    .union(NotifyClass::SET)
                    .union(NotifyClass::HASH)
                    .union(NotifyClass::ZSET)
                    .union(NotifyClass::EXPIRED)
                    .union(NotifyClass::EVICTED)
                    .union(NotifyClass::STREAM),
                'g' => NotifyClass::GENERIC,
                '$' => NotifyClass::STRING,
                'l' => NotifyClass::LIST,
                's' => NotifyClass::SET,
                'h' => NotifyClass::HASH,
                'z' => NotifyClass::ZSET,
                'x' => NotifyClass::EXPIRED,
                'e' => NotifyClass::EVICTED,
                't' => NotifyClass::STREAM,
                'm' => NotifyClass::KEY_MISS,
                'n' => NotifyClass::NEW,
                'K' => NotifyClass::KEYSPACE,
                'E' => NotifyClass::KEYEVENT,
                _ => NotifyClass::empty(),
            };
        }
        classes
    }
}

/// The three kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn channel_or_shard(shard: bool) -> Kind {
        if shard { Kind::Shard } else { Kind::Channel }
    }

    /// The confirmation frame names: (subscribe, unsubscribe).
    fn verbs(self) -> (&'static str, &'static str) {
        match self {
            Kind::Channel => ("subscribe", "unsubscribe"),
            Kind::Pattern => ("psubscribe", "punsubscribe"),
            Kind::Shard => ("ssubscribe", "sunsubscribe"),
        }
    }
}

/// A subscriber's delivery end: frames to write to its connection.
type Feed = mpsc::UnboundedSender<Reply>;

/// Subscribers of one channel or pattern, by client id, in subscription order.
type Subscribers = IndexMap<u64, Feed>;

/// Channels (or patterns) to their subscribers. Iteration order carries no meaning (Redis's
/// is its hash table's), so removals swap.
type ChannelMap = IndexMap<Bytes, Subscribers>;

#[derive(Default)]
struct Registry {
    channels: ChannelMap,
    patterns: ChannelMap,
    shard_channels: ChannelMap,
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut ChannelMap {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    fn add(&mut self, kind: Kind, name: Bytes, id: u64, feed: Feed) {
        self.map(kind).entry(name).or_default().insert(id, feed);
    }

    /// Drops client `id` from `name`, and `name` itself once nobody is left.
    fn remove(&mut self, kind: Kind, name: &[u8], id: u64) {
        let map = self.map(kind);
        if let Some(subs) = map.get_mut(name) {
            subs.swap_remove(&id);
            if subs.is_empty() {
                map.swap_remove(name);
            }
        }
    }
}

/// The server's pub/sub registry and the keyspace-notification settings.
#[derive(Default)]
pub struct PubSub {
    registry: Mutex<Registry>,
    /// `notify-keyspace-events` as [`NotifyClass`] bits; read on every notification.
    events: AtomicU32,
}

impl PubSub {
    /// Takes a new `notify-keyspace-events` value (start-up, CONFIG SET). Returns the
    /// notices the keyspace must report for the `expired`, `new` and `keymiss` events
    /// announced.
    pub fn set_events(&self, letters: &str) -> Vec<KeyNotice> {
        let classes = NotifyClass::parse(letters);
        self.events
            .store(u32::from(classes.bits()), Ordering::Relaxed);
        [
            (NotifyClass::EXPIRED, KeyNotice::Expired),
            (NotifyClass::NEW, KeyNotice::Created),
            (NotifyClass::KEY_MISS, KeyNotice::Missed),
        ]
        .into_iter()
        .filter(|(class, _)| self.announces(*class))
        .map(|(_, notice)| notice)
        .collect()
    }

    fn events(&self) -> NotifyClass {
        NotifyClass::from_bits_truncate(self.events.load(Ordering::Relaxed) as u16)
    }

    /// Sends `payload` on `channel` to its subscribers and to every matching pattern's
    /// subscribers (PUBLISH); returns how many frames were delivered.
    pub fn publish(&self, channel: &[u8], payload: &[u8]) -> usize {
        let registry = self.registry.lock();
        let channel_b = Bytes::copy_from_slice(channel);
        let payload = Bytes::copy_from_slice(payload);
        let mut receivers = 0;
        if let Some(subs) = registry.channels.get(channel) {
            let frame = message_frame("message", None, &channel_b, &payload);
            receivers += deliver(subs, &frame);
        }
        for (pattern, subs) in &registry.patterns {
            if glob_match(pattern, channel, false) {
                let frame = message_frame("pmessage", Some(pattern), &channel_b, &payload);
                receivers += deliver(subs, &frame);
            }
        }
        receivers
    }

    /// Sends `payload` to the subscribers of shard channel `channel` (SPUBLISH).
    pub fn publish_shard(&self, channel: &[u8], payload: &[u8]) -> usize {
        let registry = self.registry.lock();
        match registry.shard_channels.get(channel) {
            Some(subs) => {
                let frame = message_frame(
                    "smessage",
                    None,
                    &Bytes::copy_from_slice(channel),
                    &Bytes::copy_from_slice(payload),
                );
                deliver(subs, &frame)
            }
            None => 0,
        }
    }

    /// Active channels (or shard channels) matching `pattern` (PUBSUB CHANNELS).
    pub fn channels(&self, shard: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let mut registry = self.registry.lock();
        let map = registry.map(Kind::channel_or_shard(shard));
        map.keys()
            .filter(|name| pattern.is_none_or(|p| glob_match(p, name, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of one channel or shard channel, patterns not counted (PUBSUB NUMSUB).
    pub fn subscriber_count(&self, shard: bool, channel: &[u8]) -> usize {
        let mut registry = self.registry.lock();
        let map = registry.map(Kind::channel_or_shard(shard));
        map.get(channel).map_or(0, IndexMap::len)
    }

    /// (channels, patterns, shard channels) with at least one subscriber (INFO, NUMPAT).
    pub fn counts(&self) -> (usize, usize, usize) {
        let registry = self.registry.lock();
        (
            registry.channels.len(),
            registry.patterns.len(),
            registry.shard_channels.len(),
        )
    }

    /// Whether `notify-keyspace-events` enables `class` (and at least one of K / E).
    fn announces(&self, class: NotifyClass) -> bool {
        let enabled = self.events();
        enabled.intersects(class)
            && enabled.intersects(NotifyClass::KEYSPACE.union(NotifyClass::KEYEVENT))
    }

    /// Publishes a keyspace event when `notify-keyspace-events` enables its class.
    pub fn notify(&self, db: usize, class: NotifyClass, event: &str, key: &[u8]) {
        if !self.announces(class) {
            return;
        }
        let enabled = self.events();
        if enabled.contains(NotifyClass::KEYSPACE) {
            let mut channel = BytesMut::with_capacity(key.len() + 16);
            channel.put_slice(format!("__keyspace@{db}__:").as_bytes());
            channel.put_slice(key);
            self.publish(&channel, event.as_bytes());
        }
        if enabled.contains(NotifyClass::KEYEVENT) {
            let channel = format!("__keyevent@{db}__:{event}");
            self.publish(channel.as_bytes(), key);
        }
    }
}

/// Clones `frame` into every subscriber's feed; a feed whose connection is gone still counts
/// until it unsubscribes on close, as in Redis where the client is freed later.
fn deliver(subs: &Subscribers, frame: &Reply) -> usize {
    for feed in subs.values() {
        let _ = feed.send(frame.clone());
    }
    subs.len()
}

fn message_frame(kind: &str, pattern: Option<&Bytes>, channel: &Bytes, payload: &Bytes) -> Reply {
    let mut items = vec![Reply::bulk(Bytes::copy_from_slice(kind.as_bytes()))];
    if let Some(pattern) = pattern {
        items.push(Reply::Bulk(pattern.clone()));
    }
    items.push(Reply::Bulk(channel.clone()));
    items.push(Reply::Bulk(payload.clone()));
    Reply::Push(items)
}

/// One connection's subscriptions and its feed.
#[derive(Default)]
pub struct Subscriptions {
    feed: Option<(Feed, mpsc::UnboundedReceiver<Reply>)>,
    channels: IndexSet<Bytes>,
    patterns: IndexSet<Bytes>,
    shard_channels: IndexSet<Bytes>,
    /// Confirmation frames of a (un)subscribe command beyond its last one, which is the
    /// command's reply; written before that reply.
    pending: Vec<Reply>,
}

impl Subscriptions {
    fn set(&mut self, kind: Kind) -> &mut IndexSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// Whether the connection is in subscribed mode (Redis's `CLIENT_PUBSUB`).
    pub fn active(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty())
    }

    /// The count a confirmation of `kind` carries: channels plus patterns for SUBSCRIBE and
    /// PSUBSCRIBE (and their opposites), shard channels alone for SSUBSCRIBE / SUNSUBSCRIBE.
    fn count_for(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard_channels.len(),
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
        }
    }

    /// Takes every frame waiting for this connection, confirmations first, then messages.
    pub fn take_frames(&mut self) -> Vec<Reply> {
        let mut frames = std::mem::take(&mut self.pending);
        if let Some((_, rx)) = self.feed.as_mut() {
            while let Ok(frame) = rx.try_recv() {
                frames.push(frame);
            }
        }
        frames
    }

    /// Resolves with the next published frame; never before the first subscription.
    pub async fn next(&mut self) -> Option<Reply> {
        match self.feed.as_mut() {
            Some((_, rx)) => rx.recv().await,
            None => std::future::pending().await,
        }
    }
}

/// Subscribes the client to `names` of `kind`; returns the last confirmation frame (the
/// command's reply) and queues the others.
pub fn subscribe(ctx: &mut ExecCtx, kind: Kind, names: Vec<Bytes>) -> Reply {
    let id = ctx.client.id();
    let subs = &mut ctx.client.subscriptions;
    let feed = subs
        .feed
        .get_or_insert_with(mpsc::unbounded_channel)
        .0
        .clone();
    let mut frames = Vec::with_capacity(names.len());
    {
        let mut registry = ctx.state.pubsub.registry.lock();
        for name in names {
            if subs.set(kind).insert(name.clone()) {
                registry.add(kind, name.clone(), id, feed.clone());
            }
            let count = subs.count_for(kind);
            frames.push(confirmation(kind.verbs().0, Some(name), count));
        }
    }
    finish(ctx.client, frames)
}

/// Unsubscribes the client from `names` of `kind`, or from all of that kind when `names` is
/// empty; returns the command's reply like [`subscribe`].
pub fn unsubscribe(ctx: &mut ExecCtx, kind: Kind, names: Vec<Bytes>) -> Reply {
    let frames = remove(ctx.state, ctx.client, kind, names);
    finish(ctx.client, frames)
}

fn remove(
    state: &crate::state::ServerState,
    client: &mut ClientState,
    kind: Kind,
    names: Vec<Bytes>,
) -> Vec<Reply> {
    let id = client.id();
    let subs = &mut client.subscriptions;
    let names = if names.is_empty() {
        subs.set(kind).iter().cloned().collect()
    } else {
        names
    };
    let verb = kind.verbs().1;
    if names.is_empty() {
        // Nothing to leave: one frame with a nil channel.
        return vec![confirmation(verb, None, subs.count_for(kind))];
    }
    let mut registry = state.pubsub.registry.lock();
    names
        .into_iter()
        .map(|name| {
            if subs.set(kind).shift_remove(&name) {
                registry.remove(kind, &name, id);
            }
            let count = subs.count_for(kind);
            confirmation(verb, Some(name), count)
        })
        .collect()
}

fn confirmation(verb: &str, name: Option<Bytes>, count: usize) -> Reply {
    Reply::Push(vec![
        Reply::bulk(Bytes::copy_from_slice(verb.as_bytes())),
        name.map_or(Reply::Nil, Reply::Bulk),
        Reply::Integer(count as i64),
    ])
}

/// Queues all frames but the last, which becomes the reply; updates CLIENT LIST.
fn finish(client: &mut ClientState, mut frames: Vec<Reply>) -> Reply {
    let last = frames.pop().unwrap_or(Reply::NilArray);
    client.subscriptions.pending.extend(frames);
    publish_counts(client);
    last
}

/// Shows the subscription counts and the `P` flag in CLIENT LIST.
fn publish_counts(client: &ClientState) {
    let subs = &client.subscriptions;
    {
        let mut info = client.handle.info.lock();
        info.sub = subs.channels.len();
        info.psub = subs.patterns.len();
        info.ssub = subs.shard_channels.len();
    }
    client.handle.set_flag(ClientFlags::PUBSUB, subs.active());
}

/// Drops every subscription of the client (RESET, disconnect) without confirmations.
pub fn leave_all(state: &crate::state::ServerState, client: &mut ClientState) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        if !client.subscriptions.set(kind).is_empty() {
            remove(state, client, kind, Vec::new());
        }
    }
    client.subscriptions.pending.clear();
    publish_counts(client);
}

/// Redis's error for a command other than (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT /
/// RESET from a RESP2 connection in subscribed mode (RESP3 connections may run anything).
pub fn refused_while_subscribed(
    client: &ClientState,
    spec: &CommandSpec,
    name: CommandName,
) -> Option<CmdError> {
    const ALLOWED: [&str; 9] = [
        "subscribe",
        "psubscribe",
        "ssubscribe",
        "unsubscribe",
        "punsubscribe",
        "sunsubscribe",
        "ping",
        "quit",
        "reset",
    ];
    if client.protocol != Protocol::Resp2
        || !client.subscriptions.active()
        || ALLOWED.contains(&spec.name)
    {
        return None;
    }
    Some(CmdError::err(format!(
        "Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
         are allowed in this context"
    )))
}

/// PING's reply: `["pong", message]` on a RESP2 connection in subscribed mode, as Redis
/// answers there; `None` elsewhere (the ordinary PONG / echo).
pub fn subscribed_ping(client: &ClientState, message: Option<Bytes>) -> Option<Reply> {
    (client.protocol == Protocol::Resp2 && client.subscriptions.active()).then(|| {
        Reply::Array(vec![
            Reply::bulk("pong"),
            Reply::Bulk(message.unwrap_or_default()),
        ])
    })
}

/// Publishes the events the keyspace itself sees: `expired` for keys it reclaims (lazily
/// or actively), `new` for keys added and `keymiss` for read lookups that found nothing.
pub struct KeyspaceNotifier(pub Arc<PubSub>);

impl KeyObserver for KeyspaceNotifier {
    /// Change events come after the fact; the notices below arrive as things happen.
    fn on_event(&self, _event: &KeyEvent, _entry: Option<&Entry>) {}

    fn listening(&self) -> bool {
        false
    }

    fn on_notice(&self, notice: KeyNotice, db: usize, key: &Bytes) {
        match notice {
            KeyNotice::Expired => self.0.notify(db, NotifyClass::EXPIRED, "expired", key),
            KeyNotice::Created => self.0.notify(db, NotifyClass::NEW, "new", key),
            KeyNotice::Missed => self.0.notify(db, NotifyClass::KEY_MISS, "keymiss", key),
        }
    }
}

impl ExecCtx<'_> {
    /// Reports `event` of `class` on `key` in the client's database (Redis's
    /// `notifyKeyspaceEvent`). Call it after the change, once per change, with Redis's
    /// event name.
    pub fn notify(&self, class: NotifyClass, event: &str, key: &[u8]) {
        self.notify_in(self.db(), class, event, key);
    }

    /// [`ExecCtx::notify`] for a key of database `db` (MOVE, COPY ... DB).
    pub fn notify_in(&self, db: usize, class: NotifyClass, event: &str, key: &[u8]) {
        self.state.pubsub.notify(db, class, event, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> (Feed, mpsc::UnboundedReceiver<Reply>) {
        mpsc::unbounded_channel()
    }

    #[test]
    fn publish_counts_channel_and_pattern_receivers() {
        let ps = PubSub::default();
        let (tx, mut rx) = feed();
        {
            let mut reg = ps.registry.lock();
            reg.add(Kind::Channel, Bytes::from("news"), 1, tx.clone());
            reg.add(Kind::Pattern, Bytes::from("n*"), 1, tx.clone());
            reg.add(Kind::Pattern, Bytes::from("x*"), 1, tx);
        }
        assert_eq!(ps.publish(b"news", b"hi"), 2);
        assert_eq!(ps.publish(b"other", b"hi"), 0);
        let first = rx.try_recv().unwrap();
        assert_eq!(
            first,
            Reply::Push(vec![
                Reply::bulk("message"),
                Reply::bulk("news"),
                Reply::bulk("hi")
            ])
        );
        let second = rx.try_recv().unwrap();
        assert!(matches!(second, Reply::Push(items) if items.len() == 4));
        assert_eq!(ps.counts(), (1, 2, 0));
        ps.registry.lock().remove(Kind::Pattern, b"x*", 1);
        assert_eq!(ps.counts(), (1, 1, 0));
    }

    #[test]
    fn notify_respects_classes() {
        let ps = PubSub::default();
        let (tx, mut rx) = feed();
        ps.registry
            .lock()
            .add(Kind::Pattern, Bytes::from("__key*"), 7, tx);
        ps.notify(0, NotifyClass::STRING, "set", b"k");
        assert!(rx.try_recv().is_err());
        ps.set_events("KEg$");
        ps.notify(3, NotifyClass::STRING, "set", b"k");
        let chans: Vec<Reply> = [rx.try_recv().unwrap(), rx.try_recv().unwrap()]
            .into_iter()
            .map(|f| match f {
                Reply::Push(items) => items[2].clone(),
                other => other,
            })
            .collect();
        assert_eq!(
            chans,
            vec![
                Reply::bulk("__keyspace@3__:k"),
                Reply::bulk("__keyevent@3__:set")
            ]
        );
        ps.notify(3, NotifyClass::HASH, "hset", b"k");
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn parse_letters() {
        assert!(NotifyClass::parse("AK").contains(NotifyClass::EXPIRED));
        assert!(!NotifyClass::parse("AK").contains(NotifyClass::KEY_MISS));
        assert_eq!(NotifyClass::parse(""), NotifyClass::empty());
    }
}
