"""A game leaderboard on a sorted set: ZINCRBY scores, top-N with ZREVRANGE WITHSCORES,
a player's rank with ZREVRANK, and neighbours around a player.

    REDIS_URL=redis://127.0.0.1:6379 python leaderboard.py

Exits non-zero on a wrong ranking. Keys live under "leaderboard:".
"""

import os
import random
import sys

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
BOARD = "leaderboard:weekly"


def main() -> None:
    r = redis.Redis.from_url(URL, decode_responses=True)
    r.delete(BOARD)
    rng = random.Random(7)
    totals: dict[str, int] = {}
    for _ in range(2000):
        player = f"player{rng.randrange(100)}"
        points = rng.randrange(1, 50)
        totals[player] = totals.get(player, 0) + points
        r.zincrby(BOARD, points, player)
    expected = sorted(totals.items(), key=lambda kv: (-kv[1], [-ord(c) for c in kv[0]]))
    top = r.zrevrange(BOARD, 0, 4, withscores=True)
    print("top 5:", ", ".join(f"{p}={int(s)}" for p, s in top))
    if [(p, int(s)) for p, s in top] != expected[:5]:
        sys.exit(f"wrong top 5: {top} vs {expected[:5]}")
    who, _ = expected[42]
    rank = r.zrevrank(BOARD, who)
    if rank != 42:
        sys.exit(f"{who} should rank 42, got {rank}")
    around = r.zrevrange(BOARD, rank - 2, rank + 2)
    print(f"{who} ranks #{rank + 1}; neighbours: {around}")
    if r.zcard(BOARD) != len(totals) or r.zscore(BOARD, who) != totals[who]:
        sys.exit("card or score disagree")
    r.delete(BOARD)
    print("leaderboard: all good")


if __name__ == "__main__":
    main()
