"""Vector search with redis-py's `r.ft()` against ferrostack: an HNSW index over hashes,
KNN queries with a tag filter and a numeric range, exactly as against Redis Stack.

Run it against any server with the search commands:

    REDIS_URL=redis://127.0.0.1:6379 python vector_search.py

The embeddings come from a toy bag-of-words hashing embedder so the example needs no model;
swap `embed()` for a real one (sentence-transformers, OpenAI...) and nothing else changes.
It exits non-zero if a reply is not what Redis Stack would give, so it doubles as a smoke
test. Its index is "example_products" over the keys "example_product:*", removed at the end.
"""

import hashlib
import os

import numpy as np
import redis
from redis.commands.search.field import NumericField, TagField, TextField, VectorField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.commands.search.query import Query

from example_support import check

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
INDEX = "example_products"
PREFIX = "example_product:"
DIM = 64

PRODUCTS = [
    ("p1", "waterproof hiking boots with ankle support", "outdoor,shoes", 129),
    ("p2", "lightweight trail running shoes", "outdoor,shoes", 99),
    ("p3", "leather office shoes for men", "formal,shoes", 149),
    ("p4", "insulated winter hiking jacket", "outdoor,clothing", 199),
    ("p5", "cotton summer t-shirt", "casual,clothing", 19),
    ("p6", "two person camping tent", "outdoor,camping", 249),
    ("p7", "stainless steel camping stove", "outdoor,camping", 59),
    ("p8", "running socks merino wool", "outdoor,clothing", 15),
]



def embed(text: str) -> np.ndarray:
    """A unit-length FLOAT32 vector: each word adds 1 to a hashed dimension."""
    vec = np.zeros(DIM, dtype=np.float32)
    for word in text.lower().split():
        vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
    return vec / np.linalg.norm(vec)


def create_index(r: redis.Redis) -> None:
    schema = [
        TextField("description"),
        TagField("tags"),
        NumericField("price", sortable=True),
        VectorField(
            "embedding",
            "HNSW",
            {
                "TYPE": "FLOAT32",
                "DIM": DIM,
                "DISTANCE_METRIC": "COSINE",
                "M": 16,
                "EF_CONSTRUCTION": 200,
            },
        ),
    ]
    definition = IndexDefinition(prefix=[PREFIX], index_type=IndexType.HASH)
    r.ft(INDEX).create_index(schema, definition=definition)


def load(r: redis.Redis) -> None:
    """One round trip for all documents; each write is indexed as it lands."""
    pipe = r.pipeline(transaction=False)
    for pid, description, tags, price in PRODUCTS:
        pipe.hset(
            PREFIX + pid,
            mapping={
                "description": description,
                "tags": tags,
                "price": price,
                "embedding": embed(description).tobytes(),
            },
        )
    pipe.execute()


def knn(r: redis.Redis, text: str, k: int, prefilter: str = "*") -> list:
    """The k products nearest to `text` among those matching `prefilter`."""
    query = (
        Query(f"({prefilter})=>[KNN {k} @embedding $vec AS score]")
        .sort_by("score")
        .return_fields("description", "price", "score")
        .paging(0, k)
        .dialect(2)
    )
    res = r.ft(INDEX).search(query, query_params={"vec": embed(text).tobytes()})
    return res.docs


def drop(r: redis.Redis) -> None:
    try:
        r.ft(INDEX).dropindex(delete_documents=True)
    except redis.ResponseError:
        pass  # not there: nothing to clean


def main() -> None:
    r = redis.Redis.from_url(URL, decode_responses=True)
    modules = {m["name"] for m in r.module_list()}
    check("search" in modules, f"MODULE LIST {modules}")
    drop(r)  # leftovers of an interrupted run
    create_index(r)
    load(r)
    info = r.ft(INDEX).info()
    print(f"index {info['index_name']}: {info['num_docs']} documents")
    check(int(info["num_docs"]) == len(PRODUCTS), f"num_docs {info['num_docs']}")

    docs = knn(r, "hiking boots", 3)
    print("nearest to 'hiking boots':")
    for doc in docs:
        print(f"  {doc.id}  {float(doc.score):.3f}  {doc.description} (${doc.price})")
    check(docs[0].id == PREFIX + "p1", f"best match {docs[0].id}")
    scores = [float(d.score) for d in docs]
    check(scores == sorted(scores), f"distances not ascending: {scores}")

    docs = knn(r, "running shoes", 3, prefilter="@tags:{clothing}")
    print("nearest to 'running shoes' among clothing:")
    for doc in docs:
        print(f"  {doc.id}  {float(doc.score):.3f}  {doc.description}")
    check(docs[0].id == PREFIX + "p8", f"best clothing match {docs[0].id}")
    check(all(d.id in {PREFIX + "p4", PREFIX + "p5", PREFIX + "p8"} for d in docs), "tag filter")

    docs = knn(r, "camping gear", 2, prefilter="@tags:{camping} @price:[0 100]")
    print(f"camping gear under $100: {[d.description for d in docs]}")
    check([d.id for d in docs] == [PREFIX + "p7"], f"tag + price filter {[d.id for d in docs]}")

    # Plain (non-vector) queries use the same index.
    res = r.ft(INDEX).search(Query("@tags:{outdoor} @price:[100 +inf]").sort_by("price").dialect(2))
    print(f"outdoor items from $100: {[d.id for d in res.docs]}")
    check([d.id for d in res.docs] == [PREFIX + p for p in ("p1", "p4", "p6")], "numeric range")

    drop(r)
    check(not r.keys(PREFIX + "*"), "dropindex DD removes the documents")
    print("vector_search: all good")


if __name__ == "__main__":
    main()
