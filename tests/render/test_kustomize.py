"""Kustomize sources, rendered by ``kubectl kustomize`` (or ``kustomize build`` where installed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from treeutil import app, names, write_tree

from exporter.render import RenderError, render

BASE = {
    "base/kustomization.yaml": """\
        resources: [deploy.yaml]
        commonLabels: {team: shop}
        """,
    "base/deploy.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: "nginx:1.25"}]
        """,
    "overlays/prod/kustomization.yaml": """\
        resources: [../../base]
        namespace: shop-prod
        namePrefix: prod-
        images: [{name: nginx, newTag: "1.27"}]
        configMapGenerator:
          - name: settings
            literals: [mode=production]
        """,
}


async def test_overlay_is_built_with_prefix_namespace_images_and_generators(tmp_path: Path) -> None:
    write_tree(tmp_path, BASE)
    objects = await render(app("overlays/prod", "kustomize"), tmp_path)

    by_kind = {o["kind"]: o for o in objects}
    assert set(by_kind) == {"Deployment", "ConfigMap"}
    deploy = by_kind["Deployment"]
    assert deploy["metadata"] == {"name": "prod-web", "namespace": "shop-prod", "labels": {"team": "shop"}}
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert by_kind["ConfigMap"]["metadata"]["name"].startswith("prod-settings-")  # content hash suffix
    assert by_kind["ConfigMap"]["data"] == {"mode": "production"}


async def test_base_alone_keeps_objects_without_namespace(tmp_path: Path) -> None:
    write_tree(tmp_path, BASE)
    objects = await render(app("base", "kustomize"), tmp_path)
    assert names(objects) == ["Deployment/web"]
    assert "namespace" not in objects[0]["metadata"]


async def test_a_broken_kustomization_reports_kustomize_s_reason(tmp_path: Path) -> None:
    write_tree(tmp_path, {"k/kustomization.yaml": "resources: [missing.yaml]\n"})
    with pytest.raises(RenderError) as info:
        await render(app("k", "kustomize"), tmp_path)
    message = str(info.value)
    assert message.startswith("kustomize build failed: ")
    assert "missing.yaml" in message and "\n" not in message
