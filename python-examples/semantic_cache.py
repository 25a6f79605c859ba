"""A semantic cache for LLM answers with redisvl's SemanticCache: a prompt close enough in
meaning to one answered before is served from the cache instead of calling the model again.
Shows a hit on a rephrased prompt, a miss on a different one, a per-user filter, and expiry
of entries through their TTL.

    python semantic_cache.py --port 6379

The vectorizer is redisvl's CustomVectorizer around a tiny hashing embedder (shared words
make prompts near), and `ask_llm` stands in for the model, so the example runs offline; with a
real embedding model the same code matches paraphrases that share no words. The script checks
every step and exits non-zero on a wrong one. Its index is "example_llmcache", removed at the
end.
"""

import argparse
import time

import redis
from redisvl.extensions.cache.llm import SemanticCache
from redisvl.query.filter import Tag
from redisvl.utils.vectorize import CustomVectorizer

from example_support import check, hashing_embed

DIM = 256
TTL_SECONDS = 2
llm_calls = 0




def ask_llm(prompt: str) -> str:
    """Stands in for a slow, paid model call."""
    global llm_calls
    llm_calls += 1
    return f"(model answer to: {prompt})"


def answer(cache: SemanticCache, prompt: str, user: str) -> tuple[str, bool]:
    """Cache-aside: the cached answer of a near prompt of the same user, else ask the model
    and cache its answer (for TTL_SECONDS)."""
    hits = cache.check(prompt=prompt, filter_expression=Tag("user") == user, return_fields=["prompt", "response"])
    if hits:
        return hits[0]["response"], True
    response = ask_llm(prompt)
    cache.store(prompt=prompt, response=response, filters={"user": user})
    return response, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    args = parser.parse_args()

    client = redis.Redis(host=args.host, port=args.port)
    cache = SemanticCache(
        name="example_llmcache",
        vectorizer=CustomVectorizer(embed=lambda text: hashing_embed(text, DIM)),
        distance_threshold=0.3,  # cosine distance under which two prompts count as the same
        ttl=TTL_SECONDS,
        filterable_fields=[{"name": "user", "type": "tag"}],
        redis_client=client,
        overwrite=True,
    )
    cache.clear()

    steps = [
        ("alice", "What is the capital of France?", False, "first time: miss, the model answers"),
        ("alice", "what is the capital city of France", True, "rephrased: hit, no model call"),
        ("alice", "How tall is the Eiffel Tower?", False, "another question: miss"),
        ("bob", "What is the capital of France?", False, "same prompt, other user: miss (filter)"),
    ]
    for user, prompt, want_hit, why in steps:
        response, hit = answer(cache, prompt, user)
        print(f"{'HIT ' if hit else 'MISS'} {user:5} {prompt!r:40} -> {response!r}  ({why})")
        check(hit == want_hit, f"{prompt!r} for {user}: hit {hit}, expected {want_hit}")
    check(llm_calls == 3, f"{llm_calls} model calls, expected 3")

    # How near the rephrased prompt is: the distance the cache compared to its threshold.
    best = cache.check(prompt="what is the capital city of France", return_fields=["prompt", "vector_distance"])
    print(f"nearest cached prompt: {best[0]['prompt']!r} at distance {float(best[0]['vector_distance']):.3f}")
    check(float(best[0]["vector_distance"]) < 0.3, f"distance {best[0]}")

    key = best[0]["key"]
    ttl = client.pttl(key)
    print(f"entries expire after {TTL_SECONDS} s (PTTL of one: {ttl} ms); waiting for them")
    check(0 < ttl <= TTL_SECONDS * 1000, f"PTTL {ttl}")
    time.sleep(TTL_SECONDS + 0.5)
    response, hit = answer(cache, "What is the capital of France?", "alice")
    print(f"{'HIT ' if hit else 'MISS'} alice after expiry -> {response!r}")
    check(not hit and llm_calls == 4, "an expired entry must not be served")

    cache.delete()
    print("semantic_cache: all good")


if __name__ == "__main__":
    main()
