import pytest

from polymarket.client import PolymarketClient, RetryPolicy
from polymarket.resilience import CircuitBreaker, RateLimiter
from tests.helpers.polymarket import CLOB, GAMMA, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock):
    def make(*, per_minute: int = 1000, attempts: int = 4, rate_limit_wait: float = 60.0) -> PolymarketClient:
        return PolymarketClient(
            gamma_url=GAMMA,
            clob_url=CLOB,
            breaker=CircuitBreaker(name="pm-test", failure_threshold=5, reset_timeout=60, clock=clock.time),
            limiter=RateLimiter(name="pm-test", per_minute=per_minute, clock=clock.time, sleep=clock.sleep),
            retry=RetryPolicy(attempts=attempts),
            rate_limit_wait=rate_limit_wait,
            sleep=clock.sleep,
            jitter=lambda: 0.5,
        )

    return make


@pytest.fixture
def client(make_client) -> PolymarketClient:
    return make_client()
