"""Apps read from Argo CD's Application objects on the real API server: turned into apps, kept
current through watches, hand-written apps winning name clashes, AppProject sync windows applied,
and nothing ever written to them (the audit log says so)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import yaml
from control_plane import AGENT_USER, ControlPlane
from scenario import GIT_ENV

from exporter.model import AppState
from exporter.wiring import build_agent, load_config

CRDS = Path(__file__).parent / "data" / "argocd-crds.yaml"


def configmap(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{mode: live}}\n"


def application(name: str, namespace: str, repo: Path, path: str, **spec: object) -> str:
    source = spec.pop("source", {"repoURL": f"file://{repo}", "targetRevision": "main", "path": path})
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": name, "namespace": namespace, "labels": {"team": "shop"}},
           "spec": {"project": "shop", "source": source,
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace}, **spec}}
    return yaml.safe_dump(doc)


def git_repo(work: Path, files: dict[str, str]) -> Path:
    repo = work / "deploy"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "apps"]):
        subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True)
    return repo


async def eventually(check, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def test_applications_become_apps_that_follow_argo_cd_and_are_never_written(
        control_plane: ControlPlane, namespace: str, work: Path) -> None:
    ns = namespace
    web, plugin, hand, api = (f"{n}-{ns}" for n in ("web", "plugin", "hand", "api"))
    repo = git_repo(work, {"web/cm.yaml": configmap(web), "hand/cm.yaml": configmap(hand),
                           "api/cm.yaml": configmap(api)})
    control_plane.kubectl("apply", "-f", str(CRDS))
    control_plane.kubectl("wait", "--for=condition=Established", "crd/applications.argoproj.io",
                          "crd/appprojects.argoproj.io")
    control_plane.kubectl("apply", "-n", ns, "-f", "-", input=configmap(web) + "---\n" + configmap(hand))
    control_plane.kubectl("apply", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": {"name": "shop", "namespace": ns},
        "spec": {"syncWindows": [{"kind": "deny", "schedule": "* * * * *", "duration": "1h",
                                  "applications": [web]}]}}))
    for manifest in (application(web, ns, repo, "web"),
                     application(plugin, ns, repo, "web", source={"repoURL": f"file://{repo}", "path": "web",
                                                                  "plugin": {"name": "cmp-vault"}}),
                     application(hand, ns, repo, "web")):  # the hand-written app of that name wins
        control_plane.kubectl("apply", "-f", "-", input=manifest)
    config = {
        "clusters": [{"name": "real", "kubeconfig": str(control_plane.agent_kubeconfig)}],
        "cacheDir": str(work / "cache"), "gitPollInterval": "1h", "interval": "1h",
        "appSources": [{"argocd": {"cluster": "real", "namespace": ns, "labelSelector": "team=shop"}}],
        "apps": [{"name": hand, "source": {"repoURL": f"file://{repo}", "targetRevision": "main", "path": "hand"},
                  "destination": {"cluster": "real", "namespace": ns}}],
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    agent = build_agent(load_config(str(work / "config.yaml")))
    await agent.start()
    try:
        apps = agent.snapshot()
        assert sorted(apps) == sorted([web, plugin, hand])
        assert apps[web][1].state is AppState.HEALTHY and apps[web][1].frozen is True
        assert apps[web][0].project == "shop" and apps[web][0].labels == {"team": "shop"}
        assert apps[plugin][1].state is AppState.UNKNOWN
        assert "config management plugin" in apps[plugin][1].reason
        assert apps[hand][0].source.path == "hand" and apps[hand][1].frozen is False

        control_plane.kubectl("apply", "-f", "-", input=application(api, ns, repo, "api"))
        await eventually(lambda: api in agent.snapshot())
        await eventually(lambda: agent.snapshot()[api][1].state is AppState.MISSING)
        control_plane.kubectl("delete", "application", web, "-n", ns)
        await eventually(lambda: web not in agent.snapshot())
    finally:
        await agent.close()
    verbs = control_plane.verbs_of(AGENT_USER)
    assert set(verbs) <= {"get", "list", "watch"}, verbs
