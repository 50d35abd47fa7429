"""A Flux source's own credentials, read from the Secret its ``spec.secretRef`` names, when the
config opts in (``appSources[].flux.readSourceSecrets``): the keys source-controller reads for
HTTP Basic (``username``, ``password``) and, for an OCI registry, a ``.dockerconfigjson``.

The credential applies to the source's exact URL, so it wins over a broader ``repositories[]``
prefix for that source and for no other. What this agent cannot use as Flux would (an SSH
``identity``, a ``bearerToken``, a cloud ``provider``) is refused with the reason, never ignored
into an anonymous read that would fail for a less clear reason.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from exporter.config_types import RepoCredentials
from exporter.flux.objects import data_value, meta_of, spec_of

__all__ = ["secret_ref", "source_credentials"]

#: Keys of a source Secret that carry a credential this agent does not use, and what they are.
_NOT_READ = {"identity": "an SSH key (identity)", "bearerToken": "a bearer token (bearerToken)"}


def secret_ref(source: Mapping[str, Any]) -> tuple[str, str] | None:
    """(namespace, name) of the Secret a source's ``spec.secretRef`` names (in its own namespace)."""
    ref = spec_of(source).get("secretRef")
    name = ref.get("name") if isinstance(ref, dict) else None
    return (str(meta_of(source).get("namespace") or ""), str(name)) if name else None


def _decoded(secret: Mapping[str, Any], where: str) -> dict[str, str]:
    data = secret.get("data")
    return {str(k): data_value("Secret", v, str(k), where) for k, v in (data if isinstance(data, dict) else {}).items()}


def _docker_config(text: str, url: str, where: str) -> tuple[str, str]:
    """(user, password) for ``url``'s registry host in a ``.dockerconfigjson``."""
    try:
        auths = json.loads(text).get("auths") or {}
    except (ValueError, AttributeError):
        raise ValueError(f"{where}: .dockerconfigjson is not a Docker config (JSON with auths)") from None
    host = url.split("://", 1)[-1].split("/", 1)[0]
    for key, entry in auths.items() if isinstance(auths, dict) else ():
        if str(key).split("://", 1)[-1].split("/", 1)[0] != host or not isinstance(entry, dict):
            continue
        if entry.get("username") and entry.get("password"):
            return str(entry["username"]), str(entry["password"])
        try:
            user, _, password = base64.b64decode(str(entry.get("auth") or ""), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(f"{where}: the auth of {host} is not base64 user:password") from None
        if user and password:
            return user, password
    raise ValueError(f"{where}: .dockerconfigjson has no credentials for {host}")


def source_credentials(source: Mapping[str, Any], secret: Mapping[str, Any] | None) -> RepoCredentials:
    """The credentials ``secret`` gives ``source`` (a GitRepository, HelmRepository or
    OCIRepository) for its URL; ValueError naming the Secret and why it cannot be used."""
    namespace, name = secret_ref(source) or ("", "")
    kind = str(source.get("kind") or "source")
    where = f"Secret {namespace}/{name} of {kind} {meta_of(source).get('namespace')}/{meta_of(source).get('name')}"
    if secret is None:
        raise ValueError(f"{where} does not exist")
    spec = spec_of(source)
    url = str(spec.get("url") or "")
    values = _decoded(secret, where)
    if ".dockerconfigjson" in values:
        user = _docker_config(values[".dockerconfigjson"], url, where)
    elif values.get("username") and values.get("password"):
        user = values["username"], values["password"]
    else:
        held = [what for key, what in _NOT_READ.items() if key in values]
        raise ValueError(f"{where} holds {', '.join(held) if held else 'no username and password'}; "
                         "this agent reads username/password and .dockerconfigjson")
    insecure = spec.get("insecure") is True
    return RepoCredentials(url=url, username=user[0], token=user[1], plain_http=insecure and url.startswith("oci://"),
                           secret=f"{namespace}/{name}")
