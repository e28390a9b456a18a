"""Two builds of `panopticon` side by side, alternating in one run on one machine: forward
(`panopticon bench`, ViT-B/14 random weights, B=1, C=3 and 13) and `embed` of the Landsat
sample with a ViT-B/14 random-weights burnpack. Prints best and median seconds per binary,
the ratios new/old and each round's ratio (this machine's spread).

Usage (from the repository root; the burnpack from
`cargo run --release --example random_weights -- vitb14 /tmp/vitb14-random.bpk`):
    python3 benches/old_vs_new.py OLD_BINARY NEW_BINARY [ROUNDS]
"""
import json, pathlib, subprocess, sys, time, statistics
ROOT = pathlib.Path(__file__).resolve().parent.parent
bins = {"old": sys.argv[1], "new": sys.argv[2]}
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
res = {k: {} for k in bins}
cases = {
    "forward B=1 C=3": ["bench", "--batch", "1", "--channels", "3", "--reps", "3"],
    "forward B=1 C=13": ["bench", "--batch", "1", "--channels", "13", "--reps", "3"],
    "embed sample (ViT-B/14)": ["embed", "samples/landsat8_gulf_coast.tif", "--sensor", "landsat8_9",
        "--config", "vitb14", "--weights", "/tmp/vitb14-random.bpk", "--quiet", "-o", "/tmp/old_vs_new_{k}.safetensors"],
}
for r in range(rounds):
    for case, args in cases.items():
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        for k in order:
            a = [x.replace("{k}", k) for x in args]
            t = time.perf_counter()
            out = subprocess.run([bins[k]] + a, capture_output=True, text=True, cwd=ROOT)
            dt = time.perf_counter() - t
            if out.returncode != 0:
                print(k, case, "failed:", out.stderr.strip()[-300:]); sys.exit(1)
            if a[0] == "bench":
                line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
                j = json.loads(line)
                res[k].setdefault(case, []).append(j["best_s"])
            else:
                res[k].setdefault(case, []).append(dt)
    print("round", r + 1, "done", flush=True)
for case in cases:
    o, n = res["old"][case], res["new"][case]
    if isinstance(o[0], dict):
        print(case, o[0], n[0]); continue
    print(f"{case}: old best {min(o):.3f} s median {statistics.median(o):.3f}; new best {min(n):.3f} s median {statistics.median(n):.3f}; new/old best {min(n)/min(o):.3f} median {statistics.median(n)/statistics.median(o):.3f}; per-round {[round(b/a,3) for a,b in zip(o,n)]}")
