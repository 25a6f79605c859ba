//! Change events the keyspace emits for every mutation, and the observer trait that search
//! indexes (and other subscribers) implement.
//!
//! Events are delivered while the shard locks of the write are still held, so the events of
//! one key arrive in the order the writes happened.

use bytes::Bytes;

use super::value::Entry;

/// What happened to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyEventKind {
    /// The key was created or its value changed.
    Written,
    /// The key was removed by a command (DEL, UNLINK, GETDEL, HDEL to empty, RENAME source ...).
    Deleted,
    /// The key reached its expiry time and was reclaimed.
    Expired,
    /// Active expiry deleted hash fields whose time had come (Redis's `hexpired`); a
    /// `Written` event for the key follows (`Deleted` when no field is left).
    FieldsExpired,
    /// The key was created by renaming `from`; a `Deleted` event for `from` comes first.
    Renamed { from: Bytes },
    /// Every key of the database was removed (FLUSHDB, FLUSHALL); `key` is empty.
    Flushed,
    /// The database's contents were exchanged with database `other` (SWAPDB); `key` is empty.
    Swapped { other: usize },
}

/// One change to the keyspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEvent {
    pub db: usize,
    pub key: Bytes,
    pub kind: KeyEventKind,
}

/// Something that follows keyspace changes. `entry` is the key's value and expiry after
/// the change (`None` when it no longer exists). Called with shard locks held:
/// implementations must be quick and must never call back into the keyspace.
pub trait KeyObserver: Send + Sync {
    fn on_event(&self, event: &KeyEvent, entry: Option<&Entry>);

    /// Whether the observer wants change events now. Writes record no events while no
    /// observer does (and nothing needs them otherwise), which keeps plain writes free of
    /// that work; an observer that only sometimes follows changes (WATCH, blocked clients)
    /// answers from an atomic counter.
    fn listening(&self) -> bool {
        true
    }

    /// Called before database `db` loses its contents: emptied by FLUSHDB / FLUSHALL
    /// (`replaced_with` is `None`) or exchanged by SWAPDB with `replaced_with` (called once
    /// for each side, before the swap). `stored(db, key)` says whether `key` is stored in a
    /// database and, if so, whether it has logically expired — what WATCH needs to know about
    /// the keys a whole-database change touches, which the `Flushed` / `Swapped` event that
    /// follows no longer can. Called with the shard locks held, like `on_event`.
    fn before_db_replaced(
        &self,
        _db: usize,
        _replaced_with: Option<usize>,
        _stored: &dyn Fn(usize, &[u8]) -> Option<bool>,
    ) {
    }

    /// A [`KeyNotice`] about `key` of database `db`, reported the moment it happens (shard
    /// locks held, before the write's change events), so that it falls in program order
    /// with what the command reports itself; only for the notices
    /// [`Keyspace::report_notices`](super::Keyspace::report_notices) asks for.
    fn on_notice(&self, _notice: KeyNotice, _db: usize, _key: &Bytes) {}
}

/// What keyspace notifications `expired`, `new` and `keymiss` report, as it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyNotice {
    /// The key reached its expiry time and was reclaimed (lazily or by the expiry cycle).
    Expired,
    /// The key was added (Redis's `dbAdd`: a new key, or one written afresh by RENAME,
    /// MOVE, COPY, RESTORE).
    Created,
    /// A read lookup (one that counts a keyspace miss) found no key.
    Missed,
}
