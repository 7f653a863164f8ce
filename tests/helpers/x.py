"""Sign in with X test helpers: drive the flow the way a browser does, against the stand-in X."""

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
from rest_framework.test import APIClient

from scripts.x_standin import XStandinState

FRONTEND = "https://app.thisthat.test"
START = "/api/v1/auth/x"
CALLBACK = "/api/v1/auth/x/callback"
EXCHANGE = "/api/v1/auth/x/exchange"
LINK = "/api/v1/auth/x/link"
LINK_CONFIRM = "/api/v1/auth/x/link/confirm"
CLIENT_ID, CLIENT_SECRET = "standin-client", "standin-secret"


@dataclass
class StandinX:
    state: XStandinState
    base_url: str


def query_of(url: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def frontend_landing(response) -> tuple[str, dict[str, str]]:
    """(path, query) of a redirect to the frontend; fails for any other answer."""
    assert response.status_code == 302, getattr(response, "content", b"")[:500]
    location = response["Location"]
    assert location.startswith(FRONTEND + "/"), location
    return urlsplit(location).path, query_of(location)


def start(client: APIClient, **params: str):
    return client.get(START, params)


def visit_x(authorize_url: str) -> str:
    """What the browser does at X: open the consent page, get sent back to our callback URL."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def callback(client: APIClient, callback_url: str):
    parts = urlsplit(callback_url)
    assert parts.path == CALLBACK, callback_url
    return client.get(f"{parts.path}?{parts.query}")


def authorize_url_for(client: APIClient, **params: str) -> str:
    response = start(client, **params)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def exchange(client: APIClient, code: str):
    return client.post(EXCHANGE, {"code": code}, format="json")


def sign_in(client: APIClient | None = None, **params: str) -> dict:
    """The whole flow for the X user signed in at the stand-in; returns the exchange's body."""
    client = client or APIClient()
    landing = callback(client, visit_x(authorize_url_for(client, **params)))
    _, query = frontend_landing(landing)
    assert "code" in query, query
    response = exchange(client, query["code"])
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(access_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return client
