"""Real processes for the `make run` tests: a pseudo-terminal to run them in (as a terminal window
would), their process tree read from /proc (Linux), and the embedded-mode environment."""

import fcntl
import os
import pty
import re
import select
import signal
import socket
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def port_in_use() -> Iterator[int]:
    """A free loopback port with a socket listening on it, as an earlier `make run` would hold it."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


def embedded_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a newcomer's `make run`: no DATABASE_URL/REDIS_URL (SQLite, database cache
    and filesystem broker under `var_dir`), and Polymarket pointed at a closed local port."""
    dropped = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    env = {name: value for name, value in os.environ.items() if name not in dropped}
    nowhere = f"http://127.0.0.1:{free_port()}"
    env.update(
        VAR_DIR=str(var_dir),
        DEBUG="true",
        TERM="xterm",
        POLYMARKET_GAMMA_URL=nowhere,
        POLYMARKET_CLOB_URL=nowhere,
        POLYMARKET_RETRY_ATTEMPTS="1",
        WEB_CONCURRENCY="1",
        **overrides,
    )
    return env


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it has stopped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_all(pids: list[int]) -> None:
    """Clean-up after a failed test: nothing it started may outlive it."""
    for pid in pids:
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def wait_until(predicate: Callable[[], bool], *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class Terminal:
    """Runs a command as the session leader of a new pseudo-terminal, like a shell in a terminal
    window: `ctrl_c()` types Ctrl-C, `close()` closes the window (a hang-up)."""

    def __init__(self, command: list[str], *, env: dict[str, str], cwd: Path = ROOT):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self._chunks: list[bytes] = []
        self._close = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        # Polls rather than blocking in read(): a read in progress keeps the master open, and then
        # closing it would not hang the terminal up.
        while not self._close.is_set():
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # EIO: every process on the terminal is gone
                    break
                if not data:
                    break
                self._chunks.append(data)
        os.close(self.master)

    def output(self) -> str:
        return _ANSI.sub("", b"".join(self._chunks).decode("utf-8", "replace")).replace("\r", "")

    def lines(self, name: str) -> list[str]:
        """What the process `name` printed, without the `name |` prefix."""
        prefix = re.compile(rf"^{re.escape(name)} *\| ?")
        return [prefix.sub("", line) for line in self.output().splitlines() if prefix.match(line)]

    def ctrl_c(self) -> None:
        os.write(self.master, b"\x03")

    def close(self) -> None:
        self._close.set()
        self._reader.join(timeout=5)
