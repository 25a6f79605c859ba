//! PHONETIC TEXT fields end to end, in RESP2 and RESP3: words sounding alike match through
//! their Double Metaphone terms, the `$phonetic` attribute turns that off / on per term (and
//! is refused on fields none of which is PHONETIC), phonetic matches score as union members,
//! and exact words and phrases (`"..."`) are never expanded, neither by phonetics nor by
//! stemming.

mod common;

use common::{Client, Server, V};

/// A server with index `p` (TEXT `name` PHONETIC dm:en, TEXT `plain`) over five people,
/// and one client per protocol.
fn setup() -> (Server, Vec<Client>) {
    let server = Server::start(&[]);
    let mut c = server.client();
    let create = "FT.CREATE p ON HASH PREFIX 1 p: SCHEMA name TEXT PHONETIC dm:en plain TEXT";
    assert_eq!(c.q(create), V::ok());
    for (key, name, plain) in [
        ("p:1", "morfix", "phonetic"),
        ("p:2", "jon smith", ""),
        ("p:3", "john jones", ""),
        ("p:4", "this is 2015 test", ""),
        ("p:5", "this is 04 test", ""),
    ] {
        let mut args = vec!["HSET", key, "name", name];
        if !plain.is_empty() {
            args.extend(["plain", plain]);
        }
        assert!(matches!(c.cmd(&args), V::Int(_)));
    }
    let mut c3 = server.client();
    c3.resp3();
    (server, vec![c, c3])
}

/// (key, score) of each hit of `FT.SEARCH p <query> <extra> WITHSCORES NOCONTENT`, in
/// reply order, from either protocol; an error reply's text as `Err`.
fn hits(c: &mut Client, query: &str, extra: &[&str]) -> Result<Vec<(String, f64)>, String> {
    let mut args = vec!["FT.SEARCH", "p", query];
    args.extend_from_slice(extra);
    args.extend(["WITHSCORES", "NOCONTENT"]);
    match c.cmd(&args) {
        V::Error(e) => Err(e),
        V::Array(items) => Ok(items[1..]
            .chunks(2)
            .map(|hit| (hit[0].text(), hit[1].text().parse().expect("score")))
            .collect()),
        reply @ V::Map(_) => Ok(reply
            .field("results")
            .items()
            .iter()
            .map(|hit| {
                let score = hit.field("score").text().parse().expect("score");
                (hit.field("id").text(), score)
            })
            .collect()),
        other => panic!("not a search reply: {other:?}"),
    }
}

/// The sorted keys `query` matches.
fn keys(c: &mut Client, query: &str, extra: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = hits(c, query, extra)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    keys
}

#[test]
fn words_sounding_alike_match_unless_turned_off() {
    let (_s, clients) = setup();
    for mut c in clients {
        let c = &mut c;
        assert_eq!(keys(c, "morphix", &[]), ["p:1"]);
        assert_eq!(keys(c, "@name:morphix", &[]), ["p:1"]);
        assert_eq!(keys(c, "@name:morphix=>{$phonetic:true}", &[]), ["p:1"]);
        assert!(keys(c, "@name:morphix=>{$phonetic:false}", &[]).is_empty());
        assert_eq!(
            keys(c, "@name:(john=>{$phonetic:true})", &[]),
            ["p:2", "p:3"]
        );
        assert_eq!(keys(c, "jon", &[]), ["p:2", "p:3"]);
        // Only the PHONETIC field indexes codes: `plain` holds `phonetic` itself only.
        assert_eq!(keys(c, "phonetic", &[]), ["p:1"]);
        assert!(keys(c, "fonetic", &[]).is_empty());
        assert!(keys(c, "@plain:morphix", &[]).is_empty());
        // Numbers have no code: `04` does not match `2015`.
        assert_eq!(keys(c, "04", &[]), ["p:5"]);
        // VERBATIM and quoted words are not expanded.
        assert_eq!(keys(c, "jon", &["VERBATIM"]), ["p:2"]);
        assert_eq!(keys(c, "\"jon\"", &[]), ["p:2"]);
        assert_eq!(keys(c, "\"jon smith\"", &[]), ["p:2"]);
        assert!(keys(c, "\"john smith\"", &[]).is_empty());
    }
}

#[test]
fn phonetic_attribute_on_a_plain_field_is_an_error() {
    let (_s, clients) = setup();
    for mut c in clients {
        // Also where no document could match before the term is reached.
        for query in [
            "@plain:morphix=>{$phonetic:true}",
            "@plain:morphix=>{$phonetic:false}",
            "nosuchword @plain:morphix=>{$phonetic:true}",
        ] {
            assert_eq!(
                hits(&mut c, query, &[]),
                Err("field does not support phonetics".to_string())
            );
        }
        let reply = c.q("FT.AGGREGATE p @plain:morphix=>{$phonetic:true}");
        assert_eq!(reply, V::err("field does not support phonetics"));
        // An index without PHONETIC fields refuses it anywhere.
        assert_eq!(
            c.q("FT.CREATE q ON HASH PREFIX 1 q: SCHEMA t TEXT"),
            V::ok()
        );
        let reply = c.cmd(&["FT.SEARCH", "q", "x=>{$phonetic:true}"]);
        assert_eq!(reply, V::err("field does not support phonetics"));
        assert_eq!(c.q("FT.DROPINDEX q"), V::ok());
        // Matchers other than dm:en/fr/pt/es are refused at creation.
        let reply = c.q("FT.CREATE bad ON HASH SCHEMA t TEXT PHONETIC dm:tt");
        assert!(reply.text().starts_with("Matcher Format: "), "{reply:?}");
    }
}

#[test]
fn phonetic_terms_score_as_members_of_the_word_union() {
    let (_s, clients) = setup();
    for mut c in clients {
        // TFIDF, N = 5: `john` (df 1) has idf floor(log2(6)) = 2, `<JN` (df 2) idf 1.
        // p:3 has both (2 + 1), p:2 only the phonetic term (1); every max freq is 1.
        assert_eq!(
            hits(&mut c, "@name:john", &[]),
            Ok(vec![("p:3".into(), 3.0), ("p:2".into(), 1.0)])
        );
        assert_eq!(
            hits(&mut c, "@name:john=>{$phonetic:false}", &[]),
            Ok(vec![("p:3".into(), 2.0)])
        );
    }
}

#[test]
fn exact_phrases_and_quoted_words_are_not_stem_expanded() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let create = "FT.CREATE s ON HASH PREFIX 1 s: SCHEMA t TEXT";
    assert_eq!(c.q(create), V::ok());
    c.cmd(&["HSET", "s:1", "t", "running fast"]);
    c.cmd(&["HSET", "s:2", "t", "runs fast"]);
    c.cmd(&["HSET", "s:3", "t", "run fast"]);
    let mut c3 = server.client();
    c3.resp3();
    for mut c in [c, c3] {
        let search = |c: &mut Client, query: &str| -> Vec<String> {
            let reply = c.cmd(&["FT.SEARCH", "s", query, "NOCONTENT", "DIALECT", "2"]);
            let mut keys: Vec<String> = match reply {
                V::Array(items) => items[1..].iter().map(V::text).collect(),
                reply @ V::Map(_) => reply
                    .field("results")
                    .items()
                    .iter()
                    .map(|hit| hit.items()[1].text())
                    .collect(),
                other => panic!("{query}: {other:?}"),
            };
            keys.sort();
            keys
        };
        // Unquoted words expand to their stem forms; an exact phrase or a quoted word
        // matches the words as written, as RediSearch does.
        assert_eq!(search(&mut c, "running fast"), ["s:1", "s:2", "s:3"]);
        assert_eq!(search(&mut c, "\"running fast\""), ["s:1"]);
        assert_eq!(search(&mut c, "\"run fast\""), ["s:3"]);
        assert_eq!(search(&mut c, "running"), ["s:1", "s:2", "s:3"]);
        assert_eq!(search(&mut c, "\"running\""), ["s:1"]);
    }
}
