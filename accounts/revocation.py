"""The revocation list of token families, in the shared cache (Redis), so that an access token of an
ended sign-in is refused at its next use without a database query.

- `revoked-family:<fid>` exists while access tokens of that ended family may still be unexpired
  (an access-token lifetime after the end).
- `revoked-families:complete` says the list holds every family ended in that time. It has no
  expiry; if it is missing (a Redis restart that lost its data, a fresh Redis), `accounts.tokens`
  asks the database and rebuilds the list before trusting it again.
- `family-used:<fid>` (60 s) makes "last used" a write at most once a minute per family (set by
  the first use in a minute, and by a sign-in or refresh, which write it themselves).

Redis must not evict keys (`maxmemory-policy noeviction`, its default): an evicted mark would let
a revoked token through. Every function here raises `thisthat.cache.CACHE_ERRORS` when the cache
cannot answer; `accounts.tokens` decides what that means.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.core.cache import cache
from rest_framework_simplejwt.settings import api_settings

from thisthat.cache import redis_client, redis_key

_REVOKED = "revoked-family:{}"
_COMPLETE = "revoked-families:complete"
_USED = "family-used:{}"
_REBUILDING = "revoked-families:rebuilding"

USE_RECORD_INTERVAL = 60  # seconds: "last used" is written at most this often per family
# Clocks of the web servers and Redis may differ a little; a mark may outlive its tokens, not the reverse.
_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class FamilyStatus:
    revoked: bool
    list_complete: bool  # False: the list cannot be trusted until rebuilt from the database
    use_due: bool  # the first use of the family in this minute: record it


def mark_lifetime() -> int:
    """Seconds a revocation mark lives: every access token of the family expires within it."""
    return int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + _MARGIN_SECONDS


def family_status(family_id: UUID) -> FamilyStatus:
    """Whether the family is on the list, whether the list is complete, and whether this is its first
    use this minute: one Redis round trip (a pipeline of EXISTS, EXISTS, SET NX EX)."""
    revoked_key, used_key = _REVOKED.format(family_id), _USED.format(family_id)
    client = redis_client()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        pipe.exists(redis_key(revoked_key))
        pipe.exists(redis_key(_COMPLETE))
        pipe.set(redis_key(used_key), 1, nx=True, ex=USE_RECORD_INTERVAL)
        revoked, complete, first_use = pipe.execute()
        return FamilyStatus(revoked=bool(revoked), list_complete=bool(complete), use_due=bool(first_use))
    # Django's database cache (embedded mode): the same answers in two calls.
    found = cache.get_many([revoked_key, _COMPLETE])
    return FamilyStatus(
        revoked=revoked_key in found,
        list_complete=_COMPLETE in found,
        use_due=cache.add(used_key, 1, USE_RECORD_INTERVAL),
    )


def use_recorded(family_id: UUID) -> None:
    """The family's "last used" was just written (sign-in, refresh): skip the next minute's write."""
    cache.set(_USED.format(family_id), 1, timeout=USE_RECORD_INTERVAL)


def families_revoke(family_ids: Iterable[UUID]) -> None:
    """Put families on the list (one round trip)."""
    marks = {_REVOKED.format(family_id): 1 for family_id in family_ids}
    if marks:
        cache.set_many(marks, timeout=mark_lifetime())


def rebuild_claim() -> bool:
    """True for the one caller that should rebuild the list now (others keep asking the database)."""
    return cache.add(_REBUILDING, 1, timeout=30)


def list_complete_mark(family_ids: Iterable[UUID]) -> None:
    """Finish a rebuild: the families ended within a mark's lifetime go on the list, then the list
    is declared complete."""
    families_revoke(family_ids)
    cache.set(_COMPLETE, 1, timeout=None)
    cache.delete(_REBUILDING)
