"""Git push webhooks from GitHub, GitLab, Bitbucket Cloud and Gitea/Forgejo, posted over real HTTP.

Payloads are trimmed to the fields the providers document for push events; signatures are computed
here the way each provider computes them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from server_fleet import FleetSource, Served

from exporter.metrics import REGISTRY

SECRET = "s3cret-hook"

GITHUB_PUSH = {
    "ref": "refs/heads/main",
    "before": "0" * 40, "after": "3f5e2a9c1b7d4e6f8a0b2c4d6e8f0a1b3c5d7e9f",
    "repository": {
        "full_name": "acme/deploy",
        "html_url": "https://github.com/acme/deploy",
        "clone_url": "https://github.com/acme/deploy.git",
        "ssh_url": "git@github.com:acme/deploy.git",
        "git_url": "git://github.com/acme/deploy.git",
        "default_branch": "main",
    },
    "pusher": {"name": "octocat"},
}
GITLAB_PUSH = {
    "object_kind": "push", "ref": "refs/heads/main",
    "project": {
        "path_with_namespace": "ops/legacy",
        "web_url": "https://gitlab.example.com/ops/legacy",
        "git_ssh_url": "git@gitlab.example.com:ops/legacy.git",
        "git_http_url": "https://gitlab.example.com/ops/legacy.git",
    },
}
BITBUCKET_PUSH = {
    "repository": {"full_name": "acme/deploy", "links": {"html": {"href": "https://bitbucket.org/acme/deploy"}}},
    "push": {"changes": [{"new": {"type": "branch", "name": "release"}, "old": {"type": "branch", "name": "release"}}]},
}
GITEA_PUSH = {
    "ref": "refs/heads/main",
    "repository": {
        "full_name": "acme/deploy",
        "html_url": "https://gitea.example.com/acme/deploy",
        "clone_url": "https://gitea.example.com/acme/deploy.git",
        "ssh_url": "git@gitea.example.com:acme/deploy.git",
    },
}


def sha256_hex(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(body: bytes, event: str = "push", secret: str = SECRET) -> dict[str, str]:
    return {"X-GitHub-Event": event, "X-Hub-Signature-256": "sha256=" + sha256_hex(body, secret)}


def gitlab_headers(body: bytes, event: str = "Push Hook", secret: str = SECRET) -> dict[str, str]:
    return {"X-Gitlab-Event": event, "X-Gitlab-Token": secret}


def bitbucket_headers(body: bytes, event: str = "repo:push", secret: str = SECRET) -> dict[str, str]:
    return {"X-Event-Key": event, "X-Hub-Signature": "sha256=" + sha256_hex(body, secret)}


def gitea_headers(body: bytes, event: str = "push", secret: str = SECRET) -> dict[str, str]:
    # Gitea also sends GitHub's headers; the Gitea ones must win.
    return {"X-Gitea-Event": event, "X-GitHub-Event": event, "X-Gitea-Signature": sha256_hex(body, secret)}


PROVIDERS = {
    "github": (GITHUB_PUSH, github_headers),
    "gitlab": (GITLAB_PUSH, gitlab_headers),
    "bitbucket": (BITBUCKET_PUSH, bitbucket_headers),
    "gitea": (GITEA_PUSH, gitea_headers),
}


def count(provider: str, result: str) -> float:
    return REGISTRY.get_sample_value("gitops_webhook_requests_total",
                                     {"provider": provider, "result": result}) or 0.0


async def post(served: Served, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with served.session.post(served.url + "/api/webhook", data=body,
                                   headers={"Content-Type": "application/json", **headers}) as resp:
        return resp.status, await resp.json()


async def test_github_push_refreshes_the_apps_on_that_repo_and_branch(served: Served) -> None:
    body = json.dumps(GITHUB_PUSH).encode()
    status, answer = await post(served, body, github_headers(body))
    assert status == 202
    # Six apps of the fleet are configured with https://github.com/acme/deploy.git and main.
    assert answer == {"apps": 6}
    assert served.source.pushes == [([
        "https://github.com/acme/deploy.git", "https://github.com/acme/deploy",
        "git@github.com:acme/deploy.git", "git://github.com/acme/deploy.git"], "main")]


async def test_gitlab_push_passes_every_url_form_and_the_branch(served: Served) -> None:
    body = json.dumps(GITLAB_PUSH).encode()
    status, answer = await post(served, body, gitlab_headers(body))
    assert status == 202
    assert answer == {"apps": 1}  # legacy, configured as git@gitlab.example.com:ops/legacy.git
    assert served.source.pushes == [([
        "https://gitlab.example.com/ops/legacy.git", "git@gitlab.example.com:ops/legacy.git",
        "https://gitlab.example.com/ops/legacy"], "main")]


async def test_bitbucket_push_reads_the_branch_from_the_changes(served: Served) -> None:
    body = json.dumps(BITBUCKET_PUSH).encode()
    status, answer = await post(served, body, bitbucket_headers(body))
    assert status == 202
    assert answer == {"apps": 0}
    assert served.source.pushes == [(["https://bitbucket.org/acme/deploy"], "release")]


async def test_bitbucket_push_of_several_branches_refreshes_every_branch(served: Served) -> None:
    payload = {**BITBUCKET_PUSH, "push": {"changes": [
        {"new": {"type": "branch", "name": "main"}}, {"new": None, "old": {"type": "branch", "name": "old"}}]}}
    body = json.dumps(payload).encode()
    status, _ = await post(served, body, bitbucket_headers(body))
    assert status == 202
    assert served.source.pushes == [(["https://bitbucket.org/acme/deploy"], None)]


async def test_gitea_push_is_recognised_although_github_headers_are_also_sent(served: Served) -> None:
    body = json.dumps(GITEA_PUSH).encode()
    before = count("gitea", "accepted")
    status, _ = await post(served, body, gitea_headers(body))
    assert status == 202
    assert count("gitea", "accepted") == before + 1
    assert served.source.pushes == [([
        "https://gitea.example.com/acme/deploy.git", "https://gitea.example.com/acme/deploy",
        "git@gitea.example.com:acme/deploy.git"], "main")]


async def test_forgejo_headers_are_accepted_as_gitea(served: Served) -> None:
    body = json.dumps(GITEA_PUSH).encode()
    status, _ = await post(served, body, {"X-Forgejo-Event": "push", "X-Forgejo-Signature": sha256_hex(body)})
    assert status == 202
    assert len(served.source.pushes) == 1


async def test_tag_push_passes_the_tag_name(served: Served) -> None:
    body = json.dumps({**GITHUB_PUSH, "ref": "refs/tags/v1.4.0"}).encode()
    status, _ = await post(served, body, github_headers(body))
    assert status == 202
    assert served.source.pushes[0][1] == "v1.4.0"


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_wrong_secret_is_refused_with_401_and_counted(served: Served, provider: str) -> None:
    payload, headers = PROVIDERS[provider]
    body = json.dumps(payload).encode()
    before = count(provider, "bad_signature")
    status, answer = await post(served, body, headers(body, secret="not-the-secret"))
    assert status == 401
    assert answer["error"] == "bad_signature"
    assert count(provider, "bad_signature") == before + 1
    assert served.source.pushes == []


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_missing_signature_is_refused_with_401(served: Served, provider: str) -> None:
    payload, headers = PROVIDERS[provider]
    body = json.dumps(payload).encode()
    event_only = {k: v for k, v in headers(body).items() if "Signature" not in k and "Token" not in k}
    before = count(provider, "bad_signature")
    status, _ = await post(served, body, event_only)
    assert status == 401
    assert count(provider, "bad_signature") == before + 1
    assert served.source.pushes == []


async def test_body_changed_after_signing_is_refused(served: Served) -> None:
    body = json.dumps(GITHUB_PUSH).encode()
    headers = github_headers(body)
    tampered = json.dumps({**GITHUB_PUSH, "ref": "refs/heads/evil"}).encode()
    status, _ = await post(served, tampered, headers)
    assert status == 401
    assert served.source.pushes == []


@pytest.mark.parametrize(("provider", "event"), [
    ("github", "ping"), ("gitlab", "Merge Request Hook"), ("bitbucket", "pullrequest:created"),
    ("gitea", "issues"),
])
async def test_non_push_events_are_acknowledged_and_ignored(served: Served, provider: str, event: str) -> None:
    payload, headers = PROVIDERS[provider]
    body = json.dumps(payload).encode()
    before = count(provider, "ignored")
    status, answer = await post(served, body, headers(body, event=event))
    assert status == 200
    assert answer["result"] == "ignored"
    assert count(provider, "ignored") == before + 1
    assert served.source.pushes == []


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_malformed_json_is_a_400_invalid(served: Served, provider: str) -> None:
    _, headers = PROVIDERS[provider]
    body = b'{"ref": "refs/heads/main", "repository": '
    before = count(provider, "invalid")
    status, answer = await post(served, body, headers(body))
    assert status == 400
    assert answer["error"] == "invalid"
    assert count(provider, "invalid") == before + 1
    assert served.source.pushes == []


async def test_push_without_a_repository_is_a_400_naming_what_is_missing(served: Served) -> None:
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    status, answer = await post(served, body, github_headers(body))
    assert status == 400
    assert "repository URL" in answer["message"]


async def test_request_from_an_unknown_sender_is_a_400(served: Served) -> None:
    status, answer = await post(served, b"{}", {})
    assert status == 400
    assert "X-GitHub-Event" in answer["message"]


@pytest.mark.parametrize("webhook_secret", [None])
async def test_without_a_configured_secret_unsigned_pushes_are_accepted(served: Served) -> None:
    body = json.dumps(GITHUB_PUSH).encode()
    status, _ = await post(served, body, {"X-GitHub-Event": "push"})
    assert status == 202
    assert len(served.source.pushes) == 1


class UnreachableAgent(FleetSource):
    """An agent whose refresh queue fails: the push is genuine but cannot be scheduled."""

    async def on_git_push(self, repo_urls: list[str], branch: str | None) -> int:
        raise RuntimeError("refresh queue closed")


@pytest.mark.parametrize("source", [UnreachableAgent()])
async def test_failure_to_schedule_a_refresh_is_a_500_that_names_it(served: Served) -> None:
    body = json.dumps(GITHUB_PUSH).encode()
    before = count("github", "error")
    status, answer = await post(served, body, github_headers(body))
    assert status == 500
    assert answer == {"error": "error", "message": "the agent could not schedule a refresh"}
    assert count("github", "error") == before + 1
