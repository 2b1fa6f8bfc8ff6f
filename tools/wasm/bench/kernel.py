#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The engine in the kernel against the same engine in userspace, in one VM.

usage: kernel.py run      build the benchmarks, run tests/vm/bench-kernel in the
                          test VM (scripts/vm.sh), write evaluation-kernel.json
                          and regenerate evaluation-kernel.rst
       kernel.py report   regenerate evaluation-kernel.rst from the JSON only

The VM runs under TCG, so only ratios mean anything: each benchmark's call
(`wasmctl --json run`'s invoke_ns) in the kernel against `wasmctl --local run`, the same
engine built for the guest's userspace, interleaved, median of BENCH_KERNEL_REPS
runs; and, as the control for the kernel's code generation, `wasmctl --local
run` built without jump tables (BENCH_WASMCTL_NOJT, from scripts/bench.sh).
The f64 benchmarks run once more in a second boot with wasm.fpu=1 (float
arithmetic on the FPU), against `wasmctl --local run` in that same boot.
Results must equal native code's (gcc -O2 on the host).

With BENCH_TCG_PLUGIN (tcg-count.c, built by scripts/bench.sh), each integer
benchmark then runs once more in each of the three places, one boot each, under
that plugin, which counts what the engine's code executed: guest instructions,
TCG translation blocks, and blocks entered from another guest page. Those
counts are exact where the times are noisy.
"""

import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import textwrap

import bench

DATA = os.path.join(bench.DOC_DIR, "evaluation-kernel.json")
PAGE = os.path.join(bench.DOC_DIR, "evaluation-kernel.rst")

# N per benchmark, sized for calls of a tenth of a second or more under TCG
# (bench.BENCHMARKS' N are for the host). hostcall imports a host function the kernel does not provide.
VM_N = {
    "fib": 29, "collatz": 20000, "sieve": 3, "quicksort": 1, "crc32": 20,
    "hashtable": 3, "matmul-int": 2, "matmul-f64": 4, "nbody": 12000,
    "mandelbrot": 256, "coremark": 160, "call": 200000, "memory": 80,
}
FLOAT = {"matmul-f64", "nbody", "mandelbrot"}


def run():
    build_dir = bench.env("BENCH_BUILD")
    bench.build(build_dir)
    extra = os.path.join(build_dir, "vm")
    os.makedirs(extra, exist_ok=True)
    expected = {}
    for name, n in VM_N.items():
        src = os.path.join(build_dir, f"{name}.wasm")
        subprocess.run(["cp", src, os.path.join(extra, f"{name}.wasm")], check=True)
        out = subprocess.run([os.path.join(build_dir, f"{name}.native"), str(n)],
                             capture_output=True, text=True, check=True).stdout
        expected[name] = bench.parse_result(out)[0]
    nojt = os.environ.get("BENCH_WASMCTL_NOJT")
    if nojt and os.path.exists(nojt):
        subprocess.run(["cp", nojt, os.path.join(extra, "wasmctl-nojt")], check=True)
    reps = int(os.environ.get("BENCH_KERNEL_REPS", "5"))
    specs = [f"{name}:{n}" for name, n in VM_N.items()]
    env = dict(os.environ, VM_EXTRA=extra, VM_TIMEOUT=os.environ.get("VM_TIMEOUT", "3000"))
    float_specs = [f"{name}:{n}" for name, n in VM_N.items() if name in FLOAT]
    append = os.environ.get("VM_APPEND", "")
    fpu_env = dict(env, VM_APPEND=f"{append} wasm.fpu=1".strip())
    lines = []
    for boot_env, boot_specs in ((env, specs), (fpu_env, float_specs)):
        proc = subprocess.run(
            [os.path.join(bench.TOP, "scripts", "vm.sh"),
             f"sh /tests/bench-kernel {reps} {' '.join(boot_specs)}"],
            capture_output=True, text=True, env=boot_env)
        lines += proc.stdout.splitlines()
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            sys.exit("bench-kernel: the VM run failed")
    runs, latency = {}, {}
    for line in lines:
        f = line.split()
        if line.startswith("@@run ") and len(f) >= 5:
            runs.setdefault(f[1], {}).setdefault(f[2], []).append(
                {"cs": int(f[3]), "ns": int(f[4]), "result": " ".join(f[5:])})
        elif line.startswith("@@latency ") and len(f) == 3:
            latency.setdefault(f[1], []).append(int(f[2]))
    counts = count_runs(extra, env)
    data = {
        "date": datetime.date.today().isoformat(),
        "machine": bench.machine_info(),
        "reps": reps,
        "benchmarks": [
            {"name": name, "n": n, "float": name in FLOAT, "expected": expected[name],
             "kernel": runs.get(name, {}).get("kernel", []),
             "local": runs.get(name, {}).get("local", []),
             "nojt": runs.get(name, {}).get("nojt", []),
             "kernel_fpu": runs.get(name, {}).get("kernel-fpu", []),
             "local_fpu": runs.get(name, {}).get("local-fpu", [])}
            for name, n in VM_N.items()
        ],
        "latency_ns": latency,
        "tcg_counts": counts,
    }
    with open(DATA, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    return report(data)


# Where the engine's code is in each place's boot: the module's text in the kernel, and
# wasmctl's, loaded at the x86-64 kernel's first position-independent executable address
# (ELF_ET_DYN_BASE) once the guest turns address randomisation off.
PIE_BASE = 0x555555554000


def engine_range(where, guest_out, binaries):
    """The (start, end) of the engine's code in that boot, from the guest's output."""
    if where == "kernel":
        for line in guest_out.splitlines():
            if line.startswith("@@text "):
                start = int(line.split()[1], 16)
                return start, start + binaries["kernel"]
        return None
    return PIE_BASE, PIE_BASE + binaries[where]


def module_text_size():
    """The size of wasm.ko's executable code, from the module file of the VM kernel."""
    module = bench.env("BENCH_WASM_KO")
    sections = subprocess.run(["readelf", "-SW", module], capture_output=True, text=True,
                              check=True).stdout
    for line in sections.splitlines():
        f = line.replace("[ ", "[").split()
        if len(f) > 5 and f[1] == ".text":
            return int(f[5], 16)
    raise SystemExit("bench-kernel: no .text in " + module)


def count_runs(extra, env):
    """Each integer benchmark once per place, one boot each, under the TCG counting plugin:
    {name: {where: {"insns", "blocks", "cross_page"}}}, or {} without the plugin."""
    plugin = os.environ.get("BENCH_TCG_PLUGIN")
    if not plugin or not os.path.exists(plugin):
        return {}
    binaries = {"kernel": module_text_size(),
                "local": os.path.getsize(bench.env("BENCH_WASMCTL")),
                "nojt": os.path.getsize(os.path.join(extra, "wasmctl-nojt"))}
    commands = {"kernel": "wasmctl", "local": "wasmctl --local",
                "nojt": "/extra/wasmctl-nojt --local"}
    counts = {}
    for name, n in VM_N.items():
        if name in FLOAT:
            continue
        for where, command in commands.items():
            out_file = os.path.join(extra, f"tcg-{name}-{where}.txt")
            guest = ("echo 0 >/proc/sys/kernel/randomize_va_space; "
                     "echo @@text $(cat /sys/module/wasm/sections/.text); "
                     f"{command} run -f /extra/{name}.wasm --invoke run {n}")
            proc = subprocess.run(
                [os.path.join(bench.TOP, "scripts", "vm.sh"), guest], capture_output=True,
                text=True, env=dict(env, VM_QEMU_ARGS=f"-plugin {plugin},out={out_file}"))
            span = engine_range(where, proc.stdout, binaries)
            if proc.returncode != 0 or span is None or not os.path.exists(out_file):
                sys.stderr.write(proc.stdout + proc.stderr)
                sys.exit(f"bench-kernel: the counting run of {name} ({where}) failed")
            total = {"insns": 0, "blocks": 0, "cross_page": 0}
            with open(out_file) as f:
                for line in f:
                    addr, insns, runs, cross = line.split()
                    if span[0] <= int(addr, 16) < span[1]:
                        total["insns"] += int(insns) * int(runs)
                        total["blocks"] += int(runs)
                        total["cross_page"] += int(cross)
            os.remove(out_file)
            if not total["blocks"]:
                sys.exit(f"bench-kernel: no blocks counted in the engine for {name} ({where})")
            counts.setdefault(name, {})[where] = total
            print(f"bench-kernel: counted {name} {where}: {total}", file=sys.stderr)
    return counts


def normalise(result):
    """wasmctl prints an i32 result signed; native code's is compared unsigned."""
    try:
        return int(result) & 0xFFFFFFFF
    except ValueError:
        return result


def timed_call(samples):
    """Whether the samples time the call alone (wasmctl's invoke_ns); older data has only
    the whole command's centiseconds."""
    return bool(samples) and all(s.get("ns", 0) > 0 for s in samples)


def times(samples, call=True):
    """The samples' times in seconds: of the call alone where known and `call`, else of
    the whole command."""
    if call and timed_call(samples):
        return [s["ns"] / 1e9 for s in samples]
    return [s["cs"] / 100 for s in samples]


def median_s(samples, call=True):
    return statistics.median(times(samples, call)) if samples else float("nan")


def spread(samples):
    """(max - min) / median of one benchmark's repetitions in one place."""
    t = times(samples)
    m = statistics.median(t) if t else 0
    return (max(t) - min(t)) / m if m else 0.0


def median_latency(value):
    """A latency in ns: the median of the rounds (older data has one number)."""
    if isinstance(value, list):
        return statistics.median(value) if value else None
    return value


def report(data):
    rows, bad, int_ratios, float_ratios = [], [], [], []
    int_nojt, float_nojt, fpu_ratios, int_whole = [], [], [], []
    call_timed = all(timed_call(b["kernel"]) and timed_call(b["local"])
                     for b in data["benchmarks"])
    for b in data["benchmarks"]:
        nojt_runs = b.get("nojt", [])
        fpu_runs, fpu_local = b.get("kernel_fpu", []), b.get("local_fpu", [])
        k, u, j = median_s(b["kernel"]), median_s(b["local"]), median_s(nojt_runs)
        kf, uf = median_s(fpu_runs), median_s(fpu_local)
        if not b["float"]:
            int_whole.append(median_s(b["kernel"], False) / median_s(b["local"], False))
        ratio = k / u if u else float("nan")
        ratio_nojt = k / j if j else float("nan")
        ratio_fpu = kf / uf if fpu_runs and uf else float("nan")
        samples = b["kernel"] + b["local"] + nojt_runs + fpu_runs + fpu_local
        results = {normalise(s["result"]) for s in samples}
        ok = results == {b["expected"]}
        if not ok:
            bad.append(b["name"])
        (float_ratios if b["float"] else int_ratios).append(ratio)
        (float_nojt if b["float"] else int_nojt).append(ratio_nojt)
        if fpu_runs:
            fpu_ratios.append(ratio_fpu)
        rows.append((b["name"], b["n"], k, u, ratio, j, ratio_nojt,
                     kf, ratio_fpu, "f64" if b["float"] else "integer",
                     "yes" if ok else "NO"))
    geo = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")
    lat = data.get("latency_ns", {})
    inv, echo = median_latency(lat.get("invoke")), median_latency(lat.get("echo"))
    rounds = len(lat["invoke"]) if isinstance(lat.get("invoke"), list) else 1
    spreads = {
        where: max((spread(b.get(key, [])) for b in data["benchmarks"]), default=0.0)
        for where, key in (("kernel", "kernel"), ("userspace", "local"),
                           ("userspace without jump tables", "nojt"))
    }
    # One width per column, for the rules, the header and the rows alike: a simple table's
    # text must stay within its column's rule.
    widths = (10, 7, 10, 9, 6, 10, 6, 10, 6, 7, 7)
    rule = "  ".join("=" * w for w in widths)
    header = ("benchmark", "N", "kernel (s)", "guest (s)", "ratio", "no JT (s)", "ratio",
              "FPU (s)", "ratio", "code", "correct")
    table = [rule, f"{header[0]:<10}  " + "  ".join(
        f"{h:<{w}}" if h in ("code", "correct") else f"{h:>{w}}"
        for h, w in zip(header[1:], widths[1:])).rstrip(), rule]
    for name, n, k, u, r, j, rj, kf, rf, kind, ok in rows:
        fpu_cells = (f"{kf:>10.2f}  {rf:>6.2f}" if not math.isnan(rf)
                     else f"{'-':>10}  {'-':>6}")
        table.append(f"{name:<10}  {n:>7}  {k:>10.2f}  {u:>9.2f}  {r:>6.2f}  {j:>10.2f}  "
                     f"{rj:>6.2f}  {fpu_cells}  {kind:<7}  {ok}")
    table.append(table[0])
    if call_timed:
        timing = (f"What is timed is the call alone, as on the host: ``wasmctl --json``'s "
                  f"``invoke_ns``, the wall-clock time of the ``INVOKE`` round trip in the "
                  f"kernel and of the engine's call in userspace, without loading, "
                  f"validation, translation and instantiation. Timing the whole commands "
                  f"instead (with ``/proc/uptime``) gives integer code a geometric mean of "
                  f"{geo(int_whole):.2f}.")
    else:
        timing = "What is timed is the whole command, with ``/proc/uptime``."
    adds = ("the ``INVOKE`` round trip, the module's memory in\nvmalloc space, the "
            "interrupt checks, and running in kernel mode\nunder TCG" if call_timed else
            "connector round trips for loading,\ninstantiating and invoking, the module's "
            "memory in vmalloc space, the\ninterrupt checks")
    counted_note = ("; `Counted, not timed`_ tells more work from slower emulation"
                    if data.get("tcg_counts") else "")
    text = f""".. SPDX-License-Identifier: GPL-2.0
.. Generated by tools/wasm/bench/kernel.py from evaluation-kernel.json; do not edit.

=====================
Evaluation: in-kernel
=====================

The same engine runs the same modules in the kernel and in userspace, in
one virtual machine (QEMU, TCG), so only ratios between the two mean
anything. Each benchmark of :doc:`evaluation` is run as a
``wasmctl run`` command in the kernel, then as ``wasmctl --local run``
(the engine built for the guest's userspace), then once more with the
engine built for userspace as the kernel builds it in one respect, without
jump tables (``-C jump-tables=n``, and so with the tiered dispatch the
kernel's build gets: the "no JT" column), interleaved,
{data["reps"]} times each; the table has the medians and the ratios
kernel ÷ userspace and kernel ÷ userspace without jump tables.

{textwrap.fill(timing, 72)}

Run on {data["date"]}. The largest spread between the
repetitions of one benchmark ((max - min) / median):
{", ".join(f"{w} {v * 100:.0f} %" for w, v in spreads.items())}; TCG on a shared
host is noisy, so single ratios can move by tens of percent from run to
run, the geometric means much less.

{chr(10).join(table)}

Geometric means of kernel ÷ userspace: integer code
**{geo(int_ratios):.2f}**, f64 code **{geo(float_ratios):.2f}**. Against
userspace without jump tables: integer code **{geo(int_nojt):.2f}**, f64
code **{geo(float_nojt):.2f}**.

Why they differ. The kernel compiles Rust without jump tables: with
``CONFIG_X86_KERNEL_IBT`` an indirect jump must land on an ``ENDBR``
instruction, which jump table targets do not have (``arch/x86/Makefile``
passes ``-C jump-tables=n``), and with retpolines every indirect jump
would be a thunk call (LLVM makes no jump tables then). The
interpreter's ``match`` on the instruction is then a tree of comparisons
where userspace has one indirect jump. The engine's tiered dispatch (see
:doc:`engine`) shortens that tree for the instructions that run most,
from nine or ten comparisons to five to seven, which is still more than
one jump. The "no JT" column is the control: the userspace engine built
the same way, so what is left of the ratio against it is what the kernel
itself adds ({adds}){counted_note}.
The kernel's build of the interpreter has the same dispatch tree and the
same handlers as that userspace build (compared in the disassembly); the
kernel's overflow checks (``CONFIG_RUST_OVERFLOW_CHECKS``) add at most
1.2 % instructions (measured on the host).
For f64 code, add that in userspace the engine's f32/f64
instructions are SSE instructions, while in the kernel, which must not
touch the FPU, they are calls of compiler-builtins' soft-float routines,
bit-exact and much slower.

The "FPU" columns are the f64 benchmarks once more, in a second boot of
the same kernel with ``wasm.fpu=1``: the basic f32/f64 operations then run
on SSE2 inside kernel FPU sections that last at most one fuel slice, with
results bit-identical to soft float's (see the ``fpu`` parameter in
Documentation/admin-guide/wasm.rst). The ratio is kernel ÷ userspace within that
boot: geometric mean **{geo(fpu_ratios):.2f}**. Beyond the dispatch cost
that integer code pays too, the FPU path does per operation what
userspace code does not: it checks that its section is open, moves the
operands from general registers into SSE registers and back, and checks
the result for a NaN (to recompute it in soft float).
"""
    if inv and echo:
        text += f"""
Latency of one ``INVOKE`` of an empty exported function, from
``wasmctl invoke --repeat``: **{inv / 1000:.1f} µs**, against
**{echo / 1000:.1f} µs** for one round trip of an empty message through
the connector echo sample (``samples/rust/rust_connector_echo``), medians
of {rounds} interleaved rounds: a ratio of **{inv / echo:.2f}**. What an invocation adds to the bare round trip is
decoding the request, looking the instance up, the call itself and
encoding the reply.
"""
    text += count_section(data, rows, geo)
    if bad:
        text += f"\nResults that differ from native code's: {', '.join(bad)}.\n"
    with open(PAGE, "w") as f:
        f.write(text)
    print(f"bench-kernel: integer {geo(int_ratios):.2f}, f64 {geo(float_ratios):.2f}; "
          f"against no jump tables: integer {geo(int_nojt):.2f}, f64 {geo(float_nojt):.2f}"
          + (f"; f64 with wasm.fpu=1 {geo(fpu_ratios):.2f}" if fpu_ratios else "")
          + (f"; invoke/echo {inv / echo:.2f}" if inv and echo else ""))
    for row in rows:
        print("  %-10s N=%-7d kernel %6.2f s  guest %6.2f s  ratio %5.2f  "
              "no JT %6.2f s  ratio %5.2f  FPU %6.2f s  ratio %5.2f  %s  %s" % row)
    return bool(bad)


def correlation(xs, ys):
    """Pearson's correlation of the logarithms of two lists of ratios."""
    pairs = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(pairs) < 3:
        return float("nan")
    mx = sum(x for x, _ in pairs) / len(pairs)
    my = sum(y for _, y in pairs) / len(pairs)
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    syy = sum((y - my) ** 2 for _, y in pairs)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else float("nan")


def host_nojt_sentence():
    """What the no-JT build costs on the host's CPU, from the host suite's data if it has
    that runtime (see evaluation.rst)."""
    try:
        with open(os.path.join(bench.DOC_DIR, "evaluation-data.json")) as f:
            host = json.load(f)
    except OSError:
        return ""
    _, med, _, _, _ = bench.summarise(host)

    def integer_ratios(runtime):
        """`runtime`'s time over the engine's, per integer benchmark it ran."""
        return [med[(b, runtime)] / med[(b, "engine")]
                for b, _, _, _, _ in bench.BENCHMARKS
                if (b, runtime) in med and (b, "engine") in med
                and b not in bench.NOT_IN_GEOMEAN and b not in FLOAT]

    ratios = integer_ratios("engine-nojt")
    if not ratios:
        return ""
    geo = bench.geomean(ratios)
    threaded = integer_ratios("engine-threaded")
    threaded_clause = (
        f"; with the call-threaded dispatch (the driver's ``threaded=1``, \"engine, no JT, "
        f"threaded\"), **{bench.geomean(threaded):.2f}** times. That dispatch makes an "
        "indirect call per instruction, which this VM's guest kernel sends through "
        "retpolines: there it is slower than the tree, and the runs above use the tree"
        if threaded else "")
    return textwrap.fill(
        "A real CPU pays for the comparisons in cycles and mispredictions, not in "
        "blocks, and does not care where pages begin. The host suite of "
        f":doc:`evaluation` times the same no-JT build on the host's CPU (the "
        f"\"engine, no jump tables\" column, run of {host['date']}): on integer code it "
        f"takes **{geo:.2f}** times the time of the engine built with jump tables, a "
        "better estimate of the kernel's dispatch cost outside an emulator than the "
        f"ratios above{threaded_clause}.", 72)


def count_section(data, rows, geo):
    """The section on the TCG counts, if the run has them."""
    counts = data.get("tcg_counts") or {}
    if not counts:
        return ""
    time_nojt = {row[0]: row[6] for row in rows}
    widths = (10, 9, 6, 6, 10, 6, 6, 6, 6, 6)
    rule = "  ".join("=" * w for w in widths)
    header = ("benchmark", "instr (M)", "÷ JT", "÷ noJT", "blocks (M)", "÷ JT", "÷ noJT",
              "xpage", "÷ noJT", "time")
    table = [rule, f"{header[0]:<10}  " + "  ".join(
        f"{h:>{w}}" for h, w in zip(header[1:], widths[1:])), rule]
    insn_jt, insn_nojt, block_jt, block_nojt, cross_nojt = [], [], [], [], []
    for name, c in counts.items():
        k, u, j = c["kernel"], c["local"], c["nojt"]
        r = (k["insns"] / u["insns"], k["insns"] / j["insns"], k["blocks"] / u["blocks"],
             k["blocks"] / j["blocks"], k["cross_page"] / j["cross_page"])
        insn_jt.append(r[0])
        insn_nojt.append(r[1])
        block_jt.append(r[2])
        block_nojt.append(r[3])
        cross_nojt.append(r[4])
        table.append(f"{name:<10}  {k['insns'] / 1e6:>9.0f}  {r[0]:>6.2f}  {r[1]:>6.2f}  "
                     f"{k['blocks'] / 1e6:>10.0f}  {r[2]:>6.2f}  {r[3]:>6.2f}  "
                     f"{100 * k['cross_page'] / k['blocks']:>5.0f}%  {r[4]:>6.2f}  "
                     f"{time_nojt.get(name, float('nan')):>6.2f}")
    table.append(rule)
    corr = correlation(cross_nojt, [time_nojt.get(n, float("nan")) for n in counts])
    corr_verdict = (" (too few benchmarks to tell)" if math.isnan(corr) else
                    ": the crossings explain part of it" if corr >= 0.5 else
                    ": the crossings do not explain it")
    return f"""
Counted, not timed
==================

Times under TCG are noisy; what the guest executes is not. Each integer
benchmark ran once more in each place, one boot each, under a QEMU plugin
(``tools/wasm/bench/tcg-count.c``) that counts, in the engine's own code
only (the module's text in the kernel, ``wasmctl``'s in userspace), the
guest instructions executed, the TCG translation blocks executed (a block
is straight-line code up to a branch, so a comparison in the dispatch tree
ends one), and the blocks entered from a block that starts in another 4 KiB
page. TCG links a block straight to the next only within one page; every
other transfer, and every indirect jump, looks the next block up in a hash
table, which costs several times a linked transfer.

The kernel's counts are the kernel's run against userspace's (÷ JT) and
against userspace's without jump tables (÷ noJT); "xpage" is the kernel's
share of blocks entered from another page, and "time" repeats the timed
ratio against no JT from the first table.

{chr(10).join(table)}

Geometric means: instructions **{geo(insn_jt):.2f}** times userspace's
and **{geo(insn_nojt):.2f}** times those without jump tables; blocks
**{geo(block_jt):.2f}** and **{geo(block_nojt):.2f}**; blocks entered from
another page **{geo(cross_nojt):.2f}** times the no-JT build's.

So the kernel executes the instructions and the blocks of the userspace
build without jump tables, to within a few percent: nothing the kernel
adds per instruction shows. What separates the kernel from userspace is
the dispatch tree: every comparison is a block of its own, where a jump
table is one indirect jump per instruction. What is left against the
no-JT build, the timed ratio above, is then in how fast TCG runs the same
guest instructions in the two places. One difference the counts show is
where the two builds' code falls in 4 KiB pages: the same tree at other
addresses crosses pages more or less often, and each crossing costs TCG a
lookup. Across the benchmarks the correlation of the logarithms of the
timed ratio against no JT and of that ratio of crossings is
**{corr:.2f}**{corr_verdict}. The plugin cannot see what each memory access
costs TCG (its software TLB, for the kernel's vmalloc'd memory and stacks)
nor time spent outside the guest.

{host_nojt_sentence()}
"""


def main():
    args = sys.argv[1:]
    if args == ["run"]:
        failed = run()
    elif args == ["report"]:
        with open(DATA) as f:
            failed = report(json.load(f))
    else:
        sys.exit(__doc__)
    if failed:
        sys.exit("bench-kernel: some results differ from native code's")


if __name__ == "__main__":
    main()
