"""A simulated Kubernetes API server on loopback, for the ``demo`` command and for fast tests.

It is not part of the agent: the agent talks to real API servers through :mod:`exporter.kube`.
Every behaviour it fakes (discovery, lists, watches, errors, field ownership) is checked against a
real kube-apiserver in ``tests/realserver/test_sim_matches_real.py``. It needs ``kmock``, which the
``demo`` and ``test`` extras install.
"""

try:
    from exporter.simulator.cluster import SimulatedCluster, SimulationError
except ModuleNotFoundError as exc:  # pragma: no cover - depends on what is installed
    if exc.name != "kmock":
        raise
    raise ModuleNotFoundError("the simulated API server needs kmock: "
                              "pip install 'gitops-drift-exporter[demo]'", name="kmock") from None

__all__ = ["SimulatedCluster", "SimulationError"]
