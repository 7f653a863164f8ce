"""`make run` as a newcomer uses it (issue 13): in embedded mode (SQLite, database cache, filesystem
broker) in a terminal, one Ctrl-C stops web, worker and beat — every process, pool children and
gunicorn workers included — within 10 s, with no SIGKILL, and `make` exits 0; closing the terminal
stops everything too; a port already in use is reported with the command that finds its owner.
Every line the worker and beat print is a JSON log line (issue 13: structured worker logs)."""

import json
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.helpers.processes import (
    ROOT,
    Terminal,
    alive,
    descendants,
    embedded_env,
    free_port,
    kill_all,
    port_in_use,
    wait_until,
)

# Within the launcher's own grace period (after which it kills, which the Ctrl-C test rules out), plus
# time for the kill to land: a stop is judged by how it ends, not by how fast a loaded machine is.
STOP_SECONDS = 25
# Starting takes long on a loaded machine (make run migrates, collects static files, seeds demo data).
START_SECONDS = 240


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """An embedded-mode state folder with the schema in place (what `make migrate` builds)."""
    path = tmp_path_factory.mktemp("var")
    env = embedded_env(path)
    for command in (["migrate", "--noinput", "--verbosity", "0"], ["createcachetable"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=600)
    return path


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _started(terminal: Terminal, port: int) -> bool:
    worker_ready = any('"celery@' in line and 'ready."' in line for line in terminal.lines("worker"))
    beat_ready = any("beat: Starting" in line for line in terminal.lines("beat"))
    return worker_ready and beat_ready and _health(port)


def _run_until_stopped(terminal: Terminal, port: int, stop) -> tuple[list[int], list[int]]:
    """Wait for the whole set to be up, `stop()` it, and return (the processes that ran, those
    still running STOP_SECONDS later)."""
    wait_until(lambda: terminal.process.poll() is not None or _started(terminal, port), timeout=START_SECONDS)
    assert _started(terminal, port), terminal.output()[-4000:]
    processes = descendants(terminal.process.pid)
    assert len(processes) >= 6, processes  # make, run.py, gunicorn and its worker, the celery worker, beat
    stop()
    wait_until(lambda: not any(alive(pid) for pid in processes), timeout=STOP_SECONDS)
    return processes, [pid for pid in processes if alive(pid)]


def test_ctrl_c_stops_every_process_and_make_exits_0(var_dir):
    port = free_port()
    terminal = Terminal(["make", "run"], env=embedded_env(var_dir, PORT=str(port)))
    processes: list[int] = []
    try:
        processes, left = _run_until_stopped(terminal, port, terminal.ctrl_c)

        assert not left, f"still running {STOP_SECONDS} s after Ctrl-C: {left}\n{terminal.output()[-4000:]}"
        assert terminal.process.wait(timeout=5) == 0
        output = terminal.output()
        assert "Error" not in "".join(line for line in output.splitlines() if line.startswith("make"))
        assert "killing" not in output
        for name in ("web", "worker", "beat"):
            assert f"{name} stopped (status 0)" in output
        for name in ("worker", "beat"):
            lines = terminal.lines(name)
            assert lines
            for line in lines:
                if not line.strip() or line.startswith("worker: "):
                    continue  # Celery's console notice of its shutdown ("worker: Warm shutdown"), not a log line
                record = json.loads(line)
                assert {"level", "logger", "message", "time"} <= set(record), line
    finally:
        kill_all([*processes, *descendants(terminal.process.pid)])
        terminal.close()


def test_closing_the_terminal_stops_every_process(var_dir):
    """The kernel signals only the session leader (here `make`, which waits for its recipe), so
    run.py must notice the hang-up itself."""
    port = free_port()
    terminal = Terminal(["make", "run"], env=embedded_env(var_dir, PORT=str(port)))
    processes: list[int] = []
    try:
        processes, left = _run_until_stopped(terminal, port, terminal.close)

        assert not left, f"still running {STOP_SECONDS} s after the hang-up: {left}"
        assert terminal.process.wait(timeout=5) == -signal.SIGHUP  # make itself dies of it, after run.py
    finally:
        kill_all([*processes, *descendants(terminal.process.pid)])
        terminal.close()


def test_a_busy_port_is_reported_with_the_command_to_find_its_owner(tmp_path):
    with port_in_use() as port:
        done = subprocess.run(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT,
            env=embedded_env(tmp_path, PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert done.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in done.stderr
    assert any(command in done.stderr for command in (f"lsof -nP -iTCP:{port}", f"sport = :{port}", f":{port} "))
    assert f"make run PORT={port + 1}" in done.stderr
    assert "started" not in done.stdout  # nothing was started
