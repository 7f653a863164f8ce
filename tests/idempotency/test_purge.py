from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from idempotency.models import IdempotencyKey
from idempotency.tasks import purge_idempotency_keys

pytestmark = pytest.mark.django_db


def test_the_purge_forgets_keys_older_than_the_ttl(user, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 48
    with time_machine.travel(timezone.now() - timedelta(hours=49)):
        IdempotencyKey.objects.create(user=user, key="old", scope="purchases", request_fingerprint="a")
    with time_machine.travel(timezone.now() - timedelta(hours=25)):
        IdempotencyKey.objects.create(user=user, key="day-old", scope="purchases", request_fingerprint="b")

    assert purge_idempotency_keys() == 1

    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"day-old"}
