"""The domain side of the error contract (SPEC §4): the exceptions services raise, each with the
code, status and message the client gets. `thisthat.handlers` renders them, and every other failure,
as {"error", "code", "statusCode", "details"}."""

from typing import Any


class DomainError(Exception):
    """A refusal the client can act on. Subclasses fix `code`, `status` and the default message."""

    code = "INTERNAL_ERROR"
    status = 500
    message = "Something went wrong."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.message
        self.details = details or {}
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        """HTTP headers the response carries with the envelope."""
        return {}


class ValidationFailed(DomainError):
    code, status, message = "VALIDATION_ERROR", 400, "Invalid input."

    @classmethod
    def on(cls, field: str, message: str) -> "ValidationFailed":
        return cls(message, details={field: [message]})


class TokenInvalid(DomainError):
    code, status, message = "TOKEN_INVALID", 401, "Token is invalid, expired or revoked."


class PermissionDenied(DomainError):
    code, status, message = "PERMISSION_DENIED", 403, "You do not have permission to perform this action."


class NotFound(DomainError):
    code, status, message = "NOT_FOUND", 404, "Not found."


class Conflict(DomainError):
    status = 409


class RetryLater(DomainError):
    """A refusal that tells the client when to try again (`Retry-After` and `details.retryAfter`)."""

    def __init__(self, message: str | None = None, *, retry_after: int, details: dict[str, Any] | None = None):
        self.retry_after = max(1, retry_after)
        super().__init__(message, details={"retryAfter": self.retry_after, **(details or {})})

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimited(RetryLater):
    """A limit enforced by a service rather than by a throttle (e.g. purchases per hour)."""

    code, status, message = "RATE_LIMIT_EXCEEDED", 429, "Too many requests; try again later."


class ServiceUnavailable(RetryLater):
    """One of our own dependencies (the cache, the broker) is down and the request must not go on
    without it, e.g. a login whose attempt counter cannot be checked."""

    code, status, message = "SERVICE_UNAVAILABLE", 503, "Temporarily unavailable; try again shortly."


def envelope(message: str, code: str, status: int, details: Any = None) -> dict[str, Any]:
    return {"error": message, "code": code, "statusCode": status, "details": details or {}}
