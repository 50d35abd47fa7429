"""Fixtures for tests on a real kube-apiserver: one control plane per test session, a namespace per
test, and the audit log read at the end of every test (the agent's identity only gets, lists and
watches)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from control_plane import AGENT_USER, ControlPlane, assets_dir

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    assets = assets_dir()
    if assets is None:
        reason = ("needs a real control plane: set KUBEBUILDER_ASSETS to a folder with kube-apiserver, "
                  "kube-controller-manager and etcd (bash .ci/run prepares build/k8s-1.24)")
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must not skip the real-server tests")
        pytest.skip(reason)
    plane = ControlPlane(assets, tmp_path_factory.mktemp("control-plane")).start()
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
