"""Rule conditions and point formulas: a small expression language of our own, bounded by
construction. Never eval().

An expression is parsed once (cached per string) and compiled into a tree of closures over a
short grammar: literals, the event's fields by name, comparisons (`in` over a string or a
list/tuple literal), and/or/not, `x if c else y`, arithmetic on numbers, `+` on texts,
min/max/abs/len, and `**` only with a small literal exponent. Every literal, field and
intermediate result is size-checked, so one evaluation costs at most a few operations on small
values per node, and the length limit bounds the nodes: no expression can hold the event loop.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from server.errors import Invalid

MAX_EXPRESSION = 500
MAX_POINTS = 100_000
MAX_NUMBER = 10**15  # above any id or points figure, far below a costly number
MAX_TEXT = 1000
MAX_POWER = 8
MAX_DEPTH = 50  # keeps compiling and evaluating well inside Python's recursion limit
MAX_MESSAGE = 200
_EXCERPT = 40

Names = Mapping[str, Any]
Compiled = Callable[[Names], Any]


class Refused(Exception):
    """The expression is outside the grammar (raised when compiling)."""


class ExpressionError(Exception):
    """An evaluation left the language's bounds or mixed types it does not combine."""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _excerpt(source: str, node: ast.AST) -> str:
    segment = ast.get_source_segment(source, node) or ""
    return _cut(" ".join(segment.split()), _EXCERPT)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float)


def _bounded(value: Any) -> Any:
    """The value, if it is one expressions may hold: None, a number of bounded magnitude, or
    a short text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if -MAX_NUMBER <= value <= MAX_NUMBER:
            return value
        raise ExpressionError(f"a number beyond ±{MAX_NUMBER:.0e}")
    if isinstance(value, float):
        if math.isfinite(value) and abs(value) <= MAX_NUMBER:
            return value
        raise ExpressionError(f"a number beyond ±{MAX_NUMBER:.0e}")
    if isinstance(value, str):
        if len(value) <= MAX_TEXT:
            return value
        raise ExpressionError(f"a text longer than {MAX_TEXT} characters")
    raise ExpressionError(f"a value of type {type(value).__name__}")


# --- operators ------------------------------------------------------------------------------


def _numbers(symbol: str, op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if not (_is_number(left) and _is_number(right)):
            raise ExpressionError(f"`{symbol}` needs two numbers")
        return op(left, right)
    return apply


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, str) and isinstance(right, str):
        if len(left) + len(right) > MAX_TEXT:
            raise ExpressionError(f"a text longer than {MAX_TEXT} characters")
        return left + right
    if _is_number(left) and _is_number(right):
        return left + right
    raise ExpressionError("`+` needs two numbers or two texts")


# `%` on numbers is the remainder; on a text it would be formatting, which is refused.
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: _add,
    ast.Sub: _numbers("-", operator.sub),
    ast.Mult: _numbers("*", operator.mul),
    ast.Div: _numbers("/", operator.truediv),
    ast.FloorDiv: _numbers("//", operator.floordiv),
    ast.Mod: _numbers("%", operator.mod),
}


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, tuple):
        return item in container
    if isinstance(container, str) and isinstance(item, str):
        return item in container
    raise ExpressionError("`in` needs a text in a text, or a list of values")


_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda left, right: _contains(right, left),
    ast.NotIn: lambda left, right: not _contains(right, left),
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


def _len(value: Any) -> int:
    if not isinstance(value, str):
        raise ExpressionError("len() needs a text")
    return len(value)


def _abs(value: Any) -> Any:
    if not _is_number(value):
        raise ExpressionError("abs() needs a number")
    return abs(value)


def _extreme(pick: Callable[..., Any], name: str) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        kinds = {isinstance(v, str) for v in values}
        if None in values or len(kinds) > 1:
            raise ExpressionError(f"{name}() needs all numbers or all texts")
        return pick(values)
    return apply


# name: (function, fewest arguments, most arguments)
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "min": (_extreme(min, "min"), 2, MAX_EXPRESSION),
    "max": (_extreme(max, "max"), 2, MAX_EXPRESSION),
    "abs": (_abs, 1, 1),
    "len": (_len, 1, 1),
}

# Constructs people may try, named in the refusal.
_REFUSED_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access or methods",
    ast.Subscript: "subscripts",
    ast.JoinedStr: "f-strings",
    ast.Lambda: "lambdas",
    ast.NamedExpr: "assignments",
    ast.Dict: "dicts",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Starred: "unpacking",
    ast.Tuple: "lists or tuples except after `in`",
    ast.List: "lists or tuples except after `in`",
    ast.Set: "lists or tuples except after `in`",
}


# --- compiling ------------------------------------------------------------------------------


class _Compiler:
    def __init__(self, source: str) -> None:
        self.source = source

    def refuse(self, node: ast.AST, what: str) -> Refused:
        return Refused(f"cannot use {what}: `{_excerpt(self.source, node)}`")

    def compile(self, node: ast.AST, depth: int = 0) -> Compiled:
        if depth > MAX_DEPTH:
            raise self.refuse(node, f"more than {MAX_DEPTH} levels of nesting")
        depth += 1
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return _field(node.id)
        if isinstance(node, ast.BoolOp):
            return _boolean(isinstance(node.op, ast.And),
                            [self.compile(v, depth) for v in node.values])
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Compare):
            return self.compare(node, depth)
        if isinstance(node, ast.IfExp):
            return _choice(self.compile(node.test, depth), self.compile(node.body, depth),
                           self.compile(node.orelse, depth))
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.refuse(node, _REFUSED_NAMES.get(type(node), "this construct"))

    def constant(self, node: ast.Constant) -> Compiled:
        value = node.value
        if not (value is None or isinstance(value, bool | int | float | str)):
            raise self.refuse(node, "this kind of literal")
        try:
            value = _bounded(value)
        except ExpressionError as exc:
            raise self.refuse(node, str(exc)) from None
        return lambda names: value

    def unary(self, node: ast.UnaryOp, depth: int) -> Compiled:
        operand = self.compile(node.operand, depth)
        if isinstance(node.op, ast.Not):
            return lambda names: not operand(names)
        if isinstance(node.op, ast.USub | ast.UAdd):
            sign = -1 if isinstance(node.op, ast.USub) else 1

            def signed(names: Names) -> Any:
                value = operand(names)
                if not _is_number(value):
                    raise ExpressionError("a sign needs a number")
                return sign * value
            return signed
        raise self.refuse(node, "`~`")

    def binary(self, node: ast.BinOp, depth: int) -> Compiled:
        if isinstance(node.op, ast.Pow):
            return self.power(node, depth)
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str):
            raise self.refuse(node, "`%` formatting")
        apply = _BINARY.get(type(node.op))
        if apply is None:
            raise self.refuse(node, "this operator")
        left, right = self.compile(node.left, depth), self.compile(node.right, depth)
        return lambda names: _bounded(apply(left(names), right(names)))

    def power(self, node: ast.BinOp, depth: int) -> Compiled:
        exponent = node.right
        if not (isinstance(exponent, ast.Constant) and type(exponent.value) is int
                and 0 <= exponent.value <= MAX_POWER):
            raise self.refuse(node, f"`**` except with a whole-number exponent up to {MAX_POWER}")
        power: int = exponent.value
        base = self.compile(node.left, depth)

        def raised(names: Names) -> Any:
            value = base(names)
            if not _is_number(value):
                raise ExpressionError("`**` needs a number")
            # The base is at most MAX_NUMBER and the power at most MAX_POWER: cheap to compute.
            return _bounded(value ** power)
        return raised

    def compare(self, node: ast.Compare, depth: int) -> Compiled:
        first = self.compile(node.left, depth)
        steps: list[tuple[Callable[[Any, Any], bool], Compiled]] = []
        left_node = node.left
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot) and not any(
                    isinstance(n, ast.Constant) and n.value is None for n in (left_node, right_node)):
                raise self.refuse(node, "`is` except with None")
            if isinstance(op, ast.In | ast.NotIn) \
                    and isinstance(right_node, ast.Tuple | ast.List | ast.Set):
                right = _collection([self.compile(e, depth) for e in right_node.elts])
            else:
                right = self.compile(right_node, depth)
            steps.append((_COMPARE[type(op)], right))
            left_node = right_node

        def compared(names: Names) -> bool:
            left = first(names)
            for test, right_of in steps:
                right = right_of(names)
                if not test(left, right):
                    return False
                left = right
            return True
        return compared

    def call(self, node: ast.Call, depth: int) -> Compiled:
        if not isinstance(node.func, ast.Name):
            raise self.refuse(node.func, _REFUSED_NAMES.get(type(node.func), "this call"))
        name = node.func.id
        if name not in _FUNCTIONS or node.keywords:
            raise self.refuse(node, "calls other than min(), max(), abs(), len()")
        function, fewest, most = _FUNCTIONS[name]
        if not fewest <= len(node.args) <= most:
            raise self.refuse(node, f"{name}() with {len(node.args)} argument(s)")
        args = [self.compile(a, depth) for a in node.args]
        return lambda names: _bounded(function(*(a(names) for a in args)))


def _field(name: str) -> Compiled:
    def lookup(names: Names) -> Any:
        try:
            value = names[name]
        except KeyError:
            raise ExpressionError(f"no field named {_cut(name, _EXCERPT)!r}") from None
        return _bounded(value)
    return lookup


def _boolean(conjunction: bool, parts: list[Compiled]) -> Compiled:
    # Python's semantics: the first deciding operand, else the last.
    def decided(names: Names) -> Any:
        value: Any = None
        for part in parts:
            value = part(names)
            if bool(value) != conjunction:
                return value
        return value
    return decided


def _choice(test: Compiled, body: Compiled, orelse: Compiled) -> Compiled:
    return lambda names: body(names) if test(names) else orelse(names)


def _collection(items: list[Compiled]) -> Compiled:
    return lambda names: tuple(item(names) for item in items)


@functools.lru_cache(maxsize=1024)
def _compiled(expression: str) -> Compiled:
    if len(expression) > MAX_EXPRESSION:
        raise Refused(f"is longer than {MAX_EXPRESSION} characters")
    source = expression.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise Refused(f"is not a valid expression: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise Refused("is not a valid expression") from None
    return _Compiler(source).compile(tree.body)


# --- the interface --------------------------------------------------------------------------


def message(text: str) -> str:
    return _cut(text, MAX_MESSAGE)


def check_syntax(expression: str, what: str) -> None:
    """A 422 naming the first construct outside the grammar, quoting a short excerpt."""
    try:
        _compiled(expression)
    except Refused as exc:
        raise Invalid(message(f"the {what} {exc}")) from None


def matches(condition: str, names: Names) -> bool:
    if not condition.strip():
        return True
    return bool(_compiled(condition)(names))


def points(formula: str, names: Names) -> int:
    value = _compiled(formula)(names)
    if isinstance(value, bool) or not _is_number(value):
        kind = "nothing" if value is None else "a text" if isinstance(value, str) else "a truth value"
        raise Invalid(f"points must come out as a number, got {kind}")
    return max(0, min(MAX_POINTS, int(value)))


def trial(condition: str, formula: str, names: Names) -> None:
    """Evaluate both against a sample event, turning any failure into a 422 for the author."""
    try:
        matches(condition, names)
    except Exception as exc:
        raise Invalid(message(f"the condition fails on a sample event: {exc}")) from None
    try:
        points(formula, names)
    except Invalid:
        raise
    except Exception as exc:
        raise Invalid(message(f"the points formula fails on a sample event: {exc}")) from None
