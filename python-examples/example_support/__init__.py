"""What the example scripts share: a check that stops a script on a wrong result, and an
offline stand-in for a sentence-embedding model, so the examples run without downloading one.

Each example is run from its own directory (`python python-examples/<name>.py`), which puts
this package on the import path.
"""

import hashlib
import re
import sys


def check(condition: bool, what: str) -> None:
    """Stops the script, exit status 1, when `condition` does not hold."""
    if not condition:
        sys.exit(f"unexpected result: {what}")


def hashing_embed(text: str, dim: int = 256, fold_plurals: bool = False) -> list[float]:
    """Bag of words hashed into `dim` dimensions, unit length: texts sharing words are near.
    With `fold_plurals`, a word ending in "s" (longer than 3 letters) counts as its singular."""
    import numpy as np  # only the search examples need it

    vec = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if fold_plurals and word.endswith("s") and len(word) > 3:
            word = word[:-1]
        vec[int(hashlib.sha1(word.encode()).hexdigest(), 16) % dim] += 1.0
    norm = np.linalg.norm(vec)
    return (vec / norm if norm else vec).tolist()
