"""Changes during a freeze: what a new commit or a live change means while a deny window holds
or the app's deployer (a Flux Kustomization) is suspended.

The agent reports each change here; what comes back is a violation to tell people about, or None
(the app is not frozen, or the freeze log already holds that change).
"""

from __future__ import annotations

from exporter.clock import Clock
from exporter.model import AppStatus, DeployerState, KubeObject, ObjectKey
from exporter.pipeline.desired import AppRuntime
from exporter.windows import FreezeLog, FreezeViolation, WindowSchedule


class FreezeWatch:
    def __init__(self, windows: WindowSchedule, log: FreezeLog, clock: Clock) -> None:
        self.windows = windows
        self.log = log
        self.clock = clock

    def frozen(self, rt: AppRuntime, now: float | None = None, deployer: DeployerState | None = None) -> bool:
        """Whether the app is frozen: a window holds, or its deployer (``deployer``, else as last
        seen) is suspended."""
        deployer = deployer if deployer is not None else rt.status.deployer if rt.status is not None else None
        return (deployer is not None and deployer.suspended) or self.windows.is_frozen(
            rt.config, self.clock.now() if now is None else now)

    def deployer_change(self, rt: AppRuntime, status: AppStatus) -> FreezeViolation | None:
        """The app's deployer was suspended or resumed since the log last said (an entry of the
        freeze report), or None."""
        if status.deployer is None or status.error is not None:
            return None
        return self.log.record_suspension(rt.config.name, status.deployer.what, status.deployer.suspended)

    def new_commit(self, rt: AppRuntime, old: str, new: str) -> FreezeViolation | None:
        """A merge while the app is frozen."""
        if not self.frozen(rt):
            return None
        return self.log.record_git(rt.config.name, old, new)

    def live_change(self, rt: AppRuntime, key: ObjectKey, obj: KubeObject | None) -> FreezeViolation | None:
        """A change to one of the app's objects (``obj`` None: deleted) while the app is frozen."""
        if key not in rt.desired_keys or not self.frozen(rt):
            return None
        before = rt.live_seen.get(key)
        change = "DELETED" if obj is None else "ADDED" if before is None else "MODIFIED"
        return self.log.record_live(rt.config.name, key, change, before, obj)
