//! The set value: its data structure and the encoding name Redis would report.
//! Depends only on `bytes`; the commands live in `commands::set`.

use bytes::Bytes;

/// A set. Skeleton: the commands that create one are not built yet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SetValue {
    items: Vec<Bytes>,
}

impl SetValue {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.items.iter().any(|m| m.as_ref() == member)
    }

    /// The member at `index` in the set's iteration order.
    pub fn get_index(&self, index: usize) -> Option<&Bytes> {
        self.items.get(index)
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Bytes held, estimated from up to `samples` elements (MEMORY USAGE).
    pub fn memory_usage(&self, samples: usize) -> usize {
        let sampled: Vec<usize> = self
            .items
            .iter()
            .take(samples.max(1))
            .map(Bytes::len)
            .collect();
        let average = sampled.iter().sum::<usize>() / sampled.len().max(1);
        self.items.capacity() * std::mem::size_of::<Bytes>() + average * self.items.len()
    }
}
