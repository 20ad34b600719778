"""The console script assembles every sub-command and answers --help without heavy imports."""

import subprocess
import sys

from counterscan.cli import main


def test_help_lists_commands(capsys) -> None:
    try:
        main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    assert "counterscan" in out


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys; from counterscan.cli import build_parser; build_parser(); "
        "assert 'torch' not in sys.modules, 'torch imported by --help'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
