"""API clients that come from a given address and device (the activity signals), and sign-ups
through the API with them."""

from rest_framework.test import APIClient

from accounts.models import User

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
STRONG_PASSWORD = "s3cure-Passw0rd!"


def client_from(address: str = "127.0.0.1", device: str | None = None, token: str | None = None) -> APIClient:
    """A client whose requests come from `address` (REMOTE_ADDR) with `device` in X-Device-Id."""
    headers = {"REMOTE_ADDR": address}
    if device is not None:
        headers["HTTP_X_DEVICE_ID"] = device
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client = APIClient()
    client.credentials(**headers)
    return client


def sign_up(username: str, *, address: str = "127.0.0.1", device: str | None = None, code: str = "") -> APIClient:
    """Register through the API from `address`/`device`; return a client signed in as the new account
    (from the same address and device)."""
    body = {"username": username, "email": f"{username}@example.com", "password": STRONG_PASSWORD}
    if code:
        body["referralCode"] = code
    response = client_from(address, device).post(REGISTER, body, format="json")
    assert response.status_code == 201, response.json()
    return client_from(address, device, token=response.json()["accessToken"])


def account(username: str) -> User:
    return User.objects.get(username=username)
