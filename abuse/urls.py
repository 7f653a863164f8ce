from django.urls import path

from . import api

urlpatterns = [
    path("monitoring/abuse", api.AbuseMetricsApi.as_view(), name="monitoring-abuse"),
]
