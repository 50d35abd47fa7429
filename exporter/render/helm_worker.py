"""Helm's Go SDK in a child process: ``python -m exporter.render.helm_worker REQUEST.json``.

The SDK renders in-process through ctypes, and a call into Go cannot be interrupted from Python: a
template that never ends would keep a thread busy forever. Running it here instead lets the agent
kill it at its time limit. The request names the chart, values, release, namespace and whether to
include CRDs; stdout carries ``{"manifests": {template: text}, "crds": [...]}`` or ``{"error": text}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def render(request: dict[str, Any]) -> dict[str, Any]:
    try:
        import helm_python
    except ImportError:
        return {"error": "helm sources need the helm binary on PATH or helm-python-sdk "
                         "(pip install 'gitops-drift-exporter[helm]')"}
    try:
        with helm_python.Chart.load(request["chart"]) as loaded:
            manifests = loaded.render(request["values"], name=request["release"], namespace=request["namespace"])
            crds = [] if request["skip_crds"] else loaded.crds
    except helm_python.HelmError as exc:
        return {"error": f"helm template failed: {exc}"}
    return {"manifests": manifests, "crds": crds}


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        request = json.load(fh)
    json.dump(render(request), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
