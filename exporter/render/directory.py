"""Plain manifests: YAML and JSON files under the app's path, as Argo CD's directory source reads them."""

from __future__ import annotations

import os
from pathlib import Path

from exporter.config_types import DirectoryOptions
from exporter.globs import GlobError, glob_match
from exporter.model import KubeObject
from exporter.render.manifests import RenderError, parse_json, parse_yaml
from exporter.render.sandbox import refuse_outside_link

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def manifest_files(root: Path, tree: Path, options: DirectoryOptions) -> list[Path]:
    """The manifest files under ``root`` in a stable order (sorted by relative path).

    Symbolic links that point outside the checkout are refused: a repository must not be able
    to make the agent read files from the machine it runs on.
    """
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git") if options.recurse else []
        for name in filenames:
            if not name.endswith(MANIFEST_SUFFIXES):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            try:
                if options.exclude and glob_match(options.exclude, rel):
                    continue
                if options.include and not glob_match(options.include, rel):
                    continue
            except GlobError as exc:
                raise RenderError(f"directory include/exclude: {exc}") from None
            refuse_outside_link(path, tree)
            if path.is_file():
                found.append((rel, path))
    return [path for _, path in sorted(found)]


def render_directory(root: Path, tree: Path, options: DirectoryOptions) -> list[KubeObject]:
    """Every object in the manifest files under ``root``. Blocking: run it in an executor."""
    objects: list[KubeObject] = []
    for path in manifest_files(root, tree, options):
        file = path.relative_to(tree).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise RenderError("is not UTF-8 text", file) from None
        except OSError as exc:
            raise RenderError(f"cannot be read: {exc.strerror}", file) from None
        objects += parse_json(text, file) if path.suffix == ".json" else parse_yaml(text, file)
    return objects
