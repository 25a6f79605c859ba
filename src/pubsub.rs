//! Pub/sub delivery and keyspace notifications.
//!
//! Handlers report what they did to a key with [`ExecCtx::notify`] (Redis's
//! `notifyKeyspaceEvent`): the event class, the event name Redis uses (`lpush`, `expire`,
//! `del` ...) and the key. When `notify-keyspace-events` enables the class, the event is
//! published on `__keyspace@<db>__:<key>` and / or `__keyevent@<db>__:<event>`.

use bitflags::bitflags;

use crate::commands::ExecCtx;

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
    }
}

impl ExecCtx<'_> {
    /// Reports `event` of `class` on `key` in the client's database (Redis's
    /// `notifyKeyspaceEvent`). Call it after the change, once per change, with Redis's
    /// event name.
    pub fn notify(&self, class: NotifyClass, event: &str, key: &[u8]) {
        // Delivery arrives with the pub/sub registry; until then nothing subscribes.
        let _ = (class, event, key);
    }
}
