//! The FT.* commands (RediSearch 2.10's surface): argument parsing and reply building over
//! `crate::search`. Index administration lives in `admin`, FT.SEARCH in `query`, FT.EXPLAIN
//! in `explain`, FT.PROFILE in `profile`, the initial scan of FT.CREATE (and the re-scan after
//! SWAPDB) in `backfill`.
//!
//! Errors are RediSearch's texts, which carry no `ERR` prefix ([`search_error`]).

mod admin;
pub mod backfill;
mod explain;
mod profile;
mod query;

pub use admin::{MODULE_NAME, module_entry, module_info_line};

use super::table::{CommandSpec, Flags};
use crate::error::CmdError;
use crate::search::SearchError;

/// Module commands report the group `module`, as Redis lists commands modules add.
const G: &str = "module";

/// A search-layer error as the reply line RediSearch sends.
pub fn search_error(err: SearchError) -> CmdError {
    CmdError::Coded(err.to_string())
}

impl From<SearchError> for CmdError {
    fn from(err: SearchError) -> CmdError {
        search_error(err)
    }
}

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
];
