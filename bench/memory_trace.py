"""Run ``case-gateway`` with tracemalloc snapshots written while it serves (bench only).

    python bench/memory_trace.py DIR EVERY -- <gateway.cli arguments>

A thread waits until the file DIR/start exists (made by the benchmark once serve is ready:
start-up is not what is looked for, and tracing it would slow it several times), starts
tracemalloc, and then writes a snapshot to DIR every EVERY seconds and once when it exits,
so what grows while a burst is answered and filed can be compared snapshot to snapshot
(``python bench/memory_trace.py --compare A B``). Tracing slows the process several times.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

FRAMES = 12


def _snapshots(out: Path, every: float) -> None:
    while not (out / "start").exists():
        time.sleep(0.1)
    if os.environ.get("BENCH_MEMORY_TRACE") == "objects":
        _object_counts(out, every)
        return
    tracemalloc.start(FRAMES)
    began = time.monotonic()
    atexit.register(lambda: _dump(out, began))
    while True:
        time.sleep(every)
        _dump(out, began)


def _object_counts(out: Path, every: float) -> None:
    """Cheaper than tracing: the live objects by type and pymalloc's blocks, every ``every`` s."""
    began = time.monotonic()
    with (out / "objects.tsv").open("w") as log:
        while True:
            counts = Counter(type(o).__name__ for o in gc.get_objects())
            top = " ".join(f"{name}={n}" for name, n in counts.most_common(40))
            log.write(f"{time.monotonic() - began:.1f}\t{sys.getallocatedblocks()}\t{top}\n")
            log.flush()
            time.sleep(every)


def _dump(out: Path, began: float) -> None:
    if tracemalloc.is_tracing():
        snap = tracemalloc.take_snapshot()
        snap.dump(str(out / f"snap-{time.monotonic() - began:07.1f}.pickle"))


def compare(first: str, second: str, top: int = 25) -> None:
    """What grew from snapshot ``first`` to ``second``, by the place that allocated it."""
    a, b = tracemalloc.Snapshot.load(first), tracemalloc.Snapshot.load(second)
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    a, b = a.filter_traces(ignore), b.filter_traces(ignore)
    total = sum(s.size for s in b.statistics("filename")) - sum(
        s.size for s in a.statistics("filename")
    )
    print(f"traced memory grew by {total / 1e6:.1f} MB")
    for stat in b.compare_to(a, "traceback")[:top]:
        print(f"{stat.size_diff / 1e6:+8.2f} MB {stat.count_diff:+8d} blocks")
        for line in stat.traceback.format(limit=FRAMES)[-2 * FRAMES :]:
            print("      " + line)


def main() -> None:
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 25)
        return
    out, every = Path(sys.argv[1]), float(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    rest = sys.argv[sys.argv.index("--") + 1 :]
    threading.Thread(target=_snapshots, args=(out, every), name="tracemalloc", daemon=True).start()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from gateway.cli import main as gateway_main

    sys.exit(gateway_main(rest))


if __name__ == "__main__":
    main()
