from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.tasks import flush_expired_tokens
from accounts.tokens import token_pair_issue

pytestmark = pytest.mark.django_db


def test_expired_refresh_tokens_are_flushed_and_live_ones_kept(user):
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        token_pair_issue(user=user)
    token_pair_issue(user=user)
    assert OutstandingToken.objects.filter(user=user).count() == 2

    flush_expired_tokens.delay()

    assert OutstandingToken.objects.filter(user=user).count() == 1
    assert OutstandingToken.objects.get(user=user).expires_at > timezone.now()


def test_the_flush_is_scheduled_daily_in_beat():
    task = PeriodicTask.objects.get(task="accounts.tasks.flush_expired_tokens")
    assert task.enabled
    assert task.crontab is not None and task.crontab.hour == "3"
