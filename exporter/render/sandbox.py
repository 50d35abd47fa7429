"""The repository is a sandbox: renderers read files inside the checkout and nothing else.

Anyone who can push to a watched repository controls what the renderers read, and the agent can
read its own ServiceAccount token and every file of its container. A symbolic link out of the
checkout, a value file or kustomize path that climbs out of it, or a kustomize resource that names
a remote repository would let a commit publish those files through the API and the status page, or
make the agent connect anywhere. Each is refused before the renderer starts, naming the link or
path; the app is Unknown with that reason. Renderer processes also get an environment that routes
any HTTP(S) request they try anyway to a closed local port, and forbids every Git transport.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from exporter.charts import ChartUse
from exporter.render.manifests import RenderError, load_yaml_documents

#: A closed port on loopback (discard): where a renderer's HTTP(S) requests are sent to fail.
_NOWHERE = "http://127.0.0.1:9"

#: Environment for renderer processes: no proxy-reachable network, no Git transport, no prompts.
NO_NETWORK_ENV: dict[str, str] = {
    **{name: _NOWHERE for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                   "http_proxy", "https_proxy", "all_proxy")},
    "NO_PROXY": "", "no_proxy": "",
    "GIT_ALLOW_PROTOCOL": "none", "GIT_TERMINAL_PROMPT": "0",
}

_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def kustomization_file(directory: Path) -> Path | None:
    """The kustomization file of ``directory``, under any name kustomize recognises, or None."""
    return next((directory / n for n in _KUSTOMIZATION_FILES if (directory / n).is_file()), None)
#: Kustomization fields that name files or directories, and whether entries may be directories.
_PATH_LISTS = ("resources", "bases", "components", "crds", "patchesStrategicMerge", "configurations",
               "generators", "transformers", "validators")
_PATH_ITEMS = ("patches", "patchesJson6902", "replacements")
_HELM_FILES = ("valuesFile", "additionalValuesFiles")
_GENERATORS = ("configMapGenerator", "secretGenerator")


def inside(path: Path, tree: Path) -> bool:
    return path.resolve().is_relative_to(tree.resolve())


def shown(path: Path, tree: Path) -> str:
    """``path`` as the repository names it (relative to the checkout), for messages."""
    try:
        return path.relative_to(tree).as_posix()
    except ValueError:
        return path.as_posix()


def refuse_outside_link(path: Path, tree: Path) -> None:
    """Raise naming ``path`` when it is a symbolic link that resolves outside the checkout."""
    if path.is_symlink() and not inside(path, tree):
        raise RenderError("is a symbolic link that points outside the repository", shown(path, tree))


def check_links(root: Path, tree: Path) -> None:
    """Refuse any symbolic link under ``root`` that resolves outside the checkout ``tree``.

    Links inside the checkout are fine (charts share templates that way); links into the
    machine (``/etc/passwd``, ``/var/run/secrets/...``) are not, whatever file reads them.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            refuse_outside_link(Path(dirpath) / name, tree)


def check_kustomization(root: Path, tree: Path) -> list[ChartUse]:
    """Walk the kustomization at ``root`` and every local base it names, refusing remote
    resources and paths that leave the checkout; kustomize would fetch a path it cannot find
    locally from the network, so a path must exist inside the checkout. Returns the charts the
    kustomizations inflate (``helmCharts``), which must come from a Helm repository or registry
    (fetched by the agent beforehand) or lie in the chart home already."""
    uses: list[ChartUse] = []
    seen: set[Path] = set()
    todo = [root.resolve()]
    while todo:
        directory = todo.pop()
        if directory in seen:
            continue
        seen.add(directory)
        if directory == root.resolve():
            check_links(directory, tree)
        else:
            _check_entries(directory, tree)
        kustomization = kustomization_file(directory)
        if kustomization is None:
            continue
        refuse_outside_link(kustomization, tree)
        file = shown(kustomization, tree)
        docs = load_yaml_documents(kustomization.read_text(encoding="utf-8"), file)
        spec = docs[0] if docs and isinstance(docs[0], dict) else {}
        if spec.get("helmChartInflationGenerator"):
            raise RenderError("helmChartInflationGenerator is kustomize's retired form; use helmCharts", file)
        uses += _chart_uses(directory, spec, file, tree)
        for field, entry in _references(spec):
            target = _local(directory, entry, field, file, tree)
            if target.is_dir():
                todo.append(target.resolve())
    return uses


def _chart_uses(directory: Path, spec: dict[str, Any], file: str, tree: Path) -> list[ChartUse]:
    found = spec.get("helmGlobals")
    globals_: dict[str, Any] = found if isinstance(found, dict) else {}
    home = directory / str(globals_.get("chartHome") or "charts")
    if not inside(home, tree):
        raise RenderError(f"helmGlobals.chartHome: '{globals_.get('chartHome')}' is outside the repository", file)
    uses = []
    for i, item in enumerate(_as_list(spec.get("helmCharts"))):
        where = f"helmCharts[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise RenderError(f"{where}: needs a chart name", file)
        repo = str(item.get("repo") or "")
        if repo and not repo.startswith(("http://", "https://", "oci://")):
            raise RenderError(f"{where}.repo: '{repo}' is not a Helm repository (http:// or https://) or an OCI "
                              "registry (oci://)", file)
        use = ChartUse(file, shown(home, tree), item["name"], repo, str(item.get("version") or ""))
        if not repo and not (tree / use.directory).is_dir():
            raise RenderError(f"{where}: chart '{use.name}' has no repo and is not in the chart home "
                              f"({use.directory})", file)
        uses.append(use)
    return uses


def _check_entries(directory: Path, tree: Path) -> None:
    for entry in directory.iterdir():
        refuse_outside_link(entry, tree)


def _references(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for field in _PATH_LISTS:
        for entry in _as_list(spec.get(field)):
            if isinstance(entry, str) and "\n" not in entry:  # inline patches are YAML, not paths
                yield field, entry
    for field in _PATH_ITEMS:
        for item in _as_list(spec.get(field)):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                yield f"{field}.path", item["path"]
    for field in _GENERATORS:
        for item in _as_list(spec.get(field)):
            if not isinstance(item, dict):
                continue
            for key in ("files", "envs"):
                for entry in _as_list(item.get(key)):
                    if isinstance(entry, str):
                        yield f"{field}.{key}", entry.rpartition("=")[2]
            if isinstance(item.get("env"), str):
                yield f"{field}.env", item["env"]
    for item in _as_list(spec.get("helmCharts")):
        if isinstance(item, dict):
            for key in _HELM_FILES:
                for entry in _as_list(item.get(key)) if key != "valuesFile" else [item.get(key)]:
                    if isinstance(entry, str) and entry:
                        yield f"helmCharts.{key}", entry
    openapi = spec.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield "openapi.path", openapi["path"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _local(directory: Path, entry: str, field: str, file: str, tree: Path) -> Path:
    if "://" in entry or entry.startswith("git@") or entry.startswith("git::"):
        raise RenderError(f"{field}: remote resource '{entry}' refused: only files in the repository are "
                          "rendered", file)
    target = directory / entry
    if not inside(target, tree):
        raise RenderError(f"{field}: '{entry}' is outside the repository", file)
    if not target.exists():
        raise RenderError(f"{field}: '{entry}' not found in the repository (remote resources are not "
                          "fetched)", file)
    return target
