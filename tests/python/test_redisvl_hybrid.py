"""redisvl's HybridQuery and redis-py's `hybrid_search` (FT.HYBRID) against ferrostack,
unchanged client code, with redis-py 8's default client (RESP3 on the wire) and a
`protocol=2` one.

Expected rankings and scores are computed here: the text side is redisvl's
`~@description:(words)` query, so every document (passing the filter) is on the text list,
ranked by BM25STD (then doc id); the vector side is ranked by COSINE distance. RRF scores
`sum 1 / (60 + rank)`; LINEAR `alpha * text + beta * (2 - distance) / 2`.
"""

import os
import re

import numpy as np
import pytest
from redis.commands.search.hybrid_query import (
    CombinationMethods,
    CombineResultsMethod,
    HybridCursorQuery,
    HybridPostProcessingConfig,
    HybridQuery as RedisHybridQuery,
    HybridSearchQuery,
    HybridVsimQuery,
)
from redis.exceptions import ResponseError
from redisvl.query import HybridQuery
from redisvl.query.filter import Tag
from redisvl.redis.utils import array_to_buffer

# redis-py 8's default client (RESP3) and a `protocol=2` one.
from test_redisvl import client  # noqa: F401
from test_redisvl_text import DOCS, bm25std, load_docs

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("FERRO_TEST_TARGET") == "redis",
        reason="the redis-server oracle has no search module",
    ),
    # redis-py marks its hybrid query classes experimental.
    pytest.mark.filterwarnings("ignore:.*experimental:UserWarning"),
]

QUERY = [1.0, 0.1, 0.0]
IDS = [d["id"] for d in DOCS]


@pytest.fixture
def index(client, request):  # noqa: F811
    # HNSW: redisvl's KNN sends EF_RUNTIME, which a FLAT field refuses.
    name = "rvh_" + re.sub(r"\W+", "_", request.node.name).strip("_")
    idx = load_docs(client, name, algorithm="hnsw")
    yield idx
    idx.delete(drop=True)


def text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def doc_id(index, row) -> str:
    return text(row["__key"]).removeprefix(f"{index.prefix}:")


def distances() -> dict:
    q = np.asarray(QUERY, dtype=np.float32)
    out = {}
    for d in DOCS:
        v = np.asarray(d["vec"], dtype=np.float32)
        out[d["id"]] = float(1 - np.dot(q, v) / (np.linalg.norm(q) * np.linalg.norm(v)))
    return out


def ranking(ids, score, reverse) -> list:
    """`ids` by `score` (descending when `reverse`), equal scores in doc id order."""
    sign = -1 if reverse else 1
    return sorted(ids, key=lambda i: (sign * score(i), int(i)))


def expected_rrf(ids, window, k, constant=60.0, within=None) -> list:
    """(id, score) of the fused list, best first, equal scores in text-list order."""
    scores = bm25std(["search"], "description")
    text_list = ranking(ids, lambda i: scores.get(i, 0.0), True)[:window]
    dist = distances()
    candidates = [i for i in ids if within is None or dist[i] <= within]
    vector_list = ranking(candidates, dist.get, False)[: min(k, window)]
    fused = {}
    for ranked in (text_list, vector_list):
        for rank, i in enumerate(ranked, 1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (constant + rank)
    seen = list(dict.fromkeys(text_list + vector_list))
    return sorted(fused.items(), key=lambda kv: (-kv[1], seen.index(kv[0])))


def assert_fused(index, results, want):
    got = [(doc_id(index, r), float(text(r["__score"]))) for r in results]
    assert [g[0] for g in got] == [w[0] for w in want], (got, want)
    for (_, score), (_, expected) in zip(got, want):
        assert score == pytest.approx(expected, abs=1e-9)


def test_rrf_by_default(index):
    q = HybridQuery(
        text="search",
        text_field_name="description",
        vector=QUERY,
        vector_field_name="vec",
        num_results=6,
    )
    results = index.query(q)
    # LIMIT 0 6 also stands for K and WINDOW.
    assert_fused(index, results, expected_rrf(IDS, window=6, k=6))
    assert set(results[0]) == {"__key", "__score"}


def test_knn_and_range_methods(index):
    q = HybridQuery(
        text="search",
        text_field_name="description",
        vector=QUERY,
        vector_field_name="vec",
        vector_search_method="KNN",
        num_results=3,
        combination_method="RRF",
        rrf_window=3,
        rrf_constant=60,
    )
    assert_fused(index, index.query(q), expected_rrf(IDS, window=3, k=3)[:3])

    q = HybridQuery(
        text="search",
        text_field_name="description",
        vector=QUERY,
        vector_field_name="vec",
        vector_search_method="RANGE",
        range_radius=0.1,
        num_results=10,
    )
    want = expected_rrf(IDS, window=10, k=10, within=0.1)
    assert_fused(index, index.query(q), want)


def test_linear_with_yields_and_return_fields(index):
    q = HybridQuery(
        text="search",
        text_field_name="description",
        vector=QUERY,
        vector_field_name="vec",
        combination_method="LINEAR",
        linear_alpha=0.3,
        yield_text_score_as="text_score",
        yield_vsim_score_as="vector_similarity",
        yield_combined_score_as="hybrid_score",
        return_fields=["title", "year"],
        num_results=6,
    )
    results = index.query(q)
    scores = bm25std(["search"], "description")
    dist = distances()
    by_title = {d["title"]: d["id"] for d in DOCS}
    want = {
        i: 0.3 * scores.get(i, 0.0) + (1 - 0.3) * (2 - dist[i]) / 2 for i in IDS
    }
    assert len(results) == 6
    got = []
    for row in results:
        i = by_title[row["title"]]
        assert row["year"] == str(next(d["year"] for d in DOCS if d["id"] == i))
        assert float(row["text_score"]) == pytest.approx(scores.get(i, 0.0), rel=1e-6)
        assert float(row["vector_similarity"]) == pytest.approx((2 - dist[i]) / 2, abs=1e-6)
        assert float(row["hybrid_score"]) == pytest.approx(want[i], abs=1e-6)
        assert "__key" not in row
        got.append(i)
    assert got == ranking(IDS, want.get, True)


def test_filter_applies_to_both_sides(index):
    q = HybridQuery(
        text="search database",
        text_field_name="description",
        vector=QUERY,
        vector_field_name="vec",
        filter_expression=Tag("kind") == "db",
        return_fields=["kind"],
    )
    results = index.query(q)
    assert len(results) == 2
    assert {r["kind"] for r in results} == {"db"}


def test_redis_py_hybrid_search(index, client):  # noqa: F811
    ft = client.ft(index.name)
    query = RedisHybridQuery(
        HybridSearchQuery("@description:(search)", scorer="BM25STD", yield_score_as="s"),
        HybridVsimQuery("@vec", "$v", yield_score_as="v"),
    )
    blob = array_to_buffer(QUERY, "float32")
    res = ft.hybrid_search(
        query=query,
        combine_method=CombineResultsMethod(CombinationMethods.RRF, CONSTANT=1, WINDOW=20),
        post_processing=HybridPostProcessingConfig().load("@title").limit(0, 2),
        params_substitution={"v": blob},
    )
    # Text list: the three documents with "search"; vector list: all six (K 2 by LIMIT).
    assert res.total_results == len(expected_rrf_keys(2))
    assert len(res.results) == 2
    assert res.warnings == []
    assert res.execution_time >= 0
    first = res.results[0]
    assert set(first) >= {"title"}
    assert text(first["title"]) in {d["title"] for d in DOCS}

    with pytest.raises(ResponseError, match="WITHCURSOR is not supported"):
        ft.hybrid_search(query=query, params_substitution={"v": blob}, cursor=HybridCursorQuery(10))
    with pytest.raises(ResponseError, match="Missing value for BETA"):
        ft.hybrid_search(
            query=query,
            combine_method=CombineResultsMethod(CombinationMethods.LINEAR, ALPHA=0.5),
            params_substitution={"v": blob},
        )


def expected_rrf_keys(k) -> set:
    """The documents of the fused list when the text side is `@description:(search)` and
    the vector side the `k` nearest."""
    with_search = set(bm25std(["search"], "description"))
    nearest = set(ranking(IDS, distances().get, False)[:k])
    return with_search | nearest
