"""/healthz, /readyz and /metrics, answered before any other middleware (docs/operations.md).

First in MIDDLEWARE, so that none of these reads the Host header (a health check by a container
engine or a load balancer names whatever host it likes), is redirected to HTTPS, touches a
session or a CSRF cookie, or reaches the login checks. No cookie is ever set here, and nothing is
logged about the caller.

- /healthz: the process answers. Nothing else is checked: a restart would not fix a database.
- /readyz: the database answers, every migration this code knows is applied, and Redis answers
  (when REDIS_URL is set). 503 otherwise, naming only which check failed, never an error text.
- /metrics: Prometheus' text format (verkkoapu/metrics.py), only for METRICS_ALLOWED_IPS (by
  default the machine itself) or a request with `Authorization: Bearer <METRICS_TOKEN>`.
"""

import hmac
import ipaddress
import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse

import stats.metrics  # noqa: F401  (registers the database collector)
from verkkoapu.metrics import exposition
from verkkoapu.security import request_ip

PATHS = ("/healthz", "/readyz", "/metrics")
CHECK_TIMEOUT_SECONDS = 2


def database_ready() -> str:
    """'ok', 'unreachable' or 'migrations pending'."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        # A connection of its own with a short timeout: the pool would wait 30 s for a database
        # that is gone before saying so.
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        params.pop("prepare_threshold", None)
        try:
            with psycopg.connect(**params, connect_timeout=CHECK_TIMEOUT_SECONDS) as probe:
                probe.execute("SELECT 1")
        except Exception:
            return "unreachable"
    try:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            return "migrations pending"
    except Exception:
        return "unreachable"
    return "ok"


def redis_ready() -> str:
    """'ok', 'unreachable' or 'not used' (no REDIS_URL: one process, in-memory layer)."""
    if not settings.REDIS_URL:
        return "not used"
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
        return "ok"
    except Exception:
        return "unreachable"
    finally:
        client.close()


def metrics_allowed(request) -> bool:
    """A token, or an address in METRICS_ALLOWED_IPS (the client as the chat sockets see it:
    behind a trusted proxy, the address the proxy was given, never the proxy's own)."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    ip = request_ip(request)
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(allowed) for allowed in settings.METRICS_ALLOWED_IPS)


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path not in PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        if path == "/healthz":
            return _no_store(JsonResponse({"status": "ok"}))
        if path == "/readyz":
            checks = {"database": database_ready(), "redis": redis_ready()}
            ready = all(value in ("ok", "not used") for value in checks.values())
            body = json.dumps({"ready": ready, "checks": checks})
            return _no_store(
                HttpResponse(body, status=200 if ready else 503, content_type="application/json")
            )
        if not metrics_allowed(request):
            return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
        body, content_type = exposition()
        return _no_store(HttpResponse(body, content_type=content_type))
