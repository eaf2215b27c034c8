"""mkdocs hooks: pages generated at build time from the code and the data.

* ``cli.md``: ``sigprop --help`` and ``sigprop COMMAND --help`` of every
  subcommand, rendered from :func:`sigprop.cli.build_parser`, so the page can
  never drift from the command line.
* ``benchmarks.md``: the latest table of ``python -m benchmarks``, read from
  ``benchmarks/results.json``, with its date and machine.

Both pages are virtual (``File.generated``): nothing is written into
``docs/``. A third hook tidies the API pages: the docstrings are numpydoc
with reStructuredText roles (``:func:`x```, ``:math:`x```), which Markdown
renders as the role's name followed by code; the role's name is dropped and a
leading ``~`` shortens a dotted name to its last part, as Sphinx would.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"

# argparse wraps help text to the terminal width: fix it so builds reproduce
_HELP_COLUMNS = "88"


@contextmanager
def _columns(width: str):
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = width
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps subcommands in this action
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_markdown() -> str:
    """The command-line reference, one section per subcommand."""
    from sigprop.cli import ExitCode, build_parser

    with _columns(_HELP_COLUMNS):
        parser = build_parser()
        subs = _subparsers(parser)
        lines = [
            "# Command line",
            "",
            "Generated at build time from `sigprop.cli.build_parser()`: each block "
            "is exactly what `--help` prints. Every subcommand writes errors as "
            "one line on stderr and exits with a code of `sigprop.cli.ExitCode`:",
            "",
            "| code | name |",
            "|---:|---|",
        ]
        lines += [f"| {int(c)} | `{c.name}` |" for c in ExitCode]
        lines += ["", "## sigprop", "", "```text", parser.format_help().rstrip(), "```"]
        for name, sub in subs.items():
            lines += [
                "",
                f"## sigprop {name}",
                "",
                "```text",
                sub.format_help().rstrip(),
                "```",
            ]
    return "\n".join(lines) + "\n"


def benchmarks_markdown(path: Path = RESULTS) -> str:
    """The benchmarks page: how to run them, then the latest table."""
    intro = (ROOT / "docs" / "benchmarks_intro.md").read_text()
    if not path.exists():
        return intro + "\n*No results yet: run `python -m benchmarks`.*\n"
    data: dict[str, Any] = json.loads(path.read_text())
    m = data["machine"]
    parts = [
        intro,
        f"## Latest results ({data['date']})",
        "",
        f"- **machine**: {m['cpu']}, {m['cores_usable']} usable cores of "
        f"{m['cores_visible']}, {m['memory_gib']} GiB memory, {m['os']}",
        f"- **software**: Python {m['python']}, numpy {m['numpy']}, scipy "
        f"{m['scipy']}, torch {m['torch']}, sigprop {m['sigprop']} (commit "
        f"`{m['commit']}`)",
        f"- **run**: {'quick' if data['quick'] else 'full'}; load average (1, 5, "
        f"15 min) {_load(m.get('load_average_start'))} at the start and "
        f"{_load(m.get('load_average_end'))} at the end",
        "",
        "| benchmark | figure | value | unit | arguments |",
        "|---|---|---:|---|---|",
    ]
    from benchmarks.__main__ import _fmt, unit_of

    for name, entry in data["benchmarks"].items():
        args = " ".join(entry.get("argv", [])) or "-"
        if entry["status"] != "ok":
            parts.append(
                f"| {name} | *{entry['status']}: {entry['reason']}* | | | `{args}` |"
            )
            continue
        for i, (fig, value) in enumerate(entry["figures"].items()):
            label, unit = unit_of(fig)
            shown = f"`{args}`" if i == 0 else ""
            parts.append(f"| {name} | {label} | {_fmt(value)} | {unit} | {shown} |")
    return "\n".join(parts) + "\n"


def _load(values: Any) -> str:
    return "n/a" if not values else " / ".join(f"{v:.2f}" for v in values)


_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj|math):(?=<code>)")
_TILDE = re.compile(r"<code>~(?:[\w]+\.)*([\w]+)</code>")


def tidy_roles(html: str) -> str:
    """``:func:<code>~a.b</code>`` -> ``<code>b</code>`` in rendered HTML."""
    return _TILDE.sub(r"<code>\1</code>", _ROLE.sub("", html))


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri.startswith("api/"):
        return tidy_roles(html)
    return html


def on_files(files: Files, config: Any) -> Files:
    import sys

    if str(ROOT) not in sys.path:  # `benchmarks` is a folder of the repository
        sys.path.insert(0, str(ROOT))
    files.append(File.generated(config, "cli.md", content=cli_markdown()))
    files.append(File.generated(config, "benchmarks.md", content=benchmarks_markdown()))
    return files
