"""`Idempotency-Key` handling for unsafe endpoints (SPEC §4), reusable by any app.

    def post(self, request):
        data = ...validated input...
        return idempotent(request, scope="purchases", run=lambda: Response(..., status=201))

Without the header `run()` is simply called. With it, the key row is inserted first, `run()` is
called and its response stored, all in one transaction:

- a retry after the first request committed finds the key and gets the stored response again;
- a retry while the first is still running waits on the unique index until it commits, then does
  the same (so 20 parallel copies of one request do the work once and answer 20 times alike);
- the same key with a different method, path or body is 409 IDEMPOTENCY_CONFLICT;
- a refusal (a 4xx domain error such as INSUFFICIENT_BALANCE) is kept and replayed like a success,
  so a retry never acts later on what was refused; a 429 or an unexpected error rolls everything
  back and leaves the key unused, so a retry runs again.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from thisthat.errors import DomainError, ValidationFailed
from thisthat.handlers import api_exception_handler

from .errors import IdempotencyConflict
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any string of 1 to 255 characters. A retry with the same key and body returns the first "
    "response and does nothing again; the same key with a different body is 409 IDEMPOTENCY_CONFLICT. "
    "Keys are per user and kept at least 24 hours.",
)


def _key_from(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed.on("idempotencyKey", f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.")
    return key


def request_fingerprint(request: Request) -> str:
    """sha256 of the method, the path and the parsed body in canonical JSON."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _dump(data: Any) -> str:
    """The body as JSON text (Decimals as numbers, as the renderer writes them)."""
    return json.dumps(data, cls=JSONEncoder)


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.request_fingerprint != fingerprint:
        raise IdempotencyConflict(details={"idempotencyKey": [IdempotencyConflict.message]})
    return Response(json.loads(record.response_body), status=record.response_status, headers={REPLAY_HEADER: "true"})


class _KeyTaken(Exception):
    pass


def _first_response(request: Request, run: Callable[[], Response]) -> Response:
    """The response to keep for the key: the work's, or its refusal. A refusal is kept (a retry gets
    it again and nothing happens) unless it says to retry later: 429 and 5xx leave the key unused."""
    try:
        with transaction.atomic():  # a refused piece of work rolls back alone; the key row stays
            return run()
    except DomainError as exc:
        if exc.status == 429 or exc.status >= 500:
            raise
        return api_exception_handler(exc, {"request": request})


def idempotent(request: Request, *, scope: str, run: Callable[[], Response]) -> Response:
    key = _key_from(request)
    if key is None:
        return run()
    fingerprint = request_fingerprint(request)
    user_id = request.user.pk
    try:
        with transaction.atomic():
            try:
                # Blocks on the unique index while another transaction holds the same key.
                record = IdempotencyKey.objects.create(
                    user_id=user_id, key=key, scope=scope, request_fingerprint=fingerprint
                )
            except IntegrityError as exc:
                raise _KeyTaken from exc
            response = _first_response(request, run)
            record.response_status = response.status_code
            record.response_body = _dump(response.data)
            record.save(update_fields=["response_status", "response_body"])
            response.data = json.loads(record.response_body)  # render exactly what a replay renders
            return response
    except _KeyTaken:
        # The holder committed: its row is visible now (READ COMMITTED reads the latest commit).
        return _replay(IdempotencyKey.objects.get(user_id=user_id, key=key), fingerprint)
