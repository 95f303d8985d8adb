"""models/errors.py: one base, and the tree in its docstring is the tree in the code."""

from __future__ import annotations

import re

import pytest

from models import errors, report, work
from models.errors import (
    InvalidValue,
    MinutesOutOfRange,
    PeriodError,
    Refused,
    RetryLater,
    TicketbotError,
)
from models.events import Refusal
from models.outbox import items
from models.store import blobs

# One tree line: the drawing (│, ├──, └── and spaces), then the class name, then its gloss.
TREE_LINE = re.compile(r"^    (?P<drawing>[│├└─ ]*)(?P<name>[A-Z]\w+)(?:\s{2,}\S.*)?$")


def defined_classes() -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    }


def tree_problems(doc: str, classes: dict[str, type[BaseException]]) -> list[str]:
    """What is wrong with the tree (the docstring's second paragraph) against `classes`."""
    problems = []
    parents: list[str] = []  # the path from the root to the line before
    drawn = []
    for line in doc.split("\n\n")[1].splitlines():
        found = TREE_LINE.match(line)
        if not found or len(found["drawing"]) % 4:
            problems.append(f"not a tree line: {line!r}")
            continue
        depth, name = len(found["drawing"]) // 4, found["name"]
        drawn.append(name)
        del parents[depth:]
        cls = classes.get(name)
        if cls is None:
            problems.append(f"{name} is drawn but not defined")
        elif depth == 0 and cls.__bases__[0] is not Exception:
            problems.append(f"{name} is drawn as the root")
        elif depth and parents and cls.__bases__[0] is not classes.get(parents[-1]):
            problems.append(f"{name} is drawn under {parents[-1]}")
        parents.append(name)
    problems += [f"{name} is drawn twice" for name in set(drawn) if drawn.count(name) > 1]
    problems += [f"{name} is not drawn" for name in sorted(set(classes) - set(drawn))]
    return problems


def test_every_class_has_the_one_base() -> None:
    classes = defined_classes()
    assert len(classes) > 5  # the checks below looked at something
    for cls in classes.values():
        assert issubclass(cls, TicketbotError), cls
    assert TicketbotError.__bases__ == (Exception,)


def test_the_docstring_tree_lists_exactly_the_classes_defined_under_their_bases() -> None:
    assert errors.__doc__
    assert tree_problems(errors.__doc__, defined_classes()) == []


class Root(Exception):
    pass


class Leaf(Root):
    pass


class Other(Root):
    pass


@pytest.mark.parametrize(
    ("tree", "problem"),
    [
        ("    Root\n    ├── Leaf", "Other is not drawn"),
        ("    Root\n    ├── Leaf\n    │   └── Other", "Other is drawn under Leaf"),
        ("    Root\n    ├── Leaf\n    ├── Other\n    └── Gone", "Gone is drawn but not defined"),
        ("    Root\n    ├── Leaf\n    ├── Other\n    └── Leaf", "Leaf is drawn twice"),
        ("    Leaf\n    ├── Root\n    └── Other", "Leaf is drawn as the root"),
        ("    Root\n    ├─ Leaf\n    └── Other", "not a tree line: '    ├─ Leaf'"),
    ],
)
def test_the_tree_check_sees_a_wrong_tree(tree: str, problem: str) -> None:
    classes: dict[str, type[BaseException]] = {"Root": Root, "Leaf": Leaf, "Other": Other}
    assert problem in tree_problems(f"Title.\n\n{tree}\n\nMore.", classes)


def test_the_old_homes_still_export_the_same_classes() -> None:
    assert work.Refused is Refused
    assert report.PeriodError is PeriodError
    assert blobs.StorageError is errors.StorageError
    assert blobs.UnsafePath is errors.UnsafePath
    assert blobs.CorruptBlob is errors.CorruptBlob
    assert items.RetryLater is RetryLater
    assert items.PermanentFailure is errors.PermanentFailure


def test_minutes_out_of_range_is_a_domain_error_and_still_a_value_error() -> None:
    assert work.check_minutes(0) == 0
    assert work.check_minutes(work.MAX_MINUTES) == work.MAX_MINUTES
    for minutes in (-1, work.MAX_MINUTES + 1):
        with pytest.raises(MinutesOutOfRange, match="between 0 and 1440") as caught:
            work.check_minutes(minutes)
        assert isinstance(caught.value, InvalidValue | ValueError)
        assert caught.value.minutes == minutes


def test_period_errors_stay_value_errors() -> None:
    assert issubclass(PeriodError, InvalidValue)
    assert issubclass(PeriodError, ValueError)


def test_refused_keeps_its_reason_facts_and_checks() -> None:
    refused = Refused(Refusal.CLOSED, number="2026112510000017")
    assert (refused.reason, refused.facts) == (Refusal.CLOSED, {"number": "2026112510000017"})
    assert refused.args == ("closed", {"number": "2026112510000017"})
    with pytest.raises(ValueError, match="takes"):
        Refused(Refusal.CLOSED)


def test_retry_later_says_whether_it_may_have_been_done() -> None:
    unknown = RetryLater("timeout", 5)
    assert (str(unknown), unknown.after, unknown.maybe_delivered) == ("timeout", 5, True)
    answered = RetryLater("slack error: x", maybe_delivered=False)
    assert (answered.after, answered.maybe_delivered) == (None, False)
