"""Tags (TagResource / UntagResource / ListTagsOfResource) and resource-based
policies (Put/Get/DeleteResourcePolicy), both kept in the table record."""

from __future__ import annotations

import hashlib

from cloudlet.protocol.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.dynamodb.errors import invalid, resource_not_found, table_not_found, validation
from cloudlet.services.dynamodb.schema import check_policy, check_tags, iso, parse_arn, tag_text_ok
from cloudlet.services.dynamodb.service import service
from cloudlet.services.dynamodb.tables import state

MAX_TAGS = 50
MAX_POLICY_BYTES = 20480


def _table_for_arn(ctx: RequestContext, tx, arn: str, op: str, *, stream_ok: bool = False):
    """The table record an ARN names; ``op`` is the tag operation's name, or "policy"."""
    if not arn.startswith("arn:"):
        raise invalid(f"ARNs must start with 'arn:': {arn}")
    parsed = parse_arn(arn)
    if parsed is None:
        raise invalid(f"Provided Arn is not a DynamoDB resource arn: {arn}")
    rest = arn.split(":", 5)[5].split("/")
    if len(rest) > 2 and not (stream_ok and rest[2] == "stream"):
        raise invalid(f"Invalid resource arn provided, only table or stream is accepted. Provided resource arn: {arn}")
    account, region, name = parsed
    # AWS's texts, observed live (ack-api-quirks dynamodb DDB-TABLE-442/446, 2026-10-09): the tag
    # operations name the ARN, the policy operations the table; an ARN of another region is refused
    # by ListTagsOfResource and the policy operations as invalid.
    if region != ctx.region and op in ("ListTagsOfResource", "policy"):
        if op == "policy":
            raise invalid(f"Invalid resource Arn: {arn}")
        raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    got = None
    if account == ctx.account and region == ctx.region:
        got = state(ctx).tables.get(tx, account, region, name)
    if got is None:
        if op == "policy":
            raise table_not_found(name)
        raise resource_not_found(f"Requested resource not found: ResourceArn: {arn} not found")
    record = got[0]
    if len(rest) > 3 and rest[2] == "stream" and record.get("LatestStreamArn") != arn:
        raise resource_not_found(f"Requested resource not found: Stream: {rest[3]} not found for Table: {name}")
    return record


def _save(ctx, tx, record):
    state(ctx).tables.put(tx, ctx.account, ctx.region, record)


@service.operation("TagResource")
def tag_resource(ctx: RequestContext, req: dict) -> dict:
    tags = req["Tags"]
    if not tags:
        raise validation("Atleast one Tag needs to be provided as Input.")
    check_tags(tags)
    with ctx.store.transaction() as tx:
        record = dict(_table_for_arn(ctx, tx, req["ResourceArn"], "TagResource"))
        current = {t["Key"]: t["Value"] for t in record.get("Tags") or ()}
        for t in tags:
            current[t["Key"]] = t["Value"]
        if len(current) > MAX_TAGS:
            raise validation("Number of Tags exceed the current limit for the provided ResourceArn")
        record["Tags"] = [{"Key": k, "Value": v} for k, v in current.items()]
        _save(ctx, tx, record)
    return {}


@service.operation("UntagResource")
def untag_resource(ctx: RequestContext, req: dict) -> dict:
    keys = req["TagKeys"]
    if not keys:
        raise validation("Atleast one Tag Key needs to be provided as Input.")
    for key in keys:
        if not tag_text_ok(key):
            raise validation(f"The Tag Key provided is invalid, Key: {key}")
    if len(keys) > MAX_TAGS:
        raise validation("Number of Tags exceed the current limit for the provided ResourceArn")
    with ctx.store.transaction() as tx:
        record = dict(_table_for_arn(ctx, tx, req["ResourceArn"], "UntagResource"))
        record["Tags"] = [t for t in record.get("Tags") or () if t["Key"] not in set(keys)]
        _save(ctx, tx, record)
    return {}


@service.operation("ListTagsOfResource")
def list_tags_of_resource(ctx: RequestContext, req: dict) -> dict:
    with ctx.store.transaction() as tx:
        record = _table_for_arn(ctx, tx, req["ResourceArn"], "ListTagsOfResource")
    tags = list(record.get("Tags") or ())
    start = int(req["NextToken"]) if (req.get("NextToken") or "").isdigit() else 0
    page = tags[start:start + MAX_TAGS]
    out = {"Tags": page}
    if start + MAX_TAGS < len(tags):
        out["NextToken"] = str(start + MAX_TAGS)
    return out


# ---------------------------------------------------------------- resource policies

# A table's (or stream's) policy changes at most once in 15 s; AWS's ThrottlingException, observed
# live (ack-api-quirks dynamodb DDB-TABLE-445): "Resource-based policy for table <t> modified within
# the previous 15000 milliseconds. Please try again after <ISO time>." (the stream's names its label).
POLICY_COOLDOWN = 15.0


def _cooldown(record: dict, arn: str, now: float) -> dict:
    """The record's last-change times with ``arn``'s set to now, or a ThrottlingException."""
    changed = dict(record.get("_PolicyChangedAt") or {})
    last = changed.get(arn)
    if last is not None and now - last < POLICY_COOLDOWN:
        rest = arn.split(":", 5)[5].split("/")
        what = f"stream {rest[3]}" if len(rest) > 3 else f"table {record['TableName']}"
        raise ServiceError("ThrottlingException",
                           f"Resource-based policy for {what} modified within the previous "
                           f"{int(POLICY_COOLDOWN * 1000)} milliseconds. Please try again after "
                           f"{iso(last + POLICY_COOLDOWN)}Z.")
    changed[arn] = now
    return changed

def _policy_not_found(arn: str, detail: str | None = None) -> ServiceError:
    return ServiceError("PolicyNotFoundException",
                        f"Resource-based policy not found for the provided ResourceArn: {detail or arn}")


def _policies(record: dict) -> dict:
    """Policies by resource ARN (the table's and its streams')."""
    p = dict(record.get("_Policies") or {})
    if record.get("ResourcePolicy"):  # given at CreateTable
        p.setdefault(record["TableArn"], record["ResourcePolicy"])
    return p


@service.operation("PutResourcePolicy")
def put_resource_policy(ctx: RequestContext, req: dict) -> dict:
    arn, policy = req["ResourceArn"], req["Policy"]
    if len(policy.encode()) > MAX_POLICY_BYTES:
        raise invalid(f"Maximum policy size of {MAX_POLICY_BYTES} bytes exceeded")
    check_policy(policy)
    with ctx.store.transaction() as tx:
        record = dict(_table_for_arn(ctx, tx, arn, "policy", stream_ok=True))
        policies = _policies(record)
        current = policies.get(arn)
        expected = req.get("ExpectedRevisionId")
        name = record["TableName"]
        if expected == "NO_POLICY" and current is not None:
            raise _policy_not_found(arn, "Requested policy update expecting none to be present for table "
                                         f"{name}, but a policy exists with revision id {current['RevisionId']}")
        if expected not in (None, "NO_POLICY"):
            if current is None:
                raise _policy_not_found(arn)
            if current["RevisionId"] != expected:
                raise _policy_not_found(arn, f"Requested update for policy with revision id {expected}, but the "
                                             f"policy associated to target table {name} has revision id "
                                             f"{current['RevisionId']}")
        record["_PolicyChangedAt"] = _cooldown(record, arn, ctx.clock.now())
        revision = str(int(ctx.clock.now() * 1000)) + hashlib.md5(policy.encode()).hexdigest()[:8]
        policies[arn] = {"Policy": policy, "RevisionId": revision}
        record["_Policies"] = policies
        record.pop("ResourcePolicy", None)
        state(ctx).tables.put(tx, ctx.account, ctx.region, record)
    return {"RevisionId": revision}


@service.operation("GetResourcePolicy")
def get_resource_policy(ctx: RequestContext, req: dict) -> dict:
    arn = req["ResourceArn"]
    with ctx.store.transaction() as tx:
        record = _table_for_arn(ctx, tx, arn, "policy", stream_ok=True)
    current = _policies(record).get(arn)
    if current is None:
        raise _policy_not_found(arn)
    return {"Policy": current["Policy"], "RevisionId": current["RevisionId"]}


@service.operation("DeleteResourcePolicy")
def delete_resource_policy(ctx: RequestContext, req: dict) -> dict:
    arn = req["ResourceArn"]
    with ctx.store.transaction() as tx:
        record = dict(_table_for_arn(ctx, tx, arn, "policy", stream_ok=True))
        policies = _policies(record)
        current = policies.get(arn)
        if current is None:
            raise _policy_not_found(arn)
        expected = req.get("ExpectedRevisionId")
        if expected is not None and expected != current["RevisionId"]:
            raise _policy_not_found(arn, f"Requested update for policy with revision id {expected}, but the policy "
                                         f"associated to target table {record['TableName']} has revision id "
                                         f"{current['RevisionId']}")
        record["_PolicyChangedAt"] = _cooldown(record, arn, ctx.clock.now())
        del policies[arn]
        record["_Policies"] = policies
        record.pop("ResourcePolicy", None)
        state(ctx).tables.put(tx, ctx.account, ctx.region, record)
    return {"RevisionId": current["RevisionId"]}
