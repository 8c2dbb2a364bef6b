"""``/api/search`` under concurrent clients, beside the library call it wraps.

    python bench/web_load.py [--index /tmp/gov] [--clients 8] [--requests 2000] [--seconds 30]

1. Takes the index at ``--index``, building it from ``../shared/corpus/gov_reports``
   when there is none there.
2. Library: the fixed query mix of ``bench/_common.py`` through
   ``Index.search(q)`` (page 1, 10 hits, as the API's defaults), after one
   warm-up pass: serially (the p50 the server is compared with), then from
   ``--clients`` threads at once in this process (what concurrency alone
   costs, with no HTTP).
3. Server: ``erqi_search.web.serve`` in a child process on a free loopback
   port, twice: as shipped (result cache on) and with the cache off. Each
   gets one serial warm-up pass of the mix, then ``--clients`` threads, each
   with its own keep-alive connection, cycle the mix from different offsets
   until ``--requests`` are answered or ``--seconds`` pass. Prints p50/p99,
   requests per second and the ratio of the server's p50 to the library's.

Loopback only, bounded in count and time; the clients share the machine's
cores with the server, as a browser on the same machine would.
"""

from __future__ import annotations

import argparse
import http.client
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import CORPORA, QUERY_MIX, machine, percentile  # noqa: E402
from erqi_search.web import CACHE_SIZE, THREADS  # noqa: E402

QUERIES = [q for _, q in QUERY_MIX]
SERVER = ("import sys; from erqi_search.web import serve; serve(sys.argv[1], port=0, cache_size=int(sys.argv[2]), "
          "threads=int(sys.argv[3]), say=lambda m: print(m, file=sys.stderr, flush=True))")


def run_clients(client, clients: int) -> float:
    """Run ``client(offset)`` in ``clients`` threads, each starting at its own
    place in the mix; the wall time until all are done."""
    threads = [threading.Thread(target=client, args=(c * len(QUERIES) // clients,)) for c in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def library_times(index_path: Path, repeat: int, clients: int = 1) -> tuple[list[float], float]:
    """Latencies of ``Index.search`` over the mix from ``clients`` threads in
    this process, after a warm-up pass, and the wall time."""
    from erqi_search.search import open_index

    times: list[float] = []
    lock = threading.Lock()
    with open_index(index_path) as index:
        for q in QUERIES:
            index.search(q)

        def client(offset: int) -> None:
            for i in range(repeat * len(QUERIES)):
                start = time.perf_counter()
                index.search(QUERIES[(offset + i) % len(QUERIES)])
                elapsed = time.perf_counter() - start
                with lock:
                    times.append(elapsed)

        return times, run_clients(client, clients)


def start_server(index_path: Path, cache_size: int, threads: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(index_path), str(cache_size), str(threads)],
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not found:
        proc.kill()
        raise SystemExit(f"the server did not start: {line}{proc.stderr.read()}")
    return proc, int(found.group(1))


def load(port: int, clients: int, requests: int, seconds: float) -> tuple[list[float], int, float]:
    """Latencies of ``requests`` GETs of /api/search by ``clients`` threads, errors, and wall time."""
    paths = [f"/api/search?q={quote(q)}" for q in QUERIES]
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    per_client = -(-requests // clients)

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(per_client):
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            conn.request("GET", paths[(offset + i) % len(paths)])
            answer = conn.getresponse()
            answer.read()
            elapsed = time.perf_counter() - start
            with lock:
                times.append(elapsed)
                errors[0] += answer.status != 200
        conn.close()

    return times, errors[0], run_clients(client, clients)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/gov"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="per server run (at most)")
    parser.add_argument("--seconds", type=float, default=30.0, help="per server run (at most)")
    parser.add_argument("--threads", type=int, nargs="+", default=[THREADS], help="server worker threads")
    parser.add_argument("--repeat", type=int, default=5, help="serial passes of the mix for the library")
    args = parser.parse_args()

    if not (args.index / "manifest.json").exists():
        from erqi_search.indexer import build_index

        print(f"building {args.index} from {CORPORA['gov_reports']} ...", file=sys.stderr)
        build_index([CORPORA["gov_reports"]], args.index)
    print(machine())
    print(f"index {args.index}, {len(QUERIES)} queries, {args.clients} clients")
    lib, wall = library_times(args.index, args.repeat)
    lib_p50 = percentile(lib, 50)
    print(f"{'library Index.search, serial':<36} p50 {lib_p50 * 1e3:7.2f} ms   p99 {percentile(lib, 99) * 1e3:7.2f} ms"
          f"   {len(lib) / wall:6.0f} q/s")
    many, wall = library_times(args.index, max(1, args.repeat // 2), args.clients)
    print(f"{f'library, {args.clients} threads in-process':<36} p50 {percentile(many, 50) * 1e3:7.2f} ms   "
          f"p99 {percentile(many, 99) * 1e3:7.2f} ms   {len(many) / wall:6.0f} q/s"
          f"   p50 = {percentile(many, 50) / lib_p50:.2f} x library")
    for threads in args.threads:
        for cache_size in (CACHE_SIZE, 0):
            label = f"/api/search, {threads} threads, cache {'on' if cache_size else 'off'}"
            proc, port = start_server(args.index, cache_size, threads)
            try:
                load(port, 1, len(QUERIES), args.seconds)  # warm-up: one serial pass of the mix
                times, errors, wall = load(port, args.clients, args.requests, args.seconds)
            finally:
                proc.terminate()
                proc.wait(10)
            p50 = percentile(times, 50)
            print(f"{label:<36} p50 {p50 * 1e3:7.2f} ms   p99 {percentile(times, 99) * 1e3:7.2f} ms"
                  f"   {len(times) / wall:6.0f} req/s   {len(times)} requests, {errors} errors"
                  f"   p50 = {p50 / lib_p50:.2f} x library")
    return 0


if __name__ == "__main__":
    sys.exit(main())
