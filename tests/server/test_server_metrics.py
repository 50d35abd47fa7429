"""``/metrics``: the registry it is given, in a format Prometheus parses."""

from __future__ import annotations

import gzip

import aiohttp
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families
from server_fleet import FleetSource, Served

from exporter.instruments import WEBHOOK_REQUESTS_TOTAL
from exporter.metrics import REGISTRY
from exporter.server import build_app, serve


async def test_metrics_exposition_parses_and_holds_the_agent_metrics(served: Served) -> None:
    WEBHOOK_REQUESTS_TOTAL.labels(provider="github", result="accepted").inc(0)
    async with served.session.get(served.url + "/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await resp.text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert "gitops_webhook_requests" in families
    assert "gitops_evaluation_duration_seconds" in families
    sample = REGISTRY.get_sample_value("gitops_webhook_requests_total", {"provider": "github", "result": "accepted"})
    assert any(s.labels == {"provider": "github", "result": "accepted"} and s.value == sample
               for s in families["gitops_webhook_requests"].samples)


async def test_openmetrics_is_served_when_the_scraper_asks_for_it(served: Served) -> None:
    headers = {"Accept": "application/openmetrics-text; version=1.0.0; charset=utf-8"}
    async with served.session.get(served.url + "/metrics", headers=headers) as resp:
        assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
        text = await resp.text()
    assert text.endswith("# EOF\n")
    assert "gitops_webhook_requests" in {f.name for f in parse_openmetrics(text)}


async def test_metrics_are_gzipped_when_accepted(served: Served) -> None:
    headers = {"Accept-Encoding": "gzip"}
    async with served.session.get(served.url + "/metrics", headers=headers, auto_decompress=False) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        text = gzip.decompress(await resp.read()).decode()
    assert "gitops_evaluation_duration_seconds_bucket" in text


async def test_metrics_come_from_the_registry_passed_in(source: FleetSource) -> None:
    registry = CollectorRegistry()
    Counter("only_here_total", "A counter in a private registry.", registry=registry).inc(3)
    runner = await serve(build_app(source, metrics_registry=registry), "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as session, session.get(f"http://{host}:{port}/metrics") as resp:
            text = await resp.text()
    finally:
        await runner.cleanup()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert [s.value for s in families["only_here"].samples if s.name == "only_here_total"] == [3.0]
    assert "gitops_webhook_requests" not in families
