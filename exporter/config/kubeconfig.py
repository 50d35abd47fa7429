"""What is wrong with a cluster's kubeconfig, in words that name the cause.

The Kubernetes client reports a missing file as "Invalid kube-config file. Expected key contexts"
and leaves the real cause in a library warning; reading the file first lets the config check (for
an explicit ``kubeconfig``) and the connection (for any) say that the file does not exist, cannot
be read, is not YAML, or lacks the context, cluster or user it needs.
"""

from __future__ import annotations

import os
from typing import Any

import yaml


def default_kubeconfig() -> str:
    """The file the Kubernetes client reads when none is named: ``$KUBECONFIG``'s first, or ~/.kube/config."""
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), "")
    return first or os.path.expanduser("~/.kube/config")


def _names(data: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    items = data.get(key)
    return {str(i["name"]): (i.get(key[:-1]) or {}) for i in items if isinstance(i, dict) and i.get("name")} \
        if isinstance(items, list) else {}


def kubeconfig_problem(path: str | None, context: str | None) -> str | None:
    """Why the kubeconfig at ``path`` (None: the default one) cannot give credentials for
    ``context`` (None: its current-context); None when reading the file finds nothing wrong.
    Blocking: reads the file."""
    path = path or default_kubeconfig()
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return f"kubeconfig {path} does not exist"
    except IsADirectoryError:
        return f"kubeconfig {path} is a directory, not a file"
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"cannot read kubeconfig {path}: {reason}"
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return f"kubeconfig {path} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"
    if not isinstance(data, dict):
        return f"kubeconfig {path} is not a kubeconfig (no contexts, clusters and users)"
    contexts = _names(data, "contexts")
    name = context or data.get("current-context")
    if not name:
        return f"kubeconfig {path} has no current-context; name the context to use"
    if name not in contexts:
        have = ", ".join(sorted(contexts)) or "none"
        return f"kubeconfig {path} has no context '{name}' (contexts: {have})"
    chosen = contexts[name]
    for key in ("cluster", "user"):
        wanted = chosen.get(key)
        if not wanted:
            return f"context '{name}' in kubeconfig {path} names no {key}"
        if wanted not in _names(data, f"{key}s"):
            return f"context '{name}' in kubeconfig {path} names {key} '{wanted}', which the file does not define"
    return None
