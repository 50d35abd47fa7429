"""Chart dependencies declared in Chart.yaml and fetched from a real Helm repository, lock honoured."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from chart_servers import helm, write_chart

from exporter.charts import ChartCache, ChartError, missing_dependencies, with_dependencies
from exporter.charts.dependencies import dependency_enabled
from exporter.config_types import AppConfig, Destination, HelmOptions, SourceConfig
from exporter.render import render


def app_chart(tree: Path, repo_url: str) -> Path:
    """A chart in a checkout that depends on ``db`` ``^1.0.0`` from the repository, not vendored."""
    return write_chart(tree, "web", "0.1.0", dependencies=[{"name": "db", "version": "^1.0.0",
                                                             "repository": repo_url}])


async def rendered_db_version(tree: Path, tmp_path: Path) -> str:
    ready = await with_dependencies(tree, "web", ChartCache(tmp_path / "charts"), 60)
    app = AppConfig(name="shop", source=SourceConfig(repo_url="", path="web", type="helm", helm=HelmOptions()),
                    destination=Destination(cluster="prod", namespace="prod"))
    objects = await render(app, ready, timeout=60)
    return next(o["data"]["chartVersion"] for o in objects if o["metadata"]["name"] == "shop-db")


async def test_a_dependency_without_a_lock_resolves_to_the_newest_matching_version(helm_repo, tmp_path):
    helm_repo.publish("db", "1.0.0")
    helm_repo.publish("db", "1.3.0")
    helm_repo.publish("db", "2.0.0")
    tree = tmp_path / "checkout"
    app_chart(tree, helm_repo.url)
    assert missing_dependencies(tree / "web") == ["db"]
    assert await rendered_db_version(tree, tmp_path) == "1.3.0"
    assert not (tree / "web" / "charts").exists()  # the checkout itself is never written


async def test_the_lock_file_pins_the_version_even_when_a_newer_one_matches(helm_repo, tmp_path):
    helm_repo.publish("db", "1.0.0")
    scratch = tmp_path / "scratch"
    app_chart(scratch, helm_repo.url)
    helm.dependency_update(str(scratch / "web"))  # Chart.lock pins db 1.0.0
    tree = tmp_path / "checkout"
    app_chart(tree, helm_repo.url)
    shutil.copy(scratch / "web" / "Chart.lock", tree / "web" / "Chart.lock")
    helm_repo.publish("db", "1.5.0")
    assert yaml.safe_load((tree / "web" / "Chart.lock").read_text())["dependencies"][0]["version"] == "1.0.0"
    assert await rendered_db_version(tree, tmp_path) == "1.0.0"


async def test_vendored_dependencies_need_no_repository(tmp_path):
    tree = tmp_path / "checkout"
    app_chart(tree, "http://127.0.0.1:9")
    write_chart(tree / "web" / "charts", "db", "1.2.0")
    assert missing_dependencies(tree / "web") == []
    assert await rendered_db_version(tree, tmp_path) == "1.2.0"


async def test_a_dependency_repository_that_cannot_be_reached_names_the_chart_and_dependency(tmp_path):
    tree = tmp_path / "checkout"
    app_chart(tree, "http://127.0.0.1:9")
    with pytest.raises(ChartError, match=r"^web: dependency db: chart 'db' of http://127.0.0.1:9: listing versions: "
                                         r".*connection refused"):
        await with_dependencies(tree, "web", ChartCache(tmp_path / "charts"), 60)


async def test_a_dependency_range_that_matches_nothing_lists_the_versions(helm_repo, tmp_path):
    helm_repo.publish("db", "0.9.0")
    tree = tmp_path / "checkout"
    app_chart(tree, helm_repo.url)
    with pytest.raises(ChartError, match=r"^web: dependency db: no version matches '\^1.0.0' in chart 'db' of "
                                         r"http://127.0.0.1:\d+; it has 0.9.0$"):
        await with_dependencies(tree, "web", ChartCache(tmp_path / "charts"), 60)


def chart_with_optional_db(tree: Path, values: dict[str, object], **dep: object) -> Path:
    """``web`` depending on ``db`` from a repository nobody listens on, with ``dep``'s condition or tags."""
    chart = write_chart(tree, "web", "0.1.0", dependencies=[{"name": "db", "version": "^1.0.0",
                                                             "repository": "oci://127.0.0.1:9/charts", **dep}])
    (chart / "values.yaml").write_text(yaml.safe_dump({"greeting": "hello", **values}))
    return chart


async def test_a_dependency_its_condition_disables_is_neither_fetched_nor_required(tmp_path):
    tree = tmp_path / "checkout"
    chart_with_optional_db(tree, {"db": {"enabled": False}}, condition="db.enabled")
    assert missing_dependencies(tree / "web") == []
    assert await with_dependencies(tree, "web", ChartCache(tmp_path / "charts"), 60) == tree
    app = AppConfig(name="shop", source=SourceConfig(repo_url="", path="web", type="helm", helm=HelmOptions()),
                    destination=Destination(cluster="prod", namespace="prod"))
    assert [o["metadata"]["name"] for o in await render(app, tree, timeout=60)] == ["shop-web"]


async def test_the_app_s_values_enabling_a_dependency_make_it_required(tmp_path):
    tree = tmp_path / "checkout"
    chart_with_optional_db(tree, {"db": {"enabled": False}}, condition="db.enabled")
    assert missing_dependencies(tree / "web", {"db": {"enabled": True}}) == ["db"]
    with pytest.raises(ChartError, match=r"^web: dependency db: .*127.0.0.1:9"):
        await with_dependencies(tree, "web", ChartCache(tmp_path / "charts"), 60, {"db": {"enabled": True}})


async def test_values_that_could_not_be_read_require_every_dependency(tmp_path):
    tree = tmp_path / "checkout"
    chart_with_optional_db(tree, {"db": {"enabled": False}}, condition="db.enabled")
    assert missing_dependencies(tree / "web", None) == ["db"]


@pytest.mark.parametrize(("dep", "values", "enabled"), [
    ({"condition": "db.enabled"}, {"db": {"enabled": False}}, False),
    ({"condition": "db.enabled"}, {"db": {"enabled": True}}, True),
    ({"condition": "db.enabled"}, {}, True),  # the path holds nothing: enabled
    ({"condition": "db.enabled"}, {"db": {"enabled": "no"}}, True),  # not a boolean: ignored, as Helm does
    ({"condition": "missing.path, db.enabled"}, {"db": {"enabled": False}}, False),  # the first that is set
    ({"condition": "db.enabled, other"}, {"db": {"enabled": True}, "other": False}, True),
    ({"tags": ["backend"]}, {"tags": {"backend": False}}, False),
    ({"tags": ["backend", "storage"]}, {"tags": {"backend": False, "storage": True}}, True),
    ({"tags": ["backend"]}, {"tags": {}}, True),
    ({"tags": ["backend"], "condition": "db.enabled"}, {"tags": {"backend": False}, "db": {"enabled": True}}, True),
], ids=["condition-false", "condition-true", "condition-unset", "condition-not-bool", "first-set-condition",
        "first-condition-wins", "tag-false", "any-tag-true", "tag-unset", "condition-over-tags"])
def test_helm_s_rules_for_condition_and_tags(dep: dict[str, object], values: dict[str, object],
                                            enabled: bool) -> None:
    assert dependency_enabled({"name": "db", **dep}, values) is enabled
