"""Symphony text to a `Symphony` tree. Pure; every error names file:line:col and the form."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import cast

from alchemiser_cli.core.strategy.nodes import (
    COMPARISONS,
    INDICATORS,
    Asset,
    Comparison,
    Condition,
    Filter,
    If,
    Indicator,
    Node,
    Number,
    Operand,
    Symphony,
    WeightEqual,
    WeightInverseVolatility,
    WeightSpecified,
)
from alchemiser_cli.core.strategy.syntax import (
    Expr,
    Kw,
    Num,
    SList,
    SMap,
    Str,
    StrategyError,
    SVec,
    Sym,
    read_forms,
)

FREQUENCIES = ("none", "daily", "weekly", "monthly", "quarterly", "yearly")
# Composer writes weights as floats (0.6667000000000001 + 0.3333 = 1.0000000000000001): a
# total this close to 1 is a float's rounding, scaled to exactly 1.
FLOAT_SLACK = Decimal("1e-9")
NODE_FORMS = (
    "asset",
    "group",
    "weight-equal",
    "weight-specified",
    "weight-inverse-volatility",
    "if",
    "filter",
)


def _fail(expr: Expr, message: str) -> StrategyError:
    return StrategyError(f"{expr.pos}: {message}")


def _head(expr: Expr) -> str | None:
    if isinstance(expr, SList) and expr.items and isinstance(expr.items[0], Sym):
        return expr.items[0].name
    return None


def _describe(expr: Expr) -> str:
    head = _head(expr)
    if head is not None:
        return f"({head} ...)"
    if isinstance(expr, Str):
        return f'"{expr.value}"'
    if isinstance(expr, Num):
        return str(expr.value)
    if isinstance(expr, Sym):
        return expr.name
    if isinstance(expr, Kw):
        return f":{expr.name}"
    return {SList: "()", SVec: "a vector", SMap: "a map"}[type(expr)]


def _symbol(text: str) -> str:
    """A symbol as Alpaca spells it: upper case, and Composer's `BRK/B` is `BRK.B`."""
    return text.strip().upper().replace("/", ".")


def _scaled(weights: list[Decimal], total: Decimal) -> tuple[Decimal, ...]:
    """Each weight divided by `total` (28 digits); the first takes what the rounding left,
    so that they add up to exactly 1."""
    with localcontext() as ctx:
        ctx.prec = 28
        out = [w / total for w in weights]
        out[0] += 1 - sum(out, Decimal(0))
    return tuple(out)


class _Parser:
    def __init__(self) -> None:
        self.next_id = 0

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def symphony(self, form: Expr) -> Symphony:
        if _head(form) != "defsymphony":
            raise _fail(
                form, f"expected (defsymphony NAME {{OPTIONS}} BODY), found {_describe(form)}"
            )
        assert isinstance(form, SList)
        args = form.items[1:]
        if len(args) != 3:
            raise _fail(
                form, f"defsymphony takes a name, an options map and a body, got {len(args)} items"
            )
        name, options, body = args
        if not isinstance(name, Str):
            raise _fail(name, f"defsymphony: the name must be a string, found {_describe(name)}")
        if not isinstance(options, SMap):
            raise _fail(
                options, f"defsymphony: expected an options map, found {_describe(options)}"
            )
        threshold: Decimal | None = None
        frequency: str | None = None
        recorded: list[tuple[str, str]] = []
        for key, value in options.items:
            if not isinstance(key, Kw):
                raise _fail(
                    key,
                    f"option keys are keywords like :rebalance-threshold, found {_describe(key)}",
                )
            recorded.append((key.name, _describe(value).strip('"')))
            if key.name == "rebalance-threshold":
                if not isinstance(value, Num) or not Decimal(0) <= value.value < Decimal(1):
                    raise _fail(
                        value,
                        ":rebalance-threshold must be a number from 0 to below 1 (0.05 is 5%)",
                    )
                threshold = value.value
            elif key.name == "rebalance-frequency":
                frequency = self.frequency(value)
        root = self.node(body)
        return Symphony(
            name=name.value,
            file=form.pos.file,
            root=root,
            rebalance_threshold=threshold,
            rebalance_frequency=frequency,
            options=tuple(recorded),
            pos=form.pos,
        )

    @staticmethod
    def frequency(value: Expr) -> str:
        name = (
            value.name if isinstance(value, Kw) else value.value if isinstance(value, Str) else None
        )
        if name is None or name not in FREQUENCIES:
            raise _fail(
                value,
                ":rebalance-frequency must be one of "
                + " ".join(f":{f}" for f in FREQUENCIES)
                + f", found {_describe(value)}",
            )
        return name

    def node(self, expr: Expr) -> Node:
        if isinstance(expr, SVec):
            if len(expr.items) == 1:
                return self.node(expr.items[0])
            if not expr.items:
                raise _fail(expr, "an empty vector holds nothing: give it at least one node")
            node_id = self.new_id()
            return WeightEqual(node_id, self.nodes(expr.items), expr.pos, kind="vector")
        head = _head(expr)
        if head is None:
            raise _fail(expr, f"expected a node ({', '.join(NODE_FORMS)}), found {_describe(expr)}")
        assert isinstance(expr, SList)
        args = expr.items[1:]
        node_id = self.new_id()
        if head == "asset":
            named = len(args) == 2 and (
                isinstance(args[1], Str) or args[1] == Sym("nil", args[1].pos)
            )
            if not isinstance(args[0], Str) or not (len(args) == 1 or named):
                raise _fail(expr, 'asset takes a symbol and an optional name: (asset "SPY" "name")')
            symbol = _symbol(args[0].value)
            if not symbol or not all(c.isalnum() or c in ".-/" for c in symbol):
                raise _fail(args[0], f"asset: {symbol!r} is not a valid symbol")
            name = args[1].value if len(args) == 2 and isinstance(args[1], Str) else ""
            return Asset(node_id, symbol, name, expr.pos)
        if head == "group":
            if len(args) != 2 or not isinstance(args[0], Str):
                raise _fail(expr, 'group takes a name and a vector: (group "name" [...])')
            return WeightEqual(
                node_id, self.children(args[1], "group"), expr.pos, name=args[0].value, kind="group"
            )
        if head == "weight-equal":
            if len(args) != 1:
                raise _fail(expr, "weight-equal takes one vector of nodes")
            return WeightEqual(node_id, self.children(args[0], head), expr.pos)
        if head == "weight-specified":
            return self.weight_specified(node_id, expr, args)
        if head == "weight-inverse-volatility":
            if len(args) != 2:
                raise _fail(expr, "weight-inverse-volatility takes a window and a vector of nodes")
            window = self.window_of(args[0], head)
            return WeightInverseVolatility(node_id, window, self.children(args[1], head), expr.pos)
        if head == "if":
            if len(args) == 2:
                raise _fail(expr, "if has no else branch: write (if CONDITION [THEN] [ELSE])")
            if len(args) != 3:
                raise _fail(
                    expr, f"if takes a condition, a then and an else branch, got {len(args)} items"
                )
            condition = self.condition(args[0])
            return If(node_id, condition, self.node(args[1]), self.node(args[2]), expr.pos)
        if head == "filter":
            return self.filter(node_id, expr, args)
        if head in INDICATORS or head in COMPARISONS:
            raise _fail(
                expr, f"{head} is not a node here: it belongs in an if condition or a filter"
            )
        raise _fail(expr, f"unknown form {head!r}")

    def nodes(self, items: tuple[Expr, ...]) -> tuple[Node, ...]:
        return tuple(self.node(item) for item in items)

    def children(self, expr: Expr, form: str) -> tuple[Node, ...]:
        if not isinstance(expr, SVec):
            raise _fail(expr, f"{form}: expected a vector [...] of nodes, found {_describe(expr)}")
        if not expr.items:
            raise _fail(expr, f"{form}: the vector is empty")
        return self.nodes(expr.items)

    def weight_specified(self, node_id: int, expr: SList, args: tuple[Expr, ...]) -> Node:
        if not args or len(args) % 2:
            raise _fail(
                expr, "weight-specified takes pairs: a weight then a node, e.g. 0.6 (asset ...)"
            )
        weights: list[Decimal] = []
        children: list[Node] = []
        for weight, child in zip(args[::2], args[1::2], strict=True):
            if not isinstance(weight, Num) or weight.value < 0:
                raise _fail(
                    weight, f"weight-specified: expected a weight >= 0, found {_describe(weight)}"
                )
            weights.append(weight.value)
            children.append(self.node(child))
        total = sum(weights, Decimal(0))
        if total != 1 and abs(total - 1) <= FLOAT_SLACK:
            return WeightSpecified(
                node_id, _scaled(weights, total), tuple(children), expr.pos, scaled_from=total
            )
        if total > 1:
            raise _fail(expr, f"weight-specified: the weights add up to {total}, more than 1")
        return WeightSpecified(node_id, tuple(weights), tuple(children), expr.pos)

    def filter(self, node_id: int, expr: SList, args: tuple[Expr, ...]) -> Node:
        if len(args) != 3:
            raise _fail(
                expr, "filter takes an indicator, (select-top N) or (select-bottom N), and a vector"
            )
        indicator = self.indicator(args[0], in_filter=True)
        select = args[1]
        head = _head(select)
        if head not in ("select-top", "select-bottom"):
            raise _fail(
                select,
                f"filter: expected (select-top N) or (select-bottom N), found {_describe(select)}",
            )
        assert isinstance(select, SList)
        if len(select.items) != 2 or not isinstance(select.items[1], Num):
            raise _fail(select, f"{head} takes one whole number N >= 1")
        count = self.whole(select.items[1], head)
        children = self.children(args[2], "filter")
        return Filter(
            node_id,
            indicator,
            "top" if head == "select-top" else "bottom",
            count,
            children,
            expr.pos,
        )

    def condition(self, expr: Expr) -> Condition:
        head = _head(expr)
        if head not in COMPARISONS:
            raise _fail(
                expr,
                f"if: expected a comparison ({' '.join(COMPARISONS)}), found {_describe(expr)}",
            )
        assert isinstance(expr, SList)
        if len(expr.items) != 3:
            raise _fail(expr, f"{head} compares exactly two things")
        lhs, rhs = (self.operand(e) for e in expr.items[1:])
        if isinstance(lhs, Number) and isinstance(rhs, Number):
            raise _fail(expr, f"{head} compares two numbers: one side must be an indicator")
        return Condition(cast(Comparison, head), lhs, rhs, expr.pos)

    def operand(self, expr: Expr) -> Operand:
        if isinstance(expr, Num):
            return Number(expr.value, expr.pos)
        return self.indicator(expr, in_filter=False)

    def indicator(self, expr: Expr, *, in_filter: bool) -> Indicator:
        head = _head(expr)
        if head is None:
            raise _fail(
                expr,
                'expected an indicator such as (rsi "SPY" {:window 10}), found ' + _describe(expr),
            )
        if head not in INDICATORS:
            raise _fail(expr, f"unknown indicator {head!r}")
        assert isinstance(expr, SList)
        args = list(expr.items[1:])
        symbol: str | None = None
        first = args[0] if args else None
        if isinstance(first, Str):
            symbol = _symbol(first.value)
            args.pop(0)
        if in_filter and symbol is not None:
            raise _fail(expr, f"{head} inside filter takes no symbol: it is read on each candidate")
        if not in_filter and symbol is None:
            raise _fail(expr, f'{head} needs a symbol here: ({head} "SPY" ...)')
        window: int | None = None
        if args:
            options = args.pop(0)
            if not isinstance(options, SMap):
                raise _fail(options, f"{head}: expected {{:window N}}, found {_describe(options)}")
            for key, value in options.items:
                if not isinstance(key, Kw) or key.name != "window":
                    raise _fail(key, f"{head}: unknown option {_describe(key)} (only :window)")
                window = self.window_of(value, head)
        if args:
            raise _fail(args[0], f"{head}: unexpected {_describe(args[0])}")
        if head == "current-price":
            window = None
        elif window is None:
            raise _fail(expr, f"{head} needs {{:window N}}")
        return Indicator(head, symbol, window, expr.pos)

    def window_of(self, expr: Expr, form: str) -> int:
        if isinstance(expr, SMap) and len(expr.items) == 1 and isinstance(expr.items[0][0], Kw):
            expr = expr.items[0][1]
        return self.whole(expr, form)

    @staticmethod
    def whole(expr: Expr, form: str) -> int:
        if (
            not isinstance(expr, Num)
            or expr.value != expr.value.to_integral_value()
            or expr.value < 1
        ):
            raise _fail(expr, f"{form}: expected a whole number >= 1, found {_describe(expr)}")
        return int(expr.value)


def parse_symphony(text: str, file: str) -> Symphony:
    """Parse the one `defsymphony` of `text`; `file` is how errors name the source."""
    forms = read_forms(text, file)
    if not forms:
        raise StrategyError(f"{file}:1:1: empty file: expected (defsymphony ...)")
    if len(forms) > 1:
        raise _fail(forms[1], "one defsymphony per file: unexpected form after it")
    return _Parser().symphony(forms[0])
