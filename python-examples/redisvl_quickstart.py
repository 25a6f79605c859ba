"""redisvl's SearchIndex workflow against ferrostack, unchanged from the redisvl docs:
define a schema, create the index, load records, run vector, range, filter and count
queries, rebuild the index object from the server, delete it.

    REDIS_URL=redis://127.0.0.1:6379 python redisvl_quickstart.py

The 3-d "embeddings" stand in for a real model's output. The script exits non-zero if a
result is not what Redis Stack would return, so it doubles as a smoke test. Its index is
"example_users" over the keys "example_user:*", removed at the end.
"""

import os

from redisvl.index import SearchIndex
from redisvl.query import CountQuery, FilterQuery, VectorQuery, VectorRangeQuery
from redisvl.query.filter import Num, Tag, Text
from redisvl.redis.utils import array_to_buffer

from example_support import check

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")

SCHEMA = {
    "index": {"name": "example_users", "prefix": "example_user", "storage_type": "hash"},
    "fields": [
        {"name": "user", "type": "tag"},
        {"name": "credit_score", "type": "tag"},
        {"name": "job", "type": "text"},
        {"name": "age", "type": "numeric"},
        {
            "name": "user_embedding",
            "type": "vector",
            "attrs": {
                "dims": 3,
                "distance_metric": "cosine",
                "algorithm": "hnsw",
                "datatype": "float32",
            },
        },
    ],
}

USERS = [
    ("john", 18, "engineer", "high", [0.1, 0.1, 0.5]),
    ("mary", 14, "doctor", "low", [0.1, 0.1, 0.5]),
    ("joe", 35, "dentist", "medium", [0.9, 0.9, 0.1]),
    ("tyler", 100, "engineer", "high", [0.1, 0.3, 0.5]),
    ("tim", 12, "dermatologist", "high", [0.7, 0.7, 0.1]),
    ("taimur", 15, "CEO", "low", [0.9, 0.9, 0.1]),
    ("joe", 35, "dentist", "medium", [0.9, 0.9, 0.1]),
]



def main() -> None:
    # redisvl opens its own redis-py connection from the URL; passing
    # redis_client=redis.Redis(...) works the same way.
    index = SearchIndex.from_dict(SCHEMA, redis_url=URL)
    index.create(overwrite=True, drop=True)
    records = [
        {
            "user": user,
            "age": age,
            "job": job,
            "credit_score": credit,
            "user_embedding": array_to_buffer(vec, "float32"),
        }
        for user, age, job, credit, vec in USERS
    ]
    keys = index.load(records)
    print(f"loaded {len(keys)} users into {index.name}, e.g. {keys[0]}")
    check(int(index.info()["num_docs"]) == len(USERS), "num_docs")

    # The 3 users nearest to a query vector.
    query = VectorQuery(
        vector=[0.1, 0.1, 0.5],
        vector_field_name="user_embedding",
        return_fields=["user", "age", "job", "credit_score"],
        num_results=3,
    )
    results = index.query(query)
    for r in results:
        print(f"  {r['user']:7} {r['job']:14} distance {float(r['vector_distance']):.4f}")
    check([r["user"] for r in results][:2] in (["john", "mary"], ["mary", "john"]), "KNN order")
    check(results[2]["user"] == "tyler", "third nearest")

    # The same search restricted by filters, combined with & and |.
    query.set_filter((Tag("credit_score") == "high") & (Num("age") > 15))
    users = [r["user"] for r in index.query(query)]
    print(f"high credit, older than 15: {users}")
    check(users == ["john", "tyler"], f"filtered KNN {users}")

    query.set_filter((Text("job") == "engineer") | (Num("age") < 13))
    users = sorted(r["user"] for r in index.query(query))
    print(f"engineers or younger than 13: {users}")
    check(users == ["john", "tim", "tyler"], f"OR filter {users}")

    # Everything within a cosine distance of 0.1.
    near = VectorRangeQuery(
        vector=[0.1, 0.1, 0.5],
        vector_field_name="user_embedding",
        return_fields=["user"],
        distance_threshold=0.1,
    )
    users = sorted(r["user"] for r in index.query(near))
    print(f"within distance 0.1: {users}")
    check(users == ["john", "mary", "tyler"], f"range query {users}")

    # Non-vector queries: filter with sorting and paging, and counts.
    adults = FilterQuery(Num("age") >= 18, return_fields=["user", "age"], sort_by="age")
    pages = [[r["user"] for r in page] for page in index.paginate(adults, page_size=2)]
    print(f"adults by age, two per page: {pages}")
    check(pages == [["john", "joe"], ["joe", "tyler"]], f"pages {pages}")
    dentists = index.query(CountQuery(Text("job") == "dentist"))
    print(f"dentists: {dentists}")
    check(dentists == 2, f"count {dentists}")

    # Another process can rebuild the index object from the server's FT.INFO.
    again = SearchIndex.from_existing("example_users", redis_url=URL)
    check(again.schema == index.schema, "from_existing schema")
    check("example_users" in again.listall(), "listall")

    index.delete(drop=True)
    check(not index.exists(), "index deleted")
    index.disconnect()
    again.disconnect()
    print("redisvl_quickstart: all good")


if __name__ == "__main__":
    main()
