"""A stand-in X (Twitter) for "Sign in with X" without X credentials: OAuth 2.0 authorization code
with PKCE, as X serves it, on loopback. Standard library only.

For `make run` (two terminals; `make x-standin` runs the first command):

    python scripts/x_standin.py --port 8001            # prints the lines below
    X_CLIENT_ID=standin-client X_CLIENT_SECRET=standin-secret \\
    X_AUTHORIZE_URL=http://127.0.0.1:8001/i/oauth2/authorize \\
    X_TOKEN_URL=http://127.0.0.1:8001/2/oauth2/token X_USERINFO_URL=http://127.0.0.1:8001/2/users/me \\
    FRONTEND_URL=http://127.0.0.1:8001/app make run

then open http://127.0.0.1:8000/api/v1/auth/x in a browser. The consent page asks which X handle to
be (`--auto` consents at once as `--username`); `/app/...` stands in for the frontend and shows the
one-time code with the request that exchanges it.

In-process (tests):

    state = XStandinState(client_id="standin-client", client_secret="standin-secret")
    server, _thread = serve(port=0, state=state)
    state.sign_in_as(XUser(id="2244994945", username="alice", name="Alice"))
    state.deny_next()                # the next consent is refused (error=access_denied)
    state.hold("token")              # token requests wait until state.release() (timeouts)
    state.fail_next("users_me", 503) # the next users/me answers 503
    server.shutdown(); server.server_close()

Routes:
    GET  /i/oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state&code_challenge
         &code_challenge_method=S256 -> 302 to redirect_uri?state&code (or error=access_denied);
         a wrong client, a missing state or challenge, a method other than S256 or a scope without
         users.read -> redirect_uri?error=invalid_request (400 page when the client is unknown).
    POST /2/oauth2/token (form: grant_type=authorization_code, code, redirect_uri, code_verifier;
         client_id in the body for a public client, HTTP Basic for a confidential one)
         -> {token_type, expires_in, access_token, scope, refresh_token}; 401 for a bad client; 400
         invalid_grant for an unknown, used (codes work once) or expired (30 s) code, another
         redirect_uri, or a verifier whose S256 is not the code's challenge.
    GET  /2/users/me?user.fields=profile_image_url (Bearer) -> {"data": {id, name, username,
         profile_image_url}} (the picture only when asked for, as X does); 401 otherwise.
    GET  /app/...                    -> a stand-in frontend page showing the query it got (and the
                                        request that redeems a `code` or `linkCode`)
    GET  /_stats                     -> requests per route
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CODE_TTL_SECONDS = 30  # X's authorization codes live 30 seconds
TOKEN_TTL_SECONDS = 7200
HOLD_MAX_SECONDS = 30  # a held request is released after this at the latest


@dataclass(frozen=True)
class XUser:
    id: str
    username: str
    name: str = ""
    profile_image_url: str = ""

    def with_defaults(self) -> XUser:
        return XUser(
            id=self.id,
            username=self.username,
            name=self.name or self.username.replace("_", " ").title(),
            profile_image_url=self.profile_image_url
            or f"https://pbs.twimg.com/profile_images/{self.id}/{self.username}_normal.jpg",
        )


def user_for_handle(username: str) -> XUser:
    """A stable stand-in X user for a handle (the same handle is the same X account every time)."""
    digest = hashlib.sha256(username.lower().encode()).digest()
    return XUser(id=str(10**17 + int.from_bytes(digest[:7], "big")), username=username).with_defaults()


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    user: XUser
    expires_at: float


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class XStandinState:
    """What the stand-in knows (thread-safe): the registered client, who is signed in at "X", the
    codes and tokens it issued, and the misbehaviour asked for."""

    def __init__(self, *, client_id: str, client_secret: str = "", user: XUser | None = None, prompt: bool = False):
        self.client_id, self.client_secret, self.prompt = client_id, client_secret, prompt
        self.user = (user or user_for_handle("standin_user")).with_defaults()
        self._lock = threading.Lock()
        self._grants: dict[str, _Grant] = {}
        self._tokens: dict[str, XUser] = {}
        self._deny = 0
        self._failures: dict[str, list[int]] = {}
        self._holds: dict[str, threading.Event] = {}
        self.stats: Counter[str] = Counter()

    # --- what tests and the command line switch ------------------------------------------------
    def sign_in_as(self, user: XUser) -> None:
        with self._lock:
            self.user = user.with_defaults()

    def deny_next(self, count: int = 1) -> None:
        with self._lock:
            self._deny += count

    def fail_next(self, route: str, status: int, count: int = 1) -> None:
        with self._lock:
            self._failures.setdefault(route, []).extend([status] * count)

    def hold(self, route: str) -> None:
        """Requests to `route` ("token", "users_me") wait until release(): X being slow."""
        with self._lock:
            self._holds[route] = threading.Event()

    def release(self) -> None:
        with self._lock:
            holds, self._holds = self._holds, {}
        for event in holds.values():
            event.set()

    # --- what the handler asks ----------------------------------------------------------------------
    def count(self, route: str) -> None:
        with self._lock:
            self.stats[route] += 1

    def stats_snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.stats)

    def wait_if_held(self, route: str) -> None:
        with self._lock:
            event = self._holds.get(route)
        if event is not None:
            event.wait(HOLD_MAX_SECONDS)

    def failure_for(self, route: str) -> int | None:
        with self._lock:
            queue = self._failures.get(route)
            return queue.pop(0) if queue else None

    def consent_refused(self) -> bool:
        with self._lock:
            if self._deny:
                self._deny -= 1
                return True
            return False

    def grant(self, *, redirect_uri: str, challenge: str, scope: str, user: XUser) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                self.client_id, redirect_uri, challenge, scope, user, time.time() + CODE_TTL_SECONDS
            )
        return code

    def redeem(self, *, code: str, redirect_uri: str, verifier: str) -> tuple[dict[str, Any] | None, str]:
        """A token response for this code, or None and why not. A code is spent by any attempt."""
        with self._lock:
            grant = self._grants.pop(code, None)
        if grant is None:
            return None, "Value passed for the authorization code was invalid."
        if grant.expires_at < time.time():
            return None, "The authorization code has expired."
        if redirect_uri != grant.redirect_uri:
            return None, "Value passed for the redirect uri did not match the uri of the authorization code."
        if not verifier or s256(verifier) != grant.challenge:
            return None, "Value passed for the code verifier did not match the code challenge."
        access = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[access] = grant.user
        return {
            "token_type": "bearer",
            "expires_in": TOKEN_TTL_SECONDS,
            "access_token": access,
            "scope": grant.scope,
            "refresh_token": secrets.token_urlsafe(32) if "offline.access" in grant.scope.split() else None,
        }, ""

    def user_for_token(self, token: str) -> XUser | None:
        with self._lock:
            return self._tokens.get(token)


class _Handler(BaseHTTPRequestHandler):
    server: StandinServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    @property
    def state(self) -> XStandinState:
        return self.server.state

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path in ("/i/oauth2/authorize", "/i/oauth2/authorize/decide"):
            self.state.count("authorize")
            self._authorize(query, decided=parts.path.endswith("/decide"))
        elif parts.path == "/2/users/me":
            self.state.count("users_me")
            self._users_me(query)
        elif parts.path.startswith("/app"):
            self.state.count("app")
            self._frontend(parts.path, query)
        elif parts.path == "/_stats":
            self._json(200, self.state.stats_snapshot())
        else:
            self._json(404, {"title": "Not Found Error", "status": 404})

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/2/oauth2/token":
            self._json(404, {"title": "Not Found Error", "status": 404})
            return
        self.state.count("token")
        length = int(self.headers.get("Content-Length") or 0)
        form = {key: values[-1] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        self._token(form)

    # --- routes ------------------------------------------------------------------------------------
    def _authorize(self, query: dict[str, str], *, decided: bool) -> None:
        redirect_uri, state = query.get("redirect_uri", ""), query.get("state", "")
        if query.get("client_id") != self.state.client_id or not redirect_uri.startswith(("http://", "https://")):
            self._page(400, "Something went wrong", "<p>You weren't able to give access to the App.</p>")
            return
        if (
            query.get("response_type") != "code"
            or not state
            or not query.get("code_challenge")
            or query.get("code_challenge_method") != "S256"
            or "users.read" not in query.get("scope", "").split()
        ):
            self._back(redirect_uri, error="invalid_request", state=state)
            return
        if self.state.prompt and not decided:
            self._consent_page(query)
            return
        if query.get("decision") == "deny" or self.state.consent_refused():
            self._back(redirect_uri, error="access_denied", state=state)
            return
        user = user_for_handle(query["username"]) if decided and query.get("username") else self.state.user
        code = self.state.grant(
            redirect_uri=redirect_uri, challenge=query["code_challenge"], scope=query["scope"], user=user
        )
        self._back(redirect_uri, state=state, code=code)

    def _token(self, form: dict[str, str]) -> None:
        self.state.wait_if_held("token")
        if (status := self.state.failure_for("token")) is not None:
            self._json(status, {"title": "Service Unavailable", "status": status})
            return
        if not self._client_authenticated(form):
            self._json(401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"})
            return
        if form.get("grant_type") != "authorization_code" or not form.get("code"):
            self._json(400, {"error": "invalid_request", "error_description": "Missing required parameter [code]."})
            return
        token, reason = self.state.redeem(
            code=form["code"], redirect_uri=form.get("redirect_uri", ""), verifier=form.get("code_verifier", "")
        )
        if token is None:
            self._json(400, {"error": "invalid_grant", "error_description": reason})
            return
        self._json(200, {key: value for key, value in token.items() if value is not None})

    def _client_authenticated(self, form: dict[str, str]) -> bool:
        header = self.headers.get("Authorization", "")
        if self.state.client_secret:
            if not header.startswith("Basic "):
                return False
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return client_id == self.state.client_id and secret == self.state.client_secret
        return form.get("client_id") == self.state.client_id

    def _users_me(self, query: dict[str, str]) -> None:
        self.state.wait_if_held("users_me")
        if (status := self.state.failure_for("users_me")) is not None:
            self._json(status, {"title": "Service Unavailable", "status": status})
            return
        header = self.headers.get("Authorization", "")
        user = self.state.user_for_token(header[7:]) if header.startswith("Bearer ") else None
        if user is None:
            self._json(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
            return
        data = {"id": user.id, "name": user.name, "username": user.username}
        if "profile_image_url" in query.get("user.fields", "").split(","):
            data["profile_image_url"] = user.profile_image_url
        self._json(200, {"data": data})

    def _consent_page(self, query: dict[str, str]) -> None:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
            for key, value in query.items()
        )
        handle = html.escape(self.state.user.username)
        self._page(
            200,
            "Authorize THISTHAT to access your account?",
            f'<form action="/i/oauth2/authorize/decide" method="get">{hidden}'
            f'<p>Sign in to the stand-in X as @<input name="username" value="{handle}" pattern="[A-Za-z0-9_]{{1,15}}">'
            '</p><button name="decision" value="allow">Authorize app</button> '
            '<button name="decision" value="deny">Cancel</button></form>',
        )

    def _frontend(self, path: str, query: dict[str, str]) -> None:
        rows = "".join(f"<li><code>{html.escape(k)}={html.escape(v)}</code></li>" for k, v in query.items())
        hint = ""
        for param, endpoint in (("code", "/api/v1/auth/x/exchange"), ("linkCode", "/api/v1/auth/x/link/confirm")):
            if param in query:
                body = html.escape(json.dumps({"code": query[param]}))
                hint = f"<p>Within 60 s: <code>POST {endpoint}</code> with <code>{body}</code></p>"
        self._page(200, f"Stand-in frontend: {html.escape(path)}", f"<ul>{rows}</ul>{hint}")

    # --- answers -----------------------------------------------------------------------------------
    def _back(self, redirect_uri: str, **params: str) -> None:
        separator = "&" if "?" in redirect_uri else "?"
        self.send_response(302)
        self.send_header("Location", redirect_uri + separator + urlencode(params))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _page(self, status: int, title: str, body: str) -> None:
        page = f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>{body}"
        self._send(status, page.encode(), "text/html; charset=utf-8")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test): nothing to answer


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: XStandinState, *, verbose: bool = False):
        super().__init__(address, _Handler)
        self.state, self.verbose = state, verbose


def serve(
    *, port: int = 0, state: XStandinState, host: str = "127.0.0.1", verbose: bool = False
) -> tuple[StandinServer, threading.Thread]:
    """Start serving in a daemon thread (port 0 picks a free port). Stop with server.shutdown()."""
    server = StandinServer((host, port), state, verbose=verbose)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.name = "x-standin"
    thread.start()
    return server, thread


def settings_for(base_url: str, state: XStandinState) -> dict[str, str]:
    """The environment that points our API at this stand-in."""
    return {
        "X_CLIENT_ID": state.client_id,
        "X_CLIENT_SECRET": state.client_secret,
        "X_AUTHORIZE_URL": f"{base_url}/i/oauth2/authorize",
        "X_TOKEN_URL": f"{base_url}/2/oauth2/token",
        "X_USERINFO_URL": f"{base_url}/2/users/me",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--client-id", default="standin-client")
    parser.add_argument("--client-secret", default="standin-secret", help="empty: a public client")
    parser.add_argument("--username", default="standin_user", help="the X handle --auto consents as")
    parser.add_argument("--auto", action="store_true", help="consent at once, without the consent page")
    parser.add_argument("--deny", action="store_true", help="refuse every consent (error=access_denied)")
    args = parser.parse_args(argv)

    state = XStandinState(
        client_id=args.client_id,
        client_secret=args.client_secret,
        user=user_for_handle(args.username),
        prompt=not args.auto,
    )
    if args.deny:
        state.deny_next(10**9)
    server, thread = serve(port=args.port, state=state, host=args.host, verbose=True)
    host, port = server.server_address[:2]
    base_url = f"http://{host}:{port}"
    print(f"X stand-in at {base_url} ({'auto-consent as @' + state.user.username if args.auto else 'consent page'})")
    print("Add to .env (or the environment of `make run`):")
    for name, value in {**settings_for(base_url, state), "FRONTEND_URL": f"{base_url}/app"}.items():
        print(f"{name}={value}")
    print("Then open http://127.0.0.1:8000/api/v1/auth/x in a browser.", flush=True)
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
