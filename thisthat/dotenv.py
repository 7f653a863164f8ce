"""The project's `.env` file, read under the process environment (a variable set there wins)."""

from pathlib import Path

import environ

DOTENV = Path(__file__).resolve().parent.parent / ".env"


def load_dotenv() -> None:
    """Read `.env`, once per process is enough but more is harmless: the settings read it, and so do
    gunicorn's and Celery's main processes before them, to choose their metrics folder."""
    if DOTENV.exists():
        environ.Env.read_env(DOTENV)
