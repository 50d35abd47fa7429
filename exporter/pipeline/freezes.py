"""Changes during a freeze: what a new commit or a live change means while a deny window holds.

The agent reports each change here; what comes back is a violation to tell people about, or None
(the app is not frozen, or the freeze log already holds that change).
"""

from __future__ import annotations

from exporter.clock import Clock
from exporter.model import KubeObject, ObjectKey
from exporter.pipeline.desired import AppRuntime
from exporter.windows import FreezeLog, FreezeViolation, WindowSchedule


class FreezeWatch:
    def __init__(self, windows: WindowSchedule, log: FreezeLog, clock: Clock) -> None:
        self.windows = windows
        self.log = log
        self.clock = clock

    def new_commit(self, rt: AppRuntime, old: str, new: str) -> FreezeViolation | None:
        """A merge while the app is frozen."""
        if not self.windows.is_frozen(rt.config, self.clock.now()):
            return None
        return self.log.record_git(rt.config.name, old, new)

    def live_change(self, rt: AppRuntime, key: ObjectKey, obj: KubeObject | None) -> FreezeViolation | None:
        """A change to one of the app's objects (``obj`` None: deleted) while the app is frozen."""
        if key not in rt.desired_keys or not self.windows.is_frozen(rt.config, self.clock.now()):
            return None
        before = rt.live_seen.get(key)
        change = "DELETED" if obj is None else "ADDED" if before is None else "MODIFIED"
        return self.log.record_live(rt.config.name, key, change, before, obj)
