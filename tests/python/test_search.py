"""redis-py's search API (`r.ft()`) against the FT.* commands, unchanged client code.

Every test runs twice: once with redis-py 8's default connection (RESP3 on the wire, the
legacy Python result objects on top) and once with `protocol=2`. The expectations are what
Redis Stack 7.4 (RediSearch 2.10) answers. Each test creates its own index over its own key
prefix, so tests share the session server without interfering.
"""

import json
import os
import re
import time

import numpy as np
import pytest
from redis.commands.search.field import NumericField, TagField, TextField, VectorField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.commands.search.query import Query
from redis.exceptions import ResponseError
from search_support import dataset, wait_indexed

pytestmark = pytest.mark.skipif(
    os.environ.get("FERRO_TEST_TARGET") == "redis",
    reason="the redis-server oracle has no search module",
)

# id, title, tags, price, 4-d vector. The query vector below gives distinct distances under
# every metric, so nearest-first orders are unambiguous.
DOCS = [
    ("1", "red apple pie", "fruit,red", 3, [1.0, 0.0, 0.0, 0.0]),
    ("2", "green apple tart", "fruit,green", 5, [0.9, 0.1, 0.0, 0.05]),
    ("3", "red chili sauce", "spice,red", 2, [0.0, 1.0, 0.0, 0.2]),
    ("4", "blue cheese", "dairy,blue", 8, [0.1, 0.0, 1.0, 0.0]),
    ("5", "banana bread", "fruit,yellow", 4, [0.5, 0.6, 0.0, 0.0]),
    ("6", "cheddar cheese sauce", "dairy,yellow", 6, [0.0, 0.1, 0.7, 0.7]),
]
QUERY_VEC = np.array([0.8, 0.3, 0.1, 0.0], dtype=np.float32)
DIM = 4

CLIENTS = {"resp3": {}, "resp2": {"protocol": 2}}


@pytest.fixture(params=list(CLIENTS), ids=list(CLIENTS))
def rc(server, request):
    """redis-py as users create it: default (RESP3) or protocol=2, decoding replies."""
    client = server.client(decode_responses=True, **CLIENTS[request.param])
    yield client
    client.close()


@pytest.fixture
def name(request):
    """An index name (and key prefix stem) private to this test run."""
    return "ft_" + re.sub(r"\W+", "_", request.node.name).strip("_")


def blob(vec) -> bytes:
    return np.asarray(vec, dtype=np.float32).tobytes()


def distances(metric: str, q=QUERY_VEC) -> np.ndarray:
    """RediSearch's distances of every DOCS vector to `q`."""
    vecs = np.array([d[4] for d in DOCS], dtype=np.float32)
    if metric == "L2":
        return ((vecs - q) ** 2).sum(axis=1)
    if metric == "IP":
        return 1 - vecs @ q
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    return 1 - unit @ (q / np.linalg.norm(q))


def create(rc, name, algo="HNSW", metric="COSINE", **vector_attrs):
    """The schema of DOCS: title TEXT, tags TAG, price NUMERIC SORTABLE, v VECTOR."""
    ft = rc.ft(name)
    attrs = {"TYPE": "FLOAT32", "DIM": DIM, "DISTANCE_METRIC": metric, **vector_attrs}
    ft.create_index(
        [
            TextField("title"),
            TagField("tags"),
            NumericField("price", sortable=True),
            VectorField("v", algo, attrs),
        ],
        definition=IndexDefinition(prefix=[f"{name}:"], index_type=IndexType.HASH),
    )
    return ft


def load(rc, name, docs=DOCS):
    pipe = rc.pipeline(transaction=False)
    for doc_id, title, tags, price, vec in docs:
        pipe.hset(
            f"{name}:{doc_id}",
            mapping={"title": title, "tags": tags, "price": price, "v": blob(vec)},
        )
    assert pipe.execute() == [4] * len(docs)


def indexed(rc, name, **kwargs):
    """An index over DOCS, loaded and fully indexed."""
    ft = create(rc, name, **kwargs)
    load(rc, name)
    wait_indexed(ft)
    return ft


def ids(name, res) -> list:
    """Result doc ids without the test's key prefix."""
    return [doc.id.removeprefix(f"{name}:") for doc in res.docs]


def text(value) -> str:
    """FT.SEARCH replies are never decoded by redis-py: bytes or str, compared as str."""
    return value.decode() if isinstance(value, bytes) else value


def as_dict(pairs) -> dict:
    """A RESP2-style flat list (or an already decoded map) as a dict."""
    if isinstance(pairs, dict):
        return pairs
    return dict(zip(pairs[::2], pairs[1::2]))


# ---------------------------------------------------------------------------------- admin


def test_module_list_advertises_search(rc):
    modules = {m["name"]: m for m in rc.module_list()}
    assert "search" in modules
    ver = modules["search"]["ver"]
    assert isinstance(ver, int) and 20600 <= ver < 30000  # RediSearch 2.10 numbering
    info_modules = {m["name"]: m for m in rc.info("modules")["modules"]}
    assert info_modules["search"]["ver"] == ver


def test_info_search_sections_parse(rc, name):
    """`r.info("search")` parses into RediSearch 2.10's fields: numbers as numbers, the field
    statistics as dicts. Other tests share the server, so counts are compared before/after."""
    before = rc.info("search")
    assert before["search_version"] == "2.10.20"
    assert before["search_redis_version"].endswith(" - oss")
    tags_before = before.get("search_fields_tag", {}).get("Tag", 0)
    ft = indexed(rc, name)
    ft.search(Query("apple").dialect(2))
    after = rc.info("search")
    assert after["search_number_of_indexes"] >= 1
    assert after["search_fields_tag"]["Tag"] == tags_before + 1
    assert after["search_fields_vector"]["IndexErrors"] >= 0
    assert after["search_used_memory_indexes"] > 0
    assert isinstance(after["search_used_memory_indexes_human"], float)
    assert after["search_total_queries_processed"] > before["search_total_queries_processed"]
    assert after["search_dialect_2"] == 1
    assert after["search_timeout_policy"] == "return"
    # One section by name; the module list still parses beside the sections.
    memory = rc.info("search_memory")
    assert set(memory) == {
        "search_used_memory_indexes",
        "search_used_memory_indexes_human",
        "search_smallest_memory_index",
        "search_smallest_memory_index_human",
        "search_largest_memory_index",
        "search_largest_memory_index_human",
        "search_total_indexing_time",
        "search_used_memory_vector_index",
    }
    modules = rc.info("modules")
    assert modules["modules"][0]["name"] == "search"
    assert "search_number_of_indexes" in modules
    assert not any(key.startswith("search_") for key in rc.info())


def test_create_index_and_info(rc, name):
    ft = indexed(rc, name)
    info = wait_indexed(ft)
    assert info["index_name"] == name
    assert isinstance(info["num_docs"], int) and info["num_docs"] == len(DOCS)
    assert int(info["hash_indexing_failures"]) == 0
    assert float(info["percent_indexed"]) == 1.0
    definition = as_dict(info["index_definition"])
    assert definition["key_type"] == "HASH"
    assert definition["prefixes"] == [f"{name}:"]

    # Each attribute is the flat RESP2 list (redis-py flattens RESP3 maps back to it):
    # identifier, attribute and type at fixed positions, then key/value pairs, then flags.
    attrs = {a[1]: a for a in info["attributes"]}
    assert list(attrs) == ["title", "tags", "price", "v"]
    for field, kind in [("title", "TEXT"), ("tags", "TAG"), ("price", "NUMERIC"), ("v", "VECTOR")]:
        assert attrs[field][0:6] == ["identifier", field, "attribute", field, "type", kind]
    assert "SEPARATOR" in attrs["tags"]
    assert "SORTABLE" in attrs["price"]
    vec = attrs["v"]
    vec_pairs = {str(k).lower(): v for k, v in zip(vec[6::2], vec[7::2])}
    assert vec_pairs["algorithm"] == "HNSW"
    assert vec_pairs["data_type"] == "FLOAT32"
    assert int(vec_pairs["dim"]) == DIM
    assert vec_pairs["distance_metric"] == "COSINE"
    assert int(vec_pairs["m"]) == 16
    assert int(vec_pairs["ef_construction"]) == 200


@pytest.mark.parametrize("client_kwargs", list(CLIENTS.values()), ids=list(CLIENTS))
def test_index_without_definition_covers_every_hash(fresh_server, client_kwargs):
    # No IndexDefinition: no ON/PREFIX sent, the index covers every hash (prefix ""),
    # those written before FT.CREATE (backfill) and after.
    rc = fresh_server.client(decode_responses=True, **client_kwargs)
    rc.hset("a:1", mapping={"t": "x", "n": 1})
    rc.set("not_a_hash", "x")
    ft = rc.ft("everything")
    ft.create_index([TagField("t"), NumericField("n")])
    rc.hset("b:2", mapping={"t": "x", "n": 2})
    rc.hset("c:3", mapping={"t": "y", "n": 3})
    info = wait_indexed(ft)
    assert as_dict(info["index_definition"])["prefixes"] == [""]
    assert info["num_docs"] == 3
    assert {d.id for d in ft.search(Query("@t:{x}").dialect(2)).docs} == {"a:1", "b:2"}
    assert ft.search(Query("@n:[2 +inf]").dialect(2)).total == 2
    rc.close()


@pytest.mark.parametrize("client_kwargs", list(CLIENTS.values()), ids=list(CLIENTS))
def test_text_blobs_and_default_distance_field(fresh_server, client_kwargs):
    # The shape of redis-py's own test_vector_field: an index over every hash, 8-byte
    # "vectors" written and queried as text, the default __v_score field returned.
    rc = fresh_server.client(decode_responses=True, **client_kwargs)
    rc.ft().create_index(
        (VectorField("v", "HNSW", {"TYPE": "FLOAT32", "DIM": 2, "DISTANCE_METRIC": "L2"}),)
    )
    rc.hset("a", "v", "aaaaaaaa")
    rc.hset("b", "v", "aaaabaaa")
    rc.hset("c", "v", "aaaaabaa")
    wait_indexed(rc.ft())
    q = Query("*=>[KNN 2 @v $vec]").return_field("__v_score").sort_by("__v_score", True)
    res = rc.ft().search(q.dialect(2), query_params={"vec": "aaaaaaaa"})
    assert res.total == 2
    assert res.docs[0].id == "a"
    assert getattr(res.docs[0], "__v_score") == "0"
    rc.close()


def test_field_options(rc, name):
    # AS aliases, several prefixes, CASESENSITIVE and a custom SEPARATOR, NOSTEM, FLOAT64
    # vectors, INDEXMISSING, STOPWORDS 0; FT.INFO reports them back.
    ft = rc.ft(name)
    ft.create_index(
        [
            TextField("body", as_name="text", no_stem=True, weight=2.0),
            TagField("labels", separator=";", case_sensitive=True),
            TagField("color", index_missing=True),
            NumericField("n", as_name="num"),
            VectorField(
                "emb", "FLAT", {"TYPE": "FLOAT64", "DIM": 2, "DISTANCE_METRIC": "L2"}, as_name="vec"
            ),
        ],
        definition=IndexDefinition(prefix=[f"{name}:a:", f"{name}:b:"], index_type=IndexType.HASH),
        stopwords=[],
    )

    def f64(vec) -> bytes:
        return np.asarray(vec, dtype=np.float64).tobytes()

    rc.hset(
        f"{name}:a:1",
        mapping={
            "body": "the runner runs",
            "labels": "Big Cat;small",
            "color": "red",
            "n": 1,
            "emb": f64([0, 0]),
        },
    )
    rc.hset(
        f"{name}:b:2",
        mapping={"body": "and running", "labels": "big;Small", "n": 2, "emb": f64([1, 1])},
    )
    rc.hset(f"{name}:c:3", mapping={"body": "runs", "labels": "big", "n": 3, "emb": f64([0, 0])})
    info = wait_indexed(ft)
    assert info["num_docs"] == 2
    assert as_dict(info["index_definition"])["prefixes"] == [f"{name}:a:", f"{name}:b:"]
    assert info["stopwords_list"] == []
    attrs = {a[3]: a for a in info["attributes"]}
    assert attrs["text"][1] == "body" and "NOSTEM" in attrs["text"]
    assert "CASESENSITIVE" in attrs["labels"]
    assert "INDEXMISSING" in attrs["color"]
    assert attrs["vec"][1] == "emb"

    def found(query, **params):
        res = ft.search(Query(query).no_content().dialect(2), query_params=params or None)
        return sorted(d.id.rsplit(":", 1)[1] for d in res.docs)

    assert found("@text:runs") == ["1"]  # NOSTEM: "running" does not match "runs"
    assert found("@text:and") == ["2"]  # STOPWORDS 0: "and" is a word
    assert found("@labels:{Big Cat}") == ["1"]
    assert found("@labels:{big}") == ["2"]  # case-sensitive
    assert found("@labels:{Small | small}") == ["1", "2"]
    assert found("ismissing(@color)") == ["2"]
    assert found("@num:[2 2]") == ["2"]
    q = Query("*=>[KNN 1 @vec $v AS d]").sort_by("d").return_fields("text", "d").dialect(2)
    res = ft.search(q, query_params={"v": f64([0.9, 1])})
    assert [d.id for d in res.docs] == [f"{name}:b:2"]
    assert res.docs[0].text == "and running"
    # FLOAT64 distances are computed in double precision: (0.9 - 1)^2 prints as 0.01.
    assert res.docs[0].d == "0.01"


def test_list_indexes(rc, name):
    create(rc, name)
    listed = rc.execute_command("FT._LIST")
    assert name in listed
    rc.ft(name).dropindex()
    assert name not in rc.execute_command("FT._LIST")


@pytest.mark.parametrize("delete_documents", [False, True], ids=["keep", "dd"])
def test_dropindex(rc, name, delete_documents):
    ft = indexed(rc, name)
    assert ft.dropindex(delete_documents=delete_documents)
    with pytest.raises(ResponseError, match="^Unknown index name$"):
        ft.info()
    left = rc.keys(f"{name}:*")
    assert len(left) == (0 if delete_documents else len(DOCS))
    if left:
        rc.delete(*left)


def test_aliases(rc, name):
    first = indexed(rc, name)
    second = create(rc, f"{name}_b")
    alias = f"{name}_alias"
    assert first.aliasadd(alias)
    assert rc.ft(alias).search(Query("*").dialect(2)).total == len(DOCS)
    # FT.INFO through an alias names the real index (redisvl's exists() relies on it).
    assert rc.ft(alias).info()["index_name"] == name
    with pytest.raises(ResponseError, match="Alias already exists"):
        second.aliasadd(alias)
    assert second.aliasupdate(alias)
    assert rc.ft(alias).info()["index_name"] == f"{name}_b"
    assert rc.ft(alias).search(Query("*").dialect(2)).total == 0
    assert second.aliasdel(alias)
    with pytest.raises(ResponseError, match=f"^No such index {alias}$"):
        rc.ft(alias).search(Query("*").dialect(2))
    with pytest.raises(ResponseError, match="^Alias does not exist$"):
        second.aliasdel(alias)
    with pytest.raises(ResponseError, match="^Unknown index name"):
        rc.ft(f"{name}_none").aliasadd(alias)
    # Dropping an index drops its aliases with it.
    assert second.aliasadd(alias)
    second.dropindex()
    with pytest.raises(ResponseError, match=f"^No such index {alias}$"):
        rc.ft(alias).search(Query("*").dialect(2))
    assert first.aliasadd(alias)
    assert rc.ft(alias).search(Query("*").dialect(2)).total == len(DOCS)
    first.dropindex(delete_documents=True)


def test_tagvals(rc, name):
    ft = indexed(rc, name)
    assert set(ft.tagvals("tags")) == {"fruit", "red", "green", "spice", "dairy", "blue", "yellow"}
    with pytest.raises(ResponseError, match="^No such field$"):
        ft.tagvals("nosuch")
    with pytest.raises(ResponseError, match="^Not a tag field$"):
        ft.tagvals("price")


def test_explain(rc, name):
    ft = create(rc, name)
    plan = ft.explain(Query("@price:[3 5] @tags:{red}").dialect(2))
    assert isinstance(plan, str)
    assert "price" in plan and "red" in plan


def test_config_get_set(rc):
    with pytest.warns(DeprecationWarning):
        assert rc.ft().config_get("TIMEOUT") == {"TIMEOUT": "500"}
    with pytest.warns(DeprecationWarning):
        everything = rc.ft().config_get("*")
    assert everything["DEFAULT_DIALECT"] == "1"
    assert everything["TIMEOUT"] == "500"
    with pytest.warns(DeprecationWarning):
        assert rc.ft().config_set("TIMEOUT", "750") is True
    try:
        with pytest.warns(DeprecationWarning):
            assert rc.ft().config_get("TIMEOUT") == {"TIMEOUT": "750"}
    finally:
        rc.execute_command("FT.CONFIG", "SET", "TIMEOUT", "500")


# ------------------------------------------------------------------------------------ KNN


@pytest.mark.parametrize("metric", ["COSINE", "L2", "IP"])
@pytest.mark.parametrize("algo", ["FLAT", "HNSW"])
def test_knn_sorted_by_distance(rc, name, algo, metric):
    ft = indexed(rc, name, algo=algo, metric=metric)
    q = (
        Query("*=>[KNN 3 @v $vec AS score]")
        .sort_by("score")
        .return_fields("title", "score")
        .paging(0, 3)
        .dialect(2)
    )
    res = ft.search(q, query_params={"vec": blob(QUERY_VEC)})
    expected = distances(metric)
    order = [str(i + 1) for i in np.argsort(expected, kind="stable")[:3]]
    assert res.total == 3
    assert ids(name, res) == order
    for doc, doc_id in zip(res.docs, order):
        assert doc.title == DOCS[int(doc_id) - 1][1]
        assert float(doc.score) == pytest.approx(float(expected[int(doc_id) - 1]), abs=1e-5)
        assert set(doc.__dict__) == {"id", "payload", "title", "score"}


def test_knn_with_tag_filter(rc, name):
    ft = indexed(rc, name)
    q = (
        Query("(@tags:{fruit})=>[KNN 2 @v $vec AS score]")
        .sort_by("score")
        .return_fields("title", "tags", "score")
        .paging(0, 3)
        .dialect(2)
    )
    res = ft.search(q, query_params={"vec": blob(QUERY_VEC)})
    assert res.total == 2
    assert ids(name, res) == ["2", "1"]  # fruit docs 1, 2, 5 by cosine distance
    assert all("fruit" in doc.tags for doc in res.docs)

    # Fewer matches than K: total is the number of docs passing the filter.
    q = Query("(@tags:{red})=>[KNN 3 @v $vec AS score]").sort_by("score").dialect(2)
    res = ft.search(q, query_params={"vec": blob(QUERY_VEC)})
    assert res.total == 2
    assert ids(name, res) == ["1", "3"]


def test_knn_numeric_prefilter_and_params(rc, name):
    ft = indexed(rc, name, algo="FLAT", metric="L2")
    q = (
        Query("(@price:[$lo $hi])=>[KNN $k @v $vec AS dist]")
        .sort_by("dist")
        .return_fields("dist")
        .dialect(2)
    )
    res = ft.search(q, query_params={"vec": blob(QUERY_VEC), "k": 2, "lo": 4, "hi": 8})
    # price 4..8: docs 2 (5), 4 (8), 5 (4), 6 (6); nearest by L2: 2, 5.
    assert ids(name, res) == ["2", "5"]


def test_knn_exact_match_distance_is_zero(rc, name):
    # RediSearch prints integral distances without a fraction ("0", not "0.0").
    ft = indexed(rc, name, algo="FLAT", metric="L2")
    q = Query("*=>[KNN 1 @v $vec AS dist]").sort_by("dist").return_fields("dist").dialect(2)
    res = ft.search(q, query_params={"vec": blob(DOCS[3][4])})
    assert ids(name, res) == ["4"]
    assert res.docs[0].dist == "0"


def test_knn_default_score_field_and_ef_runtime(rc, name):
    ft = indexed(rc, name, algo="HNSW", metric="COSINE", EF_RUNTIME=20)
    q = Query("*=>[KNN 2 @v $vec EF_RUNTIME 50]").sort_by("__v_score").dialect(2)
    res = ft.search(q, query_params={"vec": blob(QUERY_VEC)})
    assert ids(name, res) == ["2", "1"]
    # Without RETURN every hash field comes back, plus the default distance field.
    doc = res.docs[0]
    assert doc.title == "green apple tart"
    assert doc.tags == "fruit,green"
    assert doc.price == "5"
    assert float(getattr(doc, "__v_score")) == pytest.approx(
        float(distances("COSINE")[1]), abs=1e-5
    )


def test_return_vector_bytes_undecoded(rc, name):
    # return_field(..., decode_field=False) hands back the stored blob byte for byte.
    ft = indexed(rc, name, algo="FLAT", metric="IP")
    q = (
        Query("*=>[KNN 1 @v $vec AS dist]")
        .sort_by("dist")
        .return_field("v", decode_field=False)
        .return_field("dist")
        .dialect(2)
    )
    res = ft.search(q, query_params={"vec": blob(DOCS[5][4])})
    assert ids(name, res) == ["6"]
    assert res.docs[0].v == blob(DOCS[5][4])
    assert float(res.docs[0].dist) == pytest.approx(
        1 - float(np.dot(DOCS[5][4], DOCS[5][4])), abs=1e-6
    )


def test_vector_range(rc, name):
    ft = indexed(rc, name, algo="FLAT", metric="COSINE")
    q = (
        Query("@v:[VECTOR_RANGE $radius $vec]=>{$YIELD_DISTANCE_AS: dist}")
        .sort_by("dist")
        .return_fields("dist")
        .dialect(2)
    )
    res = ft.search(q, query_params={"vec": blob(QUERY_VEC), "radius": 0.2})
    d = distances("COSINE")
    expected = [str(i + 1) for i in np.argsort(d, kind="stable") if d[i] <= 0.2]
    assert expected == ["2", "1", "5"]
    assert res.total == 3
    assert ids(name, res) == expected


def test_pipeline_search_returns_raw_rows(rc, name):
    # A search pipeline (r.ft(name).pipeline()) returns the raw RESP2 rows
    # [total, id, [field, value ...], ...], also over RESP3.
    indexed(rc, name)
    q = Query("@tags:{blue}").return_fields("title").dialect(2)
    pipe = rc.ft(name).pipeline(transaction=False)
    pipe.search(q)
    (raw,) = pipe.execute()
    assert raw[0] == 1
    assert text(raw[1]) == f"{name}:4"
    assert [text(x) for x in raw[2]] == ["title", "blue cheese"]


def test_native_resp3_search_reply(server, name):
    # protocol=3 given explicitly: redis-py returns RediSearch's RESP3 map untouched.
    rc = server.client(protocol=3, decode_responses=True)
    try:
        ft = indexed(rc, name, algo="FLAT", metric="L2")
        q = Query("*=>[KNN 2 @v $vec AS dist]").sort_by("dist").return_fields("dist", "price")
        res = ft.search(q.dialect(2), query_params={"vec": blob(DOCS[0][4])})
        assert isinstance(res, dict)
        assert res["total_results"] == 2
        assert res["attributes"] == []
        assert res["warning"] == []
        assert text(res["format"]) == "STRING"
        rows = res["results"]
        assert [r["id"] for r in rows] == [f"{name}:1", f"{name}:2"]
        assert rows[0]["extra_attributes"] == {"dist": "0", "price": "3"}
        assert float(rows[1]["extra_attributes"]["dist"]) == pytest.approx(0.0225, abs=1e-5)
        assert rows[0]["values"] == []
        # FT._LIST and FT.TAGVALS reply with RESP3 sets (`~`, checked byte for byte in
        # tests/search_admin.rs); redis-py's RESP3 parser hands sets over as lists.
        assert name in rc.execute_command("FT._LIST")
        assert set(ft.tagvals("tags")) == {"fruit", "red", "green", "spice", "dairy", "blue", "yellow"}
    finally:
        rc.close()


# -------------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    "query,expected",
    [
        ("@price:[3 5]", {"1", "2", "5"}),
        ("@price:[(3 +inf]", {"2", "4", "5", "6"}),
        ("@price:[-inf (3]", {"3"}),
        ("@price:[-inf +inf]", {"1", "2", "3", "4", "5", "6"}),
        ("@tags:{red | blue}", {"1", "3", "4"}),
        ("@tags:{fruit} @tags:{red}", {"1"}),
        ("-@tags:{fruit}", {"3", "4", "6"}),
        ("apple", {"1", "2"}),
        ("cheese sauce", {"6"}),
        ("@title:cheese", {"4", "6"}),
        ("@title:(apple | chili)", {"1", "2", "3"}),
        ("@title:cheese @price:[7 +inf]", {"4"}),
        ("*", {"1", "2", "3", "4", "5", "6"}),
    ],
)
def test_filter_queries(rc, name, query, expected):
    ft = indexed(rc, name)
    res = ft.search(Query(query).return_fields("title").dialect(2))
    assert res.total == len(expected)
    assert set(ids(name, res)) == expected


def test_nocontent(rc, name):
    ft = indexed(rc, name)
    res = ft.search(Query("@tags:{dairy}").no_content().dialect(2))
    assert res.total == 2
    assert set(ids(name, res)) == {"4", "6"}
    for doc in res.docs:
        assert set(doc.__dict__) == {"id", "payload"}


def test_with_scores(rc, name):
    ft = indexed(rc, name)
    res = ft.search(Query("apple").with_scores().return_fields("title").dialect(2))
    assert set(ids(name, res)) == {"1", "2"}
    for doc in res.docs:
        assert isinstance(doc.score, float) and doc.score > 0


def test_sort_and_paging(rc, name):
    ft = indexed(rc, name)
    by_price = [d[0] for d in sorted(DOCS, key=lambda d: d[3])]
    res = ft.search(Query("*").sort_by("price").return_fields("price").paging(0, 4).dialect(2))
    assert res.total == len(DOCS)
    assert ids(name, res) == by_price[:4]
    res = ft.search(Query("*").sort_by("price").return_fields("price").paging(4, 4).dialect(2))
    assert ids(name, res) == by_price[4:]
    desc = ft.search(Query("*").sort_by("price", asc=False).paging(0, 2).dialect(2))
    assert ids(name, desc) == by_price[::-1][:2]
    counted = ft.search(Query("@tags:{fruit}").paging(0, 0).dialect(2))
    assert counted.total == 3 and counted.docs == []


def test_query_options(rc, name):
    ft = indexed(rc, name)
    # RETURN ... AS renames; INKEYS restricts; TIMEOUT, VERBATIM accepted; tag params.
    q = Query("@tags:{$t}").return_field("title", as_field="name").sort_by("price").dialect(2)
    res = ft.search(q, query_params={"t": "fruit"})
    assert ids(name, res) == ["1", "5", "2"]
    assert [d.name for d in res.docs] == ["red apple pie", "banana bread", "green apple tart"]
    q = Query("@tags:{fruit}").limit_ids(f"{name}:2", f"{name}:3").no_content().dialect(2)
    assert ids(name, ft.search(q)) == ["2"]
    q = Query("apple").verbatim().timeout(1000).no_content().dialect(2)
    assert set(ids(name, ft.search(q))) == {"1", "2"}
    # "and" is a default stopword: redisvl-style "x AND y" is the intersection.
    res = ft.search(Query("apple AND @tags:{red}").no_content().dialect(2))
    assert ids(name, res) == ["1"]
    # KNN with SORTBY DESC, LIMIT past the end, and K larger than the index.
    q = Query("*=>[KNN 10 @v $vec AS d]").sort_by("d", asc=False).return_fields("d").dialect(2)
    res = ft.search(q, query_params={"vec": blob(QUERY_VEC)})
    assert res.total == len(DOCS)
    assert ids(name, res) == [str(i + 1) for i in np.argsort(-distances("COSINE"), kind="stable")]
    res = ft.search(q.paging(6, 5), query_params={"vec": blob(QUERY_VEC)})
    assert res.total == len(DOCS) and res.docs == []


def test_writes_update_the_index(rc, name):
    ft = indexed(rc, name)
    rc.hset(f"{name}:1", "tags", "dairy")
    rc.delete(f"{name}:4")
    res = ft.search(Query("@tags:{dairy}").no_content().dialect(2))
    assert set(ids(name, res)) == {"1", "6"}
    assert wait_indexed(ft)["num_docs"] == len(DOCS) - 1

    # Leaving the prefix, expiring, losing the vector field.
    rc.rename(f"{name}:6", f"elsewhere_{name}:6")
    rc.pexpire(f"{name}:5", 30)
    rc.hdel(f"{name}:2", "v")
    time.sleep(0.2)
    res = ft.search(Query("*").no_content().dialect(2))
    assert set(ids(name, res)) == {"1", "2", "3"}
    q = Query("*=>[KNN 5 @v $vec AS d]").sort_by("d").return_fields("d").dialect(2)
    res = ft.search(q, query_params={"vec": blob(QUERY_VEC)})
    assert ids(name, res) == ["1", "3"]  # doc 2 has no vector any more
    rc.delete(f"elsewhere_{name}:6")


def test_transactions_scripts_and_field_ttl(rc, name):
    ft = indexed(rc, name)
    # MULTI/EXEC through a search pipeline: the search sees the write queued before it.
    pipe = ft.pipeline(transaction=True)
    pipe.hset(f"{name}:7", mapping={"tags": "tea", "price": 1})
    pipe.search(Query("@tags:{tea}").no_content().dialect(2))
    written, found = pipe.execute()
    assert written == 2
    assert found[0] == 1 and text(found[1]) == f"{name}:7"
    # Lua writes are indexed, and scripts may search.
    script = (
        "redis.call('HSET', KEYS[1], 'tags', 'coffee') "
        "return redis.call('FT.SEARCH', ARGV[1], '@tags:{coffee}', 'NOCONTENT', 'DIALECT', 2)"
    )
    reply = rc.eval(script, 1, f"{name}:8", name)
    assert reply[0] == 1 and text(reply[1]) == f"{name}:8"
    # A hash field's TTL (HPEXPIRE) takes the field, and its tags, out of the index.
    rc.hpexpire(f"{name}:4", 30, "tags")
    time.sleep(0.2)
    assert ft.search(Query("@tags:{blue}").no_content().dialect(2)).total == 0
    assert ids(name, ft.search(Query("@price:[8 8]").no_content().dialect(2))) == ["4"]


@pytest.mark.parametrize("algo", ["FLAT", "HNSW"])
def test_vector_updates(rc, name, algo):
    ft = indexed(rc, name, algo=algo, metric="L2")
    q = Query("*=>[KNN 2 @v $vec AS d]").sort_by("d").return_fields("d").dialect(2)
    assert ids(name, ft.search(q, query_params={"vec": blob(QUERY_VEC)})) == ["2", "1"]
    # Move doc 2 far away and doc 4 onto the query: the old positions must not linger.
    rc.hset(f"{name}:2", "v", blob([9, 9, 9, 9]))
    rc.hset(f"{name}:4", "v", blob(QUERY_VEC))
    res = ft.search(q, query_params={"vec": blob(QUERY_VEC)})
    assert ids(name, res) == ["4", "1"]
    assert res.docs[0].d == "0"
    for _ in range(20):  # churn: re-writing the same documents many times
        for doc_id, _, _, _, vec in DOCS:
            if doc_id not in ("2", "4"):
                rc.hset(f"{name}:{doc_id}", "v", blob(vec))
    assert ids(name, ft.search(q, query_params={"vec": blob(QUERY_VEC)})) == ["4", "1"]
    assert wait_indexed(ft)["num_docs"] == len(DOCS)


# --------------------------------------------------------------------------------- errors


def test_unknown_index_errors(rc, name):
    with pytest.raises(ResponseError, match="^Unknown index name$"):
        rc.ft(name).info()
    with pytest.raises(ResponseError, match=f"^No such index {name}$"):
        rc.ft(name).search(Query("*").dialect(2))
    with pytest.raises(ResponseError, match="^Unknown Index name$"):
        rc.ft(name).dropindex()
    with pytest.raises(ResponseError, match="^Unknown Index name$"):
        rc.ft(name).tagvals("tags")
    with pytest.raises(ResponseError, match=f"^{name}: no such index$"):
        rc.ft(name).explain("*")


def test_create_errors(rc, name):
    create(rc, name)
    with pytest.raises(ResponseError, match="^Index already exists$"):
        create(rc, name)
    with pytest.raises(ResponseError, match="DIM"):
        rc.ft(f"{name}_bad").create_index(
            [VectorField("v", "HNSW", {"TYPE": "FLOAT32", "DISTANCE_METRIC": "L2"})]
        )
    assert f"{name}_bad" not in rc.execute_command("FT._LIST")


def test_query_blob_size_error(rc, name):
    ft = indexed(rc, name)
    q = Query("*=>[KNN 3 @v $vec AS score]").sort_by("score").dialect(2)
    with pytest.raises(ResponseError) as err:
        ft.search(q, query_params={"vec": b"\x00" * 7})
    assert str(err.value) == (
        "Error parsing vector similarity query: query vector blob size (7) does not match "
        "index's expected size (16)."
    )


def test_query_syntax_and_parameter_errors(rc, name):
    ft = indexed(rc, name)
    with pytest.raises(ResponseError, match="^Syntax error at offset"):
        ft.search(Query("@price:[1").dialect(2))
    with pytest.raises(ResponseError, match="^No such parameter `vec`$"):
        ft.search(Query("*=>[KNN 3 @v $vec AS score]").dialect(2))
    with pytest.raises(ResponseError, match="Expected a VECTOR field"):
        ft.search(Query("*=>[KNN 3 @title $vec]").dialect(2), query_params={"vec": blob(QUERY_VEC)})


def test_wrong_blob_in_hash_is_an_indexing_failure(rc, name):
    ft = indexed(rc, name)
    # The write succeeds; the document leaves the index and counts as a failure.
    assert rc.hset(f"{name}:1", "v", b"\x00\x00\x80\x3f") == 0
    info = wait_indexed(ft)
    assert info["num_docs"] == len(DOCS) - 1
    assert int(info["hash_indexing_failures"]) == 1
    errors = as_dict(info["Index Errors"])
    assert (
        errors["last indexing error"] == "Could not add vector with blob size 4 (expected size 16)"
    )
    assert errors["last indexing error key"] == f"{name}:1"
    res = ft.search(Query("@tags:{red}").no_content().dialect(2))
    assert ids(name, res) == ["3"]


# --------------------------------------------------------------------------------- recall


# (algorithm, documents, KNN clause options, minimum recall@10). FLAT is exact; HNSW
# (M 16, EF_CONSTRUCTION 200) builds slowly in a debug binary, hence its smaller slice.
RECALL_CASES = {
    "flat": ("FLAT", 2000, "", 1.0),
    "hnsw": ("HNSW", 1000, " EF_RUNTIME 100", 0.95),
}
# Filters over the dataset's metadata: a tag (pos verb, ~14%) and a numeric range.
RECALL_FILTERS = {
    "all": ("*", lambda m: True),
    "tag": ("(@pos:{verb})", lambda m: m["pos"] == "verb"),
    "numeric": ("(@chars:[50 120])", lambda m: 50 <= m["chars"] <= 120),
}


@pytest.mark.parametrize("case", list(RECALL_CASES))
def test_recall_on_gcide_slice(server, name, case):
    """KNN over real 384-d embeddings against numpy's exact top 10, unfiltered and filtered."""
    data = dataset()
    if data is None:
        pytest.skip("shared/datasets/gcide-minilm is not beside the repository")
    algo, n_docs, knn_options, min_recall = RECALL_CASES[case]
    n_queries, k, dim = 40, 10, 384
    base = np.fromfile(data / "base.f32", dtype=np.float32, count=n_docs * dim).reshape(-1, dim)
    queries = np.fromfile(data / "queries.f32", dtype=np.float32, count=n_queries * dim)
    queries = queries.reshape(-1, dim)
    with open(data / "meta.jsonl") as f:
        meta = [json.loads(line) for line, _ in zip(f, range(n_docs))]

    rc = server.client()

    def write(rows):
        pipe = rc.pipeline(transaction=False)
        for row in rows:
            fields = {
                "v": base[row].tobytes(),
                "pos": meta[row]["pos"],
                "chars": meta[row]["chars"],
            }
            pipe.hset(f"{name}:{row}", mapping=fields)
        pipe.execute()

    attrs = {"TYPE": "FLOAT32", "DIM": dim, "DISTANCE_METRIC": "COSINE"}
    if algo == "HNSW":
        attrs.update(M=16, EF_CONSTRUCTION=200)
    try:
        # Half the documents exist before FT.CREATE (the background scan indexes them),
        # half are written afterwards.
        write(range(0, n_docs, 2))
        ft = rc.ft(name)
        ft.create_index(
            [TagField("pos"), NumericField("chars"), VectorField("v", algo, attrs)],
            definition=IndexDefinition(prefix=[f"{name}:"], index_type=IndexType.HASH),
        )
        write(range(1, n_docs, 2))
        assert wait_indexed(ft)["num_docs"] == n_docs

        exact = 1 - queries @ base.T  # unit vectors: cosine distance
        for filter_name, (prefilter, keep) in RECALL_FILTERS.items():
            passing = np.array([keep(m) for m in meta])
            q = Query(f"{prefilter}=>[KNN {k} @v $vec{knn_options} AS dist]")
            q = q.sort_by("dist").return_fields("dist").paging(0, k).dialect(2)
            hits = 0
            for qi, qvec in enumerate(queries):
                res = ft.search(q, query_params={"vec": qvec.tobytes()})
                got = [int(doc.id.rsplit(":", 1)[1]) for doc in res.docs]
                assert len(got) == k and all(passing[row] for row in got), filter_name
                # Right after a bulk load too: k distinct documents, each with its distance.
                assert len(set(got)) == k, f"{filter_name}: repeated documents {got}"
                assert all(hasattr(doc, "dist") for doc in res.docs), f"{filter_name}: {res.docs}"
                dist = np.where(passing, exact[qi], np.inf)
                kth = np.sort(dist)[k - 1]
                # Ties at the k-th distance may resolve either way.
                hits += sum(dist[row] <= kth + 1e-6 for row in got)
                for doc, row in zip(res.docs, got):
                    assert float(doc.dist) == pytest.approx(float(exact[qi][row]), abs=1e-4)
            recall = hits / (n_queries * k)
            assert recall >= min_recall, f"{filter_name}: recall@{k} {recall}"
    finally:
        rc.ft(name).dropindex(delete_documents=True)
        rc.close()


# ------------------------------------------------------------------------------- phonetic


def test_phonetic_text_field(rc, name):
    # TextField(phonetic_matcher=...) sends PHONETIC dm:en: names sounding alike match,
    # `$phonetic: false` turns it off, and a field without PHONETIC refuses the attribute.
    ft = rc.ft(name)
    ft.create_index(
        [TextField("name", phonetic_matcher="dm:en"), TextField("note")],
        definition=IndexDefinition(prefix=[f"{name}:"], index_type=IndexType.HASH),
    )
    rc.hset(f"{name}:1", mapping={"name": "Jon Smith", "note": "phonetic"})
    rc.hset(f"{name}:2", mapping={"name": "John Jones"})
    rc.hset(f"{name}:3", mapping={"name": "Morfix"})
    wait_indexed(ft)

    def found(q) -> list:
        return sorted(ids(name, ft.search(Query(q).no_content())))

    assert found("@name:john") == ["1", "2"]
    assert found("morphix") == ["3"]
    assert found("@name:john=>{$phonetic: false}") == ["2"]
    assert found('"jon"') == ["1"]
    assert found("fonetic") == []
    with pytest.raises(ResponseError, match="field does not support phonetics"):
        ft.search(Query("@note:fonetic=>{$phonetic: true}"))
