from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from accounts.models import AuthSession, SessionRefreshToken
from accounts.tasks import flush_expired_tokens
from accounts.tokens import token_pair_issue

pytestmark = pytest.mark.django_db


def refresh(refresh_token: str):
    return APIClient().post("/api/v1/auth/refresh", {"refreshToken": refresh_token}, format="json")


def test_expired_sessions_and_refresh_tokens_are_flushed_and_live_ones_kept(user):
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        token_pair_issue(user=user)  # a sign-in whose refresh token has expired
    with time_machine.travel(timezone.now() - timedelta(days=7, hours=1)):
        rotated = token_pair_issue(user=user)
    with time_machine.travel(timezone.now() - timedelta(days=1)):
        assert refresh(rotated.refresh_token).status_code == 200  # its first token has expired since, not the second
    live = token_pair_issue(user=user)
    assert (AuthSession.objects.count(), SessionRefreshToken.objects.count()) == (3, 4)

    result = flush_expired_tokens.delay().get()

    assert result["sessions"] == 1 and result["refresh_tokens"] == 2
    assert AuthSession.objects.count() == 2
    assert SessionRefreshToken.objects.count() == 2
    assert SessionRefreshToken.objects.filter(expires_at__lt=timezone.now()).count() == 0
    assert refresh(live.refresh_token).status_code == 200


def test_the_flush_is_scheduled_daily_in_beat():
    task = PeriodicTask.objects.get(task="accounts.tasks.flush_expired_tokens")
    assert task.enabled
    assert task.crontab is not None and task.crontab.hour == "3"
