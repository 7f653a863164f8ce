import pytest

from scripts.x_standin import XStandinState, serve, settings_for
from tests.helpers.x import CALLBACK, CLIENT_ID, CLIENT_SECRET, FRONTEND, StandinX


@pytest.fixture
def x_standin(settings):
    """A stand-in X on loopback, with our settings pointing at it (a confidential client)."""
    state = XStandinState(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    server, _thread = serve(port=0, state=state)
    base_url = "http://{}:{}".format(*server.server_address[:2])
    for name, value in settings_for(base_url, state).items():
        setattr(settings, name, value)
    settings.X_REDIRECT_URI = f"http://testserver{CALLBACK}"
    settings.FRONTEND_URL = FRONTEND
    yield StandinX(state=state, base_url=base_url)
    state.release()
    server.shutdown()
    server.server_close()
