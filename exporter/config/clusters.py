"""``clusters[]`` and ``repositories[]``: where live objects and Git credentials come from."""

from __future__ import annotations

import yaml

from exporter.config.kubeconfig import kubeconfig_problem
from exporter.config.reader import Context, read_bool, read_mapping, read_sequence, read_str
from exporter.config_types import (
    ClusterConfig,
    RepoCredentials,
)


def read_clusters(ctx: Context, node: yaml.Node) -> list[ClusterConfig]:
    out: list[ClusterConfig] = []
    names: set[str] = set()
    for i, item in enumerate(read_sequence(ctx, node, "clusters")):
        path = f"clusters[{i}]"
        f = read_mapping(ctx, item, path, ("name", "kubeconfig", "context", "inCluster"),
                     secrets={"token": "a kubeconfig file", "bearerToken": "a kubeconfig file"},
                     required=("name",))
        if f is None:
            continue
        name = read_str(ctx, f["name"], f"{path}.name") if "name" in f else None
        if name is None:
            continue
        if name in names:
            ctx.error(f["name"], f"{path}.name", f"duplicate cluster name '{name}'")
            continue
        names.add(name)
        cluster = ClusterConfig(name=name)
        if "kubeconfig" in f and (v := read_str(ctx, f["kubeconfig"], f"{path}.kubeconfig")) is not None:
            cluster.kubeconfig = ctx.path(v)
        if "context" in f:
            cluster.context = read_str(ctx, f["context"], f"{path}.context")
        if "inCluster" in f:
            cluster.in_cluster = bool(read_bool(ctx, f["inCluster"], f"{path}.inCluster"))
        if cluster.in_cluster and (cluster.kubeconfig or cluster.context):
            ctx.error(item, path, "inCluster cannot be combined with kubeconfig or context")
        elif cluster.kubeconfig and (problem := kubeconfig_problem(cluster.kubeconfig, cluster.context)):
            about_context = "context" in f and f"context '{cluster.context}'" in problem
            field = "context" if about_context else "kubeconfig"
            ctx.error(f[field], f"{path}.{field}", problem)
        out.append(cluster)
    return out

def read_repositories(ctx: Context, node: yaml.Node) -> list[RepoCredentials]:
    out: list[RepoCredentials] = []
    for i, item in enumerate(read_sequence(ctx, node, "repositories")):
        path = f"repositories[{i}]"
        f = read_mapping(ctx, item, path,
                     ("url", "username", "tokenFile", "tokenEnv", "sshKeyFile", "knownHostsFile", "plainHttp",
                      "insecureSkipTlsVerify"),
                     secrets={"token": "tokenFile or tokenEnv", "password": "tokenFile or tokenEnv",
                              "sshPrivateKey": "sshKeyFile", "sshKey": "sshKeyFile"},
                     required=("url",))
        if f is None or "url" not in f:
            continue
        url = read_str(ctx, f["url"], f"{path}.url")
        if url is None:
            continue
        creds = RepoCredentials(url=url)
        if "username" in f:
            creds.username = read_str(ctx, f["username"], f"{path}.username")
        if "tokenEnv" in f:
            creds.token_env = read_str(ctx, f["tokenEnv"], f"{path}.tokenEnv")
        for key, attr in (("tokenFile", "token_file"), ("sshKeyFile", "ssh_key_file"),
                          ("knownHostsFile", "known_hosts_file")):
            if key in f and (v := read_str(ctx, f[key], f"{path}.{key}")) is not None:
                setattr(creds, attr, ctx.path(v))
        for key, attr in (("plainHttp", "plain_http"), ("insecureSkipTlsVerify", "insecure_skip_tls_verify")):
            if key in f and (b := read_bool(ctx, f[key], f"{path}.{key}")) is not None:
                setattr(creds, attr, b)
        if creds.token_file and creds.token_env:
            ctx.error(item, path, "set only one of tokenFile and tokenEnv")
        out.append(creds)
    return out
