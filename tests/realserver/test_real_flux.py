"""Apps read from Flux's Kustomizations on the real API server, with the test playing Flux's part:
its GitRepository's artifact and its Kustomizations' status written through the status
subresource as source-controller and kustomize-controller write them, and what Flux applies
applied server-side by field manager ``kustomize-controller`` with Flux's owner labels. The
objects Flux would apply are written out here by hand from Flux's rules, not built by the code
under test. The Git repository is served over HTTP on loopback behind Basic authentication, with
the credentials in the agent's own ``repositories[]``."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from control_plane import ControlPlane
from git_http import serve_dumb_http
from scenario import GIT_ENV

from exporter.agent import Agent
from exporter.model import AppState, AppStatus
from exporter.status import app_diff
from exporter.wiring import build_agent, load_config

CRDS = Path(__file__).parent / "data" / "flux-crds.yaml"
TOKEN = "flux-test-token-0451"
MANAGER = "kustomize-controller"

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
"""


def configmap(name: str, mode: str = "live", namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"mode": mode}}


REPO_FILES = {
    # A plain path: no kustomization.yaml, so Flux generates one listing the YAML files below it.
    "plain/settings.yaml": yaml.safe_dump(configmap("settings")),
    "plain/more/flags.yml": yaml.safe_dump(configmap("flags")),
    "plain/README.md": "not a manifest",
    # SOPS-encrypted in Git; Flux decrypts it with a key this agent never holds.
    "plain/db.yaml": yaml.safe_dump({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
        "stringData": {"password": "ENC[AES256_GCM,data:k8Zd0w==,iv:cXVpdGVhbml2,tag:dGFn,type:str]"},
        "sops": {"mac": "ENC[AES256_GCM,data:bWFj,type:str]", "lastmodified": "2026-12-01T10:00:00Z",
                 "age": [{"recipient": "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgp", "enc": "(wrapped key)"}],
                 "version": "3.9.0"}}),
    # An overlay whose own kustomization Flux adds a prefix, an image and a patch to.
    "web/kustomization.yaml": "resources: [deploy.yaml, config.yaml]\n",
    "web/deploy.yaml": DEPLOY,
    "web/config.yaml": yaml.safe_dump(configmap("config")),
}


class Git:
    """The deploy repository, bare behind HTTP; commits land in the work tree and are pushed."""

    def __init__(self, work: Path) -> None:
        self.tree, self.bare = work / "deploy", work / "www" / "deploy.git"
        self.tree.mkdir()
        self._git("init", "-q", "-b", "main")
        self.server: Any = None
        self.url = ""

    def _git(self, *args: str, cwd: Path | None = None) -> str:
        return subprocess.run(["git", *args], cwd=cwd or self.tree, env=GIT_ENV, check=True,
                              capture_output=True, text=True).stdout.strip()

    def commit(self, files: dict[str, str]) -> str:
        for name, text in files.items():
            (self.tree / name).parent.mkdir(parents=True, exist_ok=True)
            (self.tree / name).write_text(text)
        self._git("add", "-A")
        self._git("commit", "-q", "-m", "deploy")
        sha = self._git("rev-parse", "HEAD")
        if not self.bare.exists():
            self.bare.parent.mkdir(parents=True)
            self._git("clone", "-q", "--bare", str(self.tree), str(self.bare), cwd=self.tree.parent)
            header = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
            self.server, host = serve_dumb_http(self.bare, header)
            self.url = f"http://{host}/deploy.git"
        else:
            self._git("push", "-q", str(self.bare), "main")
            self._git("update-server-info", cwd=self.bare)
        return sha


class Flux:
    """Plays source-controller and kustomize-controller on the real server, in one namespace."""

    def __init__(self, plane: ControlPlane, namespace: str) -> None:
        self.plane, self.ns = plane, namespace

    def _status(self, path: str, status: dict[str, Any]) -> None:
        self.plane.request("PATCH", f"{path}/status", json.dumps({"status": status}), "application/merge-patch+json")

    def source(self, url: str, sha: str, name: str = "deploy", **spec: Any) -> None:
        self.plane.kubectl("apply", "-f", "-", input=yaml.safe_dump({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": name, "namespace": self.ns},
            "spec": {"interval": "1m", "url": url, "ref": {"branch": "main"}, **spec}}))
        self._status(f"/apis/source.toolkit.fluxcd.io/v1/namespaces/{self.ns}/gitrepositories/{name}",
                     {"artifact": {"revision": f"main@sha1:{sha}"}})

    def kustomization(self, name: str, path: str, **spec: Any) -> None:
        self.plane.kubectl("apply", "-f", "-", input=yaml.safe_dump({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": self.ns},
            "spec": {"interval": "10m", "prune": True, "path": path, "targetNamespace": self.ns,
                     "sourceRef": {"kind": "GitRepository", "name": "deploy"}, **spec}}))

    def applied(self, name: str, objects: list[dict[str, Any]], sha: str,
                ready: tuple[str, str, str] = ("True", "ReconciliationSucceeded", "Applied revision"),
                revision: str | None = None) -> None:
        """Apply ``objects`` as kustomize-controller does, then record the inventory, the revision
        (``main@sha1:<sha>``, or ``revision`` as given) and the Ready condition in the
        Kustomization's status."""
        entries = []
        for obj in objects:
            obj = json.loads(json.dumps(obj))
            obj["metadata"]["namespace"] = self.ns
            obj["metadata"].setdefault("labels", {}).update({
                "kustomize.toolkit.fluxcd.io/name": name, "kustomize.toolkit.fluxcd.io/namespace": self.ns})
            group, _, version = obj["apiVersion"].rpartition("/")
            plural = obj["kind"].lower() + "s"
            base = f"/apis/{group}/{version}" if group else f"/api/{version}"
            self.plane.server_side_apply(f"{base}/namespaces/{self.ns}/{plural}/{obj['metadata']['name']}",
                                         json.dumps(obj), MANAGER)
            entries.append({"id": f"{self.ns}_{obj['metadata']['name']}_{group}_{obj['kind']}", "v": version})
        status, reason, message = ready
        self._status(f"/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/{self.ns}/kustomizations/{name}", {
            "inventory": {"entries": entries}, "lastAppliedRevision": revision or f"main@sha1:{sha}",
            "lastAttemptedRevision": revision or f"main@sha1:{sha}",
            "conditions": [{"type": "Ready", "status": status, "reason": reason, "message": message,
                            "lastTransitionTime": "2026-12-07T10:00:00Z"}]})


PASSWORD = "decrypted-by-flux-7731"
DB_AS_DECRYPTED = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": PASSWORD}}


def plain_as_flux_applies(suffix: str) -> list[dict[str, Any]]:
    """``plain`` with nameSuffix ``suffix``: its two ConfigMaps and the Secret Flux decrypted."""
    db = json.loads(json.dumps(DB_AS_DECRYPTED))
    db["metadata"]["name"] += suffix
    return [configmap(f"settings{suffix}"), configmap(f"flags{suffix}"), db]


def web_as_flux_applies(ns: str) -> list[dict[str, Any]]:
    """``web`` with namePrefix ``prod-``, image tag 1.27 and the patch of ``data.mode``."""
    deploy = yaml.safe_load(DEPLOY)
    deploy["metadata"]["name"] = "prod-web"
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    return [deploy, configmap("prod-config", "prod")]


WEB_SPEC = {"namePrefix": "prod-", "images": [{"name": "nginx", "newTag": "1.27"}],
            "patches": [{"patch": "- op: replace\n  path: /data/mode\n  value: prod\n",
                         "target": {"kind": "ConfigMap"}}]}


@pytest.fixture
def git(work: Path) -> Iterator[Git]:
    repo = Git(work)
    yield repo
    if repo.server is not None:
        repo.server.shutdown()


def agent_config(plane: ControlPlane, work: Path, git: Git, ns: str, kubeconfig: str | None = None,
                 freeze_log: bool = False, names: dict[str, str] | None = None, source_secrets: bool = False) -> str:
    """The agent's config: the Git token in ``repositories[]``, or with ``source_secrets`` none
    there and the GitRepository's own Secret read instead."""
    (work / "token").write_text(TOKEN)
    flux: dict[str, Any] = {"cluster": "real", "namespace": ns, "names": names or {}}
    config: dict[str, Any] = {
        "clusters": [{"name": "real", "kubeconfig": kubeconfig or str(plane.agent_kubeconfig)}],
        "repositories": [{"url": git.url.rpartition("/")[0] + "/", "username": "x-access-token",
                          "tokenFile": str(work / "token")}],
        "cacheDir": str(work / "cache"), "gitPollInterval": "1h", "interval": "1h",
        "appSources": [{"flux": flux}],
    }
    if source_secrets:
        config["repositories"], flux["readSourceSecrets"] = [], True
    if freeze_log:
        config["freezeLog"] = str(work / "freezes.jsonl")
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    return str(work / "config.yaml")


async def eventually(agent: Agent, name: str, check: Callable[[AppStatus], bool], timeout: float = 30.0) -> AppStatus:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = agent.snapshot().get(name)
        if found is not None and check(found[1]):
            return found[1]
        assert asyncio.get_running_loop().time() < deadline, f"{name}: {found[1] if found else 'no such app'}"
        await asyncio.sleep(0.1)


def install_crds(plane: ControlPlane) -> None:
    plane.kubectl("apply", "-f", str(CRDS))
    plane.kubectl("wait", "--for=condition=Established", *(
        f"crd/{d['metadata']['name']}" for d in yaml.safe_load_all(CRDS.read_text())))


def flux_with_source(plane: ControlPlane, namespace: str, git: Git, files: dict[str, str]) -> tuple[Flux, str]:
    """Flux's kinds installed, ``files`` committed, and the GitRepository ``deploy`` at that commit."""
    install_crds(plane)
    flux = Flux(plane, namespace)
    sha = git.commit(files)
    flux.source(git.url, sha)
    return flux, sha


async def test_kustomizations_become_apps_built_as_flux_builds_them_and_drift_is_seen(
        control_plane: ControlPlane, namespace: str, work: Path, git: Git) -> None:
    ns = namespace
    flux, sha = flux_with_source(control_plane, namespace, git, REPO_FILES)
    flux.kustomization("plain", "./plain")
    flux.kustomization("web", "./web", **WEB_SPEC)
    flux.applied("plain", [configmap("settings"), configmap("flags"), DB_AS_DECRYPTED], sha)
    flux.applied("web", web_as_flux_applies(ns), sha)
    # The web Kustomization's app goes by another name; its objects keep Flux's labels.
    agent = build_agent(load_config(agent_config(control_plane, work, git, ns, names={f"{ns}/web": "web"})))
    await agent.start()
    try:
        assert sorted(agent.snapshot()) == [f"{ns}/plain", "web"]
        plain = await eventually(agent, f"{ns}/plain", lambda s: s.state is AppState.HEALTHY)
        assert sorted(o.key.name for o in plain.objects) == ["db", "flags", "settings"]
        assert plain.reason == f"not compared: Secret {ns}/db (SOPS-encrypted in Git)"
        assert PASSWORD not in repr(plain) and PASSWORD not in app_diff(plain)
        web = await eventually(agent, "web", lambda s: s.state is AppState.HEALTHY)
        assert sorted(o.key.name for o in web.objects) == ["prod-config", "prod-web"]
        assert web.deployer is not None and not web.deployer.behind and web.revision == sha

        # A hand edit of a field Flux applied is drift.
        control_plane.kubectl("patch", "configmap", "prod-config", "-n", ns, "-p", '{"data":{"mode":"hand"}}')
        web = await eventually(agent, "web", lambda s: s.state is AppState.OUT_OF_SYNC)
        assert "prod-config differs at /data/mode" in web.reason
        # What Flux applied for it and Git dropped is found through its labels, under its new name.
        flux.applied("web", [*web_as_flux_applies(ns), configmap("leftover")], sha)
        await eventually(agent, "web", lambda s: f"ConfigMap {ns}/leftover requires pruning" in s.reason)

        # An object Flux applied for the Kustomization and Git no longer has requires pruning.
        flux.applied("plain", [configmap("settings"), configmap("flags"), DB_AS_DECRYPTED, configmap("retired")], sha)
        plain = await eventually(agent, f"{ns}/plain", lambda s: s.state is AppState.OUT_OF_SYNC)
        assert plain.reason == f"ConfigMap {ns}/retired requires pruning (Flux prunes it)"

        # Its labels taken off, it is still the Kustomization's: Flux's inventory lists it.
        control_plane.kubectl("label", "configmap", "retired", "-n", ns, "kustomize.toolkit.fluxcd.io/name-",
                              "kustomize.toolkit.fluxcd.io/namespace-")
        await eventually(agent, f"{ns}/plain", lambda s: any(
            o.key.name == "retired" and o.requires_pruning and o.health is None for o in s.objects)
            and s.evaluated_at > plain.evaluated_at)
        plain = agent.snapshot()[f"{ns}/plain"][1]
        assert plain.reason == f"ConfigMap {ns}/retired requires pruning (Flux prunes it)"
    finally:
        await agent.close()


async def test_flux_own_word_suspended_failing_and_behind_counts_in_the_verdict(
        control_plane: ControlPlane, namespace: str, work: Path, git: Git) -> None:
    ns = namespace
    flux, first = flux_with_source(control_plane, namespace, git, REPO_FILES)
    for name in ("paused", "failing", "behind"):
        flux.kustomization(name, "./plain", nameSuffix=f"-{name}", suspend=name == "paused")
        flux.applied(name, plain_as_flux_applies(f"-{name}"), first)
    config = agent_config(control_plane, work, git, ns, freeze_log=True)
    agent = build_agent(load_config(config))
    await agent.start()
    try:
        paused = await eventually(agent, f"{ns}/paused", lambda s: s.state is AppState.SUSPENDED)
        assert paused.reason == f"Flux Kustomization {ns}/paused is suspended" and paused.frozen
        await eventually(agent, f"{ns}/failing", lambda s: s.state is AppState.HEALTHY)

        # Drift while suspended stays Suspended, and is named.
        control_plane.kubectl("patch", "configmap", "flags-paused", "-n", ns, "-p", '{"data":{"mode":"hand"}}')
        paused = await eventually(agent, f"{ns}/paused", lambda s: "differs" in s.reason)
        assert paused.state is AppState.SUSPENDED and "flags-paused differs at /data/mode" in paused.reason

        # Flux's Ready=False is Degraded with Flux's reason and message.
        flux.applied("failing", plain_as_flux_applies("-failing"), first,
                     ready=("False", "HealthCheckFailed", "timeout waiting for: [Deployment/shop/web]"))
        failing = await eventually(agent, f"{ns}/failing", lambda s: s.state is AppState.DEGRADED)
        assert failing.reason == (f"Flux Kustomization {ns}/failing failed: HealthCheckFailed: "
                                  "timeout waiting for: [Deployment/shop/web]")

        # A new commit the source has fetched and Flux has not applied yet: both revisions named.
        second = git.commit({"elsewhere/cm.yaml": yaml.safe_dump(configmap("other"))})
        flux.source(git.url, second)
        behind = await eventually(agent, f"{ns}/behind", lambda s: s.state is AppState.PROGRESSING)
        assert behind.reason == (f"Flux Kustomization {ns}/behind has applied main@sha1:{first}, "
                                 f"its source is at main@sha1:{second}")
        flux.applied("behind", plain_as_flux_applies("-behind"), second)
        await eventually(agent, f"{ns}/behind", lambda s: s.state is AppState.HEALTHY)

        # Resuming the Kustomization ends the suspension; the drift is then OutOfSync.
        control_plane.kubectl("patch", "kustomization", "paused", "-n", ns, "--type=merge",
                              "-p", '{"spec":{"suspend":false}}')
        paused = await eventually(agent, f"{ns}/paused", lambda s: s.state is AppState.OUT_OF_SYNC)
        assert not paused.frozen

        # The freeze report names the suspension, the change made during it, and the resumption.
        await agent.freeze_log.flush()
        report = await report_freeze(config)
        assert [e["change"] for e in report if e["app"] == f"{ns}/paused"] == ["suspended", "spec", "resumed"]
        assert report[0]["what"] == f"Flux Kustomization {ns}/paused suspended: Git is not applied until it is resumed"

        # A Kustomization deleted is an app gone.
        control_plane.kubectl("delete", "kustomization", "failing", "-n", ns)
        deadline = asyncio.get_running_loop().time() + 20
        while f"{ns}/failing" in agent.snapshot():
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.1)
    finally:
        await agent.close()


async def report_freeze(config: str) -> list[dict[str, Any]]:
    """``report freeze --output json``, run as a user runs it."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "exporter.cli", "report", "freeze",
                                                "--config", config, "--output", "json",
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    violations: list[dict[str, Any]] = json.loads(out)["violations"]
    return violations


CHART = Path(__file__).parents[2] / "helm" / "gitops-drift-exporter"
FLUX_VALUES = Path(__file__).parents[2] / "docs" / "examples" / "flux-rbac-values.yaml"


def chart_identity(plane: ControlPlane, ns: str, work: Path) -> tuple[str, str]:
    """The chart's ServiceAccount, ClusterRole and binding, rendered by Helm with the documented
    Flux values and applied to the real server; the account's user name and a kubeconfig for it."""
    import helm_python as helm

    values = yaml.safe_load(FLUX_VALUES.read_text())
    with helm.Chart.load(CHART) as loaded:
        manifests = loaded.render(values, name=f"gde-{ns}", namespace=ns, is_install=True)
    docs = [d for path, text in manifests.items() if path.endswith(".yaml")
            for d in yaml.safe_load_all(text) if d and d["kind"] in ("ServiceAccount", "ClusterRole",
                                                                     "ClusterRoleBinding")]
    assert sorted(d["kind"] for d in docs) == ["ClusterRole", "ClusterRoleBinding", "ServiceAccount"]
    plane.kubectl("apply", "-n", ns, "-f", "-", input=yaml.safe_dump_all(docs))
    account = next(d for d in docs if d["kind"] == "ServiceAccount")["metadata"]["name"]
    token = plane.kubectl("create", "token", account, "-n", ns, "--duration=1h").strip()
    kubeconfig = yaml.safe_load(plane.agent_kubeconfig.read_text())
    kubeconfig["users"][0]["user"] = {"token": token}
    (work / "chart-kubeconfig").write_text(yaml.safe_dump(kubeconfig))
    return f"system:serviceaccount:{ns}:{account}", str(work / "chart-kubeconfig")


async def test_the_chart_rbac_for_flux_reads_every_kustomization_and_never_writes(
        control_plane: ControlPlane, namespace: str, work: Path, git: Git) -> None:
    ns = namespace
    flux, sha = flux_with_source(control_plane, namespace, git, REPO_FILES)
    flux.kustomization("web", "./web", **WEB_SPEC)
    flux.applied("web", web_as_flux_applies(ns), sha)
    user, kubeconfig = chart_identity(control_plane, ns, work)
    agent = build_agent(load_config(agent_config(control_plane, work, git, ns, kubeconfig)))
    await agent.start()
    try:
        await eventually(agent, f"{ns}/web", lambda s: s.state is AppState.HEALTHY)
    finally:
        await agent.close()
    verbs = control_plane.verbs_of(user)
    assert verbs and set(verbs) <= {"get", "list", "watch"}, verbs


SECRET_TOKEN = "s3cr3t-token-value-5521"


async def test_post_build_variables_from_a_configmap_and_a_secret_and_the_secret_never_shows(
        control_plane: ControlPlane, namespace: str, work: Path, git: Git, caplog: pytest.LogCaptureFixture) -> None:
    ns = namespace
    flux, sha = flux_with_source(control_plane, namespace, git, {
        "vars/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
                              "data: {region: '${region}', size: '${size:=small}'}\n",
        "vars/token.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: token}\nstringData: {token: '${token}'}\n",
        "vars/dsn.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dsn}\ndata: {url: 'db://app:${token}@db'}\n",
    })
    control_plane.kubectl("create", "configmap", "cluster-vars", "-n", ns, "--from-literal=region=eu-central-1")
    control_plane.kubectl("create", "secret", "generic", "cluster-secrets", "-n", ns, f"--from-literal=token={SECRET_TOKEN}")
    flux.kustomization("vars", "./vars", postBuild={"substituteFrom": [
        {"kind": "ConfigMap", "name": "cluster-vars"}, {"kind": "Secret", "name": "cluster-secrets"},
        {"kind": "ConfigMap", "name": "not-there", "optional": True}]})
    flux.applied("vars", [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
         "data": {"region": "eu-central-1", "size": "small"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, "stringData": {"token": SECRET_TOKEN}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dsn"}, "data": {"url": f"db://app:{SECRET_TOKEN}@db"}},
    ], sha)
    caplog.set_level("DEBUG")
    agent = build_agent(load_config(agent_config(control_plane, work, git, ns)))
    await agent.start()
    try:
        app = await eventually(agent, f"{ns}/vars", lambda s: s.state is AppState.HEALTHY)
        assert app.reason == f"not compared: ConfigMap {ns}/dsn (holds variables substituted from a Secret (token))"

        # A variable's source changing changes what Git (as Flux builds it) says.
        control_plane.kubectl("patch", "configmap", "cluster-vars", "-n", ns, "-p", '{"data":{"region":"us-east-1"}}')
        app = await eventually(agent, f"{ns}/vars", lambda s: s.state is AppState.OUT_OF_SYNC)
        assert app.reason == f"ConfigMap {ns}/settings differs at /data/region"

        # A hand edit of the Secret Flux applied is drift, shown without its value.
        control_plane.kubectl("patch", "secret", "token", "-n", ns, "-p", '{"stringData":{"token":"hand-set"}}')
        app = await eventually(agent, f"{ns}/vars", lambda s: "token" in s.reason and "differs" in s.reason)
        shown = [repr(app), app_diff(app), repr(agent.snapshot()), caplog.text]
        assert not any(SECRET_TOKEN in text for text in shown)
    finally:
        await agent.close()


async def test_with_read_source_secrets_the_git_repository_secret_ref_gives_the_credentials(
        control_plane: ControlPlane, namespace: str, work: Path, git: Git, caplog: pytest.LogCaptureFixture) -> None:
    ns = namespace
    install_crds(control_plane)
    flux = Flux(control_plane, ns)
    sha = git.commit(REPO_FILES)
    control_plane.kubectl("create", "secret", "generic", "deploy-auth", "-n", ns,
                          "--from-literal=username=x-access-token", f"--from-literal=password={TOKEN}")
    flux.source(git.url, sha, secretRef={"name": "deploy-auth"})
    flux.kustomization("web", "./web", **WEB_SPEC)
    flux.applied("web", web_as_flux_applies(ns), sha)
    caplog.set_level("DEBUG")
    agent = build_agent(load_config(agent_config(control_plane, work, git, ns, source_secrets=True)))
    await agent.start()
    try:
        web = await eventually(agent, f"{ns}/web", lambda s: s.state is AppState.HEALTHY)
        assert web.revision == sha

        # A Secret the agent cannot use as Flux would makes the app Unknown, naming it.
        control_plane.kubectl("create", "secret", "generic", "ssh-auth", "-n", ns, "--from-literal=identity=KEY")
        control_plane.kubectl("patch", "gitrepository", "deploy", "-n", ns, "--type=merge",
                              "-p", '{"spec":{"secretRef":{"name":"ssh-auth"}}}')
        web = await eventually(agent, f"{ns}/web", lambda s: s.state is AppState.UNKNOWN)
        assert web.reason.endswith(f"Secret {ns}/ssh-auth of GitRepository {ns}/deploy holds an SSH key (identity); "
                                   "this agent reads username/password and .dockerconfigjson")
        assert TOKEN not in caplog.text and TOKEN not in repr(agent.snapshot())
    finally:
        await agent.close()
