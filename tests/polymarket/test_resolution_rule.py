"""The resolution rule (README "Resolution") as a pure function: recorded payloads and the traps."""

import copy
import json

import pytest

from polymarket.resolution import Verdict, resolution_outcome
from tests.polymarket.payloads import load

GAMMA_RESOLVED = load("gamma_market_resolved")  # Kraken IPO in 2025? resolved "No"
CLOB_EXCERPT = load("clob_market_resolved_excerpt")  # another market, resolved "No"; token ids cut short
CLOB_OPEN = load("clob_market_open")
GAMMA_OPEN = load("gamma_market_open_binary")

THIS_TOKEN, THAT_TOKEN = json.loads(GAMMA_RESOLVED["clobTokenIds"])


def gamma(**changes) -> dict:
    """The recorded resolved Gamma market with `changes` applied."""
    return {**copy.deepcopy(GAMMA_RESOLVED), **changes}


def clob(*, winners: tuple[bool, bool] = (False, True), token_ids=(THIS_TOKEN, THAT_TOKEN), **changes) -> dict:
    """The recorded resolved CLOB excerpt, re-keyed to the Gamma market's tokens, with `changes` applied."""
    row = copy.deepcopy(CLOB_EXCERPT)
    for token, token_id, winner in zip(row["tokens"], token_ids, winners, strict=True):
        token.update(token_id=token_id, winner=winner, price=1 if winner else 0)
    return {**row, **changes}


def decide(gamma_row: dict, clob_row: dict | None, *, this_token: str = THIS_TOKEN, that_token: str = THAT_TOKEN):
    return resolution_outcome(gamma=gamma_row, clob=clob_row, this_token_id=this_token, that_token_id=that_token)


def test_the_recorded_resolved_payloads_settle_on_the_no_side():
    this_token, that_token = (token["token_id"] for token in CLOB_EXCERPT["tokens"])
    # The two recordings are of different markets: give Gamma the CLOB market's tokens.
    gamma_row = gamma(clobTokenIds=json.dumps([this_token, that_token]))

    verdict = decide(gamma_row, CLOB_EXCERPT, this_token=this_token, that_token=that_token)

    assert verdict == Verdict(outcome="that")
    assert verdict.is_final


def test_the_recorded_gamma_market_with_a_matching_clob_market_settles_on_that():
    assert decide(gamma(), clob()).outcome == "that"


def test_a_yes_result_settles_on_this():
    assert decide(gamma(outcomePrices='["1", "0"]'), clob(winners=(True, False))).outcome == "this"


@pytest.mark.parametrize("prices", ['["0.0", "1.0"]', '["0.000", "1"]', "[0, 1]", ["0", "1"]])
def test_one_hot_prices_are_compared_as_decimals(prices):
    assert decide(gamma(outcomePrices=prices), clob()).outcome == "that"


def test_a_resolved_market_whose_plural_statuses_still_say_proposed_settles():
    row = gamma()
    assert (row["umaResolutionStatus"], row["umaResolutionStatuses"]) == ("resolved", '["proposed"]')

    assert decide(row, clob()).outcome == "that"


@pytest.mark.parametrize(
    "changes",
    [
        {"umaResolutionStatus": "disputed"},
        {"umaResolutionStatus": None, "umaResolutionStatuses": '["proposed", "disputed"]'},
        {"umaResolutionStatus": "disputed", "closed": False, "outcomePrices": '["0.5", "0.5"]'},
    ],
)
def test_a_current_dispute_means_wait(changes):
    assert decide(gamma(**changes), clob()) == Verdict(wait="disputed")


def test_a_dispute_earlier_in_the_status_history_does_not_block_a_resolved_market():
    row = gamma(umaResolutionStatuses='["proposed", "disputed", "proposed"]')

    assert decide(row, clob()).outcome == "that"


@pytest.mark.parametrize("status", ["proposed", "", None])
def test_a_closed_market_not_yet_resolved_by_uma_waits(status):
    verdict = decide(gamma(umaResolutionStatus=status), clob())

    assert (verdict.outcome, verdict.wait) == (None, "uma_not_resolved")


def test_near_certain_prices_on_an_open_market_are_trading_not_a_result():
    row = {**GAMMA_OPEN, "outcomePrices": '["0.0005", "0.9995"]'}

    assert decide(row, None).wait == "not_closed"


def test_near_certain_prices_on_a_closed_resolved_market_are_still_not_final():
    assert decide(gamma(outcomePrices='["0.0005", "0.9995"]'), clob()).wait == "prices_not_final"


@pytest.mark.parametrize("prices", [None, "", "[]", '["1"]', '["x", "y"]', '["0", "0"]', '["1", "1"]'])
def test_missing_or_malformed_final_prices_wait(prices):
    row = gamma(outcomePrices=prices)

    assert decide(row, clob()).wait == "prices_not_final"


def test_active_staying_true_after_close_does_not_matter():
    assert GAMMA_RESOLVED["active"] is True
    assert decide(gamma(active=True), clob(active=True)).outcome == "that"
    assert decide(gamma(active=False), clob(active=False)).outcome == "that"


def test_a_clob_market_that_stopped_trading_without_a_winner_waits():
    stopped = clob(winners=(False, False), active=False, closed=False, accepting_orders=False)

    assert decide(gamma(), stopped).wait == "clob_not_closed"


def test_an_open_clob_market_waits_even_if_gamma_looks_final():
    this_token, that_token = (token["token_id"] for token in CLOB_OPEN["tokens"])
    gamma_row = gamma(clobTokenIds=json.dumps([this_token, that_token]))

    assert decide(gamma_row, CLOB_OPEN, this_token=this_token, that_token=that_token).wait == "clob_not_closed"


@pytest.mark.parametrize(("gamma_prices", "expected"), [('["1", "0"]', "that"), ('["0", "1"]', "this")])
def test_gammas_outcome_is_mapped_to_our_side_by_token_when_upstream_reversed_the_outcomes(gamma_prices, expected):
    # Upstream now lists the outcomes the other way round: Gamma's first token is our THAT.
    reversed_gamma = gamma(
        outcomes='["No", "Yes"]', outcomePrices=gamma_prices, clobTokenIds=json.dumps([THAT_TOKEN, THIS_TOKEN])
    )
    winners = (expected == "this", expected == "that")

    assert decide(reversed_gamma, clob(winners=winners)).outcome == expected
    assert decide(reversed_gamma, None).outcome == expected


def test_a_gamma_winner_that_is_none_of_our_tokens_waits():
    strange = gamma(clobTokenIds=json.dumps(["111", "222"]))

    assert decide(strange, None).wait == "unmapped_winner"


@pytest.mark.parametrize(
    "changes",
    [
        {"closed": False},
        {"umaResolutionStatus": "proposed"},
        {"outcomePrices": '["0.02", "0.98"]'},
    ],
)
def test_clob_closed_with_a_winner_while_gamma_is_not_final_waits(changes):
    verdict = decide(gamma(**changes), clob())

    assert not verdict.is_final
    assert verdict.wait in {"not_closed", "uma_not_resolved", "prices_not_final"}


def test_the_apis_disagreeing_waits_and_says_how():
    verdict = decide(gamma(), clob(winners=(True, False)))

    assert (verdict.outcome, verdict.wait) == (None, "apis_disagree")
    assert verdict.detail == "gamma=that clob=this"


def test_two_winning_tokens_wait():
    assert decide(gamma(), clob(winners=(True, True))).wait == "clob_no_single_winner"


def test_a_closed_clob_market_without_a_winner_waits():
    assert decide(gamma(), clob(winners=(False, False))).wait == "clob_no_single_winner"


def test_a_winning_token_that_is_not_ours_waits():
    assert decide(gamma(), clob(), that_token="some-other-token").wait == "unmapped_winner"


def test_the_winner_is_mapped_by_token_id_not_by_position():
    swapped = clob(token_ids=(THAT_TOKEN, THIS_TOKEN), winners=(True, False))  # our THAT token listed first

    assert decide(gamma(), swapped).outcome == "that"


def test_a_50_50_result_flagged_by_clob_is_invalid():
    fifty_fifty = clob(winners=(False, False), is_50_50_outcome=True)

    assert decide(gamma(outcomePrices='["0.5", "0.5"]'), fifty_fifty).outcome == "invalid"


@pytest.mark.parametrize("prices", ['["0.5", "0.5"]', '["0.50", "0.5000"]'])
def test_a_50_50_result_by_final_prices_is_invalid(prices):
    assert decide(gamma(outcomePrices=prices), None).outcome == "invalid"
    assert decide(gamma(outcomePrices=prices), clob(winners=(False, False), is_50_50_outcome=True)).outcome == (
        "invalid"
    )


def test_a_50_50_flag_against_a_one_hot_gamma_result_waits():
    assert decide(gamma(), clob(winners=(False, False), is_50_50_outcome=True)).wait == "apis_disagree"


def test_without_a_clob_market_gamma_alone_decides():
    assert decide(gamma(), None).outcome == "that"
    assert decide(gamma(outcomePrices='["1", "0"]'), None).outcome == "this"
    assert decide(gamma(closed=False), None).wait == "not_closed"


def test_outcome_labels_other_than_yes_no_map_by_index():
    row = gamma(outcomes='["Lakers", "Celtics"]', outcomePrices='["1", "0"]')
    labelled = clob(winners=(True, False))
    labelled["tokens"][0]["outcome"], labelled["tokens"][1]["outcome"] = "Lakers", "Celtics"

    assert decide(row, labelled).outcome == "this"
