"""Two builds of `panopticon bench` side by side over a batch × channel matrix, alternating in
one run on one machine (the method of old_vs_new.py): ViT-B/14 random weights, 224×224, f32,
the cls forward. Prints each round's best seconds per binary, then a table of best and median
seconds over rounds and the ratios new/old (the rounds' spread is this machine's noise).

Usage (from anywhere):
    python3 benches/old_vs_new_forward.py OLD_BINARY NEW_BINARY [ROUNDS] [REPS] [BATCHES] [CHANNELS]
e.g. `... old new 3 3 1,8 3,13,64,202`.
"""
import itertools, json, statistics, subprocess, sys

bins = {"old": sys.argv[1], "new": sys.argv[2]}
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
reps = sys.argv[4] if len(sys.argv) > 4 else "3"
batches = [int(x) for x in (sys.argv[5] if len(sys.argv) > 5 else "1,8").split(",")]
chans = [int(x) for x in (sys.argv[6] if len(sys.argv) > 6 else "3,13,64,202").split(",")]
res = {k: {} for k in bins}
for r in range(rounds):
    for b, c in itertools.product(batches, chans):
        order = ["old", "new"] if (r + b + c) % 2 == 0 else ["new", "old"]
        for k in order:
            cmd = [bins[k], "bench", "--batch", str(b), "--channels", str(c), "--reps", reps]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                print(k, b, c, "failed:", out.stderr[-300:])
                sys.exit(1)
            line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
            res[k].setdefault((b, c), []).append(json.loads(line)["best_s"])
        o, n = res["old"][(b, c)][-1], res["new"][(b, c)][-1]
        print(f"round {r + 1} B={b} C={c}: old {o:.3f} new {n:.3f}", flush=True)
print("| B | C | old best s | new best s | new/old best | old median | new median | new/old median |")
print("|---|---|---|---|---|---|---|---|")
for b, c in itertools.product(batches, chans):
    o, n = res["old"][(b, c)], res["new"][(b, c)]
    mo, mn = statistics.median(o), statistics.median(n)
    print(f"| {b} | {c} | {min(o):.3f} | {min(n):.3f} | {min(n) / min(o):.3f} | {mo:.3f} | {mn:.3f} | {mn / mo:.3f} |")
