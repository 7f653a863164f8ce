"""Every alert rule parses, covers what the PRD and the issue ask for, and names only metrics the
code exports (and so does the dashboard). `make check` also runs `promtool check rules` when
promtool is installed."""

import json
import re
from pathlib import Path

import pytest
import yaml

from economy.tasks import reconcile_ledger
from leaderboard.services import ranks_recompute

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "ops" / "grafana" / "thisthat.json"
METRIC = re.compile(r"\bthisthat_[a-z0-9_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def family_of(sample: str) -> str:
    for suffix in SUFFIXES:
        if sample.endswith(suffix):
            return sample[: -len(suffix)]
    return sample


@pytest.fixture
def exported(scrape, user) -> set[str]:
    """Every family /metrics reports once each part has something to say."""
    reconcile_ledger.apply()
    ranks_recompute()
    return scrape().families()


def test_every_rule_is_complete():
    found = rules()
    assert found
    for rule in found:
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]
        assert METRIC.search(rule["expr"]), rule["alert"]


def test_the_alerts_the_prd_and_the_issue_ask_for_exist():
    names = {rule["alert"] for rule in rules()}
    assert names >= {
        "ApiLatencyHigh",  # p95 > 1 s
        "ApiErrorRateHigh",  # > 1 % over 5 minutes
        "DatabasePoolExhausted",
        "PolymarketUnreachable",
        "LedgerMismatch",  # credit-balance anomalies
        "BeatJobStuck",
        "SettlementUnfinished",  # after 5 minutes
        "TaskQueueGrowing",
    }
    by_name = {rule["alert"]: rule for rule in rules()}
    assert "> 1" in by_name["ApiLatencyHigh"]["expr"] and "0.95" in by_name["ApiLatencyHigh"]["expr"]
    assert "> 0.01" in by_name["ApiErrorRateHigh"]["expr"] and "[5m]" in by_name["ApiErrorRateHigh"]["expr"]


def test_rules_name_only_exported_metrics(exported):
    named = {family_of(name) for rule in rules() for name in METRIC.findall(rule["expr"])}
    assert named - exported == set()


def test_the_dashboard_names_only_exported_metrics(exported):
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    named = {family_of(name) for expr in expressions for name in METRIC.findall(expr)}
    assert named
    assert named - exported == set()


# Prometheus attaches these to every series it scrapes: a metric's own label of the same name would be
# renamed `exported_job` / `exported_instance`, and every rule grouping by it would group by the scrape.
TARGET_LABELS = {"job", "instance"}
GROUPING = re.compile(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)")


def exported_labels(scrape) -> set[str]:
    reconcile_ledger.apply()
    ranks_recompute()
    return {name for _, labels in scrape() for name, _ in labels}


def test_no_metric_has_a_label_prometheus_gives_every_target(scrape, user):
    labels = exported_labels(scrape)

    assert "periodic_job" in labels
    assert labels & TARGET_LABELS == set()


def test_every_label_a_rule_groups_or_matches_by_is_exported(scrape, user):
    labels = exported_labels(scrape)
    grouped = {
        label.strip()
        for rule in rules()
        for clause in GROUPING.findall(rule["expr"])
        for label in clause.split(",")
        if label.strip()
    }

    assert grouped  # the rules do group by labels
    assert grouped - labels == set()
