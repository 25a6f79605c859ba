//! The stream value: its data structure and the encoding name Redis would report.
//! Depends only on `bytes`; the commands live in `commands::stream`.

use bytes::Bytes;

/// A stream. Skeleton: the commands that create one are not built yet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamValue {
    items: Vec<Bytes>,
}

impl StreamValue {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        "stream"
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
