"""`make run`'s process manager: runs the Procfile's processes (web, worker, beat) with their output
prefixed by name, and stops them all together.

    python scripts/run.py            # PORT (8000) and BIND_HOST (127.0.0.1) from the environment

- One Ctrl-C, a closed terminal (SIGHUP), SIGTERM or SIGQUIT stops everything and exits 0; a second
  signal while stopping kills what is left at once.
- Stopping sends SIGTERM to each program's main process only, never to its process group: gunicorn
  and Celery stop their own workers. Signalling the group kills Celery's pool children behind their
  parent's back (what made the worker hang under honcho, which does that, SIGKILLs after 5 s, ignores
  SIGHUP and exits 130). Whatever still runs GRACE_SECONDS later is killed, and named.
- When one process exits on its own, the others are stopped and the exit status is 1.
- On a terminal, this process takes the foreground, so Ctrl-C reaches it rather than `make` (which
  would otherwise die of the signal and report an error whatever happened here).
- A busy port is reported with the command that finds the process holding it.
"""

import contextlib
import errno
import itertools
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 20
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_COLOURS = ("36", "33", "35", "32", "34", "31")


def procfile(path: Path) -> list[tuple[str, str]]:
    """(name, command) for each `name: command` line."""
    entries = []
    for line in path.read_text().splitlines():
        name, separator, command = line.partition(":")
        if separator and name.strip() and not line.lstrip().startswith("#"):
            entries.append((name.strip(), command.strip()))
    return entries


def port_taken(host: str, port: int) -> bool:
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    try:
        # create_server sets SO_REUSEADDR like gunicorn does, so only a listening socket is a conflict.
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return True
        raise
    return False


def find_listener_command(port: int) -> str:
    if shutil.which("lsof"):
        return f"lsof -nP -iTCP:{port} -sTCP:LISTEN"
    if shutil.which("ss"):
        return f"ss -ltnp 'sport = :{port}'"
    return f"netstat -ltnp | grep ':{port} '"


class Output:
    """Lines of every process, prefixed with its name; quiet once the terminal is gone."""

    def __init__(self, names: list[str]):
        self.width = max(len(name) for name in [*names, "run"])
        self.colour = sys.stdout.isatty()
        self.colours = dict(zip(names, itertools.cycle(_COLOURS), strict=False))
        self.lock = threading.RLock()  # re-entered by a signal handler that interrupts a write

    def line(self, name: str, text: str) -> None:
        prefix = f"{name:<{self.width}} |"
        if self.colour:
            prefix = f"\033[{self.colours.get(name, '1')}m{prefix}\033[0m"
        with self.lock:
            try:
                sys.stdout.write(f"{prefix} {text.rstrip()}\n")
                sys.stdout.flush()
            except OSError:  # the terminal went away (EIO): carry on stopping without output
                self.detach()

    def say(self, text: str) -> None:
        self.line("run", text)

    def copy(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.line(name, raw.decode("utf-8", "replace"))
        stream.close()

    def detach(self) -> None:
        """Send our stdout and stderr to /dev/null (after SIGHUP there is nobody to write to)."""
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        self.colour = False


class Terminal:
    """Makes this process the terminal's foreground process group while it runs (when it was
    started in the foreground of one), and gives the terminal back afterwards. A hang-up (the
    window closed) is passed on as SIGHUP: the kernel signals only the session leader (the shell,
    or `make`), and the shell's own SIGHUP goes to `make`'s process group, which we left."""

    def __init__(self):
        self.fd: int | None = None
        self.previous: int | None = None

    def __enter__(self) -> "Terminal":
        try:
            fd = os.open("/dev/tty", os.O_RDWR)
        except OSError:
            return self  # no controlling terminal: signals come from whoever started us
        if os.tcgetpgrp(fd) != os.getpgrp() or os.getpgrp() == os.getpid():
            os.close(fd)  # in the background (leave the terminal alone), or in the foreground already
            return self
        self.fd, self.previous = fd, os.getpgrp()
        os.setpgid(0, 0)
        self._give(os.getpgrp())
        # Ctrl-Z would stop only us while `make` waits for us: nothing would answer the terminal.
        signal.signal(signal.SIGTSTP, signal.SIG_IGN)
        threading.Thread(target=self._watch_hangup, daemon=True).start()
        return self

    def _watch_hangup(self) -> None:
        poller = select.poll()
        poller.register(self.fd, 0)  # with no events asked for, poll() reports only hang-ups and errors
        events = poller.poll()
        if any(event & (select.POLLHUP | select.POLLERR) for _, event in events):
            os.kill(os.getpid(), signal.SIGHUP)

    def _give(self, pgrp: int) -> None:
        # SIGTTOU is sent to a background group that changes the foreground; we are allowed to.
        previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        try:
            os.tcsetpgrp(self.fd, pgrp)
        except OSError:
            pass  # the terminal is gone (closed window): nothing to give back
        finally:
            signal.signal(signal.SIGTTOU, previous)

    def __exit__(self, *_) -> None:
        if self.fd is not None:
            self._give(self.previous)
            os.close(self.fd)


class Launcher:
    def __init__(self, entries: list[tuple[str, str]], env: dict[str, str]):
        self.entries = entries
        self.env = env
        self.output = Output([name for name, _ in entries])
        self.processes: dict[str, subprocess.Popen] = {}
        self.stop_requested = threading.Event()
        self.force = threading.Event()
        self.hung_up = False

    def _on_signal(self, signum: int, _frame) -> None:
        if signum == signal.SIGHUP:
            if self.hung_up:
                return  # the hang-up arrives twice (watcher and kernel): it is one request
            self.hung_up = True
            self.output.detach()
        if self.stop_requested.is_set():
            self.force.set()
        else:
            self.output.say(f"{signal.Signals(signum).name} received: stopping (again to kill at once)")
            self.stop_requested.set()

    def _start(self) -> list[threading.Thread]:
        readers = []
        for name, command in self.entries:
            process = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {command}"],  # exec: the pid we signal is the program's
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # nothing but us signals it (not the terminal's Ctrl-C)
            )
            self.processes[name] = process
            self.output.say(f"{name} started (pid {process.pid})")
        for name, process in self.processes.items():
            reader = threading.Thread(target=self.output.copy, args=(name, process.stdout), daemon=True)
            reader.start()
            readers.append(reader)
        return readers

    def _running(self) -> dict[str, subprocess.Popen]:
        return {name: process for name, process in self.processes.items() if process.poll() is None}

    def _stop(self) -> bool:
        """SIGTERM to each main process, then wait; True when everything stopped by itself."""
        for process in self._running().values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        while self._running() and time.monotonic() < deadline and not self.force.is_set():
            time.sleep(0.1)
        clean = True
        for name, process in self.processes.items():
            stuck = process.poll() is None
            try:  # the group outlives its leader only if a child was left behind
                os.killpg(process.pid, 0)
            except (ProcessLookupError, PermissionError):
                continue
            clean = False
            what = "did not stop" if stuck else "left processes behind"
            self.output.say(f"{name} {what} in time: killing its process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes.values():
            process.wait()
        return clean

    def run(self) -> int:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        readers = self._start()
        while not self.stop_requested.wait(0.2):
            exited = {name: process for name, process in self.processes.items() if process.poll() is not None}
            if exited:
                for name, process in exited.items():
                    self.output.say(f"{name} exited with status {process.returncode}: stopping the others")
                break
        requested = self.stop_requested.is_set()
        clean = self._stop()
        for reader in readers:
            reader.join(timeout=5)
        for name, process in self.processes.items():
            self.output.say(f"{name} stopped (status {process.returncode})")
        return 0 if requested and clean else 1


def main() -> int:
    host = os.environ.get("BIND_HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    if port_taken(host, port):
        print(
            f"\nPort {port} on {host} is already in use, probably by an earlier `make run` still running.\n"
            f"  Find the process:  {find_listener_command(port)}\n"
            f"  then stop it (kill <pid>), or use another port:  make run PORT={port + 1}\n",
            file=sys.stderr,
        )
        return 1
    # The programs (gunicorn, celery) come from the environment this script runs in, e.g. .venv.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])
    env = {**os.environ, "PATH": path, "PORT": str(port), "BIND_HOST": host, "PYTHONUNBUFFERED": "1"}
    with Terminal():
        return Launcher(procfile(ROOT / "Procfile"), env).run()


if __name__ == "__main__":
    sys.exit(main())
