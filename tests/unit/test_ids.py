"""Ids the server makes up (request ids, message ids)."""

from __future__ import annotations


def test_new_id_is_a_version_4_uuid():
    import uuid

    from cloudlet.services.base import new_id

    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in list(ids)[:200]:
        u = uuid.UUID(text)
        assert str(u) == text and u.version == 4 and u.variant == uuid.RFC_4122
