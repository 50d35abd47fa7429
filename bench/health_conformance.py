"""Print how closely the health engine agrees with Argo CD's test corpus, and how fast it is.

Usage: python bench/health_conformance.py [CORPUS_DIR]
(default: $GITOPS_CONFORMANCE_DIR or ../shared/conformance/argocd-health from the repository root)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import yaml

from exporter.health import classify_file
from exporter.health.core import CORE_CHECKS
from exporter.health.deviations import DELIBERATE


def agrees(folder: str, case: dict, got: dict) -> bool:
    """Status agreement as the conformance test counts it."""
    if case.get("expect_no_health"):
        return (str(case.get("apiVersion") or "").rpartition("/")[0], case["kind"]) not in CORE_CHECKS
    key = f"{folder}/{case['input']}"
    if key in DELIBERATE and got["status"] == DELIBERATE[key][0]:
        return True
    return got["status"] == case["status"]


def main() -> None:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "argocd-health"
    root = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GITOPS_CONFORMANCE_DIR", default))
    files: list[tuple[str, Path, dict]] = []
    for folder in ("builtin", "crd"):
        with open(root / folder / "cases.yaml", encoding="utf-8") as fh:
            for case in yaml.load(fh, Loader=yaml.CSafeLoader):
                files.append((folder, root / folder / case["input"], case))
    start = time.perf_counter()
    results = [classify_file(str(path)) for _, path, _ in files]
    elapsed = time.perf_counter() - start
    for folder in ("builtin", "crd"):
        pairs = [(case, got) for (f, _, case), got in zip(files, results, strict=True)
                 if f == folder and not case.get("skip")]
        status = sum(agrees(folder, case, got) for case, got in pairs)
        asserted = [(c, g) for c, g in pairs if c.get("message") is not None]
        exact = sum(g["status"] == c["status"] and g["message"] == c["message"] for c, g in asserted)
        print(f"{folder}: status {status}/{len(pairs)} ({status / len(pairs):.1%}), "
              f"exact message {exact}/{len(asserted)} (deliberate differences count as agreement)")
    print(f"classified {len(files)} files in {elapsed:.3f} s ({elapsed / len(files) * 1e6:.0f} us/file)")


if __name__ == "__main__":
    main()
