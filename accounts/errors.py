from thisthat.errors import Conflict, DomainError, NotFound


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
