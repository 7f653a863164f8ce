"""`/metrics` served by the Celery worker or beat itself (METRICS_WORKER_PORT, METRICS_BEAT_PORT), for
hosts where they do not share the web's metrics folder. Same report and same access rule as the
web's `/metrics`; a thread of the main process, so the pool is never busy answering it."""

import logging
import threading
from http import HTTPStatus
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.db import close_old_connections
from prometheus_client import CONTENT_TYPE_LATEST

from . import exposition

logger = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # a scrape every 15 s is not news
        pass


_NOT_FOUND = exposition.Refusal(404, "NOT_FOUND", "No endpoint here but /metrics.")


def metrics_app(environ, start_response):
    if environ.get("PATH_INFO") != "/metrics":
        return _refuse(start_response, _NOT_FOUND)
    refused = exposition.refusal_for(
        authorization=environ.get("HTTP_AUTHORIZATION", ""), address=environ.get("REMOTE_ADDR", "")
    )
    if refused is not None:
        return _refuse(start_response, refused)
    # This thread is not a request Django knows of: drop a connection the server closed (a restart)
    # or one past its age, as a request would, so the business gauges recover by themselves.
    close_old_connections()
    try:
        body = exposition.scrape()
    finally:
        close_old_connections()
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
    return [body]


def _refuse(start_response, refusal: exposition.Refusal) -> list[bytes]:
    body = refusal.body
    headers = [*refusal.headers.items(), ("Content-Length", str(len(body)))]
    start_response(f"{refusal.status} {HTTPStatus(refusal.status).phrase}", headers)
    return [body]


def serve(*, host: str, port: int) -> WSGIServer:
    """Start answering on host:port in a daemon thread; returns the server (`shutdown()` stops it)."""
    server = make_server(host, port, metrics_app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True).start()
    logger.info("metrics exporter listening", extra={"host": host, "port": server.server_port})
    return server
