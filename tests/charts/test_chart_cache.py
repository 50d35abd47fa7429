"""Resolving and fetching charts from a real Helm repository and a real OCI registry on loopback."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from chart_servers import HelmRepo, helm

from exporter.charts import ChartCache, ChartError, ChartVersion
from exporter.config_types import RepoCredentials, SourceConfig


def chart_source(url: str, chart: str, revision: str) -> SourceConfig:
    return SourceConfig(repo_url=url, chart=chart, target_revision=revision, type="helm")


def cache(tmp_path: Path, *creds: RepoCredentials) -> ChartCache:
    return ChartCache(tmp_path / "charts", creds, timeout=30)


async def test_a_range_resolves_to_the_newest_matching_version_with_the_index_digest(helm_repo, tmp_path):
    helm_repo.publish("web", "1.0.0")
    archive = helm_repo.publish("web", "1.4.2")
    helm_repo.publish("web", "2.0.0")
    resolved = await cache(tmp_path).resolve(chart_source(helm_repo.url, "web", "^1.0.0"))
    assert resolved == ChartVersion("1.4.2", helm.digest(str(archive)))


async def test_a_fetched_chart_is_the_published_one_and_is_downloaded_once(helm_repo, tmp_path):
    helm_repo.publish("web", "1.0.0", greeting="from the repository")
    charts = cache(tmp_path)
    source = chart_source(helm_repo.url, "web", "1.0.0")
    resolved = await charts.resolve(source)
    first = await charts.fetch(source, resolved)
    again = await charts.fetch(source, resolved)
    assert first == again
    assert yaml.safe_load((first / "values.yaml").read_text()) == {"greeting": "from the repository"}
    assert sum(p.endswith(".tgz") for p in helm_repo.requests) == 1


async def test_an_unknown_chart_names_the_repository_and_the_charts_it_has(helm_repo, tmp_path):
    helm_repo.publish("web", "1.0.0")
    helm_repo.publish("api", "1.0.0")
    with pytest.raises(ChartError) as err:
        await cache(tmp_path).resolve(chart_source(helm_repo.url, "wbe", "1.0.0"))
    assert str(err.value) == f"{helm_repo.url} has no chart 'wbe'; it has api, web"


async def test_a_range_that_matches_nothing_lists_the_versions_there_are(helm_repo, tmp_path):
    helm_repo.publish("web", "1.0.0")
    helm_repo.publish("web", "1.1.0")
    with pytest.raises(ChartError, match=r"no version matches '\^2.0.0' in chart 'web' of http://127.0.0.1:\d+; "
                                         r"it has 1.1.0, 1.0.0$"):
        await cache(tmp_path).resolve(chart_source(helm_repo.url, "web", "^2.0.0"))


async def test_an_unreachable_repository_says_so(tmp_path):
    with pytest.raises(ChartError, match="chart 'web' of http://127.0.0.1:9: listing versions: .*connection refused"):
        await cache(tmp_path).resolve(chart_source("http://127.0.0.1:9", "web", "1.0.0"))


async def test_a_repository_behind_basic_auth_takes_the_password_from_a_file(tmp_path):
    repo = HelmRepo(tmp_path / "private", auth=("reader", "s3cret-pass"))
    try:
        repo.publish("web", "1.0.0")
        (tmp_path / "password").write_text("s3cret-pass\n")
        good = RepoCredentials(url=repo.url, username="reader", token_file=str(tmp_path / "password"))
        source = chart_source(repo.url, "web", "1.0.0")
        charts = cache(tmp_path, good)
        assert (await charts.fetch(source, await charts.resolve(source))).name == "web"
        (tmp_path / "wrong").write_text("guess\n")
        bad = RepoCredentials(url=repo.url, username="reader", token_file=str(tmp_path / "wrong"))
        with pytest.raises(ChartError, match="401") as err:
            await cache(tmp_path / "other", bad).resolve(source)
        assert "guess" not in str(err.value)
    finally:
        repo.close()


def replace_archive(repo: HelmRepo, archive: Path, data: bytes, *, update_index: bool) -> None:
    archive.write_bytes(data)
    if update_index:  # as a broken publishing job would: the index vouches for the bad bytes
        index_file = repo.files / "index.yaml"
        index = yaml.safe_load(index_file.read_text())
        index["entries"]["web"][0]["digest"] = hashlib.sha256(data).hexdigest()
        index_file.write_text(yaml.safe_dump(index))


async def test_an_archive_that_is_not_a_chart_is_refused(helm_repo, tmp_path):
    archive = helm_repo.publish("web", "1.0.0")
    replace_archive(helm_repo, archive, b"not a gzip archive at all", update_index=True)
    source = chart_source(helm_repo.url, "web", "1.0.0")
    charts = cache(tmp_path)
    with pytest.raises(ChartError, match="chart 'web' of .*: pulling 1.0.0: "):
        await charts.fetch(source, await charts.resolve(source))
    assert not list((tmp_path / "charts" / "pulled").iterdir())  # nothing half-made is kept


async def test_an_archive_whose_digest_is_not_the_index_one_is_refused(helm_repo, tmp_path):
    archive = helm_repo.publish("web", "1.0.0")
    source = chart_source(helm_repo.url, "web", "1.0.0")
    charts = cache(tmp_path)
    resolved = await charts.resolve(source)
    replace_archive(helm_repo, archive, archive.read_bytes() + b"\0", update_index=False)
    with pytest.raises(ChartError, match="the archive's digest sha256:[0-9a-f]{64} is not the index's"):
        await charts.fetch(source, resolved)


async def test_a_new_version_in_the_index_is_seen_on_the_next_read(helm_repo, tmp_path):
    helm_repo.publish("web", "1.0.0")
    charts = cache(tmp_path)
    source = chart_source(helm_repo.url, "web", "1.x")
    assert (await charts.resolve(source)).version == "1.0.0"
    assert await charts.changed(helm_repo.url) is False
    helm_repo.publish("web", "1.1.0")
    assert (await charts.resolve(source)).version == "1.0.0"  # kept until the repository is read again
    assert await charts.changed(helm_repo.url) is True
    assert (await charts.resolve(source)).version == "1.1.0"


async def test_an_oci_chart_resolves_by_tag_to_its_manifest_digest_and_is_fetched(oci_registry, tmp_path):
    oci_registry.publish("web", "1.0.0")
    oci_registry.publish("web", "1.2.0", greeting="oci")
    charts = cache(tmp_path, RepoCredentials(url=f"oci://{oci_registry.host}", plain_http=True))
    source = chart_source(oci_registry.url, "web", "~1.0 || ~1.2")
    resolved = await charts.resolve(source)
    client = helm.RegistryClient(plain_http=True)
    assert resolved == ChartVersion("1.2.0", client.resolve(f"{oci_registry.url}/web:1.2.0")["digest"])
    chart = await charts.fetch(source, resolved)
    assert yaml.safe_load((chart / "values.yaml").read_text()) == {"greeting": "oci"}


async def test_an_oci_tag_pushed_again_with_other_content_counts_as_a_change(oci_registry, tmp_path):
    oci_registry.publish("web", "1.0.0", greeting="first")
    charts = cache(tmp_path, RepoCredentials(url=f"oci://{oci_registry.host}", plain_http=True))
    source = chart_source(oci_registry.url, "web", "1.0.0")
    before = await charts.resolve(source)
    oci_registry.publish("web", "1.0.0", greeting="second")
    assert await charts.changed(oci_registry.url) is True
    after = await charts.resolve(source)
    assert after.version == "1.0.0" and after.digest != before.digest
    chart = await charts.fetch(source, after)
    assert yaml.safe_load((chart / "values.yaml").read_text()) == {"greeting": "second"}


async def test_an_unknown_oci_chart_names_the_registry(oci_registry, tmp_path):
    charts = cache(tmp_path, RepoCredentials(url=f"oci://{oci_registry.host}", plain_http=True))
    with pytest.raises(ChartError, match=f"oci://{oci_registry.host}/charts/nothing: listing versions: "):
        await charts.resolve(chart_source(oci_registry.url, "nothing", "1.0.0"))
