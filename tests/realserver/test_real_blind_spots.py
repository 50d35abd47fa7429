"""Noticing within ``staleAfter`` that the agent cannot see, on the real API server: a frozen
kube-apiserver (SIGSTOP: connections stay open, nothing answers), the agent's RoleBinding deleted
(open watches keep streaming, only new requests are refused), and a CRD installed after the agent
started. Each bound is tied to ``staleAfter: 10s``, the agent's own ``/readyz`` is read as
Kubernetes reads it, and times are measured from the moment of the change."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from control_plane import READ_ONLY_RBAC, ControlPlane
from scenario import Scenario

from exporter.agent import Agent
from exporter.model import AppState, AppStatus
from exporter.wiring import build_agent, load_config

STALE_AFTER = 10.0
SETTINGS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: live}
"""


@pytest.fixture
def scenario(control_plane: ControlPlane, namespace: str, tmp_path: Path) -> Scenario:
    return Scenario(control_plane, namespace, tmp_path)


@pytest.fixture
async def agent(scenario: Scenario) -> AsyncIterator[Agent]:
    scenario.commit(SETTINGS)
    scenario.apply()
    yield await start_agent(scenario)


async def start_agent(scenario: Scenario, manifests_path: str = "app") -> Agent:
    doc = {"clusters": [{"name": "real", "kubeconfig": str(scenario.plane.agent_kubeconfig)}],
           "cacheDir": str(scenario.work / "cache"), "staleAfter": f"{STALE_AFTER:g}s", "interval": "1h",
           "gitPollInterval": "1h",
           "apps": [{"name": scenario.app, "source": {"repoURL": f"file://{scenario.repo}", "targetRevision": "main",
                                                      "path": manifests_path},
                     "destination": {"cluster": "real", "namespace": scenario.namespace}}]}
    (scenario.work / "config.yaml").write_text(yaml.safe_dump(doc))
    agent = build_agent(load_config(str(scenario.work / "config.yaml")))
    await agent.start()
    return agent


async def within(seconds: float, agent: Agent, name: str, check: Callable[[AppStatus], bool]) -> float:
    """Seconds until ``check`` holds for the app's status; fails past ``seconds``."""
    started = time.monotonic()
    while True:
        found = agent.snapshot().get(name)
        if found is not None and check(found[1]):
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, f"{name} after {seconds}s: {found[1] if found else 'none'}"
        await asyncio.sleep(0.1)


async def test_a_frozen_api_server_is_unknown_within_stale_after_and_healthy_soon_after_it_resumes(
        scenario: Scenario, agent: Agent) -> None:
    app = scenario.app
    try:
        await within(30, agent, app, lambda s: s.state is AppState.HEALTHY)
        scenario.plane.signal("kube-apiserver", signal.SIGSTOP)
        try:
            took = await within(2 * STALE_AFTER, agent, app, lambda s: s.state is AppState.UNKNOWN)
            status = agent.snapshot()[app][1]
            assert "cluster real: cannot follow" in status.reason and "/readyz did not answer" in status.reason
            reason = agent.not_ready_reason()
            assert reason is not None and reason.startswith("cluster real: cannot follow"), reason
            print(f"frozen: Unknown after {took:.1f}s")
        finally:
            scenario.plane.signal("kube-apiserver", signal.SIGCONT)
        took = await within(STALE_AFTER, agent, app, lambda s: s.state is AppState.HEALTHY)
        print(f"resumed: Healthy after {took:.1f}s")
        ready_by = time.monotonic() + STALE_AFTER  # every other watched kind is listed again too
        while agent.not_ready_reason() is not None:
            assert time.monotonic() < ready_by, agent.not_ready_reason()
            await asyncio.sleep(0.1)

        # What changed while it was frozen is seen: the resumed watches start over from a list.
        scenario.kubectl("patch", "configmap", "settings", "-p", '{"data":{"mode":"hand"}}')
        await within(STALE_AFTER, agent, app, lambda s: s.state is AppState.OUT_OF_SYNC)
    finally:
        await agent.close()


async def test_a_deleted_role_binding_is_unknown_within_stale_after_and_its_return_is_seen(
        scenario: Scenario, agent: Agent) -> None:
    app, plane = scenario.app, scenario.plane
    binding = next(d for d in yaml.safe_load_all(READ_ONLY_RBAC) if d["kind"] == "ClusterRoleBinding")
    try:
        await within(30, agent, app, lambda s: s.state is AppState.HEALTHY)
        plane.kubectl("delete", "clusterrolebinding", binding["metadata"]["name"])
        try:
            took = await within(2 * STALE_AFTER, agent, app, lambda s: s.state is AppState.UNKNOWN)
            status = agent.snapshot()[app][1]
            assert "cannot follow" in status.reason and "forbidden" in status.reason.lower(), status.reason
            print(f"revoked: Unknown after {took:.1f}s")
        finally:
            plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(binding))
        took = await within(3 * STALE_AFTER, agent, app, lambda s: s.state is AppState.HEALTHY)
        print(f"restored: Healthy after {took:.1f}s")
    finally:
        await agent.close()


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "{plural}.blind.example.com"},
       "spec": {"group": "blind.example.com", "scope": "Namespaced",
                "names": {"plural": "{plural}", "singular": "{singular}", "kind": "{kind}"},
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                    "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


def crd_for(kind: str) -> dict[str, Any]:
    text = yaml.safe_dump(CRD).replace("{plural}", f"{kind.lower()}s").replace("{singular}", kind.lower())
    return yaml.safe_load(text.replace("{kind}", kind))


async def test_a_crd_installed_after_start_has_its_object_judged_within_seconds(scenario: Scenario) -> None:
    kind = f"Gauge{scenario.namespace.replace('-', '').capitalize()}"
    widget = f"apiVersion: blind.example.com/v1\nkind: {kind}\nmetadata: {{name: meter}}\nspec: {{size: 3}}\n"
    scenario.commit(widget)
    agent = await start_agent(scenario)
    try:
        status = await within(30, agent, scenario.app, lambda s: s.state is AppState.UNKNOWN)
        assert "is its CRD installed?" in agent.snapshot()[scenario.app][1].reason, status
        crd = crd_for(kind)
        scenario.plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(crd))
        scenario.plane.kubectl("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}")
        await within(10, agent, scenario.app, lambda s: s.state is AppState.MISSING)
        scenario.apply(widget)
        took = await within(10, agent, scenario.app, lambda s: s.state is AppState.HEALTHY)
        print(f"late CRD: judged {took:.1f}s after its object was created")
    finally:
        await agent.close()
        scenario.plane.kubectl("delete", "crd", f"{kind.lower()}s.blind.example.com", "--wait=false")
