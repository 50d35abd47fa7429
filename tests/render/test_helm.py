"""Helm charts, rendered by Helm's SDK (helm-python-sdk) from a chart written by the test."""

from __future__ import annotations

from pathlib import Path

import pytest
from treeutil import app, names, write_tree

from exporter.config_types import HelmOptions
from exporter.render import RenderError, render

CHART = {
    "charts/web/Chart.yaml": """\
        apiVersion: v2
        name: web
        version: 0.1.0
        """,
    "charts/web/values.yaml": """\
        replicas: 1
        image: {repository: nginx, tag: "1.25"}
        extraConfig: false
        """,
    "charts/web/values-prod.yaml": """\
        replicas: 3
        image: {tag: "1.27"}
        """,
    "charts/web/templates/_helpers.tpl": """\
        {{- define "web.fullname" -}}{{ .Release.Name }}-web{{- end }}
        """,
    "charts/web/templates/deployment.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ include "web.fullname" . }}
          namespace: {{ .Release.Namespace }}
        spec:
          replicas: {{ .Values.replicas }}
          template:
            spec:
              containers:
                - name: web
                  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        """,
    "charts/web/templates/config.yaml": """\
        {{- if .Values.extraConfig }}
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-extra
        data:
          greeting: {{ .Values.greeting | quote }}
        {{- end }}
        """,
    "charts/web/templates/NOTES.txt": "Installed {{ .Release.Name }}.\n",
    "charts/web/crds/widgets.yaml": """\
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.example.com
        """,
}


def by_kind(objects: list[dict]) -> dict[str, dict]:
    return {o["kind"]: o for o in objects}


async def test_chart_defaults_release_name_from_app_and_namespace_from_destination(tmp_path: Path) -> None:
    write_tree(tmp_path, CHART)
    objects = await render(app("charts/web", "helm", name="shop", namespace="shop-prod"), tmp_path)

    assert names(objects) == ["CustomResourceDefinition/widgets.example.com", "Deployment/shop-web"]
    deploy = by_kind(objects)["Deployment"]
    assert deploy["metadata"]["namespace"] == "shop-prod"
    assert deploy["spec"]["replicas"] == 1
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"


async def test_value_files_then_inline_values_override_chart_defaults(tmp_path: Path) -> None:
    write_tree(tmp_path, CHART)
    helm = HelmOptions(release_name="api", value_files=["values-prod.yaml"],
                       values={"extraConfig": True, "greeting": "hello", "replicas": 5})
    objects = by_kind(await render(app("charts/web", "helm", helm=helm, namespace="ns"), tmp_path))

    deploy = objects["Deployment"]
    assert deploy["metadata"]["name"] == "api-web"
    assert deploy["spec"]["replicas"] == 5  # inline beats the value file
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"  # merged, not replaced
    assert objects["ConfigMap"]["data"] == {"greeting": "hello"}


async def test_crds_are_left_out_with_skip_crds(tmp_path: Path) -> None:
    write_tree(tmp_path, CHART)
    objects = await render(app("charts/web", "helm", helm=HelmOptions(skip_crds=True)), tmp_path)
    assert names(objects) == ["Deployment/web-web"]


async def test_a_template_error_names_the_template(tmp_path: Path) -> None:
    write_tree(tmp_path, {**CHART, "charts/web/templates/broken.yaml": "x: {{ .Values.nothing.here }}\n"})
    with pytest.raises(RenderError) as info:
        await render(app("charts/web", "helm"), tmp_path)
    message = str(info.value)
    assert message.startswith("charts/web: helm template failed: ")
    assert "web/templates/broken.yaml" in message and "nil pointer" in message
    assert "\n" not in message


async def test_a_missing_value_file_is_named(tmp_path: Path) -> None:
    write_tree(tmp_path, CHART)
    helm = HelmOptions(value_files=["values-staging.yaml"])
    with pytest.raises(RenderError, match=r"^charts/web: value file 'values-staging.yaml' not found$"):
        await render(app("charts/web", "helm", helm=helm), tmp_path)


async def test_a_value_file_that_does_not_parse_names_its_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {**CHART, "charts/web/values-bad.yaml": "replicas: 3\nimage: tag: x\n"})
    helm = HelmOptions(value_files=["values-bad.yaml"])
    with pytest.raises(RenderError, match=r"^charts/web/values-bad.yaml:2: mapping values"):
        await render(app("charts/web", "helm", helm=helm), tmp_path)


async def test_rendered_yaml_that_does_not_parse_names_the_template(tmp_path: Path) -> None:
    write_tree(tmp_path, {**CHART, "charts/web/templates/bad.yaml": "a: b: c\n"})
    with pytest.raises(RenderError, match=r"^charts/web/templates/bad.yaml:1: "):
        await render(app("charts/web", "helm"), tmp_path)


async def test_objects_come_in_helms_install_order_and_keep_trailing_newlines(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "c/Chart.yaml": "apiVersion: v2\nname: order\nversion: 0.1.0\n",
        "c/templates/a-deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        "c/templates/b-widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
        "c/templates/c-config.yaml": (
            "---# Source: a comment on the separator line, as some charts write it\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
            "data:\n  script: |\n    echo hello\n"),
        "c/templates/d-account.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n",
    })
    objects = await render(app("c", "helm"), tmp_path)
    assert names(objects) == ["ServiceAccount/web", "ConfigMap/settings", "Deployment/web", "Widget/w"]
    assert objects[1]["data"]["script"] == "echo hello\n"
