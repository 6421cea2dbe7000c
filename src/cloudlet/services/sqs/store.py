"""SQS state in the ordered key-value store.

Every key starts ``("sqs", <kind>, account, region, ...)``:

    ("sqs", "queue", acct, region, name)             -> queue record
    ("sqs", "deleted", acct, region, name)           -> deletion time (QueueDeletedRecently)
    ("sqs", "task", acct, region, task_id)           -> message move task record
    ("sqs", "data", acct, region, name, ...)          per-queue data, dropped as one range:
        ("n",)                      next message seq (data written before seqs came from the clock)
        ("m", seq)                  message record
        ("v", visible_at_ms, seq)   standard: visibility index, b"a" available, b"d" delayed,
                                    b"f" in flight
        ("t", enqueued_ms, seq)     retention index, only for messages whose seq does not tell
                                    when their retention started (see below)
        ("g", group, seq)           FIFO: the messages of a group, in order
        ("o", head_visible_at, head_seq, group)  FIFO: each non-empty group, keyed by when its
                                    oldest message became (or becomes) receivable
        ("d", scope, dedup_id)      FIFO: deduplication record (scope = group or "")
        ("e", expires_ms, scope, dedup_id)  FIFO: deduplication expiry index
        ("a", attempt_id)           FIFO: ReceiveRequestAttemptId record

A standard receive is one range scan of the visibility index up to now; a FIFO
receive walks the receivable group heads (visible_at <= now) in the order they became
receivable, and within a group the messages in order up to the first invisible one.
FIFO queues have no visibility index: only a head can become receivable, so "o" is
all a receive or a long-poll wake-up needs, and each index entry a receive and a
delete do not write is a B-tree update saved (a fifth of the SQLite store's time).

That is the order AWS hands FIFO groups out in: a group whose messages came back
from a receive (visibility timeout ended or set to 0) goes behind groups that were
waiting, and a group whose oldest message is visible again is receivable even while
a later message of it is still in flight (LocalStack's AWS-validated tests
test_fifo_receive_message_with_zero_visibility_timeout,
test_fifo_receive_message_visibility_timeout_shared_in_group,
test_fifo_message_group_visibility_after_terminate_visibility_timeout). A message in
flight at the head of its group blocks the group.
Neither reads more than it hands out plus what it drops on the way (expired or
redriven messages), so both stay cheap with any number of messages queued.

A message's seq is max(the queue's last seq + 1, the clock in microseconds): strictly
increasing, kept in memory (the first send of a queue in a process reads its highest
stored seq), so a send writes no counter. The clock floor keeps seqs (and FIFO
sequence numbers) increasing across restarts even when the newest messages were
deleted.

So a sent message's seq is also when its retention started: ``seq // 1000`` is its
sent_ms (unless more than 1,000 messages went into the queue in one millisecond, or
the clock was set back). The retention sweep reads the message records in seq order
up to the cutoff; only a message for which ``seq // 1000`` is not where its retention
started (``retention_indexed``: moved in from another queue, or one of those rare
cases) also gets a ("t", ...) entry. Its retention always starts no later than
``seq // 1000``, so every record the seq scan reaches has expired.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from cloudlet.services.base import new_id
from cloudlet.storage.codec import dumps, loads
from cloudlet.storage.keys import int_elem, pack, pack_remembered, str_elem
from cloudlet.services.sqs.message import (
    Message,
    enqueued,
    md5_hex,
    md5_of_attributes,
    retention_indexed,
    sequence_number,
    vis_flag,
)
from cloudlet.services.sqs.models import DEDUP_WINDOW_SECONDS, Queue

SWEEP_BATCH = 1000  # expired messages dropped per sweep call
# Seqs below this (2001-09-09 in clock microseconds) are counters of data written
# before seqs came from the clock; those messages all have retention entries.
CLOCK_SEQS = 10**15


def queue_key(account: str, region: str, name: str) -> tuple:
    return ("sqs", "queue", account, region, name)


def deleted_key(account: str, region: str, name: str) -> tuple:
    return ("sqs", "deleted", account, region, name)


def task_key(account: str, region: str, task_id: str) -> tuple:
    return ("sqs", "task", account, region, task_id)


def data_prefix(account: str, region: str, name: str) -> tuple:
    return ("sqs", "data", account, region, name)


# ---------------------------------------------------------------- queues

# stored queue record (bytes) -> its decoded dict: every request loads its queue, and
# decoding the record was 5% of a SendMessage
_RECORDS: dict[bytes, dict] = {}


def load_queue(tx, account: str, region: str, name: str) -> Queue | None:
    raw = tx.get(pack_remembered(queue_key(account, region, name)))
    if raw is None:
        return None
    record = _RECORDS.get(raw)
    if record is None:
        if len(_RECORDS) >= 1024:
            _RECORDS.clear()
        record = _RECORDS[raw] = loads(raw)
    return Queue.from_record(record)


def save_queue(tx, queue: Queue) -> None:
    tx.put(queue_key(queue.account, queue.region, queue.name), dumps(queue.to_record()))


def list_queues(tx, account: str, region: str, prefix: str = "", after: str | None = None,
                limit: int | None = None) -> Iterator[Queue]:
    start = queue_key(account, region, after + "\x00") if after is not None else queue_key(account, region, prefix)
    for _, raw in tx.range(start, None, prefix=("sqs", "queue", account, region)):
        queue = Queue.from_record(loads(raw))
        if not queue.name.startswith(prefix):
            if queue.name > prefix:
                return
            continue
        yield queue
        if limit is not None:
            limit -= 1
            if limit <= 0:
                return


def all_queues(tx) -> Iterator[Queue]:
    """Every queue of every account and region (for background sweeps)."""
    for _, raw in tx.range(prefix=("sqs", "queue")):
        yield Queue.from_record(loads(raw))


def delete_queue(tx, queue: Queue, now: float) -> None:
    tx.delete(queue_key(queue.account, queue.region, queue.name))
    tx.delete_range(prefix=data_prefix(queue.account, queue.region, queue.name))
    tx.put(deleted_key(queue.account, queue.region, queue.name), dumps(now))


def deleted_at(tx, account: str, region: str, name: str) -> float | None:
    raw = tx.get(deleted_key(account, region, name))
    return loads(raw) if raw is not None else None


# ---------------------------------------------------------------- one queue's messages

# queue data prefix -> the last seq this process gave a message there (see the module docstring)
_LAST_SEQ: dict[tuple, int] = {}


@functools.lru_cache(maxsize=1024)
def _tag_prefixes(pp: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    """The packed prefixes of a queue's "m", "v", "t", "g" and "o" keys."""
    return tuple(pp + pack((tag,)) for tag in "mvtgo")


class QueueData:
    """The messages of one queue inside one transaction."""

    __slots__ = ("tx", "queue", "p", "pp", "heads", "headless", "pm", "pv", "pt", "pg", "po")

    def __init__(self, tx, queue: Queue):
        self.tx = tx
        self.queue = queue
        # FIFO: group -> seq of its head, as far as this transaction has seen ("o" keys it
        # read or wrote), so most head checks need no read
        self.heads: dict[str, int] = {}
        self.headless: set[str] | None = None  # FIFO groups whose head is to be found (defer_heads)
        self.p = data_prefix(queue.account, queue.region, queue.name)
        self.pp = pack_remembered(self.p)
        self.pm, self.pv, self.pt, self.pg, self.po = _tag_prefixes(self.pp)

    def k(self, *parts) -> bytes:
        """The packed key of ``self.p + parts`` (the queue's prefix is packed once)."""
        return self.pp + pack(parts)

    # The keys every send, receive and delete writes, built by concatenation:
    # k("m", seq), k("v", at, seq), k("t", at, seq), k("g", group, seq), k("o", at, seq, group).
    def km(self, seq: int) -> bytes:
        return self.pm + int_elem(seq)

    def kv(self, at: int, seq: int) -> bytes:
        return self.pv + int_elem(at) + int_elem(seq)

    def kt(self, at: int, seq: int) -> bytes:
        return self.pt + int_elem(at) + int_elem(seq)

    def kg(self, group: str, seq: int | None = None) -> bytes:
        return self.pg + str_elem(group) + (b"" if seq is None else int_elem(seq))

    def ko(self, at: int, seq: int, group: str) -> bytes:
        return self.po + int_elem(at) + int_elem(seq) + str_elem(group)

    # -- records ---------------------------------------------------------------
    def next_seq(self, now_ms: int) -> int:
        last = _LAST_SEQ.get(self.p)
        if last is None:
            last = self._stored_last_seq()
        seq = max(last + 1, now_ms * 1000)
        _LAST_SEQ[self.p] = seq
        return seq

    def _stored_last_seq(self) -> int:
        top = next(iter(self.tx.range(prefix=self.k("m",), reverse=True, limit=1)), None)
        last = top[0][-1] if top is not None else 0
        raw = self.tx.get(self.k("n",))  # the counter of data written by earlier versions
        return max(last, int(raw) - 1) if raw is not None else last

    def get(self, seq: int) -> Message | None:
        raw = self.tx.get(self.km(seq))
        return Message.from_record(loads(raw)) if raw is not None else None

    def _put_record(self, msg: Message) -> None:
        self.tx.put(self.km(msg.seq), dumps(msg.to_record()))

    # -- insert / remove -------------------------------------------------------
    def insert(self, msg: Message) -> None:
        """Store a new message (its ``seq`` from ``next_seq``) with all its index entries."""
        tx = self.tx
        self._put_record(msg)
        if not self.queue.fifo:
            tx.put(self.kv(msg.visible_at, msg.seq), vis_flag(msg))
        if retention_indexed(msg):
            tx.put(self.kt(enqueued(msg), msg.seq), b"")
        if self.queue.fifo:
            group = msg.group
            empty = group not in self.heads and next(iter(tx.range(prefix=self.kg(group), limit=1)), None) is None
            tx.put(self.kg(group, msg.seq), b"")
            if empty:
                tx.put(self.ko(msg.visible_at, msg.seq, group), b"")
                self.heads[group] = msg.seq

    def remove(self, msg: Message) -> None:
        tx, se, at = self.tx, int_elem(msg.seq), int_elem(msg.visible_at)
        tx.delete(self.pm + se)
        if not self.queue.fifo:
            tx.delete(self.pv + at + se)
        if retention_indexed(msg):
            tx.delete(self.pt + int_elem(enqueued(msg)) + se)
        if self.queue.fifo:
            group = msg.group
            ge = str_elem(group)
            tx.delete(self.pg + ge + se)
            if self._is_head(group, msg.seq, self.po + at + se + ge):
                tx.delete(self.po + at + se + ge)
                del self.heads[group]
                if self.headless is not None:
                    self.headless.add(group)
                else:
                    self._set_head(group)

    def _is_head(self, group: str, seq: int, head_key: bytes) -> bool:
        """Is message ``seq`` the head of ``group`` (is ``head_key``, its "o" key, stored)?"""
        known = self.heads.get(group)
        if known is not None:
            return known == seq
        if self.headless is not None and group in self.headless:
            return False  # its head went in this batch; the next is indexed at settle_heads
        if self.tx.get(head_key) is None:
            return False
        self.heads[group] = seq
        return True

    def _set_head(self, group: str) -> None:
        """Index the oldest message of ``group`` (if any) as its head."""
        nxt = next(iter(self.tx.range(prefix=self.kg(group), limit=1)), None)
        if nxt is not None:
            following = self.get(nxt[0][-1])
            if following is not None:
                self.tx.put(self.ko(following.visible_at, following.seq, group), b"")
                self.heads[group] = following.seq

    def defer_heads(self) -> None:
        """FIFO: from now on ``remove`` leaves a group whose head it took without a
        head until ``settle_heads`` (a batch of deletes in one group, the usual
        consumer, then looks for the new head once instead of once per message).
        Only for a caller that does nothing but remove messages until it settles."""
        if self.queue.fifo:
            self.headless = set()

    def settle_heads(self) -> None:
        if self.headless:
            for group in self.headless:
                self._set_head(group)
        self.headless = None

    def set_visible_at(self, msg: Message, visible_at: int) -> None:
        """Move ``msg`` in the visibility index, or if it heads a FIFO group its
        head entry (its record is written too)."""
        tx, se, old, new = self.tx, int_elem(msg.seq), int_elem(msg.visible_at), int_elem(visible_at)
        msg.visible_at = visible_at
        if self.queue.fifo:
            ge = str_elem(msg.group)
            if self._is_head(msg.group, msg.seq, self.po + old + se + ge):
                tx.delete(self.po + old + se + ge)
                tx.put(self.po + new + se + ge, b"")
        else:
            tx.delete(self.pv + old + se)
            tx.put(self.pv + new + se, vis_flag(msg))
        tx.put(self.pm + se, dumps(msg.to_record()))

    # -- sending -----------------------------------------------------------------
    def new_message(self, body: str, attrs: dict, trace: str | None, sender: str, now_ms: int, delay: int,
                    group: str | None, dedup: str | None, message_id: str | None = None) -> Message:
        seq = self.next_seq(now_ms)
        msg = Message(
            seq=seq, id=message_id or new_id(), body=body, md5_body=md5_hex(body.encode()),
            attrs=attrs, md5_attrs=md5_of_attributes(attrs), trace=trace,
            md5_sys=md5_of_attributes({"AWSTraceHeader": {"DataType": "String", "StringValue": trace}})
            if trace else None,
            sent_ms=now_ms, sender=sender, group=group, dedup=dedup,
            seqnum=sequence_number(seq) if self.queue.fifo else None,
            visible_at=now_ms + delay * 1000,
        )
        self.insert(msg)
        return msg

    def insert_moved(self, msg: Message, now_ms: int, dlq_source: str | None, keep_receives: bool) -> Message:
        """A copy of ``msg`` (from another queue) as a new message here, visible now.

        A redrive to the dead-letter queue keeps the receive count (ApproximateReceiveCount
        counts receives "across all queues", API reference ReceiveMessage); a move task
        back out of it starts the count afresh.
        """
        seq = self.next_seq(now_ms)
        moved = Message(
            seq=seq, id=msg.id, body=msg.body, md5_body=msg.md5_body, attrs=msg.attrs, md5_attrs=msg.md5_attrs,
            trace=msg.trace, md5_sys=msg.md5_sys, sent_ms=msg.sent_ms, sender=msg.sender,
            group=msg.group or ("default" if self.queue.fifo else None),
            dedup=msg.dedup if self.queue.fifo else None,
            seqnum=sequence_number(seq) if self.queue.fifo else None,
            visible_at=now_ms, dlq_source=dlq_source,
        )
        if keep_receives:
            moved.receive_count = msg.receive_count
            moved.first_receive_ms = msg.first_receive_ms
        if dlq_source is not None:
            # Retention in a dead-letter queue counts from the original enqueue time
            # for standard queues, from the move for FIFO queues (developer guide,
            # "Setting-up dead-letter queue retention in Amazon SQS").
            moved.enqueued_ms = now_ms if self.queue.fifo else msg.enqueued_ms
        self.insert(moved)
        return moved

    # -- deduplication (FIFO) ------------------------------------------------------
    def dedup_scope(self, group: str | None) -> str:
        return group if self.queue.dedup_per_group and group else ""

    def dedup_record(self, scope: str, dedup_id: str) -> dict | None:
        """The deduplication record of ``dedup_id``, expired or not (``expires`` says)."""
        raw = self.tx.get(self.k("d", scope, dedup_id))
        return loads(raw) if raw is not None else None

    def remember_dedup(self, scope: str, dedup_id: str, msg: Message, now_ms: int, previous: dict | None) -> None:
        """Record ``msg`` under ``dedup_id``, replacing ``previous`` (its expired record, if any)."""
        if previous is not None:
            self.tx.delete(self.k("e", previous["expires"], scope, dedup_id))
        expires = now_ms + DEDUP_WINDOW_SECONDS * 1000
        self.tx.put(self.k("d", scope, dedup_id),
                    dumps({"expires": expires, "id": msg.id, "seqnum": msg.seqnum,
                           "md5_attrs": msg.md5_attrs, "md5_sys": msg.md5_sys}))
        self.tx.put(self.k("e", expires, scope, dedup_id), b"")

    # -- ReceiveRequestAttemptId (FIFO) -------------------------------------------------
    def attempt(self, attempt_id: str, now_ms: int) -> list[tuple[int, str]] | None:
        raw = self.tx.get(self.k("a", attempt_id))
        if raw is None:
            return None
        record = loads(raw)
        if record["expires"] <= now_ms:
            self.tx.delete(self.k("a", attempt_id))
            return None
        return record["items"]

    def remember_attempt(self, attempt_id: str, items: list[tuple[int, str]], now_ms: int) -> None:
        self.tx.put(self.k("a", attempt_id),
                    dumps({"expires": now_ms + DEDUP_WINDOW_SECONDS * 1000, "items": items}))

    # -- housekeeping ----------------------------------------------------------------
    def expired(self, msg: Message, now_ms: int) -> bool:
        return enqueued(msg) + self.queue.retention * 1000 <= now_ms

    def sweep(self, now_ms: int, limit: int = SWEEP_BATCH) -> int:
        """Drop messages past the retention period (at most ``limit`` from each
        index) and expired deduplication records; return how many entries went
        (a caller loops while that is ``limit`` or more)."""
        removed = 0
        k = self.k
        if self.queue.fifo and next(iter(self.tx.range(prefix=self.pv, limit=1)), None) is not None:
            # left by versions that kept a visibility index for FIFO queues too
            self.tx.delete_range(prefix=self.p + ("v",))
        cutoff = now_ms - self.queue.retention * 1000
        for key, _ in list(self.tx.range(None, self.pt + int_elem(cutoff + 1), prefix=self.pt, limit=limit)):
            self.tx.delete(key)  # an entry left by an older data format may outlive its message
            msg = self.get(key[-1])
            if msg is not None:
                self.remove(msg)
            removed += 1
        for _, raw in list(self.tx.range(k("m", CLOCK_SEQS), k("m", (cutoff + 1) * 1000), prefix=self.pm,
                                                limit=limit)):
            msg = Message.from_record(loads(raw))
            if enqueued(msg) <= cutoff:  # always, but a record is checked before it goes
                self.remove(msg)
            removed += 1
        if self.queue.fifo:
            for key, _ in list(self.tx.range(self.k("e",), self.k("e", now_ms + 1), prefix=self.k("e",),
                                                    limit=limit)):
                _, scope, dedup_id = key[-3:]
                dkey = self.k("d", scope, dedup_id)
                raw = self.tx.get(dkey)
                if raw is not None and loads(raw)["expires"] <= now_ms:
                    self.tx.delete(dkey)
                self.tx.delete(key)
        return removed

    def counts(self, now_ms: int) -> tuple[int, int, int]:
        """(available, in flight, delayed)."""
        visible = inflight = delayed = 0
        if self.queue.fifo:  # no visibility index: the records say
            for _, raw in self.tx.range(prefix=self.pm):
                msg = Message.from_record(loads(raw))
                if msg.visible_at <= now_ms:
                    visible += 1
                elif msg.nonce is not None:
                    inflight += 1
                else:
                    delayed += 1
            return visible, inflight, delayed
        for key, flag in self.tx.range(prefix=self.pv):
            if key[-2] <= now_ms:
                visible += 1
            elif flag == b"f":
                inflight += 1
            else:
                delayed += 1
        return visible, inflight, delayed

    def next_change(self, now_ms: int) -> int | None:
        """When a message next becomes receivable (a delay or visibility timeout ending;
        in a FIFO queue only a group's head can), for long-poll sleeps."""
        index = self.po if self.queue.fifo else self.pv
        nxt = next(iter(self.tx.range(index + int_elem(now_ms + 1), None, prefix=index, limit=1)), None)
        return nxt[0][len(self.p) + 1] if nxt is not None else None  # the time after the tag

    def purge(self) -> None:
        # seqs go on rising without a stored counter (the clock floor, _LAST_SEQ)
        self.tx.delete_range(prefix=self.p)

    # -- receiving -----------------------------------------------------------------------
    def deliver(self, msg: Message, now_ms: int, visibility_ms: int, nonce: str) -> None:
        msg.receive_count += 1
        if msg.first_receive_ms is None:
            msg.first_receive_ms = now_ms
        msg.nonce = nonce
        msg.receipt_ms = now_ms
        self.set_visible_at(msg, now_ms + visibility_ms)

    def candidates(self, now_ms: int) -> Iterator[Message]:
        """Standard queue: receivable messages, oldest visible_at first. Lazy: a
        receive of 10 reads about 10 index entries, whatever the queue holds (a range
        is a snapshot, so re-keying delivered messages does not disturb it)."""
        for key, _ in self.tx.range(None, self.pv + int_elem(now_ms + 1), prefix=self.pv):
            msg = self.get(key[-1])
            if msg is None:  # an index entry without its record: drop it
                self.tx.delete(key)
                continue
            yield msg

    def groups(self, now_ms: int) -> Iterator[str]:
        """FIFO queue: groups whose oldest message is receivable now, in the order they
        became receivable (see the module docstring)."""
        heads = self.heads
        for key, _ in self.tx.range(None, self.po + int_elem(now_ms + 1), prefix=self.po):
            group = key[-1]
            heads[group] = key[-2]
            yield group

    def group_messages(self, group: str) -> Iterator[Message]:
        """FIFO: the messages of a group in order (read lazily as the caller goes)."""
        for key, _ in self.tx.range(prefix=self.kg(group)):
            msg = self.get(key[-1])
            if msg is None:
                self.tx.delete(key)
                continue
            yield msg

    def available(self, now_ms: int) -> Iterator[Message]:
        """Messages that are neither delayed nor in flight, in order (for message move tasks)."""
        if not self.queue.fifo:
            yield from self.candidates(now_ms)
            return
        for group in list(self.groups(now_ms)):
            for msg in self.group_messages(group):
                if msg.visible_at > now_ms:
                    break
                yield msg


# ---------------------------------------------------------------- message move tasks

def load_task(tx, account: str, region: str, task_id: str) -> dict | None:
    raw = tx.get(task_key(account, region, task_id))
    return loads(raw) if raw is not None else None


def save_task(tx, task: dict) -> None:
    tx.put(task_key(task["account"], task["region"], task["id"]), dumps(task))


def tasks(tx, account: str | None = None, region: str | None = None) -> Iterator[dict]:
    prefix = ("sqs", "task") if account is None else ("sqs", "task", account, region)
    for _, raw in tx.range(prefix=prefix):
        yield loads(raw)
