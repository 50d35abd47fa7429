"""Apps from Flux: each ``Kustomization`` (kustomize.toolkit.fluxcd.io) over a ``GitRepository``,
and each ``HelmRelease`` (helm.toolkit.fluxcd.io) over a ``HelmRepository``, ``OCIRepository``,
``HelmChart`` or ``GitRepository`` (source.toolkit.fluxcd.io), becomes an app named
``NAMESPACE/NAME``, built as Flux's controllers build it and judged with Flux's own word on it
(suspended, failing, behind its source).

Teams that deploy with Flux keep these objects as the list of what is deployed; reading them saves
a second list to keep in step. The objects are only read. One the agent cannot build as Flux would
is still an app: Unknown, with the reason, so it is never silently missing from the dashboards.
"""

from exporter.flux.kustomizations import (
           kustomization_app,
           kustomization_state,
           revision_of,
           substitution_inputs,
)
from exporter.flux.objects import HELM_GROUP, KUSTOMIZE_GROUP, SOURCE_GROUP, Lookup

__all__ = ["HELM_GROUP", "KUSTOMIZE_GROUP", "SOURCE_GROUP", "Lookup", "kustomization_app", "kustomization_state",
           "revision_of", "substitution_inputs"]
