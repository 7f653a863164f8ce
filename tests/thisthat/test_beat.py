"""Every periodic job is in thisthat/beat.py, installed in django-celery-beat by the migrations."""

import pytest
from django.apps import apps
from django_celery_beat.models import PeriodicTask

from thisthat import beat
from thisthat.celery import app

pytestmark = pytest.mark.django_db


def test_every_job_of_the_schedule_is_installed_and_enabled():
    installed = {task.name: task for task in PeriodicTask.objects.exclude(name="celery.backend_cleanup")}

    assert set(installed) == {job.name for job in beat.SCHEDULE}
    for job in beat.SCHEDULE:
        task = installed[job.name]
        assert task.task == job.task and task.enabled
        if job.every is not None:
            assert (task.interval.every, task.interval.period) == job.every
        else:
            assert (task.crontab.minute, task.crontab.hour, task.crontab.timezone.key) == (*job.cron, "UTC")


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    assert {job.task for job in beat.SCHEDULE} <= set(app.tasks)


def test_installing_again_keeps_what_staff_changed():
    job = beat.SCHEDULE[0]
    PeriodicTask.objects.filter(name=job.name).update(enabled=False)

    beat.install(apps, [job.name for job in beat.SCHEDULE])

    assert PeriodicTask.objects.filter(name=job.name).count() == 1
    assert not PeriodicTask.objects.get(name=job.name).enabled
