#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The engine's benchmark suite: build, run, report.

    bench.py run     build the kernels, run every benchmark on every runtime in
                     interleaved rounds, write the raw results (JSON) and the report
    bench.py report  regenerate the report (rst + SVG) from the raw results
    bench.py smoke   run every benchmark once, small, on the engine and natively,
                     and check the results agree
    bench.py child RUNTIME FILE N
                     (internal) time one call of run(N) on wasm3 or wasmtime

scripts/bench.sh installs the runtimes into the cache and calls this with the
paths in the environment (see there). Every runner prints `RESULT CPU_NS`: the
checksum run(N) returned and the CPU time of that call alone (see METHOD).
"""

import datetime
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
C_DIR = os.path.join(HERE, "c")
DOC_DIR = os.path.join(TOP, "Documentation", "wasm")
DATA = os.path.join(DOC_DIR, "evaluation-data.json")
REPORT = os.path.join(DOC_DIR, "evaluation.rst")
TEMPLATE = os.path.join(HERE, "evaluation.rst.in")

# name, kind, N of `make bench`, N of the smoke run, what it measures.
BENCHMARKS = [
    ("fib", "compute", 35, 20, "recursion: doubly recursive Fibonacci"),
    ("collatz", "compute", 400000, 5000, "integer loops: Collatz sequence lengths, 64-bit"),
    ("sieve", "compute", 15, 1, "sieve of Eratosthenes, 1 MiB of flags"),
    ("quicksort", "compute", 4, 1, "quicksort of 256 Ki words"),
    ("crc32", "compute", 500, 5, "table-driven CRC-32 over 64 KiB"),
    ("hashtable", "compute", 30, 1, "open-addressing hash table, 64 Ki slots"),
    ("matmul-int", "compute", 15, 1, "32-bit integer matrix multiply, 128 x 128"),
    ("matmul-f64", "compute", 30, 1, "f64 matrix multiply, 96 x 96"),
    ("nbody", "compute", 300000, 3000, "n-body simulation, f64 with sqrt"),
    ("mandelbrot", "compute", 1000, 64, "Mandelbrot set, f64"),
    ("coremark", "compute", 4000, 40, "CoreMark-like mix: lists, matrices, state machine"),
    ("call", "micro", 8000000, 50000, "call overhead: direct and indirect calls"),
    ("memory", "micro", 4000, 20, "loads and stores of every width"),
    ("hostcall", "micro", 3000000, 20000, "host-call cost: an imported function"),
]

# Host calls are served by a different implementation in every runtime (see METHOD):
# the benchmark is reported, but left out of the geometric means.
NOT_IN_GEOMEAN = {"hostcall"}

RUNTIMES = ["native", "engine", "engine-a32", "engine-nojt", "engine-threaded", "wasmi", "wasm3",
            "wasmtime"]
LABELS = {
    "native": "native (gcc -O2)",
    "engine": "this engine",
    # The same engine built with its interpreter loop's header aligned to 32 bytes: a
    # control for code layout (see Method in evaluation.rst.in), not a configuration.
    "engine-a32": "engine, loop aligned",
    # The same engine built as the kernel builds Rust on x86, without jump tables (so with
    # the tiered dispatch): what the kernel's dispatch costs on this CPU, which the VM's
    # emulated CPU cannot tell (see evaluation-kernel.rst).
    "engine-nojt": "engine, no jump tables",
    # That build with the call-threaded dispatch (the driver's threaded=1): what the kernel
    # gets where indirect calls are plain instructions (no retpolines or return thunks).
    "engine-threaded": "engine, no JT, threaded",
    "wasmi": "wasmi",
    "wasm3": "wasm3",
    "wasmtime": "wasmtime (JIT)",
}
COLOURS = {
    "native": "#555555",
    "engine": "#d62728",
    "engine-a32": "#ff9896",
    "engine-nojt": "#8c564b",
    "engine-threaded": "#e377c2",
    "wasmi": "#1f77b4",
    "wasm3": "#2ca02c",
    "wasmtime": "#9467bd",
}

WASM_CFLAGS = [
    "--target=wasm32", "-mcpu=mvp", "-msign-ext", "-mmutable-globals", "-O2",
    "-nostdlib", "-Wall", "-Wextra", "-Werror",
]
WASM_LDFLAGS = ["-Wl,--no-entry", "-Wl,--strip-all", "-Wl,-z,stack-size=65536"]
NATIVE_CFLAGS = ["-O2", "-fno-math-errno", "-Wall", "-Wextra", "-Werror"]


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"bench.py: {name} is not set (run me through scripts/bench.sh)")
    return value


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        return out.splitlines()[0].strip()
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


# Building -----------------------------------------------------------------------------


def build(out_dir):
    """Builds every kernel to out_dir/NAME.wasm (clang) and out_dir/NAME.native (gcc)."""
    clang, cc = env("BENCH_CLANG"), env("BENCH_CC")
    os.makedirs(out_dir, exist_ok=True)
    # memset and memcpy for the WebAssembly modules; -ffreestanding keeps clang from
    # turning their loops back into calls of themselves.
    libc = os.path.join(out_dir, "libc.o")
    subprocess.run([clang, *WASM_CFLAGS, "-ffreestanding", "-c", "-o", libc,
                    os.path.join(C_DIR, "libc.c")], check=True)
    for name, *_ in BENCHMARKS:
        src = os.path.join(C_DIR, f"{name}.c")
        wasm = os.path.join(out_dir, f"{name}.wasm")
        native = os.path.join(out_dir, f"{name}.native")
        subprocess.run([clang, *WASM_CFLAGS, *WASM_LDFLAGS, "-o", wasm, src, libc],
                       check=True)
        subprocess.run([cc, *NATIVE_CFLAGS, "-o", native, src,
                        os.path.join(C_DIR, "native.c"), "-lm"], check=True)


# Running ------------------------------------------------------------------------------


def child_cpu_ns():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int((r.ru_utime + r.ru_stime) * 1e9)


def run_child(argv):
    """Runs one runner process; returns (stdout, CPU time of the whole process in ns)."""
    before = child_cpu_ns()
    p = subprocess.run(argv, capture_output=True, text=True)
    total = child_cpu_ns() - before
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout, total


def parse_result(out):
    """`RESULT CPU_NS` (our runners) or wasmi's printed result; returns (result, ns)."""
    words = out.split()
    if len(words) == 2:
        return int(words[0]) & 0xFFFFFFFF, int(words[1])
    if len(words) == 1:
        return int(words[0]) & 0xFFFFFFFF, None
    raise RuntimeError(f"unexpected runner output {out!r}")


def runner_argv(runtime, build_dir, name, n):
    wasm = os.path.join(build_dir, f"{name}.wasm")
    if runtime == "native":
        return [os.path.join(build_dir, f"{name}.native"), str(n)]
    if runtime == "engine":
        return [env("BENCH_ENGINE"), wasm, str(n)]
    if runtime == "engine-a32":
        return [env("BENCH_ENGINE_A32"), wasm, str(n)]
    if runtime == "engine-nojt":
        return [env("BENCH_ENGINE_NOJT"), wasm, str(n)]
    if runtime == "engine-threaded":
        return [env("BENCH_ENGINE_NOJT"), "--threaded", wasm, str(n)]
    if runtime == "wasmi":
        return [env("BENCH_WASMI"), "run", "--compilation-mode", "eager",
                "--invoke", "run", wasm, str(n)]
    return [env("BENCH_PYTHON"), os.path.abspath(__file__), "child", runtime, wasm, str(n)]


def measure(runtime, build_dir, name, n):
    """One timed call: (result, CPU ns of the call, CPU ns of the whole process)."""
    out, total = run_child(runner_argv(runtime, build_dir, name, n))
    result, ns = parse_result(out)
    if runtime == "wasmi":
        # wasmi's command line cannot time the call: time the process, and subtract a
        # process that does the same (start, WASI set-up, parse, eager translation,
        # instantiation) and calls run(0), which returns at once.
        out0, total0 = run_child(runner_argv(runtime, build_dir, name, 0))
        ns = max(total - total0, 0)
    return result, ns, total


def cpu_busy_jiffies():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    return sum(fields[:3]) + sum(fields[5:8])


def run_suite(build_dir, rounds):
    runs = []
    hz = os.sysconf("SC_CLK_TCK")
    busy0, wall0 = cpu_busy_jiffies(), time.monotonic()
    ours0 = child_cpu_ns() + int(time.process_time() * 1e9)
    load0 = os.getloadavg()
    for r in range(rounds):
        for b, (name, _, n, _, _) in enumerate(BENCHMARKS):
            # Rotate the order of the runtimes from benchmark to benchmark and round to
            # round, so that no runtime always runs right after another.
            k = (r + b) % len(RUNTIMES)
            for runtime in RUNTIMES[k:] + RUNTIMES[:k]:
                result, ns, total = measure(runtime, build_dir, name, n)
                runs.append({"round": r, "benchmark": name, "runtime": runtime, "n": n,
                             "result": result, "cpu_ns": ns, "process_cpu_ns": total})
                log(f"round {r + 1}/{rounds} {name:11} {runtime:9} {ns / 1e6:9.1f} ms")
    wall = time.monotonic() - wall0
    busy = (cpu_busy_jiffies() - busy0) / hz
    ours = (child_cpu_ns() + int(time.process_time() * 1e9) - ours0) / 1e9
    load = {
        "wall_seconds": round(wall, 1),
        "cores": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in load0],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        # CPU time everybody else used while the suite ran, in cores.
        "other_cores": round(max(busy - ours, 0.0) / wall, 2),
    }
    return runs, load


def check_results(runs):
    """Every run's result must be native's; returns the list of mismatches."""
    native = {(x["benchmark"], x["n"]): x["result"] for x in runs if x["runtime"] == "native"}
    return [x for x in runs if x["result"] != native.get((x["benchmark"], x["n"]))]


def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    python = env("BENCH_PYTHON")

    def pkg_version(pkg):
        return tool_version([python, "-c", f"import importlib.metadata as m; print(m.version({pkg!r}))"])

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "os": tool_version(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "clang": tool_version([env("BENCH_CLANG"), "--version"]),
        "gcc": tool_version([env("BENCH_CC"), "--version"]),
        "rustc": tool_version([os.environ.get("BENCH_RUSTC", "rustc"), "--version"]),
        "wasmi": tool_version([env("BENCH_WASMI"), "--version"]),
        "wasm3": "pywasm3 " + pkg_version("pywasm3"),
        "wasmtime": "wasmtime-py " + pkg_version("wasmtime"),
        "python": tool_version([python, "--version"]),
        # The last commit that changed the engine.
        "engine_commit": tool_version(["git", "-C", TOP, "log", "-1", "--format=%h %s", "--",
                                       "drivers/wasm/engine"]),
        "engine_dirty": subprocess.run(
            ["git", "-C", TOP, "diff", "--quiet", "HEAD", "--", "drivers/wasm/engine"]
        ).returncode != 0,
    }


def write_data(meta, load, rounds, runs):
    with open(DATA, "w") as f:
        f.write("{\n")
        f.write(f'"date": {json.dumps(meta.pop("date"))},\n')
        f.write(f'"rounds": {rounds},\n')
        f.write(f'"machine": {json.dumps(meta, sort_keys=True)},\n')
        f.write(f'"load": {json.dumps(load, sort_keys=True)},\n')
        f.write('"runs": [\n')
        f.write(",\n".join(json.dumps(x, sort_keys=True) for x in runs))
        f.write("\n]\n}\n")


# Statistics ---------------------------------------------------------------------------


def median(xs):
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def summarise(data):
    """Medians per (benchmark, runtime), ratios, geometric means."""
    times = {}
    for x in data["runs"]:
        times.setdefault((x["benchmark"], x["runtime"]), []).append(x["cpu_ns"])
    med = {k: median(v) for k, v in times.items()}
    # The spread of the rounds: (max - min) / median, the worst over the benchmarks.
    spread = {}
    for (b, rt), v in times.items():
        if med[(b, rt)] > 0:
            spread[rt] = max(spread.get(rt, 0.0), (max(v) - min(v)) / med[(b, rt)])
    names = [b for b, *_ in BENCHMARKS if (b, "native") in med]
    ratio = {}
    for b in names:
        for rt in RUNTIMES:
            if (b, rt) in med:
                ratio[(b, rt, "native")] = med[(b, rt)] / max(med[(b, "native")], 1)
                ratio[(b, rt, "wasmi")] = med[(b, rt)] / max(med[(b, "wasmi")], 1)
    geo = {}
    for base in ("native", "wasmi"):
        for rt in RUNTIMES:
            for kind in ("all", "compute"):
                xs = [ratio[(b, rt, base)] for b in names
                      if b not in NOT_IN_GEOMEAN and (b, rt, base) in ratio
                      and (kind == "all" or kind_of(b) == kind)]
                geo[(rt, base, kind)] = geomean(xs)
    return names, med, ratio, geo, spread


def kind_of(name):
    return next(k for b, k, *_ in BENCHMARKS if b == name)


def describe(name):
    return next(d for b, _, _, _, d in BENCHMARKS if b == name)


# Report -------------------------------------------------------------------------------


def rst_table(header, rows, title=None):
    cols = [header] + rows
    widths = [max(len(str(r[i])) for r in cols) for i in range(len(header))]
    sep = "  ".join("=" * w for w in widths)

    def numeric(c):
        return re.fullmatch(r"[0-9.]*", str(c)) is not None

    # Names and text to the left, numbers to the right.
    left = [i == 0 or not all(numeric(r[i]) for r in rows) for i in range(len(header))]

    def line(r):
        return "  ".join(str(c).ljust(w) if left[i] else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    out = [sep, line(header), sep] + [line(r) for r in rows] + [sep]
    return "\n".join(out)


def fmt_ratio(x):
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def fmt_ms(ns):
    ms = ns / 1e6
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def svg_bars(path, title, names, series, xlabel, log_scale, marks=()):
    """A horizontal grouped bar chart: series is [(label, colour, {name: value})]."""
    bar_h, gap, left, right, top = 9, 8, 110, 40, 46
    group_h = bar_h * len(series) + gap
    width = 720
    height = top + group_h * len(names) + 70
    values = [v for _, _, d in series for v in d.values() if v > 0]
    lo = 0.5 if log_scale else 0.0
    hi = max(values + [m for m, _ in marks]) * 1.15
    if log_scale:
        lo = min([lo] + values)
        span = math.log10(hi) - math.log10(lo)

        def x_of(v):
            return left + (width - left - right) * (math.log10(max(v, lo)) - math.log10(lo)) / span
    else:
        def x_of(v):
            return left + (width - left - right) * v / hi
    out = [
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<!-- SPDX-License-Identifier: GPL-2.0 -->",
        "<!-- Generated by tools/wasm/bench/bench.py from evaluation-data.json; do not edit. -->",
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14">{title}</text>',
    ]
    # Grid lines and their labels.
    ticks = []
    if log_scale:
        t = 10 ** math.floor(math.log10(lo))
        while t <= hi:
            for m in (1, 2, 5):
                if lo <= t * m <= hi:
                    ticks.append(t * m)
            t *= 10
    else:
        step = 0.25 if hi <= 2.5 else 0.5 if hi <= 5 else 1.0
        ticks = [i * step for i in range(int(hi / step) + 1)]
    bottom = top + group_h * len(names)
    for t in ticks:
        x = x_of(t)
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" '
                   'stroke="#dddddd"/>')
        label = f"{t:g}"
        out.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">{label}</text>')
    for m, colour in marks:
        x = x_of(m)
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" '
                   f'stroke="{colour}" stroke-dasharray="4,3"/>')
    out.append(f'<text x="{(left + width - right) / 2:.0f}" y="{bottom + 32}" '
               f'text-anchor="middle">{xlabel}</text>')
    for i, name in enumerate(names):
        y0 = top + i * group_h
        out.append(f'<text x="{left - 6}" y="{y0 + group_h / 2:.1f}" text-anchor="end" '
                   f'dominant-baseline="middle">{name}</text>')
        for j, (_, colour, d) in enumerate(series):
            v = d.get(name)
            if v is None or v <= 0:
                continue
            y = y0 + j * bar_h
            w = max(x_of(v) - left, 1)
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 1}" '
                       f'fill="{colour}"/>')
            out.append(f'<text x="{left + w + 3:.1f}" y="{y + bar_h - 1.5}" '
                       f'font-size="8">{fmt_ratio(v)}</text>')
    # Legend.
    lx = left
    for label, colour, _ in series:
        out.append(f'<rect x="{lx}" y="{top - 22}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{top - 13}">{label}</text>')
        lx += 30 + 7 * len(label)
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def report(data):
    names, med, ratio, geo, spread = summarise(data)
    m, load = data["machine"], data["load"]
    present = {x["runtime"] for x in data["runs"]}
    wasm_rts = [rt for rt in RUNTIMES if rt != "native" and rt in present]
    vs_wasmi = [rt for rt in wasm_rts if rt != "wasmi"]

    # Table 1: CPU time of native and each runtime's ratio to native.
    rows = []
    for b in names:
        rows.append([b, fmt_ms(med[(b, "native")])]
                    + [fmt_ratio(ratio[(b, rt, "native")]) for rt in wasm_rts])
    for kind, label in (("all", "geomean"), ("compute", "geomean, compute")):
        rows.append([label, ""] + [fmt_ratio(geo[(rt, "native", kind)]) for rt in wasm_rts])
    t_native = rst_table(["benchmark", "native ms"] + [LABELS[rt] for rt in wasm_rts], rows)

    # Table 2: against wasmi.
    rows = []
    for b in names:
        rows.append([b, fmt_ms(med[(b, "wasmi")]), fmt_ms(med[(b, "engine")])]
                    + [fmt_ratio(ratio[(b, rt, "wasmi")]) for rt in vs_wasmi])
    for kind, label in (("all", "geomean"), ("compute", "geomean, compute")):
        rows.append([label, "", ""]
                    + [fmt_ratio(geo[(rt, "wasmi", kind)]) for rt in vs_wasmi])
    short = {"engine": "engine", "engine-a32": "aligned", "engine-nojt": "no JT",
             "engine-threaded": "threaded"}
    t_wasmi = rst_table(["benchmark", "wasmi ms", "engine ms"]
                        + [f"{short.get(rt, rt)} / wasmi" for rt in vs_wasmi], rows)

    t_bench = rst_table(["benchmark", "N", "what it measures"],
                        [[b, str(n), d] for b, _, n, _, d in BENCHMARKS])

    engine_vs_wasmi = {b: ratio[(b, "engine", "wasmi")] for b in names}
    counted = [b for b in names if b not in NOT_IN_GEOMEAN]
    worst = max(counted, key=lambda b: engine_vs_wasmi[b])
    best = min(counted, key=lambda b: engine_vs_wasmi[b])
    over = [b for b in counted if engine_vs_wasmi[b] > 1.5]

    svg_bars(os.path.join(DOC_DIR, "evaluation-native.svg"),
             "CPU time relative to native code (gcc -O2), log scale; lower is faster",
             names, [(LABELS[rt], COLOURS[rt], {b: ratio[(b, rt, "native")] for b in names})
                     for rt in wasm_rts],
             "time / native time", True)
    svg_bars(os.path.join(DOC_DIR, "evaluation-wasmi.svg"),
             "This engine's CPU time relative to wasmi's; lower is faster",
             names, [(LABELS[rt], COLOURS[rt], {b: ratio[(b, rt, "wasmi")] for b in names})
                     for rt in ("engine", "engine-a32", "engine-nojt", "engine-threaded")
                     if rt in present],
             "engine time / wasmi time (dashed: 1.0 and 1.5)", False,
             marks=[(1.0, COLOURS["wasmi"]), (1.5, "#999999")])

    mismatches = check_results(data["runs"])
    subst = {
        "DATE": data["date"],
        "ROUNDS": str(data["rounds"]),
        "GEO_ENGINE_WASMI": fmt_ratio(geo[("engine", "wasmi", "all")]),
        "GEO_ENGINE_NATIVE": fmt_ratio(geo[("engine", "native", "all")]),
        "GEO_ALIGNED_WASMI": (fmt_ratio(geo[("engine-a32", "wasmi", "all")])
                              if "engine-a32" in present else "not measured"),
        "GEO_NOJT_WASMI": (fmt_ratio(geo[("engine-nojt", "wasmi", "all")])
                           if "engine-nojt" in present else "not measured"),
        "GEO_NOJT_ENGINE": (fmt_ratio(geomean([ratio[(b, "engine-nojt", "wasmi")]
                                               / ratio[(b, "engine", "wasmi")]
                                               for b in counted]))
                            if "engine-nojt" in present else "not measured"),
        "GEO_THREADED_WASMI": (fmt_ratio(geo[("engine-threaded", "wasmi", "all")])
                               if "engine-threaded" in present else "not measured"),
        "GEO_THREADED_NOJT": (fmt_ratio(geomean([ratio[(b, "engine-threaded", "wasmi")]
                                                 / ratio[(b, "engine-nojt", "wasmi")]
                                                 for b in counted]))
                              if {"engine-threaded", "engine-nojt"} <= present
                              else "not measured"),
        "GEO_WASMI_NATIVE": fmt_ratio(geo[("wasmi", "native", "all")]),
        "GEO_WASM3_NATIVE": fmt_ratio(geo[("wasm3", "native", "all")]),
        "GEO_WASMTIME_NATIVE": fmt_ratio(geo[("wasmtime", "native", "all")]),
        "WORST": f"{worst} ({fmt_ratio(engine_vs_wasmi[worst])}x)",
        "BEST": f"{best} ({fmt_ratio(engine_vs_wasmi[best])}x)",
        "OVER_1_5": (", ".join(f"{b} ({fmt_ratio(engine_vs_wasmi[b])}x)" for b in over)
                     if over else "none"),
        "HOSTCALL_ENGINE_WASMI": fmt_ratio(engine_vs_wasmi.get("hostcall", float("nan"))),
        "RESULTS_OK": ("every run's result equals native's"
                       if not mismatches else
                       f"**{len(mismatches)} runs gave another result than native**: "
                       + ", ".join(sorted({f"{x['benchmark']} on {x['runtime']}"
                                           for x in mismatches}))),
        "TABLE_BENCHMARKS": t_bench,
        "TABLE_NATIVE": t_native,
        "TABLE_WASMI": t_wasmi,
        "CPU": m["cpu"],
        "CORES": str(m["cores"]),
        "KERNEL": m["kernel"],
        "OS": m["os"],
        "CLANG": m["clang"],
        "GCC": m["gcc"],
        "RUSTC": m["rustc"],
        "WASMI": m["wasmi"],
        "WASM3": m["wasm3"],
        "WASMTIME": m["wasmtime"],
        "PYTHON": m["python"],
        "ENGINE_COMMIT": m["engine_commit"] + (" (with uncommitted engine changes)"
                                               if m["engine_dirty"] else ""),
        "WALL": f"{load['wall_seconds'] / 60:.0f}",
        "OTHER_CORES": f"{load['other_cores']:.2f}",
        "LOADAVG": " / ".join(f"{x:.2f}" for x in load["loadavg_start"]) + " at the start, "
                   + " / ".join(f"{x:.2f}" for x in load["loadavg_end"]) + " at the end",
        "SPREAD": ", ".join(f"{LABELS[rt]} {spread.get(rt, 0) * 100:.0f} %"
                            for rt in RUNTIMES if rt in present),
    }
    with open(TEMPLATE) as f:
        text = f.read()
    text = re.sub(r"@([A-Z0-9_]+)@", lambda mo: subst[mo.group(1)], text)
    with open(REPORT, "w") as f:
        f.write(text)
    log(f"report: {os.path.relpath(REPORT, TOP)}: engine / wasmi geomean "
        f"{subst['GEO_ENGINE_WASMI']}, worst {subst['WORST']}")
    return mismatches


# Child runners (wasm3 and wasmtime, in the venv) --------------------------------------


def child(runtime, path, n):
    with open(path, "rb") as f:
        wasm = f.read()
    imports = b"args_sizes_get" in wasm
    if runtime == "wasm3":
        import wasm3

        environment = wasm3.Environment()
        rt = environment.new_runtime(1 << 20)
        module = environment.parse_module(wasm)
        rt.load(module)
        if imports:
            def args_sizes_get(argc, size):
                mem = rt.get_memory(0)
                mem[argc:argc + 4] = (1).to_bytes(4, "little")
                mem[size:size + 4] = (6).to_bytes(4, "little")
                return 0

            module.link_function("wasi_snapshot_preview1", "args_sizes_get", "i(ii)",
                                 args_sizes_get)
        run = rt.find_function("run")
        start = time.process_time_ns()
        result = run(n)
        ns = time.process_time_ns() - start
    elif runtime == "wasmtime":
        import wasmtime

        engine = wasmtime.Engine()
        store = wasmtime.Store(engine)
        module = wasmtime.Module(engine, wasm)
        linker = wasmtime.Linker(engine)
        if imports:
            linker.define_wasi()
            store.set_wasi(wasmtime.WasiConfig())
        instance = linker.instantiate(store, module)
        run = instance.exports(store)["run"]
        start = time.process_time_ns()
        result = run(store, n)
        ns = time.process_time_ns() - start
    else:
        sys.exit(f"bench.py child: unknown runtime {runtime}")
    print(result & 0xFFFFFFFF, ns)


# Commands -----------------------------------------------------------------------------


def cmd_run():
    build_dir = env("BENCH_BUILD")
    rounds = int(os.environ.get("BENCH_ROUNDS", "11"))
    log(f"building the kernels into {build_dir}")
    build(build_dir)
    meta = machine_info()
    meta["date"] = datetime.date.today().isoformat()
    runs, load = run_suite(build_dir, rounds)
    write_data(meta, load, rounds, runs)
    with open(DATA) as f:
        data = json.load(f)
    mismatches = report(data)
    if mismatches:
        sys.exit(f"bench: {len(mismatches)} results differ from native's (see the report)")


def cmd_report():
    with open(DATA) as f:
        data = json.load(f)
    if report(data):
        sys.exit("bench: some results differ from native's (see the report)")


def cmd_smoke():
    build_dir = env("BENCH_BUILD")
    build(build_dir)
    failed = 0
    for name, _, _, n, _ in BENCHMARKS:
        want, _ = parse_result(run_child(runner_argv("native", build_dir, name, n))[0])
        got, ns = parse_result(run_child(runner_argv("engine", build_dir, name, n))[0])
        status = "ok" if got == want else f"FAILED: engine {got}, native {want}"
        failed += got != want
        log(f"bench-smoke: {name:11} N={n:<6} {ns / 1e6:7.1f} ms  {status}")
    if failed:
        sys.exit(f"bench-smoke: {failed} benchmarks disagree with native code")
    print(f"bench-smoke: {len(BENCHMARKS)} benchmarks agree with native code")


def main():
    args = sys.argv[1:]
    if args == ["run"]:
        cmd_run()
    elif args == ["report"]:
        cmd_report()
    elif args == ["smoke"]:
        cmd_smoke()
    elif len(args) == 4 and args[0] == "child":
        child(args[1], args[2], int(args[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
