#!/usr/bin/env python3
"""Embed a manifest on a Ray cluster with `panopticon embed`.

Ray Data reads the manifest's item ids and hands batches of them to a pool of actors, one per
worker; each actor runs the `panopticon` binary on its batch
(`panopticon embed --manifest M --items ID,... --out DIR ...`) into the shared output
directory. The binary does all the work: it writes each item atomically, skips items whose
output exists and logs failed items to DIR/failures.jsonl, so a batch that Ray retries (after a
worker dies) redoes only the items that are not finished. Ray only schedules.

    python scale/ray/panopticon_ray.py --manifest scenes.txt --out emb/ --num-workers 4 \\
        -- --sensor sentinel2_l2a --weights panopticon-vitb14 --format parquet

Everything after `--` goes to `panopticon embed` unchanged. Exit status: 0 when every item is
done, 3 when some failed (see DIR/failures.jsonl), 1 on errors.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64, as `panopticon embed --shard` hashes item ids."""
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def shard_of(item_id: str, count: int) -> int:
    """The 0-based shard of an item among `count` (`--shard K/N`)."""
    return fnv1a64(item_id.encode("utf-8")) % count


def _strip_comment(line: str) -> str:
    for i, ch in enumerate(line):
        if ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def item_id(entry: str) -> str:
    """The item id of a manifest entry: its file name without the extension."""
    path = entry.split("://", 1)[1].split("?")[0].split("#")[0] if "://" in entry else entry
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return os.path.splitext(name)[0]


def read_manifest(path: str) -> list[str]:
    """The item ids of a manifest, in order (the binary checks the rest): the STAC ids of an
    ItemCollection (.json/.geojson) or stac-geoparquet file (.parquet/.geoparquet, needs
    pyarrow), else the file names of a text manifest."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".json", ".geojson"):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        return [f["id"] for f in (doc["features"] if doc.get("type") == "FeatureCollection"
                                  else [doc])]
    if ext in (".parquet", ".geoparquet"):
        import pyarrow.parquet as pq
        return [str(i) for i in pq.read_table(path, columns=["id"])["id"].to_pylist()]
    ids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            entry = _strip_comment(line).strip()
            if entry:
                ids.append(item_id(entry))
    return ids


def _die_with_parent() -> None:
    # The binary must not outlive its actor: a killed worker's half-done batch is redone.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class EmbedActor:
    """One per worker: runs `panopticon embed --items` on each batch of item ids."""

    def __init__(self, binary, manifest, out, ext, embed_args, threads):
        self.cmd = [binary, "embed", "--manifest", manifest, "--out", out, "--quiet", *embed_args]
        self.out, self.ext = out, ext
        self.env = dict(os.environ)
        if threads:
            self.env["RAYON_NUM_THREADS"] = str(threads)

    def __call__(self, batch):
        ids = [str(i) for i in batch["id"]]
        start = time.monotonic()
        proc = subprocess.run(
            [*self.cmd, "--items", ",".join(ids)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )
        if proc.returncode not in (0, 3):
            # A whole-batch error (bad arguments, weights, disk): let Ray retry or fail the run.
            raise RuntimeError(f"panopticon exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        took = time.monotonic() - start
        done = [os.path.exists(os.path.join(self.out, f"{i}.{self.ext}")) for i in ids]
        return {
            "id": ids,
            "status": ["done" if d else "failed" for d in done],
            "seconds": [took / len(ids)] * len(ids),
            "pid": [os.getpid()] * len(ids),
        }


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    embed_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, embed_args = argv[:cut], argv[cut + 1 :]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--manifest", required=True,
                   help="text manifest (one path per line), STAC ItemCollection (.json) or "
                        "stac-geoparquet (.parquet)")
    p.add_argument("--out", required=True, help="output directory shared by all workers")
    p.add_argument("--num-workers", type=int, default=1, help="actors (one binary each)")
    p.add_argument("--cpus-per-worker", type=float, default=1, help="Ray CPUs per actor")
    p.add_argument("--gpus-per-worker", type=float, default=0, help="Ray GPUs per actor")
    p.add_argument("--threads", type=int, default=None,
                   help="compute threads per binary (default: --cpus-per-worker)")
    p.add_argument("--items-per-call", type=int, default=4,
                   help="items per binary run (weights load once per run)")
    p.add_argument("--binary", default="panopticon", help="the panopticon executable")
    p.add_argument("--address", default=None, help="Ray cluster address (default: local/auto)")
    args = p.parse_args(argv)

    import ray

    manifest = os.path.abspath(args.manifest)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    ext = "parquet"
    if "--format" in embed_args:
        ext = embed_args[embed_args.index("--format") + 1]
    ids = read_manifest(manifest)
    todo = [i for i in ids if not os.path.exists(os.path.join(out, f"{i}.{ext}"))]
    print(f"{len(ids)} items, {len(ids) - len(todo)} already done, {len(todo)} to do "
          f"on {args.num_workers} worker(s)", file=sys.stderr)
    if not todo:
        return 0
    ray.init(address=args.address, ignore_reinit_error=True, log_to_driver=False)
    threads = args.threads or max(1, int(args.cpus_per_worker))
    binary = os.path.abspath(args.binary) if os.sep in args.binary else args.binary
    ds = ray.data.from_items([{"id": i} for i in todo]).map_batches(
        EmbedActor,
        fn_constructor_kwargs=dict(binary=binary, manifest=manifest, out=out, ext=ext,
                                   embed_args=embed_args, threads=threads),
        batch_size=args.items_per_call,
        concurrency=args.num_workers,
        num_cpus=args.cpus_per_worker,
        num_gpus=args.gpus_per_worker,
        # A worker that dies is replaced and its batch retried; finished items are skipped.
        max_restarts=-1,
        max_task_retries=-1,
    )
    start = time.monotonic()
    rows = ds.take_all()
    secs = time.monotonic() - start
    failed = sorted(r["id"] for r in rows if r["status"] != "done")
    print(json.dumps({"items": len(todo), "done": len(todo) - len(failed), "failed": len(failed),
                      "seconds": round(secs, 3), "items_per_s": round(len(todo) / secs, 3)}))
    if failed:
        print(f"{len(failed)} item(s) failed; see {os.path.join(out, 'failures.jsonl')}",
              file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
