"""kustomize's Helm inflator (``helmCharts``): charts in the chart home render offline through the
agent's ``helm``; what a kustomization may name is checked first; build options are passed on."""

from __future__ import annotations

from pathlib import Path

import pytest
from chart_servers import write_chart
from treeutil import app, names, write_tree

from exporter.render import RenderError, render
from exporter.render.sandbox import check_kustomization

pytest.importorskip("helm_python", reason="the inflator renders with helm-python-sdk")


def vendored(tmp_path: Path, kustomization: str) -> Path:
    """A checkout whose base inflates the chart ``web`` already in its chart home."""
    write_tree(tmp_path, {"base/kustomization.yaml": kustomization, "base/values.yaml": "greeting: vendored\n"})
    write_chart(tmp_path / "base" / "charts", "web", "1.0.0")
    return tmp_path


async def test_a_chart_in_the_chart_home_is_inflated_with_its_values_file_and_inline_values(tmp_path):
    vendored(tmp_path, """\
        helmCharts:
          - {name: web, version: 1.0.0, releaseName: shop, valuesFile: values.yaml,
             valuesInline: {extra: 1}}
        namePrefix: prod-
        """)
    objects = await render(app("base", "kustomize"), tmp_path)
    assert names(objects) == ["ConfigMap/prod-shop-web"]
    assert objects[0]["data"] == {"chartVersion": "1.0.0", "greeting": "vendored"}


async def test_the_chart_never_comes_over_the_network_during_the_build(tmp_path):
    write_tree(tmp_path, {"base/kustomization.yaml": """\
        helmCharts: [{name: web, version: 1.0.0, repo: "http://127.0.0.1:9"}]
        """})
    with pytest.raises(RenderError, match="chart not fetched beforehand: helm pull"):
        await render(app("base", "kustomize"), tmp_path)


def test_the_charts_a_kustomization_and_its_bases_inflate_are_listed_with_their_chart_homes(tmp_path):
    write_tree(tmp_path, {
        "base/kustomization.yaml": """\
            helmGlobals: {chartHome: vendor}
            helmCharts: [{name: web, version: 1.2.0, repo: "https://charts.example.com"}]
            """,
        "overlay/kustomization.yaml": """\
            resources: [../base]
            helmCharts: [{name: db, repo: "oci://registry.example.com/charts"}]
            """})
    uses = check_kustomization(tmp_path / "overlay", tmp_path)
    assert sorted((u.name, u.directory, u.repo) for u in uses) == [
        ("db", "overlay/charts/db", "oci://registry.example.com/charts"),
        ("web", "base/vendor/web-1.2.0/web", "https://charts.example.com")]


@pytest.mark.parametrize(("kustomization", "message"), [
    ("helmCharts: [{name: web, repo: 'file:///etc'}]",
     "helmCharts[0].repo: 'file:///etc' is not a Helm repository (http:// or https://) or an OCI registry (oci://)"),
    ("helmCharts: [{name: web, version: 1.0.0}]",
     "helmCharts[0]: chart 'web' has no repo and is not in the chart home (k/charts/web)"),
    ("helmGlobals: {chartHome: ../../outside}\nhelmCharts: [{name: web, repo: 'https://c.example.com'}]",
     "helmGlobals.chartHome: '../../outside' is outside the repository"),
    ("helmCharts: [{name: web, repo: 'https://c.example.com', valuesFile: ../../machine/values.yaml}]",
     "helmCharts.valuesFile: '../../machine/values.yaml' is outside the repository"),
    ("helmChartInflationGenerator: [{chartName: web}]",
     "helmChartInflationGenerator is kustomize's retired form; use helmCharts"),
])
async def test_a_helm_chart_entry_that_would_leave_the_repository_is_refused(tmp_path, kustomization, message):
    write_tree(tmp_path, {"repo/k/kustomization.yaml": kustomization + "\n"})
    with pytest.raises(RenderError) as err:
        await render(app("k", "kustomize"), tmp_path / "repo")
    assert str(err.value) == f"kustomize build failed: k/kustomization.yaml: {message}"


async def test_build_options_reach_kustomize(tmp_path):
    """``--load-restrictor LoadRestrictionsNone`` lets a kustomization read a file beside its root."""
    write_tree(tmp_path, {"shared/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n",
                          "k/kustomization.yaml": "resources: [../shared/cm.yaml]\n"})
    with pytest.raises(RenderError, match="security; file .* is not in or below"):
        await render(app("k", "kustomize"), tmp_path)
    objects = await render(app("k", "kustomize"), tmp_path,
                           build_options=["--load-restrictor", "LoadRestrictionsNone"])
    assert names(objects) == ["ConfigMap/shared"]
