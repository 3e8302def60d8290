"""Prometheus metrics (issue 8 "operations built in"), exposed at /metrics.

Metrics implements flows.events.FlowEvents, so flows report outcomes without importing
prometheus_client. With `authgate serve --workers N` (N > 1) every worker writes its values
to files under PROMETHEUS_MULTIPROC_DIR (set by serve) and a scrape of any worker adds up
all of them (prometheus_client's multiprocess mode). Table row counts are read at scrape
time, at most every ROW_COUNT_TTL seconds, and left out while the database is unreachable:
/metrics keeps answering during an outage.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from authgate.core.errors import TemporarilyUnavailableError
from authgate.web.observability import note_client

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
ROW_COUNT_TTL = 15.0
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: a token request is milliseconds; a login's argon2 check a few hundred.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STATUS = {code: str(code) for code in range(100, 600)}

RowCounter = Callable[[], Awaitable[dict[str, int]]]


class _Rows(Collector):
    def __init__(self, rows: Mapping[str, int]) -> None:
        self.rows = rows

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "authgate_table_rows",
            "Rows per table (exact on SQLite, the statistics' estimate on PostgreSQL).",
            labels=["table"],
        )
        for table, count in sorted(self.rows.items()):
            family.add_metric([table], count)
        yield family


class Metrics:
    """The process's metrics; one instance per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        r = self.registry
        self.requests = Counter(
            "authgate_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "authgate_http_request_duration_seconds",
            "Time from request to the end of the response, by route template.",
            ["route"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "authgate_tokens_issued",
            "Tokens issued, by grant type, token type (access, refresh, id) and format.",
            ["grant_type", "token_type", "format"],
            registry=r,
        )
        self.revoked = Counter(
            "authgate_tokens_revoked", "Revocations by reason.", ["reason"], registry=r
        )
        self.reuse = Counter(
            "authgate_reuse_detected",
            "Spent refresh tokens, authorization codes and device codes presented again "
            "(their grant revoked), by reason.",
            ["reason"],
            registry=r,
        )
        self.device = Counter(
            "authgate_device_flow", "Device flow outcomes (RFC 8628).", ["outcome"], registry=r
        )
        self.rate_limited = Counter(
            "authgate_rate_limit_hits", "Requests refused by a rate limit.", ["limit"], registry=r
        )
        self.purged = Counter(
            "authgate_janitor_rows_purged", "Rows deleted by the janitor.", ["table"], registry=r
        )
        self._rows: dict[str, int] = {}
        self._rows_at = -ROW_COUNT_TTL
        self._counts: dict[tuple[Any, tuple[str, ...]], float] = {}
        self._latencies: dict[str, list[Any]] = {}  # route → [sum, count per bucket]
        self._flush_scheduled = False

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, looked up once: a label lookup costs more than the
        observation. Bounded: label values come from routes and fixed enums, but a cap keeps
        a surprise from growing the dict (beyond it, the lookup is simply not cached).
        """
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = metric.labels(*labels)
            if len(self._children) < 10_000:
                self._children[key] = child
        return child

    # Observations are tallied in plain dicts and handed to prometheus_client once per
    # event-loop turn (and before a scrape): its values take a lock per update (a file
    # write per update with several workers), several per request otherwise.
    def _count(self, metric: Any, labels: tuple[str, ...], amount: float = 1) -> None:
        key = (metric, labels)
        counts = self._counts
        counts[key] = counts.get(key, 0) + amount
        self._due()

    def _due(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Hand what was tallied to prometheus_client."""
        self._flush_scheduled = False
        counts, self._counts = self._counts, {}
        for (metric, labels), amount in counts.items():
            self._child(metric, *labels).inc(amount)
        latencies, self._latencies = self._latencies, {}
        for route, (total, buckets) in latencies.items():
            child = self._child(self.latency, route)
            # Histogram.observe per value, summed: its sum and the count of each bucket
            child._sum.inc(total)
            for bucket, n in zip(child._buckets, buckets, strict=True):
                if n:
                    bucket.inc(n)

    # requests (web/observability.py)
    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        label = method if method in _METHODS else "OTHER"
        self._count(self.requests, (route, label, _STATUS.get(status) or str(status)))
        tally = self._latencies.get(route)
        if tally is None:
            tally = self._latencies[route] = [0.0, [0] * (len(_BUCKETS) + 1)]
        tally[0] += seconds
        tally[1][bisect.bisect_left(_BUCKETS, seconds)] += 1  # the last is +Inf

    # flows.events.FlowEvents
    def client_authenticated(self, client_id: str) -> None:
        note_client(client_id)

    def token_issued(self, grant_type: str, token_type: str, token_format: str) -> None:
        self._count(self.tokens, (grant_type, token_type, token_format))

    def tokens_revoked(self, reason: str, count: int) -> None:
        self._count(self.revoked, (reason,), count)

    def reuse_detected(self, reason: str) -> None:
        self._count(self.reuse, (reason,))

    def device_flow(self, outcome: str) -> None:
        self._count(self.device, (outcome,))

    def rate_limit_hit(self, limit: str) -> None:
        self._count(self.rate_limited, (limit,))

    def rows_purged(self, table: str, count: int) -> None:
        self._count(self.purged, (table,), count)

    # the scrape
    async def exposition(self, count_rows: RowCounter) -> bytes:
        """The text exposition format: this process's (or all workers') metrics and the
        table row counts.
        """
        self.flush()
        if os.environ.get(MULTIPROCESS_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            body = generate_latest(registry)
        else:
            body = generate_latest(self.registry)
        rows = await self._row_counts(count_rows)
        if rows:
            rows_registry = CollectorRegistry(auto_describe=False)
            rows_registry.register(_Rows(rows))
            body += generate_latest(rows_registry)
        return body

    async def _row_counts(self, count_rows: RowCounter) -> dict[str, int]:
        if time.monotonic() - self._rows_at >= ROW_COUNT_TTL:
            self._rows_at = time.monotonic()  # concurrent scrapes do not count again
            try:
                self._rows = await count_rows()
            except TemporarilyUnavailableError:
                self._rows = {}
        return self._rows
