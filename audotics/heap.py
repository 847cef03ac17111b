"""Garbage collection tuned for ASGI workers that hold thousands of sockets.

Every open socket keeps a consumer, its protocol objects and buffers alive: with 2,500 sockets a
worker's heap holds millions of container objects, and CPython's full (generation 2) collection
walks all of them -- 600-800 ms with the worker frozen, measured with gc callbacks during
bench/collab_latency.py --idle-sockets 5000, about every 10 s under 20 writes/s. That pause was
the whole tail of the write-to-receipt latency. So, once the application is loaded:

- `gc.freeze()` moves everything imported at startup (Django, numpy, the URL conf: ~250,000
  objects, 100 ms of every full collection) out of the collector's sight for good;
- the third threshold goes from 10 to `FULL_COLLECTION_EVERY`: a full collection is considered
  after that many generation-1 collections instead of 10. Young collections still reclaim almost
  all garbage (requests' objects die young); cycles that reach generation 2 are freed later,
  which costs some memory, not correctness.
"""
from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 1000


def heap_settle() -> None:
    """Call once the application is loaded, before serving."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
