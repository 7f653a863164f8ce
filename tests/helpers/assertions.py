"""Assertions every test package uses: the error envelope and the ledger reconciling."""

from economy.selectors import users_with_unreconciled_balance


def assert_error(response, status: int, code: str) -> dict:
    """The response is the spec's error envelope with this status and code."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"error", "code", "statusCode", "details"}, body
    assert body["code"] == code, body
    assert body["statusCode"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["details"], dict)
    return body


def assert_ledger_reconciles() -> None:
    assert list(users_with_unreconciled_balance()) == []
