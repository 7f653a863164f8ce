"""What markets announces to the apps built on it (they subscribe in AppConfig.ready())."""

from django.dispatch import Signal

# Sent after an odds sync's batch has committed, with `odds` ({market id: (this odds, that odds)})
# and `synced_at` (when they were stored).
odds_synced = Signal()
