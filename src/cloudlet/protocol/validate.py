"""Placeholder: the model-driven validator is being written (see Violation below)."""
from __future__ import annotations
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True, frozen=True)
class Violation:
    """One failed constraint. ``path`` is AWS's lowerCamel path ('queueUrl',
    'keySchema.1.member.attributeName'); ``member`` the model member name ('QueueUrl');
    ``kind`` one of required, type, enum, length, range, pattern, list_length, map_length;
    ``constraint`` AWS's text ('Member must not be null'); ``value`` the offending value."""

    path: str
    member: str
    kind: str
    constraint: str
    value: Any
