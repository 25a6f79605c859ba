//! FT.CONFIG settings (RediSearch 2.10's names, defaults, value texts and errors) that the
//! search commands read. Only settings this engine honours or reports are listed; FT.CONFIG
//! GET of any other name finds nothing and SET of it is `Invalid option`, as RediSearch
//! answers for names it does not know.

use parking_lot::RwLock;

use super::SearchError;

/// The newest query dialect RediSearch 2.10 knows.
pub const MAX_DIALECT: u32 = 4;

/// The settings; internally synchronised so FT.CONFIG SET can change them at any time.
#[derive(Default)]
pub struct SearchConfig {
    values: RwLock<Values>,
}

struct Values {
    timeout_ms: u64,
    on_timeout_fail: bool,
    default_dialect: u32,
    min_prefix: u64,
    max_prefix_expansions: u64,
    /// `None`: unlimited (`-1` on SET).
    max_search_results: Option<u64>,
    max_aggregate_results: Option<u64>,
    cursor_max_idle_ms: u64,
}

impl Default for Values {
    fn default() -> Values {
        Values {
            timeout_ms: 500,
            on_timeout_fail: false,
            default_dialect: 1,
            min_prefix: 2,
            max_prefix_expansions: 200,
            max_search_results: Some(1_000_000),
            max_aggregate_results: None,
            cursor_max_idle_ms: 300_000,
        }
    }
}

/// One setting as FT.CONFIG lists it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Setting {
    MinPrefix,
    MaxSearchResults,
    MaxAggregateResults,
    MaxExpansions,
    MaxPrefixExpansions,
    Timeout,
    OnTimeout,
    CursorMaxIdle,
    DefaultDialect,
}

/// Every setting in RediSearch's listing order, with its name and help text.
const SETTINGS: &[(Setting, &str, &str)] = &[
    (
        Setting::MinPrefix,
        "MINPREFIX",
        "Set the minimum prefix for expansions (`*`)",
    ),
    (
        Setting::MaxSearchResults,
        "MAXSEARCHRESULTS",
        "Maximum number of results from ft.search command",
    ),
    (
        Setting::MaxAggregateResults,
        "MAXAGGREGATERESULTS",
        "Maximum number of results from ft.aggregate command",
    ),
    (
        Setting::MaxExpansions,
        "MAXEXPANSIONS",
        "Maximum prefix expansions to be used in a query",
    ),
    (
        Setting::MaxPrefixExpansions,
        "MAXPREFIXEXPANSIONS",
        "Maximum prefix expansions to be used in a query",
    ),
    (Setting::Timeout, "TIMEOUT", "Query (search) timeout"),
    (
        Setting::OnTimeout,
        "ON_TIMEOUT",
        "Action to perform when search timeout is exceeded (choose RETURN or FAIL)",
    ),
    (
        Setting::CursorMaxIdle,
        "CURSOR_MAX_IDLE",
        "max idle time allowed to be set for cursor, setting it hight might cause high memory consumption.",
    ),
    (
        Setting::DefaultDialect,
        "DEFAULT_DIALECT",
        "Set RediSearch default dialect version throught the lifetime of the server.",
    ),
];

/// One setting's FT.CONFIG GET / HELP entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingInfo {
    pub name: &'static str,
    pub help: &'static str,
    pub value: String,
}

/// Why a value was refused, as RediSearch's argument cursor words it.
const NOT_A_NUMBER: &str = "Could not convert argument to expected type";
const OUT_OF_BOUNDS: &str = "Value is outside acceptable bounds";

/// A whole number of at least `min`, read like RediSearch's `AC_GetLongLong`.
fn whole(value: &[u8], min: i64) -> Result<i64, SearchError> {
    let n: i64 = std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| SearchError::other(NOT_A_NUMBER))?;
    if n < min {
        return Err(SearchError::other(OUT_OF_BOUNDS));
    }
    Ok(n)
}

/// [`whole`] for a setting that cannot be negative.
fn count(value: &[u8], min: i64) -> Result<u64, SearchError> {
    whole(value, min).map(i64::unsigned_abs)
}

/// A result limit: a count, or unlimited for a negative value (`-1`).
fn limit(value: &[u8]) -> Result<Option<u64>, SearchError> {
    let n = whole(value, i64::MIN)?;
    Ok(u64::try_from(n).ok())
}

fn limit_text(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".to_string(), |n| n.to_string())
}

impl SearchConfig {
    /// `DEFAULT_DIALECT` (1).
    pub fn default_dialect(&self) -> u32 {
        self.values.read().default_dialect
    }

    /// `MAXSEARCHRESULTS` (1,000,000): LIMIT offset + count above it is an error.
    /// `u64::MAX` when set to unlimited.
    pub fn max_search_results(&self) -> u64 {
        self.values.read().max_search_results.unwrap_or(u64::MAX)
    }

    /// `MAXAGGREGATERESULTS` (unlimited): FT.AGGREGATE's LIMIT count above it is an error,
    /// and no step keeps more rows. `u64::MAX` when unlimited.
    pub fn max_aggregate_results(&self) -> u64 {
        self.values.read().max_aggregate_results.unwrap_or(u64::MAX)
    }

    /// `CURSOR_MAX_IDLE` (300,000 ms): the default and the largest MAXIDLE of a cursor.
    pub fn cursor_max_idle_ms(&self) -> u64 {
        self.values.read().cursor_max_idle_ms
    }

    /// `TIMEOUT` in milliseconds (500); 0 means no timeout.
    pub fn timeout_ms(&self) -> u64 {
        self.values.read().timeout_ms
    }

    /// `ON_TIMEOUT fail` (default `return`): a query that runs out of time fails with
    /// `Timeout limit was reached` instead of returning what it found.
    pub fn on_timeout_fail(&self) -> bool {
        self.values.read().on_timeout_fail
    }

    /// `MINPREFIX` (2): the shortest prefix a `pre*` query term may have.
    pub fn min_prefix(&self) -> u64 {
        self.values.read().min_prefix
    }

    /// `MAXPREFIXEXPANSIONS` (200): how many terms a prefix query may expand to.
    pub fn max_prefix_expansions(&self) -> u64 {
        self.values.read().max_prefix_expansions
    }

    /// FT.CONFIG GET / HELP: every setting for `*`, else the one called `name` (any case),
    /// if it exists.
    pub fn get(&self, name: &str) -> Vec<SettingInfo> {
        let values = self.values.read();
        SETTINGS
            .iter()
            .filter(|(_, n, _)| name == "*" || n.eq_ignore_ascii_case(name))
            .map(|&(setting, name, help)| SettingInfo {
                name,
                help,
                value: values.text(setting),
            })
            .collect()
    }

    /// FT.CONFIG SET: checks and stores `value`, with RediSearch's error texts.
    pub fn set(&self, name: &str, value: &[u8]) -> Result<(), SearchError> {
        let setting = SETTINGS
            .iter()
            .find(|(_, n, _)| n.eq_ignore_ascii_case(name))
            .map(|(s, _, _)| *s)
            .ok_or_else(|| SearchError::other("Invalid option"))?;
        // Each value is checked before it is stored: a refused one changes nothing.
        let mut values = self.values.write();
        match setting {
            Setting::MinPrefix => values.min_prefix = count(value, 1)?,
            Setting::MaxSearchResults => values.max_search_results = limit(value)?,
            Setting::MaxAggregateResults => values.max_aggregate_results = limit(value)?,
            Setting::MaxExpansions | Setting::MaxPrefixExpansions => {
                values.max_prefix_expansions = count(value, 1)?
            }
            Setting::Timeout => values.timeout_ms = count(value, 0)?,
            Setting::OnTimeout => {
                values.on_timeout_fail = if value.eq_ignore_ascii_case(b"RETURN") {
                    false
                } else if value.eq_ignore_ascii_case(b"FAIL") {
                    true
                } else {
                    return Err(SearchError::other("Invalid ON_TIMEOUT value"));
                }
            }
            Setting::CursorMaxIdle => values.cursor_max_idle_ms = count(value, 1)?,
            Setting::DefaultDialect => {
                let dialect = count(value, 1)?;
                values.default_dialect = u32::try_from(dialect)
                    .ok()
                    .filter(|d| *d <= MAX_DIALECT)
                    .ok_or_else(|| {
                        SearchError::Other(format!(
                            "Default dialect version cannot be higher than {MAX_DIALECT}"
                        ))
                    })?;
            }
        }
        Ok(())
    }
}

impl Values {
    /// A setting's value as FT.CONFIG GET prints it.
    fn text(&self, setting: Setting) -> String {
        match setting {
            Setting::MinPrefix => self.min_prefix.to_string(),
            Setting::MaxSearchResults => limit_text(self.max_search_results),
            Setting::MaxAggregateResults => limit_text(self.max_aggregate_results),
            Setting::MaxExpansions | Setting::MaxPrefixExpansions => {
                self.max_prefix_expansions.to_string()
            }
            Setting::Timeout => self.timeout_ms.to_string(),
            Setting::OnTimeout => if self.on_timeout_fail {
                "fail"
            } else {
                "return"
            }
            .to_string(),
            Setting::CursorMaxIdle => self.cursor_max_idle_ms.to_string(),
            Setting::DefaultDialect => self.default_dialect.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(config: &SearchConfig, name: &str) -> String {
        let found = config.get(name);
        assert_eq!(found.len(), 1, "{name}");
        found[0].value.clone()
    }

    #[test]
    fn defaults_as_redisearch_reports_them() {
        let config = SearchConfig::default();
        let all: Vec<(&str, String)> = config
            .get("*")
            .into_iter()
            .map(|s| (s.name, s.value))
            .collect();
        let expected = [
            ("MINPREFIX", "2"),
            ("MAXSEARCHRESULTS", "1000000"),
            ("MAXAGGREGATERESULTS", "unlimited"),
            ("MAXEXPANSIONS", "200"),
            ("MAXPREFIXEXPANSIONS", "200"),
            ("TIMEOUT", "500"),
            ("ON_TIMEOUT", "return"),
            ("CURSOR_MAX_IDLE", "300000"),
            ("DEFAULT_DIALECT", "1"),
        ];
        let expected: Vec<(&str, String)> =
            expected.iter().map(|(n, v)| (*n, v.to_string())).collect();
        assert_eq!(all, expected);
        assert_eq!(config.default_dialect(), 1);
        assert_eq!(config.max_search_results(), 1_000_000);
        assert_eq!(config.timeout_ms(), 500);
        assert!(!config.on_timeout_fail());
        assert_eq!(
            (config.min_prefix(), config.max_prefix_expansions()),
            (2, 200)
        );
        assert!(config.get("nope").is_empty());
        assert_eq!(config.get("timeout")[0].help, "Query (search) timeout");
    }

    #[test]
    fn set_changes_what_commands_read() {
        let config = SearchConfig::default();
        config.set("timeout", b"100").expect("set");
        assert_eq!(config.timeout_ms(), 100);
        assert_eq!(value(&config, "TIMEOUT"), "100");
        config.set("DEFAULT_DIALECT", b"2").expect("set");
        assert_eq!(config.default_dialect(), 2);
        config.set("ON_TIMEOUT", b"FAIL").expect("set");
        assert!(config.on_timeout_fail());
        assert_eq!(value(&config, "ON_TIMEOUT"), "fail");
        config.set("MAXSEARCHRESULTS", b"-1").expect("set");
        assert_eq!(config.max_search_results(), u64::MAX);
        assert_eq!(value(&config, "MAXSEARCHRESULTS"), "unlimited");
        config.set("MAXAGGREGATERESULTS", b"5").expect("set");
        assert_eq!(value(&config, "MAXAGGREGATERESULTS"), "5");
        // The two expansion names are one setting.
        config.set("MAXEXPANSIONS", b"7").expect("set");
        assert_eq!(config.max_prefix_expansions(), 7);
        assert_eq!(value(&config, "MAXPREFIXEXPANSIONS"), "7");
        config.set("MINPREFIX", b"3").expect("set");
        assert_eq!(config.min_prefix(), 3);
        config.set("CURSOR_MAX_IDLE", b"1000").expect("set");
        assert_eq!(value(&config, "CURSOR_MAX_IDLE"), "1000");
    }

    #[test]
    fn refused_values_change_nothing() {
        let config = SearchConfig::default();
        let err = |name: &str, value: &[u8]| config.set(name, value).expect_err(name).to_string();
        assert_eq!(err("NOPE", b"1"), "Invalid option");
        assert_eq!(err("TIMEOUT", b"soon"), NOT_A_NUMBER);
        assert_eq!(err("TIMEOUT", b"-1"), OUT_OF_BOUNDS);
        assert_eq!(err("MINPREFIX", b"0"), OUT_OF_BOUNDS);
        assert_eq!(err("ON_TIMEOUT", b"panic"), "Invalid ON_TIMEOUT value");
        assert_eq!(
            err("DEFAULT_DIALECT", b"5"),
            "Default dialect version cannot be higher than 4"
        );
        assert_eq!(err("DEFAULT_DIALECT", b"0"), OUT_OF_BOUNDS);
        assert_eq!(config.timeout_ms(), 500);
        assert_eq!(config.default_dialect(), 1);
    }
}
