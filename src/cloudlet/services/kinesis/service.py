"""The Kinesis ``Service`` object, apart from ``__init__`` so handler modules can import it."""

from cloudlet.services.base import Service

# Kinesis's JSON errors carry the bare shape name as ``__type`` ("ResourceNotFoundException").
service = Service("kinesis", error_type_prefix="")
