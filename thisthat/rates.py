"""Rate strings such as "30/min", parsed without Django so settings can validate them at startup."""

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_PERIODS |= {"d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/min' -> (30, 60). Raises ValueError for anything else."""
    count, _, period = rate.partition("/")
    seconds = _PERIODS.get(period.strip().lower())
    if not count.strip().isdigit() or seconds is None:
        raise ValueError(f"rate {rate!r} is not '<count>/<s|min|hour|day>'")
    return int(count), seconds
