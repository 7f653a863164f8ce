"""Operational probes: /health (the process answers) and /ready (its dependencies answer); and `/`,
the index that points a newcomer to everything else."""

import logging

from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import envelope
from .openapi import ErrorEnvelope

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("ready-probe", "1", timeout=10)
    if cache.get("ready-probe") != "1":
        raise RuntimeError("cache did not return what was written")


def _check_broker() -> None:
    from thisthat.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


class IndexApi(APIView):
    """`/`: where to go from here (instead of a 404)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request):
        links = {
            "docs": reverse("docs"),
            "schema": reverse("schema"),
            "api": "/api/v1/",
            "admin": reverse("admin:index"),
            "health": reverse("health"),
            "ready": reverse("ready"),
        }
        return Response(
            {
                "name": "THISTHAT API",
                "description": "Play-money prediction markets. Start with the API docs (docs).",
                "links": {name: request.build_absolute_uri(path) for name, path in links.items()},
            }
        )


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="health",
        responses={200: inline_serializer("HealthOutput", {"status": serializers.CharField()})},
    )
    def get(self, request):
        return Response({"status": "ok"})


class ReadyApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    checks = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}

    @extend_schema(
        operation_id="ready",
        responses={
            200: inline_serializer(
                "ReadyOutput", {"status": serializers.CharField(), "checks": serializers.DictField()}
            ),
            503: ErrorEnvelope,
        },
    )
    def get(self, request):
        results = {}
        for name, check in self.checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception:  # any failure means "not ready"
                logger.exception("readiness check failed", extra={"check": name})
                results[name] = "error"  # details stay in the log: this endpoint is public
        if all(result == "ok" for result in results.values()):
            return Response({"status": "ok", "checks": results})
        failed = ", ".join(name for name, result in results.items() if result != "ok")
        return Response(envelope(f"Not ready: {failed}.", "NOT_READY", 503, results), status=503)
