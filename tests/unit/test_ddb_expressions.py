"""DynamoDB expression language: tables of (expression, item, names, values)
-> expected result or AWS's error message, for every kind of expression."""

from __future__ import annotations

import pytest

import cloudlet.services.dynamodb.expressions as ex
from cloudlet.protocol.errors import ValidationException


def S(x):
    return {"S": x}


def N(x):
    return {"N": str(x)}


def B(x):
    return {"B": x}


def L(*xs):
    return {"L": list(xs)}


def M(**kw):
    return {"M": kw}


ITEM = {
    "pk": S("key"),
    "s": S("hello world"),
    "n": N("10"),
    "dnum": N("1.50"),
    "neg": N("-3"),
    "b": B(b"\x01\x02\xff"),
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "nul": {"NULL": True},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2.5", "10"]},
    "bs": {"BS": [b"\x00", b"\x01"]},
    "l": L(S("x"), N("2"), L(S("deep0"), S("deep1")), M(k=S("v"))),
    "m": M(a=M(b=M(c=S("leaf"))), n=N("7"), lst=L(N("1"), N("2"))),
    "x.y": S("dot"),
    "empty_l": L(),
    "empty_m": M(),
    "uni": S("z¿"),
}


def request(label, expr, names=None, values=None):
    req = {label: expr}
    if names is not None:
        req["ExpressionAttributeNames"] = names
    if values is not None:
        req["ExpressionAttributeValues"] = values
    return req


def cond(expr, item=ITEM, names=None, values=None, label=ex.CONDITION):
    parsed = ex.check_request_expressions(request(label, expr, names, values))
    return ex.evaluate_condition(parsed[label], item, names, values)


def message(fn, *args, **kwargs):
    with pytest.raises(ValidationException) as info:
        fn(*args, **kwargs)
    assert info.value.code == "ValidationException"
    return info.value.message


# ---- conditions: comparisons, functions, logic -------------------------------------------

CONDITION_CASES = [
    # = and <> on every type
    ("s = :v", None, {":v": S("hello world")}, True),
    ("s = :v", None, {":v": S("hello")}, False),
    ("n = :v", None, {":v": N("10.000")}, True),           # numerically
    ("dnum = :v", None, {":v": N("1.5")}, True),
    ("n = :v", None, {":v": S("10")}, False),              # types differ: false, not an error
    ("b = :v", None, {":v": B(b"\x01\x02\xff")}, True),
    ("t = :v", None, {":v": {"BOOL": True}}, True),
    ("f = :v", None, {":v": {"BOOL": True}}, False),
    ("nul = :v", None, {":v": {"NULL": True}}, True),
    ("ss = :v", None, {":v": {"SS": ["c", "a", "b"]}}, True),   # sets regardless of order
    ("ns = :v", None, {":v": {"NS": ["10", "1.0", "2.50"]}}, True),
    ("bs = :v", None, {":v": {"BS": [b"\x01", b"\x00"]}}, True),
    ("l[2] = :v", None, {":v": L(S("deep0"), S("deep1"))}, True),
    ("l[2] = :v", None, {":v": L(S("deep1"), S("deep0"))}, False),  # lists in order
    ("m.a = :v", None, {":v": M(b=M(c=S("leaf")))}, True),
    ("s <> :v", None, {":v": S("attr9")}, True),
    ("s <> :v", None, {":v": S("hello world")}, False),
    ("absent <> :v", None, {":v": S("x")}, True),         # <> is the negation of =
    ("absent = :v", None, {":v": S("x")}, False),
    ("n <> :v", None, {":v": S("10")}, True),
    # ordering: S by UTF-8 bytes, N numerically, B unsigned
    ("n > :v", None, {":v": N("9")}, True),
    ("n < :v", None, {":v": N("9")}, False),
    ("n >= :v", None, {":v": N("10")}, True),
    ("n <= :v", None, {":v": N("1E+1")}, True),
    ("neg < :v", None, {":v": N("-2.999")}, True),
    ("s > :v", None, {":v": S("hello")}, True),
    ("s < :v", None, {":v": S("Hello")}, False),           # 'h' (0x68) > 'H' (0x48)
    ("uni > :v", None, {":v": S("zz")}, True),             # ¿ is C2 BF: after 'z' in UTF-8
    ("b > :v", None, {":v": B(b"\x01\x02\x7f")}, True),    # unsigned bytes
    ("b < :v", None, {":v": B(b"\x01\x03")}, True),
    ("n < :v", None, {":v": S("zzz")}, False),             # different types: false
    ("n > :v", None, {":v": S("0")}, False),
    ("absent < :v", None, {":v": N("1")}, False),
    ("t < :v", None, {":v": N("1")}, False),
    ("ss < :v", None, {":v": S("z")}, False),
    ("s = s2", None, None, False),                         # two paths, one absent
    # BETWEEN, IN
    ("n BETWEEN :lo AND :hi", None, {":lo": N("10"), ":hi": N("20")}, True),
    ("n BETWEEN :lo AND :hi", None, {":lo": N("11"), ":hi": N("20")}, False),
    ("n between :lo and :hi", None, {":lo": N("-1"), ":hi": N("10")}, True),
    ("s BETWEEN :lo AND :hi", None, {":lo": S("a"), ":hi": S("i")}, True),
    ("n BETWEEN :lo AND :hi", None, {":lo": S("a"), ":hi": S("z")}, False),
    ("absent BETWEEN :lo AND :hi", None, {":lo": N("1"), ":hi": N("2")}, False),
    ("n IN (:a, :b)", None, {":a": N("1"), ":b": N("10")}, True),
    ("n IN (:a, :b)", None, {":a": N("1"), ":b": S("10")}, False),
    ("s in (:a)", None, {":a": S("hello world")}, True),
    ("absent IN (:a)", None, {":a": S("x")}, False),
    ("m.n IN (l[1], :a)", None, {":a": N("0")}, False),
    ("l[1] IN (:a, m.n)", None, {":a": N("2")}, True),
    # attribute_exists / attribute_not_exists, nested paths and list indexes
    ("attribute_exists(s)", None, None, True),
    ("attribute_exists(absent)", None, None, False),
    ("attribute_not_exists(absent)", None, None, True),
    ("attribute_not_exists(s)", None, None, False),
    ("attribute_exists(m.a.b.c)", None, None, True),
    ("attribute_exists(m.a.b.x)", None, None, False),
    ("attribute_exists(l[2][1])", None, None, True),
    ("attribute_exists(l[2][2])", None, None, False),
    ("attribute_exists(l[3].k)", None, None, True),
    ("attribute_exists(s.x)", None, None, False),          # through a non-map
    ("attribute_exists(s[0])", None, None, False),         # through a non-list
    ("attribute_exists(m[0])", None, None, False),
    ("attribute_exists(#d)", {"#d": "x.y"}, None, True),   # a dot inside a name
    ("attribute_exists(#m.#a.b)", {"#m": "m", "#a": "a"}, None, True),
    ("attribute_exists(x.y)", None, None, False),
    # attribute_type
    *[(f"attribute_type({a}, :t)", None, {":t": S(t)}, True) for a, t in [
        ("s", "S"), ("n", "N"), ("b", "B"), ("t", "BOOL"), ("nul", "NULL"), ("ss", "SS"),
        ("ns", "NS"), ("bs", "BS"), ("l", "L"), ("m", "M")]],
    ("attribute_type(s, :t)", None, {":t": S("N")}, False),
    ("attribute_type(absent, :t)", None, {":t": S("S")}, False),
    # begins_with
    ("begins_with(s, :p)", None, {":p": S("hello")}, True),
    ("begins_with(s, :p)", None, {":p": S("world")}, False),
    ("begins_with(s, :p)", None, {":p": S("")}, True),
    ("begins_with(b, :p)", None, {":p": B(b"\x01\x02")}, True),
    ("begins_with(b, :p)", None, {":p": B(b"\x02")}, False),
    ("begins_with(b, :p)", None, {":p": S("x")}, False),
    ("begins_with(l[0], :p)", None, {":p": S("x")}, True),
    ("begins_with(absent, :p)", None, {":p": S("x")}, False),
    # contains
    ("contains(s, :v)", None, {":v": S("lo wo")}, True),
    ("contains(s, :v)", None, {":v": S("xyz")}, False),
    ("contains(ss, :v)", None, {":v": S("b")}, True),
    ("contains(ss, :v)", None, {":v": S("z")}, False),
    ("contains(ns, :v)", None, {":v": N("2.50")}, True),
    ("contains(ns, :v)", None, {":v": S("1")}, False),
    ("contains(bs, :v)", None, {":v": B(b"\x01")}, True),
    ("contains(l, :v)", None, {":v": N("2")}, True),
    ("contains(l, :v)", None, {":v": M(k=S("v"))}, True),
    ("contains(l, :v)", None, {":v": S("2")}, False),
    ("contains(b, :v)", None, {":v": B(b"\x02\xff")}, True),
    ("contains(n, :v)", None, {":v": N("1")}, False),
    ("contains(absent, :v)", None, {":v": S("a")}, False),
    ("contains(m.lst, l[1])", None, None, True),
    # size
    ("size(s) = :v", None, {":v": N("11")}, True),
    ("size(uni) = :v", None, {":v": N("2")}, True),
    ("size(b) = :v", None, {":v": N("3")}, True),
    ("size(ss) = :v", None, {":v": N("3")}, True),
    ("size(ns) > :v", None, {":v": N("2")}, True),
    ("size(l) = :v", None, {":v": N("4")}, True),
    ("size(m) = :v", None, {":v": N("3")}, True),
    ("size(empty_l) = :v", None, {":v": N("0")}, True),
    ("size(empty_m) < :v", None, {":v": N("1")}, True),
    ("size(l[2]) = :v", None, {":v": N("2")}, True),
    ("size(n) = :v", None, {":v": N("2")}, False),         # size of a number: no value
    ("size(n) <> :v", None, {":v": N("2")}, True),
    ("size(absent) >= :v", None, {":v": N("0")}, False),
    ("size(s) BETWEEN :a AND :b", None, {":a": N("10"), ":b": N("12")}, True),
    ("size(s) > size(ss)", None, None, True),
    (":v < size(s)", None, {":v": N("3")}, True),
    # AND / OR / NOT with AWS precedence: NOT > AND > OR
    ("n = :ten AND s = :hw", None, {":ten": N(10), ":hw": S("hello world")}, True),
    ("n = :ten AND s = :no", None, {":ten": N(10), ":no": S("no")}, False),
    ("n = :no OR s = :hw", None, {":no": N(1), ":hw": S("hello world")}, True),
    ("n = :ten OR n = :no AND n = :no", None, {":ten": N(10), ":no": N(1)}, True),     # OR(x, AND(..))
    ("(n = :ten OR n = :no) AND n = :no", None, {":ten": N(10), ":no": N(1)}, False),
    ("NOT n = :no", None, {":no": N(1)}, True),
    ("NOT n = :ten AND n = :ten", None, {":ten": N(10)}, False),    # (NOT a) AND b
    ("NOT (n = :ten AND n = :no)", None, {":ten": N(10), ":no": N(1)}, True),
    ("NOT NOT attribute_exists(s)", None, None, True),
    ("not attribute_exists(s) or attribute_exists(n)", None, None, True),
    ("attribute_exists(a1) OR attribute_exists(a2) OR attribute_exists(s)", None, None, True),
    ("(attribute_exists(s)) AND ((n) = :ten)", None, {":ten": N(10)}, True),
    ("(size(s)) > :v", None, {":v": N(3)}, True),
    ("#s = :v AND #n.#a.b.c = :leaf", {"#s": "s", "#n": "m", "#a": "a"},
     {":v": S("hello world"), ":leaf": S("leaf")}, True),
]


@pytest.mark.parametrize("expr,names,values,expected", CONDITION_CASES)
def test_condition(expr, names, values, expected):
    assert cond(expr, names=names, values=values) is expected


def test_filter_and_condition_share_the_evaluator():
    values = {":v": N(10)}
    assert cond("n = :v", values=values, label=ex.FILTER) is True
    assert cond("n = :v", item={}, values=values) is False
    assert cond("attribute_not_exists(pk)", item=None) is True


def test_in_accepts_100_operands_and_refuses_101():
    values = {f":v{i}": N(i) for i in range(101)}
    hundred = "n IN (" + ", ".join(f":v{i}" for i in range(100)) + ")"
    assert cond(hundred, values={k: v for k, v in values.items() if k != ":v100"}) is True
    too_many = "n IN (" + ", ".join(f":v{i}" for i in range(101)) + ")"
    assert message(cond, too_many, values=values) == (
        "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101")


# ---- errors in conditions and filters -------------------------------------------------------

CONDITION_ERRORS = [
    ("a = ", None, None, 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "= "'),
    ("a = :v AND", None, {":v": S("x")}, 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"'),
    ("a b", None, None, 'Invalid ConditionExpression: Syntax error; token: "b", near: "a b"'),
    ("a = :v :w", None, None, 'Invalid ConditionExpression: Syntax error; token: ":w", near: ":v :w"'),
    ("a == :v", None, None, 'Invalid ConditionExpression: Syntax error; token: "=", near: "== :v"'),
    ("a = 1", None, None, 'Invalid ConditionExpression: Syntax error; token: "1", near: "= 1"'),
    ("a = \"x\"", None, None, 'Invalid ConditionExpression: Syntax error; token: """, near: "= "x"'),
    ("a BETWEEN :a", None, None, 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":a"'),
    ("a IN :a", None, None, 'Invalid ConditionExpression: Syntax error; token: ":a", near: "IN :a"'),
    ("a IN ()", None, None, 'Invalid ConditionExpression: Syntax error; token: ")", near: "()"'),
    ("(a = :v", None, None, 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":v"'),
    ("a = # AND b", None, None, 'Invalid ConditionExpression: Syntax error; token: "#", near: "= # AND"'),
    ("AND = :v", None, None, 'Invalid ConditionExpression: Syntax error; token: "AND", near: "AND ="'),
    ("", None, None, "Invalid ConditionExpression: The expression can not be empty;"),
    ("((a = :v))", None, {":v": S("x")}, "Invalid ConditionExpression: The expression has redundant parentheses;"),
    ("((a)) = :v", None, {":v": S("x")}, "Invalid ConditionExpression: The expression has redundant parentheses;"),
    ("status = :v", None, {":v": S("x")},
     "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"),
    ("a.Name = :v", None, {":v": S("x")},
     "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Name"),
    ("a = :v", None, None,
     "Invalid ConditionExpression: An expression attribute value used in expression is not defined; "
     "attribute value: :v"),
    ("#n = :v", None, {":v": S("x")},
     "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
     "attribute name: #n"),
    ("a.#n = :v", {"#m": "m"}, {":v": S("x")},
     "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
     "attribute name: #n"),
    ("foo(a)", None, None, "Invalid ConditionExpression: Invalid function name; function: foo"),
    ("Size(a) > :v", None, None, "Invalid ConditionExpression: Invalid function name; function: Size"),
    ("if_not_exists(a, :v)", None, {":v": S("x")},
     "Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists"),
    ("a = list_append(a, :v)", None, {":v": L()},
     "Invalid ConditionExpression: The function is not allowed in a condition expression; function: list_append"),
    ("size(a)", None, None,
     "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size"),
    ("attribute_exists(a) = :v", None, {":v": {"BOOL": True}},
     "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
     "function: attribute_exists"),
    ("size(contains(a, :v)) > :w", None, None,
     "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
     "function: contains"),
    ("attribute_exists(a, b)", None, None,
     "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
     "operator or function: attribute_exists, number of operands: 2"),
    ("begins_with(a)", None, None,
     "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
     "operator or function: begins_with, number of operands: 1"),
    ("attribute_exists(:v)", None, {":v": S("x")},
     "Invalid ConditionExpression: Operator or function requires a document path; "
     "operator or function: attribute_exists"),
    ("attribute_type(a, :t)", None, {":t": S("STRING")},
     "Invalid ConditionExpression: Invalid attribute type name found; type: STRING, "
     "valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}"),
    ("attribute_type(a, :t)", None, {":t": N(1)},
     "Invalid ConditionExpression: Incorrect operand type for operator or function; "
     "operator or function: attribute_type, operand type: N"),
    ("begins_with(a, :p)", None, {":p": N(1)},
     "Invalid ConditionExpression: Incorrect operand type for operator or function; "
     "operator or function: begins_with, operand type: N"),
    ("size(:v) > a", None, {":v": {"BOOL": True}},
     "Invalid ConditionExpression: Incorrect operand type for operator or function; "
     "operator or function: size, operand type: BOOL"),
    ("a < :v", None, {":v": {"SS": ["x"]}},
     "Invalid ConditionExpression: Incorrect operand type for operator or function; "
     "operator or function: <, operand type: SS"),
    ("a = a", None, None,
     "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this "
     "operator or function; operator: =, first operand: [a]"),
    ("a.b[1] IN (:v, #x.b[1])", {"#x": "a"}, {":v": S("x")},
     "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this "
     "operator or function; operator: IN, first operand: [a, b, [1]]"),
    ("contains(a, a)", None, None,
     "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this "
     "operator or function; operator: contains, first operand: [a]"),
    ("a BETWEEN :lo AND :hi", None, {":lo": N(1), ":hi": S("a")},
     "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; "
     "lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"),
    ("a BETWEEN :lo AND :hi", None, {":lo": S("b"), ":hi": S("a")},
     "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
     "lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"),
    ("a[2147483648] = :v", None, {":v": S("x")},
     "Invalid ConditionExpression: List index is not within the allowable range; index: [2147483648]"),
    ("a" + ".b" * 32 + " = :v", None, {":v": S("x")},
     "Invalid ConditionExpression: The document path has too many nesting levels; nesting levels: 33"),
]


@pytest.mark.parametrize("expr,names,values,expected", CONDITION_ERRORS)
def test_condition_errors(expr, names, values, expected):
    assert message(cond, expr, names=names, values=values) == expected


def test_filter_errors_carry_the_filter_label():
    assert message(cond, "a =", label=ex.FILTER) == (
        'Invalid FilterExpression: Syntax error; token: "<EOF>", near: "="')
    assert message(cond, "size(a)", label=ex.FILTER) == (
        "Invalid FilterExpression: The function is not allowed to be used this way in an expression; function: size")


def test_expression_size_limit():
    long = "a = :v OR " * 410 + "a = :v"
    assert len(long) > 4096
    assert message(cond, long, values={":v": S("x")}).startswith(
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: ")


def test_the_first_error_in_order_wins():
    # A syntax error anywhere beats a reserved word earlier in the text.
    assert "Syntax error" in message(cond, "status = :v AND")
    # A reserved word beats an undefined placeholder.
    assert "reserved keyword: status" in message(cond, "#a = :v AND status = :w")


# ---- update expressions ------------------------------------------------------------------------

UPDATE_ITEM = {
    "pk": S("k"),
    "n": N("5"),
    "s": S("str"),
    "l": L(S("a"), S("b"), S("c")),
    "m": M(x=N("1"), y=S("z"), inr=M(deep=N("0"))),
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x01"]},
    "nested": L(L(N("0"), N("1")), M(k=S("v"))),
}


def update(expr, item=UPDATE_ITEM, names=None, values=None):
    parsed = ex.check_request_expressions(request(ex.UPDATE, expr, names, values))
    return ex.apply_update(parsed[ex.UPDATE], item, names, values)


def changed(before, after):
    """Top-level attributes whose value differs (None: removed)."""
    keys = set(before) | set(after)
    return {k: after.get(k) for k in keys if before.get(k) != after.get(k)}


UPDATE_CASES = [
    # SET: plain, arithmetic, functions, nested, lists
    ("SET a = :v", None, {":v": S("new")}, {"a": S("new")}),
    ("SET s = :v", None, {":v": N("1")}, {"s": N("1")}),
    ("SET n = n + :one", None, {":one": N("1")}, {"n": N("6")}),
    ("SET n = n - :d", None, {":d": N("7.25")}, {"n": N("-2.25")}),
    ("SET n = :a + :b", None, {":a": N("0.1"), ":b": N("0.2")}, {"n": N("0.3")}),
    ("SET n = :a + n", None, {":a": N("1E+2")}, {"n": N("105")}),
    ("SET n = (n + :one)", None, {":one": N("1")}, {"n": N("6")}),
    ("SET c = if_not_exists(c, :zero) + :one", None, {":zero": N(0), ":one": N(1)}, {"c": N("1")}),
    ("SET n = if_not_exists(n, :zero) + :one", None, {":zero": N(0), ":one": N(1)}, {"n": N("6")}),
    ("SET a = if_not_exists(a, :v)", None, {":v": S("d")}, {"a": S("d")}),
    ("SET s = if_not_exists(s, :v)", None, {":v": S("d")}, {}),
    ("SET l = list_append(l, :v)", None, {":v": L(S("d"))}, {"l": L(S("a"), S("b"), S("c"), S("d"))}),
    ("SET l = list_append(:v, l)", None, {":v": L(S("0"))}, {"l": L(S("0"), S("a"), S("b"), S("c"))}),
    ("SET nl = list_append(if_not_exists(nl, :e), :v)", None, {":e": L(), ":v": L(N(1))}, {"nl": L(N(1))}),
    ("SET a = s, s = n", None, None, {"a": S("str"), "s": N("5")}),     # all reads see the old item
    ("SET n = s, s = n", None, None, {"n": S("str"), "s": N("5")}),     # swap
    ("SET m.x = :v", None, {":v": N(2)}, {"m": M(x=N("2"), y=S("z"), inr=M(deep=N("0")))}),
    ("SET m.inr.deep = :v, m.w = :v", None, {":v": N(9)},
     {"m": M(x=N("1"), y=S("z"), inr=M(deep=N("9")), w=N("9"))}),
    ("SET #m.#k = :v", {"#m": "m", "#k": "dotted.key"}, {":v": N(1)},
     {"m": M(x=N("1"), y=S("z"), inr=M(deep=N("0")), **{"dotted.key": N("1")})}),
    ("SET l[1] = :v", None, {":v": S("B")}, {"l": L(S("a"), S("B"), S("c"))}),
    ("SET l[10] = :v, l[5] = :w", None, {":v": S("ten"), ":w": S("five")},
     {"l": L(S("a"), S("b"), S("c"), S("five"), S("ten"))}),            # past the end: appended in index order
    ("SET nested[0][1] = :v", None, {":v": N(9)}, {"nested": L(L(N("0"), N("9")), M(k=S("v")))}),
    ("SET nested[1].k = :v", None, {":v": N(9)}, {"nested": L(L(N("0"), N("1")), M(k=N("9")))}),
    # REMOVE, including list elements (positions of the old list)
    ("REMOVE s", None, None, {"s": None}),
    ("REMOVE absent", None, None, {}),
    ("REMOVE s, n", None, None, {"s": None, "n": None}),
    ("REMOVE m.x, m.inr.deep", None, None, {"m": M(y=S("z"), inr=M())}),
    ("REMOVE m.absent", None, None, {}),
    ("REMOVE l[0], l[2]", None, None, {"l": L(S("b"))}),
    ("REMOVE l[1]", None, None, {"l": L(S("a"), S("c"))}),
    ("REMOVE l[7]", None, None, {}),
    ("REMOVE nested[0][0]", None, None, {"nested": L(L(N("1")), M(k=S("v")))}),
    ("REMOVE l[0] SET l[1] = :v", None, {":v": S("B")}, {"l": L(S("B"), S("c"))}),
    # ADD numbers and sets
    ("ADD n :v", None, {":v": N(3)}, {"n": N("8")}),
    ("ADD n :v", None, {":v": N("-5")}, {"n": N("0")}),
    ("ADD newn :v", None, {":v": N(3)}, {"newn": N("3")}),
    ("ADD ss :v", None, {":v": {"SS": ["b", "c"]}}, {"ss": {"SS": ["a", "b", "c"]}}),
    ("ADD ns :v", None, {":v": {"NS": ["2.0", "3"]}}, {"ns": {"NS": ["1", "2", "3"]}}),
    ("ADD bs :v", None, {":v": {"BS": [b"\x02"]}}, {"bs": {"BS": [b"\x01", b"\x02"]}}),
    ("ADD newss :v", None, {":v": {"SS": ["x"]}}, {"newss": {"SS": ["x"]}}),
    ("ADD m.x :v", None, {":v": N(1)}, {"m": M(x=N("2"), y=S("z"), inr=M(deep=N("0")))}),
    ("ADD m.newset :v", None, {":v": {"NS": ["1"]}},
     {"m": M(x=N("1"), y=S("z"), inr=M(deep=N("0")), newset={"NS": ["1"]})}),
    # DELETE from sets
    ("DELETE ss :v", None, {":v": {"SS": ["a", "zz"]}}, {"ss": {"SS": ["b"]}}),
    ("DELETE ss :v", None, {":v": {"SS": ["a", "b"]}}, {"ss": None}),     # emptied: removed
    ("DELETE ns :v", None, {":v": {"NS": ["1.0"]}}, {"ns": {"NS": ["2"]}}),
    ("DELETE absent :v", None, {":v": {"SS": ["a"]}}, {}),
    # all four clauses, any order, case-insensitive keywords
    ("set a = :v remove s add n :one delete ss :d", None,
     {":v": S("A"), ":one": N(1), ":d": {"SS": ["a"]}},
     {"a": S("A"), "s": None, "n": N("6"), "ss": {"SS": ["b"]}}),
    ("DELETE ss :d ADD n :one REMOVE s SET a = :v", None,
     {":v": S("A"), ":one": N(1), ":d": {"SS": ["a"]}},
     {"a": S("A"), "s": None, "n": N("6"), "ss": {"SS": ["b"]}}),
]


@pytest.mark.parametrize("expr,names,values,expected", UPDATE_CASES)
def test_update(expr, names, values, expected):
    before = {k: v for k, v in UPDATE_ITEM.items()}
    new_item, _, _ = update(expr, names=names, values=values)
    assert changed(UPDATE_ITEM, new_item) == expected
    assert UPDATE_ITEM == before              # the input item is not modified


def test_update_on_a_new_item():
    new_item, old, new = update("SET a = :v ADD c :one", item=None, values={":v": S("x"), ":one": N(1)})
    assert new_item == {"a": S("x"), "c": N("1")}
    assert old == {} and new == {"a": S("x"), "c": N("1")}


def test_update_returns_touched_fragments_for_return_values():
    values = {":v": N(2), ":s": S("x")}
    new_item, old, new = update("SET m.x = :v, s = :s REMOVE n", values=values)
    assert old == {"m": M(x=N("1")), "s": S("str"), "n": N("5")}
    assert new == {"m": M(x=N("2")), "s": S("x")}           # REMOVEd paths are not in UPDATED_NEW
    _, old, new = update("SET l[9] = :s", values={":s": S("x")})
    assert old == {} and new == {}                          # an append past the end: nothing at l[9]
    _, old, new = update("SET l[0] = :s", values={":s": S("x")})
    assert old == {"l": L(S("a"))} and new == {"l": L(S("x"))}


UPDATE_ERRORS = [
    # syntax
    ("SET", None, None, 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET"'),
    ("SET a", None, None, 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "a"'),
    ("SET a = ", None, None, 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "= "'),
    ("SET a = b +", None, None, 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "+"'),
    ("ADD hits : incr", None, None, 'Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr"'),
    ("INVALID SYNTAX HERE", None, None,
     'Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"'),
    ("SET #as, #L = :v", None, None, 'Invalid UpdateExpression: Syntax error; token: ",", near: "#as, #L"'),
    ("SET a = b / c", None, None, 'Invalid UpdateExpression: Syntax error; token: "/", near: "b / c"'),
    ("SET a = b + c + d", None, None, 'Invalid UpdateExpression: Syntax error; token: "+", near: "c + d"'),
    ("SET a[1] = 1", None, None, 'Invalid UpdateExpression: Syntax error; token: "1", near: "= 1"'),
    ("REMOVE a = b", None, None, 'Invalid UpdateExpression: Syntax error; token: "=", near: "a = b"'),
    ("ADD a", None, None, 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "a"'),
    ("DELETE a b", None, None, 'Invalid UpdateExpression: Syntax error; token: "b", near: "a b"'),
    ("SET :a = b", None, None, 'Invalid UpdateExpression: Syntax error; token: ":a", near: "SET :a ="'),
    ("SET if_not_exists(a, b) = a", None, None,
     'Invalid UpdateExpression: Syntax error; token: "(", near: "if_not_exists(a"'),
    ("SET a = :v,", None, None, 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","'),
    ("", None, None, "Invalid UpdateExpression: The expression can not be empty;"),
    # sections
    ("SET a = :v SET b = :v", None, {":v": S("x")},
     'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'),
    ("remove a set b = :v remove c", None, {":v": S("x")},
     'Invalid UpdateExpression: The "REMOVE" section can only be used once in an update expression;'),
    ("ADD a :v ADD b :v", None, {":v": N(1)},
     'Invalid UpdateExpression: The "ADD" section can only be used once in an update expression;'),
    ("DELETE a :v DELETE b :v", None, {":v": {"SS": ["x"]}},
     'Invalid UpdateExpression: The "DELETE" section can only be used once in an update expression;'),
    # reserved words, functions
    ("SET status = :v", None, {":v": S("x")},
     "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"),
    (" remove Absolute ", None, None,
     "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Absolute"),
    ("SET a = if_not_exist(a, :v)", None, {":v": S("x")},
     "Invalid UpdateExpression: Invalid function name; function: if_not_exist"),
    ("SET a = size(b)", None, None,
     "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"),
    ("SET a = attribute_exists(b)", None, None,
     "Invalid UpdateExpression: The function is not allowed in an update expression; function: attribute_exists"),
    ("SET a = if_not_exists(c)", None, None,
     "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
     "operator or function: if_not_exists, number of operands: 1"),
    ("SET a = list_append(c)", None, None,
     "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
     "operator or function: list_append, number of operands: 1"),
    ("SET a = if_not_exists(:v, c)", None, {":v": S("x")},
     "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"),
    # placeholders
    ("SET #a = :v", None, {":v": S("x")},
     "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; "
     "attribute name: #a"),
    ("SET a = :v", None, None,
     "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
     "attribute value: :v"),
    # overlapping and conflicting paths
    ("SET a = :v, a.b = :v", None, {":v": S("x")},
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
     "paths; path one: [a], path two: [a, b]"),
    ("SET a = :v REMOVE a", None, {":v": S("x")},
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
     "paths; path one: [a], path two: [a]"),
    ("SET #a = :v REMOVE a", {"#a": "a"}, {":v": S("x")},
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
     "paths; path one: [a], path two: [a]"),
    ("set d[1] = a, d.b = a, c[1].a = a, #c = if_not_exists(a, :v)", {"#c": "c"}, {":v": S("x")},
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
     "paths; path one: [c, [1], a], path two: [c]"),
    ("remove a.#c set a[1] = #d", {"#c": "c", "#d": "[3]"}, None,
     "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these "
     "paths; path one: [a, c], path two: [a, [1]]"),
    # operand types known from the values alone
    ("SET a = b + :s", None, {":s": S("x")},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, "
     "operand type: S"),
    ("SET a = :l - b", None, {":l": L()},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: -, "
     "operand type: L"),
    ("SET a = list_append(a, :n)", None, {":n": N(1)},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: "
     "list_append, operand type: N"),
    ("ADD a :v", None, {":v": S("x")},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: "
     "STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("ADD a :v", None, {":v": L(N(1))},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: "
     "LIST, typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("ADD a :v", None, {":v": M()},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: "
     "MAP, typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("DELETE a :v", None, {":v": N(1)},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: "
     "NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"),
    ("DELETE a :v", None, {":v": S("x")},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: "
     "STRING, typeSet: ALLOWED_FOR_DELETE_OPERAND"),
    # runtime: the item's own values
    ("SET c = s + :one", None, {":one": N(1)}, "An operand in the update expression has an incorrect data type"),
    ("SET c = m.x + l[1]", None, None, "An operand in the update expression has an incorrect data type"),
    ("SET c = list_append(s, :l)", None, {":l": L()},
     "An operand in the update expression has an incorrect data type"),
    ("ADD s :one", None, {":one": N(1)}, "An operand in the update expression has an incorrect data type"),
    ("ADD ss :v", None, {":v": {"NS": ["1"]}}, "An operand in the update expression has an incorrect data type"),
    ("ADD n :v", None, {":v": {"NS": ["1"]}}, "An operand in the update expression has an incorrect data type"),
    ("DELETE ss :v", None, {":v": {"NS": ["1"]}}, "An operand in the update expression has an incorrect data type"),
    ("DELETE n :v", None, {":v": {"NS": ["1"]}}, "An operand in the update expression has an incorrect data type"),
    ("SET c = absent", None, None, "The provided expression refers to an attribute that does not exist in the item"),
    ("SET c = absent + :one", None, {":one": N(1)},
     "The provided expression refers to an attribute that does not exist in the item"),
    ("SET c = list_append(absent, :l)", None, {":l": L()},
     "The provided expression refers to an attribute that does not exist in the item"),
    ("SET a = s, s = a", None, None, "The provided expression refers to an attribute that does not exist in the item"),
    ("SET absent.a = :v", None, {":v": S("x")},
     "The document path provided in the update expression is invalid for update"),
    ("SET absent[0] = :v", None, {":v": S("x")},
     "The document path provided in the update expression is invalid for update"),
    ("SET s.a = :v", None, {":v": S("x")}, "The document path provided in the update expression is invalid for update"),
    ("SET m[0] = :v", None, {":v": S("x")}, "The document path provided in the update expression is invalid for update"),
    ("SET l.a = :v", None, {":v": S("x")}, "The document path provided in the update expression is invalid for update"),
    ("SET m.absent.deeper = :v", None, {":v": S("x")},
     "The document path provided in the update expression is invalid for update"),
    ("REMOVE absent.a", None, None, "The document path provided in the update expression is invalid for update"),
    ("REMOVE s[1]", None, None, "The document path provided in the update expression is invalid for update"),
    ("ADD absent.a :v", None, {":v": N(1)}, "The document path provided in the update expression is invalid for update"),
    ("DELETE l.a :v", None, {":v": {"SS": ["a"]}},
     "The document path provided in the update expression is invalid for update"),
    # type errors come before absent attributes, wherever they are
    ("SET c = absent, d = s + :one", None, {":one": N(1)},
     "An operand in the update expression has an incorrect data type"),
    # numbers
    ("SET n = :big + :e", None, {":big": N("9.9999999999999999999999999999999999999E+125"), ":e": N("1E+125")},
     "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ("SET n = :a - :b", None, {":a": N("-9.9999999999999999999999999999999999999E+125"), ":b": N("1E+125")},
     "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ("SET n = :a - :b", None, {":a": N("1.1E-130"), ":b": N("1E-130")},
     "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
    ("SET n = :a + :b", None, {":a": N("1E+37"), ":b": N("0.1")},
     "Attempting to store more than 38 significant digits in a Number"),
    ("ADD n :big", None, {":big": N("9.9999999999999999999999999999999999999E+125")},
     "Attempting to store more than 38 significant digits in a Number"),   # 5 + 9.99..E+125
]


@pytest.mark.parametrize("expr,names,values,expected", UPDATE_ERRORS)
def test_update_errors(expr, names, values, expected):
    assert message(update, expr, names=names, values=values) == expected


def test_add_overflow_on_a_stored_number():
    item = {"big": N("9.9999999999999999999999999999999999999E+125")}
    assert message(update, "ADD big :v", item=item, values={":v": N("1E+125")}) == (
        "Number overflow. Attempting to store a number with magnitude larger than supported range")


def test_update_numbers_are_exact_and_canonical():
    values = {":a": N("12345678901234567890123456789012345678"), ":b": N("1")}
    new_item, _, _ = update("SET x = :a + :b", values=values)
    assert new_item["x"] == N("12345678901234567890123456789012345679")
    new_item, _, _ = update("SET x = :a - :a", values={":a": values[":a"]})
    assert new_item["x"] == N("0")
    new_item, _, _ = update("SET x = :c + :d", values={":c": N("1.50"), ":d": N("2.5E+1")})
    assert new_item["x"] == N("26.5")


# ---- projections -------------------------------------------------------------------------------

PROJECTION_CASES = [
    ("s", None, {"s": S("hello world")}),
    ("s, n, absent", None, {"s": S("hello world"), "n": N("10")}),
    ("m.a.b.c", None, {"m": M(a=M(b=M(c=S("leaf"))))}),
    ("m.a.b.c, m.n", None, {"m": M(a=M(b=M(c=S("leaf"))), n=N("7"))}),
    ("m.absent, m.n.x", None, {}),
    ("l[0]", None, {"l": L(S("x"))}),
    ("l[3].k, l[0]", None, {"l": L(S("x"), M(k=S("v")))}),       # list elements in index order, closed up
    ("l[2][1]", None, {"l": L(L(S("deep1")))}),
    ("l[9], s[0]", None, {}),
    ("m.lst[1]", None, {"m": M(lst=L(N("2")))}),
    ("#d, #m.#n", {"#d": "x.y", "#m": "m", "#n": "n"}, {"x.y": S("dot"), "m": M(n=N("7"))}),
]


@pytest.mark.parametrize("expr,names,expected", PROJECTION_CASES)
def test_projection(expr, names, expected):
    parsed = ex.check_request_expressions(request(ex.PROJECTION, expr, names))
    assert ex.project(ITEM, parsed[ex.PROJECTION], names) == expected


def test_project_accepts_resolved_paths():
    assert ex.project(ITEM, [("m", "n"), ("l", 1)]) == {"m": M(n=N("7")), "l": L(N("2"))}
    assert ex.project(None, [("a",)]) == {}


PROJECTION_ERRORS = [
    ("a,", None, 'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","'),
    ("a b", None, 'Invalid ProjectionExpression: Syntax error; token: "b", near: "a b"'),
    ("!!", None, 'Invalid ProjectionExpression: Syntax error; token: "!", near: "!!"'),
    ("a[x]", None, 'Invalid ProjectionExpression: Syntax error; token: "x", near: "[x]"'),
    ("size(a)", None, 'Invalid ProjectionExpression: Syntax error; token: "(", near: "size(a"'),
    ("", None, "Invalid ProjectionExpression: The expression can not be empty;"),
    ("a, Name", None, "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: Name"),
    ("#n", None, "Invalid ProjectionExpression: An expression attribute name used in the document path is not "
                 "defined; attribute name: #n"),
    ("a.b, a", None, "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or "
                     "rewrite one of these paths; path one: [a, b], path two: [a]"),
    ("a, #a", {"#a": "a"}, "Invalid ProjectionExpression: Two document paths overlap with each other; must "
                           "remove or rewrite one of these paths; path one: [a], path two: [a]"),
    ("a.b, a[1]", None, "Invalid ProjectionExpression: Two document paths conflict with each other; must remove "
                        "or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"),
]


@pytest.mark.parametrize("expr,names,expected", PROJECTION_ERRORS)
def test_projection_errors(expr, names, expected):
    assert message(ex.check_request_expressions, request(ex.PROJECTION, expr, names)) == expected


# ---- key conditions ------------------------------------------------------------------------------

HASH_ONLY = [{"AttributeName": "pk", "KeyType": "HASH"}]
HASH_RANGE = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
TYPES = {"pk": "S", "sk": "N"}
KV = {":p": S("p1"), ":a": N(1), ":b": N(5), ":s": S("x")}

KEY_CASES = [
    ("pk = :p", HASH_ONLY, None, (("pk", S("p1")), None)),
    ("pk = :p", HASH_RANGE, None, (("pk", S("p1")), None)),
    (":p = pk", HASH_RANGE, None, (("pk", S("p1")), None)),
    ("pk = :p AND sk = :a", HASH_RANGE, None, (("pk", S("p1")), ("=", "sk", (N(1),)))),
    ("pk = :p AND sk < :a", HASH_RANGE, None, (("pk", S("p1")), ("<", "sk", (N(1),)))),
    ("pk = :p AND sk <= :a", HASH_RANGE, None, (("pk", S("p1")), ("<=", "sk", (N(1),)))),
    ("pk = :p AND sk > :a", HASH_RANGE, None, (("pk", S("p1")), (">", "sk", (N(1),)))),
    ("pk = :p AND sk >= :a", HASH_RANGE, None, (("pk", S("p1")), (">=", "sk", (N(1),)))),
    ("pk = :p AND :a < sk", HASH_RANGE, None, (("pk", S("p1")), (">", "sk", (N(1),)))),   # flipped
    ("sk BETWEEN :a AND :b AND pk = :p", HASH_RANGE, None,
     (("pk", S("p1")), ("BETWEEN", "sk", (N(1), N(5))))),
    ("(pk = :p) AND (sk between :a and :b)", HASH_RANGE, None,
     (("pk", S("p1")), ("BETWEEN", "sk", (N(1), N(5))))),
    ("#h = :p AND begins_with(#r, :s)", HASH_RANGE, {"#h": "pk", "#r": "sk"},
     (("pk", S("p1")), ("begins_with", "sk", (S("x"),)))),
]


@pytest.mark.parametrize("expr,schema,names,expected", KEY_CASES)
def test_key_condition(expr, schema, names, expected):
    values = {k: v for k, v in KV.items() if k in expr}
    result = ex.parse_key_condition(expr, names, values, schema)
    assert (result.hash, result.range) == expected
    assert result["hash"] == expected[0] and result.as_dict()["range"] == expected[1]


def test_key_condition_matches_items():
    kc = ex.parse_key_condition("pk = :p AND sk BETWEEN :a AND :b", None,
                                {":p": S("p1"), ":a": N(1), ":b": N(5)}, HASH_RANGE, TYPES)
    assert kc.matches({"pk": S("p1"), "sk": N("5")})
    assert kc.matches({"pk": S("p1"), "sk": N("1.0")})
    assert not kc.matches({"pk": S("p1"), "sk": N("5.01")})
    assert not kc.matches({"pk": S("p2"), "sk": N("3")})
    kc = ex.parse_key_condition("pk = :p AND begins_with(sk, :s)", None, {":p": S("p1"), ":s": S("ab")},
                                HASH_RANGE)
    assert kc.matches({"pk": S("p1"), "sk": S("abc")}) and not kc.matches({"pk": S("p1"), "sk": S("b")})


KEY_ERRORS = [
    ("pk = :p OR sk = :a", HASH_RANGE, "Invalid operator used in KeyConditionExpression: OR"),
    ("NOT pk = :p", HASH_RANGE, "Invalid operator used in KeyConditionExpression: NOT"),
    ("pk IN (:p)", HASH_RANGE, "Invalid operator used in KeyConditionExpression: IN"),
    ("pk <> :p", HASH_RANGE, "Invalid operator used in KeyConditionExpression: <>"),
    ("pk = :p AND attribute_exists(sk)", HASH_RANGE,
     "Invalid operator used in KeyConditionExpression: attribute_exists"),
    ("pk = :p AND contains(sk, :s)", HASH_RANGE, "Invalid operator used in KeyConditionExpression: contains"),
    ("pk = :p AND size(sk) > :a", HASH_RANGE, "KeyConditionExpressions cannot contain nested operations"),
    ("pk = :p AND sk BETWEEN size(pk) AND :a", HASH_RANGE,
     "KeyConditionExpressions cannot contain nested operations"),
    ("pk = :p AND sk BETWEEN pk AND size(pk)", HASH_RANGE,
     "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
    ("pk = :p AND :a BETWEEN sk AND :b", HASH_RANGE,
     "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first "
     "operand"),
    ("pk = :p AND begins_with(:s, sk)", HASH_RANGE,
     "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first "
     "operand"),
    ("pk = sk", HASH_RANGE, "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
                            "condition"),
    ("pk.x = :p", HASH_RANGE, "KeyConditionExpressions cannot have conditions on nested attributes"),
    ("pk[0] = :p", HASH_RANGE, "KeyConditionExpressions cannot have conditions on nested attributes"),
    (":p = :s AND pk = :p", HASH_RANGE, "Invalid condition in KeyConditionExpression: No key attribute specified"),
    ("pk = :p AND pk = :s", HASH_RANGE, "KeyConditionExpressions must only contain one condition per key"),
    ("pk = :p AND sk > :a AND attr9 = :s", HASH_RANGE, "Conditions can be of length 1 or 2 only"),
    ("sk = :a", HASH_RANGE, "Query condition missed key schema element: pk"),
    ("attr9 = :p", HASH_ONLY, "Query condition missed key schema element: pk"),
    ("pk = :p AND attr9 = :s", HASH_RANGE, "Query condition missed key schema element: sk"),
    ("pk = :p AND sk = :a", HASH_ONLY, "Query key condition not supported"),
    ("pk > :p", HASH_RANGE, "Query key condition not supported"),
    ("begins_with(pk, :p)", HASH_ONLY, "Query key condition not supported"),
    ("pk = :a", HASH_ONLY, "One or more parameter values were invalid: Condition parameter type does not match "
                           "schema type"),
    ("pk = :p AND sk > :s", HASH_RANGE, "One or more parameter values were invalid: Condition parameter type does "
                                        "not match schema type"),
    ("pk = :e", HASH_ONLY, "One or more parameter values are not valid. The AttributeValue for a key attribute "
                           "cannot contain an empty string value. Key: pk"),
    # the generic condition checks apply, with the KeyConditionExpression label
    ("pk = ", HASH_ONLY, 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "= "'),
    ("", HASH_ONLY, "Invalid KeyConditionExpression: The expression can not be empty;"),
    ("pk = :p AND size(sk)", HASH_RANGE, "Invalid KeyConditionExpression: The function is not allowed to be used "
                                         "this way in an expression; function: size"),
    ("pk = :absent", HASH_ONLY, "Invalid KeyConditionExpression: An expression attribute value used in "
                                 "expression is not defined; attribute value: :absent"),
    ("pk = :p AND sk BETWEEN :b AND :a", HASH_RANGE,
     "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
     "lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}"),
    ("pk = :p AND begins_with(sk, :a)", HASH_RANGE,
     "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: "
     "begins_with, operand type: N"),
]


@pytest.mark.parametrize("expr,schema,expected", KEY_ERRORS)
def test_key_condition_errors(expr, schema, expected):
    values = dict(KV, **{":e": S("")})
    assert message(ex.parse_key_condition, expr, None, values, schema, TYPES) == expected


def test_key_condition_unused_placeholders_optional():
    values = {":p": S("p1"), ":extra": S("x")}
    assert ex.parse_key_condition("pk = :p", None, values, HASH_ONLY).hash == ("pk", S("p1"))
    assert message(ex.parse_key_condition, "pk = :p", None, values, HASH_ONLY,
                   check_unused_placeholders=True) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}")


def test_filter_may_not_name_key_attributes():
    parsed = ex.parse_filter_expression("attribute_exists(#k.b) AND b = :v")
    with pytest.raises(ValidationException) as info:
        ex.check_filter_keys(parsed, {"#k": "pk"}, ["pk", "sk"])
    assert info.value.message == ("Filter Expression can only contain non-primary key attributes: "
                                  "Primary key attribute: pk")
    ex.check_filter_keys(parsed, {"#k": "attr9"}, ["pk", "sk"])


# ---- a request's expressions together: unused placeholders, maps, order -------------------------------


def test_unused_names_and_values_across_all_expressions():
    req = {"UpdateExpression": "SET #a = :v", "ConditionExpression": "attribute_exists(#b) AND c = :w",
           "ExpressionAttributeNames": {"#a": "a", "#b": "b"},
           "ExpressionAttributeValues": {":v": S("x"), ":w": S("y")}}
    parsed = ex.check_request_expressions(req)
    assert set(parsed) == {ex.UPDATE, ex.CONDITION}
    req["ExpressionAttributeNames"] = {"#a": "a", "#b": "b", "#unused": "u"}
    assert message(ex.check_request_expressions, req) == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}")
    req["ExpressionAttributeNames"] = {"#a": "a", "#b": "b"}
    req["ExpressionAttributeValues"] = {":v": S("x"), ":w": S("y"), ":z": S("z")}
    assert message(ex.check_request_expressions, req) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:z}")


def test_unused_names_are_reported_before_values_and_listed_in_hash_set_order():
    req = {"ProjectionExpression": "a", "ExpressionAttributeNames": {"#b": "b", "#a": "a"},
           "FilterExpression": "a = :x", "ExpressionAttributeValues": {":x": S("x"), ":c": S("c"), ":a": S("a")}}
    assert message(ex.check_request_expressions, req) == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}")
    del req["ExpressionAttributeNames"]
    assert message(ex.check_request_expressions, req) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a, :c}")


def test_check_expressions_from_pairs():
    parsed = ex.check_expressions([(ex.FILTER, "a = :v"), (ex.PROJECTION, "#p")], {"#p": "p"}, {":v": N(1)})
    assert set(parsed) == {ex.FILTER, ex.PROJECTION}
    assert message(ex.check_expressions, {ex.FILTER: "a = :v"}, None, {":v": N(1), ":w": N(2)}) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}")


PLACEHOLDER_MAP_ERRORS = [
    ({"ExpressionAttributeNames": {}}, "ExpressionAttributeNames must not be empty"),
    ({"ExpressionAttributeValues": {}}, "ExpressionAttributeValues must not be empty"),
    ({"ExpressionAttributeNames": {"a": "a"}}, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
    ({"ExpressionAttributeValues": {"v": S("x")}},
     'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'),
    ({"ExpressionAttributeNames": {"#a-b": "a"}},
     'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"'),
    ({"ExpressionAttributeNames": {"#a": ""}},
     "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a"),
]


@pytest.mark.parametrize("extra,expected", PLACEHOLDER_MAP_ERRORS)
def test_placeholder_map_errors(extra, expected):
    assert message(ex.check_request_expressions, dict({"ConditionExpression": "a = b"}, **extra)) == expected


def test_request_order_update_before_condition_and_key_condition_last():
    req = {"UpdateExpression": "SET a = ", "ConditionExpression": "b = "}
    assert message(ex.check_request_expressions, req).startswith("Invalid UpdateExpression")
    req = {"KeyConditionExpression": "a = ", "FilterExpression": "b = ", "ProjectionExpression": "c,"}
    assert message(ex.check_request_expressions, req).startswith("Invalid FilterExpression")


# ---- parsing: cache, AST shape, reserved words -------------------------------------------------------


def test_parse_is_cached_by_kind_and_expression():
    a = ex.parse_condition_expression("attr_x = :v AND attr_y < :w")
    assert ex.parse_condition_expression("attr_x = :v AND attr_y < :w") is a
    assert ex.parse_filter_expression("attr_x = :v AND attr_y < :w") is not a
    assert ex.parse_filter_expression("attr_x = :v AND attr_y < :w").label == ex.FILTER


def test_ast_shape_and_precedence():
    from cloudlet.services.dynamodb.expressions.nodes import And, Compare, Not, Or
    root = ex.parse_condition_expression("NOT a = :a AND b = :b OR c = :c").root
    assert isinstance(root, Or) and isinstance(root.left, And) and isinstance(root.left.left, Not)
    assert isinstance(root.right, Compare)
    update_ast = ex.parse_update_expression("SET a = :v, b = c REMOVE d")
    assert [(k, type(a).__name__) for k, a in update_ast.actions()] == [
        ("SET", "SetAction"), ("SET", "SetAction"), ("REMOVE", "RemoveAction")]


def test_reserved_words_list():
    assert len(ex.RESERVED_WORDS) == 573
    for word in ("ABORT", "STATUS", "NAME", "DATA", "ZONE", "SIZE", "COMMENT", "TTL", "FLATTERN"):
        assert word in ex.RESERVED_WORDS
    assert ex.is_reserved("status") and ex.is_reserved("Timestamp") and not ex.is_reserved("statuses")


def test_updated_paths_resolve_placeholders():
    ast = ex.parse_update_expression("SET #k = :v, m.x = :v REMOVE l[2] ADD n :one")
    assert ex.updated_paths(ast, {"#k": "pk"}) == [
        ("SET", ("pk",)), ("SET", ("m", "x")), ("REMOVE", ("l", 2)), ("ADD", ("n",))]


@pytest.mark.parametrize("expr", [
    "(" * 300 + "a = :v" + ")" * 300,
    "(" * 2000 + "a",
    "NOT " * 1000 + "a = :v",
    "(" * 1000 + "a" + ")" * 1000 + " = :v",
])
def test_absurd_nesting_is_a_validation_error_not_a_crash(expr):
    assert message(cond, expr, values={":v": S("x")}) == (
        "Invalid ConditionExpression: The expression is nested too deeply")


def test_reasonable_nesting_works():
    expr = "(a = :v AND " * 60 + "a = :v" + ")" * 60
    assert cond(expr, item={"a": S("x")}, values={":v": S("x")}) is True
    assert cond("NOT " * 100 + "a = :v", item={"a": S("x")}, values={":v": S("x")}) is True


def test_validation_cache_repeats_the_checks_on_values():
    """A request validated once is not checked again when only the values'
    contents change -- except the two checks that read contents."""
    between = {"ConditionExpression": "n BETWEEN :lo AND :hi"}
    assert ex.check_request_expressions({**between, "ExpressionAttributeValues": {":lo": N(1), ":hi": N(5)}})
    assert message(ex.check_request_expressions, {**between, "ExpressionAttributeValues": {":lo": N(9), ":hi": N(5)}}) \
        == ("Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
            "lower bound; lower bound operand: AttributeValue: {N:9}, upper bound operand: AttributeValue: {N:5}")
    typed = {"FilterExpression": "attribute_type(a, :t)"}
    assert ex.check_request_expressions({**typed, "ExpressionAttributeValues": {":t": S("SS")}})
    assert message(ex.check_request_expressions, {**typed, "ExpressionAttributeValues": {":t": S("XX")}}).startswith(
        "Invalid FilterExpression: Invalid attribute type name found; type: XX")
    # other value types or other names: validated afresh
    order = {"ConditionExpression": "a < :v"}
    assert ex.check_request_expressions({**order, "ExpressionAttributeValues": {":v": N(1)}})
    assert message(ex.check_request_expressions, {**order, "ExpressionAttributeValues": {":v": {"BOOL": True}}}) == (
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, "
        "operand type: BOOL")
    named = {"ConditionExpression": "#a = :v", "ExpressionAttributeValues": {":v": N(1)}}
    assert ex.check_request_expressions({**named, "ExpressionAttributeNames": {"#a": "x"}})
    assert message(ex.check_request_expressions, {**named, "ExpressionAttributeNames": {"#a": "x", "#b": "y"}}) == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}")
    # a failure is not remembered as a success
    for _ in range(2):
        assert message(ex.check_request_expressions, {"ConditionExpression": "a = :nope"}).startswith(
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined")


def test_key_condition_shape_depends_on_names():
    """The shape of a parsed key condition is reused per (expression, names): the
    same text with other names is another shape, and values are read each time."""
    from cloudlet.services.dynamodb.expressions.keycond import parse_key_condition
    from cloudlet.services.dynamodb.expressions.validate import check_request_expressions

    schema = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    types = {"pk": "S", "sk": "N"}

    def kc(names, values):
        req = {"KeyConditionExpression": "#k = :v AND #r < :w", "ExpressionAttributeNames": names,
               "ExpressionAttributeValues": values}
        ast = check_request_expressions(req)["KeyConditionExpression"]
        return parse_key_condition(ast, names, values, schema, types, validated=True)

    values = {":v": {"S": "a"}, ":w": {"N": "1"}}
    assert kc({"#k": "pk", "#r": "sk"}, values).range == ("<", "sk", ({"N": "1"},))
    with pytest.raises(ValidationException, match="only contain one condition per key"):
        kc({"#k": "pk", "#r": "pk"}, values)
    with pytest.raises(ValidationException, match="missed key schema element: pk"):
        kc({"#k": "other", "#r": "sk"}, values)
    again = kc({"#k": "pk", "#r": "sk"}, {":v": {"S": "z"}, ":w": {"N": "9"}})
    assert again.hash == ("pk", {"S": "z"}) and again.range == ("<", "sk", ({"N": "9"},))
    with pytest.raises(ValidationException, match="type does not match"):
        kc({"#k": "pk", "#r": "sk"}, {":v": {"N": "1"}, ":w": {"N": "9"}})
