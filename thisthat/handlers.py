"""The rendering side of the error contract (SPEC §4): every failure — a domain error, DRF's and
simplejwt's exceptions, Django's 400/403/404/500 and CSRF failures, and anything unexpected — becomes
{"error", "code", "statusCode", "details"}."""

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from .errors import DomainError, PermissionDenied, TokenInvalid, envelope
from .logging import request_id_var

logger = logging.getLogger("thisthat.errors")  # the logger name operators already alert on


# DRF exceptions whose code the spec names differently from DRF's `default_code`.
_DRF_CODES: list[tuple[type[drf.APIException], str]] = [
    (drf.ValidationError, "VALIDATION_ERROR"),
    (drf.ParseError, "VALIDATION_ERROR"),
    (drf.NotAuthenticated, "NOT_AUTHENTICATED"),
    (drf.PermissionDenied, "PERMISSION_DENIED"),
    (drf.NotFound, "NOT_FOUND"),
    (drf.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (drf.Throttled, "RATE_LIMIT_EXCEEDED"),
]
# Authentication failures that mean "the header is not a bearer token at all".
_MALFORMED_AUTH_CODES = {"bad_authorization_header"}


def _drf_error(exc: drf.APIException) -> tuple[str, str, Any]:
    if isinstance(exc, drf.AuthenticationFailed):
        # simplejwt puts its own reason in detail["code"]; DRF's get_codes() would hide it.
        code = str(exc.detail.get("code", "")) if isinstance(exc.detail, dict) else ""
        if code in _MALFORMED_AUTH_CODES:
            return "NOT_AUTHENTICATED", "Authorization header must be 'Bearer <accessToken>'.", {}
        return "TOKEN_INVALID", TokenInvalid.message, {}
    code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), None) or str(exc.default_code).upper()
    if isinstance(exc, drf.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"nonFieldErrors": exc.detail}
        return code, _first_message(details) or "Invalid input.", details
    if isinstance(exc, drf.Throttled):
        return code, "Too many requests; try again later.", {"retryAfter": _retry_after(exc)}
    message = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
    return code, str(message), {}


def _retry_after(exc: drf.Throttled) -> int | None:
    """Whole seconds, rounded up, so a client that waits that long is let in."""
    return None if exc.wait is None else math.ceil(exc.wait)


def _first_message(details: Any) -> str | None:
    """The first human message in DRF's nested error structure, to headline the envelope."""
    if isinstance(details, dict):
        for value in details.values():
            if (found := _first_message(value)) is not None:
                return found
        return None
    if isinstance(details, list):
        for value in details:
            if (found := _first_message(value)) is not None:
                return found
        return None
    return str(details)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception raised in an API view ends here."""
    headers: dict[str, str] = {}
    if isinstance(exc, (InvalidToken, TokenError)):
        exc = TokenInvalid()
    if isinstance(exc, DomainError):
        status, code, message, details = exc.status, exc.code, exc.message, exc.details
        headers.update(exc.headers())
    elif isinstance(exc, Http404):
        status, code, message, details = 404, "NOT_FOUND", "Not found.", {}
    elif isinstance(exc, RequestDataTooBig):
        status, code, message, details = 413, "PAYLOAD_TOO_LARGE", "Request body is too large.", {}
    elif isinstance(exc, SuspiciousOperation):
        status, code, message, details = 400, "VALIDATION_ERROR", "Bad request.", {}
    elif isinstance(exc, DjangoPermissionDenied):
        status, code, message, details = 403, PermissionDenied.code, PermissionDenied.message, {}
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        code, message, details = _drf_error(exc)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(_retry_after(exc))
    else:
        return _internal_error_response(exc)
    if status == 401 and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    set_rollback()
    return Response(envelope(message, code, status, details), status=status, headers=headers)


def _internal_error_response(exc: Exception) -> Response:
    request_id = request_id_var.get()
    logger.exception("unhandled exception", exc_info=exc)
    set_rollback()
    body = envelope("Internal server error.", "INTERNAL_ERROR", 500, {"requestId": request_id})
    return Response(body, status=500)


# --- Django-level handlers (URLs no DRF view matched, and faults outside DRF) -----------------
def _json(status: int, code: str, message: str, details: dict | None = None) -> JsonResponse:
    return JsonResponse(envelope(message, code, status, details), status=status)


def bad_request(request, exception=None):
    return _json(400, "VALIDATION_ERROR", "Bad request.")


def permission_denied(request, exception=None):
    return _json(403, PermissionDenied.code, PermissionDenied.message)


def page_not_found(request, exception=None):
    return _json(404, "NOT_FOUND", f"No endpoint at {request.path}.")


@csrf_exempt
def unknown_endpoint(request, *args, **kwargs):
    """The last URL pattern: with DEBUG on Django would answer an unknown URL with an HTML page."""
    return page_not_found(request)


def server_error(request):
    return _json(500, "INTERNAL_ERROR", "Internal server error.", {"requestId": getattr(request, "request_id", None)})


def csrf_failure(request, reason=""):
    return _json(403, PermissionDenied.code, f"CSRF verification failed: {reason}")
