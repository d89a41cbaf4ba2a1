"""Rule conditions and point formulas, evaluated by simpleeval: no attribute access, no
imports, no calls beyond a short allow-list, bounded powers and string sizes. Never eval()."""

from __future__ import annotations

import ast
from typing import Any

from simpleeval import EvalWithCompoundTypes

from server.errors import Invalid

MAX_EXPRESSION = 500
MAX_POINTS = 100_000
_FUNCTIONS = {"min": min, "max": max, "abs": abs, "len": len}


def _evaluator(names: dict[str, Any]) -> EvalWithCompoundTypes:
    return EvalWithCompoundTypes(names=names, functions=_FUNCTIONS)


def check_syntax(expression: str, what: str) -> None:
    if len(expression) > MAX_EXPRESSION:
        raise Invalid(f"the {what} is longer than {MAX_EXPRESSION} characters")
    try:
        ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise Invalid(f"the {what} is not a valid expression: {exc.msg}") from None


def matches(condition: str, names: dict[str, Any]) -> bool:
    if not condition.strip():
        return True
    return bool(_evaluator(names).eval(condition))


def points(formula: str, names: dict[str, Any]) -> int:
    # Most rules pay a fixed amount: no need to build an evaluator for every event.
    literal = formula.strip()
    value: Any = int(literal) if literal.isdigit() else _evaluator(names).eval(formula)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"points must come out as a number, got {value!r}")
    return max(0, min(MAX_POINTS, int(value)))


def trial(condition: str, formula: str, names: dict[str, Any]) -> None:
    """Evaluate both against a sample event, turning any failure into a 422 for the author."""
    try:
        matches(condition, names)
    except Exception as exc:
        raise Invalid(f"the condition fails on a sample event: {exc}") from None
    try:
        points(formula, names)
    except Invalid:
        raise
    except Exception as exc:
        raise Invalid(f"the points formula fails on a sample event: {exc}") from None
