from celery import shared_task

from thisthat.locks import single_instance

from . import services


@shared_task
@single_instance(timeout=15 * 60)
def scan_for_abuse() -> dict:
    """Every 10 minutes (thisthat/beat.py): run the anti-abuse rules and raise flags."""
    return services.abuse_scan().as_dict()
