#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Tests of tools/kmt-plot, run by ctest (tools/tests/CMakeLists.txt).

    kmt_plot_test.py --plot tools/kmt-plot --trace TRACE.json --out DIR

1. On a real trace (the streaming sample's): one PNG for heap 0 that is a PNG,
   of the size the tool draws, and non-trivial: the four bands' colours, the
   budget line and the discard / decommit markers are all in it.
2. On a made-up trace of two heaps: one PNG per heap, named after the heap.
3. On a file that is not a trace / a trace without counters: exit status 1 and
   a message naming the file, no PNG.
Prints "kmt-plot test: passed" when everything holds.
"""
import argparse
import json
import os
import subprocess
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.image  # noqa: E402  (after use())
import numpy  # noqa: E402  (matplotlib's own dependency)

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)


def run(plot, *args):
    return subprocess.run([sys.executable, plot, *args], capture_output=True, text=True, timeout=120)


def colours(path):
    """The set of RGB colours of a PNG, 8 bits per channel."""
    image = matplotlib.image.imread(path)
    h, w = image.shape[0], image.shape[1]
    pixels = numpy.rint(image[:, :, :3].reshape(-1, 3) * 255).astype(int)
    return (w, h), {tuple(int(v) for v in c) for c in numpy.unique(pixels, axis=0)}


def near(seen, rgb, tolerance=10):
    return any(all(abs(a - b) <= tolerance for a, b in zip(c, rgb)) for c in seen)


def hex_rgb(text):
    return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))


def test_real_trace(plot, trace, out):
    png = os.path.join(out, "real.png")
    r = run(plot, trace, "-o", png)
    check(r.returncode == 0, f"kmt-plot on {trace} exits 0 (stderr: {r.stderr.strip()})")
    check(r.stdout.strip() == png, f"kmt-plot prints the path it wrote ({r.stdout.strip()!r})")
    check(os.path.exists(png), f"{png} exists")
    if not os.path.exists(png):
        return
    with open(png, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "the output is a PNG")
    check(os.path.getsize(png) > 20000, f"the PNG is not trivially small ({os.path.getsize(png)} bytes)")
    size, seen = colours(png)
    check(size == (1000, 520), f"the PNG is 1000x520 ({size})")
    check(len(seen) > 50, f"the PNG has more than a few colours ({len(seen)})")
    # The bands are drawn with alpha 0.85 over white: their colours lighten a little.
    for name, colour in (("resident", "#4c72b0"), ("offered", "#dd8452"), ("discarded", "#c44e52"),
                         ("decommitted", "#8172b3")):
        rgb = tuple(round(c * 0.85 + 255 * 0.15) for c in hex_rgb(colour))
        check(near(seen, rgb), f"the {name} band ({colour}) is drawn")
    check(near(seen, (0, 0, 0), 2), "the budget line is drawn")
    check(near(seen, hex_rgb("#8172b3"), 3) and near(seen, hex_rgb("#c44e52"), 3),
          "discard and decommit markers are drawn (opaque)")


def write(path, events):
    with open(path, "w") as f:
        json.dump({"traceEvents": events}, f)


def counter(ts, heap, **values):
    args = {k: values.get(k, 0) for k in ("offered", "discarded", "decommitted", "resident", "usage", "budget")}
    return {"name": f"heap {heap}", "cat": "memory", "ph": "C", "ts": ts, "pid": 1, "tid": 0, "args": args}


def test_two_heaps(plot, out):
    mib = 1 << 20
    trace = os.path.join(out, "two-heaps.json")
    write(trace, [
        {"name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": {"name": "made up"}},
        counter(0, 0, resident=8 * mib, usage=8 * mib, budget=16 * mib),
        counter(1000, 0, offered=8 * mib, usage=8 * mib, budget=16 * mib),
        {"name": "discard", "cat": "state", "ph": "i", "s": "t", "ts": 2000, "pid": 1, "tid": 1,
         "args": {"heap": 0, "memory": "0x1", "name": "a"}},
        counter(2000, 0, discarded=8 * mib, budget=16 * mib),
        counter(0, 1, resident=mib, usage=mib, budget=4 * mib),
        counter(3000, 1, offered=mib, usage=mib, budget=4 * mib),
    ])
    r = run(plot, trace)
    expected = [os.path.join(out, "two-heaps.heap0.png"), os.path.join(out, "two-heaps.heap1.png")]
    check(r.returncode == 0, f"kmt-plot on two heaps exits 0 ({r.stderr.strip()})")
    check(r.stdout.split() == expected, f"one PNG per heap, named after it ({r.stdout.split()})")
    for png in expected:
        check(os.path.exists(png) and os.path.getsize(png) > 10000, f"{png} is written")
    r = run(plot, trace, "--heap", "1", "-o", os.path.join(out, "only.png"))
    check(r.returncode == 0 and r.stdout.split() == [os.path.join(out, "only.png")], "--heap picks one heap")


def test_bad_input(plot, out):
    bad = os.path.join(out, "not-a-trace.json")
    with open(bad, "w") as f:
        f.write("{\"traceEvents\": [")
    r = run(plot, bad, "-o", os.path.join(out, "bad.png"))
    check(r.returncode == 1, "a file that is not JSON: exit status 1")
    check(bad in r.stderr and "not valid JSON" in r.stderr, f"... and a message naming it ({r.stderr.strip()})")
    check(not os.path.exists(os.path.join(out, "bad.png")), "... and no PNG")
    empty = os.path.join(out, "no-counters.json")
    write(empty, [{"name": "trace end", "ph": "i", "ts": 1, "pid": 1, "tid": 0, "args": {}}])
    r = run(plot, empty)
    check(r.returncode == 1 and "no counter samples" in r.stderr, f"a trace without counters: exit 1 ({r.stderr})")
    r = run(plot, os.path.join(out, "missing.json"))
    check(r.returncode == 1 and "cannot read" in r.stderr, f"a missing file: exit 1 ({r.stderr.strip()})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plot", required=True)
    ap.add_argument("--trace", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    test_real_trace(args.plot, args.trace, args.out)
    test_two_heaps(args.plot, args.out)
    test_bad_input(args.plot, args.out)
    if failures:
        print(f"kmt-plot test: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("kmt-plot test: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
