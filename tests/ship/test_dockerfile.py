"""The container image, checked statically (no container engine is needed to run these tests;
``.ci/image`` builds and runs the real one in CI).

The image must run the agent as an unprivileged user, take everything from the base image, Debian's
archive and PyPI (no release-page downloads), and agree with the Helm chart about image name,
command line and port.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import dataclass

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import REPO

CHART = REPO / "helm" / "gitops-drift-exporter"


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with their arguments, continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, args = whole.partition(" ")
        instructions.append(Instruction(start, keyword.upper(), args.strip()))
    return instructions


DOCKERFILE = (REPO / "Dockerfile").read_text()
INSTRUCTIONS = parse_dockerfile(DOCKERFILE)
ARGS = {
    name: value
    for i in INSTRUCTIONS
    if i.keyword == "ARG" and "=" in i.args
    for name, value in [i.args.split("=", 1)]
}


def stages() -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for instruction in INSTRUCTIONS:
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def final_stage() -> list[Instruction]:
    """The stage users run: ``runtime`` (a later stage only adds the test tools CI uses)."""
    return next(stage for stage in stages() if stage[0].args.split()[-1] == "runtime")


def resolve(image: str) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: ARGS[m.group(1) or m.group(2)], image)


def exec_form(instruction: Instruction) -> list[str]:
    value = json.loads(instruction.args)
    assert isinstance(value, list), f"line {instruction.line}: use the exec (JSON) form"
    return [str(v) for v in value]


def test_every_base_image_is_pinned_to_a_tag_and_never_latest() -> None:
    stage_names = {i.args.split()[-1] for i in INSTRUCTIONS if i.keyword == "FROM" and " AS " in i.args.upper()}
    for instruction in (i for i in INSTRUCTIONS if i.keyword == "FROM"):
        image = resolve(instruction.args.split()[0])
        if image in stage_names:
            continue
        assert ":" in image, f"line {instruction.line}: {image} has no tag"
        assert not image.endswith(":latest"), f"line {instruction.line}: {image} uses latest"


def test_runtime_is_slim_python_3_11() -> None:
    assert re.fullmatch(r"python:3\.11-slim-\w+", resolve(final_stage()[0].args.split()[0]))


def test_the_agent_runs_as_an_unprivileged_numeric_user() -> None:
    users = [i for i in final_stage() if i.keyword == "USER"]
    assert users, "the runtime stage never leaves root"
    user, _, group = users[-1].args.partition(":")
    assert user.isdigit() and int(user) == 65532
    assert not group or (group.isdigit() and int(group) != 0)
    last_user_line = users[-1].line
    assert not [i for i in final_stage() if i.keyword == "RUN" and i.line > last_user_line], (
        "RUN after USER would run as the unprivileged user by accident or need root back"
    )


def test_the_chart_runs_the_same_uid_as_the_image() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    user = [i for i in final_stage() if i.keyword == "USER"][-1].args.split(":")[0]
    assert values["podSecurityContext"]["runAsUser"] == int(user)


def test_runtime_has_git_and_ssh_from_debian() -> None:
    installs = " ".join(i.args for i in final_stage() if i.keyword == "RUN" and "apt-get install" in i.args)
    for package in ("git", "openssh-client", "ca-certificates"):
        assert re.search(rf"(?<![\w-]){re.escape(package)}(?![\w-])", installs), package
    assert "--no-install-recommends" in installs
    assert "rm -rf /var/lib/apt/lists" in installs


def test_nothing_is_downloaded_from_release_pages() -> None:
    """kustomize is Debian's package, Helm is helm-python-sdk: the build needs only the base image,
    Debian's archive and PyPI, which is all a locked-down build machine can reach."""
    runs = " ".join(i.args for i in INSTRUCTIONS if i.keyword == "RUN")
    assert not re.search(r"\b(curl|wget)\b", runs)
    assert not re.search(r"\bADD\s+https?://", DOCKERFILE)
    assert "apt-get download -qq kustomize/trixie" in runs


def test_dependencies_are_installed_by_hash_and_the_agent_without_them() -> None:
    pip = [i.args for i in INSTRUCTIONS if i.keyword == "RUN" and '".[helm,demo]"' in i.args]
    assert len(pip) == 1
    assert "--require-hashes --only-binary=:all: --no-deps -r requirements.lock" in pip[0]
    assert '--no-deps --constraint constraints.txt ".[helm,demo]"' in pip[0] and "pip check" in pip[0]


def test_the_lock_pins_every_constraint_with_hashes() -> None:
    def pins(text: str) -> dict[str, str]:
        found = re.findall(r"^([A-Za-z0-9._-]+)==([\w.+!-]+)", text, re.M)
        return {canonicalize_name(name): version for name, version in found}
    lock = (REPO / "requirements.lock").read_text()
    assert pins(lock) == pins((REPO / "constraints.txt").read_text())
    for block in re.split(r"\n(?=\S)", lock.split("\n", 5)[-1].strip()):
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), block.splitlines()[0]


def test_constraints_pin_every_runtime_dependency_to_a_version_pyproject_allows() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["helm"]]
    pins: dict[str, str] = {}
    for number, line in enumerate((REPO / "constraints.txt").read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([\w.+!-]+)", line)
        assert match, f"constraints.txt:{number}: {line!r} is not an exact pin"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"constraints.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(pins[name]), f"{requirement.name}=={pins[name]} violates {requirement}"


def test_entrypoint_is_the_agents_console_script() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    entrypoint = exec_form([i for i in final_stage() if i.keyword == "ENTRYPOINT"][-1])
    assert entrypoint == ["gitops-drift-exporter"]
    assert "gitops-drift-exporter" in project["scripts"]


def test_default_command_matches_what_the_chart_runs() -> None:
    command = exec_form([i for i in final_stage() if i.keyword == "CMD"][-1])
    workload = (CHART / "templates" / "workload.yaml").read_text()
    chart_args = re.findall(r"^\s+- (run|--[\w-]+|/etc/\S+|0\.0\.0\.0:\d+)$", workload, re.M)
    assert command[: len(chart_args)] == chart_args
    assert command[command.index("--listen") + 1] == "0.0.0.0:8080"
    from exporter.cli import build_parser

    try:
        build_parser().parse_args(command)
    except SystemExit:
        pytest.fail(f"gitops-drift-exporter rejects the image's default command {command}")
    expose = [i.args for i in final_stage() if i.keyword == "EXPOSE"]
    assert expose == ["8080"]


def test_health_is_checked_on_the_endpoint_the_chart_probes() -> None:
    healthchecks = [i.args for i in final_stage() if i.keyword == "HEALTHCHECK"]
    assert healthchecks and "/healthz" in healthchecks[-1]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_chart_image_and_app_version_match_the_documented_build_tag() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert chart["appVersion"] == version
    tag = re.search(r"docker build -t (\S+) \.", DOCKERFILE)
    assert tag, "the Dockerfile header should show how to build and tag the image"
    assert tag.group(1) == f"{values['image']['repository']}:{chart['appVersion']}"


def test_copied_sources_exist() -> None:
    for instruction in (i for i in INSTRUCTIONS if i.keyword == "COPY" and "--from=" not in i.args):
        *sources, _destination = instruction.args.split()
        for source in sources:
            assert (REPO / source).exists(), f"line {instruction.line}: COPY {source} does not exist"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*") or path.startswith(pattern + "/"):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".git/config", True),
        (".venv/bin/python", True),
        ("tests/ship/test_dockerfile.py", True),
        ("helm/gitops-drift-exporter/values.yaml", True),
        ("exporter/__init__.py", False),
        ("pyproject.toml", False),
        ("constraints.txt", False),
        ("requirements.lock", False),
        ("README.md", False),
    ],
)
def test_build_context_holds_only_what_the_image_needs(path: str, ignored: bool) -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert _ignored(path, patterns) is ignored


def test_parser_joins_continuations_and_skips_comments() -> None:
    parsed = parse_dockerfile("# c\nFROM a:1 AS b\nRUN x \\\n  # inner\n  && y\nUSER 1\n")
    assert [(i.line, i.keyword, i.args) for i in parsed] == [
        (2, "FROM", "a:1 AS b"),
        (3, "RUN", "x && y"),
        (6, "USER", "1"),
    ]
