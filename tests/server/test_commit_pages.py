"""A revision links to its commit's page on the hosting service, never with a credential."""

from __future__ import annotations

import pytest

from exporter.urls import commit_url

SHA = "3f5e2a9c1b7d4e6f8a0b2c4d6e8f0a1b3c5d7e9f"


@pytest.mark.parametrize(("repo", "page"), [
    ("https://github.com/acme/deploy.git", f"https://github.com/acme/deploy/commit/{SHA}"),
    ("git@github.com:acme/deploy.git", f"https://github.com/acme/deploy/commit/{SHA}"),
    ("https://x-access-token:ghs_s3cr3t@github.com/acme/deploy", f"https://github.com/acme/deploy/commit/{SHA}"),
    ("https://gitlab.com/group/sub/deploy.git", f"https://gitlab.com/group/sub/deploy/-/commit/{SHA}"),
    ("ssh://git@gitlab.example.com:2222/ops/deploy.git", f"https://gitlab.example.com/ops/deploy/-/commit/{SHA}"),
    ("https://user:app-password@bitbucket.org/team/deploy.git", f"https://bitbucket.org/team/deploy/commits/{SHA}"),
    ("https://bitbucket.example.com/scm/ops/deploy.git",
     f"https://bitbucket.example.com/projects/OPS/repos/deploy/commits/{SHA}"),
    ("https://gitea.example.com/ops/deploy.git", f"https://gitea.example.com/ops/deploy/commit/{SHA}"),
    ("https://codeberg.org/ops/deploy.git", f"https://codeberg.org/ops/deploy/commit/{SHA}"),
])
def test_a_commit_page_is_built_from_host_and_path_alone(repo, page):
    assert commit_url(repo, SHA) == page


@pytest.mark.parametrize(("repo", "revision"), [
    ("https://git.internal.example/ops/deploy.git", SHA),   # a host whose commit pages are unknown
    ("file:///srv/git/deploy.git", SHA),                     # a local repository has no web page
    ("https://github.com/acme/deploy.git", "web 1.4.2 (sha256:abc) + " + SHA),  # several sources
    ("https://github.com/acme/deploy.git", None),
])
def test_no_link_where_there_is_no_commit_page(repo, revision):
    assert commit_url(repo, revision) is None
