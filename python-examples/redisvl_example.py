"""redisvl over a small help-center corpus: a SearchIndex from a schema dict, records loaded
with a vectorizer, VectorQuery with tag and numeric filters, TextQuery (BM25) with a filter,
and AggregateHybridQuery, which mixes text score and vector similarity in one FT.AGGREGATE.

    python redisvl_example.py --port 6379

The vectorizer is redisvl's CustomVectorizer around a tiny hashing embedder (each word,
lower-cased and stripped of a plural "s", adds 1 to one of 256 dimensions), so the example runs
offline; swap in HFTextVectorizer, OpenAITextVectorizer ... and nothing else changes. The
script checks every result and exits non-zero on a wrong one. Its index is "rvl_articles"
over the keys "rvl_article:*", removed at the end.
"""

import argparse

import redis
from redisvl.index import SearchIndex
from redisvl.query import AggregateHybridQuery, TextQuery, VectorQuery
from redisvl.query.filter import Num, Tag
from redisvl.utils.vectorize import CustomVectorizer

from example_support import check, hashing_embed

DIM = 256

SCHEMA = {
    "index": {"name": "rvl_articles", "prefix": "rvl_article", "storage_type": "hash"},
    "fields": [
        {"name": "title", "type": "text"},
        {"name": "body", "type": "text"},
        {"name": "section", "type": "tag"},
        {"name": "updated", "type": "numeric", "attrs": {"sortable": True}},
        {
            "name": "embedding",
            "type": "vector",
            "attrs": {"dims": DIM, "distance_metric": "cosine", "algorithm": "hnsw", "datatype": "float32"},
        },
    ],
}

ARTICLES = [
    ("a1", "Reset your password", "Open the login page, choose forgot password and follow the email link to set a new password.", "account", 2024),
    ("a2", "Change your email address", "In account settings, enter the new email address and confirm it from your inbox.", "account", 2023),
    ("a3", "Enable two-factor login", "Protect your account: turn on two-factor authentication with an authenticator app.", "security", 2024),
    ("a4", "Update a payment card", "Go to billing, remove the expired card and add the new card details.", "billing", 2022),
    ("a5", "Download invoices", "Billing keeps every invoice as a PDF; download them from the invoices tab.", "billing", 2024),
    ("a6", "Password rules", "A password needs twelve characters; old passwords cannot be reused.", "security", 2019),
    ("a7", "Delete your account", "Account deletion removes your data after thirty days; export it first.", "account", 2021),
]




def ids(results) -> list[str]:
    return [r["id"].rsplit(":", 1)[-1] for r in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    args = parser.parse_args()

    client = redis.Redis(host=args.host, port=args.port)
    # Plurals folded: "passwords" finds "password".
    vectorizer = CustomVectorizer(embed=lambda text: hashing_embed(text, DIM, fold_plurals=True))
    index = SearchIndex.from_dict(SCHEMA, redis_client=client)
    index.create(overwrite=True, drop=True)

    records = [
        {"title": title, "body": body, "section": section, "updated": updated}
        for _, title, body, section, updated in ARTICLES
    ]
    vectors = vectorizer.embed_many([f"{r['title']}. {r['body']}" for r in records], as_buffer=True)
    for record, vector in zip(records, vectors):
        record["embedding"] = vector
    keys = index.load(records, keys=[f"rvl_article:{a[0]}" for a in ARTICLES])
    print(f"loaded {len(keys)} articles into {index.name}")
    check(int(index.info()["num_docs"]) == len(ARTICLES), "num_docs")

    question = "I forgot my password, how do I set a new one?"
    vector = vectorizer.embed(question)

    # Vector search, then the same search under filters.
    query = VectorQuery(vector, "embedding", return_fields=["title", "section", "updated"], num_results=3)
    results = index.query(query)
    print(f"nearest to {question!r}:")
    for r in results:
        print(f"  {r['title']:27} [{r['section']}] distance {float(r['vector_distance']):.3f}")
    check(ids(results)[0] == "a1", f"best match {ids(results)}")

    query.set_filter((Tag("section") == "security") & (Num("updated") >= 2020))
    results = index.query(query)
    print(f"among security articles updated since 2020: {[r['title'] for r in results]}")
    check(ids(results) == ["a3"], f"filtered {ids(results)}")

    # Full-text search with BM25, restricted to one section.
    text = TextQuery(
        "password reset",
        text_field_name={"title": 2.0, "body": 1.0},
        filter_expression=Tag("section") == "account",
        return_fields=["title"],
        num_results=5,
    )
    results = index.query(text)
    print(f"text 'password reset' in account articles: {[(r['title'], round(float(r['score']), 2)) for r in results]}")
    check(ids(results) == ["a1"], f"text {ids(results)}")

    # Hybrid: the KNN candidates ranked by 0.7 x vector similarity + 0.3 x BM25 text score
    # (0 for a candidate without the word): "Password rules" says "password" twice in a
    # short body, which lifts it above the nearest article.
    hybrid = AggregateHybridQuery(
        text="password",
        text_field_name="body",
        vector=vector,
        vector_field_name="embedding",
        alpha=0.7,
        return_fields=["title"],
        num_results=3,
    )
    results = index.query(hybrid)
    print("hybrid 'password' + question vector:")
    for r in results:
        print(f"  {r['title']:27} hybrid {float(r['hybrid_score']):.3f}")
    titles = [r["title"] for r in results]
    check(titles == ["Password rules", "Reset your password", "Enable two-factor login"], f"hybrid {titles}")
    for r in results:
        mixed = 0.7 * float(r["vector_similarity"]) + 0.3 * float(r["text_score"])
        check(abs(float(r["hybrid_score"]) - mixed) < 1e-6, f"hybrid score {r}")

    index.delete(drop=True)
    check(not index.exists(), "index deleted")
    print("redisvl_example: all good")


if __name__ == "__main__":
    main()
