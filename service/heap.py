"""Garbage-collector settings for long-running processes (web server, workers).

Start-up loads modules, routes and templates that live as long as the process. CPython's
collector walks them on every full collection, and in a forked worker pool each walk
writes to their pages, so the children stop sharing them with the parent. Freezing them
once start-up is done takes them out of the walks. The web server also collects its young
generation less often: a review page of 500 segments allocates tens of thousands of short-
lived objects, and the collections that triggered took about a fifth of its time.
"""

from __future__ import annotations

import gc

# Young-generation threshold for the web server: net allocations between collections.
YOUNG_THRESHOLD = 10_000


def freeze() -> None:
    """Collect once, then exempt everything alive now from later collections."""
    gc.collect()
    gc.freeze()


def settle() -> None:
    """The web server after start-up: frozen, and its young generation collected less often."""
    freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
