"""One compute thread per request in web processes: asgi.py and wsgi.py import this first.

A web worker answers many requests at once, each on a thread of its own. Left alone, BLAS
(OpenBLAS) and faiss (OpenMP) each start a team of threads on every call, and the two teams spin
against each other and the next request: a personal list from the trained Last.fm model took
8 ms median and 37 ms p95 instead of 2.4 ms and 2.5 ms. The libraries read these variables once,
when they load, so this must run before anything imports numpy. Batch and training processes
(Celery, management commands) keep their defaults and set their own limits.
"""
import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
