#!/usr/bin/env python3
"""Per-item overhead of `embed --manifest` and of the Ray driver against a plain `embed` of the
same files, and Ray throughput with 1 and 2 workers.

    cargo build --release --bin panopticon
    pip install 'ray[data]==2.60.0'
    python scale/bench_overhead.py [--binary PATH] [--items 8] [--rounds 3] [--tile 32]
    # a realistic model: ViT-B/14 with random weights (same compute as the released ones)
    cargo run --release --example random_weights -- vitb14 /tmp/vitb14-random.bpk
    python scale/bench_overhead.py --weights /tmp/vitb14-random.bpk --config vitb14 --tile 224

The items are copies of the sample scene (320 × 320 px, 11 Landsat bands) under distinct
names, embedded with the tiny test model by default: its compute per item is small, so the
overheads are an upper bound of what a real model sees. Rounds alternate the variants; the
median is reported, and each variant's per-round ratio to the plain run of the same round
(min–max over rounds: the noise). `--variants plain,manifest` skips Ray. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "ray"))
from test_ray import default_binary, make_items  # noqa: E402


def timed(cmd) -> tuple[float, float | None]:
    """Wall seconds of the command, and the Ray driver's own `seconds` (the dataset's
    execution, actor start-up included, Ray start-up excluded) when it prints one."""
    start = time.perf_counter()
    p = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    return wall, (json.loads(lines[-1])["seconds"] if lines else None)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=default_binary())
    p.add_argument("--items", type=int, default=8)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tile", default="32")
    p.add_argument("--weights", default=os.path.join(REPO, "tests/fixtures/panopticon-tiny/weights.pth"))
    p.add_argument("--config", default="tiny-test")
    p.add_argument("--variants", default="plain,manifest,ray1,ray2",
                   help="comma-separated subset of plain, manifest, ray1, ray2 (plain first)")
    args = p.parse_args()
    model = ["--weights", args.weights, "--config", args.config, "--sensor", "landsat8_9",
             "--tile", args.tile, "--quiet"]
    root = tempfile.mkdtemp(prefix="panopticon-bench-")
    manifest = make_items(root, args.items)
    files = sorted(os.path.join(root, "in", f) for f in os.listdir(os.path.join(root, "in")))
    driver = [sys.executable, os.path.join(HERE, "ray", "panopticon_ray.py"),
              "--manifest", manifest, "--binary", args.binary, "--items-per-call", "4"]
    ray_model = [a for a in model if a != "--quiet"]
    every = {
        "plain": ("plain `embed` (one process, all files)",
                  lambda out: [args.binary, "embed", *files, "-o", out + ".parquet", *model]),
        "manifest": ("`embed --manifest` (one file per item)",
                     lambda out: [args.binary, "embed", "--manifest", manifest, "--out", out,
                                  *model]),
        "ray1": ("Ray driver, 1 worker × 2 threads",
                 lambda out: [*driver, "--out", out, "--num-workers", "1",
                              "--cpus-per-worker", "2", "--", *ray_model]),
        "ray2": ("Ray driver, 2 workers × 1 thread",
                 lambda out: [*driver, "--out", out, "--num-workers", "2",
                              "--cpus-per-worker", "1", "--", *ray_model]),
    }
    chosen = args.variants.split(",")
    if chosen[0] != "plain" or any(v not in every for v in chosen):
        p.error(f"--variants: plain first, then any of {', '.join(every)}")
    variants = dict(every[v] for v in chosen)
    times: dict[str, list[float]] = {k: [] for k in variants}
    inner: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(args.rounds):
        for name, cmd in variants.items():
            out = os.path.join(root, f"out{r}_{len(times[name])}_{abs(hash(name))}")
            wall, ray_secs = timed(cmd(out))
            times[name].append(wall)
            if ray_secs is not None:
                inner[name].append(ray_secs)
    plain = times[next(iter(variants))]
    base = statistics.median(plain)
    print(f"{args.items} items, {args.config}, tile {args.tile}, {args.rounds} rounds, "
          "median wall time\n")
    print("| run | wall s | items/s | vs plain `embed` | per-round ratio (min–max) "
          "| per-item overhead | Ray execution s |")
    print("|---|---|---|---|---|---|---|")
    for name, ts in times.items():
        t = statistics.median(ts)
        ratios = [x / b for x, b in zip(ts, plain)]
        ex = f"{statistics.median(inner[name]):.2f}" if inner[name] else ""
        print(f"| {name} | {t:.2f} | {args.items / t:.3f} | {100 * (t / base - 1):+.1f} % "
              f"| {min(ratios):.3f}–{max(ratios):.3f} "
              f"| {1000 * (t - base) / args.items:+.0f} ms | {ex} |")
    print("\nall rounds:", json.dumps({k: [round(x, 3) for x in v] for k, v in times.items()}))
    shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
