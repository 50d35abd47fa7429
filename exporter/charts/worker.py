"""Helm's engine in a child process for everything that touches a chart repository or registry:
``python -P -m exporter.charts.worker REQUEST.json``.

Helm's Go SDK blocks the calling thread and cannot be interrupted from Python, and a repository
can hang; in a child process the agent's time limit kills it. The request file (mode 0600, never
the command line) carries any credential. stdout carries one JSON object: the answer, or
``{"error": text}``.

Operations: ``versions`` (an HTTP repository's index entries for one chart, or an OCI
repository's tags), ``digest`` (an OCI tag's manifest digest), ``pull`` (a chart archive, unpacked,
with its digest), ``dependencies`` (``helm dependency build``, or ``update`` when there is no lock).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any


def _client(helm: Any, request: dict[str, Any], config_dir: str) -> Any:
    client = helm.RegistryClient(plain_http=request.get("plain_http", False),
                                 credentials_file=os.path.join(config_dir, "registry.json"))
    if request.get("username") is not None:
        host = request["ref"].removeprefix("oci://").split("/", 1)[0]
        client.login(host, request["username"], request["password"],
                     insecure=request.get("insecure", False), plain_http=request.get("plain_http", False))
    return client


def _versions(helm: Any, request: dict[str, Any], config_dir: str) -> dict[str, Any]:
    if request["ref"].startswith("oci://"):
        with _client(helm, request, config_dir) as client:
            return {"versions": [{"version": tag} for tag in client.tags(request["ref"])]}
    index = helm.repo_index(request["url"], username=request.get("username"), password=request.get("password"),
                            insecure_skip_tls_verify=request.get("insecure", False))
    entries = (index.get("entries") or {})
    if request["chart"] not in entries:
        return {"error": "not found", "charts": sorted(entries)}
    return {"versions": [{"version": str(e.get("version")), "digest": e.get("digest") or ""}
                         for e in entries[request["chart"]] if isinstance(e, dict)]}


def _pull(helm: Any, request: dict[str, Any], config_dir: str) -> dict[str, Any]:
    destination = Path(request["destination"])
    archives = destination / "archive"
    archives.mkdir(parents=True, exist_ok=True)
    common = {"destination": str(archives), "version": request["version"],
              "plain_http": request.get("plain_http", False),
              "insecure_skip_tls_verify": request.get("insecure", False)}
    if request["ref"].startswith("oci://"):
        with _client(helm, request, config_dir) as client:
            helm.pull(request["ref"], client=client, **common)
    else:
        helm.pull(request["chart"], repo_url=request["url"], username=request.get("username"),
                  password=request.get("password"), **common)
    found = sorted(archives.glob("*.tgz"))
    if len(found) != 1:
        return {"error": f"the download left {len(found)} chart archives, not one"}
    digest = helm.digest(str(found[0]))
    try:
        with helm.Chart.load(str(found[0])) as chart:
            name = chart.name
    except helm.HelmError as exc:
        return {"error": f"the archive is not a chart: {exc}"}
    helm.expand(str(destination / "unpacked"), str(found[0]))
    return {"digest": digest, "name": name}


def _dependencies(helm: Any, request: dict[str, Any]) -> dict[str, Any]:
    chart = request["chart_dir"]
    if request["locked"]:
        helm.dependency_build(chart, plain_http=request.get("plain_http", False))
    else:
        helm.dependency_update(chart, plain_http=request.get("plain_http", False))
    return {"dependencies": helm.dependency_list(chart)}


def handle(request: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="helm-config-") as config_dir:
        # Helm's own configuration and caches stay private to this call; set before Go starts,
        # which copies the environment once.
        for name, sub in (("HELM_CONFIG_HOME", "config"), ("HELM_CACHE_HOME", "cache"), ("HELM_DATA_HOME", "data")):
            os.environ[name] = os.path.join(config_dir, sub)
        try:
            import helm_python as helm
        except ImportError:
            return {"error": "charts from repositories need helm-python-sdk "
                             "(pip install 'gitops-drift-exporter[helm]')"}
        try:
            op = request["op"]
            if op == "versions":
                return _versions(helm, request, config_dir)
            if op == "digest":
                with _client(helm, request, config_dir) as client:
                    return {"digest": client.resolve(f"{request['ref']}:{request['version']}")["digest"]}
            if op == "pull":
                return _pull(helm, request, config_dir)
            if op == "dependencies":
                return _dependencies(helm, request)
            return {"error": f"unknown operation {op!r}"}
        except helm.HelmError as exc:
            return {"error": str(exc)}


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        request = json.load(fh)
    json.dump(handle(request), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
