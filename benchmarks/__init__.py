"""cloudlet's benchmark suite: raw HTTP/1.1 load with real SigV4, never boto3 in the timed loop."""


def select_workloads(values: list[str] | None, available) -> tuple[list[str], list[str]]:
    """``--workload`` values (repeatable, comma-separated, "all" or none for all) as
    (names in order, the unknown ones)."""
    names = [n for arg in values or ["all"] for n in arg.split(",") if n]
    if "all" in names:
        names = list(available)
    return names, [n for n in names if n not in available]
