"""LlamaIndex with Redis as its vector store (llama-index-vector-stores-redis
`RedisVectorStore`): documents split into nodes, embedded and stored, then retrieved with and
without metadata filters, and a document deleted by its id. No LLM is called: retrieval is
the part Redis does, and the retrieved nodes are what a query engine would hand the LLM.

    python llamaindex_example.py --port 6379

The embedding model is a small deterministic hashing embedding (each word, lower-cased, adds
1 to one of 256 dimensions), so the example runs offline; any LlamaIndex embedding
(HuggingFaceEmbedding, OpenAIEmbedding ...) drops in. The script checks every result and exits
non-zero on a wrong one. Its index is "li_notes" over the keys "li_note/vector_*", removed at
the end.
"""

import argparse
import re

from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters
from llama_index.vector_stores.redis import RedisVectorStore
from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redisvl.schema import IndexSchema

from example_support import check, hashing_embed

DIM = 256


class HashingEmbedding(BaseEmbedding):
    """Bag of words hashed into DIM dimensions, unit length: texts sharing words are near."""

    def _get_query_embedding(self, query: str) -> list[float]:
        return hashing_embed(query, DIM)

    def _get_text_embedding(self, text: str) -> list[float]:
        return hashing_embed(text, DIM)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return hashing_embed(query, DIM)


# The fields LlamaIndex itself needs (id, doc_id, text, vector), plus the metadata to filter on.
SCHEMA = IndexSchema.from_dict(
    {
        "index": {"name": "li_notes", "prefix": "li_note/vector", "key_separator": "_"},
        "fields": [
            {"type": "tag", "name": "id"},
            {"type": "tag", "name": "doc_id"},
            {"type": "text", "name": "text"},
            {"type": "tag", "name": "team"},
            {"type": "numeric", "name": "year"},
            {
                "type": "vector",
                "name": "vector",
                "attrs": {"dims": DIM, "algorithm": "hnsw", "distance_metric": "cosine"},
            },
        ],
    }
)

NOTES = [
    (
        "deploy-guide",
        "platform",
        2024,
        "Deployments run from the main branch. Every merge builds a container image. "
        "The image is rolled out to staging first and to production after the smoke tests pass. "
        "A rollback redeploys the previous image tag and takes about two minutes. "
        "Database migrations must stay compatible with the previous release.",
    ),
    (
        "oncall-handbook",
        "platform",
        2023,
        "The on-call engineer answers pages within fifteen minutes, day and night. "
        "Every incident gets its own chat channel and a written timeline of what was done. "
        "The incident commander decides when to escalate and who talks to customers. "
        "A blameless postmortem follows every incident that paged more than twice in a week.",
    ),
    (
        "pricing-faq",
        "sales",
        2024,
        "Plans are billed monthly or yearly. Yearly plans get two months free. "
        "Discounts above twenty percent need approval from the sales lead. "
        "Nonprofits and schools get half price on every plan after a short check.",
    ),
]



def texts(nodes) -> list[str]:
    return [n.node.get_content() for n in nodes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    args = parser.parse_args()

    # The async client is passed too: left out, the store derives one from the sync client's
    # settings, which fails with redis-py 8 (it copies a sync-only keyword argument).
    client = Redis(host=args.host, port=args.port)
    vector_store = RedisVectorStore(
        schema=SCHEMA,
        redis_client=client,
        redis_client_async=AsyncRedis(host=args.host, port=args.port),
        overwrite=True,
    )
    # The metadata is for filtering: kept out of the text that is embedded or shown to an LLM.
    documents = [
        Document(
            text=text,
            id_=name,
            metadata={"team": team, "year": year},
            excluded_embed_metadata_keys=["team", "year"],
            excluded_llm_metadata_keys=["team", "year"],
        )
        for name, team, year, text in NOTES
    ]
    # Small chunks so each document becomes several nodes; the splitter counts tokens with
    # the tiktoken data LlamaIndex ships, offline.
    splitter = SentenceSplitter(chunk_size=50, chunk_overlap=0)
    index = VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=vector_store),
        embed_model=HashingEmbedding(),
        transformations=[splitter],
    )
    stored = int(client.ft("li_notes").info()["num_docs"])
    print(f"{len(documents)} documents stored as {stored} nodes in li_notes")
    check(stored > len(documents), f"{stored} nodes: the splitter should have split the documents")

    retriever = index.as_retriever(similarity_top_k=2)
    hits = retriever.retrieve("who writes the incident timeline")
    print("top 2 for 'who writes the incident timeline':")
    for hit in hits:
        print(f"  {hit.score:.3f}  [{hit.node.ref_doc_id}] {hit.node.get_content()}")
    check(hits[0].node.ref_doc_id == "oncall-handbook", f"retrieved {texts(hits)}")
    check(hits[0].score >= hits[1].score, "scores descending")

    # Metadata filters run inside the KNN query (tag and numeric fields of the schema).
    filters = MetadataFilters(
        filters=[
            MetadataFilter(key="team", value="platform"),
            MetadataFilter(key="year", value=2024, operator=FilterOperator.GTE),
        ]
    )
    hits = index.as_retriever(similarity_top_k=3, filters=filters).retrieve("approval for discounts and images")
    print(f"platform notes from 2024: {[h.node.ref_doc_id for h in hits]}")
    check(hits and all(h.node.ref_doc_id == "deploy-guide" for h in hits), f"filtered {texts(hits)}")

    # Deleting a document removes all of its nodes.
    index.delete_ref_doc("pricing-faq", delete_from_docstore=True)
    hits = retriever.retrieve("yearly plans and discounts")
    print(f"after deleting pricing-faq, 'yearly plans and discounts' finds: {[h.node.ref_doc_id for h in hits]}")
    check(all(h.node.ref_doc_id != "pricing-faq" for h in hits), "deleted document still retrieved")

    vector_store.delete_index()
    check(not vector_store.index_exists(), "index deleted")
    print("llamaindex_example: all good")


if __name__ == "__main__":
    main()
