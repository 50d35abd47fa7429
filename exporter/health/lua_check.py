"""Users' Lua health checks, compatible with Argo CD's ``health.lua`` contract.

The script sees the live object as the global table ``obj`` and returns a table with ``status``
(one of the health names) and ``message``. It runs in a restricted environment: the base functions,
``string``, ``table`` and ``math`` only; no ``os``, ``io``, ``require``, ``load``, ``debug``,
``coroutine``, ``pcall`` or ``setmetatable`` (a script that could catch the time-limit error, hide
in a coroutine the instruction hook does not watch, or leave a finaliser for the garbage collector to
run after the hook is gone, could run forever). Time is bounded by an instruction hook
checking a CPU-time deadline and memory by lupa's ``max_memory``, per check. A script that fails in
any way yields Unknown with the error, so one bad check cannot stall or crash the agent.
"""

from __future__ import annotations

from typing import Any

from lupa import LuaError, LuaRuntime

from exporter.model import Health, HealthResult, KubeObject

#: Per evaluation. Checks run on the agent's event loop, so a runaway one may hold it only briefly.
DEFAULT_TIMEOUT = 0.25
DEFAULT_MAX_MEMORY = 32 * 1024 * 1024

_SAFE_GLOBALS = ("assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring", "type",
                 "rawequal", "rawget", "rawlen", "rawset", "unpack")

_RUNNER = """
local load, setmetatable, sethook, clock, error, pcall = load, setmetatable, debug.sethook, os.clock, error, pcall
local collectgarbage = collectgarbage
local base = {}
for _, name in ipairs({SAFE_GLOBALS}) do base[name] = _G[name] end
base.unpack = base.unpack or table.unpack
for _, lib in ipairs({"string", "table", "math"}) do
  local copy = {}
  for k, v in pairs(_G[lib]) do copy[k] = v end
  base[lib] = copy
end
base.math.randomseed = nil
base.string.dump = nil
local compile = function(source, name)
  local env = setmetatable({}, {__index = base})
  return load(source, name, "t", env)
end
local run = function(source, name, obj, budget)
  local env = setmetatable({obj = obj}, {__index = base})
  local chunk, err = load(source, name, "t", env)
  if not chunk then return false, err end
  local deadline = clock() + budget
  sethook(function()
    if clock() > deadline then error("health check exceeded its time limit", 0) end
  end, "", 1000)
  local ok, result = pcall(chunk)
  if ok then ok = pcall(collectgarbage) end
  sethook()
  return ok, result
end
return compile, run
""".replace("SAFE_GLOBALS", ", ".join(f'"{name}"' for name in _SAFE_GLOBALS))


def _to_lua(lua: LuaRuntime, value: Any) -> Any:
    if isinstance(value, dict):
        return lua.table_from({k: _to_lua(lua, v) for k, v in value.items() if v is not None})
    if isinstance(value, list):
        return lua.table_from([_to_lua(lua, v) for v in value])
    return value


class LuaCheck:
    """One compiled user script with its own Lua state, time budget and memory cap."""

    def __init__(self, source: str, origin: str = "", *, timeout: float = DEFAULT_TIMEOUT,
                 max_memory: int = DEFAULT_MAX_MEMORY) -> None:
        self.source = source
        self.origin = origin or "health.lua"
        self.timeout = timeout
        self._lua = LuaRuntime(max_memory=max_memory, register_eval=False, register_builtins=False,
                               unpack_returned_tuples=True)
        self._compile, self._run = self._lua.execute(_RUNNER)

    def compile_error(self) -> str | None:
        """The syntax error in the script, or None when it compiles."""
        try:
            compiled = self._compile(self.source, "=lua")
        except LuaError as exc:
            return str(exc)
        if isinstance(compiled, tuple):  # load() returned nil and the error
            return None if compiled[0] is not None else str(compiled[1])
        return None

    def __call__(self, obj: KubeObject) -> HealthResult | None:
        try:
            ok, result = self._run(self.source, "=lua", _to_lua(self._lua, obj), self.timeout)
        except (LuaError, MemoryError) as exc:
            return HealthResult(Health.UNKNOWN, f"{self.origin}: {exc}", reason="checkFailed")
        if not ok:
            return HealthResult(Health.UNKNOWN, f"{self.origin}: {result}", reason="checkFailed")
        if result is None:
            return None
        try:
            status, message = result["status"], result["message"]
        except (TypeError, LuaError):
            return HealthResult(Health.UNKNOWN, f"{self.origin}: script must return a table with status", reason="checkFailed")
        try:
            health = Health(str(status))
        except ValueError:
            return HealthResult(Health.UNKNOWN, f"{self.origin}: script returned unknown status {status!r}", reason="checkFailed")
        return HealthResult(health, "" if message is None else str(message))
