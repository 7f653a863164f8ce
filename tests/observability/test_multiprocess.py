"""Several processes (gunicorn workers, the Celery worker's pool, beat) report one consistent set:
each writes its own files, /metrics merges every role's folder on the host."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import thisthat.dotenv
from observability.exposition import HostCollector
from thisthat import multiproc

from .conftest import METRICS_TOKEN, parse

ROOT = Path(__file__).resolve().parents[2]

# A process of `role` that records what a request or a task would, and prints its pid.
RECORD = """
import os, sys
import thisthat.dotenv
from thisthat import multiproc
multiproc.use(sys.argv[1])
from observability import metrics
if sys.argv[1] == "web":
    metrics.http_requests.labels("api/v1/markets", "GET", "200").inc(int(sys.argv[2]))
    metrics.http_request_duration.labels("api/v1/markets", "GET").observe(0.2)
    metrics.http_requests_in_flight.inc()
else:
    metrics.celery_tasks.labels("polymarket.tasks.sync_odds", "SUCCESS").inc(int(sys.argv[2]))
print(os.getpid())
"""


def record(metrics_dir: Path, role: str, count: int) -> int:
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(METRICS_DIR=str(metrics_dir), METRICS_ENABLED="true")
    done = subprocess.run(
        [sys.executable, "-c", RECORD, role, str(count)], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def merged(folders: list[Path]) -> dict:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in HostCollector(folders).collect()
        for sample in family.samples
    }


def gunicorn_hooks():
    """gunicorn.conf.py, as gunicorn loads it (a file, not an importable module)."""
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_web_processes_add_up_and_a_dead_ones_in_flight_gauge_goes(tmp_path, monkeypatch):
    first, second = record(tmp_path, "web", 2), record(tmp_path, "web", 3)
    assert first != second
    web = tmp_path / "web"
    samples = merged([web])
    labels = (("method", "GET"), ("route", "api/v1/markets"), ("status", "200"))
    assert samples[("thisthat_http_requests_total", labels)] == 5
    count = ("thisthat_http_request_duration_seconds_count", (("method", "GET"), ("route", "api/v1/markets")))
    assert samples[count] == 2
    assert samples[("thisthat_http_requests_in_flight", ())] == 2

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(web))  # as in gunicorn's master
    gunicorn_hooks().child_exit(server=None, worker=SimpleNamespace(pid=first))
    samples = merged([web])
    assert samples[("thisthat_http_requests_in_flight", ())] == 1
    assert samples[("thisthat_http_requests_total", labels)] == 5  # counters outlive their process


@pytest.mark.django_db
def test_metrics_merges_the_web_and_the_worker_of_the_host(tmp_path, monkeypatch, metrics_settings, client):
    record(tmp_path, "web", 4)
    record(tmp_path, "worker", 7)
    # This process plays a gunicorn worker: the web's folder, under the same METRICS_DIR.
    monkeypatch.setenv("METRICS_DIR", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "web"))

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    scrape = parse(response.content.decode())
    assert scrape.value("thisthat_http_requests_total", route="api/v1/markets", method="GET", status="200") == 4
    assert scrape.value("thisthat_celery_tasks_total", task="polymarket.tasks.sync_odds", state="SUCCESS") == 7
    assert scrape.value("thisthat_users") == 0  # the scrape-time gauges come along


def test_each_role_empties_only_its_own_folder_at_start(tmp_path, monkeypatch):
    record(tmp_path, "web", 1)
    record(tmp_path, "worker", 1)
    monkeypatch.setenv("METRICS_DIR", str(tmp_path))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    multiproc.use("worker")
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "worker")
    multiproc.wipe()
    assert list((tmp_path / "worker").glob("*.db")) == []
    assert list((tmp_path / "web").glob("*.db")) != []


def test_a_folder_inherited_from_the_parent_process_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("METRICS_DIR", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "web"))
    multiproc.use("worker")
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "web")


def test_metrics_off_chooses_no_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("METRICS_DIR", str(tmp_path))
    monkeypatch.setenv("METRICS_ENABLED", "false")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    multiproc.use("web")
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


@pytest.mark.parametrize(
    ("argv", "role"),
    [
        (["/app/.venv/bin/celery", "--quiet", "-A", "thisthat", "worker", "--concurrency", "2"], "worker"),
        (["/app/.venv/bin/celery", "-A", "thisthat", "beat", "--scheduler", "x"], "beat"),
        (["/usr/lib/python3/site-packages/celery/__main__.py", "-A", "thisthat", "worker"], "worker"),
        (["/app/.venv/bin/celery", "-A", "thisthat", "inspect", "active"], None),
        (["/app/.venv/bin/gunicorn", "thisthat.wsgi"], None),
        (["manage.py", "beat"], None),
    ],
)
def test_the_celery_role_comes_from_the_command_line(argv, role):
    assert multiproc.celery_role(argv) == role


def test_the_metrics_folder_and_switch_set_in_dotenv_are_read_before_the_settings(tmp_path, monkeypatch):
    """gunicorn's and Celery's main processes pick the folder before Django's settings load `.env`."""
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"METRICS_DIR={tmp_path / 'metrics'}\nMETRICS_ENABLED=off\n")
    monkeypatch.setattr(thisthat.dotenv, "DOTENV", dotenv)
    for name in ("METRICS_DIR", "METRICS_ENABLED"):  # recorded as unset, so undone after the test
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)

    thisthat.dotenv.load_dotenv()

    assert multiproc.metrics_dir() == tmp_path / "metrics"
    assert multiproc.enabled() is False
