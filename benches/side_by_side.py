"""Side by side: the official-architecture PyTorch Panopticon ViT-B/14 and ours, same weights,
same input shapes, same machine, one run, alternating, CPU float32, no grad.

Each measurement runs in its own process (so peak RSS is that configuration's alone): PyTorch
through this script's `--worker` mode (the model of scripts/gen_vitb14_reference.py: torchgeo's
PanopticonPE + DINOv2 blocks, weights from tests/fixtures/vitb14/weights.pth), ours through
`panopticon bench`. Prints a table of images/s (best over rounds), the ratio ours/PyTorch,
both peak RSS and, with several rounds, each round's own ratio (this machine's run-to-run
spread). Both compute the cls embedding (`model(x)`, our `forward`), or with `--all-tokens`
every output token (`forward_features` on both sides). With `--before OLD_BINARY` a second
build of ours (e.g. the commit before a change) runs in the same alternation, and the table adds
its images/s and ratio, so a before/after comparison shares one run's machine state.

Usage (after scripts/gen_vitb14_reference.py and `cargo build --release`):
    ~/.cache/panopticon-venv/bin/python benches/side_by_side.py \
        [--batches 1,8] [--channels 3,13,64,202] [--threads 2] [--reps 2] [--rounds 1]

On a GPU machine (PyTorch CUDA eager vs ours on wgpu or cuda; both with random weights, which
run at the same speed, so no weights file has to be carried; peak memory is PyTorch's CUDA
allocator peak, ours is not measured):
    python benches/side_by_side.py --device cuda --ours-device wgpu --precision f16 \
        --random-weights --batches 1,32,128 --channels 3,13,202 --binary ./panopticon
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "tests/fixtures/vitb14/weights.pth"


def ids_for(c):
    return [420.0 + 2030.0 * i / (max(c, 2) - 1) for i in range(c)]


def worker(args):
    import torch
    sys.path.insert(0, str(ROOT / "scripts"))
    import gen_vitb14_reference as ref

    torch.set_num_threads(args.threads)
    model = ref.build(ref.RELEASE)
    if not args.random_weights:
        model.load_state_dict(torch.load(WEIGHTS, map_location="cpu"))
    dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[args.precision]
    dev = torch.device(args.device)
    model = model.to(dev, dtype).eval()
    b, c, s = args.batch, args.channels, args.size
    x = {"imgs": torch.randn(b, c, s, s, device=dev, dtype=dtype),
         "chn_ids": torch.tensor([ids_for(c)] * b, dtype=torch.float32, device=dev)}
    cuda = dev.type == "cuda"

    def once():
        t = time.perf_counter()
        out = model.forward_features(x) if args.all_tokens else model(x)
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - t

    times = []
    with torch.inference_mode():
        warmup = once()
        for _ in range(args.reps):
            times.append(once())
    times.sort()
    res = {"warmup_s": warmup, "median_s": times[len(times) // 2],
           "images_per_s": b / times[len(times) // 2]}
    if cuda:
        res["gpu_peak_bytes"] = torch.cuda.max_memory_allocated()
    print(json.dumps(res))


def run(cmd, env):
    """Runs a worker; returns its JSON line and its peak RSS in bytes."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    out, err = p.stdout.read(), p.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        return None, usage.ru_maxrss * 1024, err.strip().splitlines()[-1:] or ["failed"]
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return json.loads(line), usage.ru_maxrss * 1024, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--channels", default="3,13,64,202")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds per point")
    ap.add_argument("--binary", default=None, help="panopticon binary (default: the release build)")
    ap.add_argument("--before", default=None,
                    help="a second panopticon binary (the build before a change), run in the same "
                         "alternation; adds its img/s and ratio to the table")
    ap.add_argument("--device", default="cpu", help="PyTorch device: cpu or cuda")
    ap.add_argument("--ours-device", default=None,
                    help="our --device (default: cpu, or cuda when --device cuda)")
    ap.add_argument("--precision", default="f32", choices=["f32", "f16", "bf16"])
    ap.add_argument("--random-weights", action="store_true",
                    help="no weights file: both models keep their random init (same speed)")
    ap.add_argument("--all-tokens", action="store_true",
                    help="both compute every output token (forward_features) instead of the "
                         "cls embedding alone (model(x) / forward)")
    args = ap.parse_args()
    if args.worker:
        args.channels = int(args.channels)
        return worker(args)

    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    binary = args.binary or str(pathlib.Path(target) / "release/panopticon")
    ours_device = args.ours_device or ("cpu" if args.device == "cpu" else "cuda")
    env = {**os.environ, "RAYON_NUM_THREADS": str(args.threads), "OMP_NUM_THREADS": str(args.threads)}
    rows = []
    names = ["torch", "ours"] + (["before"] if args.before else [])
    before_cols = f" {'before img/s':>12} {'ratio':>7} |" if args.before else ""
    print(f"{'B':>3} {'C':>4} | {'torch img/s':>11} {'ours img/s':>10} {'ratio':>7} |{before_cols} "
          f"{'torch RSS':>9} {'ours RSS':>9}", flush=True)
    for b in map(int, args.batches.split(",")):
        for c in map(int, args.channels.split(",")):
            best = {n: None for n in names}
            rss = {n: 0 for n in names}
            note = ""
            round_ratios = []  # ours/torch within each alternating round: the run-to-run spread
            before_ratios = []  # before/torch within each round
            for _ in range(args.rounds):
                this_round = {}
                cmds = {
                    "torch": [sys.executable, __file__, "--worker", "--batch", str(b),
                              "--channels", str(c), "--size", str(args.size),
                              "--threads", str(args.threads), "--reps", str(args.reps),
                              "--device", args.device, "--precision", args.precision]
                             + (["--random-weights"] if args.random_weights else [])
                             + (["--all-tokens"] if args.all_tokens else []),
                    "ours": [binary, "bench", "--batch", str(b),
                             "--channels", str(c), "--size", str(args.size),
                             "--reps", str(args.reps), "--device", ours_device,
                             "--precision", args.precision]
                            + ([] if args.random_weights else ["--weights", str(WEIGHTS)])
                            + (["--all-tokens"] if args.all_tokens else []),
                }
                if args.before:
                    cmds["before"] = [args.before] + cmds["ours"][1:]
                for name, cmd in cmds.items():  # alternating within each round
                    res, peak, err = run(cmd, env)
                    rss[name] = max(rss[name], peak)
                    if res is not None and "gpu_peak_bytes" in res:
                        rss[name] = max(rss[name], res["gpu_peak_bytes"])
                    if res is None:
                        note += f" {name} failed: {err[0][:60]}"
                        continue
                    this_round[name] = res["images_per_s"]
                    if best[name] is None or res["images_per_s"] > best[name]:
                        best[name] = res["images_per_s"]
                if "torch" in this_round and "ours" in this_round:
                    round_ratios.append(this_round["ours"] / this_round["torch"])
                if "torch" in this_round and "before" in this_round:
                    before_ratios.append(this_round["before"] / this_round["torch"])
            t, o = best["torch"], best["ours"]
            ratio = f"{o / t:6.1f}x" if t and o else "    -  "
            fmt = lambda v: f"{v:.3f}" if v else "-"
            before = ""
            if args.before:
                ob = best["before"]
                before = f" {fmt(ob):>12} {(f'{ob / t:6.1f}x' if t and ob else '    -  '):>7} |"
            spread = ("  rounds " + " ".join(f"{r:.2f}x" for r in round_ratios)
                      if len(round_ratios) > 1 else "")
            if len(before_ratios) > 1:
                spread += "  before " + " ".join(f"{r:.2f}x" for r in before_ratios)
            print(f"{b:>3} {c:>4} | {fmt(t):>11} {fmt(o):>10} {ratio:>7} |{before} "
                  f"{rss['torch'] / 2**30:7.2f}Gi {rss['ours'] / 2**30:7.2f}Gi{spread}{note}",
                  flush=True)
            row = {"batch": b, "channels": c, "torch_img_s": t, "ours_img_s": o,
                   "torch_rss": rss["torch"], "ours_rss": rss["ours"],
                   "round_ratios": round_ratios}
            if args.before:
                row.update({"before_img_s": best["before"], "before_rss": rss["before"],
                            "before_round_ratios": before_ratios})
            rows.append(row)
    print(json.dumps({"threads": args.threads, "size": args.size, "device": args.device,
                      "ours_device": ours_device, "precision": args.precision,
                      "output": "all tokens" if args.all_tokens else "cls",
                      "memory": "GPU allocator peak (torch), RSS (ours)" if args.device != "cpu"
                      else "peak RSS", "rows": rows}))


if __name__ == "__main__":
    main()
