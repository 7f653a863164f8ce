from thisthat.errors import Conflict, DomainError


class InsufficientBalance(DomainError):
    code, status, message = "INSUFFICIENT_BALANCE", 400, "Insufficient balance."


class BalanceLimit(Conflict):
    code, message = "BALANCE_LIMIT", "This would push the balance over the maximum allowed."


class DuplicateLedgerPosting(Conflict):
    code, message = "DUPLICATE_POSTING", "This credit movement has already been recorded."
