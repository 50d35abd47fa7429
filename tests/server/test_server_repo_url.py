"""``normalise_repo_url``: one spelling per repository, so webhooks find the apps configured with it."""

from __future__ import annotations

import pytest

from exporter.server import normalise_repo_url


@pytest.mark.parametrize("url", [
    "https://github.com/acme/deploy",
    "https://github.com/acme/deploy.git",
    "https://github.com/acme/deploy/",
    "https://github.com/acme/deploy.git/",
    "http://github.com/acme/deploy",
    "https://GitHub.com/Acme/Deploy.git",
    "https://bot:token@github.com/acme/deploy.git",
    "https://github.com:443/acme/deploy",
    "git@github.com:acme/deploy.git",
    "git@github.com:acme/deploy",
    "github.com:acme/deploy.git",
    "ssh://git@github.com/acme/deploy.git",
    "ssh://git@github.com:22/acme/deploy",
    "git://github.com/acme/deploy.git",
    "  https://github.com/acme/deploy.git\n",
])
def test_every_spelling_of_a_remote_is_the_same_repo(url: str) -> None:
    assert normalise_repo_url(url) == "github.com/acme/deploy"


def test_gitlab_subgroups_are_kept() -> None:
    assert normalise_repo_url("git@gitlab.example.com:ops/platform/legacy.git") == normalise_repo_url(
        "https://gitlab.example.com/ops/platform/legacy") == "gitlab.example.com/ops/platform/legacy"


def test_different_repos_stay_different() -> None:
    assert normalise_repo_url("https://github.com/acme/deploy") != normalise_repo_url(
        "https://github.com/acme/deploy-tools")
    assert normalise_repo_url("https://github.com/acme/deploy") != normalise_repo_url(
        "https://gitlab.com/acme/deploy")


def test_local_paths_and_file_urls_match_and_keep_their_case() -> None:
    assert normalise_repo_url("file:///srv/Git/deploy.git") == "/srv/Git/deploy"
    assert normalise_repo_url("/srv/Git/deploy.git/") == "/srv/Git/deploy"
    assert normalise_repo_url("/srv/Git/deploy") == "/srv/Git/deploy"


def test_empty_url_stays_empty() -> None:
    assert normalise_repo_url("") == ""


def test_relative_paths_are_kept_as_written() -> None:
    assert normalise_repo_url("./repos/deploy.git") == "./repos/deploy"
