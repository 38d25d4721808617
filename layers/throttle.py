"""Per-caller request throttling for the layer services, with counters shared by all workers.

check(caller) raises gisportal.errors.Throttled (429, Retry-After) past the caller's rate.
"""

from __future__ import annotations

from layers.access import Caller


def check(caller: Caller) -> None:
    """Count one request of CALLER; raise Throttled past its rate. (Implemented with Redis in issue 9.)"""
    return None
