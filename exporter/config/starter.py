"""``gitops-drift-exporter init``: a commented starter config from a kubeconfig context and a repository.

A newcomer's first config is the hardest one to write: which cluster name, which kubeconfig
context, which keys exist at all. The starter names the context the user already works in, one
app (or, for a glob path, one app per directory, as Argo CD's ApplicationSet Git generator makes
them), and shows the optional sections commented out, each with the key it needs. It is checked
by the same reader the agent uses before it is written, so ``init`` never writes a config that
``check --offline`` refuses.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import yaml

from exporter.config.kubeconfig import default_kubeconfig, kubeconfig_problem

__all__ = ["Starter", "StarterError", "context_of", "render_starter"]


class StarterError(Exception):
    """What ``init`` cannot work out: said in one line."""


@dataclass(frozen=True)
class Starter:
    """What the starter config is made from."""

    repo_url: str
    path: str = "."
    revision: str = "HEAD"
    namespace: str = ""
    cluster: str = "in-cluster"
    kubeconfig: str | None = None  # None with in_cluster=False: $KUBECONFIG or ~/.kube/config
    context: str | None = None
    in_cluster: bool = False


def _q(value: str) -> str:
    """``value`` as a YAML scalar that reads back as the same string (JSON's quoting is YAML's)."""
    return json.dumps(value)


def cluster_name(context: str) -> str:
    """A short cluster name from a kubeconfig context (``arn:aws:eks:...:cluster/prod`` is ``prod``)."""
    tail = re.split(r"[/:]", context)[-1] or context
    name = re.sub(r"[^a-z0-9-]+", "-", tail.lower()).strip("-")
    return name or "cluster"


def context_of(kubeconfig: str | None, context: str | None) -> tuple[str, str]:
    """``(context, server)`` of ``context`` (None: the current one) in ``kubeconfig`` (None: the
    default file), read without contacting the cluster. Raises ``StarterError`` naming the cause."""
    path = kubeconfig or default_kubeconfig()
    problem = kubeconfig_problem(path, context)
    if problem is not None:
        raise StarterError(f"{problem}; pass --kubeconfig and --context, or --in-cluster")
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=yaml.CSafeLoader)
    name = context or str(data.get("current-context"))
    contexts = {c.get("name"): c.get("context") or {} for c in data.get("contexts") or [] if isinstance(c, dict)}
    clusters = {c.get("name"): c.get("cluster") or {} for c in data.get("clusters") or [] if isinstance(c, dict)}
    server = str(clusters.get(contexts[name].get("cluster"), {}).get("server") or "")
    return name, server


def _cluster_block(s: Starter, server: str) -> list[str]:
    if s.in_cluster:
        return ["clusters:",
                "  # The cluster the agent runs in, with its ServiceAccount (the Helm chart makes a read-only one).",
                f"  - name: {_q(s.cluster)}", "    inCluster: true"]
    lines = ["clusters:",
             f"  # kubeconfig context {_q(s.context or '')}{f' (server {server})' if server else ''}.",
             "  # Only get, list and watch are ever used; a read-only identity is enough.",
             f"  - name: {_q(s.cluster)}"]
    lines.append(f"    kubeconfig: {_q(s.kubeconfig)}" if s.kubeconfig else
                 "    # kubeconfig: /path/to/kubeconfig   # default: $KUBECONFIG, else ~/.kube/config")
    lines.append(f"    context: {_q(s.context or '')}")
    return lines


def _app_block(s: Starter) -> list[str]:
    destination = [f"        cluster: {_q(s.cluster)}"]
    source = [f"        repoURL: {_q(s.repo_url)}", f"        targetRevision: {_q(s.revision)}"]
    if any(ch in s.path for ch in "*?["):
        return ["appGenerators:",
                f"  # One app per directory matching {_q(s.path)}, named after the directory.",
                "  - git:", f"      repoURL: {_q(s.repo_url)}", f"      revision: {_q(s.revision)}",
                "      directories:", f"        - path: {_q(s.path)}",
                "    template:", '      name: "{{path.basename}}"',
                "      source:", '        path: "{{path}}"',
                "      destination:", destination[0],
                f"        namespace: {_q(s.namespace) if s.namespace else _q('{{path.basename}}')}"]
    name = cluster_name(os.path.basename(s.path.rstrip("/")) if s.path not in (".", "") else
                        os.path.basename(s.repo_url.rstrip("/")).removesuffix(".git"))
    return ["apps:",
            "  # The directory of the repository this app's manifests are in (plain YAML, kustomize or a chart).",
            f"  - name: {_q(name)}", "    source:", *[line[2:] for line in source], f"      path: {_q(s.path)}",
            "    destination:", destination[0][2:], f"      namespace: {_q(s.namespace or 'default')}"]


_OPTIONAL = """\
# Credentials for private repositories, by URL prefix; values only from files or variables.
# repositories:
#   - url: https://github.com/my-org/
#     username: x-access-token
#     tokenEnv: GITHUB_TOKEN

# For every app: fields an operator or controller owns (Argo CD's ignoreDifferences), and how long
# an app stays bad before people are told.
# defaults:
#   compare:
#     ignoreDifferences:
#       - group: apps
#         kind: Deployment
#         jsonPointers: [/spec/replicas]
#   notifications:
#     threshold: 10m

# Where alerts go: Slack, or Teams and others through apprise.
# notifications:
#   channels:
#     - name: team
#       type: slack
#       webhookUrlEnv: SLACK_WEBHOOK_URL
#   routes:
#     - channels: [team]
#       projects: ["*"]

# Freezes: changes seen while one is active are kept for `report freeze`.
# windows:
#   - name: weekend
#     kind: deny
#     schedule: "0 18 * * 5"
#     duration: 62h
# freezeLog: /var/lib/gitops-drift-exporter/freezes.jsonl

# Also export argocd_app_info with Argo CD's labels, for Argo CD's alert rules and dashboards.
# metrics:
#   argocdAppInfo: true
"""


def render_starter(s: Starter, server: str = "") -> str:
    """The starter config's text."""
    head = ["# gitops-drift-exporter configuration (docs/configuration.md has every key).",
            "# Check it without contacting clusters or Git:  gitops-drift-exporter check --offline --config FILE",
            "# Evaluate once:                               gitops-drift-exporter check --config FILE", ""]
    return "\n".join([*head, *_cluster_block(s, server), "", *_app_block(s), "", ""]) + _OPTIONAL
