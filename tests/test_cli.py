"""The console script: every sub-command is listed in its parent's --help and answers --help
itself (exit 0, without heavy imports), and every command the documents name exists with the
options they show.

The commands are found by walking the parser, so a new command is checked without editing this
file; the documented ones are read from the repository's Markdown files (code blocks and
`counterscan ...` spans) and from DESIGN.md's command list (DESIGN_COMMANDS, kept outside the
repository).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from counterscan.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
# DESIGN.md, "Command line": `counterscan data synth|check|split|from-verdicts ...`,
# `counterscan train`, `counterscan export`, `counterscan evaluate`, `counterscan score`,
# `counterscan serve`.
DESIGN_COMMANDS = [
    ("data", "synth"), ("data", "check"), ("data", "split"), ("data", "from-verdicts"),
    ("train",), ("export",), ("evaluate",), ("score",), ("serve",),
]  # fmt: skip


def _children(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-commands of a parser (empty for a leaf command)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for name, sub in _children(parser).items():
        yield (*path, name), sub
        yield from _walk(sub, (*path, name))


COMMANDS = [path for path, _ in _walk(build_parser())]


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0, argv
    return capsys.readouterr().out


def test_the_parser_has_the_commands_design_promises() -> None:
    assert len(COMMANDS) >= 10
    for command in DESIGN_COMMANDS:
        assert command in COMMANDS, f"DESIGN.md names `counterscan {' '.join(command)}`"


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "counterscan")
def test_help_exits_0_and_lists_every_sub_command(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = build_parser()
    for name in path:
        parser = _children(parser)[name]
    out = _help(list(path), capsys)
    assert out.startswith(f"usage: {' '.join(('counterscan', *path))} ")
    for name in _children(parser):
        # listed as "  name  what it does" (the text may start on the next line)
        listed = re.search(rf"^ +{re.escape(name)}(?: +\S.*|\n +\S.*)$", out, re.M)
        assert listed, f"`counterscan {' '.join((*path, name))}` is missing from:\n{out}"


def _documented() -> Iterator[tuple[str, str]]:
    """(file, command line) of every `counterscan ...` the Markdown files show."""
    inline = re.compile(r"`((?:torchrun .*?-m )?counterscan [^`]+)`")
    for md in sorted(REPO.glob("**/*.md")):
        if ".venv" in md.parts or not md.is_file():
            continue
        in_code = False
        for line in md.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith("```"):
                in_code = not in_code
                continue
            if in_code:
                found = re.search(r"(?:^|-m |\$ )(counterscan [^#]*)", line.strip())
                if found and line.strip().split()[0] in ("counterscan", "torchrun", "$"):
                    yield str(md.relative_to(REPO)), found.group(1).strip()
            else:
                for span in inline.findall(line):
                    yield str(md.relative_to(REPO)), span.strip()


DOCUMENTED = sorted(set(_documented()))


def test_the_documents_name_commands() -> None:
    assert len(DOCUMENTED) >= 10, DOCUMENTED


@pytest.mark.parametrize(("doc", "line"), DOCUMENTED, ids=[f"{d}: {x}" for d, x in DOCUMENTED])
def test_documented_commands_and_options_exist(doc: str, line: str) -> None:
    tokens = line.replace("[", " ").replace("]", " ").split()
    assert tokens[0] == "counterscan" or "-m" in tokens, line
    parser, words = build_parser(), tokens[tokens.index("counterscan") + 1 :]
    while _children(parser) and words:
        name = words.pop(0)
        for alternative in name.split("|"):  # `data synth|check|split`
            assert alternative in _children(parser), f"{doc}: `{line}`: no command {alternative!r}"
        parser = _children(parser)[name.split("|")[0]]
    known = set(parser._option_string_actions)
    for word in words:
        option = word.split("=")[0]
        if re.fullmatch(r"--[a-z][a-z0-9-]*", option):
            assert option in known, f"{doc}: `{line}`: no option {option}"


def test_help_does_not_import_torch() -> None:
    """No command's --help imports torch (the parser is built, and every --help printed)."""
    code = (
        "import contextlib, io, sys\n"
        "from counterscan.cli import main\n"
        f"for path in {[list(p) for p in [(), *COMMANDS]]!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main([*path, '--help'])\n"
        "assert 'torch' not in sys.modules, 'torch imported by --help'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
