"""Prometheus metrics: counts only, never anything about a person (docs/operations.md).

Two kinds, both in one registry of our own (prometheus_client's text format, not hand-written):

- Read from the database at each scrape (`stats.metrics.DatabaseCollector`, registered here
  when that module is imported): queue length and waiting askers,
  open chats, helpers on duty, messages stored, the wait-time histogram and when each periodic
  job last ran. Every process answers the same for these, so any one daphne may be scraped.
- Counted by the process itself (`count_*`): nudges the channel layer failed to carry, channel-
  layer rejoins after a Redis outage, sweeps run. These are per process: scrape every daphne
  (web1:8000, web2:8000), not through nginx, and let Prometheus' `instance` label tell them
  apart; a restarted process starts again from 0, as Prometheus counters may.

The only label is a service line's slug (and a periodic job's name). Chats, helpers, askers,
addresses, tokens, nicknames and texts are never labels or values.

This module imports nothing of the project: chats counts through it from anywhere.
"""

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

NUDGES_FAILED = Counter(
    "verkkoapu_nudges_failed",
    "Nudges between processes that the channel layer did not carry (this process); "
    "consumers catch up from the database",
    registry=REGISTRY,
)
LAYER_REJOINS = Counter(
    "verkkoapu_layer_rejoins",
    "Times this process found Redis back after an outage and re-joined every consumer's groups",
    registry=REGISTRY,
)
SWEEPS = Counter(
    "verkkoapu_sweeps",
    "Sweeps run by this process (vanished askers and helpers, limits, transfers)",
    registry=REGISTRY,
)


def count_nudge_failed() -> None:
    NUDGES_FAILED.inc()


def count_layer_rejoin() -> None:
    LAYER_REJOINS.inc()


def count_sweep() -> None:
    SWEEPS.inc()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
