"""Sign in with X across two web processes, the way production runs it: two gunicorn servers on
loopback share only the database and the cache. The browser starts on one, X sends it back to the
other, and the exchange goes to the first again."""

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection

from accounts.models import User
from economy.models import LedgerEntry, LedgerKind
from scripts.x_standin import XUser, settings_for
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.x import CALLBACK, EXCHANGE, FRONTEND, START, query_of, visit_x

STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _gunicorn(port: int, env: dict[str, str]) -> subprocess.Popen:
    """Start gunicorn on `port`; return once it listens (its log says so), draining its log after."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "thisthat.wsgi", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "1", "--threads", "2", "--no-control-socket"),
        ],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        for line in process.stderr:
            lines.put(line)
        lines.put("")

    threading.Thread(target=drain, daemon=True).start()
    while True:
        line = lines.get(timeout=STARTUP_SECONDS)
        assert line, f"gunicorn on {port} exited before listening"
        if "Listening at" in line:
            return process


@pytest.fixture
def two_web_processes(x_standin) -> Iterator[tuple[str, str]]:
    port_a, port_b = _free_port(), _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "thisthat.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": settings.CACHE_KEY_PREFIX,
        **settings_for(x_standin.base_url, x_standin.state),
        # X sends every browser back to process B, whichever process started the flow.
        "X_REDIRECT_URI": f"http://127.0.0.1:{port_b}{CALLBACK}",
        "FRONTEND_URL": FRONTEND,
    }
    processes = [_gunicorn(port_a, env), _gunicorn(port_b, env)]
    try:
        yield f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        for process in processes:
            process.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_flow_started_on_one_process_finishes_on_the_other(two_web_processes, x_standin):
    process_a, process_b = two_web_processes
    x_standin.state.sign_in_as(XUser(id="31337", username="two_procs"))
    browser = requests.Session()

    started = browser.get(f"{process_a}{START}", params={"redirect": "/home"}, allow_redirects=False, timeout=30)
    assert started.status_code == 302, started.text
    callback_url = visit_x(started.headers["Location"])
    assert callback_url.startswith(process_b)
    landed = browser.get(callback_url, allow_redirects=False, timeout=30)
    assert landed.status_code == 302, landed.text
    assert landed.headers["Location"].startswith(f"{FRONTEND}/home?code=")
    exchanged = browser.post(
        f"{process_a}{EXCHANGE}", json={"code": query_of(landed.headers["Location"])["code"]}, timeout=30
    )

    assert exchanged.status_code == 200, exchanged.text
    body = exchanged.json()
    assert body["created"] is True and body["user"]["username"] == "two_procs"
    me = browser.get(f"{process_b}/api/v1/users/me", headers={"Authorization": f"Bearer {body['accessToken']}"})
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]
    # The same callback replayed on the process that did not answer it is refused too.
    replayed = browser.get(callback_url.replace(process_b, process_a), allow_redirects=False, timeout=30)
    assert replayed.headers["Location"] == f"{FRONTEND}/?error=X_STATE_INVALID"
    assert User.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.SIGNUP_BONUS).count() == 1
    assert_ledger_reconciles()
