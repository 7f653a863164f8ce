from thisthat.errors import Conflict, DomainError, NotFound, TokenInvalid


class InvalidCredentials(DomainError):
    code, status, message = "INVALID_CREDENTIALS", 401, "Invalid email or password."


class UsernameTaken(Conflict):
    code, message = "USERNAME_TAKEN", "That username is already taken."


class EmailTaken(Conflict):
    code, message = "EMAIL_TAKEN", "An account with that email already exists."


class InvalidReferralCode(DomainError):
    code, status, message = "INVALID_REFERRAL_CODE", 400, "That referral code does not exist."


class UserNotFound(NotFound):
    code, message = "USER_NOT_FOUND", "User not found."


class SessionNotFound(NotFound):
    code, message = "SESSION_NOT_FOUND", "Session not found."


class SessionEnded(TokenInvalid):
    """A token of a family that has ended: signed out, revoked, password changed, or reuse detected."""

    message = "This sign-in has ended (signed out, revoked, or the password changed); sign in again."

    def __init__(self) -> None:
        super().__init__(details={"reason": "session_ended"})


class RefreshTokenReused(TokenInvalid):
    """A refresh token presented again after the grace window: theft is assumed."""

    message = "This refresh token was already used; every token of its sign-in has been revoked."

    def __init__(self) -> None:
        super().__init__(details={"reason": "refresh_token_reused"})


class AccountDisabled(DomainError):
    code, status, message = "ACCOUNT_DISABLED", 403, "This account has been deactivated."


class PasswordAlreadySet(Conflict):
    code, message = "PASSWORD_ALREADY_SET", "This account already has a password; change it with /auth/password/change."


class LastSignInMethod(Conflict):
    code, message = (
        "LAST_SIGN_IN_METHOD",
        "X is this account's only way to sign in; add an email and password first (POST /users/me/password).",
    )


# --- Sign in with X --------------------------------------------------------------------------
class XNotConfigured(DomainError):
    code, status, message = "X_NOT_CONFIGURED", 503, "Sign in with X is not configured on this server."


class InvalidRedirect(DomainError):
    code, status, message = "INVALID_REDIRECT", 400, "The redirect must be a path on the frontend, like /markets."


class XStateInvalid(DomainError):
    code, status, message = "X_STATE_INVALID", 400, "This sign-in attempt is unknown, expired or already used."


class XAccessDenied(DomainError):
    code, status, message = "X_ACCESS_DENIED", 403, "Access to the X account was not granted."


class XExchangeFailed(DomainError):
    code, status, message = "X_EXCHANGE_FAILED", 400, "X did not accept the sign-in."


class XUnavailable(DomainError):
    code, status, message = "X_UNAVAILABLE", 503, "X is unreachable or too slow right now; try again shortly."


class XAccountTaken(Conflict):
    code, message = "X_ACCOUNT_TAKEN", "That X account is linked to another THISTHAT account."


class XAlreadyLinked(Conflict):
    code, message = "X_ALREADY_LINKED", "This account is linked to a different X account; unlink it first."


class XNotLinked(NotFound):
    code, message = "X_NOT_LINKED", "No X account is linked to this account."


class XCodeInvalid(DomainError):
    code, status, message = "X_CODE_INVALID", 400, "This sign-in code is unknown, expired or already used."
