"""OCI artifacts (Flux's OCIRepository) resolved and unpacked from a real registry on loopback,
pushed as ``flux push artifact`` pushes them."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest
from chart_servers import OciRegistry
from conftest import PASSWORD, USER
from oci_artifacts import FLUX_LAYER, Pusher, tarball

from exporter.config_types import ArtifactOptions, RepoCredentials, SourceConfig
from exporter.oci import HELM_CHART_LAYER, ArtifactCache, ArtifactError, ArtifactVersion

MANIFESTS = {"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"}


def source(registry: OciRegistry, revision: str, **options: str | bool) -> SourceConfig:
    return SourceConfig(repo_url=f"oci://{registry.host}/manifests/app", target_revision=revision,
                        artifact=ArtifactOptions(plain_http=True, **options))


def cache(tmp_path: Path, *creds: RepoCredentials) -> ArtifactCache:
    return ArtifactCache(tmp_path / "artifacts", creds, timeout=20)


async def test_a_tag_resolves_to_flux_revision_and_its_layer_unpacks_to_the_files(registry, tmp_path):
    digest = Pusher(registry.host).artifact("manifests/app", "latest", MANIFESTS)
    artifacts = cache(tmp_path)
    resolved = await artifacts.resolve(source(registry, "latest"))
    assert resolved == ArtifactVersion("latest", digest) and str(resolved) == f"latest@{digest}"
    tree = await artifacts.fetch(source(registry, "latest"), resolved)
    assert (tree / "deploy" / "cm.yaml").read_text() == MANIFESTS["deploy/cm.yaml"]


async def test_a_semver_range_takes_the_newest_matching_tag_and_the_filter_narrows_it(registry, tmp_path):
    pusher = Pusher(registry.host)
    for tag in ("1.0.0", "1.4.0", "1.5.0-rc.1", "2.0.0"):
        pusher.artifact("manifests/app", tag, {"v.txt": tag})
    artifacts = cache(tmp_path)
    assert (await artifacts.resolve(source(registry, "^1.0.0", semver=True))).tag == "1.4.0"
    assert (await artifacts.resolve(source(registry, ">=1.0.0-0", semver=True, semver_filter=".*-rc.*"))).tag \
        == "1.5.0-rc.1"
    with pytest.raises(ArtifactError, match="no version matches '>=3.0.0'.*it has 2.0.0"):
        await artifacts.resolve(source(registry, ">=3.0.0", semver=True))


async def test_a_digest_pin_keeps_its_artifact_after_the_tag_moves(registry, tmp_path):
    pusher = Pusher(registry.host)
    pinned = pusher.artifact("manifests/app", "latest", {"v.txt": "first"})
    pusher.artifact("manifests/app", "latest", {"v.txt": "second"})
    artifacts = cache(tmp_path)
    resolved = await artifacts.resolve(source(registry, pinned))
    assert resolved == ArtifactVersion("", pinned) and str(resolved) == pinned
    tree = await artifacts.fetch(source(registry, pinned), resolved)
    assert (tree / "v.txt").read_text() == "first"


async def test_a_tag_pushed_again_is_seen_on_the_next_read(registry, tmp_path):
    pusher = Pusher(registry.host)
    first = pusher.artifact("manifests/app", "stable", {"v.txt": "first"})
    artifacts = cache(tmp_path)
    assert (await artifacts.resolve(source(registry, "stable"))).digest == first
    assert not await artifacts.changed(source(registry, "stable").repo_url)
    second = pusher.artifact("manifests/app", "stable", {"v.txt": "second"})
    assert (await artifacts.resolve(source(registry, "stable"))).digest == first  # kept until read again
    assert await artifacts.changed(source(registry, "stable").repo_url)
    moved = await artifacts.resolve(source(registry, "stable"))
    assert moved.digest == second
    assert (await artifacts.fetch(source(registry, "stable"), moved) / "v.txt").read_text() == "second"


async def test_the_layer_selector_takes_the_named_type_and_a_missing_type_is_named(registry, tmp_path):
    Pusher(registry.host).artifact("manifests/app", "v1", {}, layers=[
        ("application/vnd.example.docs.v1.tar+gzip", tarball({"README.md": "docs"})),
        (FLUX_LAYER, tarball(MANIFESTS))])
    artifacts = cache(tmp_path)
    first = await artifacts.fetch(source(registry, "v1"), await artifacts.resolve(source(registry, "v1")))
    assert [p.name for p in first.iterdir()] == ["README.md"]
    chosen = source(registry, "v1", media_type=FLUX_LAYER)
    assert (await artifacts.fetch(chosen, await artifacts.resolve(chosen)) / "deploy" / "cm.yaml").is_file()
    wanted = source(registry, "v1", media_type=HELM_CHART_LAYER)
    with pytest.raises(ArtifactError, match=re.escape(f"no layer of type {HELM_CHART_LAYER}; it has {FLUX_LAYER}, "
                                                      "application/vnd.example.docs.v1.tar+gzip")):
        await artifacts.fetch(wanted, await artifacts.resolve(wanted))


async def test_a_helm_chart_layer_is_the_chart_directory(registry, tmp_path):
    chart = {"shop/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 1.2.0\n", "shop/values.yaml": "a: 1\n"}
    Pusher(registry.host).artifact("manifests/app", "1.2.0", {}, layers=[(HELM_CHART_LAYER, tarball(chart))])
    pinned = source(registry, "1.2.0", media_type=HELM_CHART_LAYER)
    artifacts = cache(tmp_path)
    tree = await artifacts.fetch(pinned, await artifacts.resolve(pinned))
    assert tree.name == "shop" and (tree / "Chart.yaml").is_file()


async def test_a_layer_reaching_out_of_its_directory_is_refused(registry, tmp_path):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        info = tarfile.TarInfo("../../escaped.yaml")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"x\n"))
    Pusher(registry.host).artifact("manifests/app", "evil", {}, layers=[(FLUX_LAYER, out.getvalue())])
    artifacts = cache(tmp_path)
    with pytest.raises(ArtifactError, match="not a tar\\+gzip archive that unpacks safely"):
        await artifacts.fetch(source(registry, "evil"), await artifacts.resolve(source(registry, "evil")))
    assert not list(tmp_path.rglob("escaped.yaml"))


async def test_an_unknown_tag_is_not_found_with_the_reference(registry, tmp_path):
    Pusher(registry.host).artifact("manifests/app", "latest", MANIFESTS)
    with pytest.raises(ArtifactError, match=f"oci://{registry.host}/manifests/app: not found .* resolving tag v9"):
        await cache(tmp_path).resolve(source(registry, "v9"))


async def test_a_registry_behind_basic_auth_takes_the_credentials_of_repositories(locked_registry, tmp_path):
    Pusher(locked_registry.host, (USER, PASSWORD)).artifact("manifests/app", "latest", MANIFESTS)
    with pytest.raises(ArtifactError, match="asks for credentials \\(add the registry to repositories\\[\\]\\)"):
        await cache(tmp_path).resolve(source(locked_registry, "latest"))
    (tmp_path / "password").write_text(PASSWORD)
    creds = RepoCredentials(url=f"oci://{locked_registry.host}/", username=USER,
                            token_file=str(tmp_path / "password"), plain_http=True)
    artifacts = cache(tmp_path, creds)
    resolved = await artifacts.resolve(source(locked_registry, "latest"))
    tree = await artifacts.fetch(source(locked_registry, "latest"), resolved)
    assert (tree / "deploy" / "cm.yaml").is_file()

    (tmp_path / "password").write_text("wrong-password")
    with pytest.raises(ArtifactError) as refused:
        await cache(tmp_path / "again", creds).resolve(source(locked_registry, "latest"))
    assert "unauthorized" in str(refused.value) and "wrong-password" not in str(refused.value)


async def test_a_registry_behind_a_token_service_is_read_with_the_token_it_hands_out(token_registry, tmp_path):
    registry, tokens = token_registry
    Pusher(registry.host, bearer=tokens.token("repository:manifests/app:pull,push")).artifact(
        "manifests/app", "latest", MANIFESTS)
    with pytest.raises(ArtifactError, match="the token service refused \\(401\\)"):
        await cache(tmp_path).resolve(source(registry, "latest"))
    (tmp_path / "password").write_text(PASSWORD)
    creds = RepoCredentials(url=f"oci://{registry.host}/", username=USER, token_file=str(tmp_path / "password"),
                            plain_http=True)
    artifacts = cache(tmp_path, creds)
    resolved = await artifacts.resolve(source(registry, "latest"))
    assert (await artifacts.fetch(source(registry, "latest"), resolved) / "deploy" / "cm.yaml").is_file()
    assert {"service": "test-registry", "scope": "repository:manifests/app:pull"} in tokens.requests
