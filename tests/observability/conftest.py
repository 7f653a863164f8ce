import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import UserFactory

METRICS_TOKEN = "metrics-test-token"


class Scrape(dict):
    """One scrape of /metrics: {(sample name, ((label, value), ...)): value}."""

    def value(self, name: str, **labels: str) -> float:
        return self.get((name, tuple(sorted(labels.items()))), 0.0)

    def labels_of(self, name: str) -> list[dict[str, str]]:
        return [dict(labels) for sample, labels in self if sample == name]

    def families(self) -> set[str]:
        return self.family_names


def parse(text: str) -> Scrape:
    scrape = Scrape()
    scrape.family_names = set()
    for family in text_string_to_metric_families(text):
        scrape.family_names.add(family.name)
        for sample in family.samples:
            scrape[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return scrape


@pytest.fixture
def metrics_settings(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return settings


@pytest.fixture
def scrape(db, metrics_settings):
    """Call to read /metrics as Prometheus does (with the bearer token)."""
    client = Client()

    def read() -> Scrape:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain")
        return parse(response.content.decode())

    return read


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, username="overview_staff")
