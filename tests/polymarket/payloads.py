"""Real recorded Polymarket payloads (copied from the team's shared folder) and variants of them."""

import copy
import json
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str):
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def gamma_open(**changes) -> dict:
    """The recorded open Yes/No Gamma market, with `changes` applied (None deletes a key)."""
    row = copy.deepcopy(load("gamma_market_open_binary"))
    for key, value in changes.items():
        if value is None:
            row.pop(key, None)
        else:
            row[key] = value
    return row


def gamma_rows(count: int, *, start: int = 0, volume_24h_from: float = 1_000_000.0) -> list[dict]:
    """`count` distinct open markets derived from the recorded one, busiest first."""
    return [
        gamma_open(
            id=str(600000 + n),
            conditionId=f"0x{n:064x}",
            question=f"Market number {n}?",
            slug=f"market-number-{n}",
            clobTokenIds=json.dumps([f"{n}0001", f"{n}0002"]),
            volume24hr=volume_24h_from - n,
        )
        for n in range(start, start + count)
    ]
