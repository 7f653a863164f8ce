from django.conf import settings
from django.db import models
from django.utils import timezone

from thisthat.money import credits_field

from .rules import Rule, Severity


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Dismissed"
    ACTIONED = "actioned", "Actioned"


class Flag(models.Model):
    """One finding of a rule about one or more accounts, for staff to review. At most one open flag
    per (rule, key): a rule that finds the same thing again adds the accounts and refreshes the
    evidence; a finding already reviewed (dismissed or actioned) with no new account is not raised
    again."""

    rule = models.CharField(max_length=32, choices=[(rule.value, rule.value) for rule in Rule])
    severity = models.CharField(max_length=8, choices=[(severity.value, severity.value) for severity in Severity])
    key = models.CharField(max_length=200, help_text="What the accounts share, or whom the finding is about.")
    status = models.CharField(max_length=16, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    evidence = models.JSONField(default=dict)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, through="FlagUser", related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="flag_status_recent_idx"),
            models.Index(fields=["rule", "key"], name="flag_rule_key_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "key"], condition=models.Q(status="open"), name="flag_one_open_per_rule_key"
            ),
        ]
        permissions = [("review_flag", "Can review flags: dismiss, suspend, reinstate, claw back")]

    def __str__(self) -> str:
        return f"{self.rule} ({self.severity}) {self.key}"


class FlagUser(models.Model):
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="flag_users")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["user"], name="flag_user_user_idx")]
        constraints = [models.UniqueConstraint(fields=["flag", "user"], name="flag_user_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in flag {self.flag_id}"


class ActionKind(models.TextChoices):
    SUSPEND = "suspend", "Suspend"
    REINSTATE = "reinstate", "Reinstate"
    CLAW_BACK = "claw_back", "Claw back"
    DISMISS = "dismiss", "Dismiss"


class AbuseAction(models.Model):
    """The audit trail of the review: every suspension (by staff or automatic), reinstatement,
    clawback and dismissal, with its reason and the staff member (none: automatic)."""

    kind = models.CharField(max_length=16, choices=ActionKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    flag = models.ForeignKey(Flag, null=True, blank=True, on_delete=models.PROTECT, related_name="actions")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for an automatic action.",
    )
    reason = models.CharField(max_length=255)
    amount = credits_field(null=True, blank=True, help_text="Credits taken back (clawbacks).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="abuse_action_user_idx"),
            models.Index(fields=["kind", "-created_at"], name="abuse_action_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.user_id or ''} ({self.reason})"
