"""What only an app above accounts knows about a profile: the user's all-time ranks on the boards
(leaderboard). That app registers them in AppConfig.ready(); accounts never imports it (README
"Layers")."""

from collections.abc import Callable

PROFILE_RANKS = ("rank_by_pnl", "rank_by_volume")

# Per name in PROFILE_RANKS, a scalar SQL subquery over the user row whose alias is `{user}` (e.g.
# `... WHERE s.user_id = {user}."id"`): a profile and its ranks are read in one statement, and the
# ranks are never a copy that goes stale. SQL rather than ORM expressions: the profile is read on
# every authenticated request that loads the user, and compiling two ORM subqueries per request cost
# more than the query itself (BENCHMARKS.md, issue 12).
ProfileRanks = Callable[[], dict[str, str]]

_profile_ranks: list[ProfileRanks] = []


def register_profile_ranks(ranks: ProfileRanks) -> None:
    _profile_ranks[:] = [ranks]


def profile_rank_sql() -> dict[str, str]:
    """The registered ranks' SQL; null (unranked) while no app provides them."""
    if not _profile_ranks:
        return dict.fromkeys(PROFILE_RANKS, "SELECT NULL")
    return _profile_ranks[0]()
