"""Settings of the server the schemathesis run fuzzes: production settings, rate limits off.

Thousands of generated requests from one user and one IP would otherwise spend most of the run
on 429s (the limits have their own tests in tests/users/test_ratelimits.py).
"""
from audotics.settings import *  # noqa: F403

RATELIMIT_ENABLE = False
