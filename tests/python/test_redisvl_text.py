"""redisvl's full-text queries against ferrostack, unchanged client code: TextQuery (every
scorer it offers, filters, field and word weights, stopwords, paging, sorting) and
AggregateHybridQuery (text score and vector similarity mixed in FT.AGGREGATE). redisvl's
HybridQuery (FT.HYBRID) is covered in test_redisvl_hybrid.py.

Both redis-py 8's default client (RESP3 on the wire) and a `protocol=2` client. Expected
results and scores are computed here from the corpus, with RediSearch 2.10's formulas.
"""

import math
import os
import re

import numpy as np
import pytest
from redisvl.index import SearchIndex
from redisvl.query import AggregateHybridQuery, TextQuery
from redisvl.query.filter import Num, Tag
from redisvl.redis.utils import array_to_buffer
from search_support import wait_indexed

# redis-py 8's default client (RESP3) and a `protocol=2` one, as test_redisvl.py uses them.
from test_redisvl import client  # noqa: F401

pytestmark = pytest.mark.skipif(
    os.environ.get("FERRO_TEST_TARGET") == "redis",
    reason="the redis-server oracle has no search module",
)

# No stopwords, and TEXT fields NOSTEM, so that the figures below are plain word counts.
DOCS = [
    dict(zip(("id", "title", "description", "kind", "year", "vec"), row))
    for row in [
        ("1", "redis", "redis vector database search engine", "db", 2020, [1.0, 0.0, 0.0]),
        ("2", "lucene", "search search search engine", "search", 2005, [0.8, 0.2, 0.0]),
        ("3", "embed", "vector similarity search embed", "ml", 2019, [0.6, 0.6, 0.1]),
        ("4", "pasta", "cooking pasta recipes", "food", 2001, [0.0, 0.0, 1.0]),
        ("5", "postgres", "database indexing internals", "db", 1996, [0.7, 0.0, 0.7]),
        ("6", "vector", "engine repair manual", "car", 2012, [0.1, 0.9, 0.2]),
    ]
]
TEXT_FIELDS = ("title", "description")


def load_docs(client, name, algorithm="flat"):  # noqa: F811
    """An index `name` over DOCS (TEXT fields NOSTEM, `vec` a COSINE `algorithm` vector),
    created, loaded and indexed."""
    schema = {
        "index": {"name": name, "prefix": name, "storage_type": "hash"},
        "fields": [
            {"name": "title", "type": "text", "attrs": {"no_stem": True}},
            {"name": "description", "type": "text", "attrs": {"no_stem": True}},
            {"name": "kind", "type": "tag"},
            {"name": "year", "type": "numeric", "attrs": {"sortable": True}},
            {
                "name": "vec",
                "type": "vector",
                "attrs": {
                    "dims": 3,
                    "algorithm": algorithm,
                    "distance_metric": "cosine",
                    "datatype": "float32",
                },
            },
        ],
    }
    index = SearchIndex.from_dict(schema, redis_client=client)
    index.create(overwrite=True, drop=True)
    records = [{**d, "vec": array_to_buffer(d["vec"], "float32")} for d in DOCS]
    index.load(records, id_field="id")
    wait_indexed(index)
    return index


@pytest.fixture
def docs(client, request):  # noqa: F811
    name = "rvt_" + re.sub(r"\W+", "_", request.node.name).strip("_")
    index = load_docs(client, name)
    yield index
    index.delete(drop=True)


def ids(index, results) -> list:
    return [r["id"].removeprefix(f"{index.prefix}:") for r in results]


def words(doc, field=None) -> list:
    fields = [field] if field else TEXT_FIELDS
    return [w for f in fields for w in doc[f].split()]


def bm25std(query_words, field) -> dict:
    """RediSearch's BM25STD of each matching document for `w1 | w2 ...` on `field`: per
    word idf' · f (k1 + 1) / (f + k1 (1 − b + b · len / avgLen)); the document's length
    and a word's document frequency count all TEXT fields (one inverted index per word)."""
    k1, b = 1.2, 0.75
    n = len(DOCS)
    avg = sum(len(words(d)) for d in DOCS) / n
    scores = {}
    for d in DOCS:
        length = len(words(d))
        total = 0.0
        for w in query_words:
            f = words(d, field).count(w)
            if f == 0:
                continue
            df = sum(1 for o in DOCS if w in words(o))
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            total += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * length / avg))
        if total:
            scores[d["id"]] = total
    return scores


def by_score(scores: dict) -> list:
    return sorted(scores, key=lambda i: (-scores[i], i))


def test_text_query_bm25std(docs):
    """The default scorer: documents having any query word, by BM25STD, with the score."""
    q = TextQuery("vector search", "description", return_fields=["title"])
    results = docs.query(q)
    expected = bm25std(["vector", "search"], "description")
    assert sorted(ids(docs, results)) == sorted(expected)
    got = {i: float(r["score"]) for i, r in zip(ids(docs, results), results)}
    for i, score in expected.items():
        assert got[i] == pytest.approx(score, rel=1e-5), (i, got, expected)
    assert ids(docs, results) == by_score(got)
    assert {r["title"] for r in results} == {"redis", "lucene", "embed"}


@pytest.mark.parametrize(
    "scorer, expected",
    [
        # DISMAX: a word counts its frequency, a union its largest.
        ("DISMAX", {"1": 1.0, "2": 3.0, "3": 1.0}),
        ("DOCSCORE", {"1": 1.0, "2": 1.0, "3": 1.0}),
    ],
)
def test_text_query_scorers_with_known_scores(docs, scorer, expected):
    q = TextQuery("vector search", "description", text_scorer=scorer)
    results = docs.query(q)
    got = {i: float(r["score"]) for i, r in zip(ids(docs, results), results)}
    assert got == pytest.approx(expected)


@pytest.mark.parametrize("scorer", ["TFIDF", "TFIDF.DOCNORM", "BM25", "BM25STD"])
def test_text_query_scorers_rank_the_frequent_word_first(docs, scorer):
    """Every frequency-based scorer puts the document saying `search` three times first."""
    results = docs.query(TextQuery("search", "description", text_scorer=scorer))
    assert sorted(ids(docs, results)) == ["1", "2", "3"]
    assert ids(docs, results)[0] == "2"
    assert all(float(r["score"]) > 0 for r in results)


def test_text_query_filter_paging_sorting(docs):
    q = TextQuery(
        "database engine",
        "description",
        filter_expression=(Tag("kind") == "db") & (Num("year") > 2000),
        return_fields=["year"],
    )
    assert ids(docs, docs.query(q)) == ["1"]

    q = TextQuery("database engine search", "description", num_results=2, sort_by="year")
    results = docs.query(q)
    assert ids(docs, results) == ["5", "2"]
    q = TextQuery(
        "database engine search", "description", sort_by=("year", "DESC"), return_score=False
    )
    results = docs.query(q)
    assert ids(docs, results) == ["1", "3", "6", "2", "5"]
    assert "score" not in results[0]


def test_text_query_stopwords_are_dropped_client_side(docs):
    q = TextQuery("the engine of a car", "description")
    assert str(q).startswith("@description:(engine | car)")
    assert sorted(ids(docs, docs.query(q))) == ["1", "2", "6"]
    # Without stopword removal the index's own stopwords are skipped by the server.
    q = TextQuery("the engine", "description", stopwords=None)
    assert sorted(ids(docs, docs.query(q))) == ["1", "2", "6"]


def test_text_query_field_weights(docs):
    """`@title:(...) => { $weight: 5 } | @description:(...)`: a title match outweighs."""
    q = TextQuery("vector", {"title": 5.0, "description": 1.0}, text_scorer="DISMAX")
    results = docs.query(q)
    got = {i: float(r["score"]) for i, r in zip(ids(docs, results), results)}
    assert ids(docs, results)[0] == "6"
    assert got == pytest.approx({"6": 5.0, "1": 1.0, "3": 1.0})


def test_text_query_word_weights(docs):
    """`vector=>{$weight:4} | search`: the weighted word's documents first."""
    q = TextQuery(
        "vector search", "description", text_scorer="DISMAX", text_weights={"vector": 4}
    )
    results = docs.query(q)
    got = {i: float(r["score"]) for i, r in zip(ids(docs, results), results)}
    assert got == pytest.approx({"1": 4.0, "3": 4.0, "2": 3.0})


def test_aggregate_hybrid_query(docs):
    """FT.AGGREGATE with KNN, ADDSCORES, APPLY and SORTBY: hybrid_score mixes the BM25STD
    text score and the cosine similarity ((2 - distance) / 2), best first."""
    query_vec = [0.9, 0.1, 0.0]
    q = AggregateHybridQuery(
        text="vector search",
        text_field_name="description",
        vector=query_vec,
        vector_field_name="vec",
        alpha=0.7,
        num_results=10,
        return_fields=["title"],
    )
    results = docs.query(q)
    # The text clause is optional (`~@description:(...)`): every document is a KNN
    # candidate, those without the words with a text score of 0.
    expected_text = bm25std(["vector", "search"], "description")
    assert sorted(r["title"] for r in results) == sorted(d["title"] for d in DOCS)
    title_id = {d["title"]: d["id"] for d in DOCS}
    vecs = {d["id"]: np.asarray(d["vec"], dtype=np.float32) for d in DOCS}
    qv = np.asarray(query_vec, dtype=np.float32)
    hybrid = []
    for r in results:
        i = title_id[r["title"]]
        distance = 1 - float(vecs[i] @ qv / (np.linalg.norm(vecs[i]) * np.linalg.norm(qv)))
        text = expected_text.get(i, 0.0)
        assert float(r["vector_distance"]) == pytest.approx(distance, abs=1e-5)
        assert float(r["vector_similarity"]) == pytest.approx((2 - distance) / 2, abs=1e-5)
        assert float(r["text_score"]) == pytest.approx(text, rel=1e-5, abs=1e-9), (i, r)
        score = 0.3 * text + 0.7 * (2 - distance) / 2
        assert float(r["hybrid_score"]) == pytest.approx(score, rel=1e-5)
        hybrid.append(float(r["hybrid_score"]))
    assert hybrid == sorted(hybrid, reverse=True)
