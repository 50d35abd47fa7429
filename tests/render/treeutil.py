"""Build checkouts for render tests: a directory of files, and an app pointing into it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from exporter.config_types import AppConfig, Destination, DirectoryOptions, HelmOptions, SourceConfig


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def app(path: str, type: str = "directory", *, directory: DirectoryOptions | None = None,
        helm: HelmOptions | None = None, name: str = "web", namespace: str = "") -> AppConfig:
    source = SourceConfig(repo_url="file:///unused", path=path, type=type,  # type: ignore[arg-type]
                          directory=directory or DirectoryOptions(), helm=helm or HelmOptions())
    return AppConfig(name=name, source=source, destination=Destination(cluster="prod", namespace=namespace))


def names(objects: list[dict]) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]
