"""Charts that live outside the app's Git repository: in Helm repositories, OCI registries, or
as dependencies a chart declares. Everything here reads the network; rendering stays offline."""

from exporter.charts.dependencies import missing_dependencies, with_dependencies
from exporter.charts.fetching import ChartCache, ChartError, ChartVersion, chart_ref
from exporter.charts.inflation import ChartUse, with_inflated_charts
from exporter.semver import is_range, pick_version

__all__ = ["ChartCache", "ChartUse", "ChartError", "ChartVersion", "chart_ref", "is_range", "missing_dependencies",
           "pick_version", "with_dependencies", "with_inflated_charts"]
