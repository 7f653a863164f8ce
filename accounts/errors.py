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
