"""Time a clean source build of the wheel and the peak memory of each compiler process.

    python bench/bench_build.py                   # the working tree's HEAD
    python bench/bench_build.py --ref 35a3638     # another commit, e.g. to compare
    python bench/bench_build.py --from-sdist --keep dist-check   # build the sdist first, keep both
    python bench/bench_build.py -- -C cmake.define.MULTITASK_ISA_LEVELS="baseline;x86-64-v3"

The commit is cloned into a temporary directory and built as a user's
``pip wheel --no-deps .`` builds it (build isolation: pip fetches the build
requirements into a fresh environment, which the wall time includes); with
``--from-sdist`` the clone is first made into an sdist (``python -m build
--sdist``, not timed) and the wheel is built from that, as ``pip install`` of a
source release would. Every
compiler process runs under ``/usr/bin/time`` (GNU time, through CMake's
compiler launcher), which records its peak resident memory and CPU time.
Prints a Markdown summary: wall time, CPU time of the compilers, the largest
peak RSS and the slowest units.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build(ref: str, extra: list[str], work: Path, from_sdist: bool) -> tuple[float, list[tuple[float, float, str]]]:
    """Clone ``ref`` into ``work``, build its wheel; return wall seconds and (RSS MB, CPU s, unit) per compile."""
    source = work / "src"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(source)], check=True)
    subprocess.run(["git", "-C", str(source), "checkout", "--quiet", ref], check=True)
    if from_sdist:
        subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(work / "dist"), str(source)],
                       check=True, stdout=subprocess.DEVNULL)
        source = next((work / "dist").glob("*.tar.gz"))
    log = work / "compilers.log"
    launcher = f"/usr/bin/time;-f;%M %U %S %C;-a;-o;{log}"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(work / "dist"), str(source),
               "-C", f"cmake.define.CMAKE_CXX_COMPILER_LAUNCHER={launcher}", *extra]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    units = []
    for line in log.read_text().splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].isdigit():
            continue
        rss_mb, cpu = int(fields[0]) / 1024, float(fields[1]) + float(fields[2])
        unit = next((f for f in reversed(fields) if f.endswith((".cpp", ".cxx"))), fields[-1])
        units.append((rss_mb, cpu, os.path.basename(unit)))
    return wall, units


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default="HEAD", help="commit to build (default HEAD)")
    parser.add_argument("--from-sdist", action="store_true", help="build the sdist first, then the wheel from it")
    parser.add_argument("--keep", default=None, help="copy the sdist and wheel built into this directory")
    parser.add_argument("extra", nargs="*", help="further pip arguments, after --")
    args = parser.parse_args()
    ref = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", args.ref], check=True,
                         capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="multitask-build-") as tmp:
        wall, units = build(ref, args.extra, Path(tmp), args.from_sdist)
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            for built in (Path(tmp) / "dist").iterdir():
                shutil.copy(built, args.keep)
    cpu = sum(unit[1] for unit in units)
    origin = "its sdist" if args.from_sdist else "a clone"
    print(f"commit {ref}, {os.cpu_count()} logical cores, pip wheel --no-deps (build isolation) of {origin} "
          f"{' '.join(args.extra)}")
    print()
    print("| wall | compiler CPU | compile units | largest compiler peak RSS |")
    print("|---|---|---|---|")
    largest = max(units) if units else (0.0, 0.0, "-")
    print(f"| {wall / 60:.1f} min ({wall:.0f} s) | {cpu / 60:.1f} min | {len(units)} | "
          f"{largest[0] / 1024:.2f} GB ({largest[2]}) |")
    print()
    print("| unit | CPU (s) | peak RSS (MB) |")
    print("|---|---|---|")
    for rss, seconds, name in sorted(units, key=lambda unit: -unit[1]):
        print(f"| {name} | {seconds:.0f} | {rss:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
