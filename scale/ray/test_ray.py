#!/usr/bin/env python3
"""Script test of the Ray driver on a local 2-worker Ray cluster (not in CI: needs `ray[data]`).

Embeds a manifest of 10 sample items with the tiny model, SIGKILLs one Ray worker (its actor
process, and so its `panopticon` child) once the first item is written, lets Ray replace it,
and checks that every item is written exactly once (one file per item, no temp files) and is
byte-identical to a single-process `panopticon embed --manifest` run; then drives the
stac-geoparquet manifest of tests/fixtures/data/stac/manifest/ (8 STAC items, `--format=X`
spelling) the same way, and the first manifest into `--out s3://bucket/ray` on a loopback S3
stand-in (one PUT per item, objects equal to the single-process files, a rerun uploads
nothing); last, a manifest with an unreadable item exits 3 with the other item written.

    cargo build --release --bin panopticon
    pip install 'ray[data]==2.60.0'
    python scale/ray/test_ray.py [--binary PATH] [--items 10]

Exits 0 and prints `ok` on success.
"""

from __future__ import annotations

import argparse
import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from xml.sax.saxutils import escape

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
                 "--format=safetensors"]
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


class S3StandIn(http.server.ThreadingHTTPServer):
    """Just enough S3 on 127.0.0.1 for `--out s3://`: path-style PUT, GET, HEAD and
    ListObjectsV2; keeps the objects and counts the PUTs."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _S3Handler)
        self.objects: dict[str, bytes] = {}
        self.puts: list[str] = []
        self.lock = threading.Lock()
        self.endpoint = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _S3Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        with self.server.lock:
            self.server.objects[path] = body
            self.server.puts.append(path)
        self._send(200, headers=[("ETag", f'"{len(body):x}"')])

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if "list-type" not in query:
            with self.server.lock:
                body = self.server.objects.get(urllib.parse.unquote(url.path))
            if body is None:
                return self._send(404, b"<Error><Code>NoSuchKey</Code></Error>")
            return self._send(200, body, [("ETag", f'"{len(body):x}"'),
                                          ("Last-Modified", "Mon, 07 Dec 2026 12:00:00 GMT")])
        bucket = url.path.strip("/")
        prefix, delimiter = query.get("prefix", [""])[0], query.get("delimiter", [""])[0]
        keys, folders = [], set()
        with self.server.lock:
            objects = sorted(self.server.objects.items())
        for path, body in objects:
            key = path[len(bucket) + 2:]
            if not path.startswith(f"/{bucket}/") or not key.startswith(prefix):
                continue
            rest = key[len(prefix):]
            if delimiter and delimiter in rest:
                folders.add(prefix + rest[:rest.index(delimiter) + 1])
            else:
                keys.append((key, len(body)))
        xml = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
               'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated>')
        for key, size in keys:
            xml += (f"<Contents><Key>{escape(key)}</Key><LastModified>2026-12-07T12:00:00.000Z"
                    f'</LastModified><ETag>"{size:x}"</ETag><Size>{size}</Size></Contents>')
        for f in sorted(folders):
            xml += f"<CommonPrefixes><Prefix>{escape(f)}</Prefix></CommonPrefixes>"
        self._send(200, (xml + "</ListBucketResult>").encode(),
                   [("Content-Type", "application/xml")])

    do_HEAD = do_GET


def check_s3_out(binary: str, manifest: str, ref: str, s3: S3StandIn) -> None:
    """`--out s3://…` goes to the binary untouched: each item is uploaded once, equal to the
    single-process file; a rerun finds them all done and starts no actor."""
    argv = ["--manifest", manifest, "--out", "s3://bucket/ray", "--num-workers", "2",
            "--items-per-call", "3", "--binary", binary, "--", *EMBED_ARGS]
    assert panopticon_ray.main(argv) == 0
    names = sorted(os.listdir(ref))
    want = [f"/bucket/ray/{n}" for n in names]
    assert sorted(s3.puts) == want, s3.puts
    for n in names:
        with open(os.path.join(ref, n), "rb") as f:
            assert s3.objects[f"/bucket/ray/{n}"] == f.read(), f"s3 item {n} differs"
    assert panopticon_ray.main(argv) == 0
    assert len(s3.puts) == len(names), "the rerun uploaded again"


def check_failed_item(binary: str, root: str) -> None:
    """An item the binary cannot read fails alone: exit status 3, the others written, the
    failure logged (the actor asks the binary which items of its batch are done)."""
    folder = os.path.join(root, "failing")
    os.makedirs(folder)
    sample = os.path.join(REPO, "samples/landsat8_gulf_coast.tif")
    shutil.copy(sample, os.path.join(folder, "good.tif"))
    with open(os.path.join(folder, "broken.tif"), "wb") as f:
        f.write(b"not a tiff")
    manifest = os.path.join(folder, "manifest.txt")
    with open(manifest, "w") as f:
        f.write("good\tgood.tif\nbroken\tbroken.tif\n")
    out = os.path.join(folder, "out")
    rc = panopticon_ray.main(["--manifest", manifest, "--out", out, "--num-workers", "1",
                              "--items-per-call", "2", "--binary", binary, "--", *EMBED_ARGS])
    assert rc == 3, rc
    assert sorted(os.listdir(out)) == ["failures.jsonl", "good.parquet"], os.listdir(out)
    with open(os.path.join(out, "failures.jsonl")) as f:
        assert '"id":"broken"' in f.read()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=default_binary())
    p.add_argument("--items", type=int, default=10)
    args = p.parse_args()
    t0 = time.monotonic()
    check_hash_agrees_with_rust()
    import ray

    root = tempfile.mkdtemp(prefix="panopticon-ray-")
    manifest = make_items(root, args.items)
    ref, out = os.path.join(root, "single"), os.path.join(root, "ray")
    subprocess.run([args.binary, "embed", "--manifest", manifest, "--out", ref, "--quiet",
                    *EMBED_ARGS], check=True)
    ids = [i for _, i in panopticon_ray.item_states(args.binary, manifest, ref, EMBED_ARGS)]
    names = sorted(f"{i}.parquet" for i in ids)
    assert sorted(os.listdir(ref)) == names, os.listdir(ref)

    # The S3 settings must be in the environment before Ray starts its workers.
    s3 = S3StandIn()
    os.environ.update({"AWS_ENDPOINT_URL": s3.endpoint, "AWS_REGION": "us-east-1",
                       "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "not-a-secret"})
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    result = {}

    def drive():
        result["rc"] = panopticon_ray.main([
            "--manifest", manifest, "--out", out, "--num-workers", "2", "--cpus-per-worker", "1",
            "--items-per-call", "2", "--binary", args.binary, "--", *EMBED_ARGS])

    started = time.monotonic()
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
    print(f"ray leg: {len(names)} items written once each, equal to the single-process run "
          f"({time.monotonic() - started:.1f} s)")
    leg = time.monotonic()
    check_stac_manifest(args.binary, root)
    print(f"stac-geoparquet leg: 8 items equal ({time.monotonic() - leg:.1f} s)")
    leg = time.monotonic()
    check_s3_out(args.binary, manifest, ref, s3)
    print(f"s3 leg: {len(names)} objects, one PUT each, equal ({time.monotonic() - leg:.1f} s)")
    leg = time.monotonic()
    check_failed_item(args.binary, root)
    print(f"failed-item leg: exit status 3, the other item written ({time.monotonic() - leg:.1f} s)")
    ray.shutdown()
    s3.shutdown()
    shutil.rmtree(root)
    print(f"ok ({time.monotonic() - t0:.1f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
