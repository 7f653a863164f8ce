"""Facts about an HTTP request that more than one layer needs (rate limits, the request log)."""

import ipaddress

from django.conf import settings


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
