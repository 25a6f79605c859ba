"""LangChain's Redis vector store (langchain-redis `RedisVectorStore`): add texts with
metadata, similarity search with scores, metadata filters, MMR, a retriever, deletion, and
reopening the index from the server.

    python langchain_example.py --port 6379

The embeddings are a small deterministic hashing class (each word, lower-cased, adds 1 to one
of 256 dimensions), so the example runs offline and needs no model or API key; pass any
LangChain `Embeddings` (HuggingFaceEmbeddings, OpenAIEmbeddings ...) instead and nothing
else changes. The script checks every result and exits non-zero on a wrong one. Its index is
"lc_recipes" over the keys "lc_recipes:*", removed at the end.
"""

import argparse
import re

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_redis import RedisConfig, RedisVectorStore
from redisvl.query.filter import Num, Tag

from example_support import check, hashing_embed

DIM = 256
INDEX = "lc_recipes"


class HashingEmbeddings(Embeddings):
    """Bag of words hashed into `dim` dimensions, unit length: texts sharing words are near."""

    def __init__(self, dim: int = DIM):
        self.dim = dim

    def embed_query(self, text: str) -> list[float]:
        return hashing_embed(text, self.dim)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


RECIPES = [
    ("tomato pasta with basil and garlic", {"cuisine": "italian", "minutes": 20}),
    ("creamy mushroom risotto with parmesan", {"cuisine": "italian", "minutes": 45}),
    ("spicy chicken curry with rice", {"cuisine": "indian", "minutes": 50}),
    ("lentil dal with garlic and rice", {"cuisine": "indian", "minutes": 30}),
    ("miso soup with tofu", {"cuisine": "japanese", "minutes": 10}),
    ("garlic butter pasta with parmesan", {"cuisine": "italian", "minutes": 15}),
]



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    args = parser.parse_args()

    config = RedisConfig(
        index_name=INDEX,
        redis_url=f"redis://{args.host}:{args.port}",
        metadata_schema=[
            {"name": "cuisine", "type": "tag"},
            {"name": "minutes", "type": "numeric"},
        ],
        indexing_algorithm="HNSW",
    )
    store = RedisVectorStore(HashingEmbeddings(), config=config)
    texts = [t for t, _ in RECIPES]
    ids = store.add_texts(texts, metadatas=[m for _, m in RECIPES])
    print(f"added {len(ids)} recipes to {INDEX}")
    check(len(ids) == len(RECIPES), f"ids {ids}")

    results = store.similarity_search_with_score("pasta with garlic", k=3)
    print("nearest to 'pasta with garlic':")
    for doc, score in results:
        print(f"  {score:.3f}  {doc.page_content}  {doc.metadata}")
    check(
        {d.page_content for d, _ in results[:2]}
        == {"tomato pasta with basil and garlic", "garlic butter pasta with parmesan"},
        f"best two {[d.page_content for d, _ in results]}",
    )
    scores = [s for _, s in results]
    check(scores == sorted(scores), f"distances ascending {scores}")

    # Metadata filters are redisvl filter expressions.
    quick_indian = (Tag("cuisine") == "indian") & (Num("minutes") <= 30)
    docs = store.similarity_search("garlic rice", k=3, filter=quick_indian)
    print(f"indian, 30 minutes or less: {[d.page_content for d in docs]}")
    check([d.page_content for d in docs] == ["lentil dal with garlic and rice"], "filtered search")

    # Maximal marginal relevance: relevant but not redundant.
    docs = store.max_marginal_relevance_search("pasta parmesan garlic", k=2, fetch_k=6, lambda_mult=0.3)
    print(f"MMR for 'pasta parmesan garlic': {[d.page_content for d in docs]}")
    check(len(docs) == 2 and docs[0].page_content == "garlic butter pasta with parmesan", "MMR")

    retriever = store.as_retriever(search_kwargs={"k": 1, "filter": Tag("cuisine") == "japanese"})
    docs = retriever.invoke("a light soup")
    print(f"retriever, japanese only: {[d.page_content for d in docs]}")
    check([d.page_content for d in docs] == ["miso soup with tofu"], "retriever")

    # Add one more document, then delete it by id.
    [extra] = store.add_documents([Document("garlic bread", metadata={"cuisine": "italian", "minutes": 10})])
    check(store.similarity_search("garlic bread", k=1)[0].page_content == "garlic bread", "added document")
    store.delete([extra])
    check(store.similarity_search("garlic bread", k=1)[0].page_content != "garlic bread", "deleted document")

    # Another process reopens the index from what the server says about it.
    again = RedisVectorStore(
        HashingEmbeddings(),
        config=RedisConfig(index_name=INDEX, redis_url=f"redis://{args.host}:{args.port}", from_existing=True),
    )
    docs = again.similarity_search("mushroom risotto", k=1)
    print(f"reopened index, 'mushroom risotto': {[d.page_content for d in docs]}")
    check([d.page_content for d in docs] == ["creamy mushroom risotto with parmesan"], "from_existing")

    store.index.delete(drop=True)
    check(not store.index.exists(), "index deleted")
    print("langchain_example: all good")


if __name__ == "__main__":
    main()
