//! FT.CONFIG settings (RediSearch's names and defaults) that the search commands read.

/// The settings; internally synchronised so FT.CONFIG SET can change them at any time.
#[derive(Default)]
pub struct SearchConfig {}

impl SearchConfig {
    /// `DEFAULT_DIALECT` (1).
    pub fn default_dialect(&self) -> u32 {
        todo!()
    }

    /// `MAXSEARCHRESULTS` (1,000,000): LIMIT offset + count above it is an error.
    pub fn max_search_results(&self) -> u64 {
        todo!()
    }

    /// `TIMEOUT` in milliseconds (500).
    pub fn timeout_ms(&self) -> u64 {
        todo!()
    }
}
