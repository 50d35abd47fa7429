"""Git directory generators: one app per matching directory, filled from the template."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from gitrepos import Repo

from exporter.config_types import GitDirectoryGenerator
from exporter.generators import GeneratorError, expand
from exporter.git import GitCache
from exporter.wiring import load_config

CONFIG = """\
clusters: [{name: prod}]
defaults:
  compare:
    ignoreDifferences:
      - kind: Deployment
        jsonPointers: [/spec/replicas]
appGenerators:
  - git:
      repoURL: {url}
      revision: main
      directories:
        - path: apps/*
        - path: apps/legacy
          exclude: true
    template:
      name: "shop-{{path.basenameNormalized}}"
      project: "{{path[0]}}"
      labels: {dir: "{{path.basename}}"}
      destination:
        cluster: prod
        namespace: "{{path.basename}}"
"""


@pytest.fixture
def services(make_repo) -> Repo:
    repo = make_repo("services")
    repo.commit({
        "apps/cart/deploy.yaml": "kind: Deployment\n",
        "apps/check_out/deploy.yaml": "kind: Deployment\n",
        "apps/search/base/deploy.yaml": "kind: Deployment\n",
        "apps/legacy/deploy.yaml": "kind: Deployment\n",
        "docs/readme.md": "docs\n",
    })
    return repo


def generator_from(tmp_path: Path, repo: Repo) -> GitDirectoryGenerator:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(CONFIG.replace("{url}", repo.url)))
    gen, = load_config(str(path)).generators
    return gen


async def test_each_matching_directory_becomes_an_app_with_the_template_filled(tmp_path: Path,
                                                                              services: Repo) -> None:
    apps = await expand(generator_from(tmp_path, services), GitCache(str(tmp_path / "cache")))

    assert [a.name for a in apps] == ["shop-cart", "shop-check-out", "shop-search"]
    cart = apps[0]
    assert cart.source.repo_url == services.url and cart.source.target_revision == "main"
    assert cart.source.path == "apps/cart"
    assert (cart.destination.cluster, cart.destination.namespace) == ("prod", "cart")
    assert cart.project == "apps" and cart.labels == {"dir": "cart"}
    assert apps[1].destination.namespace == "check_out"  # basename as is; only the name is normalised
    assert cart.origin.endswith("config.yaml:8 (apps/cart)")


async def test_excluded_directories_and_deeper_levels_make_no_app(tmp_path: Path, services: Repo) -> None:
    apps = await expand(generator_from(tmp_path, services), GitCache(str(tmp_path / "cache")))
    paths = [a.source.path for a in apps]
    assert "apps/legacy" not in paths and "apps/search/base" not in paths and "docs" not in paths


async def test_defaults_reach_generated_apps(tmp_path: Path, services: Repo) -> None:
    apps = await expand(generator_from(tmp_path, services), GitCache(str(tmp_path / "cache")))
    assert [r.json_pointers for r in apps[0].compare.ignore_differences] == [["/spec/replicas"]]


async def test_a_new_directory_appears_after_a_fetch(tmp_path: Path, services: Repo) -> None:
    gen, git = generator_from(tmp_path, services), GitCache(str(tmp_path / "cache"))
    assert len(await expand(gen, git)) == 3
    services.commit({"apps/payments/deploy.yaml": "kind: Deployment\n"})
    await git.fetch(services.url)
    assert [a.name for a in await expand(gen, git)] == ["shop-cart", "shop-check-out", "shop-payments", "shop-search"]


async def test_a_template_that_fails_for_one_directory_names_the_generator(tmp_path: Path,
                                                                          services: Repo) -> None:
    gen = GitDirectoryGenerator(repo_url=services.url, revision="main", directories=["apps/*"],
                                template={"name": "{{path[2]}}", "source": {"repoURL": services.url},
                                          "destination": {"cluster": "prod"}},
                                origin="config.yaml:12")
    with pytest.raises(GeneratorError) as info:
        await expand(gen, GitCache(str(tmp_path / "cache")))
    assert str(info.value) == ("config.yaml:12: template for 'apps/cart'.name: "
                               "'{{path[2]}}' is out of range for directory 'apps/cart'")


async def test_two_directories_giving_one_name_are_refused(tmp_path: Path, services: Repo) -> None:
    gen = GitDirectoryGenerator(repo_url=services.url, revision="main", directories=["apps/*"],
                                template={"name": "same", "destination": {"cluster": "prod"},
                                          "source": {"repoURL": services.url, "path": "{{path}}"}},
                                origin="config.yaml:3")
    with pytest.raises(GeneratorError, match=r"^config.yaml:3: directories 'apps/cart' and 'apps/check_out' "
                                             r"both make an app named 'same'$"):
        await expand(gen, GitCache(str(tmp_path / "cache")))
