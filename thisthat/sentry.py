"""Error tracking with Sentry (sentry-sdk), on only when SENTRY_DSN is set (settings). Events carry
the request id (as X-Request-ID answers it) or the Celery task id and name, and no personal data:
the SDK's own `data_collection` leaves out the user, the address, cookies and request bodies, and
filters the headers that identify a person or carry a credential."""

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from .logging import request_id_var, task_var

# Header names containing these are sent as "[Filtered]", besides the SDK's own list (authorization,
# tokens, cookies, sessions...): the client's address as proxies pass it, and its device id.
IDENTIFYING_HEADERS = ["forwarded", "-ip", "remote-", "via", "-user", "device-id"]


def attach_context(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Tag the event with the request or task it happened in."""
    tags = event.setdefault("tags", {})
    request_id = request_id_var.get()
    if request_id:
        tags["request_id"] = request_id
    task = task_var.get()
    if task is not None:
        tags["task_id"], tags["task"] = task
    return event


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # What send_default_pii=False meant, stricter (sentry-sdk 2.75 replaces that option with this):
        # no user or address, cookies, bodies, local variables or query parameters.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "denylist", "terms": IDENTIFYING_HEADERS}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        traces_sample_rate=traces_sample_rate,
        before_send=attach_context,
    )
