"""What one scrape of `/metrics` reports: the metrics every process recorded (in multiprocess mode
the files of every role on this host, merged), plus the gauges read at scrape time."""

import hmac
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from thisthat import multiproc
from thisthat.errors import envelope
from thisthat.http import client_address

from .collectors import StateCollector


class HostCollector(Collector):
    """The metric files of every role's folder (web, worker, beat) merged: one set for the host."""

    def __init__(self, folders: list[Path]):
        self.folders = folders

    def collect(self):
        files = sorted(str(path) for folder in self.folders for path in folder.glob("*.db"))
        return MultiProcessCollector.merge(files, accumulate=True)


class _ProcessCollector(Collector):
    """This process's own registry (no multiprocess folder: tests, `manage.py runserver`)."""

    def collect(self):
        return REGISTRY.collect()


def metric_folders() -> list[Path]:
    own = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    root = multiproc.metrics_dir()
    if own.parent != root:  # a folder chosen by hand: it alone
        return [own]
    return [root / role for role in multiproc.ROLES if (root / role).is_dir()]


def scrape() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry.register(HostCollector(metric_folders()))
    else:
        registry.register(_ProcessCollector())
    registry.register(StateCollector())
    return generate_latest(registry)


@dataclass(frozen=True)
class Refusal:
    """The answer to a caller that may not scrape: the API's error envelope."""

    status: int
    code: str
    message: str

    @property
    def body(self) -> bytes:
        return json.dumps(envelope(self.message, self.code, self.status)).encode()

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return headers


_WRONG_TOKEN = Refusal(403, "PERMISSION_DENIED", "This token may not read the metrics.")


def refusal(request) -> Refusal | None:
    """None when the caller of `/metrics` may scrape, else how to refuse it."""
    return refusal_for(authorization=request.headers.get("Authorization", ""), address=client_address(request))


def refusal_for(*, authorization: str, address: str) -> Refusal | None:
    """A scrape is allowed with the configured bearer token (METRICS_TOKEN), or from an address in
    METRICS_ALLOWED_IPS (addresses or networks). Otherwise: how to refuse it."""
    scheme, _, supplied = authorization.partition(" ")
    if settings.METRICS_TOKEN and scheme.lower() == "bearer" and supplied:
        if hmac.compare_digest(supplied.strip().encode(), settings.METRICS_TOKEN.encode()):
            return None
        return _WRONG_TOKEN
    try:
        caller = ipaddress.ip_address(address)
    except ValueError:
        caller = None
    allowed = (ipaddress.ip_network(entry, strict=False) for entry in settings.METRICS_ALLOWED_IPS)
    if caller is not None and any(caller in network for network in allowed):
        return None
    if authorization:
        return _WRONG_TOKEN
    return Refusal(401, "NOT_AUTHENTICATED", "The metrics need a bearer token (METRICS_TOKEN) or an allowed address.")
