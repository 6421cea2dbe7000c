"""Property-based checks against small reference models written here:

- random items and random condition expressions: cloudlet's ConditionExpression
  outcome (a conditional PutItem succeeding or not) equals a reference evaluator;
- random sort keys (numbers, strings, binaries) come back from Query in
  DynamoDB's order across pages of random size, in both directions.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

# ---------------------------------------------------------------- reference evaluator

ATTRS = ["a", "b", "c"]
scalar = st.one_of(
    st.integers(-5, 5).map(lambda i: {"N": str(i)}),
    st.sampled_from(["", "x", "xy", "y"]).map(lambda s: {"S": s}),
    st.booleans().map(lambda b: {"BOOL": b}),
)
item_st = st.dictionaries(st.sampled_from(ATTRS), scalar, max_size=3)


def _key(v):
    (t, x), = v.items()
    return (t, Decimal(x) if t == "N" else x)


def ref_compare(op, left, right):
    if left is None or right is None:
        return op == "<>"
    if op in ("=", "<>"):
        eq = _key(left) == _key(right)
        return eq if op == "=" else not eq
    (lt, lv), (rt, rv) = _key(left), _key(right)
    if lt != rt or lt not in ("N", "S"):
        return False
    return {"<": lv < rv, "<=": lv <= rv, ">": lv > rv, ">=": lv >= rv}[op]


@st.composite
def conditions(draw, depth=0):
    """(expression text, values, reference predicate)."""
    kind = draw(st.sampled_from(["cmp", "exists", "not_exists", "begins", "between"] +
                                (["and", "or", "not"] if depth < 2 else [])))
    n = draw(st.integers(0, 10**6))
    v = f":v{n}"
    a = draw(st.sampled_from(ATTRS))
    if kind == "cmp":
        op = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
        # AWS refuses ordering a BOOL value at validation time; only N/S there.
        val = draw(scalar if op in ("=", "<>") else scalar.filter(lambda x: "BOOL" not in x))
        return f"{a} {op} {v}", {v: val}, lambda item: ref_compare(op, item.get(a), val)
    if kind == "exists":
        return f"attribute_exists({a})", {}, lambda item: a in item
    if kind == "not_exists":
        return f"attribute_not_exists({a})", {}, lambda item: a not in item
    if kind == "begins":
        val = {"S": draw(st.sampled_from(["", "x", "y"]))}
        return (f"begins_with({a}, {v})", {v: val},
                lambda item: "S" in item.get(a, {}) and item[a]["S"].startswith(val["S"]))
    if kind == "between":
        lo, hi = sorted([draw(st.integers(-5, 5)), draw(st.integers(-5, 5))])
        w = f":w{n}"
        return (f"{a} BETWEEN {v} AND {w}", {v: {"N": str(lo)}, w: {"N": str(hi)}},
                lambda item: "N" in item.get(a, {}) and lo <= Decimal(item[a]["N"]) <= hi)
    if kind == "not":
        text, vals, f = draw(conditions(depth + 1))
        return f"NOT ({text})", vals, lambda item: not f(item)
    t1, v1, f1 = draw(conditions(depth + 1))
    t2, v2, f2 = draw(conditions(depth + 1))
    if set(v1) & set(v2):
        return t1, v1, f1
    if kind == "and":
        return f"({t1}) AND ({t2})", {**v1, **v2}, lambda item: f1(item) and f2(item)
    return f"({t1}) OR ({t2})", {**v1, **v2}, lambda item: f1(item) or f2(item)


@pytest.fixture(scope="module")
def cond_table(server):
    from tests.conftest import make_client
    import uuid
    c = make_client("dynamodb", server.url)
    name = f"prop-{uuid.uuid4().hex[:8]}"
    c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    c.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    yield c, name
    c.delete_table(TableName=name)


@SETTINGS
@given(item=item_st, cond=conditions())
def test_conditions_agree_with_reference(cond_table, item, cond):
    c, name = cond_table
    text, values, predicate = cond
    key = {"pk": {"S": "k"}}
    c.put_item(TableName=name, Item={**key, **item})
    kwargs = {"ConditionExpression": text}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    try:
        c.put_item(TableName=name, Item={**key, "marker": {"S": "written"}}, **kwargs)
        ok = True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ConditionalCheckFailedException", e.response["Error"]
        ok = False
    assert ok == predicate(item), (text, values, item)
    stored = c.get_item(TableName=name, Key=key)["Item"]
    assert ("marker" in stored) == ok


# ---------------------------------------------------------------- key order

sort_keys = st.one_of(
    st.lists(st.decimals(min_value=-10**9, max_value=10**9, places=3, allow_nan=False), min_size=1, max_size=40,
             unique_by=lambda d: d.normalize()).map(lambda xs: ("N", xs)),
    st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=40, unique=True).map(lambda xs: ("S", xs)),
    st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=40, unique=True).map(lambda xs: ("B", xs)),
)


def _order(t, x):
    return Decimal(x) if t == "N" else x.encode("utf-8", "surrogatepass") if t == "S" else x


@SETTINGS
@given(keys=sort_keys, page=st.integers(1, 15), forward=st.booleans())
def test_query_returns_dynamodb_order_across_pages(server, keys, page, forward):
    from tests.conftest import make_client
    import uuid
    t, values = keys
    c = make_client("dynamodb", server.url)
    name = f"ord-{uuid.uuid4().hex[:8]}"
    c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": t}])
    c.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    wire = [str(v) if t == "N" else v for v in values]
    for start in range(0, len(wire), 25):
        c.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {t: v}}}}
                                                for v in wire[start:start + 25]]})
    got, kwargs = [], {}
    while True:
        r = c.query(TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
                    Limit=page, ScanIndexForward=forward, **kwargs)
        got += [i["sk"][t] for i in r["Items"]]
        if "LastEvaluatedKey" not in r:
            break
        kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]
    expected = sorted(wire, key=lambda v: _order(t, v), reverse=not forward)
    if t == "N":
        assert [Decimal(x) for x in got] == [Decimal(x) for x in expected]
    else:
        assert got == expected
    c.delete_table(TableName=name)
