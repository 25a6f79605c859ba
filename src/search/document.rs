//! Document ids and the table between keys and ids of one index, with the values each
//! document was indexed with.
//!
//! Every (re-)indexing of a key gets a fresh [`DocId`]; ids are never reused, so a stale id
//! met in any structure (a tombstoned graph node, an old tag posting) is simply not live.
//! Default result order (KNN without SORTBY, `*`) is ascending doc id: indexing order.
//!
//! The stored values serve SORTBY, ISMISSING and the removal of a document from the field
//! indexes (which re-derive their entries from them). Knows nothing of the field indexes.
//!
//! Documents whose key has a time to live are also kept by expiry time: as in RediSearch
//! 2.10, a query does not return a document whose key has expired but has not been
//! reclaimed yet (expiry runs lazily and by sampling, so that gap can last a while).

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use roaring::RoaringBitmap;

use super::fields::geo::GeoPoint;

/// An index-internal document number. Never reused within one index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocId(pub u32);

/// The value a document has for one schema field, as it was indexed.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A NUMERIC field's number.
    Number(f64),
    /// A TEXT or TAG field's raw text.
    Text(String),
    /// A GEO field's point, and its text as written (what SORTBY compares).
    Geo(GeoPoint, String),
    /// A VECTOR field is present (the vector itself lives in the vector index).
    Vector,
}

/// One indexed document.
#[derive(Debug, Clone)]
pub struct Document {
    pub key: Bytes,
    /// One entry per schema field, in schema order; `None` when the hash lacks the field.
    pub values: Box<[Option<FieldValue>]>,
    /// When the key expires (Unix milliseconds), if it has a time to live.
    pub expire_at: Option<u64>,
}

/// Keys <-> live doc ids.
#[derive(Default)]
pub struct DocTable {
    ids: HashMap<Bytes, DocId>,
    docs: HashMap<DocId, Document>,
    live: RoaringBitmap,
    /// (expiry time, id) of the documents whose key has a time to live.
    expiring: BTreeSet<(u64, u32)>,
    /// The highest id handed out (0: none yet).
    max_id: u32,
    /// Approximate bytes held by the documents, kept up to date (FT.INFO reads it often).
    bytes: usize,
}

impl DocTable {
    /// Adds `doc` under a fresh id. The caller has removed any earlier document of the key.
    pub fn insert(&mut self, doc: Document) -> DocId {
        self.max_id += 1;
        let id = DocId(self.max_id);
        self.bytes += doc.memory_bytes();
        self.ids.insert(doc.key.clone(), id);
        self.live.insert(id.0);
        if let Some(at) = doc.expire_at {
            self.expiring.insert((at, id.0));
        }
        self.docs.insert(id, doc);
        id
    }

    /// An id no document will have: for index entries that belong to no document.
    pub fn reserve_id(&mut self) -> u32 {
        self.max_id += 1;
        self.max_id
    }

    /// Removes the document of `key`, returning its id and contents.
    pub fn remove(&mut self, key: &[u8]) -> Option<(DocId, Document)> {
        let id = self.ids.remove(key)?;
        self.live.remove(id.0);
        let doc = self.docs.remove(&id)?;
        if let Some(at) = doc.expire_at {
            self.expiring.remove(&(at, id.0));
        }
        self.bytes -= doc.memory_bytes();
        Some((id, doc))
    }

    /// Forgets every document; ids keep growing.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.docs.clear();
        self.live.clear();
        self.expiring.clear();
        self.bytes = 0;
    }

    pub fn id_of(&self, key: &[u8]) -> Option<DocId> {
        self.ids.get(key).copied()
    }

    pub fn get(&self, id: DocId) -> Option<&Document> {
        self.docs.get(&id)
    }

    /// Ids of every live document.
    pub fn live(&self) -> &RoaringBitmap {
        &self.live
    }

    /// Ids of the live documents whose key has not expired at `now_ms` (Unix milliseconds):
    /// what a query may return. Borrowed unless some key has expired unreclaimed.
    pub fn live_at(&self, now_ms: u64) -> Cow<'_, RoaringBitmap> {
        let mut expired = self
            .expiring
            .range(..=(now_ms, u32::MAX))
            .map(|&(_, id)| id)
            .peekable();
        if expired.peek().is_none() {
            return Cow::Borrowed(&self.live);
        }
        let mut live = self.live.clone();
        expired.for_each(|id| {
            live.remove(id);
        });
        Cow::Owned(live)
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The highest id ever handed out (FT.INFO `max_doc_id`).
    pub fn max_id(&self) -> u32 {
        self.max_id
    }

    /// Approximate bytes held by keys and stored values.
    pub fn memory_bytes(&self) -> usize {
        self.bytes + self.live.serialized_size()
    }
}

impl Document {
    /// Approximate bytes this document takes in the table (key twice: both maps).
    fn memory_bytes(&self) -> usize {
        let values: usize = self
            .values
            .iter()
            .map(|v| match v {
                Some(FieldValue::Text(s) | FieldValue::Geo(_, s)) => s.len() + 32,
                _ => 16,
            })
            .sum();
        2 * (self.key.len() + std::mem::size_of::<Bytes>()) + 48 + values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(key: &str) -> Document {
        Document {
            key: Bytes::from(key.to_string()),
            values: Box::new([]),
            expire_at: None,
        }
    }

    #[test]
    fn ids_are_fresh_and_never_reused() {
        let mut t = DocTable::default();
        let a = t.insert(doc("a"));
        let b = t.insert(doc("b"));
        assert_eq!((a, b), (DocId(1), DocId(2)));
        let (old, _) = t.remove(b"a").expect("a is indexed");
        assert_eq!(old, a);
        let a2 = t.insert(doc("a"));
        assert_eq!(a2, DocId(3));
        assert_eq!(t.id_of(b"a"), Some(a2));
        assert_eq!(t.live().iter().collect::<Vec<_>>(), vec![2, 3]);
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.insert(doc("c")), DocId(4));
        assert_eq!(t.max_id(), 4);
    }

    #[test]
    fn documents_of_expired_keys_are_not_live_at_later_times() {
        let mut t = DocTable::default();
        let a = t.insert(doc("a"));
        let b = t.insert(Document {
            expire_at: Some(100),
            ..doc("b")
        });
        let ids = |t: &DocTable, now| t.live_at(now).iter().collect::<Vec<_>>();
        assert_eq!(ids(&t, 99), [a.0, b.0]);
        assert!(matches!(t.live_at(99), Cow::Borrowed(_)));
        assert_eq!(ids(&t, 100), [a.0]);
        // Re-indexed without a TTL (PERSIST), the key is live again.
        t.remove(b"b");
        let b2 = t.insert(doc("b"));
        assert_eq!(ids(&t, 1_000), [a.0, b2.0]);
    }
}
