"""A custom resource no rule covers, just created on the real API server: when its CRD declares a
status subresource a controller will write one, so until it does the object is Progressing; a
kind whose CRD declares none gets no health from a missing status, as before."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from control_plane import ControlPlane
from scenario import Scenario
from test_real_blind_spots import crd_for, start_agent, within

from exporter.model import AppState


@pytest.fixture
def scenario(control_plane: ControlPlane, namespace: str, tmp_path: Path) -> Scenario:
    return Scenario(control_plane, namespace, tmp_path)


def install(scenario: Scenario, kind: str, status_subresource: bool) -> str:
    crd = copy.deepcopy(crd_for(kind))
    if status_subresource:
        crd["spec"]["versions"][0]["subresources"] = {"status": {}}
    scenario.plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(crd))
    scenario.plane.kubectl("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}")
    return str(crd["metadata"]["name"])


@pytest.mark.parametrize(("subresource", "state"), [(True, AppState.PROGRESSING), (False, AppState.HEALTHY)])
async def test_an_object_without_status_waits_for_its_controller_only_when_its_crd_has_a_status_subresource(
        scenario: Scenario, subresource: bool, state: AppState) -> None:
    kind = f"Meter{'S' if subresource else 'N'}{scenario.namespace.replace('-', '').capitalize()}"
    crd = install(scenario, kind, subresource)
    widget = f"apiVersion: blind.example.com/v1\nkind: {kind}\nmetadata: {{name: meter}}\nspec: {{size: 3}}\n"
    scenario.commit(widget)
    scenario.apply(widget)
    agent = await start_agent(scenario)
    try:
        await within(30, agent, scenario.app, lambda s: s.state is state)
        [obj] = agent.snapshot()[scenario.app][1].objects
        if subresource:
            assert obj.health is not None and obj.health.reason == "noStatusYet", obj.health
        else:
            assert obj.health is None
    finally:
        await agent.close()
        scenario.plane.kubectl("delete", "crd", crd, "--wait=false")
