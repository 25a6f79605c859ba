//! FT.CREATE / FT.INFO / FT._LIST / FT.DROPINDEX / FT.ALIAS* / FT.TAGVALS / FT.CONFIG and the
//! module advertisement, end to end: reply shapes in RESP2 and RESP3 and RediSearch's error
//! texts.

mod common;

use common::{Server, V};

#[test]
fn create_errors_have_redisearch_texts() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let cases = [
        ("FT.CREATE idx FOO SCHEMA t TEXT", "Unknown argument `FOO`"),
        ("FT.CREATE idx ON HASH", "No schema found"),
        ("FT.CREATE idx SCHEMA", "Fields arguments are missing"),
        (
            "FT.CREATE idx ON JSON SCHEMA t TEXT",
            "Invalid rule type: JSON",
        ),
        (
            "FT.CREATE idx SCHEMA t TEXT t TAG",
            "Duplicate field in schema - t",
        ),
        (
            "FT.CREATE idx SCHEMA loc GEOSHAPE",
            "Invalid field type for field `loc`",
        ),
        (
            "FT.CREATE idx SCHEMA v VECTOR HNSW 6 TYPE FLOAT16 DIM 4 DISTANCE_METRIC L2",
            "Bad arguments for vector similarity HNSW index `TYPE`: Unknown argument",
        ),
        (
            "FT.CREATE idx SCHEMA v VECTOR FLAT 4 TYPE FLOAT32 DIM 4",
            "Missing mandatory parameter: cannot create FLAT index without specifying DISTANCE_METRIC argument",
        ),
    ];
    for (command, error) in cases {
        assert_eq!(c.q(command), V::err(error), "{command}");
    }
    assert_eq!(
        c.q("FT.CREATE"),
        V::err("ERR wrong number of arguments for 'ft.create' command")
    );
    assert_eq!(c.q("FT._LIST"), V::Array(vec![]));
}

#[test]
fn create_refuses_other_databases() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SELECT 1"), V::ok());
    assert_eq!(
        c.q("FT.CREATE idx SCHEMA t TEXT"),
        V::err("Cannot create index on db != 0")
    );
}

#[test]
fn dropindex_of_unknown_index() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.DROPINDEX nope"), V::err("Unknown Index name"));
    assert_eq!(c.q("FT.DROPINDEX nope DD"), V::err("Unknown Index name"));
    assert_eq!(
        c.q("FT.DROPINDEX nope DD x"),
        V::err("ERR wrong number of arguments for 'ft.dropindex' command")
    );
}

#[test]
fn list_is_a_set_in_resp3() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.resp3();
    assert_eq!(c.q("FT._LIST"), V::Set(vec![]));
}

fn s(text: &str) -> V {
    V::Simple(text.into())
}

fn b(text: &str) -> V {
    V::bulk(text)
}

/// A RESP2 key/value list or a RESP3 map, as (key text, value) pairs in order.
fn pairs(reply: &V) -> Vec<(String, V)> {
    match reply {
        V::Map(pairs) => pairs.iter().map(|(k, v)| (k.text(), v.clone())).collect(),
        other => other
            .items()
            .chunks(2)
            .map(|kv| (kv[0].text(), kv[1].clone()))
            .collect(),
    }
}

fn field(reply: &V, key: &str) -> V {
    pairs(reply)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {reply:?}"))
}

/// Polls FT.INFO until the initial scan is over, as redis-py's tests do.
fn wait_indexed(c: &mut common::Client, index: &str) {
    for _ in 0..500 {
        if field(&c.q(&format!("FT.INFO {index}")), "indexing") == V::Int(0) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{index} still indexing");
}

fn blob(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

const REDIS_PY_CREATE: &str = "FT.CREATE idx ON HASH PREFIX 1 doc: SCORE 1.0 SCHEMA \
     title TEXT WEIGHT 1.0 SORTABLE tag TAG SEPARATOR , CASESENSITIVE price NUMERIC SORTABLE \
     v VECTOR HNSW 14 TYPE FLOAT32 DIM 2 DISTANCE_METRIC COSINE M 16 EF_CONSTRUCTION 200 \
     EF_RUNTIME 10 EPSILON 0.01";

#[test]
fn create_list_and_drop() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("HSET doc:1 title hello tag a price 1"), V::Int(3));
    assert_eq!(c.q("HSET other:1 title hello"), V::Int(1));
    assert_eq!(c.q(REDIS_PY_CREATE), V::ok());
    assert_eq!(c.q(REDIS_PY_CREATE), V::err("Index already exists"));
    // The name is checked before the arguments, as RediSearch does.
    assert_eq!(c.q("FT.CREATE idx BOGUS"), V::err("Index already exists"));
    assert_eq!(c.q("FT.CREATE second SCHEMA title TEXT"), V::ok());
    assert_eq!(c.q("FT._LIST"), V::Array(vec![b("idx"), b("second")]));
    wait_indexed(&mut c, "idx");
    wait_indexed(&mut c, "second");
    assert_eq!(field(&c.q("FT.INFO idx"), "num_docs"), V::Int(1));
    assert_eq!(field(&c.q("FT.INFO second"), "num_docs"), V::Int(2));

    // Without DD the documents stay.
    assert_eq!(c.q("FT.DROPINDEX second"), V::ok());
    assert_eq!(c.q("EXISTS doc:1 other:1"), V::Int(2));
    assert_eq!(c.q("FT._LIST"), V::Array(vec![b("idx")]));
    // DD deletes the index's documents only, and works through an alias.
    assert_eq!(c.q("FT.ALIASADD a idx"), V::ok());
    assert_eq!(c.q("FT.DROPINDEX a dd"), V::ok());
    assert_eq!(c.q("EXISTS doc:1 other:1"), V::Int(1));
    assert_eq!(c.q("FT._LIST"), V::Array(vec![]));
    assert_eq!(c.q("FT.INFO a"), V::err("Unknown index name"));
}

#[test]
fn skip_initial_scan_indexes_only_new_writes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("HSET doc:1 t x"), V::Int(1));
    assert_eq!(c.q("FT.CREATE idx SKIPINITIALSCAN SCHEMA t TEXT"), V::ok());
    let info = c.q("FT.INFO idx");
    assert_eq!(field(&info, "indexing"), V::Int(0));
    assert_eq!(field(&info, "percent_indexed"), b("1"));
    assert_eq!(field(&info, "num_docs"), V::Int(0));
    assert_eq!(c.q("HSET doc:2 t y"), V::Int(1));
    assert_eq!(field(&c.q("FT.INFO idx"), "num_docs"), V::Int(1));
}

#[test]
fn info_resp2_layout() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q(REDIS_PY_CREATE), V::ok());
    wait_indexed(&mut c, "idx");
    let info = c.q("FT.INFO idx");
    let keys: Vec<String> = pairs(&info).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "index_name",
            "index_options",
            "index_definition",
            "attributes",
            "num_docs",
            "max_doc_id",
            "num_terms",
            "num_records",
            "inverted_sz_mb",
            "vector_index_sz_mb",
            "total_inverted_index_blocks",
            "offset_vectors_sz_mb",
            "doc_table_size_mb",
            "sortable_values_size_mb",
            "key_table_size_mb",
            "tag_overhead_sz_mb",
            "text_overhead_sz_mb",
            "total_index_memory_sz_mb",
            "geoshapes_sz_mb",
            "records_per_doc_avg",
            "bytes_per_record_avg",
            "offsets_per_term_avg",
            "offset_bits_per_record_avg",
            "hash_indexing_failures",
            "total_indexing_time",
            "indexing",
            "percent_indexed",
            "number_of_uses",
            "cleaning",
            "gc_stats",
            "cursor_stats",
            "dialect_stats",
            "Index Errors",
            "field statistics",
        ]
    );
    let items = info.items();
    assert_eq!(items[0], s("index_name"));
    assert_eq!(items[1], s("idx"));
    assert_eq!(field(&info, "index_options"), V::Array(vec![]));
    // redisvl reads the key type at [1] and the prefixes at [3].
    assert_eq!(
        field(&info, "index_definition"),
        V::Array(vec![
            s("key_type"),
            s("HASH"),
            s("prefixes"),
            V::Array(vec![s("doc:")]),
            s("default_score"),
            b("1"),
            s("indexes_all"),
            s("false"),
        ])
    );
    assert_eq!(
        field(&info, "attributes"),
        V::Array(vec![
            V::Array(vec![
                s("identifier"),
                s("title"),
                s("attribute"),
                s("title"),
                s("type"),
                s("TEXT"),
                s("WEIGHT"),
                b("1"),
                s("SORTABLE"),
            ]),
            V::Array(vec![
                s("identifier"),
                s("tag"),
                s("attribute"),
                s("tag"),
                s("type"),
                s("TAG"),
                s("SEPARATOR"),
                s(","),
                s("CASESENSITIVE"),
            ]),
            V::Array(vec![
                s("identifier"),
                s("price"),
                s("attribute"),
                s("price"),
                s("type"),
                s("NUMERIC"),
                s("SORTABLE"),
                s("UNF"),
            ]),
            V::Array(vec![
                s("identifier"),
                s("v"),
                s("attribute"),
                s("v"),
                s("type"),
                s("VECTOR"),
                s("algorithm"),
                s("HNSW"),
                s("data_type"),
                s("FLOAT32"),
                s("dim"),
                V::Int(2),
                s("distance_metric"),
                s("COSINE"),
                s("M"),
                V::Int(16),
                s("ef_construction"),
                V::Int(200),
            ]),
        ])
    );
    assert_eq!(field(&info, "num_docs"), V::Int(0));
    assert_eq!(field(&info, "hash_indexing_failures"), V::Int(0));
    assert_eq!(field(&info, "indexing"), V::Int(0));
    assert_eq!(field(&info, "percent_indexed"), b("1"));
    assert_eq!(field(&info, "records_per_doc_avg"), b("nan"));
    assert_eq!(
        field(&info, "cursor_stats"),
        V::Array(vec![
            s("global_idle"),
            V::Int(0),
            s("global_total"),
            V::Int(0),
            s("index_capacity"),
            V::Int(128),
            s("index_total"),
            V::Int(0),
        ])
    );
    assert_eq!(
        field(&info, "Index Errors"),
        V::Array(vec![
            s("indexing failures"),
            V::Int(0),
            s("last indexing error"),
            s("N/A"),
            s("last indexing error key"),
            b("N/A"),
        ])
    );
    let fields = field(&info, "field statistics").items();
    assert_eq!(fields.len(), 4);
    assert_eq!(
        fields[3].items()[..4],
        [s("identifier"), s("v"), s("attribute"), s("v")]
    );
    let uses = field(&info, "number_of_uses");
    assert_eq!(
        field(&c.q("FT.INFO idx"), "number_of_uses"),
        V::Int(match uses {
            V::Int(n) => n + 1,
            other => panic!("number_of_uses {other:?}"),
        })
    );
}

#[test]
fn info_resp3_layout() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q(
            "FT.CREATE idx STOPWORDS 2 foo bar NOOFFSETS SCHEMA t TEXT NOSTEM g TAG INDEXMISSING \
             v VECTOR FLAT 6 TYPE FLOAT64 DIM 3 DISTANCE_METRIC L2"
        ),
        V::ok()
    );
    // The scan of the (empty) database runs in the background; the layout is read once done.
    wait_indexed(&mut c, "idx");
    c.resp3();
    let info = c.q("FT.INFO idx");
    assert!(matches!(info, V::Map(_)), "{info:?}");
    assert_eq!(
        field(&info, "index_options"),
        V::Array(vec![s("NOOFFSETS"), s("NOHL")])
    );
    let definition = field(&info, "index_definition");
    assert!(matches!(definition, V::Map(_)));
    // No PREFIX: one empty prefix, as RediSearch reports it.
    assert_eq!(field(&definition, "prefixes"), V::Array(vec![s("")]));
    assert_eq!(field(&definition, "default_score"), V::Double("1".into()));
    let attributes = field(&info, "attributes").items();
    assert_eq!(
        attributes[0],
        V::Map(vec![
            (s("identifier"), s("t")),
            (s("attribute"), s("t")),
            (s("type"), s("TEXT")),
            (s("WEIGHT"), V::Double("1".into())),
            (s("flags"), V::Array(vec![s("NOSTEM")])),
        ])
    );
    assert_eq!(
        field(&attributes[1], "flags"),
        V::Array(vec![s("INDEXMISSING")])
    );
    assert_eq!(field(&attributes[2], "algorithm"), s("FLAT"));
    assert_eq!(field(&attributes[2], "data_type"), s("FLOAT64"));
    assert_eq!(field(&attributes[2], "dim"), V::Int(3));
    assert_eq!(field(&attributes[2], "flags"), V::Array(vec![]));
    assert_eq!(
        field(&info, "stopwords_list"),
        V::Array(vec![b("foo"), b("bar")])
    );
    assert_eq!(field(&info, "num_docs"), V::Int(0));
    assert_eq!(field(&info, "percent_indexed"), V::Double("1".into()));
    assert!(matches!(field(&info, "gc_stats"), V::Map(_)));
    assert_eq!(
        field(&field(&info, "dialect_stats"), "dialect_4"),
        V::Int(0)
    );
}

#[test]
fn info_reports_indexing_failures() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q(
            "FT.CREATE idx PREFIX 1 d: SCHEMA v VECTOR FLAT 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2"
        ),
        V::ok()
    );
    wait_indexed(&mut c, "idx");
    assert_eq!(
        c.cmd(&[&b"HSET"[..], b"d:1", b"v", &blob(&[1.0, 2.0])]),
        V::Int(1)
    );
    assert_eq!(c.cmd(&[&b"HSET"[..], b"d:2", b"v", b"abc"]), V::Int(1));
    let info = c.q("FT.INFO idx");
    assert_eq!(field(&info, "num_docs"), V::Int(1));
    assert_eq!(field(&info, "hash_indexing_failures"), V::Int(1));
    let errors = field(&info, "Index Errors");
    assert_eq!(field(&errors, "indexing failures"), V::Int(1));
    assert_eq!(field(&errors, "last indexing error key"), b("d:2"));
    assert_ne!(field(&errors, "last indexing error").text(), "N/A");
}

#[test]
fn info_through_an_alias_and_unknown_index() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.INFO nope"), V::err("Unknown index name"));
    assert_eq!(c.q("FT.CREATE idx SCHEMA t TEXT"), V::ok());
    assert_eq!(c.q("FT.ALIASADD al idx"), V::ok());
    assert_eq!(field(&c.q("FT.INFO al"), "index_name"), s("idx"));
}

#[test]
fn aliases() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.CREATE i1 SCHEMA t TEXT"), V::ok());
    assert_eq!(c.q("FT.CREATE i2 SCHEMA t TEXT"), V::ok());
    let unknown = V::err("Unknown index name (or name is an alias itself)");
    assert_eq!(c.q("FT.ALIASADD a nope"), unknown);
    assert_eq!(c.q("FT.ALIASADD a i1"), V::ok());
    assert_eq!(c.q("FT.ALIASADD a i2"), V::err("Alias already exists"));
    // An alias cannot stand for another alias, nor take an index's name.
    assert_eq!(c.q("FT.ALIASADD b a"), unknown);
    assert_eq!(
        c.q("FT.ALIASADD i2 i1"),
        V::err("Alias conflicts with an existing index name")
    );
    assert_eq!(c.q("FT.ALIASUPDATE a i2"), V::ok());
    assert_eq!(field(&c.q("FT.INFO a"), "index_name"), s("i2"));
    assert_eq!(c.q("FT.ALIASUPDATE fresh i1"), V::ok());
    assert_eq!(c.q("FT.ALIASDEL a"), V::ok());
    assert_eq!(c.q("FT.ALIASDEL a"), V::err("Alias does not exist"));
    assert_eq!(c.q("FT.INFO a"), V::err("Unknown index name"));
    // Dropping an index drops its aliases.
    assert_eq!(c.q("FT.DROPINDEX i1"), V::ok());
    assert_eq!(c.q("FT.ALIASDEL fresh"), V::err("Alias does not exist"));
    assert_eq!(
        c.q("FT.ALIASADD x"),
        V::err("ERR wrong number of arguments for 'ft.aliasadd' command")
    );
}

#[test]
fn tagvals() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("FT.CREATE idx SCHEMA color TAG cs TAG CASESENSITIVE n NUMERIC"),
        V::ok()
    );
    wait_indexed(&mut c, "idx");
    assert_eq!(c.q("HSET d:1 color Red,green cs A,b"), V::Int(2));
    assert_eq!(c.q("HSET d:2 color blue cs A"), V::Int(2));
    let mut values: Vec<String> = c
        .q("FT.TAGVALS idx color")
        .items()
        .iter()
        .map(V::text)
        .collect();
    values.sort();
    assert_eq!(values, ["blue", "green", "red"]);
    let mut values: Vec<String> = c
        .q("FT.TAGVALS idx cs")
        .items()
        .iter()
        .map(V::text)
        .collect();
    values.sort();
    assert_eq!(values, ["A", "b"]);
    assert_eq!(c.q("FT.TAGVALS nope color"), V::err("Unknown Index name"));
    assert_eq!(c.q("FT.TAGVALS idx nope"), V::err("No such field"));
    assert_eq!(c.q("FT.TAGVALS idx n"), V::err("Not a tag field"));
    c.resp3();
    assert!(matches!(c.q("FT.TAGVALS idx color"), V::Set(v) if v.len() == 3));
}

#[test]
fn config_get_set_help() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("FT.CONFIG GET TIMEOUT"),
        V::Array(vec![V::Array(vec![s("TIMEOUT"), b("500")])])
    );
    let all = c.q("FT.CONFIG GET *").items();
    assert!(
        all.contains(&V::Array(vec![s("DEFAULT_DIALECT"), b("1")])),
        "{all:?}"
    );
    assert!(all.contains(&V::Array(vec![s("MAXAGGREGATERESULTS"), b("unlimited")])));
    assert_eq!(c.q("FT.CONFIG GET nope"), V::Array(vec![]));
    assert_eq!(c.q("FT.CONFIG SET timeout 100"), V::ok());
    assert_eq!(
        c.q("FT.CONFIG GET timeout"),
        V::Array(vec![V::Array(vec![s("TIMEOUT"), b("100")])])
    );
    assert_eq!(c.q("FT.CONFIG SET TIMEOUT 7 extra"), s("EXCESSARGS"));
    assert_eq!(c.q("FT.CONFIG SET NOPE 1"), V::err("Invalid option"));
    assert_eq!(
        c.q("FT.CONFIG SET TIMEOUT soon"),
        V::err("Could not convert argument to expected type")
    );
    assert_eq!(
        c.q("FT.CONFIG SET TIMEOUT"),
        V::err("Expected an argument, but none provided")
    );
    assert_eq!(c.q("FT.CONFIG FROB x"), s("No such configuration action"));
    assert_eq!(
        c.q("FT.CONFIG GET"),
        V::err("ERR wrong number of arguments for 'ft.config' command")
    );
    assert_eq!(
        c.q("FT.CONFIG HELP TIMEOUT"),
        V::Array(vec![V::Array(vec![
            s("TIMEOUT"),
            s("Description"),
            s("Query (search) timeout"),
            s("Value"),
            b("7"),
        ])])
    );
    c.resp3();
    assert_eq!(
        c.q("FT.CONFIG GET ON_TIMEOUT"),
        V::Map(vec![(s("ON_TIMEOUT"), b("return"))])
    );
    assert_eq!(
        c.q("FT.CONFIG HELP ON_TIMEOUT"),
        V::Map(vec![(
            s("ON_TIMEOUT"),
            V::Map(vec![
                (
                    s("Description"),
                    s("Action to perform when search timeout is exceeded (choose RETURN or FAIL)")
                ),
                (s("Value"), b("return")),
            ])
        )])
    );
}

#[test]
fn temporary_index_expires_when_idle() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("HSET d:1 t x"), V::Int(1));
    assert_eq!(c.q("FT.CREATE tmp TEMPORARY 1 SCHEMA t TEXT"), V::ok());
    assert_eq!(c.q("FT.CREATE kept SCHEMA t TEXT"), V::ok());
    // Uses keep it alive past its idle time.
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(1500) {
        assert_eq!(field(&c.q("FT.INFO tmp"), "index_name"), s("tmp"));
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let idle = std::time::Instant::now();
    while c.q("FT._LIST").items().contains(&b("tmp")) {
        assert!(
            idle.elapsed() < std::time::Duration::from_secs(5),
            "tmp never expired"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(idle.elapsed() >= std::time::Duration::from_millis(600));
    assert_eq!(c.q("FT._LIST"), V::Array(vec![b("kept")]));
    // The documents stay.
    assert_eq!(c.q("EXISTS d:1"), V::Int(1));
}

#[test]
fn hello_3_lists_the_search_module_as_a_map() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let hello = c.q("HELLO 3");
    let modules = field(&hello, "modules").items();
    assert_eq!(modules.len(), 1);
    let V::Map(entry) = &modules[0] else {
        panic!("module entries are maps in RESP3: {modules:?}")
    };
    assert_eq!(entry[0], (b("name"), b("search")));
    assert_eq!(entry[1], (b("ver"), V::Int(21020)));
    assert_eq!(entry[3], (b("args"), V::Array(vec![])));
}

/// `INFO <args>` as `(section, [(field, value)])` in order.
fn info_sections(c: &mut common::Client, args: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in c.q(&format!("INFO {args}")).text().lines() {
        if let Some(title) = line.strip_prefix("# ") {
            sections.push((title.to_string(), Vec::new()));
        } else if let (Some((name, value)), Some(last)) =
            (line.split_once(':'), sections.last_mut())
        {
            last.1.push((name.to_string(), value.to_string()));
        }
    }
    sections
}

fn info_value(sections: &[(String, Vec<(String, String)>)], name: &str) -> String {
    sections
        .iter()
        .flat_map(|(_, fields)| fields)
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("INFO has no {name}"))
}

const SEARCH_SECTIONS: [&str; 10] = [
    "search_version",
    "search_index",
    "search_fields_statistics",
    "search_memory",
    "search_cursors",
    "search_gc",
    "search_queries",
    "search_warnings_and_errors",
    "search_dialect_statistics",
    "search_runtime_configurations",
];

/// RediSearch 2.10's INFO sections: which INFO arguments print them (as Redis asks its
/// modules), and figures after indexes of every field type, documents (one failing), a
/// query, a cursor and an overwritten HNSW vector.
#[test]
fn info_search_sections() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let titles = |c: &mut common::Client, args: &str| -> Vec<String> {
        info_sections(c, args).into_iter().map(|(t, _)| t).collect()
    };
    // Before any index: the sections are there, the field statistics empty.
    let empty = info_sections(&mut c, "search");
    assert_eq!(
        empty.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        SEARCH_SECTIONS
    );
    assert_eq!(empty[2].1, []);
    assert_eq!(info_value(&empty, "search_number_of_indexes"), "0");
    assert_eq!(info_value(&empty, "search_used_memory_indexes"), "0");
    assert_eq!(info_value(&empty, "search_version"), "2.10.20");

    for create in [
        "FT.CREATE idx1 PREFIX 1 a: SCHEMA title TEXT SORTABLE body TEXT NOINDEX id NUMERIC loc GEO",
        "FT.CREATE idx2 PREFIX 1 b: SCHEMA t1 TAG CASESENSITIVE SORTABLE t2 TAG id NUMERIC NOINDEX",
        "FT.CREATE idx3 PREFIX 1 v: SCHEMA vf VECTOR FLAT 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 \
         vh VECTOR HNSW 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2",
    ] {
        assert_eq!(c.q(create), V::ok(), "{create}");
    }
    c.q("HSET a:1 title hello id 1");
    c.q("HSET a:2 title hello id 2");
    c.q("HSET a:3 title bad id notanumber");
    let vector = blob(&[1.0, 2.0]);
    let hset =
        |c: &mut common::Client| c.cmd(&[&b"HSET"[..], b"v:1", b"vf", &vector, b"vh", &vector]);
    assert_eq!(hset(&mut c), V::Int(2));
    wait_indexed(&mut c, "idx3");
    // Overwriting leaves the old vector's graph node behind until a rebuild.
    assert_eq!(hset(&mut c), V::Int(0));
    assert_eq!(
        c.q("FT.SEARCH idx1 hello DIALECT 2 NOCONTENT").items()[0],
        V::Int(2)
    );
    // Two cursors: one read to its end (which closes it), one left open.
    let mut open_cursor = || {
        let opened = c.q("FT.AGGREGATE idx1 * LOAD 1 @id WITHCURSOR COUNT 1");
        match opened.items()[1] {
            V::Int(id) if id != 0 => id,
            ref other => panic!("cursor id {other:?}"),
        }
    };
    let read = open_cursor();
    open_cursor();
    let last = c.q(&format!("FT.CURSOR READ idx1 {read} COUNT 10"));
    assert_eq!(last.items()[1], V::Int(0));
    // Failures are not queries.
    assert!(c.q("FT.SEARCH nosuch *").is_error());
    assert!(c.q("FT.SEARCH idx1 (").is_error());

    let all = info_sections(&mut c, "search");
    let fields = &all[2].1;
    let expected = [
        (
            "search_fields_text",
            "Text=2,Sortable=1,NoIndex=1,IndexErrors=0",
        ),
        ("search_fields_numeric", "Numeric=2,NoIndex=1,IndexErrors=1"),
        (
            "search_fields_tag",
            "Tag=2,Sortable=1,CaseSensitive=1,IndexErrors=0",
        ),
        ("search_fields_geo", "Geo=1,IndexErrors=0"),
        (
            "search_fields_vector",
            "Vector=2,Flat=1,HNSW=1,IndexErrors=0",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(fields, &expected);
    for (name, value) in [
        ("search_number_of_indexes", "3"),
        ("search_number_of_active_indexes_running_queries", "0"),
        ("search_global_idle", "1"),
        ("search_global_total", "1"),
        ("search_bytes_collected", "0"),
        ("search_marked_deleted_vectors", "1"),
        ("search_total_queries_processed", "3"),
        ("search_total_query_commands", "4"),
        ("search_total_active_queries", "0"),
        ("search_errors_indexing_failures", "1"),
        ("search_errors_for_index_with_max_failures", "1"),
        ("search_dialect_1", "1"),
        ("search_dialect_2", "1"),
        ("search_dialect_3", "0"),
        ("search_minimal_term_prefix", "2"),
        ("search_timeout_policy", "return"),
        ("search_max_aggregate_results", "-1"),
    ] {
        assert_eq!(info_value(&all, name), value, "{name}");
    }
    let bytes = |name: &str| -> f64 { info_value(&all, name).parse().expect(name) };
    assert!(bytes("search_used_memory_vector_index") > 0.0);
    assert!(bytes("search_smallest_memory_index") <= bytes("search_largest_memory_index"));
    assert!(bytes("search_used_memory_indexes") >= bytes("search_largest_memory_index"));
    assert_eq!(
        bytes("search_used_memory_indexes_human"),
        bytes("search_used_memory_indexes") / 1048576.0
    );
    // FT.INFO tells the same dialect story per index.
    let dialects = field(&c.q("FT.INFO idx1"), "dialect_stats");
    assert_eq!(field(&dialects, "dialect_2"), V::Int(1));
    assert_eq!(field(&dialects, "dialect_4"), V::Int(0));

    // Which arguments print them: as Redis asks modules for theirs.
    let search: Vec<String> = SEARCH_SECTIONS.iter().map(|s| s.to_string()).collect();
    for args in ["", "default", "all", "server"] {
        let listed = titles(&mut c, args);
        assert!(
            !listed.iter().any(|t| t.starts_with("search")),
            "INFO {args}: {listed:?}"
        );
    }
    assert_eq!(titles(&mut c, "SEARCH"), search);
    assert_eq!(titles(&mut c, "modules")[1..], search);
    assert_eq!(titles(&mut c, "modules")[0], "Modules");
    assert_eq!(titles(&mut c, "everything")[13..], search);
    assert_eq!(titles(&mut c, "module_list"), ["Modules"]);
    assert_eq!(
        titles(&mut c, "search_memory cpu search_gc"),
        ["CPU", "search_memory", "search_gc"]
    );
    assert_eq!(titles(&mut c, "nosuchsection"), Vec::<String>::new());
}
