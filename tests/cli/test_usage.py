"""What a newcomer meets first: ``--version``, the help of every command and option, global
options anywhere, and a one-line error with exit 2 for every bad argument."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from exporter import __version__
from exporter.cli import EXIT_CODES, build_parser, main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exporter.cli", *args], capture_output=True, text=True, timeout=60)


def test_version_prints_the_package_version_and_with_verbose_the_tools_found() -> None:
    plain = run_cli("--version")
    assert plain.returncode == 0 and plain.stdout.strip() == f"gitops-drift-exporter {__version__}"
    verbose = run_cli("--version", "-v")
    tools = [line.split(":")[0].strip() for line in verbose.stdout.splitlines()[1:]]
    assert verbose.returncode == 0 and tools == ["helm", "kustomize", "git"]
    assert "git: 2." in verbose.stdout  # git is on every machine the tests run on


def _parsers(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path or parser.prog, parser)]
    for action in parser._actions:  # noqa: SLF001 - argparse offers no public walk
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, sub in action.choices.items():
                found += _parsers(sub, f"{path} {name}".strip())
    return found


def test_every_command_has_a_description_and_every_option_a_help_text() -> None:
    for name, parser in _parsers(build_parser()):
        assert parser.description and "``" not in parser.description, name
        for action in parser._actions:  # noqa: SLF001
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):  # noqa: SLF001
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help text"


def test_global_options_may_follow_the_command_and_win_there() -> None:
    args = build_parser().parse_args(["--log-level", "debug", "check", "--config", "c.yaml", "--log-level", "warning"])
    assert args.log_level == "warning"
    assert build_parser().parse_args(["--log-level", "error", "check", "--config", "c.yaml"]).log_level == "error"
    assert build_parser().parse_args(["health", "x.yaml"]).log_format == "text"


def test_check_help_shows_the_exit_code_table_the_code_uses() -> None:
    shown = run_cli("check", "--help").stdout
    for code, text in EXIT_CODES:
        assert f"  {code}  {text.split(':')[0]}" in shown


BAD_ARGUMENTS = [
    (["run", "--config", "c.yaml", "--listen", "127.0.0.1:99999"], "port 99999 is out of range (0-65535)"),
    (["run", "--config", "c.yaml", "--listen", "no-port"], "--listen: expected HOST:PORT"),
    (["run", "--config", "c.yaml", "--shard", "3/2"], "--shard: expected N/M with 0 <= N < M"),
    (["run", "--config", "c.yaml", "--peer-url-template", "http://x-{shard}"], "only applies to a sharded agent"),
    (["run"], "the following arguments are required: --config"),
    (["check", "--config", "c.yaml", "--output", "yaml"], "argument --output: invalid choice: 'yaml'"),
    (["check", "--config", "c.yaml", "--log-level", "loud"], "argument --log-level: invalid choice: 'loud'"),
    (["--log-format", "xml", "check", "--config", "c.yaml"], "argument --log-format: invalid choice: 'xml'"),
    (["diff", "--config", "c.yaml"], "the following arguments are required: APP"),
    (["health"], "the following arguments are required: PATH"),
    (["health", "--output", "csv", "x.yaml"], "argument --output: invalid choice: 'csv'"),
    (["demo", "--duration", "soon"], "argument --duration: invalid float value: 'soon'"),
    (["demo", "--duration", "-5"], "--duration: expected a number of seconds above 0"),
    (["demo", "--listen", "localhost:70000"], "port 70000 is out of range"),
    (["notify", "test", "--config", "c.yaml"], "the following arguments are required: CHANNEL"),
    (["report", "freeze", "--config", "c.yaml", "--since", "a while"], "expected a duration like 7d"),
    (["report", "freeze", "--config", "c.yaml", "--output", "pdf"], "argument --output: invalid choice: 'pdf'"),
    (["init"], "the following arguments are required: --repo"),
    (["init", "--repo", "https://github.com/o/r.git", "--kubeconfig", "/nonexistent/kc"],
     "kubeconfig /nonexistent/kc does not exist"),
    (["check", "--offline"], "the following arguments are required: --config"),
    (["demo", "--argocd-metrics=yes"], "--argocd-metrics: ignored explicit argument 'yes'"),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
    ([], "a command is required"),
]


@pytest.mark.parametrize(("argv", "says"), BAD_ARGUMENTS, ids=[" ".join(a) or "(none)" for a, _ in BAD_ARGUMENTS])
def test_a_bad_argument_is_one_line_and_exit_two(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_a_port_out_of_range_from_the_real_command_line_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    done = run_cli("run", "--config", str(tmp_path / "c.yaml"), "--listen", "127.0.0.1:99999")
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "gitops-drift-exporter: --listen: port 99999 is out of range (0-65535)"]


def test_health_reads_a_directory_and_a_file_without_an_object_exits_two(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "apps" / "web").mkdir(parents=True)
    (tmp_path / "apps" / "web" / "pvc.yaml").write_text(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nstatus: {phase: Bound}\n")
    (tmp_path / "apps" / "README.md").write_text("not read")
    assert main(["health", str(tmp_path / "apps")]) == 0
    assert "apps/web/pvc.yaml" in capsys.readouterr().out
    (tmp_path / "apps" / "values.yaml").write_text("replicas: 3\nimage: nginx\n")
    assert main(["health", str(tmp_path / "apps")]) == 2
    out = capsys.readouterr().out
    assert "values.yaml" in out and "not a Kubernetes object" in out


def test_health_of_a_directory_without_manifests_is_a_clear_error(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", str(tmp_path)]) == 2
    assert "no manifest files (.yaml, .yml, .json) in" in capsys.readouterr().err


def test_the_readme_shows_the_same_exit_code_table() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for code, text in EXIT_CODES:
        assert f"| {code} | {text} |" in readme, code
