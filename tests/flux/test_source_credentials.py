"""A Flux source's own credentials from the Secret its secretRef names (readSourceSecrets)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from exporter.flux.credentials import secret_ref, source_credentials


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def repository(kind: str, url: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": kind,
            "metadata": {"name": "deploy", "namespace": "flux-system"},
            "spec": {"url": url, "secretRef": {"name": "deploy-auth"}, **spec}}


def secret(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "deploy-auth", "namespace": "flux-system"},
            "data": {k: b64(v) for k, v in data.items()}}


def test_the_secret_ref_is_read_in_the_source_namespace() -> None:
    assert secret_ref(repository("GitRepository", "https://git.example/deploy.git")) == ("flux-system", "deploy-auth")
    assert secret_ref({"metadata": {"namespace": "a"}, "spec": {}}) is None


def test_a_username_and_password_are_basic_credentials_for_the_source_url_only() -> None:
    creds = source_credentials(repository("GitRepository", "https://git.example/deploy.git"),
                               secret(username="bot", password="s3cret-pass"))
    assert (creds.url, creds.username, creds.token, creds.secret) == (
        "https://git.example/deploy.git", "bot", "s3cret-pass", "flux-system/deploy-auth")
    assert "s3cret-pass" not in repr(creds)


@pytest.mark.parametrize("entry", [{"username": "bot", "password": "reg-pass"}, {"auth": b64("bot:reg-pass")}])
def test_a_docker_config_gives_the_credentials_of_the_registry_host(entry: dict[str, str]) -> None:
    config = json.dumps({"auths": {"other.example": {"auth": b64("x:y")}, "ghcr.io": entry}})
    creds = source_credentials(repository("OCIRepository", "oci://ghcr.io/team/manifests", insecure=True),
                               secret(**{".dockerconfigjson": config}))
    assert (creds.url, creds.username, creds.token, creds.plain_http) == (
        "oci://ghcr.io/team/manifests", "bot", "reg-pass", True)


@pytest.mark.parametrize(("data", "says"), [
    ({".dockerconfigjson": json.dumps({"auths": {"quay.io": {"auth": b64("a:b")}}})},
     "has no credentials for ghcr.io"),
    ({".dockerconfigjson": "not json"}, "is not a Docker config"),
    ({"identity": "-----BEGIN OPENSSH PRIVATE KEY-----", "known_hosts": "x"}, "holds an SSH key (identity)"),
    ({"bearerToken": "abc"}, "holds a bearer token (bearerToken)"),
])
def test_a_secret_the_agent_cannot_use_is_refused_naming_it(data: dict[str, str], says: str) -> None:
    with pytest.raises(ValueError, match="Secret flux-system/deploy-auth of OCIRepository flux-system/deploy") as refused:
        source_credentials(repository("OCIRepository", "oci://ghcr.io/team/manifests"), secret(**data))
    assert says in str(refused.value)


def test_a_missing_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="Secret flux-system/deploy-auth of GitRepository flux-system/deploy does not exist"):
        source_credentials(repository("GitRepository", "https://git.example/deploy.git"), None)
