#!/usr/bin/env python3
"""Remote vs local `panopticon embed` (a measurement, not a test).

Builds a Cloud-Optimized GeoTIFF scene from the committed Landsat sample (11 bands, uint16,
mirrored 4 x 4 into 1280 x 1280 px, 256 x 256 tiles, Deflate + predictor, pixel-interleaved),
serves it from a loopback HTTP server that answers Range requests after an injected latency
(default 50 ms per request) and counts requests, then embeds it with the ViT-B/14 preset and
random weights (same compute as the released weights) locally and remotely, and prints a
Markdown table: wall time, throughput (tiles/s), GET requests per needed tile read, bytes
fetched and peak RSS (`/usr/bin/time -v`).

Needs: rasterio + numpy (pip), GNU time (`apt-get install time`), and the release binary and
example: `cargo build --release --bin panopticon --example random_weights`.

    python3 benches/remote_embed.py [--latency-ms 50] [--reps 1] [--max-requests 8]
"""

import argparse
import http.server
import os
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import rasterio

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"


def make_scene(path):
    with rasterio.open(ROOT / "samples/landsat8_gulf_coast.tif") as src:
        a = src.read()
        profile = src.profile
    row = np.concatenate([a, a[:, :, ::-1]] * 2, axis=2)
    big = np.concatenate([row, row[:, ::-1, :]] * 2, axis=1)
    c, h, w = big.shape
    profile.update(
        width=w, height=h, tiled=True, blockxsize=256, blockysize=256,
        compress="deflate", predictor=2, interleave="pixel",
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(big)
    with rasterio.open(path) as d:
        tiles = len(list(d.block_windows(1)))
    return (h, w), tiles


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files = {}
    latency = 0.05
    log = []
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.answer(head=True)

    def do_GET(self):
        self.answer(head=False)

    def answer(self, head):
        time.sleep(self.latency)
        data = self.files.get(self.path.split("?")[0])
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        total = len(data)
        rng = self.headers.get("Range")
        status, body = 200, data
        extra = {}
        m = re.match(r"bytes=(\d+)-(\d*)", rng or "")
        if m and not head:
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else total - 1, total - 1)
            status, body = 206, data[start:end + 1]
            extra["Content-Range"] = f"bytes {start}-{end}/{total}"
        with self.lock:
            self.log.append((self.command, len(body) if not head else 0))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"bench"')
        self.send_header("Last-Modified", "Mon, 07 Dec 2026 12:00:00 GMT")
        self.send_header("Accept-Ranges", "bytes")
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)


def starts(n, tile, stride):
    """Window starts along one axis, as src/embed/tiling.rs plans them."""
    if n <= tile:
        return [0]
    s = [p for p in range(0, n, stride) if p + tile < n]
    return sorted(set(s + [n - tile]))


def tile_reads(h, w, block, model_tile):
    """COG tiles each pass decodes: 256-row windows for the statistics, then one window per
    row of model tiles (full width)."""
    across = -(-w // block)
    def rows_of(r0, n):
        return (r0 + n - 1) // block - r0 // block + 1
    stats = sum(rows_of(r0, min(256, h - r0)) for r0 in range(0, h, 256))
    embed = sum(rows_of(r0, min(model_tile, h - r0)) for r0 in starts(h, model_tile, model_tile))
    return (stats + embed) * across


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return wall, rss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--max-requests", type=int, default=8)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="remote-bench-"))
    scene = work / "scene.tif"
    (h, w), chunks = make_scene(scene)
    weights = work / "vitb14-random.bpk"
    subprocess.run([TARGET / "examples/random_weights", "vitb14", weights], check=True)
    Handler.files["/scene.tif"] = scene.read_bytes()
    Handler.latency = args.latency_ms / 1000
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/scene.tif"
    tiles = len(starts(h, 224, 224)) * len(starts(w, 224, 224))
    needed = tile_reads(h, w, 256, 224)

    def embed(src, out):
        return run([
            TARGET / "panopticon", "embed", src, "--sensor", "landsat8_9",
            "--weights", weights, "--config", "vitb14", "--batch", str(args.batch),
            "--max-requests", str(args.max_requests), "--quiet", "-o", work / out,
        ])

    rows = []
    for rep in range(args.reps):
        for name, src in [("local", scene), ("remote", url)]:
            Handler.log.clear()
            wall, rss = embed(src, f"{name}.safetensors")
            gets = [b for (m, b) in Handler.log if m == "GET"]
            rows.append((name, wall, rss, len(gets), sum(gets)))
    size = scene.stat().st_size
    print(f"scene: {h} x {w} px, 11 bands, {chunks} COG tiles of 256 px, {size / 1e6:.1f} MB; "
          f"{tiles} model tiles of 224 px; {needed} COG tile reads in the two passes; latency {args.latency_ms:.0f} ms/request; "
          f"--max-requests {args.max_requests}")
    print()
    print("| run | wall (s) | tiles/s | vs local | GETs | GETs per tile read | MB fetched | peak RSS (MB) | vs local |")
    print("|---|---|---|---|---|---|---|---|---|")
    local = [r for r in rows if r[0] == "local"]
    best_local = min(r[1] for r in local)
    local_rss = max(r[2] for r in local)
    for name, wall, rss, gets, nbytes in rows:
        per_tile = gets / needed if name == "remote" else float("nan")
        print(f"| {name} | {wall:.1f} | {tiles / wall:.2f} | {best_local / wall:.0%} | "
              f"{gets if name == 'remote' else '-'} | "
              f"{per_tile:.2f} | {nbytes / 1e6:.1f} | {rss:.0f} | {rss / local_rss:.2f} |")
    server.shutdown()


if __name__ == "__main__":
    main()
