"""A plain per-line SWF reader, written from the normalisation rules alone, to check ``read_swf``."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

HEADER = re.compile(r";\s*([A-Z]\w*):(.*)")


@dataclass
class ReferenceJob:
    job_id: int
    submit_s: float
    work_s: float
    requested_s: float
    size: int
    partition: str
    user: int
    group: int


@dataclass
class ReferenceTrace:
    jobs: list[ReferenceJob]
    partition_names: tuple[str, ...]
    header: dict[str, str]
    capacity: int
    capacity_source: str
    skipped: dict[str, int]
    capped: int
    records: int


def read_reference(path: Path) -> ReferenceTrace:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    header: dict[str, str] = {}
    declared: dict[int, str] = {}
    records: list[list[float]] = []
    for line in raw.split(b"\n"):
        text = line.strip()
        if not text:
            continue
        if text.startswith(b";"):
            match = HEADER.fullmatch(text.decode())
            if match:
                key, value = match.group(1), match.group(2).strip()
                header.setdefault(key, value)
                parts = value.split(None, 1)
                if key == "Partition" and len(parts) == 2 and re.fullmatch(r"-?\d+", parts[0]):
                    declared.setdefault(int(parts[0]), parts[1].strip())
            continue
        fields = [float(token) for token in text.split()]
        assert len(fields) == 18
        records.append(fields)
    kept = []
    skipped = {"run<=0": 0, "size<=0": 0}
    for f in records:
        size = int(f[4]) if f[4] > 0 else int(f[7])
        if f[3] <= 0:
            skipped["run<=0"] += 1
        elif size <= 0:
            skipped["size<=0"] += 1
        else:
            kept.append((f, size))
    capacity, source = 0, "largest size"
    for key in ("MaxProcs", "MaxNodes"):
        token = header.get(key, "").split()[:1]
        if token and re.fullmatch(r"\d+", token[0]) and int(token[0]) > 0:
            capacity, source = int(token[0]), key
            break
    else:
        capacity = max((size for _, size in kept), default=1)
    numbers = sorted({int(f[15]) for f, _ in kept})
    names: list[str] = []
    for number in numbers:
        name = declared.get(number, "unknown" if number == -1 else str(number))
        if name not in names:
            names.append(name)
    jobs = [
        ReferenceJob(
            job_id=int(f[0]),
            submit_s=f[1],
            work_s=f[3],
            requested_s=f[3] if f[8] < 0 else max(f[8], f[3]),
            size=min(size, capacity),
            partition=declared.get(int(f[15]), "unknown" if f[15] == -1 else str(int(f[15]))),
            user=int(f[11]),
            group=int(f[12]),
        )
        for f, size in kept
    ]
    jobs.sort(key=lambda job: (job.submit_s, job.job_id))
    return ReferenceTrace(
        jobs=jobs,
        partition_names=tuple(names) or ("unknown",),
        header=header,
        capacity=capacity,
        capacity_source=source,
        skipped=skipped,
        capped=sum(1 for _, size in kept if size > capacity),
        records=len(records),
    )
