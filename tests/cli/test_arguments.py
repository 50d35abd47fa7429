"""Command-line parsing that operators rely on in manifests and scripts."""

from __future__ import annotations

import pytest

from exporter.cli import UsageError, build_parser, parse_duration, parse_listen, parse_peers, parse_shard
from exporter.sharding import shard_of


def test_listen_takes_host_and_port():
    assert parse_listen("127.0.0.1:9000") == ("127.0.0.1", 9000)
    assert parse_listen(":8080") == ("0.0.0.0", 8080)
    assert parse_listen("[::1]:8080") == ("::1", 8080)


def test_listen_without_port_is_a_clear_error():
    with pytest.raises(UsageError, match="HOST:PORT"):
        parse_listen("localhost")


def test_shard_from_flag():
    assert parse_shard("1/3", env={}) == (1, 3)


def test_shard_from_statefulset_pod_name():
    assert parse_shard(None, env={"GITOPS_SHARD_COUNT": "3", "POD_NAME": "gitops-drift-exporter-2"}) == (2, 3)


def test_shard_out_of_range_is_refused():
    with pytest.raises(UsageError, match="0 <= N < M"):
        parse_shard("3/3", env={})


def test_no_shard_means_all_apps():
    assert parse_shard(None, env={}) is None


PEERS = "http://gde-{shard}.gde-shards.monitoring.svc:8080"


def test_peer_template_gives_every_other_shards_url():
    fleet = parse_peers(PEERS, (2, 3), env={})
    assert (fleet.index, fleet.count) == (2, 3)
    assert fleet.peers == {0: "http://gde-0.gde-shards.monitoring.svc:8080",
                           1: "http://gde-1.gde-shards.monitoring.svc:8080"}


def test_peer_template_from_the_environment():
    fleet = parse_peers(None, (0, 2), env={"GITOPS_PEER_URL_TEMPLATE": PEERS})
    assert fleet.peers == {1: "http://gde-1.gde-shards.monitoring.svc:8080"}


def test_run_accepts_a_peer_url_template():
    args = build_parser().parse_args(["run", "--config", "c.yaml", "--shard", "0/3", "--peer-url-template", PEERS])
    assert parse_peers(args.peer_url_template, parse_shard(args.shard, env={}), env={}).count == 3


def test_no_peer_template_means_no_fan_out():
    assert parse_peers(None, (0, 3), env={}) is None


def test_peer_template_without_the_shard_placeholder_is_refused():
    with pytest.raises(UsageError, match=r"--peer-url-template: .* must contain \{shard\}"):
        parse_peers("http://gde.gde-shards:8080", (0, 3), env={})


def test_peer_template_that_is_not_http_is_refused_naming_the_variable():
    with pytest.raises(UsageError, match=r"GITOPS_PEER_URL_TEMPLATE: .* must be an http:// or https:// URL"):
        parse_peers(None, (0, 3), env={"GITOPS_PEER_URL_TEMPLATE": "gde-{shard}:8080"})


def test_peer_template_without_sharding_is_refused_with_the_reason():
    with pytest.raises(UsageError, match="only applies to a sharded agent"):
        parse_peers(PEERS, None, env={})


def test_durations():
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("1h30m") == 5400
    assert parse_duration("45") == 45
    with pytest.raises(UsageError):
        parse_duration("soon")


def test_shards_split_apps_without_overlap_and_without_gaps():
    names = [f"app-{i}" for i in range(3000)]
    owned = [{n for n in names if shard_of(n, 3) == i} for i in range(3)]
    assert set().union(*owned) == set(names)
    assert sum(len(s) for s in owned) == len(names)
    assert all(800 < len(s) < 1200 for s in owned)  # roughly even
