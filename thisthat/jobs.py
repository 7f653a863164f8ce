"""Summaries of background jobs: timed from their creation, logged as one structured line when the
job ends, and returned as the task's result and the command's summary."""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Self
from uuid import UUID


@dataclass
class JobSummary:
    """Subclasses add their counters; `as_dict` renders any of them as JSON-safe values (a Counter
    as a dict plus its `<name>_total`)."""

    duration_seconds: float = field(default=0.0, kw_only=True)
    _started: float = field(default_factory=time.monotonic, init=False, repr=False, compare=False, kw_only=True)

    def finished(self, logger: logging.Logger, message: str) -> Self:
        """Stop the clock and log `message` with the summary."""
        self.duration_seconds = time.monotonic() - self._started
        logger.info(message, extra={"summary": self.as_dict()})
        return self

    def as_dict(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.startswith("_"):
                continue
            if isinstance(value, Counter):
                rendered[item.name] = dict(value)
                rendered[f"{item.name}_total"] = sum(value.values())
            elif isinstance(value, Decimal | UUID):
                rendered[item.name] = str(value)
            elif isinstance(value, float):
                rendered[item.name] = round(value, 3)
            else:
                rendered[item.name] = value
        return rendered
