#!/usr/bin/env python3
"""Script test of the Ray driver on a local 2-worker Ray cluster (not in CI: needs `ray[data]`).

Embeds a manifest of 10 sample items with the tiny model, SIGKILLs one Ray worker (its actor
process, and so its `panopticon` child) once the first item is written, lets Ray replace it,
and checks that every item is written exactly once (one file per item, no temp files) and is
byte-identical to a single-process `panopticon embed --manifest` run; then drives the
stac-geoparquet manifest of tests/fixtures/data/stac/manifest/ (8 STAC items) the same way.

    cargo build --release --bin panopticon
    pip install 'ray[data]==2.60.0'
    python scale/ray/test_ray.py [--binary PATH] [--items 10]

Exits 0 and prints `ok` on success.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import panopticon_ray  # noqa: E402

EMBED_ARGS = ["--weights", os.path.join(REPO, "tests/fixtures/panopticon-tiny/weights.pth"),
              "--config", "tiny-test", "--sensor", "landsat8_9", "--tile", "32"]


def default_binary() -> str:
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    return os.path.join(target, "release", "panopticon")


def make_items(root: str, n: int) -> str:
    """`n` copies of the sample scene under distinct names, and a manifest of them."""
    os.makedirs(os.path.join(root, "in"))
    sample = os.path.join(REPO, "samples/landsat8_gulf_coast.tif")
    lines = ["# ray test items"]
    for i in range(n):
        name = f"scene_{i:02d}.tif"
        shutil.copy(sample, os.path.join(root, "in", name))
        lines.append(f"in/{name}")
    manifest = os.path.join(root, "manifest.txt")
    with open(manifest, "w") as f:
        f.write("\n".join(lines) + "\n")
    return manifest


def busy_worker(binary: str, out: str) -> int:
    """The pid of a Ray worker (actor process) whose `panopticon` child is embedding into
    `out` (found through /proc: the state API needs the dashboard)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
                with open(f"/proc/{pid}/status") as f:
                    ppid = next(int(l.split()[1]) for l in f if l.startswith("PPid:"))
            except (OSError, StopIteration):
                continue
            if cmd[0] == binary.encode() and out.encode() in cmd and b"--items" in cmd:
                return ppid
        time.sleep(0.005)
    raise AssertionError("no worker is running panopticon")


def check_hash_agrees_with_rust() -> None:
    # The same pinned values as tests/cli_embed_batch.rs.
    assert panopticon_ray.fnv1a64(b"T32TQM") == 0x0D229025E58F71B8
    assert [panopticon_ray.shard_of(f"T{i:04}_2024", 7) for i in range(5)] == [6, 1, 1, 0, 4]


def check_stac_manifest(binary: str, root: str) -> None:
    """The driver reads the item ids of a stac-geoparquet manifest; its items equal a
    single-process run of the same items from the ItemCollection."""
    fixtures = os.path.join(REPO, "tests/fixtures/data/stac/manifest")
    stac_args = ["--weights", EMBED_ARGS[1], "--config", "tiny-test", "--tile", "56",
                 "--format", "safetensors"]
    ref, out = os.path.join(root, "stac-single"), os.path.join(root, "stac-ray")
    subprocess.run([binary, "embed", "--manifest", os.path.join(fixtures, "items.json"),
                    "--out", ref, "--quiet", *stac_args], check=True)
    rc = panopticon_ray.main([
        "--manifest", os.path.join(fixtures, "items.parquet"), "--out", out,
        "--num-workers", "2", "--items-per-call", "3", "--binary", binary, "--", *stac_args])
    assert rc == 0, rc
    names = sorted(os.listdir(ref))
    assert len(names) == 8 and sorted(os.listdir(out)) == names, os.listdir(out)
    for n in names:
        with open(os.path.join(ref, n), "rb") as a, open(os.path.join(out, n), "rb") as b:
            assert a.read() == b.read(), f"STAC item {n} differs from the single-process run"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=default_binary())
    p.add_argument("--items", type=int, default=10)
    args = p.parse_args()
    check_hash_agrees_with_rust()
    import ray

    root = tempfile.mkdtemp(prefix="panopticon-ray-")
    manifest = make_items(root, args.items)
    ref, out = os.path.join(root, "single"), os.path.join(root, "ray")
    subprocess.run([args.binary, "embed", "--manifest", manifest, "--out", ref, "--quiet",
                    *EMBED_ARGS], check=True)
    ids = panopticon_ray.read_manifest(manifest)
    names = sorted(f"{i}.parquet" for i in ids)
    assert sorted(os.listdir(ref)) == names, os.listdir(ref)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    result = {}

    def drive():
        result["rc"] = panopticon_ray.main([
            "--manifest", manifest, "--out", out, "--num-workers", "2", "--cpus-per-worker", "1",
            "--items-per-call", "2", "--binary", args.binary, "--", *EMBED_ARGS])

    driver = threading.Thread(target=drive)
    driver.start()
    deadline = time.monotonic() + 300
    while not (os.path.isdir(out) and any(n.endswith(".parquet") for n in os.listdir(out))):
        assert time.monotonic() < deadline and driver.is_alive(), "no item written"
        time.sleep(0.01)
    victim = busy_worker(args.binary, out)
    done_at_kill = sum(n.endswith(".parquet") for n in os.listdir(out))
    os.kill(victim, signal.SIGKILL)
    print(f"killed worker pid {victim} with {done_at_kill}/{len(ids)} items written")
    assert done_at_kill < len(ids), "the run ended before the kill; use more --items"
    driver.join(timeout=600)
    assert not driver.is_alive(), "the driver did not finish"
    assert result.get("rc") == 0, result

    listing = sorted(os.listdir(out))
    assert listing == names, f"want exactly one file per item, got {listing}"
    for n in names:
        with open(os.path.join(ref, n), "rb") as a, open(os.path.join(out, n), "rb") as b:
            assert a.read() == b.read(), f"{n} differs from the single-process run"
    check_stac_manifest(args.binary, root)
    ray.shutdown()
    shutil.rmtree(root)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
