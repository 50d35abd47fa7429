"""Talking to Kubernetes: a read-only client and the live cache of informers.

``client`` turns a configured cluster into discovery, paginated lists and watch streams of plain
dicts; ``cache`` keeps the objects apps need current through list+watch. (The simulated API server
of the demo and the tests is :mod:`exporter.simulator`.)
"""

from exporter.kube.cache import LiveCache
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.kube.errors import (
    Forbidden,
    KubeError,
    NotFound,
    ReadOnlyViolation,
    ResourceExpired,
    Unauthorized,
    Unreachable,
)

__all__ = [
    "Forbidden",
    "KubeClient",
    "KubeError",
    "LiveCache",
    "NotFound",
    "ReadOnlyViolation",
    "ResourceExpired",
    "ResourceInfo",
    "Unauthorized",
    "Unreachable",
]
