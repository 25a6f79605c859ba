//! The FT.* commands (RediSearch 2.10's surface): argument parsing and reply building over
//! `crate::search`. Index administration lives in `admin`, FT.SEARCH in `query`, FT.AGGREGATE
//! and FT.CURSOR in `aggregate`, FT.HYBRID in `hybrid`, FT.EXPLAIN in `explain`, FT.PROFILE
//! in `profile`, the initial scan of FT.CREATE (and the re-scan after SWAPDB) in `backfill`,
//! FT.SUG* (suggestion dictionaries, which are keys) in `suggest`, FT.DICT* in `dict`,
//! FT.SPELLCHECK in `spellcheck` and FT.SYNUPDATE / SYNDUMP in `synonyms`; the module's
//! INFO sections (`INFO search`) are built in `info`.
//!
//! Errors are RediSearch's texts, which carry no `ERR` prefix ([`search_error`]).

mod admin;
mod aggregate;
pub mod backfill;
mod dict;
mod explain;
mod hybrid;
pub mod info;
mod profile;
mod query;
mod spellcheck;
mod suggest;
mod synonyms;

pub use admin::{MODULE_NAME, module_entry, module_info_line};

use super::table::{CommandSpec, Flags, KeyFlags, KeySpec};
use crate::error::CmdError;
use crate::search::SearchError;

/// Module commands report the group `module`, as Redis lists commands modules add.
const G: &str = "module";

/// A search-layer error as the reply line RediSearch sends.
pub fn search_error(err: SearchError) -> CmdError {
    CmdError::Coded(err.to_string())
}

/// An argument as text (names, terms), read leniently.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A count as an integer reply.
fn count_reply(n: usize) -> crate::protocol::Reply {
    crate::protocol::Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

impl From<SearchError> for CmdError {
    fn from(err: SearchError) -> CmdError {
        search_error(err)
    }
}

/// The dictionary key of FT.SUG*, read or written.
const SUG_READ: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO)];
const SUG_WRITE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_UPDATE)];

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Creates an index with the given spec",
        since: "1.0.0",
        ..CommandSpec::new(
            "ft.create",
            -2,
            Flags::WRITE.union(Flags::DENYOOM),
            G,
            admin::ft_create,
        )
    },
    CommandSpec {
        summary: "Searches the index with a textual query, returning either documents or just ids",
        since: "1.0.0",
        ..CommandSpec::new("ft.search", -3, Flags::READONLY, G, query::ft_search)
    },
    CommandSpec {
        summary: "Run a search query on an index and perform aggregate transformations on the results",
        since: "1.1.0",
        ..CommandSpec::new(
            "ft.aggregate",
            -3,
            Flags::READONLY,
            G,
            aggregate::ft_aggregate,
        )
    },
    CommandSpec {
        summary: "Performs hybrid search combining text search and vector similarity search",
        since: "8.4.0",
        ..CommandSpec::new("ft.hybrid", -7, Flags::READONLY, G, hybrid::ft_hybrid)
    },
    CommandSpec {
        summary: "Reads from or deletes a cursor of an aggregation",
        since: "1.1.0",
        ..CommandSpec::new("ft.cursor", -4, Flags::READONLY, G, aggregate::ft_cursor)
    },
    CommandSpec {
        summary: "Performs a `FT.SEARCH` or `FT.AGGREGATE` command and collects performance information",
        since: "2.2.0",
        ..CommandSpec::new("ft.profile", -5, Flags::READONLY, G, profile::ft_profile)
    },
    CommandSpec {
        summary: "Adds a new field to the index",
        since: "1.0.0",
        ..CommandSpec::new("ft.alter", -2, Flags::WRITE, G, admin::ft_alter)
    },
    CommandSpec {
        summary: "Returns information and statistics on the index",
        since: "1.0.0",
        ..CommandSpec::new("ft.info", 2, Flags::READONLY, G, admin::ft_info)
    },
    CommandSpec {
        summary: "Returns a list of all existing indexes",
        since: "2.0.0",
        ..CommandSpec::new("ft._list", 1, Flags::READONLY, G, admin::ft_list)
    },
    CommandSpec {
        summary: "Deletes the index",
        since: "2.0.0",
        ..CommandSpec::new("ft.dropindex", -2, Flags::WRITE, G, admin::ft_dropindex)
    },
    CommandSpec {
        summary: "Returns the execution plan for a complex query",
        since: "1.0.0",
        ..CommandSpec::new("ft.explain", -3, Flags::READONLY, G, explain::ft_explain)
    },
    CommandSpec {
        summary: "Returns the execution plan for a complex query",
        since: "1.0.0",
        ..CommandSpec::new(
            "ft.explaincli",
            -3,
            Flags::READONLY,
            G,
            explain::ft_explaincli,
        )
    },
    CommandSpec {
        summary: "Returns the distinct tags indexed in a Tag field",
        since: "1.0.0",
        ..CommandSpec::new("ft.tagvals", 3, Flags::READONLY, G, admin::ft_tagvals)
    },
    CommandSpec {
        summary: "Adds an alias to the index",
        since: "1.0.0",
        ..CommandSpec::new("ft.aliasadd", 3, Flags::WRITE, G, admin::ft_aliasadd)
    },
    CommandSpec {
        summary: "Adds or updates an alias to the index",
        since: "1.0.0",
        ..CommandSpec::new("ft.aliasupdate", 3, Flags::WRITE, G, admin::ft_aliasupdate)
    },
    CommandSpec {
        summary: "Deletes an alias from the index",
        since: "1.0.0",
        ..CommandSpec::new("ft.aliasdel", 2, Flags::WRITE, G, admin::ft_aliasdel)
    },
    CommandSpec {
        summary: "Sets runtime configuration options, or retrieves them",
        since: "1.0.0",
        ..CommandSpec::new("ft.config", -2, Flags::ADMIN, G, admin::ft_config)
    },
    CommandSpec {
        summary: "Adds a suggestion string to an auto-complete suggestion dictionary",
        since: "1.0.0",
        keys: SUG_WRITE,
        ..CommandSpec::new(
            "ft.sugadd",
            -4,
            Flags::WRITE.union(Flags::DENYOOM),
            G,
            suggest::ft_sugadd,
        )
    },
    CommandSpec {
        summary: "Gets completion suggestions for a prefix",
        since: "1.0.0",
        keys: SUG_READ,
        ..CommandSpec::new("ft.sugget", -3, Flags::READONLY, G, suggest::ft_sugget)
    },
    CommandSpec {
        summary: "Deletes a string from a suggestion index",
        since: "1.0.0",
        keys: SUG_WRITE,
        ..CommandSpec::new("ft.sugdel", 3, Flags::WRITE, G, suggest::ft_sugdel)
    },
    CommandSpec {
        summary: "Gets the size of an auto-complete suggestion dictionary",
        since: "1.0.0",
        keys: SUG_READ,
        ..CommandSpec::new("ft.suglen", 2, Flags::READONLY, G, suggest::ft_suglen)
    },
    CommandSpec {
        summary: "Adds terms to a dictionary",
        since: "1.4.0",
        ..CommandSpec::new(
            "ft.dictadd",
            -3,
            Flags::WRITE.union(Flags::DENYOOM),
            G,
            dict::ft_dictadd,
        )
    },
    CommandSpec {
        summary: "Deletes terms from a dictionary",
        since: "1.4.0",
        ..CommandSpec::new("ft.dictdel", -3, Flags::WRITE, G, dict::ft_dictdel)
    },
    CommandSpec {
        summary: "Dumps all terms in the given dictionary",
        since: "1.4.0",
        ..CommandSpec::new("ft.dictdump", 2, Flags::READONLY, G, dict::ft_dictdump)
    },
    CommandSpec {
        summary: "Performs spelling correction on a query, returning suggestions for misspelled terms",
        since: "1.4.0",
        ..CommandSpec::new(
            "ft.spellcheck",
            -3,
            Flags::READONLY,
            G,
            spellcheck::ft_spellcheck,
        )
    },
    CommandSpec {
        summary: "Creates or updates a synonym group with additional terms",
        since: "1.2.0",
        ..CommandSpec::new("ft.synupdate", -4, Flags::WRITE, G, synonyms::ft_synupdate)
    },
    CommandSpec {
        summary: "Dumps the contents of a synonym group",
        since: "1.2.0",
        ..CommandSpec::new("ft.syndump", 2, Flags::READONLY, G, synonyms::ft_syndump)
    },
];
