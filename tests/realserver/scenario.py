"""One app on the real API server: its manifests in a real Git repository, applied the way users
apply them, and the agent's verdict on it through its read-only identity."""

from __future__ import annotations

import os
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from control_plane import ControlPlane

from exporter.model import AppStatus
from exporter.wiring import build_agent, load_config

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}


@dataclass
class Scenario:
    plane: ControlPlane
    namespace: str
    work: Path
    manifests: str = ""
    app_config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        #: The app's name, unique per test: it is the tracking label's value, and every test shares
        #: one cluster. Manifests say ``$APP`` where it goes.
        self.app = f"app-{self.namespace}"
        self.repo = self.work / "repo"
        self.repo.mkdir(exist_ok=True)
        self._git("init", "-q", "-b", "main")

    def _git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.repo, env=GIT_ENV, check=True, capture_output=True)

    def commit(self, manifests: str, path: str = "app/manifests.yaml") -> str:
        """Put ``manifests`` in Git (the file under the app's path) and return the text."""
        text = textwrap.dedent(manifests).lstrip().replace("$APP", self.app)
        target = self.repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        self._git("add", "-A")
        self._git("commit", "-q", "--allow-empty", "-m", "change")
        self.manifests = text
        return text

    def head(self) -> str:
        """The commit Git's main branch is at."""
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=self.repo, check=True, capture_output=True,
                              text=True).stdout.strip()

    # -- what users do ------------------------------------------------------------------------------

    def apply(self, text: str | None = None, *, server_side: bool = False, manager: str | None = None) -> None:
        args = ["apply", "-n", self.namespace, "-f", "-"]
        if server_side:
            args += ["--server-side", "--force-conflicts"]
        if manager:
            args.append(f"--field-manager={manager}")
        self.plane.kubectl(*args, input=text if text is not None else self.manifests)

    def kubectl(self, *args: str, input: str | None = None) -> str:
        return self.plane.kubectl(*args, "-n", self.namespace, input=input)

    def get(self, kind: str, name: str) -> dict[str, Any]:
        return self.plane.get(kind, name, "-n", self.namespace)

    # -- what the agent says --------------------------------------------------------------------------

    async def evaluate(self, **app: Any) -> AppStatus:
        source = {"repoURL": f"file://{self.repo}", "targetRevision": "main", "path": "app", **app.pop("source", {})}
        doc = {
            "clusters": [{"name": "real", "kubeconfig": str(self.plane.agent_kubeconfig)}],
            "cacheDir": str(self.work / "cache"),
            "apps": [{"name": self.app, "source": source,
                      "destination": {"cluster": "real", "namespace": self.namespace}, **app}],
        }
        config = self.work / "config.yaml"
        config.write_text(yaml.safe_dump(doc))
        agent = build_agent(load_config(str(config)))
        try:
            await agent.start(watch=False)
            return await agent.evaluate(self.app)
        finally:
            await agent.close()


def drift(status: AppStatus) -> list[str]:
    """``Kind/name path`` of every difference that counts, plus missing and extraneous objects."""
    out: list[str] = []
    for o in status.objects:
        name = f"{o.key.kind}/{o.key.name}"
        if not o.exists:
            out.append(f"{name} missing")
        elif o.requires_pruning:
            out.append(f"{name} requires pruning")
        elif o.diff is not None:
            out += [f"{name} {d.path}" for d in o.diff.differences if d.ignored_by is None]
    return sorted(out)
