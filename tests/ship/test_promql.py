"""How metric names are pulled out of PromQL, so the dashboard and rule checks can be trusted."""

from __future__ import annotations

import pytest

from .promql import (
    dashboard_queries,
    exposed_sample_names,
    referenced_metrics,
    sample_names,
    substitute_variables,
)


def test_metric_names_in_functions_and_aggregations_are_found() -> None:
    expr = (
        "histogram_quantile(0.9, sum by (le) (rate(gitops_evaluation_duration_seconds_bucket[5m])))"
        " / on () group_left sum(gitops_apps)"
    )
    assert referenced_metrics(expr) == {"gitops_evaluation_duration_seconds_bucket", "gitops_apps"}


def test_quoted_label_values_are_not_metric_names() -> None:
    expr = 'up{job="gitops_drift", instance=~"gitops_.*"} + gitops_agent_ready'
    assert referenced_metrics(expr) == {"gitops_agent_ready"}


def test_recording_rule_names_are_not_references_to_their_source_metric() -> None:
    assert referenced_metrics("cluster_project_status:gitops_app_status:sum > 0") == set()


def test_grafana_label_values_is_unwrapped() -> None:
    assert referenced_metrics('label_values(gitops_app_info{cluster=~"$cluster"}, project)') == {
        "gitops_app_info"
    }


def test_counters_are_selected_through_total_whether_or_not_the_family_name_has_it() -> None:
    assert sample_names("gitops_git_fetch", "counter") == {"gitops_git_fetch_total", "gitops_git_fetch_created"}
    assert sample_names("gitops_git_fetch_total", "counter") == sample_names("gitops_git_fetch", "counter")


def test_histograms_expose_bucket_sum_and_count_but_not_the_bare_name() -> None:
    names = exposed_sample_names({"gitops_evaluation_duration_seconds": "histogram"})
    assert "gitops_evaluation_duration_seconds_bucket" in names
    assert "gitops_evaluation_duration_seconds_count" in names
    assert "gitops_evaluation_duration_seconds_sum" in names
    assert "gitops_evaluation_duration_seconds" not in names


def test_dashboard_variables_are_replaced_in_every_spelling() -> None:
    expr = 'rate(x{app=~"$app", cluster=~"${cluster}", project=~"${project:regex}"}[$__rate_interval])'
    assert substitute_variables(expr) == 'rate(x{app=~"shop", cluster=~"prod", project=~"retail"}[5m])'


def test_an_unknown_dashboard_variable_is_named() -> None:
    with pytest.raises(KeyError, match=r"\$namespace"):
        substitute_variables('x{namespace="$namespace"}')


def test_dashboard_queries_cover_row_panels_annotations_and_variables() -> None:
    dashboard = {
        "panels": [{"type": "row", "title": "r", "panels": [
            {"title": "inner", "targets": [{"refId": "A", "expr": "gitops_apps"}]}]}],
        "annotations": {"list": [{"name": "deploys", "expr": "changes(gitops_app_info[1m])"}]},
        "templating": {"list": [{"type": "query", "name": "cluster",
                                 "query": {"query": "label_values(gitops_app_info, cluster)"}}]},
    }
    assert list(dashboard_queries(dashboard)) == [
        ("panel 'inner' target A", "gitops_apps"),
        ("annotation 'deploys'", "changes(gitops_app_info[1m])"),
        ("variable 'cluster'", "gitops_app_info"),
    ]
