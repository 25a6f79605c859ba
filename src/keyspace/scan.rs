//! Cursor iteration over an `IndexMap` that survives concurrent inserts and removals.
//!
//! Positions are visited from the highest index down. `swap_remove` moves the *last* element
//! into the hole, so an element not yet visited (at an index below the cursor) can only move to
//! another index below the cursor: it is never skipped. It may be returned twice, which SCAN
//! allows. The cursor is the number of positions still to visit, 0 meaning "start".

use indexmap::IndexMap;

/// Visits up to `count` positions. `remaining` is the cursor (0 = start). Returns the next
/// cursor (0 = done) and how many positions were visited.
pub fn scan_indexmap<K, V, S>(
    map: &IndexMap<K, V, S>,
    remaining: usize,
    count: usize,
    mut visit: impl FnMut(&K, &V),
) -> (usize, usize) {
    scan_positions(map.len(), remaining, count, |i| {
        if let Some((k, v)) = map.get_index(i) {
            visit(k, v);
        }
    })
}

/// The same walk over positions `0..len` of any indexed collection (an `IndexSet`).
pub fn scan_positions(
    len: usize,
    remaining: usize,
    count: usize,
    mut visit: impl FnMut(usize),
) -> (usize, usize) {
    let mut next = if remaining == 0 {
        len
    } else {
        remaining.min(len)
    };
    let mut visited = 0;
    while next > 0 && visited < count {
        next -= 1;
        visit(next);
        visited += 1;
    }
    (next, visited)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn survives_removals_between_steps() {
        let mut map: IndexMap<u32, ()> = (0..100).map(|i| (i, ())).collect();
        let mut seen = HashSet::new();
        let (mut cursor, _) = scan_indexmap(&map, 0, 10, |k, _| {
            seen.insert(*k);
        });
        // Remove some early keys, forcing the last ones to move down.
        for k in 0..20 {
            map.swap_remove(&k);
        }
        while cursor != 0 {
            cursor = scan_indexmap(&map, cursor, 10, |k, _| {
                seen.insert(*k);
            })
            .0;
        }
        for k in 20..100 {
            assert!(seen.contains(&k), "key {k} present throughout was skipped");
        }
    }
}
