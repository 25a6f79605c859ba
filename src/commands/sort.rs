//! SORT and SORT_RO: sort the elements of a list, set or sorted set numerically or
//! lexicographically, optionally by the values of other keys (BY pattern), return other keys'
//! values per element (GET pattern), page (LIMIT) and store the result as a list (STORE).
//!
//! The semantics follow Redis's sort.c: a BY pattern without `*` means "do not sort" (the
//! elements keep their native order, except a set being stored, which is sorted
//! lexicographically so the result is deterministic); numeric ties are broken by comparing the
//! elements' bytes; a missing BY value sorts as 0 (numeric) or first (ALPHA); a value that is
//! not a number fails the whole command after the sort.

use bytes::Bytes;

use super::args::parse_i64;
use super::table::{Acl, CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::{Guard, ListValue, Ttl, Value};
use crate::protocol::Reply;
use crate::pubsub::NotifyClass;

const G: &str = "generic";
const SORT_ACL: Acl = Acl::SET
    .union(Acl::SORTEDSET)
    .union(Acl::LIST)
    .union(Acl::DANGEROUS);
const BY_GET_NOTES: &str = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: &[
            KeySpec::key(1, KeyFlags::RO.union(KeyFlags::ACCESS)),
            KeySpec::unknown(KeyFlags::RO.union(KeyFlags::ACCESS)).notes(BY_GET_NOTES),
            KeySpec::unknown(KeyFlags::OW.union(KeyFlags::UPDATE)).notes(
                "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
            ),
        ],
        acl: SORT_ACL,
        getkeys: Some(sort_keys),
        summary: "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
        complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        ..CommandSpec::new("sort", -2, Flags::WRITE.union(Flags::DENYOOM), G, sort)
    },
    CommandSpec {
        keys: &[
            KeySpec::key(1, KeyFlags::RO.union(KeyFlags::ACCESS)),
            KeySpec::unknown(KeyFlags::RO.union(KeyFlags::ACCESS)).notes(BY_GET_NOTES),
        ],
        acl: SORT_ACL,
        getkeys: Some(sort_ro_keys),
        summary: "Returns the sorted elements of a list, a set, or a sorted set.",
        since: "7.0.0",
        complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        ..CommandSpec::new("sort_ro", -2, Flags::READONLY, G, sort_ro)
    },
];

/// SORT's keys as Redis's `sortGetKeys` finds them: the sorted key, and the last STORE
/// destination (the arguments of LIMIT, GET and BY are skipped).
fn sort_keys(argv: &[Bytes]) -> Option<Vec<(usize, KeyFlags)>> {
    let mut keys = vec![(1, KeyFlags::RO.union(KeyFlags::ACCESS))];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let word = &argv[i];
        if word.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if word.eq_ignore_ascii_case(b"get") || word.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if word.eq_ignore_ascii_case(b"store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store.map(|at| (at, KeyFlags::OW.union(KeyFlags::UPDATE))));
    Some(keys)
}

fn sort_ro_keys(_argv: &[Bytes]) -> Option<Vec<(usize, KeyFlags)>> {
    Some(vec![(1, KeyFlags::RO.union(KeyFlags::ACCESS))])
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]`
fn sort(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    sort_generic(ctx, args, false)
}

/// `SORT_RO`: SORT without STORE.
fn sort_ro(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    sort_generic(ctx, args, true)
}

/// The parsed options.
#[derive(Default)]
struct SortOptions {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    by: Option<Bytes>,
    /// BY names a constant key: keep the elements' native order.
    dont_sort: bool,
    gets: Vec<Bytes>,
    store: Option<Bytes>,
}

impl SortOptions {
    /// Parses the options as Redis does, left to right, the last one of a kind winning.
    fn parse(argv: &[Bytes], readonly: bool) -> Result<SortOptions, CmdError> {
        let mut opts = SortOptions {
            limit_count: -1,
            ..SortOptions::default()
        };
        let mut i = 2;
        while i < argv.len() {
            let word = &argv[i];
            let left = argv.len() - i - 1;
            let is = |name: &str| word.eq_ignore_ascii_case(name.as_bytes());
            if is("asc") {
                opts.desc = false;
            } else if is("desc") {
                opts.desc = true;
            } else if is("alpha") {
                opts.alpha = true;
            } else if is("limit") && left >= 2 {
                opts.limit_start = parse_i64(&argv[i + 1])?;
                opts.limit_count = parse_i64(&argv[i + 2])?;
                i += 2;
            } else if !readonly && is("store") && left >= 1 {
                opts.store = Some(argv[i + 1].clone());
                i += 1;
            } else if is("by") && left >= 1 {
                let pattern = argv[i + 1].clone();
                opts.dont_sort = !pattern.contains(&b'*');
                opts.by = Some(pattern);
                i += 1;
            } else if is("get") && left >= 1 {
                opts.gets.push(argv[i + 1].clone());
                i += 1;
            } else {
                return Err(CmdError::Syntax);
            }
            i += 1;
        }
        Ok(opts)
    }
}

/// One element being sorted and what it sorts by.
struct Item {
    element: Bytes,
    score: f64,
    /// ALPHA with BY: the looked-up value (`None` when missing, sorted first).
    by_text: Option<Bytes>,
}

fn sort_generic(ctx: &mut ExecCtx, args: &mut Args, readonly: bool) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let mut opts = SortOptions::parse(&argv, readonly)?;
    let key = &argv[1];
    let list_limit = ctx.encodings().list_max_listpack_size;
    // BY and GET patterns may name any key of the database.
    let mut guard = ctx.ks().lock_db(ctx.db());
    let source = match guard.get(key) {
        None => Source::Missing,
        Some(Value::List(list)) => Source::List(list.iter().cloned().collect()),
        Some(Value::Set(set)) => Source::Set(set.members().iter().cloned().collect()),
        Some(Value::ZSet(zset)) => {
            let mut members = Vec::with_capacity(zset.len());
            zset.for_range(0, zset.len(), |_, member| members.push(member.clone()));
            Source::ZSet(members)
        }
        Some(_) => return Err(CmdError::WrongType),
    };
    // Redis sorts a set it stores even with a constant BY, so the stored list does not depend
    // on the set's internal order.
    if opts.dont_sort && matches!(source, Source::Set(_)) && opts.store.is_some() {
        opts.dont_sort = false;
        opts.alpha = true;
        opts.by = None;
    }
    let native_order = matches!(source, Source::List(_) | Source::ZSet(_));
    let elements = source.into_elements();
    let len = i64::try_from(elements.len()).unwrap_or(i64::MAX);
    // LIMIT as Redis clamps it: `start..=end` of the sorted vector.
    let mut start = opts.limit_start.clamp(0, len);
    let count = opts.limit_count.clamp(-1, len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);

    let mut items: Vec<Item> = if opts.dont_sort && native_order {
        // The native order read from the requested end, already limited.
        let mut picked: Vec<Bytes> = if opts.desc {
            elements.into_iter().rev().collect()
        } else {
            elements
        };
        if end >= start {
            picked = picked
                .into_iter()
                .skip(start as usize)
                .take((end - start + 1) as usize)
                .collect();
        } else {
            picked.clear();
        }
        end -= start;
        start = 0;
        picked.into_iter().map(Item::unscored).collect()
    } else {
        elements.into_iter().map(Item::unscored).collect()
    };

    if !opts.dont_sort {
        let mut not_a_number = false;
        for item in &mut items {
            let by_value = match &opts.by {
                Some(pattern) => match lookup_by_pattern(&mut guard, pattern, &item.element) {
                    Some(value) => value,
                    None => continue,
                },
                None => item.element.clone(),
            };
            if opts.alpha {
                if opts.by.is_some() {
                    item.by_text = Some(by_value);
                }
            } else {
                match strtod(&by_value) {
                    Some(score) => item.score = score,
                    None => not_a_number = true,
                }
            }
        }
        let (alpha, by, desc) = (opts.alpha, opts.by.is_some(), opts.desc);
        items.sort_by(|a, b| {
            let order = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.element.cmp(&b.element))
            } else if by {
                // A missing value sorts before any present one.
                a.by_text.cmp(&b.by_text)
            } else {
                a.element.cmp(&b.element)
            };
            if desc { order.reverse() } else { order }
        });
        if not_a_number {
            return Err(CmdError::err(
                "One or more scores can't be converted into double",
            ));
        }
    }

    let selected: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let mut output: Vec<Option<Bytes>> = Vec::new();
    for item in selected {
        if opts.gets.is_empty() {
            output.push(Some(item.element.clone()));
        }
        for pattern in &opts.gets {
            output.push(lookup_by_pattern(&mut guard, pattern, &item.element));
        }
    }

    let Some(dest) = opts.store else {
        return Ok(Reply::Array(
            output
                .into_iter()
                .map(|value| value.map_or(Reply::Nil, Reply::Bulk))
                .collect(),
        ));
    };
    let stored = output.len();
    if stored > 0 {
        let list = ListValue::from_items(
            output.into_iter().map(Option::unwrap_or_default),
            list_limit,
        );
        guard.insert(dest.clone(), Value::List(list), Ttl::Clear);
        drop(guard);
        ctx.notify(NotifyClass::LIST, "sortstore", &dest);
    } else if guard.remove(&dest).is_some() {
        drop(guard);
        ctx.notify(NotifyClass::GENERIC, "del", &dest);
    }
    Ok(Reply::Integer(stored as i64))
}

/// The elements of the sorted key, in its native order.
enum Source {
    Missing,
    List(Vec<Bytes>),
    Set(Vec<Bytes>),
    ZSet(Vec<Bytes>),
}

impl Source {
    fn into_elements(self) -> Vec<Bytes> {
        match self {
            Source::Missing => Vec::new(),
            Source::List(items) | Source::Set(items) | Source::ZSet(items) => items,
        }
    }
}

impl Item {
    fn unscored(element: Bytes) -> Item {
        Item {
            element,
            score: 0.0,
            by_text: None,
        }
    }
}

/// The value a BY or GET pattern names for `element` (Redis's `lookupKeyByPattern`): `#` is
/// the element itself; otherwise the first `*` is replaced by the element, and a `->field`
/// suffix reads that field of a hash instead of a string. `None` when the pattern has no
/// `*`, the key is missing or holds another type, or the field is missing.
fn lookup_by_pattern(guard: &mut Guard, pattern: &[u8], element: &Bytes) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(element.clone());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    // `->` after the `*`, followed by at least one character, names a hash field.
    let (suffix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(at) if at + 2 < after.len() => (&after[..at], Some(&after[at + 2..])),
        _ => (after, None),
    };
    let mut name = Vec::with_capacity(pattern.len() + element.len());
    name.extend_from_slice(&pattern[..star]);
    name.extend_from_slice(element);
    name.extend_from_slice(suffix);
    match (guard.get(&name)?, field) {
        (Value::Str(s), None) => Some(Bytes::clone(s)),
        (Value::Hash(h), Some(field)) => h.get(field).cloned(),
        _ => None,
    }
}

/// A sort weight as C's `strtod` reads it in Redis: leading white space allowed, the whole
/// text (up to a NUL byte) must be the number, no NaN and no overflow or underflow. An empty
/// text is 0.
fn strtod(text: &[u8]) -> Option<f64> {
    let text = text.split(|&b| b == 0).next().unwrap_or_default();
    if text.is_empty() {
        return Some(0.0);
    }
    let trimmed = text
        .iter()
        .position(|b| !b" \t\n\x0b\x0c\r".contains(b))
        .map_or(&text[text.len()..], |at| &text[at..]);
    let number = std::str::from_utf8(trimmed).ok()?;
    let value: f64 = number.parse().ok()?;
    let lower = number.to_ascii_lowercase();
    let infinite_literal = lower.contains("inf");
    let has_nonzero_digit = number
        .bytes()
        .take_while(|b| !matches!(b, b'e' | b'E'))
        .any(|b| (b'1'..=b'9').contains(&b));
    let out_of_range =
        (value.is_infinite() && !infinite_literal) || (value == 0.0 && has_nonzero_digit);
    (!value.is_nan() && !out_of_range).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    #[test]
    fn weights_parse_like_strtod() {
        assert_eq!(strtod(b"1.5"), Some(1.5));
        assert_eq!(strtod(b"  -2"), Some(-2.0));
        assert_eq!(strtod(b""), Some(0.0));
        assert_eq!(strtod(b"inf"), Some(f64::INFINITY));
        assert_eq!(strtod(b"1e999"), None, "overflow");
        assert_eq!(strtod(b"1e-999"), None, "underflow");
        assert_eq!(strtod(b"0e5"), Some(0.0));
        assert_eq!(strtod(b"nan"), None);
        assert_eq!(strtod(b"3 "), None, "trailing text");
        assert_eq!(strtod(b"abc"), None);
        assert_eq!(strtod(b"7\0junk"), Some(7.0), "C stops at NUL");
    }

    #[test]
    fn store_key_is_the_last_store_argument() {
        let keys = |line: &str| {
            sort_keys(&argv(line))
                .unwrap()
                .into_iter()
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys("sort k"), [1]);
        assert_eq!(keys("sort k STORE a STORE b"), [1, 5]);
        assert_eq!(keys("sort k GET store LIMIT 0 1"), [1]);
        assert_eq!(keys("sort k STORE"), [1]);
    }
}
