"""A ``helm`` command for kustomize's Helm inflator (``--helm-command``), backed by Helm's SDK.

kustomize runs ``helm version -c --short`` and then ``helm template RELEASE CHART --namespace NS
-f VALUES [--include-crds] ...``; this answers both without a Helm binary and without network. It
never pulls: the agent fetches the charts a kustomization names into its chart home beforehand
(:mod:`exporter.charts.inflation`), so a ``pull`` here means a chart it did not expect.

kustomize refuses any Helm but version 3 by the version string, so this reports ``v3``: what it
implements is Helm 3's ``template`` command line, whichever SDK renders it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from exporter.render.helm_worker import render
from exporter.values import merge_values

VERSION = "v3.17.0+sdk"


def _template(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="helm template", add_help=False)
    parser.add_argument("release")
    parser.add_argument("chart")
    parser.add_argument("--namespace", "-n")
    parser.add_argument("--values", "-f", action="append", default=[])
    parser.add_argument("--include-crds", action="store_true")
    args, _ignored = parser.parse_known_args(argv)  # --kube-version, --api-versions, --skip-tests: no effect offline
    values: dict[str, Any] = {}
    for name in args.values:
        with open(name, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=yaml.CSafeLoader)
        if isinstance(data, dict):
            values = merge_values(values, data)
    answer = render({"chart": args.chart, "values": values, "release": args.release, "namespace": args.namespace,
                     "skip_crds": not args.include_crds})
    if "error" in answer:
        print(f"Error: {answer['error']}", file=sys.stderr)
        return 1
    documents = [crd["data"] for crd in answer["crds"]]
    manifests = answer["manifests"]
    documents += [f"# Source: {name}\n{manifests[name]}" for name in sorted(manifests)
                  if not name.endswith("NOTES.txt") and manifests[name].strip()]
    sys.stdout.write("".join(f"---\n{doc.strip()}\n" for doc in documents))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["version"]:
        print(VERSION)
        return 0
    if argv[:1] == ["template"]:
        return _template(argv[1:])
    if argv[:1] == ["pull"]:
        print(f"Error: chart not fetched beforehand: helm {' '.join(argv)}", file=sys.stderr)
        return 1
    print(f"Error: unsupported helm command: {' '.join(argv[:1])}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
