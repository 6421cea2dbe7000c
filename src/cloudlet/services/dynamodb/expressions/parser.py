"""Recursive-descent parser for every DynamoDB expression kind, plus the checks
AWS makes on the expression text alone (before it looks at the placeholder
maps): reserved words, list index range, function names and where each
function may be used, operand counts of condition functions, repeated update
sections. Parsing is cached by (kind, expression).

Grammar (keywords case-insensitive, function names case-sensitive)::

    condition  := and (OR and)*              -- precedence NOT > AND > OR
    and        := not (AND not)*
    not        := NOT not | primary
    primary    := '(' condition ')' | comparison
    comparison := operand comparator operand
                | operand BETWEEN operand AND operand
                | operand IN '(' operand (',' operand)* ')'
                | function                   -- attribute_exists(a), ...
    operand    := ':value' | '(' operand ')' | function | path
    function   := ID '(' operand (',' operand)* ')'
    path       := (ID | #name) ('.' (ID | #name) | '[' INT ']')*
    update     := (SET set (',' set)* | REMOVE path (',' path)*
                  | ADD path ':value' (',' ...)* | DELETE path ':value' (',' ...)*)+
    set        := path '=' setvalue
    setvalue   := '(' arith ')' | arith
    arith      := operand (('+' | '-') operand)?
    projection := path (',' path)*

Two parentheses straight around the same thing are refused as AWS does
(``The expression has redundant parentheses;``), as soon as they are read.
"""

from __future__ import annotations

import functools

from cloudlet.services.dynamodb.expressions.nodes import (
    AddAction, And, Arith, Between, Call, Clause, Compare, Condition, DeleteAction, In, Index,
    Name, Not, Or, Paren, Path, Projection, RemoveAction, SetAction, Update, Value, children, unwrap,
)
from cloudlet.services.dynamodb.expressions.reserved import is_reserved
from cloudlet.services.dynamodb.expressions.tokenizer import (
    COMPARATORS, ExpressionSyntaxError, invalid, tokenize,
)

CONDITION = "ConditionExpression"
FILTER = "FilterExpression"
KEY_CONDITION = "KeyConditionExpression"
UPDATE = "UpdateExpression"
PROJECTION = "ProjectionExpression"
LABELS = (CONDITION, FILTER, KEY_CONDITION, UPDATE, PROJECTION)

CONDITION_FUNCTIONS = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
                       "begins_with": 2, "contains": 2}
OPERAND_FUNCTIONS = {"size": 1}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
ALL_FUNCTIONS = {**CONDITION_FUNCTIONS, **OPERAND_FUNCTIONS, **UPDATE_FUNCTIONS}

MAX_EXPRESSION_BYTES = 4096
MAX_LIST_INDEX = 2**31 - 1


class _RedundantParens(Exception):
    pass


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    # -- token helpers --
    def peek(self, k: int = 0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def at(self, kind: str) -> bool:
        return self.peek().kind == kind

    def next(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self):
        raise ExpressionSyntaxError(self.toks, self.i, self.text)

    def expect(self, kind: str):
        if not self.at(kind):
            self.fail()
        return self.next()

    def end(self):
        if not self.at("EOF"):
            self.fail()

    @staticmethod
    def paren(inner):
        if isinstance(inner, Paren):
            raise _RedundantParens()
        return Paren(inner)

    # -- conditions --
    def condition(self):
        left = self.and_()
        while self.at("OR"):
            self.next()
            left = Or(unwrap(left), unwrap(self.and_()))
        return left

    def and_(self):
        left = self.not_()
        while self.at("AND"):
            self.next()
            left = And(unwrap(left), unwrap(self.not_()))
        return left

    def not_(self):
        if self.at("NOT"):
            self.next()
            return Not(unwrap(self.not_()))
        return self.primary()

    def primary(self):
        if not self.at("("):
            return self.comparison()
        # '(' opens either a parenthesized condition or a parenthesized
        # operand ("(a) = :v"): try both, keep the one that reads further.
        start = self.i
        first = None
        try:
            self.next()
            node = self.paren(self.condition())
            self.expect(")")
            after = self.i
            if self.peek().kind not in COMPARATORS and self.peek().kind not in ("BETWEEN", "IN"):
                return node
        except ExpressionSyntaxError as e:
            first = e
        self.i = start
        try:
            return self.comparison()
        except ExpressionSyntaxError as second:
            if first is None:
                if second.at > after:
                    raise
                self.i = after
                return node
            raise second if second.at >= first.at else first

    def comparison(self):
        left = self.operand()
        kind = self.peek().kind
        if kind in COMPARATORS:
            op = self.next().kind
            return Compare(op, unwrap(left), unwrap(self.operand()))
        if kind == "BETWEEN":
            self.next()
            low = self.operand()
            self.expect("AND")
            return Between(unwrap(left), unwrap(low), unwrap(self.operand()))
        if kind == "IN":
            self.next()
            self.expect("(")
            options = [unwrap(self.operand())]
            while self.at(","):
                self.next()
                options.append(unwrap(self.operand()))
            self.expect(")")
            return In(unwrap(left), tuple(options))
        if isinstance(unwrap(left), Call):
            return left
        self.fail()

    # -- operands --
    def operand(self):
        tok = self.peek()
        if tok.kind == "VALUE":
            self.next()
            return Value(tok.text)
        if tok.kind == "(":
            self.next()
            inner = self.operand()
            self.expect(")")
            return self.paren(inner)
        if tok.kind == "ID" and self.peek(1).kind == "(":
            return self.call()
        if tok.kind in ("ID", "NAME"):
            return self.path()
        self.fail()

    def call(self):
        name = self.next().text
        self.expect("(")
        args = [unwrap(self.operand())]
        while self.at(","):
            self.next()
            args.append(unwrap(self.operand()))
        self.expect(")")
        return Call(name, tuple(args))

    def path(self):
        tok = self.peek()
        if tok.kind not in ("ID", "NAME"):
            self.fail()
        self.next()
        elements = [Name(tok.text, tok.kind == "NAME")]
        while self.at(".") or self.at("["):
            if self.next().kind == ".":
                tok = self.peek()
                if tok.kind not in ("ID", "NAME"):
                    self.fail()
                self.next()
                elements.append(Name(tok.text, tok.kind == "NAME"))
            else:
                tok = self.expect("INT")
                self.expect("]")
                elements.append(Index(int(tok.text), tok.text))
        return Path(tuple(elements))

    # -- updates --
    def update(self):
        clauses = []
        while True:
            kind = self.peek().kind
            if kind not in ("SET", "REMOVE", "ADD", "DELETE"):
                self.fail()
            self.next()
            actions = [self.action(kind)]
            while self.at(","):
                self.next()
                actions.append(self.action(kind))
            clauses.append(Clause(kind, tuple(actions)))
            if self.at("EOF"):
                return tuple(clauses)

    def action(self, kind: str):
        path = self.path()
        if kind == "SET":
            self.expect("=")
            return SetAction(path, unwrap(self.set_value()))
        if kind == "REMOVE":
            return RemoveAction(path)
        value = Value(self.expect("VALUE").text)
        return AddAction(path, value) if kind == "ADD" else DeleteAction(path, value)

    def set_value(self):
        start = self.i
        try:
            return self.arith()
        except ExpressionSyntaxError as first:
            if self.toks[start].kind != "(":
                raise
            self.i = start + 1
            try:
                value = self.arith()
                self.expect(")")
                return self.paren(value)
            except ExpressionSyntaxError as second:
                raise second if second.at > first.at else first

    def arith(self):
        left = self.operand()
        if self.at("+") or self.at("-"):
            op = self.next().kind
            return Arith(op, unwrap(left), unwrap(self.operand()))
        return left

    # -- projections --
    def projection(self):
        paths = [self.path()]
        while self.at(","):
            self.next()
            paths.append(self.path())
        return tuple(paths)


# ---- checks on the text alone (AWS's first pass, in written order) ----------------


def _check_path(label: str, path: Path) -> None:
    for el in path.elements:
        if isinstance(el, Index):
            if len(el.text) > 10 or el.index > MAX_LIST_INDEX:
                # Message as seen from DynamoDB Local; not confirmed against AWS.
                raise invalid(label, f"List index is not within the allowable range; index: [{el.text}]")
        elif not el.placeholder and is_reserved(el.name):
            raise invalid(label, f"Attribute name is a reserved keyword; reserved keyword: {el.name}")


def _check_call_arity(label: str, call: Call) -> None:
    if len(call.args) != ALL_FUNCTIONS[call.name]:
        raise invalid(label, "Incorrect number of operands for operator or function; "
                             f"operator or function: {call.name}, number of operands: {len(call.args)}")


def _check_condition_node(label: str, node, place: str) -> None:
    if isinstance(node, Path):
        _check_path(label, node)
        return
    if isinstance(node, Call):
        if node.name not in ALL_FUNCTIONS:
            raise invalid(label, f"Invalid function name; function: {node.name}")
        if node.name in UPDATE_FUNCTIONS:
            # AWS's wording for if_not_exists / list_append in a condition.
            raise invalid(label, f"The function is not allowed in a condition expression; function: {node.name}")
        if (place == "condition") != (node.name in CONDITION_FUNCTIONS):
            raise invalid(label, "The function is not allowed to be used this way in an expression; "
                                 f"function: {node.name}")
        _check_call_arity(label, node)
        for arg in node.args:
            _check_condition_node(label, arg, "operand")
        return
    place = "condition" if isinstance(node, (And, Or, Not)) else "operand"
    for child in children(node):
        _check_condition_node(label, child, place)


def _check_update_operand(label: str, node) -> None:
    if isinstance(node, Path):
        _check_path(label, node)
        return
    if isinstance(node, Call):
        if node.name not in ALL_FUNCTIONS:
            raise invalid(label, f"Invalid function name; function: {node.name}")
        if node.name not in UPDATE_FUNCTIONS:
            raise invalid(label, f"The function is not allowed in an update expression; function: {node.name}")
    for child in children(node):
        _check_update_operand(label, child)


def _check_update(label: str, clauses) -> None:
    # Read a section (all clauses of one keyword) at a time, in the order the
    # sections first appear; a keyword may introduce only one clause.
    sections: dict[str, list[Clause]] = {}
    for clause in clauses:
        sections.setdefault(clause.keyword, []).append(clause)
    for keyword, group in sections.items():
        for clause in group:
            for action in clause.actions:
                _check_path(label, action.path)
                if isinstance(action, SetAction):
                    _check_update_operand(label, action.value)
        if len(group) > 1:
            raise invalid(label, f'The "{keyword}" section can only be used once in an update expression;')


# ---- entry points -------------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def parse_expression(label: str, text: str):
    """Parse ``text`` as the expression kind ``label`` (an AWS parameter name:
    ConditionExpression, FilterExpression, KeyConditionExpression,
    UpdateExpression, ProjectionExpression). Returns a Condition, Update or
    Projection node; raises ValidationException with AWS's message."""
    if label not in LABELS:
        raise ValueError(f"unknown expression kind {label!r}")
    if text == "":
        raise invalid(label, "The expression can not be empty;")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_EXPRESSION_BYTES:
        raise invalid(label, f"Expression size has exceeded the maximum allowed size; expression size: {size}")
    parser = _Parser(text)
    try:
        if label == UPDATE:
            result = Update(label, parser.update())
        elif label == PROJECTION:
            result = Projection(label, parser.projection())
        else:
            result = Condition(label, unwrap(parser.condition()))
        parser.end()
        if label == UPDATE:
            _check_update(label, result.clauses)
        elif label == PROJECTION:
            for path in result.paths:
                _check_path(label, path)
        else:
            _check_condition_node(label, result.root, "condition")
    except ExpressionSyntaxError as e:
        raise invalid(label, e.detail()) from None
    except _RedundantParens:
        raise invalid(label, "The expression has redundant parentheses;") from None
    except RecursionError:
        raise too_deep(label) from None
    return result


def too_deep(label: str):
    """Hundreds of nested parentheses / NOTs exhaust Python's stack. AWS's
    answer to such an expression is unknown: this message is cloudlet's own."""
    return invalid(label, "The expression is nested too deeply")


def parse_condition_expression(text: str) -> Condition:
    return parse_expression(CONDITION, text)


def parse_filter_expression(text: str) -> Condition:
    return parse_expression(FILTER, text)


def parse_key_condition_expression(text: str) -> Condition:
    return parse_expression(KEY_CONDITION, text)


def parse_update_expression(text: str) -> Update:
    return parse_expression(UPDATE, text)


def parse_projection_expression(text: str) -> Projection:
    return parse_expression(PROJECTION, text)
