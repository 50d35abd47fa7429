"""Secret values never leave a comparison: not in differences, ignored fields, views or diffs."""

from __future__ import annotations

import base64

from diff_fixtures import one
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.config_types import CompareOptions, IgnoreRule
from exporter.diff import compare, redact, unified_diff
from exporter.model import REDACTED, ObjectKey, Sync

LIVE_SECRET = """
apiVersion: v1
kind: Secret
metadata:
  name: api
  namespace: shop
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"token":"tok-live-1"}}'
  managedFields:
    - {manager: kubectl-patch, operation: Update, apiVersion: v1, fieldsType: FieldsV1,
       fieldsV1: {f:data: {f:extra: {}, f:token: {}}}}
data: {token: dG9rLWxpdmUtMQ==, extra: YWRkZWQtYnktaGFuZA==}
"""
GIT_SECRET = """
apiVersion: v1
kind: Secret
metadata: {name: api, namespace: shop}
stringData: {token: tok-git-1}
"""
SECRETS = ("tok-live-1", "dG9rLWxpdmUtMQ==", "added-by-hand", "YWRkZWQtYnktaGFuZA==", "tok-git-1",
           base64.b64encode(b"tok-git-1").decode())


def test_redact_replaces_every_value_and_the_last_applied_copy() -> None:
    shown = redact(one(LIVE_SECRET))

    assert shown["data"] == {"token": REDACTED, "extra": REDACTED}
    assert shown["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == REDACTED
    assert not any(secret in repr(shown) for secret in SECRETS)


def test_redact_leaves_the_original_and_other_kinds_alone() -> None:
    original = one(LIVE_SECRET)
    configmap = one("{apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {token: visible}}")

    redact(original)

    assert original["data"]["token"] == "dG9rLWxpdmUtMQ=="
    assert redact(configmap)["data"] == {"token": "visible"}


def test_redact_handles_lists_of_secrets() -> None:
    listed = {"apiVersion": "v1", "kind": "SecretList", "items": [one(LIVE_SECRET)]}

    assert redact(listed)["items"][0]["data"]["token"] == REDACTED


def test_changed_and_added_secret_values_are_drift_but_never_shown() -> None:
    live = one(LIVE_SECRET)

    result = compare(one(GIT_SECRET), live, CompareOptions())

    assert result.sync is Sync.OUT_OF_SYNC
    assert {(f.path, f.desired, f.live) for f in result.differences} == {
        ("/data/token", REDACTED, REDACTED), ("/data/extra", None, REDACTED)}
    shown = repr(result) + unified_diff(ObjectKey.of(live), result)
    assert not any(secret in shown for secret in SECRETS)


def test_two_different_changes_have_different_fingerprints() -> None:
    live = one(LIVE_SECRET)
    first = compare(one(GIT_SECRET), live, CompareOptions()).differences[0].reason
    live["data"]["token"] = base64.b64encode(b"tok-live-2").decode()
    second = compare(one(GIT_SECRET), live, CompareOptions()).differences[0].reason

    assert first.startswith("secret value changed") and second.startswith("secret value changed")
    assert first != second


def test_ignored_secret_values_are_redacted_too() -> None:
    rule = IgnoreRule(kind="Secret", json_pointers=["/data"], origin="vault-managed")

    result = compare(one(GIT_SECRET), one(LIVE_SECRET), CompareOptions(ignore_differences=[rule]))

    assert result.sync is Sync.SYNCED
    assert {(f.path, f.desired, f.live, f.ignored_by) for f in result.ignored} == {
        ("/data/token", REDACTED, REDACTED, "vault-managed"), ("/data/extra", None, REDACTED, "vault-managed")}
    assert not any(secret in repr(result) for secret in SECRETS)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(alphabet="abcdefgh", min_size=1, max_size=4),
                       st.text(alphabet="0123456789abcdef", min_size=8, max_size=16).map(lambda s: "pw-" + s),
                       min_size=1, max_size=4))
def test_no_secret_value_ever_appears_in_a_result(values: dict[str, str]) -> None:
    git = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"},
           "stringData": values}
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"},
            "data": {k: base64.b64encode((v + "-live").encode()).decode() for k, v in values.items()}}

    result = compare(git, live, CompareOptions())

    shown = repr(result) + unified_diff(ObjectKey.of(live), result)
    assert result.sync is Sync.OUT_OF_SYNC
    for value in values.values():
        assert value not in shown
        assert base64.b64encode(value.encode()).decode() not in shown
