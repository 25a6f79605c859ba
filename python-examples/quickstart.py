"""Search quickstart with redis-py's `r.ft()`: one index with TEXT, TAG, NUMERIC and VECTOR
fields over hashes, then KNN, KNN with filters, a vector range query and text queries.

    python quickstart.py --port 6379

It works the same against ferrostack and Redis Stack. The 4-d vectors are hand-made so the
results are easy to follow (one dimension each for space, romance, crime and comedy); a real
application stores a model's embeddings the same way, as FLOAT32 blobs. The script checks
every result and exits non-zero on a wrong one, so it doubles as a smoke test. Its index is
"qs_movies" over the keys "qs_movie:*", removed at the end.
"""

import argparse

import numpy as np
import redis
from redis.commands.search.field import NumericField, TagField, TextField, VectorField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.commands.search.query import Query

from example_support import check

INDEX = "qs_movies"
PREFIX = "qs_movie:"

#        id     title                     plot                                         genres            year  vector: space, romance, crime, comedy
MOVIES = [
    ("m1", "Star Voyage", "a crew of explorers travels to a distant star", "scifi,adventure", 1979, [0.9, 0.1, 0.0, 0.1]),
    ("m2", "Orbit of Love", "two astronauts fall in love on a space station", "scifi,romance", 2014, [0.7, 0.7, 0.0, 0.1]),
    ("m3", "The Heist", "a gang of thieves plans a bank robbery", "crime,thriller", 1995, [0.0, 0.1, 0.9, 0.2]),
    ("m4", "Paris Spring", "a love story between a painter and a baker in Paris", "romance,drama", 2003, [0.0, 0.9, 0.1, 0.3]),
    ("m5", "Laugh Factory", "stand-up comedians compete in a talent show", "comedy", 2019, [0.0, 0.2, 0.0, 0.95]),
    ("m6", "Dark Nebula", "space pirates rob a freighter near a nebula", "scifi,crime", 2021, [0.8, 0.0, 0.6, 0.1]),
    ("m7", "Robot Roommate", "a clumsy robot moves in with a stand-up comic", "scifi,comedy", 2011, [0.6, 0.1, 0.0, 0.8]),
]



def blob(vector) -> bytes:
    """A vector as the FLOAT32 blob a VECTOR field stores: little-endian float32s."""
    return np.asarray(vector, dtype=np.float32).tobytes()


def create_index(r: redis.Redis) -> None:
    schema = [
        TextField("title", weight=2.0),
        TextField("plot"),
        TagField("genres"),
        NumericField("year", sortable=True),
        VectorField("embedding", "HNSW", {"TYPE": "FLOAT32", "DIM": 4, "DISTANCE_METRIC": "COSINE"}),
    ]
    definition = IndexDefinition(prefix=[PREFIX], index_type=IndexType.HASH)
    r.ft(INDEX).create_index(schema, definition=definition)


def load(r: redis.Redis) -> None:
    pipe = r.pipeline(transaction=False)
    for movie_id, title, plot, genres, year, vector in MOVIES:
        fields = {"title": title, "plot": plot, "genres": genres, "year": year, "embedding": blob(vector)}
        pipe.hset(PREFIX + movie_id, mapping=fields)
    pipe.execute()


def fmt(value: str) -> str:
    """Distances come back as strings with all their digits; three are enough to read."""
    try:
        return value if float(value).is_integer() else f"{float(value):.3f}"
    except ValueError:
        return value


def show(label: str, docs, *fields: str) -> list[str]:
    """Prints one line per document and returns the ids without the prefix."""
    print(label)
    for doc in docs:
        values = "  ".join(f"{f}={fmt(getattr(doc, f))}" for f in fields)
        print(f"  {doc.id.removeprefix(PREFIX):3} {doc.title:15} {values}")
    return [doc.id.removeprefix(PREFIX) for doc in docs]


def knn(r: redis.Redis, vector, k: int, prefilter: str = "*") -> list:
    """The k movies nearest to `vector` among those matching `prefilter`, nearest first."""
    query = (
        Query(f"({prefilter})=>[KNN {k} @embedding $vec AS distance]")
        .sort_by("distance")
        .return_fields("title", "year", "distance")
        .paging(0, k)
        .dialect(2)
    )
    return r.ft(INDEX).search(query, query_params={"vec": blob(vector)}).docs


def drop(r: redis.Redis) -> None:
    try:
        r.ft(INDEX).dropindex(delete_documents=True)
    except redis.ResponseError:
        pass  # no such index: nothing to clean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    args = parser.parse_args()

    r = redis.Redis(host=args.host, port=args.port, decode_responses=True)
    drop(r)  # leftovers of an interrupted run
    create_index(r)
    load(r)
    info = r.ft(INDEX).info()
    print(f"index {INDEX}: {info['num_docs']} movies")
    check(int(info["num_docs"]) == len(MOVIES), f"num_docs {info['num_docs']}")

    # KNN: the 3 movies nearest to "space adventure with a bit of crime".
    space_crime = [0.85, 0.0, 0.4, 0.1]
    ids = show("KNN 3 nearest to space+crime:", knn(r, space_crime, 3), "distance")
    check(ids == ["m6", "m1", "m2"], f"KNN {ids}")

    # KNN among the documents a filter selects (tag AND numeric range): a pre-filter, so
    # the k results all match it.
    ids = show(
        "KNN 2 among comedies and romances since 2005:",
        knn(r, space_crime, 2, "@genres:{comedy | romance} @year:[2005 +inf]"),
        "year",
        "distance",
    )
    check(ids == ["m2", "m7"], f"filtered KNN {ids}")

    # Vector range: every movie within a cosine distance of 0.2, nearest first.
    query = (
        Query("@embedding:[VECTOR_RANGE $radius $vec]=>{$YIELD_DISTANCE_AS: distance}")
        .sort_by("distance")
        .return_fields("title", "distance")
        .dialect(2)
    )
    res = r.ft(INDEX).search(query, query_params={"radius": 0.2, "vec": blob(space_crime)})
    ids = show("within cosine distance 0.2 of space+crime:", res.docs, "distance")
    check(ids == ["m6", "m1"], f"range {ids}")
    check(all(float(d.distance) <= 0.2 for d in res.docs), "range distances")

    # Full-text: words are stemmed ("pirate" finds "pirates"), `|` is OR, `@field:` scopes a
    # clause, and text combines with a numeric filter; here sorted by year.
    res = r.ft(INDEX).search(Query("pirate | robbery").return_fields("title", "plot"))
    ids = sorted(show("text 'pirate | robbery':", res.docs, "plot"))
    check(ids == ["m3", "m6"], f"text {ids}")
    query = Query("@plot:(love | show | comic) @year:[2010 2020]").sort_by("year").return_fields("title", "year")
    ids = show("plot mentions love, show or comic, 2010-2020, by year:", r.ft(INDEX).search(query).docs, "year")
    check(ids == ["m7", "m2", "m5"], f"text + numeric {ids}")

    # Hybrid: KNN restricted to the documents that match a text query.
    ids = show("KNN 2 to space+crime among plots with 'space':", knn(r, space_crime, 2, "@plot:space"), "distance")
    check(ids == ["m6", "m2"], f"text-filtered KNN {ids}")

    drop(r)
    check(not r.keys(PREFIX + "*"), "dropindex DD removes the documents")
    print("quickstart: all good")


if __name__ == "__main__":
    main()
