"""Polymarket test helpers: the fake upstream hosts and a clock that only moves when code sleeps."""

import json

import responses

GAMMA = "https://gamma.test"


CLOB = "https://clob.test"
KEYSET = f"{GAMMA}/markets/keyset"


class FakeClock:
    """Time that only moves when the code under test sleeps (or a test advances it)."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def serve_pages(*pages: list[dict], last_cursor: str | None = None) -> None:
    """Register a keyset listing: page i answers to after_cursor=c{i} (page 0 to no cursor)."""

    def answer(request):
        cursor = request.params.get("after_cursor")
        index = 0 if cursor is None else int(cursor[1:])
        body = {"markets": pages[index]}
        if index + 1 < len(pages):
            body["next_cursor"] = f"c{index + 1}"
        elif last_cursor is not None:
            body["next_cursor"] = last_cursor
        return 200, {}, json.dumps(body)

    responses.add_callback(responses.GET, KEYSET, callback=answer)
