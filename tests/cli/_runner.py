"""Running the pmtwin command in-process, shared by the CLI tests."""

from __future__ import annotations

from typer.testing import CliRunner

from pmtwin.cli.main import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    """Exit status and everything printed (stdout and stderr)."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def assert_user_error(code: int, output: str, *fragments: str) -> None:
    """Exit status 2 and one ``error:`` line naming the problem, no traceback."""
    assert code == 2, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    for fragment in fragments:
        assert fragment in lines[0], output
