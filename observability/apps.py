from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Metrics for Prometheus (`/metrics`), the staff overview in the admin, and the hooks that
    record requests, database and cache calls and Celery tasks (README "Operations")."""

    name = "observability"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib import admin

        # The admin's home page links to the overview (observability/templates).
        admin.site.index_template = "admin/observability/index.html"
        if settings.METRICS_ENABLED:
            from . import signals

            signals.connect()
