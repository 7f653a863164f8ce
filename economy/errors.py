from thisthat.errors import Conflict, DomainError


class InsufficientBalance(DomainError):
    code, status, message = "INSUFFICIENT_BALANCE", 400, "Insufficient balance."


class BalanceLimit(Conflict):
    code, message = "BALANCE_LIMIT", "This would push the balance over the maximum allowed."


class DuplicateLedgerPosting(Conflict):
    code, message = "DUPLICATE_POSTING", "This credit movement has already been recorded."


class DailyRewardClaimed(Conflict):
    code, message = "DAILY_REWARD_CLAIMED", "Today's daily reward has already been claimed."


class PaymentFailed(DomainError):
    code, status, message = "PAYMENT_FAILED", 402, "The payment was declined."


class AccountSuspended(DomainError):
    code, status = "ACCOUNT_SUSPENDED", 403
    message = (
        "This account is suspended: it can sign in and read, but not bet, cash out, claim, buy credits or trade stocks."
    )
