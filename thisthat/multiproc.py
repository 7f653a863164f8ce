"""Where each process keeps its Prometheus metrics (prometheus-client's multiprocess mode), so that
every gunicorn worker, Celery pool process and beat on one host report one consistent set.

Each role (`web`, `worker`, `beat`) writes to its own folder under METRICS_DIR (default
`VAR_DIR/metrics`); `/metrics` (observability) merges all of them, so on one host — `make run`, or
containers sharing the folder as a volume — one scrape sees every process. The main process of a
role empties its folder when it starts (before it forks), and a dead gunicorn worker's live gauges
are dropped by the `child_exit` hook. Nothing here imports prometheus_client at import time: it
picks its storage when first imported, so the folder must be chosen before that."""

import os
from pathlib import Path

import environ

from .dotenv import load_dotenv

ROLES = ("web", "worker", "beat")
_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Read before the settings are (gunicorn's and Celery's main processes choose the folder first), so
# with the same `.env` under it.
load_dotenv()
_env = environ.Env()


def enabled() -> bool:
    """METRICS_ENABLED (default on); off, no process records anything and `/metrics` answers 404."""
    return _env.bool("METRICS_ENABLED", default=True)


def metrics_dir() -> Path:
    configured = _env.str("METRICS_DIR", default="")
    if configured:
        return Path(configured)
    return Path(_env.str("VAR_DIR", default="") or Path(__file__).resolve().parent.parent / "var") / "metrics"


def use(role: str) -> None:
    """Make this process (and those it forks) record into `role`'s folder. A folder set by the
    environment already (a gunicorn worker inherits its master's) is kept."""
    if role not in ROLES:
        raise ValueError(f"unknown metrics role {role!r}")
    if enabled() and _ENV not in os.environ:
        folder = metrics_dir() / role
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[_ENV] = str(folder)


def wipe() -> None:
    """Empty this process's folder: what an earlier run left is not this run's."""
    folder = os.environ.get(_ENV)
    if folder:
        for path in Path(folder).glob("*.db"):
            path.unlink(missing_ok=True)


def process_dead(pid: int) -> None:
    """Drop the live gauges (in-flight requests) of a process that exited; its counters stay."""
    if os.environ.get(_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def celery_role(argv: list[str]) -> str | None:
    """`worker` or `beat` for the Celery command line `argv`, else None (gunicorn, manage.py, tests)."""
    if "celery" not in Path(argv[0]).parts[-2:] and not Path(argv[0]).name.startswith("celery"):
        return None
    for role in ("worker", "beat"):
        if role in argv[1:]:
            return role
    return None
