"""The layout rules (README "Layout", issue 9), checked on every import of every module.

`models/` is the core: it imports nothing of ours outside `models/`. `mail/` is an adapter
that never imports `bot/`. Inside `bot/`, only the composition roots may import `mail/`:
`bot/app/` (the process: cli, runtime, check, wiring, web, config, manifest) and
`bot/sandbox/` (which starts the runtime itself). Every `import` and `from … import` counts,
wherever it stands (functions, `if TYPE_CHECKING:`, `try:`), with relative imports resolved.

The second test feeds the checker small synthetic trees, so a green first test means the
rules hold, not that the checker looked at nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "models", "mail")


@dataclass(frozen=True)
class Rule:
    """Modules under one of `importers` may not import anything under one of `forbidden`,
    except modules under one of `allowed_in`. All are dotted prefixes, matched at dots."""

    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed_in: tuple[str, ...] = ()


# The rule table: the one place the layout is written down.
RULES: tuple[Rule, ...] = (
    Rule("models imports nothing of ours outside models", ("models",), ("bot", "mail", "tests")),
    Rule("mail never imports bot", ("mail",), ("bot",)),
    Rule(
        "in bot only bot.app and bot.sandbox import mail",
        ("bot",),
        ("mail",),
        allowed_in=("bot.app", "bot.sandbox"),
    ),
    Rule("production code never imports tests", ("bot", "mail"), ("tests",)),
)


@dataclass(frozen=True, order=True)
class Violation:
    file: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.imported} (rule: {self.rule})"


def is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    """(dotted name, is a package) of a file under `root`."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


BEYOND_TOP = "<relative import beyond the top-level package>"


def imports_of(
    tree: ast.Module, module: str, is_package: bool
) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, names) for every import anywhere in the file: `import a, b` is two,
    `from X import a, b` is one (X, [a, b]; a may be a submodule X.a). Relative imports are
    resolved against the file's package; one that climbs above it yields `BEYOND_TOP`."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                if node.level > len(parts):
                    yield node.lineno, BEYOND_TOP, []
                    continue
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            yield node.lineno, base, [a.name for a in node.names if a.name != "*"]


def under_any(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(is_under(module, prefix) for prefix in prefixes)


def breaks(rule: Rule, importer: str, imported: str) -> bool:
    return (
        under_any(importer, rule.importers)
        and under_any(imported, rule.forbidden)
        and not under_any(importer, rule.allowed_in)
    )


def check_file(path: Path, root: Path, rules: tuple[Rule, ...] = RULES) -> list[Violation]:
    relative = path.relative_to(root).as_posix()
    module, is_package = module_name(path, root)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    except SyntaxError as error:
        return [Violation(relative, error.lineno or 0, "?", f"cannot be parsed: {error.msg}")]
    found: set[Violation] = set()
    for line, imported, names in imports_of(tree, module, is_package):
        if imported == BEYOND_TOP:
            found.add(Violation(relative, line, imported, "imports must resolve"))
            continue
        for rule in rules:
            if breaks(rule, module, imported):
                found.add(Violation(relative, line, imported, rule.name))
            else:  # `from bot import sandbox` imports bot.sandbox
                found.update(
                    Violation(relative, line, f"{imported}.{name}", rule.name)
                    for name in names
                    if breaks(rule, module, f"{imported}.{name}")
                )
    return sorted(found)


def python_files(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[Path]:
    return sorted(
        path
        for package in packages
        for path in (root / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def check_tree(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[Violation]:
    return [v for path in python_files(root, packages) for v in check_file(path, root)]


def report(violations: list[Violation]) -> str:
    return "layout rules broken:\n" + "\n".join(f"  {v}" for v in violations)


# -- the real tree ---------------------------------------------------------------------


def test_the_packages_keep_their_layout() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in python_files(ROOT)}
    for known in ("bot/app/cli.py", "bot/slack/actions.py", "models/work.py", "mail/parse.py"):
        assert known in files, f"the checker did not find {known}: is ROOT right?"
    violations = check_tree(ROOT)
    assert not violations, report(violations)


# -- the checker itself ----------------------------------------------------------------

MODELS_BOT = MODELS_MAIL = MODELS_TESTS = "models imports nothing of ours outside models"
MAIL_BOT = "mail never imports bot"
BOT_MAIL = "in bot only bot.app and bot.sandbox import mail"
NO_TESTS = "production code never imports tests"
BEYOND = "imports must resolve"

CASES: list[tuple[str, str, str, list[tuple[int, str, str]]]] = [
    # (id, file, source, [(line, imported, rule), …]); [] means the file is allowed.
    (
        "models-imports-bot",
        "models/x.py",
        "import bot.slack.ids\n",
        [(1, "bot.slack.ids", MODELS_BOT)],
    ),
    (
        "models-from-mail",
        "models/x.py",
        "from mail.parse import parse\n",
        [(1, "mail.parse", MODELS_MAIL)],
    ),
    (
        "models-from-bot-import-sub",
        "models/x.py",
        "from bot import app\n",
        [(1, "bot", MODELS_BOT)],
    ),
    (
        "models-imports-tests",
        "models/x.py",
        "import tests.support\n",
        [(1, "tests.support", MODELS_TESTS)],
    ),
    (
        "models-two-aliases",
        "models/x.py",
        "import os, bot, mail.intake as intake\n",
        [(1, "bot", MODELS_BOT), (1, "mail.intake", MODELS_MAIL)],
    ),
    (
        "models-in-a-function",
        "models/store/x.py",
        "def load() -> None:\n    from bot.slack import ids\n",
        [(2, "bot.slack", MODELS_BOT)],
    ),
    (
        "models-under-type-checking",
        "models/x.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mail.parsed import Parsed\n",
        [(3, "mail.parsed", MODELS_MAIL)],
    ),
    (
        "models-in-try",
        "models/x.py",
        "try:\n    import mail\nexcept ImportError:\n    mail = None\n",
        [(2, "mail", MODELS_MAIL)],
    ),
    (
        "models-own-and-stdlib",
        "models/x.py",
        "import mailbox\nimport models.store\nfrom . import work\n",
        [],
    ),
    ("models-third-party-lookalike", "models/x.py", "import botocore\nimport mailer.x\n", []),
    (
        "models-relative-into-itself",
        "models/store/x.py",
        "from ..mail import box\nfrom . import bot\n",
        [],
    ),
    ("models-package-init-relative", "models/store/__init__.py", "from . import ticket\n", []),
    ("mail-imports-bot", "mail/x.py", "import bot\n", [(1, "bot", MAIL_BOT)]),
    (
        "mail-deep-from-bot",
        "mail/sub/x.py",
        "\n\nfrom bot.render.mrkdwn import escape\n",
        [(3, "bot.render.mrkdwn", MAIL_BOT)],
    ),
    (
        "mail-imports-tests",
        "mail/x.py",
        "from tests.support.make_mail import make_mail\n",
        [(1, "tests.support.make_mail", NO_TESTS)],
    ),
    ("mail-imports-models", "mail/x.py", "from models.store.ticket import Ticket\n", []),
    ("mail-relative-beyond-top", "mail/x.py", "from .. import bot\n", [(1, BEYOND_TOP, BEYOND)]),
    (
        "mail-init-relative-beyond-top",
        "mail/__init__.py",
        "from .. import x\n",
        [(1, BEYOND_TOP, BEYOND)],
    ),
    (
        "bot-slack-imports-mail",
        "bot/slack/x.py",
        "from mail.compose import build\n",
        [(1, "mail.compose", BOT_MAIL)],
    ),
    (
        "bot-render-imports-mail",
        "bot/render/x.py",
        "import mail.parse\n",
        [(1, "mail.parse", BOT_MAIL)],
    ),
    ("bot-top-level-imports-mail", "bot/__main__.py", "import mail\n", [(1, "mail", BOT_MAIL)]),
    ("bot-lookalike-of-app", "bot/application.py", "import mail\n", [(1, "mail", BOT_MAIL)]),
    (
        "bot-app-imports-mail",
        "bot/app/x.py",
        "from mail.intake import ingest\nimport mail.smtp\n",
        [],
    ),
    ("bot-app-package-imports-mail", "bot/app/__init__.py", "import mail\n", []),
    ("bot-sandbox-imports-mail", "bot/sandbox/emulator/x.py", "from mail import parse\n", []),
    (
        "bot-relative-mail-is-its-own",
        "bot/slack/x.py",
        "from . import mail\nfrom ..render import mail as m\n",
        [],
    ),
    ("bot-imports-models", "bot/slack/x.py", "from models import work\n", []),
    (
        "bot-imports-tests",
        "bot/sandbox/x.py",
        "import tests.support\n",
        [(1, "tests.support", NO_TESTS)],
    ),
    ("unparsable", "bot/x.py", "def broken(:\n", [(1, "?", "cannot be parsed: invalid syntax")]),
]


@pytest.mark.parametrize(
    ("file", "source", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_the_checker_flags_exactly_what_the_rules_forbid(
    tmp_path: Path, file: str, source: str, expected: list[tuple[int, str, str]]
) -> None:
    path = tmp_path / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    found = [(v.line, v.imported, v.rule) for v in check_tree(tmp_path)]
    assert found == sorted(expected)
    for violation in check_tree(tmp_path):
        assert str(violation).startswith(f"{file}:{violation.line} imports {violation.imported} (")


def test_every_rule_has_a_case_that_fires_and_the_report_is_readable(tmp_path: Path) -> None:
    fired = {rule for *_, expected in CASES for _, _, rule in expected}
    assert {rule.name for rule in RULES} <= fired
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "x.py").write_text("import bot\n", encoding="utf-8")
    assert report(check_tree(tmp_path)) == (
        "layout rules broken:\n"
        "  models/x.py:1 imports bot (rule: models imports nothing of ours outside models)"
    )
