"""Load test over loopback: N concurrent gradio_client users against `python app.py`.

    python -m benchmarks.load_test [--users 1 4 16] [--seconds 60] [--json out.json]

Starts the app (the usual cache, or --cache DIR), waits until it answers, then for each N
runs N users (each its own gradio_client session) for --seconds: each user alternates
text searches (`/search_text`, videos rendered) and motion searches (`/search_motion`,
a generated .npy). Every request asks for its own number of results k (1..8 by request
number), so an answer that belonged to another request, or a lost or repeated one,
shows: each request must get exactly one answer with k records, within --timeout.
A last phase repeats 4 users x text queries whose videos are already rendered (the
render cache warm). Reports throughput, p50/p95/p99 latency, errors, and the server's
RSS (app + render workers) sampled over each phase; prints a markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
QUERIES = [
    "a person walks forward and turns left",
    "someone jumps up and down in place",
    "a person kicks with the left leg",
    "the man jogs in a circle",
    "a person waves with the right hand",
    "someone throws a ball",
    "a person sits down and stands up",
    "a person does jumping jacks",
]
CACHED_QUERIES = QUERIES[:2]


@dataclass
class Request:
    user: int
    number: int
    kind: str  # text | motion
    k: int
    seconds: float = 0.0
    error: str = ""
    records: int = -1


@dataclass
class Phase:
    name: str
    users: int
    seconds: float
    requests: list[Request] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        done = [r for r in self.requests if not r.error]
        row = {
            "phase": self.name,
            "users": self.users,
            "requests": len(self.requests),
            "answered": len(done),
            "failed": len(self.requests) - len(done),
            "wrong_size": sum(r.records != r.k for r in done),
            "per_second": round(len(done) / self.seconds, 2),
            "rss_mb_start": round(self.rss_mb[0]) if self.rss_mb else None,
            "rss_mb_max": round(max(self.rss_mb)) if self.rss_mb else None,
            "rss_mb_end": round(self.rss_mb[-1]) if self.rss_mb else None,
            "errors": sorted({r.error[:120] for r in self.requests if r.error})[:5],
        }
        for kind in ("text", "motion"):
            times = sorted(r.seconds for r in done if r.kind == kind)
            row[kind] = percentiles(times)
        return row


def percentiles(times: list[float]) -> dict:
    if not times:
        return {"n": 0}

    def at(q: float) -> float:
        return round(times[min(len(times) - 1, int(q * len(times)))], 2)

    return {
        "n": len(times),
        "p50": at(0.5),
        "p95": at(0.95),
        "p99": at(0.99),
        "mean": round(statistics.fmean(times), 2),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(cache: str | None, log: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1"}
    if cache:
        env["MOTION_RETRIEVAL_CACHE"] = cache
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 300
            while "Running on local URL" not in log.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the app did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}/", process.pid
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the render workers), in MB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            todo += [int(c) for c in children]
    return total / 1024


def motion_file(folder: Path) -> str:
    from engine.data.corpus import generate_motion

    path = folder / "query_motion.npy"
    np.save(path, generate_motion(0, 7).joints[:200].astype(np.float32))
    return str(path)


def run_phase(phase: Phase, url: str, pid: int, motion: str, timeout: float, queries) -> None:
    from gradio_client import Client, handle_file

    stop = time.monotonic() + phase.seconds
    lock = threading.Lock()

    def user(index: int) -> None:
        client = Client(url, verbose=False, download_files=False)
        number = 0
        while time.monotonic() < stop:
            k = 1 + (index + number) % 8
            kind = "text" if (queries is CACHED_QUERIES or number % 2 == 0) else "motion"
            request = Request(index, number, kind, k)
            started = time.perf_counter()
            try:
                if kind == "text":
                    query = queries[(index + number) % len(queries)]
                    job = client.submit(query, k=k, api_name="/search_text")
                else:
                    job = client.submit(handle_file(motion), k=k, api_name="/search_motion")
                records = job.result(timeout=timeout)[0]
                request.records = len(records)
            except Exception as error:  # counted and reported, the run goes on
                request.error = f"{type(error).__name__}: {error}"
            request.seconds = time.perf_counter() - started
            with lock:
                phase.requests.append(request)
            number += 1

    threads = [threading.Thread(target=user, args=(i,)) for i in range(phase.users)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        phase.rss_mb.append(tree_rss_mb(pid))
        time.sleep(0.5)
    phase.rss_mb.append(tree_rss_mb(pid))


def table(rows: list[dict]) -> str:
    lines = [
        "| phase | users | requests | answered | failed | wrong k | req/s | text p50 / p95 / p99 s "
        "| motion p50 / p95 / p99 s | server RSS MB start → max → end |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = []
        for kind in ("text", "motion"):
            p = r[kind]
            cells.append(f"{p['p50']} / {p['p95']} / {p['p99']} (n={p['n']})" if p["n"] else "—")
        lines.append(
            f"| {r['phase']} | {r['users']} | {r['requests']} | {r['answered']} | {r['failed']} "
            f"| {r['wrong_size']} | {r['per_second']} | {cells[0]} | {cells[1]} "
            f"| {r['rss_mb_start']} → {r['rss_mb_max']} → {r['rss_mb_end']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=60.0, help="per phase")
    parser.add_argument("--timeout", type=float, default=300.0, help="per request")
    parser.add_argument("--cache", help="MOTION_RETRIEVAL_CACHE for the app (default: its own)")
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from gradio_client import Client

    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_app(args.cache, Path(tmp) / "app.log") as (
            url,
            pid,
        ),
    ):
        motion = motion_file(Path(tmp))
        warm = Client(url, verbose=False, download_files=False)
        for query in CACHED_QUERIES:  # the gallery ready, these queries' videos rendered
            for k in range(1, 9):
                warm.predict(query, k=k, api_name="/search_text")
        phases = [Phase(f"mixed, N={n}", n, args.seconds) for n in args.users]
        phases.append(Phase("text, videos cached, N=4", 4, args.seconds))
        for phase in phases:
            queries = CACHED_QUERIES if "cached" in phase.name else QUERIES
            run_phase(phase, url, pid, motion, args.timeout, queries)
            print(json.dumps(phase.summary()), flush=True)
    rows = [p.summary() for p in phases]
    result = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "seconds_per_phase": args.seconds,
        "phases": rows,
    }
    print(table(rows))
    print(
        f"load average before {result['load_average_before']}, after "
        f"{result['load_average_after']} on {result['cpus']} CPUs"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
