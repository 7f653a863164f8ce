from rest_framework import serializers

from stocks.serializers import HoldingOutput
from thisthat.money import CREDITS, ODDS
from thisthat.pagination import PageOutput


class BetMarketOutput(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    this_option = serializers.CharField()
    that_option = serializers.CharField()
    status = serializers.CharField(source="current_status")


class BetOutput(serializers.Serializer):
    id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    market_id = serializers.UUIDField()
    market = BetMarketOutput()
    side = serializers.CharField()
    amount = serializers.DecimalField(**CREDITS)
    odds_at_bet = serializers.DecimalField(**ODDS)
    potential_payout = serializers.DecimalField(**CREDITS)
    actual_payout = serializers.DecimalField(**CREDITS, allow_null=True)
    status = serializers.CharField()
    placed_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class BetPlacedOutput(serializers.Serializer):
    bet = BetOutput()
    new_balance = serializers.DecimalField(**CREDITS)


class BetSoldOutput(serializers.Serializer):
    bet = BetOutput()
    credits_received = serializers.DecimalField(**CREDITS)
    new_balance = serializers.DecimalField(**CREDITS)


class BetQuoteOutput(serializers.Serializer):
    shares = serializers.DecimalField(
        **CREDITS, help_text="Shares the bet would buy; each pays 1 credit if its side wins (= potentialPayout)."
    )
    average_odds = serializers.DecimalField(
        **ODDS, help_text="The average price of a share (amount / shares): the bet's oddsAtBet."
    )
    odds_after = serializers.DecimalField(
        **ODDS, help_text="The side's odds after the bet (unchanged on a polymarket market)."
    )
    potential_payout = serializers.DecimalField(source="shares", **CREDITS)
    price_impact = serializers.DecimalField(
        **ODDS, help_text="How far the bet moves its side's odds (0 on a polymarket market)."
    )


class BetListOutput(PageOutput):
    bets = BetOutput(many=True)


class PositionOutput(serializers.Serializer):
    bet = BetOutput()
    current_odds = serializers.DecimalField(**ODDS, allow_null=True)
    current_value = serializers.DecimalField(**CREDITS, allow_null=True)
    # Spelled out: an automatic camelizer would write "unrealizedPnl".
    unrealizedPnL = serializers.DecimalField(source="unrealized_pnl", **CREDITS, allow_null=True)  # noqa: N815


class PortfolioTotalsOutput(serializers.Serializer):
    invested = serializers.DecimalField(**CREDITS, help_text="Pending bets' stakes plus what the stock holdings cost.")
    current_value = serializers.DecimalField(**CREDITS, help_text="Positions and holdings valued now.")
    unrealizedPnL = serializers.DecimalField(source="unrealized_pnl", **CREDITS)  # noqa: N815


class PortfolioOutput(serializers.Serializer):
    credit_balance = serializers.DecimalField(**CREDITS)
    positions = PositionOutput(many=True)
    holdings = HoldingOutput(
        many=True, help_text="Stock holdings, by symbol, valued at what selling them all now pays."
    )
    totals = PortfolioTotalsOutput(help_text="Across positions and holdings.")
