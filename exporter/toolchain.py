"""The tools the agent found, for ``--version -v``: Helm's library (helm-python-sdk), the kustomize
it renders with (``kustomize``, else ``kubectl kustomize``) and git. Each is asked for its version
with a short time limit; a tool that is missing or does not answer says so."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import metadata

__all__ = ["tool_versions"]

#: How long each tool may take to say its version.
TIME_LIMIT = 10.0


def _output(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIME_LIMIT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _helm() -> str:
    try:
        return f"helm-python-sdk {metadata.version('helm-python-sdk')}"
    except metadata.PackageNotFoundError:
        return "not installed (charts need pip install 'gitops-drift-exporter[helm]')"


def _kustomize() -> str:
    if shutil.which("kustomize"):
        said = _output(["kustomize", "version"])
        return f"kustomize {said}" if said else "kustomize (its version could not be read)"
    if shutil.which("kubectl"):
        said = _output(["kubectl", "version", "--client", "-o", "json"])
        try:
            found = json.loads(said or "").get("kustomizeVersion")
        except ValueError:
            found = None
        return f"kubectl kustomize {found}" if found else "kubectl kustomize (its version could not be read)"
    return "not found (kustomize sources need kustomize or kubectl on PATH)"


def _git() -> str:
    said = _output(["git", "--version"]) if shutil.which("git") else None
    return said.removeprefix("git version ").strip() if said else "not found (Git sources need git on PATH)"


def tool_versions() -> list[tuple[str, str]]:
    """(tool, version or why not) for each tool the agent uses."""
    return [("helm", _helm()), ("kustomize", _kustomize()), ("git", _git())]
