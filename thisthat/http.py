"""Facts about an HTTP request that more than one layer needs (rate limits, the request log, the
activity signals of the anti-abuse rules)."""

import ipaddress
import re
from dataclasses import dataclass

from django.conf import settings

DEVICE_ID_HEADER = "X-Device-Id"
# A device id is the app's own random install id: kept only when short and plain, like a request id.
_SAFE_DEVICE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def client_address(request) -> str:
    """The caller's IP address, trusting exactly `NUM_PROXIES` proxies in front of the app.

    With 0 (the default) it is REMOTE_ADDR and X-Forwarded-For is ignored, since any client can
    send one. With N it is the N-th address from the right of X-Forwarded-For: the one the
    outermost of our proxies saw; the entries left of it are the client's to invent. Anything that
    is not an IP address falls back to REMOTE_ADDR, so a forged header cannot pick a bucket name.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.NUM_PROXIES
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


@dataclass(frozen=True)
class Client:
    """Where a request came from: its address (None when it is not an IP address) and the device id
    the app sent in X-Device-Id ("" when absent or malformed). Services that record activity take it."""

    address: str | None
    device_id: str = ""


def client_of(request) -> Client:
    address = client_address(request)
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        address = None
    device_id = request.headers.get(DEVICE_ID_HEADER, "").strip()
    return Client(address=address, device_id=device_id if _SAFE_DEVICE_ID.fullmatch(device_id) else "")
