"""The rule expression language: what rules in use need works, and nothing outside the
grammar or its size bounds gets past validation, quickly and with a short message."""

import time

import pytest

from gamification.rules import expressions
from gamification.rules.expressions import ExpressionError, check_syntax, matches, points, trial
from server.errors import Invalid

REACTION = {"event": "reaction.added", "post_id": 1, "thread_id": 1, "category_id": 4,
            "post_author_id": 2, "member_id": 1, "kind": "insightful", "brand_id": 3}
REPLY = {"event": "post.created", "post_id": 2, "thread_id": 1, "category_id": 4,
         "author_id": 1, "post_number": 7, "reply_to_post_id": None,
         "reply_to_author_id": None, "brand_id": None}


@pytest.mark.parametrize(("formula", "names", "expected"), [
    ("10", REPLY, 10),
    (" 15 ", REPLY, 15),
    ('5 if kind == "insightful" else 2', REACTION, 5),
    ('5 if kind == "insightful" else 2', {**REACTION, "kind": "like"}, 2),
    ("post_number * 2 + 1", REPLY, 15),
    ("post_number ** 2", REPLY, 49),
    ("min(post_number, 3) + max(1, 2) + abs(-4) + len(event)", REPLY, 21),
    ("post_number / 2", REPLY, 3),
    ("post_number // 2 - post_number % 2", REPLY, 2),
    ("-5", REPLY, 0),
    ("10 ** 8", REPLY, expressions.MAX_POINTS),
])
def test_formulas_in_use_pay_what_they_say(formula: str, names: dict, expected: int) -> None:
    check_syntax(formula, "points formula")
    assert points(formula, names) == expected


@pytest.mark.parametrize(("condition", "names", "expected"), [
    ("", REPLY, True),
    ("brand_id == 3", REACTION, True),
    ("brand_id == 3", REPLY, False),
    ("category_id == 4 and post_number > 1", REPLY, True),
    ("category_id == 5 or post_number > 10", REPLY, False),
    ("not post_number > 1", REPLY, False),
    ("1 < post_number <= 7", REPLY, True),
    ('kind in ("like", "insightful")', REACTION, True),
    ('kind not in ["like", "love"]', REACTION, True),
    ('"sight" in kind', REACTION, True),
    ("reply_to_author_id is None", REPLY, True),
    ("reply_to_author_id is not None", REPLY, False),
    ('event + ":" + kind == "reaction.added:insightful"', REACTION, True),
    ("post_number % 7 == 0", REPLY, True),
])
def test_conditions_in_use_match_what_they_say(condition: str, names: dict, expected: bool) -> None:
    if condition:
        check_syntax(condition, "condition")
    assert matches(condition, names) is expected


# The formulas and their cousins: each took seconds or a gigabyte before.
HOSTILE = [
    "min(1, 4000000**500000)",
    "kind.ljust(10**9)",
    '"%0999999999d" % 1',
    "9 ** 9 ** 9",
    "post_number ** post_number",
    "2 ** 100",
    '"x" * 1000000000',
    "kind * 1000000000",
    "().__class__.__bases__",
    "__import__('os').system('true')",
    "[c for c in kind]",
    "kind[0]",
    'f"{kind:>999999999}"',
    "(lambda: 1)()",
    "1" + "0" * 400,
    "1e999",
    "b'x'",
    "max(*kind)",
    "len(kind, x=1)",
    "(post_id + 999999999999999) * 999999999999999",
    "-" * 300 + "1",
    "[" * 30 + "1" + "]" * 30,
    "1" + " + 1" * 120,
    "x" * 501,
    "kind ===",
    "\0",
]


@pytest.mark.parametrize("expression", HOSTILE)
def test_hostile_expressions_are_refused_fast_with_a_short_message(expression: str) -> None:
    started = time.perf_counter()
    with pytest.raises(Invalid) as refused:
        check_syntax(expression, "points formula")
        trial("", expression, REACTION)
    # Microseconds of work; the bound only keeps a loaded machine from failing it.
    assert time.perf_counter() - started < 0.5
    message = refused.value.message
    assert len(message) <= expressions.MAX_MESSAGE
    assert message.startswith("the points formula ")


def test_a_refusal_names_the_construct_and_quotes_a_short_excerpt() -> None:
    with pytest.raises(Invalid) as refused:
        check_syntax("post_number > 1 and kind.ljust(" + "9" * 300 + ")", "condition")
    with pytest.raises(Invalid) as cut:
        check_syntax("post_number > 1 and open(" + "9" * 300 + ")", "condition")
    assert cut.value.message.endswith(": `" + ("open(" + "9" * 300)[:39] + "…`")
    message = refused.value.message
    assert message == "the condition cannot use attribute access or methods: `kind.ljust`"


@pytest.mark.parametrize(("expression", "reason"), [
    ("min(1, 4000000**500000)", "`**` except with a whole-number exponent up to 8"),
    ('"%0999999999d" % 1', "`%` formatting"),
    ("kind.ljust(10**9)", "attribute access"),
    ("x" * 501, "longer than 500 characters"),
    ("-" * 300 + "1", "levels of nesting"),
    ("1" + "0" * 400, "a number beyond"),
    ("kind[0]", "subscripts"),
    ("open('x')", "calls other than min(), max(), abs(), len()"),
])
def test_refusals_say_why(expression: str, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_syntax(expression, "condition")
    assert reason in refused.value.message


def test_every_intermediate_result_is_bounded() -> None:
    long_kind = {**REACTION, "kind": "k" * 600}
    with pytest.raises(ExpressionError, match="longer than"):
        matches("kind + kind == kind", long_kind)
    with pytest.raises(ExpressionError, match="beyond"):
        points("post_id * 100000000 * 100000000", REPLY)
    with pytest.raises(ExpressionError, match="beyond"):
        points("post_number ** 8 * 1e12", REPLY)
    with pytest.raises(ExpressionError, match="longer than"):
        matches("kind == 1", {"kind": "x" * (expressions.MAX_TEXT + 1)})
    with pytest.raises(ExpressionError, match="type list"):
        matches("kind == 1", {"kind": ["a"]})


def test_operations_on_the_wrong_kinds_fail_rather_than_grow() -> None:
    for formula in ("kind * 3", "kind % 3", "-kind", "abs(kind)", "len(post_id)", "min(kind, 1)"):
        with pytest.raises(ExpressionError):
            points(formula, {**REACTION, **REPLY})


def test_failures_at_run_time_raise_and_fail_the_trial_briefly() -> None:
    with pytest.raises(ZeroDivisionError):
        points("10 // (post_number - 7)", REPLY)
    with pytest.raises(ExpressionError, match="no field named 'nope'"):
        matches("nope > 1", REPLY)
    with pytest.raises(Invalid, match="the condition fails on a sample event: no field"):
        trial("nope > 1", "1", REPLY)
    with pytest.raises(Invalid, match="must come out as a number, got a text"):
        trial("", "kind", REACTION)


def test_each_expression_is_compiled_once() -> None:
    formula = '3 if kind == "like" else 1'
    assert expressions._compiled(formula) is expressions._compiled(formula)
