"""redisvl's SearchIndex workflow against the FT.* commands, unchanged client code.

redisvl builds its own redis-py client from a URL with `protocol=2`, or takes the user's
client; the tests hand it redis-py 8's default client (RESP3 on the wire) and a
`protocol=2` client, and one test lets it connect by URL. Expected results come from the
data (numpy distances, Python filtering), as Redis Stack 7.4 would return them.
"""

import asyncio
import os
import re

import numpy as np
import pytest
from redis.asyncio import Redis as AsyncRedis
from redisvl.index import AsyncSearchIndex, SearchIndex
from redisvl.query import CountQuery, FilterQuery, RangeQuery, VectorQuery, VectorRangeQuery
from redisvl.query.filter import Num, Tag, Text
from redisvl.redis.utils import array_to_buffer
from search_support import dataset, wait_indexed

pytestmark = pytest.mark.skipif(
    os.environ.get("FERRO_TEST_TARGET") == "redis",
    reason="the redis-server oracle has no search module",
)

MOVIES = [
    dict(zip(("id", "title", "genre", "year", "vec"), row))
    for row in [
        ("1", "star wars", "scifi", 1977, [1.0, 0.0, 0.0, 0.0]),
        ("2", "star trek", "scifi", 2009, [0.9, 0.1, 0.0, 0.05]),
        ("3", "the godfather", "drama", 1972, [0.0, 1.0, 0.0, 0.2]),
        ("4", "arrival", "scifi", 2016, [0.5, 0.6, 0.0, 0.0]),
        ("5", "the dark knight", "action", 2008, [0.1, 0.0, 1.0, 0.0]),
        ("6", "a star is born", "drama", 2018, [0.0, 0.1, 0.7, 0.7]),
    ]
]
QUERY_VEC = [0.8, 0.3, 0.1, 0.0]

CLIENTS = {"resp3": {}, "resp2": {"protocol": 2}}


def cosine_distances(q=QUERY_VEC) -> dict:
    """RediSearch's COSINE distance (1 - cos) of every movie to `q`, by id."""
    q = np.asarray(q, dtype=np.float32)
    out = {}
    for m in MOVIES:
        v = np.asarray(m["vec"], dtype=np.float32)
        out[m["id"]] = float(1 - v @ q / (np.linalg.norm(v) * np.linalg.norm(q)))
    return out


def nearest(predicate, k=10) -> list:
    """Ids of the movies passing `predicate`, nearest first."""
    d = cosine_distances()
    return sorted((m["id"] for m in MOVIES if predicate(m)), key=d.get)[:k]


@pytest.fixture(params=list(CLIENTS), ids=list(CLIENTS))
def client(server, request):
    c = server.client(**CLIENTS[request.param])
    yield c
    c.close()


@pytest.fixture
def name(request):
    return "rvl_" + re.sub(r"\W+", "_", request.node.name).strip("_")


def schema(name, algorithm="hnsw"):
    return {
        "index": {"name": name, "prefix": name, "storage_type": "hash"},
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "genre", "type": "tag"},
            {"name": "year", "type": "numeric"},
            {
                "name": "embedding",
                "type": "vector",
                "attrs": {
                    "dims": 4,
                    "algorithm": algorithm,
                    "distance_metric": "cosine",
                    "datatype": "float32",
                },
            },
        ],
    }


def records():
    """MOVIES as redisvl hash records: the vector as a float32 blob."""
    return [
        {
            "id": m["id"],
            "title": m["title"],
            "genre": m["genre"],
            "year": m["year"],
            "embedding": array_to_buffer(m["vec"], "float32"),
        }
        for m in MOVIES
    ]


@pytest.fixture
def movies(client, name, request):
    """A created and loaded index (HNSW unless the test is parametrised with `algorithm`)."""
    algorithm = getattr(request, "param", "hnsw")
    index = SearchIndex.from_dict(schema(name, algorithm), redis_client=client)
    index.create(overwrite=True, drop=True)
    keys = index.load(records(), id_field="id")
    assert keys == [f"{name}:{m['id']}" for m in MOVIES]
    wait_indexed(index)
    yield index
    if index.exists():
        index.delete(drop=True)


def short_ids(index, results) -> list:
    return [r["id"].removeprefix(f"{index.prefix}:") for r in results]


def two_nearest_scifi(**options) -> VectorQuery:
    """The 2 scifi movies nearest QUERY_VEC, with their titles; `options` are query knobs."""
    return VectorQuery(
        vector=QUERY_VEC,
        vector_field_name="embedding",
        return_fields=["title"],
        filter_expression=Tag("genre") == "scifi",
        num_results=2,
        **options,
    )


@pytest.mark.parametrize("movies", ["hnsw", "flat"], indirect=True)
def test_vector_query(movies):
    q = VectorQuery(
        vector=QUERY_VEC,
        vector_field_name="embedding",
        return_fields=["title", "genre", "year"],
        num_results=3,
    )
    results = movies.query(q)
    expected = nearest(lambda m: True, k=3)
    assert short_ids(movies, results) == expected
    d = cosine_distances()
    by_id = {m["id"]: m for m in MOVIES}
    for r in results:
        movie = by_id[r["id"].rsplit(":", 1)[1]]
        assert set(r) == {"id", "title", "genre", "year", "vector_distance"}
        assert r["title"] == movie["title"]
        assert r["genre"] == movie["genre"]
        assert int(r["year"]) == movie["year"]
        assert float(r["vector_distance"]) == pytest.approx(d[movie["id"]], abs=1e-5)


FILTERS = {
    "tag": (Tag("genre") == "scifi", lambda m: m["genre"] == "scifi"),
    "tag_list": (Tag("genre") == ["drama", "action"], lambda m: m["genre"] in ("drama", "action")),
    "tag_ne": (Tag("genre") != "scifi", lambda m: m["genre"] != "scifi"),
    "num_gt": (Num("year") > 2000, lambda m: m["year"] > 2000),
    "num_le": (Num("year") <= 2009, lambda m: m["year"] <= 2009),
    "num_between": (Num("year").between(1975, 2010), lambda m: 1975 <= m["year"] <= 2010),
    "text": (Text("title") == "star", lambda m: "star" in m["title"].split()),
    "text_like": (Text("title") % "sta*", lambda m: "star" in m["title"].split()),
    "tag_and_num": (
        (Tag("genre") == "scifi") & (Num("year") > 2000),
        lambda m: m["genre"] == "scifi" and m["year"] > 2000,
    ),
    "tag_or_num": (
        (Tag("genre") == "drama") | (Num("year") < 1980),
        lambda m: m["genre"] == "drama" or m["year"] < 1980,
    ),
    "text_and_tag": (
        (Text("title") == "star") & (Tag("genre") == "scifi"),
        lambda m: "star" in m["title"].split() and m["genre"] == "scifi",
    ),
}


@pytest.mark.parametrize("movies", ["hnsw", "flat"], indirect=True)
@pytest.mark.parametrize("which", list(FILTERS))
def test_vector_query_with_filter(movies, which):
    expression, predicate = FILTERS[which]
    q = VectorQuery(
        vector=QUERY_VEC,
        vector_field_name="embedding",
        return_fields=["title", "genre", "year"],
        filter_expression=expression,
        num_results=10,
    )
    assert short_ids(movies, movies.query(q)) == nearest(predicate)


@pytest.mark.parametrize(
    "options",
    [
        {"ef_runtime": 50},
        {"hybrid_policy": "ADHOC_BF"},
        {"hybrid_policy": "BATCHES", "batch_size": 2},
        {"normalize_vector_distance": True},
    ],
    ids=["ef_runtime", "adhoc_bf", "batches", "normalized"],
)
def test_vector_query_runtime_options(movies, options):
    # Query-time knobs travel in the KNN clause; results are the same exact neighbours here.
    q = two_nearest_scifi(**options)
    results = movies.query(q)
    assert short_ids(movies, results) == nearest(lambda m: m["genre"] == "scifi", k=2)
    if options.get("normalize_vector_distance"):
        d = cosine_distances()
        for r in results:
            similarity = (2 - d[r["id"].rsplit(":", 1)[1]]) / 2
            assert float(r["vector_distance"]) == pytest.approx(similarity, abs=1e-5)


def test_batch_query(movies):
    # batch_query pipelines the FT.SEARCH commands and parses the raw replies itself.
    queries = [
        VectorQuery(vector=QUERY_VEC, vector_field_name="embedding", num_results=2),
        FilterQuery(Num("year") < 1980, return_fields=["title"], sort_by="year"),
        VectorQuery(
            vector=QUERY_VEC,
            vector_field_name="embedding",
            return_fields=["genre"],
            filter_expression=Tag("genre") == "drama",
            num_results=5,
        ),
    ]
    first, second, third = movies.batch_query(queries)
    assert short_ids(movies, first) == nearest(lambda m: True, k=2)
    assert short_ids(movies, second) == ["3", "1"]
    assert [r["title"] for r in second] == ["the godfather", "star wars"]
    assert short_ids(movies, third) == nearest(lambda m: m["genre"] == "drama")
    assert all(r["genre"] == "drama" for r in third)


@pytest.mark.parametrize("which", ["tag", "num_gt", "text", "tag_or_num"])
def test_filter_and_count_queries(movies, which):
    expression, predicate = FILTERS[which]
    expected = sorted((m for m in MOVIES if predicate(m)), key=lambda m: m["year"])
    assert movies.query(CountQuery(filter_expression=expression)) == len(expected)
    q = FilterQuery(filter_expression=expression, return_fields=["title", "year"], sort_by="year")
    results = movies.query(q)
    assert short_ids(movies, results) == [m["id"] for m in expected]
    assert [r["title"] for r in results] == [m["title"] for m in expected]


def test_count_everything(movies):
    assert movies.query(CountQuery()) == len(MOVIES)
    assert movies.query(CountQuery(Tag("genre") == "western")) == 0


@pytest.mark.parametrize("movies", ["hnsw", "flat"], indirect=True)
def test_vector_range_query(movies):
    d = cosine_distances()
    q = VectorRangeQuery(
        vector=QUERY_VEC,
        vector_field_name="embedding",
        return_fields=["title"],
        distance_threshold=0.2,
    )
    results = movies.query(q)
    expected = sorted((i for i in d if d[i] <= 0.2), key=d.get)
    assert expected == ["2", "1", "4"]
    assert short_ids(movies, results) == expected
    for r in results:
        assert float(r["vector_distance"]) == pytest.approx(d[r["id"].rsplit(":", 1)[1]], abs=1e-5)

    # RangeQuery is the older name; combined with a filter the two are intersected.
    q = RangeQuery(
        vector=QUERY_VEC,
        vector_field_name="embedding",
        return_fields=["title"],
        distance_threshold=0.2,
        filter_expression=Num("year") > 2000,
    )
    assert short_ids(movies, movies.query(q)) == ["2", "4"]


def test_paging(movies):
    by_year = [m["id"] for m in sorted(MOVIES, key=lambda m: m["year"])]
    q = FilterQuery(return_fields=["title", "year"], sort_by="year", num_results=2)
    pages = []
    for offset in (0, 2, 4):
        q.paging(offset, 2)
        pages.append(short_ids(movies, movies.query(q)))
    assert pages == [by_year[0:2], by_year[2:4], by_year[4:6]]

    batches = list(
        movies.paginate(FilterQuery(return_fields=["year"], sort_by="year"), page_size=4)
    )
    assert [len(b) for b in batches] == [4, 2]
    assert [i for b in batches for i in short_ids(movies, b)] == by_year

    vq = VectorQuery(vector=QUERY_VEC, vector_field_name="embedding", num_results=6)
    pages = [short_ids(movies, b) for b in movies.paginate(vq, page_size=4)]
    assert pages == [nearest(lambda m: True)[:4], nearest(lambda m: True)[4:6]]


def test_info_exists_listall(movies, name):
    info = movies.info()
    assert info["index_name"] == name
    assert int(info["num_docs"]) == len(MOVIES)
    assert int(info["hash_indexing_failures"]) == 0
    assert movies.exists()
    assert name in movies.listall()


@pytest.mark.parametrize("movies", ["hnsw", "flat"], indirect=True)
def test_from_existing_round_trip(movies, client, name):
    again = SearchIndex.from_existing(name, redis_client=client)
    assert again.schema == movies.schema
    assert again.prefix == name
    vec = again.schema.fields["embedding"]
    assert vec.attrs.dims == 4
    assert vec.attrs.distance_metric.value.lower() == "cosine"
    assert (
        vec.attrs.algorithm.value.lower()
        == movies.schema.fields["embedding"].attrs.algorithm.value.lower()
    )
    # The rebuilt index queries the same data.
    q = VectorQuery(vector=QUERY_VEC, vector_field_name="embedding", num_results=2)
    assert short_ids(again, again.query(q)) == nearest(lambda m: True, k=2)


def test_from_existing_rich_schema(client, name):
    # Field flags, a FLOAT64 vector, custom HNSW parameters and STOPWORDS 0 survive the
    # FT.INFO round trip that from_existing performs.
    rich = {
        "index": {"name": name, "prefix": name, "storage_type": "hash", "stopwords": []},
        "fields": [
            {"name": "title", "type": "text", "attrs": {"no_stem": True, "sortable": True}},
            {"name": "genre", "type": "tag", "attrs": {"case_sensitive": True, "separator": "|"}},
            {"name": "year", "type": "numeric", "attrs": {"sortable": True}},
            {"name": "studio", "type": "tag", "attrs": {"index_missing": True}},
            {
                "name": "embedding",
                "type": "vector",
                "attrs": {
                    "dims": 4,
                    "algorithm": "hnsw",
                    "distance_metric": "l2",
                    "datatype": "float64",
                    "m": 8,
                    "ef_construction": 100,
                },
            },
        ],
    }
    index = SearchIndex.from_dict(rich, redis_client=client)
    index.create(overwrite=True, drop=True)
    try:
        again = SearchIndex.from_existing(name, redis_client=client)
        assert again.schema == index.schema
        assert again.schema.index.stopwords == []
        vec = again.schema.fields["embedding"].attrs
        assert (vec.m, vec.ef_construction, vec.datatype.value.lower()) == (8, 100, "float64")

        index.load(
            [
                {
                    "title": "and then",
                    "genre": "Noir|x",
                    "year": 1950,
                    "embedding": array_to_buffer([1, 0, 0, 0], "float64"),
                },
                {
                    "title": "other",
                    "genre": "noir",
                    "year": 1960,
                    "studio": "acme",
                    "embedding": array_to_buffer([0, 1, 0, 0], "float64"),
                },
            ],
            keys=[f"{name}:a", f"{name}:b"],
        )
        wait_indexed(index)
        assert index.query(CountQuery(Text("title") == "and")) == 1  # no stopwords
        assert index.query(CountQuery(Tag("genre") == "Noir")) == 1  # case-sensitive
        assert index.query(CountQuery("ismissing(@studio)")) == 1
        q = VectorQuery(
            vector=[0.9, 0.1, 0, 0],
            vector_field_name="embedding",
            dtype="float64",
            return_fields=["title"],
            num_results=1,
        )
        (hit,) = index.query(q)
        assert hit["id"] == f"{name}:a"
        assert float(hit["vector_distance"]) == pytest.approx(0.02, abs=1e-12)
    finally:
        index.delete(drop=True)


def test_load_with_explicit_keys_and_fetch(movies, client, name):
    extra = {
        "title": "star dust",
        "genre": "fantasy",
        "year": 2007,
        "embedding": array_to_buffer([0.0, 0.0, 0.0, 1.0], "float32"),
    }
    assert movies.load([extra], keys=[f"{name}:custom"]) == [f"{name}:custom"]
    fetched = movies.fetch("custom")
    assert fetched["title"] == "star dust"
    assert movies.query(CountQuery(Tag("genre") == "fantasy")) == 1
    assert movies.query(CountQuery(Text("title") == "star")) == 4
    assert int(movies.info()["num_docs"]) == len(MOVIES) + 1


def test_drop_documents_and_clear(movies, client, name):
    assert movies.drop_documents(["1", "2"]) == 2
    assert movies.query(CountQuery()) == len(MOVIES) - 2
    assert movies.query(CountQuery(Tag("genre") == "scifi")) == 1
    # clear() pages through FT.SEARCH "*" and deletes what it finds; the index stays.
    assert movies.clear() == len(MOVIES) - 2
    assert movies.exists()
    assert movies.query(CountQuery()) == 0
    assert client.keys(f"{name}:*") == []


def test_create_overwrite_backfills_existing_keys(movies, client, name):
    # Dropping the index alone keeps the hashes; re-creating it indexes them again.
    movies.create(overwrite=True, drop=False)
    info = wait_indexed(movies)
    assert int(info["num_docs"]) == len(MOVIES)
    assert movies.query(CountQuery(Tag("genre") == "scifi")) == 3


def test_delete_keep_and_drop(movies, client, name):
    movies.delete(drop=False)
    assert not movies.exists()
    assert name not in movies.listall()
    assert len(client.keys(f"{name}:*")) == len(MOVIES)

    movies.create()
    wait_indexed(movies)
    assert movies.exists()
    movies.delete(drop=True)
    assert not movies.exists()
    assert client.keys(f"{name}:*") == []


def test_index_built_from_url(server, name):
    # redisvl's own connection: redis_url, protocol=2 set by redisvl itself.
    index = SearchIndex.from_dict(schema(name, "flat"), redis_url=server.url)
    try:
        index.create(overwrite=True)
        index.load(records(), id_field="id")
        wait_indexed(index)
        q = two_nearest_scifi()
        assert short_ids(index, index.query(q)) == nearest(lambda m: m["genre"] == "scifi", k=2)
        again = SearchIndex.from_existing(name, redis_url=server.url)
        assert again.schema == index.schema
    finally:
        index.delete(drop=True)
        index.disconnect()


@pytest.mark.parametrize("protocol", list(CLIENTS), ids=list(CLIENTS))
def test_async_index(server, name, protocol):
    # AsyncSearchIndex over redis.asyncio, the path async frameworks (langchain) take.
    async def workflow():
        client = AsyncRedis(host=server.host, port=server.port, **CLIENTS[protocol])
        index = AsyncSearchIndex.from_dict(schema(name, "hnsw"), redis_client=client)
        try:
            await index.create(overwrite=True, drop=True)
            await index.load(records(), id_field="id")
            assert await index.exists()
            assert int((await index.info())["num_docs"]) == len(MOVIES)
            q = VectorQuery(
                vector=QUERY_VEC,
                vector_field_name="embedding",
                return_fields=["title"],
                filter_expression=Num("year") > 2000,
                num_results=3,
            )
            found = await index.query(q)
            assert short_ids(index, found) == nearest(lambda m: m["year"] > 2000, k=3)
            assert await index.query(CountQuery(Tag("genre") == "drama")) == 2
            again = await AsyncSearchIndex.from_existing(name, redis_client=client)
            assert again.schema == index.schema
        finally:
            await index.delete(drop=True)
            await client.aclose()

    asyncio.run(workflow())


def test_bulk_load_then_query(client, name):
    # Queries straight after loading 1,000 real embeddings (HNSW still filling in the
    # background) return num_results distinct documents, nearest first.
    data = dataset()
    if data is None:
        pytest.skip("shared/datasets/gcide-minilm is not beside the repository")
    n_docs, dim = 1000, 384
    base = np.fromfile(data / "base.f32", dtype=np.float32, count=n_docs * dim).reshape(-1, dim)
    queries = np.fromfile(data / "queries.f32", dtype=np.float32, count=20 * dim).reshape(-1, dim)
    bulk = {
        "index": {"name": name, "prefix": name, "storage_type": "hash"},
        "fields": [
            {
                "name": "embedding",
                "type": "vector",
                "attrs": {"dims": dim, "algorithm": "hnsw", "distance_metric": "cosine"},
            }
        ],
    }
    index = SearchIndex.from_dict(bulk, redis_client=client)
    index.create(overwrite=True, drop=True)
    try:
        index.load(
            [{"embedding": v.tobytes()} for v in base], keys=[f"{name}:{i}" for i in range(n_docs)]
        )
        for qvec in queries:
            q = VectorQuery(vector=qvec.tolist(), vector_field_name="embedding", num_results=10)
            results = index.query(q)
            assert len({r["id"] for r in results}) == len(results) == 10
            dist = [float(r["vector_distance"]) for r in results]
            assert dist == sorted(dist)
    finally:
        index.delete(drop=True)
