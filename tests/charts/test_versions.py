"""Which version a ``targetRevision`` picks, checked against Helm's own choice."""

from __future__ import annotations

import pytest
from chart_servers import helm

from exporter.charts import is_range, pick_version
from exporter.semver import VersionNotFound

PUBLISHED = ["0.9.0", "1.0.0", "1.0.3", "1.2.0", "1.10.1", "2.0.0-rc.1", "2.0.0", "2.1.0-beta.2"]

CONSTRAINTS = ["1.0.3", "v1.2.0", "^1.0.0", "~1.0", "~1.0.0", "1.x", "1.0.x", ">=1.0.0, <2.0.0", ">= 1.0, < 1.5",
               "*", "", "2.0.0-rc.1", ">=2.0.0-0", "^2.1.0-0", ">=2.0.0-rc.1, <2.1.0",
               ">=1.0.0-0, <2.0.0", "1.0.0 - 1.2.0", "<1.0.0 || >=2.0.0", ">1.2"]


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_the_version_picked_is_the_one_helm_pulls(helm_repo, tmp_path, constraint):
    """Each constraint picks what ``helm pull --version`` picks from the same repository."""
    for version in PUBLISHED:
        helm_repo.publish("web", version)
    ours = pick_version(PUBLISHED, constraint, "the repository")
    out = tmp_path / "pulled"
    out.mkdir()
    helm.pull("web", repo_url=helm_repo.url, version=constraint or None, destination=str(out))
    assert [p.name for p in out.iterdir()] == [f"web-{ours}.tgz"]


def test_a_repository_spelling_with_a_leading_v_is_kept():
    assert pick_version(["v1.0.0", "v1.1.0"], "^1.0", "repo") == "v1.1.0"


def test_a_constraint_that_is_not_a_version_or_range_is_named():
    with pytest.raises(ValueError, match="'main' is neither a chart version nor a semver range"):
        pick_version(PUBLISHED, "main", "repo")


def test_nothing_matching_lists_the_newest_ten_and_counts_the_rest():
    versions = [f"1.{i}.0" for i in range(15)]
    with pytest.raises(VersionNotFound) as err:
        pick_version(versions, "^3", "chart 'web' of https://charts.example.com")
    assert str(err.value) == ("no version matches '^3' in chart 'web' of https://charts.example.com; it has "
                              "1.14.0, 1.13.0, 1.12.0, 1.11.0, 1.10.0, 1.9.0, 1.8.0, 1.7.0, 1.6.0, 1.5.0 (and 5 older)")


@pytest.mark.parametrize(("constraint", "ranged"), [("1.2.3", False), ("v1.2.3", False), ("^1.2.3", True),
                                                     ("1.x", True), ("*", True)])
def test_only_a_range_follows_new_releases(constraint, ranged):
    assert is_range(constraint) is ranged
