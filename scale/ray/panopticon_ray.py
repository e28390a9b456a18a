#!/usr/bin/env python3
"""Embed a manifest on a Ray cluster with `panopticon embed`.

The binary lists the manifest's items and which are done (`--dry-run`); Ray Data hands
batches of the others to a pool of actors, one per worker; each actor runs the `panopticon`
binary on its batch (`panopticon embed --manifest M --items ID,... --out DIR ...`) into the
shared output directory or `s3://` prefix. The binary does all the work: it reads the
manifest (text, STAC, stac-geoparquet), writes each item atomically, skips items whose output
exists and logs failed items, so a batch that Ray retries (after a worker dies) redoes only
the items that are not finished. Ray only schedules: the driver parses neither the manifest
nor the embed arguments.

    python scale/ray/panopticon_ray.py --manifest scenes.txt --out emb/ --num-workers 4 \\
        -- --sensor sentinel2_l2a --weights panopticon-vitb14 --format parquet

Everything after `--` goes to `panopticon embed` unchanged (`--format X` or `--format=X`,
`--sensor`, …). Exit status: 0 when every item is done, 3 when some failed (see
DIR/failures.jsonl, or PREFIX/failures.*.jsonl on S3), 1 on errors.
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


def _local_or_url(path: str) -> str:
    """A local path made absolute (the actors may start elsewhere); a URL (`s3://…`) as is."""
    return path if "://" in path else os.path.abspath(path)


def item_states(binary: str, manifest: str, out: str, embed_args: list[str],
                items: list[str] | None = None) -> list[tuple[str, str]]:
    """`(state, id)` of the manifest's items (or of `items`), state `done`, `partial` or
    `todo`, as `panopticon embed --dry-run` sees them in `out`: the binary reads the manifest
    (text with or without `ID<TAB>` ids, STAC, stac-geoparquet), the output format and a local
    or `s3://` output, so the driver parses none of them. Raises on a bad manifest or
    arguments (the binary's one-line error)."""
    cmd = [binary, "embed", "--manifest", manifest, "--out", out, "--dry-run", *embed_args]
    if items is not None:
        cmd += ["--items", ",".join(items)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"panopticon --dry-run exited {proc.returncode}: "
                           f"{proc.stderr.strip()[-2000:]}")
    states = []
    for line in proc.stdout.splitlines():
        state, item, _input = line.split("\t", 2)
        states.append((state, item))
    return states


def _die_with_parent() -> None:
    # The binary must not outlive its actor: a killed worker's half-done batch is redone.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class EmbedActor:
    """One per worker: runs `panopticon embed --items` on each batch of item ids."""

    def __init__(self, binary, manifest, out, embed_args, threads):
        self.binary, self.manifest, self.out, self.embed_args = binary, manifest, out, embed_args
        self.cmd = [binary, "embed", "--manifest", manifest, "--out", out, "--quiet", *embed_args]
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
        # 0: every item is done; 3: some failed, and the output says which are there.
        done = set(ids)
        if proc.returncode == 3:
            states = item_states(self.binary, self.manifest, self.out, self.embed_args, ids)
            done = {i for state, i in states if state == "done"}
        return {
            "id": ids,
            "status": ["done" if i in done else "failed" for i in ids],
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
                   help="text manifest (one PATH or ID<TAB>PATH per line), STAC ItemCollection "
                        "(.json) or stac-geoparquet (.parquet)")
    p.add_argument("--out", required=True,
                   help="output directory shared by all workers, or an s3://BUCKET/PREFIX "
                        "(passed to the binary as is)")
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

    manifest, out = _local_or_url(args.manifest), _local_or_url(args.out)
    binary = os.path.abspath(args.binary) if os.sep in args.binary else args.binary
    states = item_states(binary, manifest, out, embed_args)
    todo = [i for state, i in states if state != "done"]
    print(f"{len(states)} items, {len(states) - len(todo)} already done, {len(todo)} to do "
          f"on {args.num_workers} worker(s)", file=sys.stderr)
    if not todo:
        return 0
    ray.init(address=args.address, ignore_reinit_error=True, log_to_driver=False)
    threads = args.threads or max(1, int(args.cpus_per_worker))
    ds = ray.data.from_items([{"id": i} for i in todo]).map_batches(
        EmbedActor,
        fn_constructor_kwargs=dict(binary=binary, manifest=manifest, out=out,
                                   embed_args=embed_args, threads=threads),
        batch_size=args.items_per_call,
        compute=ray.data.ActorPoolStrategy(size=args.num_workers),
        num_cpus=args.cpus_per_worker,
        num_gpus=args.gpus_per_worker,
        # Ray Data's actor pools restart a worker that dies and retry its batch (max_restarts
        # and max_task_retries default to -1); the binary skips the items already finished.
    )
    start = time.monotonic()
    rows = ds.take_all()
    secs = time.monotonic() - start
    failed = sorted(r["id"] for r in rows if r["status"] != "done")
    print(json.dumps({"items": len(todo), "done": len(todo) - len(failed), "failed": len(failed),
                      "seconds": round(secs, 3), "items_per_s": round(len(todo) / secs, 3)}))
    if failed:
        logs = f"{out}/failures.*.jsonl" if "://" in out else os.path.join(out, "failures.jsonl")
        print(f"{len(failed)} item(s) failed; see {logs}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
