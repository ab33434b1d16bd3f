"""Statistics for a data gate: mlledger's worker paths beside what a TFDV user would call.

Data: ROWS x 50 columns in one Parquet file (20 float64, 20 int64, 10 string categories with
10-1,000 distinct values; 1 % nulls in the floats). Contenders, each in a fresh process so that
its peak memory (ru_maxrss) is its own:

- `mlledger-memory`: the worker's in-memory path (`checks.statistics(beam=False)`: Parquet →
  pandas → `tfdv.generate_statistics_from_dataframe`);
- `tfdv-dataframe`: the same TFDV call written by hand (the peer; the ratio is our overhead);
- `mlledger-beam`: the worker's Beam path (DirectRunner; `ReadFromParquetBatched` →
  `tfdv.GenerateStatistics`);
- `tfdv-csv-beam`: TFDV's own Beam entry point for files that are not TFRecords,
  `tfdv.generate_statistics_from_csv` on the same rows as CSV (the peer for the Beam path).

Runs in the validator environment: `bench/validation/run.sh stats [--rows 1000000]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

CONTENDERS = ["mlledger-memory", "tfdv-dataframe", "mlledger-beam", "tfdv-csv-beam"]


def generate(root: Path, rows: int) -> tuple[Path, Path]:
    parquet, csv = root / f"data-{rows}.parquet", root / f"data-{rows}.csv"
    if parquet.exists() and csv.exists():
        return parquet, csv
    rng = np.random.default_rng(0)
    frame: dict[str, np.ndarray] = {}
    for i in range(20):
        values = rng.normal(i, 1 + i, rows)
        values[rng.random(rows) < 0.01] = np.nan
        frame[f"num_{i}"] = values
    for i in range(20):
        frame[f"int_{i}"] = rng.integers(0, 10 ** (1 + i % 5), rows)
    for i in range(10):
        vocabulary = np.array([f"c{i}_{j}" for j in range(10 * (1 + 11 * i))])
        frame[f"cat_{i}"] = vocabulary[rng.integers(0, len(vocabulary), rows)]
    df = pd.DataFrame(frame)
    df.to_parquet(parquet, row_group_size=100_000)
    df.to_csv(csv, index=False)
    return parquet, csv


def run_one(name: str, parquet: Path, csv: Path) -> dict[str, float | int]:
    """In the child process: one contender, timed from the file on disk to the statistics."""
    import tensorflow_data_validation as tfdv

    from mlledger.validation import checks

    start = time.perf_counter()
    if name == "mlledger-memory":
        stats = checks.statistics(str(parquet), "parquet", beam=False)
    elif name == "tfdv-dataframe":
        stats = tfdv.generate_statistics_from_dataframe(pd.read_parquet(parquet))
    elif name == "mlledger-beam":
        stats = checks.statistics(str(parquet), "parquet", beam=True)
    elif name == "tfdv-csv-beam":
        stats = tfdv.generate_statistics_from_csv(str(csv))
    else:
        raise SystemExit(f"unknown contender {name}")
    seconds = time.perf_counter() - start
    dataset = stats.datasets[0]
    return {
        "seconds": seconds,
        "rows": int(dataset.num_examples),
        "features": len(dataset.features),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mlledger-bench-validation"))
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    parquet, csv = generate(args.dir, args.rows)
    if args.contender:
        result = run_one(args.contender, parquet, csv)
        result["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(result))
        return

    names = args.contenders.split(",")
    print(
        f"{args.rows:,} rows x 50 columns; parquet {parquet.stat().st_size / 2**20:.0f} MiB, "
        f"csv {csv.stat().st_size / 2**20:.0f} MiB; {args.repeat} rounds, interleaved"
    )
    results: dict[str, list[dict[str, float | int]]] = {n: [] for n in names}
    for _ in range(args.repeat):
        for name in names:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--rows",
                    str(args.rows),
                    "--dir",
                    str(args.dir),
                    "--contender",
                    name,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(f"{name} failed:\n{out.stderr[-3000:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results[name].append(r)
            print(
                f"  {name:16} {r['seconds']:8.1f} s  {r['max_rss_kib'] / 2**20:6.2f} GiB  "
                f"{r['rows']:,} rows, {r['features']} features",
                flush=True,
            )
    print()
    print("| contender | best time | peak RSS (max) | rows seen |")
    print("|---|---|---|---|")
    for name in names:
        rs = results[name]
        if rs:
            best = min(r["seconds"] for r in rs)
            rss = max(r["max_rss_kib"] for r in rs) / 2**20
            print(f"| {name} | {best:.1f} s | {rss:.2f} GiB | {rs[0]['rows']:,} |")
    for ours, peer in (("mlledger-memory", "tfdv-dataframe"), ("mlledger-beam", "tfdv-csv-beam")):
        if results.get(ours) and results.get(peer):
            a = min(r["seconds"] for r in results[ours])
            b = min(r["seconds"] for r in results[peer])
            print(f"\n{ours} / {peer}: time {a / b:.2f}x")


if __name__ == "__main__":
    main()
