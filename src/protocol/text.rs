//! Redis's text forms of arguments: `sdssplitargs` (inline commands, redis.conf lines) and
//! `sdscatrepr` (MONITOR, CLIENT LIST, SLOWLOG, CONFIG REWRITE). Depends on nothing.

/// Splits a line into arguments the way Redis's `sdssplitargs` does (used for inline commands
/// and redis.conf lines): whitespace separates, `"..."` understands `\n \r \t \b \a \\ \" \xHH`,
/// `'...'` understands `\'`. A closing quote must be followed by whitespace or the end.
/// Returns `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        // The quote character of the quoted section we are in, if any.
        let mut quote: Option<u8> = None;
        loop {
            match quote {
                Some(q) => {
                    let c = *line.get(i)?;
                    if c == q {
                        // A closing quote must end the argument.
                        if line.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    let (byte, used) = unescape(line, i, q);
                    current.push(byte);
                    i += used;
                }
                None => {
                    match line.get(i) {
                        None => break,
                        Some(c) if c.is_ascii_whitespace() => break,
                        Some(&c @ (b'"' | b'\'')) => quote = Some(c),
                        Some(&c) => current.push(c),
                    }
                    i += 1;
                }
            }
        }
        args.push(current);
    }
}

/// The byte at `line[i]` inside a `q`-quoted section and how many input bytes it used:
/// `"..."` understands `\n \r \t \b \a \xHH` and `\<any>`, `'...'` only `\'`.
fn unescape(line: &[u8], i: usize, q: u8) -> (u8, usize) {
    let c = line[i];
    let next = line.get(i + 1).copied();
    if c != b'\\' || next.is_none() {
        return (c, 1);
    }
    if q == b'\'' {
        return if next == Some(b'\'') {
            (b'\'', 2)
        } else {
            (c, 1)
        };
    }
    if next == Some(b'x')
        && let (Some(h), Some(l)) = (
            line.get(i + 2).copied().and_then(hex),
            line.get(i + 3).copied().and_then(hex),
        )
    {
        return (h * 16 + l, 4);
    }
    let byte = match next.unwrap_or(c) {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 8,
        b'a' => 7,
        other => other,
    };
    (byte, 2)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Escapes bytes the way Redis's `sdscatrepr` does (MONITOR, CLIENT LIST, SLOWLOG).
pub fn repr(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_args_escapes() {
        let args = split_args(br#"a "x\x41\n" 'it\'s'"#).unwrap();
        assert_eq!(
            args,
            vec![b"a".to_vec(), b"xA\n".to_vec(), b"it's".to_vec()]
        );
        assert!(split_args(br#""ab"c"#).is_none());
        assert_eq!(split_args(b"  ").unwrap().len(), 0);
    }

    #[test]
    fn repr_escapes_like_sdscatrepr() {
        assert_eq!(repr(b"a b"), "a b");
        assert_eq!(
            repr(b"\"q\"\n\x07\x08\xff\\"),
            "\\\"q\\\"\\n\\a\\b\\xff\\\\"
        );
    }
}
