"""What share of a running server's CPU samples one part of the code takes, by py-spy.

Throughput on a shared VM swings by more than a few per cent between two runs; a sampling profile of
the server under load does not: the share of its samples spent in given code is that code's share
of the Python CPU a request costs (an upper bound of its share of all the CPU: the kernel's network
work is not sampled). `bench.metrics_cost --profile` uses it for the metrics' own code.
"""

import shutil
import signal
import subprocess
import sys
from pathlib import Path

# A sample is the metrics' when the innermost frame outside the standard library is theirs: the
# prometheus-client library or our recording code. The middleware, the statement and the cache
# wrappers also appear as outer frames of everything they time, so only an innermost frame counts.
METRICS_CODE = ("/prometheus_client/", "/observability/")
STDLIB = "/lib/python3."


def recorder(pid: int, out: Path) -> subprocess.Popen:
    """Sample gunicorn's master `pid` and its workers until `stop()`: only the thread holding the GIL,
    so the samples are the Python CPU time, not threads waiting on a socket (those release it)."""
    beside_python = Path(sys.executable).with_name("py-spy")  # the virtualenv's, when not on PATH
    py_spy = str(beside_python) if beside_python.exists() else shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    command = [py_spy, "record", "--pid", str(pid), "--subprocesses", "--rate", "200", "--format", "raw",
               "--output", str(out), "--nonblocking", "--full-filenames", "--gil"]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)  # py-spy writes its file on an interrupt
    process.wait(timeout=60)


def _owner(stack: str) -> str:
    for frame in reversed(stack.split(";")):
        location = frame.rsplit("(", 1)[-1]
        if STDLIB not in location or "site-packages" in location:
            return location
    return ""


def share(raw: Path, code: tuple[str, ...] = METRICS_CODE) -> tuple[float, int]:
    """The share of the samples in `raw` (py-spy's raw format) whose innermost non-stdlib frame is in
    `code`, and how many samples there were."""
    total = matched = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():  # a frame name read mid-change without pausing the process (--nonblocking)
            continue
        total += int(count)
        if any(part in _owner(stack) for part in code):
            matched += int(count)
    return (matched / total if total else 0.0), total
