"""The monitoring examples in ``monitoring/`` fit the edge: the scrape job reaches the metrics port and
every alert rule names only metrics the edge really exports (docs/contract.md "Metrics")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from edge.metrics import EdgeMetrics

yaml = pytest.importorskip("yaml")

MONITORING = Path(__file__).resolve().parents[1] / "monitoring"
CONTRACT_METRICS = ("voice_ai_calls_active", "voice_ai_calls_total", "voice_ai_frame_pacing_seconds",
                    "voice_ai_turn_latency_seconds", "voice_ai_bargein_seconds", "voice_ai_engine_errors_total")
PROMETHEUS_OWN = {"up"}
"""Series Prometheus itself records for every target."""


def _exported_series() -> set[str]:
    """Every series name a busy edge serves on ``/metrics``, read with Prometheus' own text parser."""
    metrics = EdgeMetrics()
    metrics.active_calls = 3
    metrics.calls_total.inc("resolved")
    metrics.calls_total.inc("error")
    metrics.engine_errors.inc("disconnect")
    for histogram in (metrics.frame_pacing, metrics.turn_latency, metrics.bargein, metrics.cleanup):
        histogram.observe(0.004)
    return {sample.name for family in text_string_to_metric_families(metrics.render())
            for sample in family.samples}


def _rules() -> list[dict]:
    document = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_edge_exports_every_contract_metric():
    exported = _exported_series()
    for name in CONTRACT_METRICS:
        assert name in exported or f"{name}_count" in exported, name


def test_alert_rules_name_only_metrics_the_edge_exports():
    exported = _exported_series() | PROMETHEUS_OWN
    rules = _rules()
    assert len({rule["alert"] for rule in rules}) == len(rules), "duplicate alert names"
    used: set[str] = set()
    for rule in rules:
        expr = rule["expr"]
        names = set(re.findall(r"\bvoice_ai_\w+", expr))
        assert names or "up{" in expr, rule["alert"]
        unknown = names - exported
        assert not unknown, f"{rule['alert']} uses metrics the edge does not export: {unknown}"
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        used |= names
    # The alerts the operators were promised exist: pacing p99 over 5 ms, engine errors, edge down.
    exprs = {rule["alert"]: rule["expr"] for rule in rules}
    assert any("voice_ai_frame_pacing_seconds_bucket" in e and "0.99" in e and "0.005" in e for e in exprs.values())
    assert any("voice_ai_engine_errors_total" in e for e in exprs.values())
    assert any(re.search(r'up\{job="voice-ai-edge"\}\s*==\s*0', e) for e in exprs.values())
    assert {"voice_ai_calls_active", "voice_ai_bargein_seconds_bucket", "voice_ai_turn_latency_seconds_bucket",
            "voice_ai_calls_total"} <= used


def test_scrape_config_targets_the_edge_metrics_port_and_loads_the_rules():
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert all((MONITORING / path).is_file() for path in config["rule_files"])
    job = next(job for job in config["scrape_configs"] if job["job_name"] == "voice-ai-edge")
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for static in job["static_configs"] for t in static["targets"]]
    assert "127.0.0.1:9122" in targets  # EDGE_METRICS_PORT default (docs/contract.md)
