"""FT.AGGREGATE and FT.CURSOR through redis-py's AggregateRequest / reducers / Cursor API and
redisvl's cursor-driven bulk operations and AggregateHybridQuery, unchanged client code.

Every test runs with redis-py's default connection (RESP3 on the wire) and with
`protocol=2`; the expectations are what RediSearch 2.10 answers.
"""

import os

import numpy as np
import pytest
from redis.commands.search import reducers
from redis.commands.search.aggregation import AggregateRequest, Asc, Cursor, Desc
from redis.commands.search.field import NumericField, TagField, TextField, VectorField
from redis.commands.search.index_definition import IndexDefinition
from redis.exceptions import ResponseError
from redisvl.index import SearchIndex
from redisvl.query import AggregateHybridQuery, CountQuery, MultiVectorQuery
from redisvl.query.aggregate import Vector
from redisvl.query.filter import Num, Tag
from test_search import blob, name, rc  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(
    os.environ.get("FERRO_TEST_TARGET") == "redis",
    reason="the redis-server oracle has no search module",
)

# key, title, parent, random_num, 2-d vector
DOCS = [
    ("search", "RediSearch", "redis", 10, [0.0, 0.0]),
    ("ai", "RedisAI", "redis", 3, [1.0, 0.0]),
    ("json", "RedisJson", "redis", 8, [2.0, 0.0]),
    ("pg", "Postgres", "sql", 5, [3.0, 0.0]),
]


@pytest.fixture
def ft(rc, name):  # noqa: F811 (fixture arguments)
    ft = rc.ft(name)
    ft.create_index(
        (
            TextField("title", sortable=True),
            TagField("parent", sortable=True),
            NumericField("random_num", sortable=True),
            VectorField("v", "FLAT", {"TYPE": "FLOAT32", "DIM": 2, "DISTANCE_METRIC": "L2"}),
        ),
        definition=IndexDefinition(prefix=[f"{name}:"]),
    )
    for key, title, parent, num, vec in DOCS:
        rc.hset(
            f"{name}:{key}",
            mapping={"title": title, "parent": parent, "random_num": num, "v": blob(vec)},
        )
    yield ft
    ft.dropindex(delete_documents=True)


def by_name(row):
    return dict(zip(row[::2], row[1::2]))


def test_groupby_reducers(ft):
    def first_row(*reducer):
        req = AggregateRequest("*").group_by("@parent", *reducer).sort_by(Asc("@parent"))
        return by_name(ft.aggregate(req).rows[0])

    assert first_row(reducers.count())["__generated_aliascount"] == "3"
    row = first_row(reducers.count_distinct("@title"))
    assert row["__generated_aliascount_distincttitle"] == "3"
    row = first_row(reducers.count_distinctish("@title"))
    assert row["__generated_aliascount_distinctishtitle"] == "3"
    assert first_row(reducers.sum("@random_num"))["__generated_aliassumrandom_num"] == "21"
    assert first_row(reducers.min("@random_num"))["__generated_aliasminrandom_num"] == "3"
    assert first_row(reducers.max("@random_num"))["__generated_aliasmaxrandom_num"] == "10"
    assert first_row(reducers.avg("@random_num"))["__generated_aliasavgrandom_num"] == "7"
    row = first_row(reducers.stddev("random_num"))
    assert row["__generated_aliasstddevrandom_num"] == "3.60555127546"
    row = first_row(reducers.quantile("@random_num", 0.5))
    assert row["__generated_aliasquantilerandom_num,0.5"] == "8"
    row = first_row(reducers.tolist("@title"))
    assert set(row["__generated_aliastolisttitle"]) == {"RediSearch", "RedisAI", "RedisJson"}
    row = first_row(reducers.first_value("@title").alias("first"))
    assert row == {"parent": "redis", "first": "RediSearch"}
    row = first_row(reducers.random_sample("@title", 2).alias("random"))
    assert len(row["random"]) == 2
    assert row["random"][0] in ["RediSearch", "RedisAI", "RedisJson"]


def test_sort_limit_load_apply_filter(ft):
    req = AggregateRequest("*").sort_by(Desc("@random_num"), max=2)
    assert ft.aggregate(req).rows == [["random_num", "10"], ["random_num", "8"]]

    req = AggregateRequest("*").load("@title").sort_by("@title").limit(1, 2)
    rows = ft.aggregate(req).rows
    assert rows == [["title", "RediSearch"], ["title", "RedisAI"]]

    req = (
        AggregateRequest("*")
        .load("@title")
        .apply(half="@random_num / 2", shout="upper(@title)")
        .filter("@half >= 4")
        .sort_by(Asc("@half"))
    )
    rows = [by_name(r) for r in ft.aggregate(req).rows]
    assert [r["half"] for r in rows] == ["4", "5"]
    assert [r["shout"] for r in rows] == ["REDISJSON", "REDISEARCH"]

    req = AggregateRequest("@parent:{sql}").load()
    assert by_name(ft.aggregate(req).rows[0])["title"] == "Postgres"

    with pytest.raises(ResponseError, match="Property `nope` not loaded nor in schema"):
        ft.aggregate(AggregateRequest("*").sort_by("@nope"))


def test_cursor_read_to_exhaustion_and_delete(ft, rc, name):  # noqa: F811
    req = AggregateRequest("*").load("@title").sort_by("@title").cursor(count=1)
    result = ft.aggregate(req)
    titles = [r[1] for r in result.rows]
    while result.cursor and result.cursor.cid:
        result = ft.aggregate(Cursor(result.cursor.cid))
        titles += [r[1] for r in result.rows]
    assert titles == ["Postgres", "RediSearch", "RedisAI", "RedisJson"]

    result = ft.aggregate(AggregateRequest("*").cursor(count=1, max_idle=10))
    cid = result.cursor.cid
    assert cid
    assert rc.execute_command("FT.CURSOR", "DEL", name, cid) in (b"OK", "OK", True)
    with pytest.raises(ResponseError, match=f"Cursor not found, id: {cid}"):
        ft.aggregate(Cursor(cid))


def test_knn_distance_in_the_pipeline(ft):
    req = (
        AggregateRequest("*=>[KNN 3 @v $vec AS dist]")
        .load("@title")
        .apply(sim="1 / (1 + @dist)")
        .sort_by(Desc("@sim"))
        .dialect(2)
    )
    rows = [by_name(r) for r in ft.aggregate(req, {"vec": blob([0.0, 0.0])}).rows]
    assert [r["title"] for r in rows] == ["RediSearch", "RedisAI", "RedisJson"]
    assert [r["dist"] for r in rows] == ["0", "1", "4"]
    assert rows[1]["sim"] == "0.5"


def test_redisvl_drop_and_update_by_filter_read_keys_through_a_cursor(rc, name):  # noqa: F811
    index = SearchIndex.from_dict(
        {
            "index": {"name": name, "prefix": f"{name}:", "storage_type": "hash"},
            "fields": [{"name": "kind", "type": "tag"}, {"name": "n", "type": "numeric"}],
        },
        redis_client=rc,
    )
    index.create(overwrite=True)
    index.load([{"kind": "a" if i % 3 else "b", "n": i} for i in range(30)], id_field="n")
    updated = index.update_by_filter(Tag("kind") == "b", {"n": "100"}, batch_size=4)
    assert updated.processed == 10
    assert index.query(CountQuery(Num("n") == 100)) == 10
    dropped = index.drop_by_filter(Tag("kind") == "a", batch_size=7)
    assert dropped.processed == 20
    assert len(list(rc.scan_iter(f"{name}:*"))) == 10
    index.delete(drop=True)


def test_redisvl_aggregate_hybrid_query(rc, name):  # noqa: F811
    index = SearchIndex.from_dict(
        {
            "index": {"name": name, "prefix": f"{name}:", "storage_type": "hash"},
            "fields": [
                {"name": "text", "type": "text"},
                {
                    "name": "vec",
                    "type": "vector",
                    "attrs": {"dims": 2, "algorithm": "flat", "distance_metric": "cosine"},
                },
            ],
        },
        redis_client=rc,
    )
    index.create(overwrite=True)
    docs = [
        {"text": "red apple", "vec": np.array([1.0, 0.0], dtype=np.float32).tobytes()},
        {"text": "green apple", "vec": np.array([0.0, 1.0], dtype=np.float32).tobytes()},
        {"text": "red car", "vec": np.array([0.7, 0.7], dtype=np.float32).tobytes()},
    ]
    index.load(docs)
    query = AggregateHybridQuery(
        text="apple",
        text_field_name="text",
        vector=[1.0, 0.0],
        vector_field_name="vec",
        num_results=3,
        return_fields=["text"],
    )
    results = index.query(query)
    assert [r["text"] for r in results][0] == "red apple"
    assert {"vector_distance", "vector_similarity", "text_score", "hybrid_score"} <= set(
        results[0]
    )
    index.delete(drop=True)


def test_redisvl_multi_vector_query(rc, name):  # noqa: F811
    def vec_field(field):
        attrs = {"dims": 2, "algorithm": "flat", "distance_metric": "cosine"}
        return {"name": field, "type": "vector", "attrs": attrs}

    index = SearchIndex.from_dict(
        {
            "index": {"name": name, "prefix": f"{name}:", "storage_type": "hash"},
            "fields": [{"name": "label", "type": "tag"}, vec_field("a"), vec_field("b")],
        },
        redis_client=rc,
    )
    index.create(overwrite=True)

    def f32(*xs):
        return np.array(xs, dtype=np.float32).tobytes()

    index.load(
        [
            {"label": "both", "a": f32(1.0, 0.0), "b": f32(0.0, 1.0)},
            {"label": "a_only", "a": f32(1.0, 0.0), "b": f32(1.0, 0.0)},
            {"label": "neither", "a": f32(0.0, 1.0), "b": f32(1.0, 0.0)},
        ]
    )
    query = MultiVectorQuery(
        vectors=[
            Vector(vector=[1.0, 0.0], field_name="a"),
            Vector(vector=[0.0, 1.0], field_name="b"),
        ],
        return_fields=["label"],
    )
    results = index.query(query)
    assert [r["label"] for r in results][0] == "both"
    assert len(results) == 3
    index.delete(drop=True)
