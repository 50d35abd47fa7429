"""Live objects in the form the cache keeps them: what comparison, health and manager attribution
read, with what objects repeat stored once.

A realistic app's 25 live objects are some 60 KB of JSON, and as Python objects over 200 KB: every
short string (``"TCP"``, ``"IfNotPresent"``, a label key) is its own object, every
``managedFields`` entry carries a ``fieldsV1`` tree as large as the object's spec, and the
``kubectl.kubernetes.io/last-applied-configuration`` annotation repeats the whole manifest once more
as text. For ten thousand apps that is gigabytes. So the cache keeps:

- short strings shared, one object per distinct value (values that are unique by nature, such as
  ``uid``, ``resourceVersion`` and timestamps, are left alone: sharing them saves nothing);
- each distinct ``fieldsV1`` tree once: it names fields and list keys, not values, so the objects
  of one chart across a fleet have the same few trees;
- the last-applied annotation as its key skeleton (every value replaced by ``""``, but the key
  fields of list items): all the comparison reads from it is which fields and which keyed list
  items the last ``kubectl apply`` set, and the skeleton also keeps the Secret values that
  annotation repeats out of the agent's memory.

Shared parts are never modified by their readers. ``Compactor`` holds the shared values; it forgets
the ones no cached object uses any more whenever its tables have doubled since the last sweep.
"""

from __future__ import annotations

import json
import sys
from typing import Any

#: The annotation ``kubectl apply`` (client side) records the applied manifest in.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

#: Fields whose values are unique per object or per change: not worth a table entry.
UNIQUE_VALUES = frozenset({"uid", "resourceVersion", "creationTimestamp", "time", "lastTransitionTime",
                           "lastUpdateTime", "lastProbeTime", "lastHeartbeatTime", "lastScaleTime",
                           "startTime", "startedAt", "finishedAt", "deletionTimestamp", "continue",
                           "podIP", "clusterIP"})

#: Longer strings are rarely repeated word for word; they are kept as they come.
SHORT = 64

#: Sweep no more often than this many new table entries.
MIN_SWEEP = 20_000


#: Fields that name a list item (patch merge keys and the common ``x-kubernetes-list-map-keys``):
#: a skeleton keeps their values, so the items of a keyed list can still be told apart. None of
#: them holds a secret (a Secret's values are a map's, and blanked).
LIST_KEY_FIELDS = frozenset({"name", "containerPort", "port", "protocol", "mountPath", "devicePath", "ip",
                             "topologyKey", "whenUnsatisfiable", "conditionType", "type", "key", "id"})


def skeleton(value: Any) -> Any:
    """``value`` with every leaf replaced by ``""``: maps keep their keys, lists of maps keep
    their items (with the values of their key fields), other lists become leaves."""
    if isinstance(value, dict):
        return {k: skeleton(v) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return [{k: v if k in LIST_KEY_FIELDS and isinstance(v, (str, int)) else skeleton(v)
                 for k, v in item.items()} for item in value]
    return ""


def skeleton_text(text: str) -> str:
    """The key skeleton of a last-applied annotation; text that is not a JSON object stays as is
    (the comparison ignores it then, as it would have)."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if not isinstance(value, dict):
        return text
    return json.dumps(skeleton(value), separators=(",", ":"))


def _references_when_unused(own_key: bool) -> int:
    """What ``getrefcount`` says, in the comprehensions of ``Compactor.sweep``, of a value only
    its table refers to (the interpreter's own references vary between versions, so ask it)."""
    value = "".join(("unused", " probe"))
    table = {value if own_key else "key": value}
    del value
    counts = {k: sys.getrefcount(v) for k, v in table.items()}
    return next(iter(counts.values()))


_UNUSED_STRING = _references_when_unused(own_key=True)
_UNUSED_FIELDS = _references_when_unused(own_key=False)


class Compactor:
    """Turns objects as decoded from the API into their compact form (see the module docstring)."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._fields: dict[str, dict[str, Any]] = {}
        self._sweep_at = MIN_SWEEP

    def compact(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The compact form of one object (a new dict; ``obj`` itself is left as it was)."""
        out: dict[str, Any] = self._map(obj)
        if self.shared >= self._sweep_at:
            self.sweep()
        return out

    def sweep(self) -> None:
        """Forget shared values that nothing but the tables refers to any more."""
        self._strings = {k: v for k, v in self._strings.items() if sys.getrefcount(v) > _UNUSED_STRING}
        self._fields = {k: v for k, v in self._fields.items() if sys.getrefcount(v) > _UNUSED_FIELDS}
        self._sweep_at = max(MIN_SWEEP, 2 * self.shared)

    @property
    def shared(self) -> int:
        """How many distinct values the tables hold."""
        return len(self._strings) + len(self._fields)

    def _string(self, text: str) -> str:
        return self._strings.setdefault(text, text)

    def _map(self, value: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        strings = self._strings
        for key, item in value.items():
            key = strings.setdefault(key, key)
            kind = type(item)
            if kind is str:
                if key == LAST_APPLIED:
                    item = self._string(skeleton_text(item))
                elif len(item) <= SHORT and key not in UNIQUE_VALUES:
                    item = strings.setdefault(item, item)
            elif kind is dict:
                item = self._shared_fields(item) if key == "fieldsV1" else self._map(item)
            elif kind is list:
                item = self._list(item)
            out[key] = item
        return out

    def _list(self, value: list[Any]) -> list[Any]:
        out: list[Any] = []
        strings = self._strings
        for item in value:
            kind = type(item)
            if kind is dict:
                item = self._map(item)
            elif kind is list:
                item = self._list(item)
            elif kind is str and len(item) <= SHORT:
                item = strings.setdefault(item, item)
            out.append(item)
        return out

    def _shared_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps(fields, separators=(",", ":"))
        found = self._fields.get(key)
        if found is None:
            found = self._fields[key] = fields
        return found


#: The compactor of this process (the agent's, or a worker's for list pages).
COMPACTOR = Compactor()


def decode_list_page(body: bytes, api_version: str, kind: str) -> dict[str, Any]:
    """A list answer decoded and its items compacted, in a worker process (see
    :mod:`exporter.workers`): the page comes back pickled, which keeps what its items share."""
    page = json.loads(body)
    if not isinstance(page, dict):
        raise ValueError("not a list")
    items = []
    for item in page.get("items") or []:
        if isinstance(item, dict):
            item["apiVersion"] = api_version
            item["kind"] = kind
            items.append(COMPACTOR.compact(item))
    page["items"] = items
    return page
