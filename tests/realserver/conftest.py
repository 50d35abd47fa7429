"""Fixtures for tests on a real kube-apiserver: one control plane per test session, a namespace per
test, and the audit log read at the end of every test (the agent's identity only gets, lists and
watches)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from control_plane import AGENT_USER, VERSIONS, ControlPlane, need_control_plane, version_id

_counter = itertools.count(1)

@pytest.fixture(scope="session", params=VERSIONS, ids=version_id)
def control_plane(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    assets = need_control_plane(request.param)
    plane = ControlPlane(assets, tmp_path_factory.mktemp(f"control-plane-{assets.name}")).start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture
def namespace(control_plane: ControlPlane) -> str:
    name = f"t{next(_counter)}-{os.getpid() % 10000}"
    control_plane.kubectl("create", "namespace", name)
    control_plane.kubectl("create", "serviceaccount", "default", "-n", name, check=False)
    return name


@pytest.fixture(autouse=True)
def agent_only_reads(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "control_plane" not in request.fixturenames:
        return
    plane: ControlPlane = request.getfixturevalue("control_plane")
    verbs = plane.verbs_of(AGENT_USER)
    assert set(verbs) <= {"get", "list", "watch"}, f"the agent's identity used {verbs}"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path
