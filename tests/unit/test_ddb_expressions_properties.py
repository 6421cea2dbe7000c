"""Property tests for the DynamoDB expression language (hypothesis)."""

from __future__ import annotations

import string
from decimal import Decimal, localcontext

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cloudlet.services.dynamodb.expressions as ex
from cloudlet.protocol.errors import ValidationException
from cloudlet.services.dynamodb.expressions.tokenizer import KEYWORDS

SETTINGS = settings(max_examples=int(__import__("os").environ.get("DDB_EXPR_EXAMPLES", "200")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def holds(expr, item, values=None, names=None):
    req = {"ConditionExpression": expr}
    if values:
        req["ExpressionAttributeValues"] = values
    if names:
        req["ExpressionAttributeNames"] = names
    parsed = ex.check_request_expressions(req)
    return ex.evaluate_condition(parsed["ConditionExpression"], item, names, values)


# ---- numbers --------------------------------------------------------------------------------

@st.composite
def dynamo_numbers(draw):
    """Decimals DynamoDB can store: up to 38 significant digits, magnitude 1E-130 .. <1E+126."""
    digits = draw(st.integers(min_value=0, max_value=10**38 - 1))
    if digits == 0:
        return Decimal(0)
    length = len(str(digits))
    # adjusted exponent (exponent + length - 1) within -130 .. 125
    exponent = draw(st.one_of(st.integers(min_value=-129 - length, max_value=126 - length),
                              st.integers(min_value=-6, max_value=6)))
    sign = draw(st.sampled_from([1, -1]))
    with localcontext() as ctx:
        ctx.prec = 100
        return Decimal(sign * digits).scaleb(exponent)


def text_of(d: Decimal) -> str:
    return str(d)        # may use exponent notation, which DynamoDB accepts


@SETTINGS
@given(dynamo_numbers(), dynamo_numbers(), st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
def test_number_comparison_is_decimal_comparison(a, b, op):
    expected = {"=": a == b, "<>": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    assert holds(f"x {op} :v", {"x": {"N": text_of(a)}}, {":v": {"N": text_of(b)}}) is expected


@SETTINGS
@given(dynamo_numbers(), dynamo_numbers(), dynamo_numbers())
def test_between_is_inclusive_decimal_range(x, lo, hi):
    assume(lo <= hi)
    values = {":lo": {"N": text_of(lo)}, ":hi": {"N": text_of(hi)}}
    assert holds("x BETWEEN :lo AND :hi", {"x": {"N": text_of(x)}}, values) is (lo <= x <= hi)


@SETTINGS
@given(dynamo_numbers(), dynamo_numbers(), st.booleans())
def test_set_arithmetic_is_exact_or_refused(a, b, subtract):
    with localcontext() as ctx:
        ctx.prec = 400
        exact = a - b if subtract else a + b
        normal = exact.normalize() if exact else Decimal(0)
    values = {":a": {"N": text_of(a)}, ":b": {"N": text_of(b)}}
    ast = ex.parse_update_expression(f"SET c = :a {'-' if subtract else '+'} :b")
    fits = exact == 0 or (-130 <= normal.adjusted() <= 125 and len(normal.as_tuple().digits) <= 38)
    if fits:
        new_item, _, _ = ex.apply_update(ast, {}, None, values)
        assert Decimal(new_item["c"]["N"]) == exact
        assert "E" not in new_item["c"]["N"]
    else:
        with pytest.raises(ValidationException):
            ex.apply_update(ast, {}, None, values)


@SETTINGS
@given(st.text(max_size=8), st.text(max_size=8), st.sampled_from(["<", "<=", ">", ">=", "="]))
def test_string_comparison_is_utf8_byte_order(a, b, op):
    x, y = a.encode("utf-8"), b.encode("utf-8")
    expected = {"=": x == y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
    assert holds(f"x {op} :v", {"x": {"S": a}}, {":v": {"S": b}}) is expected


@SETTINGS
@given(st.binary(max_size=6), st.binary(max_size=6))
def test_binary_comparison_is_unsigned_byte_order(a, b):
    assert holds("x < :v", {"x": {"B": a}}, {":v": {"B": b}}) is (a < b)
    assert holds("begins_with(x, :v)", {"x": {"B": a}}, {":v": {"B": b}}) is a.startswith(b)


@SETTINGS
@given(dynamo_numbers(), st.text(max_size=4))
def test_values_of_different_types_never_compare(n, s):
    item = {"x": {"N": text_of(n)}}
    for op in ("=", "<", "<=", ">", ">="):
        assert holds(f"x {op} :v", item, {":v": {"S": s}}) is False
    assert holds("x <> :v", item, {":v": {"S": s}}) is True


# ---- logic: NOT > AND > OR -------------------------------------------------------------------

ATOMS = [f"a{i}" for i in range(4)]


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(ATOMS)), min_size=1, max_size=8),
       st.lists(st.sampled_from(["AND", "OR"]), min_size=7, max_size=7),
       st.sets(st.sampled_from(ATOMS)))
def test_flat_and_or_not_match_python_precedence(terms, ops, present):
    """Python's not/and/or have DynamoDB's precedence, so the same flat text
    must evaluate the same way."""
    dynamo, python = [], []
    for k, (negate, atom) in enumerate(terms):
        if k:
            dynamo.append(ops[k - 1])
            python.append(ops[k - 1].lower())
        dynamo.append(("NOT " if negate else "") + f"attribute_exists({atom})")
        python.append(("not " if negate else "") + repr(atom in present))
    item = {atom: {"BOOL": True} for atom in present}
    assert holds(" ".join(dynamo), item) is eval(" ".join(python))   # noqa: S307 - booleans only


def trees():
    leaf = st.sampled_from(ATOMS).map(lambda a: ("atom", a))
    return st.recursive(
        leaf,
        lambda kids: st.one_of(
            kids.map(lambda k: ("not", k)),
            st.tuples(st.sampled_from(["and", "or"]), kids, kids).map(lambda t: (t[0], t[1], t[2])),
        ),
        max_leaves=10,
    )


_PREC = {"or": 1, "and": 2, "not": 3, "atom": 4}


def render(node, extra_parens) -> str:
    """Minimal parentheses for the tree's structure, plus optional ones."""
    kind = node[0]
    if kind == "atom":
        text = f"attribute_exists({node[1]})"
    elif kind == "not":
        text = "NOT " + wrap(node[1], _PREC["not"], extra_parens)
    else:
        text = f" {kind.upper()} ".join(wrap(child, _PREC[kind], extra_parens) for child in node[1:])
    return text


def wrap(child, parent_prec, extra_parens) -> str:
    text = render(child, extra_parens)
    if _PREC[child[0]] < parent_prec or (_PREC[child[0]] == parent_prec and child[0] != "atom"
                                         and next(extra_parens)):
        return f"({text})"
    if child[0] == "atom" and next(extra_parens):
        return f"({text})"
    return text


def truth(node, present) -> bool:
    kind = node[0]
    if kind == "atom":
        return node[1] in present
    if kind == "not":
        return not truth(node[1], present)
    left, right = truth(node[1], present), truth(node[2], present)
    return (left and right) if kind == "and" else (left or right)


@SETTINGS
@given(trees(), st.sets(st.sampled_from(ATOMS)), st.lists(st.booleans(), min_size=64, max_size=64))
def test_random_trees_evaluate_like_python(tree, present, coins):
    extra = iter(coins + [False] * 1000)
    text = render(tree, extra)
    item = {atom: {"S": "x"} for atom in present}
    assert holds(text, item) is truth(tree, present)


# ---- parsing never crashes -----------------------------------------------------------------------

NAMES = st.sampled_from(["attr_a", "attr_b", "#n", "#m", "x1", "y_2"])


@st.composite
def paths(draw):
    text = draw(NAMES)
    for _ in range(draw(st.integers(0, 3))):
        text += draw(st.sampled_from([".attr_c", ".#n", "[0]", "[12]"]))
    return text


@st.composite
def operands(draw):
    kind = draw(st.sampled_from(["path", "value", "size"]))
    if kind == "value":
        return draw(st.sampled_from([":v", ":w"]))
    if kind == "size":
        return f"size({draw(paths())})"
    return draw(paths())


@st.composite
def simple_conditions(draw):
    kind = draw(st.sampled_from(["cmp", "between", "in", "fn"]))
    if kind == "cmp":
        return f"{draw(operands())} {draw(st.sampled_from(['=', '<>', '<', '<=', '>', '>=']))} {draw(operands())}"
    if kind == "between":
        return f"{draw(operands())} BETWEEN {draw(operands())} AND {draw(operands())}"
    if kind == "in":
        return f"{draw(operands())} IN ({', '.join(draw(st.lists(operands(), min_size=1, max_size=4)))})"
    fn = draw(st.sampled_from(["attribute_exists", "attribute_not_exists", "begins_with", "contains",
                               "attribute_type"]))
    if fn.startswith("attribute_") and fn != "attribute_type":
        return f"{fn}({draw(paths())})"
    return f"{fn}({draw(paths())}, {draw(operands())})"


@st.composite
def conditions(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        return draw(simple_conditions())
    kind = draw(st.sampled_from(["and", "or", "not", "paren"]))
    if kind == "not":
        return f"NOT ({draw(conditions(depth + 1))})"
    if kind == "paren":
        return f"({draw(conditions(depth + 1))})"
    return f"{draw(conditions(depth + 1))} {kind.upper()} {draw(conditions(depth + 1))}"


@SETTINGS
@given(conditions())
def test_well_formed_conditions_parse(text):
    try:
        ast = ex.parse_condition_expression(text)
    except ValidationException as e:          # only "((...))" may be refused
        assert "redundant parentheses" in e.message, (text, e.message)
        return
    values = {":v": {"S": "T"}, ":w": {"S": "S"}}
    try:
        ex.validate_expression(ast, {"#n": "n", "#m": "m"}, values)
    except ValidationException as e:          # static checks on the values / paths
        assert e.message.startswith("Invalid ConditionExpression: "), e.message
        return
    assert isinstance(ex.evaluate_condition(ast, {"attr_a": {"S": "x"}}, {"#n": "n", "#m": "m"}, values), bool)


@st.composite
def updates(draw):
    clauses = []
    for keyword in draw(st.permutations(["SET", "REMOVE", "ADD", "DELETE"]))[:draw(st.integers(1, 4))]:
        n = draw(st.integers(1, 3))
        if keyword == "SET":
            actions = [f"{draw(paths())} = {draw(st.sampled_from([':v', 'attr_b + :w', 'if_not_exists(x1, :v)', 'list_append(attr_a, :v)', '(y_2 - :w)']))}" for _ in range(n)]
        elif keyword == "REMOVE":
            actions = [draw(paths()) for _ in range(n)]
        else:
            actions = [f"{draw(paths())} {draw(st.sampled_from([':v', ':w']))}" for _ in range(n)]
        clauses.append(f"{keyword} {', '.join(actions)}")
    return " ".join(clauses)


@SETTINGS
@given(updates())
def test_well_formed_updates_parse(text):
    ast = ex.parse_update_expression(text)
    assert ast.label == ex.UPDATE and ast.clauses


EXPRESSION_ALPHABET = string.ascii_letters[:6] + "0123 #:_.,()[]=<>+-!\"'" + "ANDORNOTSETIN"


@SETTINGS
@given(st.text(alphabet=EXPRESSION_ALPHABET, min_size=0, max_size=30),
       st.sampled_from([ex.CONDITION, ex.FILTER, ex.KEY_CONDITION, ex.UPDATE, ex.PROJECTION]))
def test_random_text_parses_or_raises_validation_exception(text, label):
    try:
        ex.parse_expression(label, text)
    except ValidationException as e:
        assert e.message.startswith(f"Invalid {label}: "), e.message


@SETTINGS
@given(st.text(alphabet=EXPRESSION_ALPHABET, min_size=1, max_size=30))
def test_syntax_error_near_text_is_part_of_the_expression(text):
    try:
        ex.parse_condition_expression(text)
    except ValidationException as e:
        if "Syntax error" in e.message:
            near = e.message.split('near: "', 1)[1][:-1]
            assert near in text


# ---- updates against Python models -------------------------------------------------------------


@SETTINGS
@given(st.lists(st.integers(0, 9), min_size=0, max_size=8),
       st.sets(st.integers(0, 12), min_size=1, max_size=5))
def test_remove_list_elements_uses_old_positions(elements, indexes):
    item = {"l": {"L": [{"N": str(e)} for e in elements]}}
    expr = "REMOVE " + ", ".join(f"l[{i}]" for i in sorted(indexes))
    new_item, _, _ = ex.apply_update(ex.parse_update_expression(expr), item)
    expected = [e for i, e in enumerate(elements) if i not in indexes]
    assert new_item["l"]["L"] == [{"N": str(e)} for e in expected]


@SETTINGS
@given(st.lists(st.integers(0, 9), min_size=0, max_size=5), st.sets(st.integers(0, 12), min_size=1, max_size=4))
def test_set_list_elements_replace_or_append_in_index_order(elements, indexes):
    item = {"l": {"L": [{"N": str(e)} for e in elements]}}
    values = {f":v{i}": {"S": f"v{i}"} for i in indexes}
    expr = "SET " + ", ".join(f"l[{i}] = :v{i}" for i in indexes)
    new_item, _, _ = ex.apply_update(ex.parse_update_expression(expr), item, None, values)
    expected = [{"N": str(e)} for e in elements]
    for i in sorted(indexes):
        if i < len(elements):
            expected[i] = {"S": f"v{i}"}
        else:
            expected.append({"S": f"v{i}"})
    assert new_item["l"]["L"] == expected


@SETTINGS
@given(st.sets(st.text(min_size=1, max_size=3), min_size=1, max_size=5),
       st.sets(st.text(min_size=1, max_size=3), min_size=1, max_size=5))
def test_add_and_delete_are_set_union_and_difference(current, operand):
    item = {"s": {"SS": sorted(current)}}
    values = {":v": {"SS": sorted(operand)}}
    added, _, _ = ex.apply_update(ex.parse_update_expression("ADD s :v"), item, None, values)
    assert set(added["s"]["SS"]) == current | operand
    deleted, _, _ = ex.apply_update(ex.parse_update_expression("DELETE s :v"), item, None, values)
    if current - operand:
        assert set(deleted["s"]["SS"]) == current - operand
    else:
        assert "s" not in deleted


@SETTINGS
@given(st.dictionaries(st.sampled_from(["attr_a", "attr_b", "x1", "y_2"]),
                       st.sampled_from([{"S": "s"}, {"N": "1"}, {"L": [{"S": "e"}]}, {"M": {"k": {"N": "2"}}}]),
                       min_size=1))
def test_projecting_every_attribute_returns_the_item(item):
    ast = ex.parse_projection_expression(", ".join(sorted(item)))
    assert ex.project(item, ast) == item


# ---- reserved words ------------------------------------------------------------------------------


def test_every_reserved_word_is_refused_as_a_bare_name():
    for word in sorted(ex.RESERVED_WORDS):
        for written in (word, word.lower(), word.capitalize()):
            with pytest.raises(ValidationException) as info:
                ex.parse_condition_expression(f"{written} = :v")
            if word in KEYWORDS:
                assert "Syntax error" in info.value.message
            else:
                assert info.value.message == (
                    f"Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: {written}")
        # ... and accepted through a placeholder.
        assert holds("#w = :v", {word: {"S": "x"}}, {":v": {"S": "x"}}, {"#w": word}) is True
