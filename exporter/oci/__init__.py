"""OCI artifacts as sources (Flux's ``OCIRepository``): the registry's read API
(:mod:`exporter.oci.registry`) and the cache of resolved digests and unpacked layers
(:mod:`exporter.oci.pulling`)."""

from exporter.oci.pulling import HELM_CHART_LAYER, ArtifactCache, ArtifactError, ArtifactVersion

__all__ = ["HELM_CHART_LAYER", "ArtifactCache", "ArtifactError", "ArtifactVersion"]
