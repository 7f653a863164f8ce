"""What betting announces to the apps built on it (they subscribe in AppConfig.ready())."""

from django.dispatch import Signal

# Sent with `market_id` after a market's settlement has committed (its bets are won, lost or cancelled).
market_settled = Signal()

# Sent with `market_id` after a correction (market_unresolve) has committed: settled bets are pending
# again and realised PnL moved back, so ranks are out of date.
market_settlement_reversed = Signal()

# Sent with `user_id` after a bet placement or a cash-out has committed: volume or realised PnL moved.
# Receivers must be cheap: it is sent once per bet.
bets_changed = Signal()
