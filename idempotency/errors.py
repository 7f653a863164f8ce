from thisthat.errors import Conflict


class IdempotencyConflict(Conflict):
    code, message = "IDEMPOTENCY_CONFLICT", "This Idempotency-Key was already used with a different request."
