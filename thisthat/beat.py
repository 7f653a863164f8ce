"""Every periodic job, in one table. Each app's data migration installs its rows into
django-celery-beat once (`install`); staff may change or disable them in the admin afterwards.
README.md "Background jobs" lists the same table."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    every: tuple[int, str] | None = None  # (count, "seconds" | "minutes")
    cron: tuple[str, str] | None = None  # (minute, hour) in UTC


SCHEDULE = [
    Job("Sync Polymarket odds", "polymarket.tasks.sync_odds", every=(30, "seconds")),
    Job("Poll Polymarket resolutions", "polymarket.tasks.poll_resolutions", every=(60, "seconds")),
    Job("Settle unfinished markets", "betting.tasks.settle_unfinished_markets", every=(60, "seconds")),
    Job("Ingest Polymarket markets", "polymarket.tasks.ingest_markets", every=(5, "minutes")),
    Job("Recompute leaderboard ranks", "leaderboard.tasks.recompute_ranks", every=(15, "minutes")),
    Job("Settle due referrals", "economy.tasks.settle_due_referrals", every=(5, "minutes")),
    Job("Scan for abuse", "abuse.tasks.scan_for_abuse", every=(10, "minutes")),
    Job("Reconcile the credit ledger", "economy.tasks.reconcile_ledger", cron=("7", "*")),
    Job("Flush expired refresh tokens", "accounts.tasks.flush_expired_tokens", cron=("17", "3")),
    Job("Purge expired idempotency keys", "idempotency.tasks.purge_idempotency_keys", cron=("41", "4")),
    Job("Purge old activity signals", "activity.tasks.purge_activity", cron=("53", "4")),
    Job("Expire inactive credits", "economy.tasks.expire_inactive_credits", cron=("23", "5")),
]
_BY_NAME = {job.name: job for job in SCHEDULE}


def install(apps, names: list[str]) -> None:
    """Create the named jobs' periodic tasks (in a data migration); existing rows are left as staff set them."""
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    for name in names:
        job = _BY_NAME[name]
        when = {}
        if job.every is not None:
            when["interval"], _ = interval_model.objects.get_or_create(every=job.every[0], period=job.every[1])
        else:
            minute, hour = job.cron
            when["crontab"], _ = crontab_model.objects.get_or_create(
                minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
            )
        task_model.objects.get_or_create(name=job.name, defaults={"task": job.task, **when})


def uninstall(apps, names: list[str]) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


def migration_operations(*names: str) -> list:
    """The RunPython operation a data migration needs to install (and on reverse, remove) `names`."""
    from django.db import migrations

    return [
        migrations.RunPython(
            lambda apps, schema_editor: install(apps, list(names)),
            lambda apps, schema_editor: uninstall(apps, list(names)),
        )
    ]
