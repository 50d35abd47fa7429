"""Real charts, zero false drift: eight published charts applied to real 1.24 and 1.36 servers client-side
and server-side, each checked as a Helm app (rendered by the agent from the chart and its values)
and as a directory app of its rendered YAML. None of these configurations renders random data, so
every difference would be a false one."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from charts import SHARED, apply_chart, chart_names, evaluate_charts, make_repo, write_charts_config
from control_plane import AGENT_USER, VERSIONS, ControlPlane, need_control_plane, version_id
from scenario import drift

from exporter.model import AppState, AppStatus

CHARTS = chart_names()


MODES = [(assets, mode) for assets in VERSIONS for mode in ("client-side", "server-side")]


@pytest.fixture(scope="module", params=MODES, ids=[f"{version_id(a)}-{m}" for a, m in MODES])
def applied(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            ) -> Iterator[tuple[ControlPlane, dict[tuple[str, str], AppStatus], Path]]:
    assets, mode = request.param
    if not CHARTS:
        reason = f"needs the real charts in {SHARED} (CI has them beside the clone)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must not skip the real-server tests")
        pytest.skip(reason)
    assets = need_control_plane(assets)
    work = tmp_path_factory.mktemp(f"charts-{assets.name}-{mode}")
    plane = ControlPlane(assets, work / "control-plane").start()
    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda name: apply_chart(plane, name, mode == "server-side"), CHARTS))
        repo = make_repo(work)
        statuses = asyncio.run(evaluate_charts(plane, repo))
        yield plane, statuses, repo
    finally:
        plane.stop()


@pytest.fixture(autouse=True)
def charts_agent_only_reads(applied) -> Iterator[None]:
    """Every test here ends by reading the charts cluster's audit log."""
    yield
    plane, _, _ = applied
    verbs = plane.verbs_of(AGENT_USER)
    assert set(verbs) <= {"get", "list", "watch"}, f"the agent's identity used {verbs}"


@pytest.mark.parametrize("source", ["helm", "rendered"])
@pytest.mark.parametrize("chart", CHARTS)
def test_a_real_chart_shows_no_false_drift(applied, chart: str, source: str) -> None:
    _, statuses, _ = applied
    status = statuses[(chart, source)]
    assert status.error is None, status.error
    assert drift(status) == []
    assert status.state is not AppState.OUT_OF_SYNC and len(status.objects) > 0


def test_the_helm_render_and_the_rendered_yaml_declare_the_same_objects(applied) -> None:
    _, statuses, _ = applied
    for chart in CHARTS:
        helm = sorted(str(o.key) for o in statuses[(chart, "helm")].objects)
        rendered = sorted(str(o.key) for o in statuses[(chart, "rendered")].objects)
        assert helm == rendered, chart


def test_the_agent_only_read_the_charts_cluster(applied) -> None:
    plane, _, _ = applied
    verbs = plane.verbs_of(AGENT_USER)
    assert verbs and set(verbs) <= {"get", "list", "watch"}, verbs


def test_check_reports_every_chart_synced(applied, tmp_path: Path) -> None:
    """What a user runs in CI: ``check`` renders every chart and finds no drift in any (it exits 1
    only because no kubelet runs here, so Deployments stay Progressing)."""
    plane, _, repo = applied
    config = write_charts_config(plane, repo, tmp_path)
    done = subprocess.run([sys.executable, "-m", "exporter.cli", "check", "--config", str(config), "--output", "json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    apps = {a["name"]: a for a in json.loads(done.stdout)}
    assert len(apps) == 2 * len(CHARTS)
    assert {name: (a["sync"], a["error"]) for name, a in apps.items()} == {
        name: ("Synced", None) for name in apps}


def test_a_hand_edit_to_a_chart_object_is_reported(applied, tmp_path: Path) -> None:
    plane, _, _ = applied
    plane.kubectl("set", "image", "-n", "external-dns", "deployment/external-dns",
                  "external-dns=registry.k8s.io/external-dns/external-dns:v0.0.1-edited")
    try:
        statuses = asyncio.run(evaluate_charts(plane, make_repo(tmp_path)))
        for source in ("helm", "rendered"):
            assert drift(statuses[("external-dns", source)]) == [
                "Deployment/external-dns /spec/template/spec/containers/0/image"]
    finally:
        apply_chart(plane, "external-dns", server_side=False)
