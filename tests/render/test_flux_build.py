"""Flux Kustomizations built as kustomize-controller builds them: a kustomization generated where
the path has none, the Kustomization's overlay fields written into the path's own, commonMetadata
on every object, and objects Flux is told to leave alone left out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from treeutil import app, names, write_tree

from exporter.config_types import FluxBuild
from exporter.model import NOT_COMPARED_KEY
from exporter.render import RenderError, render

DEPLOY = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: web, image: "nginx:1.25"}]
    """


def flux_app(path: str, build: FluxBuild):
    made = app(path, "kustomize")
    made.source.flux = build
    made.source.kustomize_build_options = ["--load-restrictor", "LoadRestrictionsNone"]
    return made


async def test_a_path_without_a_kustomization_builds_every_yaml_file_below_it(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "apps/web/deploy.yaml": DEPLOY,
        "apps/web/config/cm.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
        "apps/web/notes.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json"}}',
        "apps/web/README.md": "not yaml",
        "apps/web/base/kustomization.yaml": "resources: [svc.yaml]\n",
        "apps/web/base/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n",
        "apps/web/base/ignored.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: not-listed}\n",
    })
    objects = await render(flux_app("apps/web", FluxBuild()), tree)
    # JSON files are not picked up, a subdirectory with its own kustomization counts as a whole.
    assert sorted(names(objects)) == ["ConfigMap/settings", "Deployment/web", "Service/web"]
    assert not (tree / "apps/web/kustomization.yaml").exists(), "the checkout must stay untouched"


async def test_target_namespace_prefix_images_patches_and_common_metadata_are_applied(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "deploy/kustomization.yaml": "resources: [deploy.yaml]\nimages: [{name: nginx, newTag: '1.26'}]\n",
        "deploy/deploy.yaml": DEPLOY,
    })
    original = (tree / "deploy/kustomization.yaml").read_text()
    build = FluxBuild(target_namespace="shop", name_prefix="prod-", name_suffix="-v2",
                      images=[{"name": "nginx", "newName": "registry.example/nginx"}],
                      patches=[{"patch": "- op: add\n  path: /spec/replicas\n  value: 3\n",
                                "target": {"kind": "Deployment"}}],
                      common_labels={"team": "shop"}, common_annotations={"owner": "platform"})
    [deploy] = await render(flux_app("deploy", build), tree)
    assert deploy["metadata"]["name"] == "prod-web-v2" and deploy["metadata"]["namespace"] == "shop"
    # Flux merges its image into the kustomization's entry: the new name, the kustomization's tag.
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/nginx:1.26"
    assert deploy["spec"]["replicas"] == 3
    assert deploy["metadata"]["labels"] == {"team": "shop"}
    assert deploy["metadata"]["annotations"] == {"owner": "platform"}
    assert (tree / "deploy/kustomization.yaml").read_text() == original


async def test_a_flux_image_tag_replaces_the_kustomization_digest(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "deploy/kustomization.yaml": "resources: [deploy.yaml]\nimages: [{name: nginx, digest: 'sha256:"
                                     + "a" * 64 + "'}]\n",
        "deploy/deploy.yaml": DEPLOY,
    })
    [deploy] = await render(flux_app("deploy", FluxBuild(images=[{"name": "nginx", "newTag": "1.27"}])), tree)
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"


async def test_components_are_added_and_a_missing_one_is_skipped_only_when_told(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "deploy/kustomization.yaml": "resources: [deploy.yaml]\n",
        "deploy/deploy.yaml": DEPLOY,
        "components/debug/kustomization.yaml": """\
            apiVersion: kustomize.config.k8s.io/v1alpha1
            kind: Component
            commonLabels: {debug: "on"}
            """,
    })
    build = FluxBuild(components=["../components/debug", "../components/gone"], ignore_missing_components=True)
    [deploy] = await render(flux_app("deploy", build), tree)
    assert deploy["metadata"]["labels"] == {"debug": "on"}
    build.ignore_missing_components = False
    with pytest.raises(RenderError):
        await render(flux_app("deploy", build), tree)


async def test_objects_flux_is_told_to_leave_alone_are_not_desired(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "deploy/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ignored\n"
                         "  annotations: {kustomize.toolkit.fluxcd.io/ssa: Ignore}\n",
        "deploy/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: disabled\n"
                         "  annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}\n",
        "deploy/c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n"
                         "  annotations: {kustomize.toolkit.fluxcd.io/ssa: IfNotPresent}\n",
    })
    objects = await render(flux_app("deploy", FluxBuild()), tree)
    assert names(objects) == ["ConfigMap/kept"]


async def test_an_empty_path_builds_nothing(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"deploy/README.md": "nothing here"})
    assert await render(flux_app("deploy", FluxBuild()), tree) == []


async def test_a_file_that_is_not_kubernetes_yaml_fails_the_build_naming_it(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"deploy/broken.yaml": "a: [unclosed\n", "deploy/deploy.yaml": DEPLOY})
    with pytest.raises(RenderError) as err:
        await render(flux_app("deploy", FluxBuild()), tree)
    assert "deploy/broken.yaml" in str(err.value)


async def test_the_build_reads_bases_outside_the_path_as_flux_allows(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "base/deploy.yaml": DEPLOY,
        "clusters/prod/kustomization.yaml": "resources: [../../base/deploy.yaml]\n",
    })
    assert names(await render(flux_app("clusters/prod", FluxBuild()), tree)) == ["Deployment/web"]


async def test_the_checkout_files_are_never_written_through_their_links(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"deploy/kustomization.yaml": "resources: [deploy.yaml]\n",
                                 "deploy/deploy.yaml": DEPLOY})
    before = os.stat(tree / "deploy/kustomization.yaml")
    await render(flux_app("deploy", FluxBuild(target_namespace="shop")), tree)
    after = os.stat(tree / "deploy/kustomization.yaml")
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert (tree / "deploy/kustomization.yaml").read_text() == "resources: [deploy.yaml]\n"


SUBSTITUTED = """\
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      labels: {region: "${region}"}
      annotations: {id: "${quote}${id}${quote}"}
    data:
      size: ${size:=small}
      script: echo $HOME $${kept}
    """


async def test_post_build_substitution_fills_each_object(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"deploy/cm.yaml": SUBSTITUTED})
    build = FluxBuild(substitution=True, variables={"region": "eu-central-1", "id": "123", "quote": '"'})
    [cm] = await render(flux_app("deploy", build), tree)
    assert cm["metadata"]["labels"] == {"region": "eu-central-1"}
    assert cm["metadata"]["annotations"] == {"id": "123"}  # Flux's documented way to keep a number a string
    assert cm["data"] == {"size": "small", "script": "echo $HOME ${kept}"}


async def test_a_number_substituted_is_a_number_as_flux_makes_it_even_where_git_quoted_it(tmp_path: Path) -> None:
    # kustomize prints the quoted "${replicas}" unquoted, and Flux substitutes that text.
    tree = write_tree(tmp_path, {"deploy/deploy.yaml": DEPLOY.replace("    spec:\n      selector",
                                                                      "    spec:\n      replicas: \"${replicas}\"\n      selector")})
    [deploy] = await render(flux_app("deploy", FluxBuild(substitution=True, variables={"replicas": "3"})), tree)
    assert deploy["spec"]["replicas"] == 3


async def test_no_variables_means_no_substitution_unless_the_strategy_is_always(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"deploy/cm.yaml": SUBSTITUTED})
    [cm] = await render(flux_app("deploy", FluxBuild(substitution=True)), tree)
    assert cm["data"]["size"] == "${size:=small}"
    [cm] = await render(flux_app("deploy", FluxBuild(substitution=True, substitute_always=True)), tree)
    assert cm["data"]["size"] == "small" and cm["metadata"]["labels"] == {"region": None}


async def test_an_object_with_substitution_disabled_is_left_as_built(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "deploy/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n"
                         "  annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}\ndata: {v: '${x}'}\n",
        "deploy/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: filled}\ndata: {v: '${x}'}\n",
    })
    objects = await render(flux_app("deploy", FluxBuild(substitution=True, variables={"x": "blue"})), tree)
    assert {o["metadata"]["name"]: o["data"]["v"] for o in objects} == {"kept": "${x}", "filled": "blue"}


async def test_an_object_given_a_secret_variable_is_marked_not_to_be_compared(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {dsn: 'db://${password}'}\n",
        "deploy/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: '${password}'}\n",
    })
    build = FluxBuild(substitution=True, variables={"password": "hunter2"}, secret_variables=["password"])
    objects = {o["kind"]: o for o in await render(flux_app("deploy", build), tree)}
    assert objects["ConfigMap"][NOT_COMPARED_KEY] == "holds variables substituted from a Secret (password)"
    # A Secret is compared as ever: the comparison keeps Secret values redacted.
    assert NOT_COMPARED_KEY not in objects["Secret"] and objects["Secret"]["stringData"] == {"password": "hunter2"}


async def test_an_expression_flux_refuses_fails_the_build_naming_the_object(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\n"
                                                   "data: {v: '${unclosed'}\n"})
    with pytest.raises(RenderError, match="post build failed for ConfigMap bad: missing closing brace"):
        await render(flux_app("deploy", FluxBuild(substitution=True, variables={"x": "1"})), tree)


CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "chart/values.yaml": "image: nginx:1.25\npassword: unset\n",
    "chart/templates/deploy.yaml": DEPLOY.replace('image: "nginx:1.25"', "image: {{ .Values.image | quote }}")
    .replace("name: web}", "name: {{ .Release.Name }}}"),
    "chart/templates/config.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: "{{ .Release.Name }}-config"}
        data: {dsn: "db://app:{{ .Values.password }}@db"}
        """,
}


def helm_app(build: FluxBuild, values: dict[str, str] | None = None):
    made = app("chart", "helm", name="shop", namespace="web")
    made.source.helm.release_name = "web-shop"
    made.source.helm.values = values or {}
    made.source.flux = build
    return made


async def test_a_helmrelease_post_renders_images_then_common_metadata_then_origin_labels(tmp_path: Path) -> None:
    pytest.importorskip("helm_python", reason="Helm rendering needs helm-python-sdk")
    tree = write_tree(tmp_path, CHART)
    build = FluxBuild(images=[{"name": "nginx", "newTag": "1.27"}], common_labels={"team": "shop", "owner": "x"},
                      owner_labels={"helm.toolkit.fluxcd.io/name": "shop", "helm.toolkit.fluxcd.io/namespace": "flux"})
    objects = {o["kind"]: o for o in await render(helm_app(build), tree)}
    deploy = objects["Deployment"]
    assert deploy["metadata"]["name"] == "web-shop"
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert deploy["metadata"]["labels"] == {"team": "shop", "owner": "x", "helm.toolkit.fluxcd.io/name": "shop",
                                            "helm.toolkit.fluxcd.io/namespace": "flux"}


async def test_an_object_holding_a_value_from_a_secret_is_marked_not_to_be_compared(tmp_path: Path) -> None:
    pytest.importorskip("helm_python", reason="Helm rendering needs helm-python-sdk")
    tree = write_tree(tmp_path, CHART)
    build = FluxBuild(secret_values=["pa55-from-secret"])
    objects = {o["kind"]: o for o in await render(helm_app(build, {"password": "pa55-from-secret"}), tree)}
    assert objects["ConfigMap"][NOT_COMPARED_KEY] == "holds a value taken from a Secret (valuesFrom)"
    assert NOT_COMPARED_KEY not in objects["Deployment"]


async def test_build_metadata_is_written_into_the_kustomization(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"deploy/kustomization.yaml": "resources: [deploy.yaml]\n", "deploy/deploy.yaml": DEPLOY})
    [deploy] = await render(flux_app("deploy", FluxBuild(build_metadata=["originAnnotations"])), tree)
    assert deploy["metadata"]["annotations"]["config.kubernetes.io/origin"] == "path: deploy.yaml\n"
