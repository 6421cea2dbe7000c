"""Server settings, frozen once parsed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: str = ".cloudlet"
    in_memory: bool = False
    default_account: str = "000000000000"
    log_level: str = "info"
    # Kinesis per-shard throughput limits (ProvisionedThroughputExceededException), off by default.
    kinesis_throttle: bool = False
