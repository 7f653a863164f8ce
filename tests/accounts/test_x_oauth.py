"""X's side of sign-in (accounts.x_oauth) against `responses` fixtures: what we send to X, and how
each kind of answer from X is classified. Plus the pure redirect rules."""

import base64
import hashlib
from urllib.parse import parse_qs

import pytest
import requests
import responses

from accounts.errors import InvalidRedirect, XExchangeFailed, XUnavailable
from accounts.x_oauth import authorization_url, identity_fetch
from accounts.x_services import frontend_url, redirect_path_clean
from tests.helpers.x import query_of

TOKEN_URL = "https://api.x.test/2/oauth2/token"
ME_URL = "https://api.x.test/2/users/me"
VERIFIER = "v" * 64
TOKEN = {"token_type": "bearer", "expires_in": 7200, "access_token": "at-1", "scope": "users.read"}
ME = {
    "data": {
        "id": "2244994945",
        "name": "X Dev",
        "username": "XDevelopers",
        "profile_image_url": "https://pbs.twimg.com/a.jpg",
    }
}


@pytest.fixture(autouse=True)
def x_settings(settings):
    settings.X_CLIENT_ID = "client-1"
    settings.X_CLIENT_SECRET = "secret-1"
    settings.X_REDIRECT_URI = "https://api.thisthat.test/api/v1/auth/x/callback"
    settings.X_AUTHORIZE_URL = "https://x.test/i/oauth2/authorize"
    settings.X_TOKEN_URL = TOKEN_URL
    settings.X_USERINFO_URL = ME_URL
    settings.FRONTEND_URL = "https://app.thisthat.test"
    return settings


def fetch():
    return identity_fetch(code="code-1", verifier=VERIFIER)


def form_of(call) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


# --- what we send -------------------------------------------------------------------------------------
def test_authorization_url_carries_the_s256_challenge_of_the_verifier():
    query = query_of(authorization_url(state="state-1", verifier=VERIFIER))

    expected = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == expected
    assert query["code_challenge_method"] == "S256"
    assert query["state"] == "state-1"
    assert query["scope"] == "tweet.read users.read offline.access"


@responses.activate
def test_confidential_client_sends_basic_auth_the_code_and_the_verifier(settings):
    responses.post(TOKEN_URL, json=TOKEN)
    responses.get(ME_URL, json=ME)

    identity = fetch()

    token_call, me_call = responses.calls
    assert token_call.request.headers["Authorization"] == "Basic " + base64.b64encode(b"client-1:secret-1").decode()
    form = form_of(token_call)
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "code-1"
    assert form["code_verifier"] == VERIFIER
    assert form["redirect_uri"] == settings.X_REDIRECT_URI
    assert "client_secret" not in form
    assert me_call.request.headers["Authorization"] == "Bearer at-1"
    assert "user.fields=profile_image_url" in me_call.request.url
    assert token_call.request.req_kwargs["timeout"] == (settings.X_CONNECT_TIMEOUT, settings.X_READ_TIMEOUT)
    assert me_call.request.req_kwargs["timeout"] == (settings.X_CONNECT_TIMEOUT, settings.X_READ_TIMEOUT)
    assert (identity.id, identity.username, identity.name) == ("2244994945", "XDevelopers", "X Dev")
    assert identity.avatar_url == "https://pbs.twimg.com/a.jpg"


@responses.activate
def test_public_client_sends_its_id_in_the_body_and_no_authorization(settings):
    settings.X_CLIENT_SECRET = ""
    responses.post(TOKEN_URL, json=TOKEN)
    responses.get(ME_URL, json=ME)

    fetch()

    token_call = responses.calls[0]
    assert "Authorization" not in token_call.request.headers
    assert form_of(token_call)["client_id"] == "client-1"


# --- how X's answers are read ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 400, "json": {"error": "invalid_grant", "error_description": "bad verifier"}}, XExchangeFailed),
        ({"status": 401, "json": {"error": "unauthorized_client"}}, XExchangeFailed),
        ({"status": 400, "body": "<html>bad request</html>"}, XExchangeFailed),
        ({"status": 200, "json": {"token_type": "bearer"}}, XExchangeFailed),
        ({"status": 429, "json": {"title": "Too Many Requests"}}, XUnavailable),
        ({"status": 503, "body": "<html>over capacity</html>"}, XUnavailable),
        ({"status": 200, "body": "not json"}, XUnavailable),
        ({"body": requests.ReadTimeout("slow")}, XUnavailable),
        ({"body": requests.ConnectionError("refused")}, XUnavailable),
    ],
)
@responses.activate
def test_token_endpoint_answers(answer, error):
    responses.post(TOKEN_URL, **answer)

    with pytest.raises(error):
        fetch()


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 401, "json": {"title": "Unauthorized"}}, XExchangeFailed),
        ({"status": 403, "json": {"title": "Forbidden"}}, XExchangeFailed),
        ({"status": 429, "json": {"title": "Too Many Requests"}}, XUnavailable),
        ({"status": 500, "json": {}}, XUnavailable),
        ({"status": 200, "body": "<html>"}, XUnavailable),
        ({"status": 200, "json": {"errors": [{"title": "Not Found Error"}]}}, XUnavailable),
        ({"status": 200, "json": {"data": {"id": 2244994945, "username": "n"}}}, XUnavailable),
        ({"status": 200, "json": {"data": {"id": "22449", "username": "bad handle!"}}}, XUnavailable),
        ({"status": 200, "json": [1, 2]}, XUnavailable),
        ({"body": requests.ReadTimeout("slow")}, XUnavailable),
    ],
)
@responses.activate
def test_users_me_answers(answer, error):
    responses.post(TOKEN_URL, json=TOKEN)
    responses.get(ME_URL, **answer)

    with pytest.raises(error):
        fetch()


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://pbs.twimg.com/a.jpg", True),
        ("http://pbs.twimg.com/a.jpg", False),
        ("javascript:alert(1)", False),
        ("https://pbs.twimg.com/" + "a" * 500, False),
        (None, False),
    ],
)
@responses.activate
def test_only_an_https_avatar_is_kept(url, kept):
    responses.post(TOKEN_URL, json=TOKEN)
    responses.get(ME_URL, json={"data": {**ME["data"], "profile_image_url": url}})

    assert fetch().avatar_url == (url if kept else "")


@responses.activate
def test_display_name_loses_control_characters_and_is_cut_to_100():
    responses.post(TOKEN_URL, json=TOKEN)
    responses.get(ME_URL, json={"data": {**ME["data"], "name": "  Evil\u202e\x00Name" + "x" * 200}})

    name = fetch().name

    assert name.startswith("EvilName") and len(name) == 100


# --- where the browser may be sent (pure) -------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/markets", "/markets/abc?tab=hot&x=1", "/a/b/c#frag", "/search?q=a%20b"])
def test_frontend_paths_are_accepted(path):
    assert redirect_path_clean(path) == path


@pytest.mark.parametrize("path", [None, ""])
def test_no_redirect_means_the_frontend_root(path):
    assert redirect_path_clean(path) == "/"


@pytest.mark.parametrize(
    "path",
    [
        *("https://evil.test", "//evil.test", "/\\evil.test", "evil.test/x", "javascript:x", "/a\nb", "/a b", "/\x7f"),
        *("/%2F%2Fevil.test", "/%5Cevil.test", "%2F%2Fevil.test", "/%0d%0aSet-Cookie:x"),
    ],
)
def test_anything_that_could_leave_the_frontend_is_refused(path):
    with pytest.raises(InvalidRedirect):
        redirect_path_clean(path)


def test_frontend_url_adds_our_parameters_and_replaces_same_named_ones():
    url = frontend_url("/m?tab=hot&code=planted", code="real")

    assert url == "https://app.thisthat.test/m?tab=hot&code=real"
