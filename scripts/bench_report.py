#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turns kmt_benchmarks' JSON (and kmt_bench_tests' gtest JSON) into
docs/BENCHMARKS.md and the P3 plot (Debian's python3-matplotlib,
scripts/install-deps.sh).

Every ratio in the tables comes from one benchmark of one run: kmt_benchmarks
measures the layer and its floor in the same iteration (see
tests/bench/bench_main.cpp). With repetitions, the table shows the median over
repetitions and the range.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess

# ---------------------------------------------------------------------------
# results


def load_runs(path):
    """{run_name: [counters of each repetition]} from Google Benchmark JSON."""
    with open(path) as f:
        data = json.load(f)
    runs = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        if b.get("error_occurred"):
            runs.setdefault(b.get("run_name", b["name"]), []).append({"error": b.get("error_message", "error")})
            continue
        runs.setdefault(b.get("run_name", b["name"]), []).append(b)
    return data.get("context", {}), runs


def find(runs, prefix):
    """The repetitions of the one run whose name starts with prefix (GB adds /manual_time etc.)."""
    for name, reps in runs.items():
        if name == prefix or name.startswith(prefix + "/"):
            return reps
    return None


class Stat:
    def __init__(self, values):
        self.values = [v for v in values if v is not None]

    @property
    def ok(self):
        return bool(self.values)

    @property
    def med(self):
        return statistics.median(self.values)

    @property
    def lo(self):
        return min(self.values)

    @property
    def hi(self):
        return max(self.values)


def stat(reps, key):
    if not reps:
        return Stat([])
    return Stat([r.get(key) for r in reps if "error" not in r])


def errors(reps):
    return sorted({r["error"] for r in reps or [] if "error" in r})


def fmt_ns(s):
    if not s.ok:
        return "n/a"
    v = s.med
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e4:
        return f"{v / 1e3:.1f} µs"
    return f"{v:.1f}"


def fmt_ratio(s):
    if not s.ok:
        return "n/a"
    if len(s.values) == 1:
        return f"{s.med:.2f}"
    return f"{s.med:.2f} ({s.lo:.2f}–{s.hi:.2f})"


def verdict(s, goal, lower_is_better=True):
    if not s.ok:
        return "n/a"
    return "**pass**" if (s.med <= goal if lower_is_better else s.med >= goal) else "**MISS**"


# ---------------------------------------------------------------------------
# machine


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ---------------------------------------------------------------------------
# P3 plot (Debian's python3-matplotlib, as tools/kmt-plot)


def plot_p3(path, lives, ns_series, bytes_series, goal_bytes, band):
    """Two panels over the live-allocation counts: ns per allocation and bytes
    per tracked allocation. Series: [(label, (r, g, b), [value or None], dashed)]."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_ns, ax_b) = plt.subplots(1, 2, figsize=(14, 5.6), dpi=100)

    def draw(ax, series):
        for label, color, values, dashed in series:
            pts = [(live, v) for live, v in zip(lives, values) if v is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], label=label, color=[c / 255 for c in color],
                        linestyle="--" if dashed else "-", marker="s", linewidth=2.5)
        ax.set_xscale("log")
        ax.set_xticks(lives)
        ax.set_xticklabels([f"$10^{len(str(live)) - 1}$" for live in lives])
        ax.set_xlabel("live allocations")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)

    draw(ax_ns, ns_series)
    if band:
        ax_ns.axhspan(band[0] * 0.8, band[0] * 1.2, color="#7878c8", alpha=0.12, label="±20 % of memory at $10^3$")
    ax_ns.set_title("P3: offer + reclaim ns per allocation (batch 64)")
    ax_ns.set_ylabel("ns")
    ax_ns.legend(loc="upper left", fontsize=9)

    draw(ax_b, bytes_series)
    ax_b.axhline(goal_bytes, color="#c80000", linestyle="--", linewidth=1.5, label=f"goal {goal_bytes} B")
    top = max([v for _, _, values, _ in bytes_series for v in values if v is not None] + [goal_bytes])
    ax_b.set_ylim(0, top * 1.15)
    ax_b.set_title("P3: layer bytes per tracked allocation")
    ax_b.set_ylabel("bytes")
    ax_b.legend(loc="upper left", fontsize=9)

    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------
# report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--tests", help="kmt_bench_tests --gtest_output=json file")
    ap.add_argument("--markdown", required=True)
    ap.add_argument("--plot", required=True)
    ap.add_argument("--command", default="scripts/bench.sh")
    ap.add_argument("--build-type", default="")
    args = ap.parse_args()

    context, runs = load_runs(args.results)
    md = []
    w = md.append
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = sh(f"git -C '{root}' rev-parse --short HEAD")
    dirty = sh(f"git -C '{root}' status --porcelain --untracked-files=no -- layer include")
    mesa = sh("dpkg-query -W -f='${Version}' mesa-vulkan-drivers")
    loader = sh("dpkg-query -W -f='${Version}' libvulkan1")

    w("# Benchmarks")
    w("")
    w("Generated by `scripts/bench.sh` (do not edit by hand). Every ratio is the layer against a floor measured")
    w("**in the same benchmark of the same run**: each iteration times a block of the layer variant and a block of")
    w("each reference variant back to back (order rotating), and the ratio is the median over iterations of the")
    w("per-iteration ratio. With several repetitions a cell shows the median over repetitions and (min–max).")
    w("Clocks: offer/reclaim and alloc/free blocks in thread CPU time (all their work runs on the calling thread),")
    w("creation in process CPU time, submits in wall-clock time (see tests/bench/bench_main.cpp).")
    w("Stacks (no validation layer, which would hide the layer's cost): `bench_layer` = VK_LAYER_KMT_offer_reclaim →")
    w("VK_LAYER_KMT_test_driver → lavapipe; `bench_floor` = VK_LAYER_KMT_test_driver → lavapipe.")
    w("")
    w("## Machine and run")
    w("")
    w(f"- date: {context.get('date', datetime.datetime.now().isoformat())}")
    w(f"- command: `{args.command}`")
    w(f"- CPU: {cpu_model()}, {context.get('num_cpus', '?')} logical CPUs at {context.get('mhz_per_cpu', '?')} MHz;"
      f" load average at start {', '.join(f'{x:.2f}' for x in context.get('load_avg', []))}")
    w(f"- OS: {platform.system()} {platform.release()}; Vulkan loader {loader}; Mesa {mesa}"
      f" ({context.get('kmt_vulkan_device', '?')}, Vulkan {context.get('kmt_vulkan_api', '?')})")
    w(f"- build: {args.build_type or '?'}; commit {commit or '?'}{' + uncommitted layer changes' if dirty else ''};"
      f" Google Benchmark {context.get('library_build_type', '?')} library")
    w("")

    # ---- P1 ----
    w("## P1 — offer + reclaim per allocation, 10^3 to 10^6 live allocations, both floors")
    w("")
    w("Layer: `vkOfferAllocationsKMT` + `vkReclaimAllocationsKMT` of the batch (priority LOW, `OFFER_IMMEDIATELY`,")
    w("results requested, default policy), allocations visited in a fixed shuffled order, through")
    w("`vkGetDeviceProcAddr` pointers. **Bookkeeping floor** (`offer_reclaim/*`): one `std::unordered_map::find`")
    w("keyed by the handle over the same live set + a field write per allocation, no driver call; the layer")
    w("device's driver has no pageable memory, so the layer calls no driver either. **Priority floor**")
    w("(`offer_reclaim_priority/memory/*`): the find plus `vkSetDeviceMemoryPriorityEXT` demote + restore on a")
    w("layer-less pageable device, against the layer on a pageable device (which makes the same two calls).")
    w("Goal: ratio ≤ 1.00 by memory at batches 64 and 4096; batch 1 and by resource reported.")
    w("")
    lives_p1 = [n for n in (1000, 10000, 100000, 1000000) if find(runs, f"offer_reclaim/memory/batch:64/live:{n}")]
    w("| live | batch | by memory: layer ns | bookkeeping floor ns | ratio | goal ≤ 1.00 |"
      " by resource: layer ns | ratio | priority floor: layer ns | floor ns | ratio |")
    w("|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for live in lives_p1:
        for batch in (1, 64, 4096):
            m = find(runs, f"offer_reclaim/memory/batch:{batch}/live:{live}")
            if not m:
                continue
            res = find(runs, f"offer_reclaim/resource/batch:{batch}/live:{live}")
            pri = find(runs, f"offer_reclaim_priority/memory/batch:{batch}/live:{live}")
            r = stat(m, "ratio")
            goal = verdict(r, 1.0) if batch != 1 else "(reported)"
            err = errors(m) + errors(res) + errors(pri)
            w(f"| 10^{len(str(live)) - 1} | {batch} | {fmt_ns(stat(m, 'layer_ns'))} | {fmt_ns(stat(m, 'floor_ns'))} | "
              f"{fmt_ratio(r)} | {goal}{' ' + '; '.join(err) if err else ''} | {fmt_ns(stat(res, 'layer_ns'))} | "
              f"{fmt_ratio(stat(res, 'ratio'))} | {fmt_ns(stat(pri, 'layer_ns'))} | {fmt_ns(stat(pri, 'floor_ns'))} | "
              f"{fmt_ratio(stat(pri, 'ratio'))} |")
    w("")

    # ---- P2 ----
    w("## P2 — pass-through overhead")
    w("")
    w("Four devices in one loop, none enabling any extension of its own except `on`: **floor** (bench_floor),")
    w("**twin** (a second identical bench_floor device: the A/A ratio shows how much two layer-less lavapipe devices")
    w("differ, i.e. the resolution of these ratios), **off** (bench_layer, VK_KMT_offer_reclaim not enabled) and")
    w("**on** (bench_layer, enabled). ns per call (median block).")
    w("")
    w("| operation | floor ns | A/A twin | off ratio | goal (off) | on ratio | goal (on) |")
    w("|---|---:|---:|---:|---|---:|---|")
    p2 = [("vkAllocateMemory + vkFreeMemory (4 KiB)", "pass_through/alloc_free", 1.05, 1.05),
          ("vkQueueSubmit, empty (0 batches)", "pass_through/submit_empty", 1.02, 1.10),
          ("64 × vkQueueSubmit, empty, + vkQueueWaitIdle (per submit)", "pass_through/submit_empty_wait64", 1.02,
           1.10),
          ("vkQueueSubmit, 1 command buffer", "pass_through/submit_1cb", 1.02, 1.10)]
    for label, name, goal_off, goal_on in p2:
        reps = find(runs, name)
        off, on = stat(reps, "ratio_off"), stat(reps, "ratio_on")
        w(f"| {label} | {fmt_ns(stat(reps, 'floor_ns'))} | {fmt_ratio(stat(reps, 'ratio_twin'))} | {fmt_ratio(off)} | "
          f"≤ {goal_off:.2f} {verdict(off, goal_off)} | {fmt_ratio(on)} | ≤ {goal_on:.2f} {verdict(on, goal_on)} |")
    for label, name in (("instance + device creation, cold (libraries loaded anew)", "create/instance_device/cold"),
                        ("instance + device creation, warm (libraries resident)", "create/instance_device/warm"),
                        ("instance + device creation, implicit manifest, ENABLE=1 vs DISABLE=1",
                         "create/instance_device/implicit")):
        reps = find(runs, name)
        off, on = stat(reps, "ratio_off"), stat(reps, "ratio_on")
        w(f"| {label} | {fmt_ns(stat(reps, 'floor_ns'))} | – | {fmt_ratio(off)} | ≤ 1.05 {verdict(off, 1.05)} | "
          f"{fmt_ratio(on)} | ≤ 1.05 {verdict(on, 1.05)} |")
    w("")
    w("A device that did not enable the extension gets the next layer's own `vkQueueSubmit`, `vkAllocateMemory`,")
    w("`vkFreeMemory` … from `vkGetDeviceProcAddr` (test `ProcAddr.DeviceWithoutTheExtensionGetsTheNextLayersSubmit"
      "AndMemoryCommands`): its overhead is zero by construction, and its timing ratio can only differ from 1 by")
    w("device-to-device noise, which the A/A column measures. Command recording: every `vkCmd*` of the headers")
    w("resolves to the same pointer with and without the layer (test `ProcAddr.CommandRecordingPointersAreTheDrivers"
      "WithAndWithoutTheLayer`).")
    w("")

    # ---- P3 ----
    lives = [1000, 10000, 100000, 1000000]
    w("## P3 — scaling from 10^3 to 10^6 live allocations (batch 64) and memory per tracked allocation")
    w("")
    w("Goal: layer ns/allocation within ±20 % across the range (here: of its value at 10^3); ≤ 64 B per tracked")
    w("allocation.")
    w("")
    w("| live | memory: layer ns | Δ vs 10^3 | resource: layer ns | Δ vs 10^3 | floor ns | ratio (memory) |")
    w("|---:|---:|---:|---:|---:|---:|---:|")
    series = {"memory": [], "resource": [], "floor": []}
    base = {}
    worst = {"memory": 0.0, "resource": 0.0}
    for live in lives:
        cells = []
        for mode in ("memory", "resource"):
            reps = find(runs, f"offer_reclaim/{mode}/batch:64/live:{live}")
            s = stat(reps, "layer_ns")
            series[mode].append(s.med if s.ok else None)
            if s.ok and mode not in base:
                base[mode] = s.med
            if s.ok and mode in base:
                d = s.med / base[mode] - 1
                worst[mode] = max(worst[mode], abs(d))
                cells += [fmt_ns(s), f"{d * 100:+.0f} %"]
            else:
                cells += [fmt_ns(s), "n/a"]
        reps = find(runs, f"offer_reclaim/memory/batch:64/live:{live}")
        f = stat(reps, "floor_ns")
        series["floor"].append(f.med if f.ok else None)
        w(f"| 10^{len(str(live)) - 1} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | {fmt_ns(f)} | "
          f"{fmt_ratio(stat(reps, 'ratio'))} |")
    w("")
    for mode in ("memory", "resource"):
        if mode in base:
            w(f"- {mode}: largest deviation {worst[mode] * 100:.0f} % → "
              f"{'**pass**' if worst[mode] <= 0.20 else '**MISS**'} (goal ±20 %)")
    w("")
    w("| live | bytes per tracked VkDeviceMemory | bytes per tracked buffer/image | record sizes (memory / resource) |"
      " heap delta per allocation, layer stack − floor stack |")
    w("|---:|---:|---:|---:|---:|")
    bytes_mem, bytes_res, heap = [], [], []
    for live in lives:
        fp = find(runs, f"footprint/tracker/live:{live}")
        m, r = stat(fp, "memory_B"), stat(fp, "resource_B")
        h = stat(find(runs, f"offer_reclaim/memory/batch:64/live:{live}"), "layer_heap_B")
        bytes_mem.append(m.med if m.ok else None)
        bytes_res.append(r.med if r.ok else None)
        heap.append(h.med if h.ok else None)
        rec = f"{stat(fp, 'memory_record_B').med:.0f} / {stat(fp, 'resource_record_B').med:.0f}" if m.ok else "n/a"
        w(f"| 10^{len(str(live)) - 1} | {m.med:.1f} {verdict(m, 64)} | {r.med:.1f} | {rec} | "
          f"{(f'{h.med:.1f}' if h.ok else 'n/a')} |" if m.ok else f"| 10^{len(str(live)) - 1} | n/a | n/a | n/a | n/a |")
    w("")
    w("Bytes per tracked allocation are exact: `kmt_map_footprint` + `kmt_pool_footprint` of a `kmt_tracker` (the")
    w("code the layer runs) after tracking N allocations and N bound buffers, divided by N. The heap delta (glibc")
    w("`mallinfo2`, while the live sets were built) cross-checks it on the real stack (it is low where the set")
    w("reuses table and pool capacity that an earlier benchmark left behind, as at 10^3). Process RSS is not used:")
    w("lavapipe page-aligns every allocation (~3.3 KB RSS per 64-byte allocation on the floor stack), which")
    w("swamps the layer's share.")
    w("")
    plot_name = os.path.basename(args.plot)
    plot_p3(args.plot, lives,
            [("layer, by memory", (31, 119, 180), series["memory"], False),
             ("layer, by resource", (255, 127, 14), series["resource"], False),
             ("floor", (110, 110, 110), series["floor"], True)],
            [("per VkDeviceMemory", (31, 119, 180), bytes_mem, False),
             ("per buffer/image", (255, 127, 14), bytes_res, False)],
            64, [base["memory"]] if "memory" in base else None)
    w(f"![P3 scaling]({plot_name})")
    w("")

    # ---- tracing ----
    w("## Tracing: compiled out vs built in but off vs on")
    w("")
    w("`trace/offer_reclaim/batch:B/live:N` (tests/bench/bench_trace.cpp): offer + reclaim per allocation on four")
    w("devices in one loop, all with VK_KMT_offer_reclaim: **notrace** (the layer built with `KMT_TRACING=OFF`, the")
    w("floor), **twin** (a second notrace device: the A/A resolution), **off** (the layer as shipped, `TRACE` unset)")
    w("and **on** (`TRACE` set, `TRACE_MAX_MB=16`: full, dropping its oldest events). Per state change: (on − off)")
    w("per allocation / 2; per trace event: / (4 + 2/batch) (2 state changes and 2 counter samples per allocation,")
    w("2 call spans per batch). Goal: off ≤ 1.02 × notrace.")
    w("")
    w("| batch | live | notrace ns/alloc | A/A twin | off ratio | goal ≤ 1.02 | on ns/alloc | ns per state change |"
      " ns per trace event |")
    w("|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for live in (1000, 10000):
        for batch in (1, 64):
            reps = find(runs, f"trace/offer_reclaim/batch:{batch}/live:{live}")
            if not reps:
                continue
            off = stat(reps, "ratio_off")
            w(f"| {batch} | 10^{len(str(live)) - 1} | {fmt_ns(stat(reps, 'notrace_ns'))} | "
              f"{fmt_ratio(stat(reps, 'ratio_twin'))} | {fmt_ratio(off)} | {verdict(off, 1.02)} | "
              f"{fmt_ns(stat(reps, 'on_ns'))} | {fmt_ns(stat(reps, 'change_ns'))} | {fmt_ns(stat(reps, 'event_ns'))} |")
    w("")

    # ---- VK_KMT_residency (issue 15) ----
    w("## Residency — make-resident + evict per allocation (VK_KMT_residency)")
    w("")
    w("The residency device `npr` (bench_lvp: the layer on lavapipe, no pageable memory, VK_KMT_residency")
    w("enabled) against the same bookkeeping floor as offer_reclaim, paired in each iteration:")
    w("`evict_make_resident` evicts (count 1 → 0, EVICTED) then makes resident (0 → 1, the budget check),")
    w("`make_resident_evict` only moves the reference counts (1 → 2 → 1). offer + reclaim of the same batch")
    w("against the same floor is shown for comparison.")
    w("")
    w("| live | batch | evict + make resident: layer ns | ratio | make resident + evict: layer ns | ratio |"
      " offer + reclaim: layer ns | ratio |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for live in lives:
        for batch in (1, 64, 4096):
            t = find(runs, f"residency/evict_make_resident/batch:{batch}/live:{live}")
            c = find(runs, f"residency/make_resident_evict/batch:{batch}/live:{live}")
            o = find(runs, f"offer_reclaim/memory/batch:{batch}/live:{live}")
            if not t and not c:
                continue
            w(f"| 10^{len(str(live)) - 1} | {batch} | {fmt_ns(stat(t, 'layer_ns'))} | {fmt_ratio(stat(t, 'ratio'))} | "
              f"{fmt_ns(stat(c, 'layer_ns'))} | {fmt_ratio(stat(c, 'ratio'))} | {fmt_ns(stat(o, 'layer_ns'))} | "
              f"{fmt_ratio(stat(o, 'ratio'))} |")
    w("")

    # ---- P5 and the tests ----
    w("## P5 and the non-timing goals (kmt_bench_tests)")
    w("")
    if args.tests and os.path.exists(args.tests):
        with open(args.tests) as f:
            t = json.load(f)
        w("| test | result |")
        w("|---|---|")
        for suite in t.get("testsuites", []):
            for case in suite.get("testsuite", []):
                failed = bool(case.get("failures"))
                skipped = case.get("result") == "SKIPPED" or case.get("status") == "NOTRUN"
                res = "**FAILED**" if failed else ("skipped" if skipped else "passed")
                w(f"| {suite['name']}.{case['name']} | {res} |")
    else:
        w("kmt_bench_tests was not run.")
    w("")
    w("`NoPagingWork.ReclaimOfIntactMemoryReportsFenceZeroAndSignalsNothing` is P5: on the full test stack")
    w("(validation included) with a device-local-only memory type, reclaims of OFFER_PENDING, OFFERED (by memory and")
    w("by resource) and resident memory all return paging fence value 0 and the paging timeline semaphore is still 0")
    w("afterwards; `PagingWorkControl` shows that a discarded allocation of the same type does move it.")
    w("")

    with open(args.markdown, "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
