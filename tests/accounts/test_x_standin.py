"""The stand-in X (scripts/x_standin.py) is only a fair test of our client if it refuses what X
refuses: a wrong PKCE verifier, a reused code, a wrong client, a missing token."""

from urllib.parse import urlencode

import pytest
import requests

from scripts.x_standin import s256
from tests.helpers.x import CLIENT_ID, CLIENT_SECRET, query_of

REDIRECT_URI = "http://testserver/api/v1/auth/x/callback"
VERIFIER = "k" * 50


@pytest.fixture
def x(x_standin):
    base = x_standin.base_url

    def authorize(**overrides) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "tweet.read users.read offline.access",
            "state": "state-1",
            "code_challenge": s256(VERIFIER),
            "code_challenge_method": "S256",
            **overrides,
        }
        response = requests.get(f"{base}/i/oauth2/authorize?{urlencode(params)}", allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        assert response.headers["Location"].startswith(REDIRECT_URI + "?")
        return query_of(response.headers["Location"])

    def token(code: str, verifier: str = VERIFIER, auth=(CLIENT_ID, CLIENT_SECRET)):
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
        return requests.post(f"{base}/2/oauth2/token", data=form, auth=auth, timeout=5)

    def me(access_token: str | None, fields: str = "profile_image_url"):
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        return requests.get(f"{base}/2/users/me", params={"user.fields": fields}, headers=headers, timeout=5)

    x_standin.authorize, x_standin.token, x_standin.me = authorize, token, me
    return x_standin


def test_the_right_verifier_gets_tokens_and_the_user(x):
    answer = x.authorize()
    assert answer["state"] == "state-1"

    token = x.token(answer["code"])

    assert token.status_code == 200
    assert {"access_token", "refresh_token", "expires_in", "scope"} <= set(token.json())
    user = x.me(token.json()["access_token"]).json()["data"]
    assert user["username"] == x.state.user.username
    assert user["profile_image_url"].startswith("https://")
    assert "profile_image_url" not in x.me(token.json()["access_token"], fields="").json()["data"]


def test_a_wrong_verifier_is_refused(x):
    response = x.token(x.authorize()["code"], verifier="w" * 50)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_works_once(x):
    code = x.authorize()["code"]
    assert x.token(code).status_code == 200

    assert x.token(code).json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused(x):
    assert x.token(x.authorize()["code"], auth=(CLIENT_ID, "nope")).status_code == 401


@pytest.mark.parametrize(
    "overrides",
    [{"code_challenge_method": "plain"}, {"code_challenge": ""}, {"state": ""}, {"scope": "tweet.read"}],
)
def test_authorize_refuses_requests_without_pkce_s256_state_or_users_read(x, overrides):
    assert x.authorize(**overrides)["error"] == "invalid_request"


def test_users_me_needs_a_token_it_issued(x):
    assert x.me(None).status_code == 401
    assert x.me("made-up").status_code == 401


def test_deny_next_refuses_one_consent(x):
    x.state.deny_next()

    assert x.authorize() == {"error": "access_denied", "state": "state-1"}
    assert "code" in x.authorize()
