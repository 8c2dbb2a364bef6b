"""Helpers shared by the bench scripts: paths, timing, memory, the query mix."""

from __future__ import annotations

import importlib.util
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = {name: SHARED / "corpus" / name for name in ("gov_reports", "lawrefbook", "xwlb")}
DEV_QUERIES = SHARED / "eval" / "dev_queries.jsonl"

#: The fixed query mix of query_latency.py and scaling.py.
QUERY_MIX = [
    ("rare", "樱桃沟"), ("rare", "碳达峰"), ("rare", "河长负责制"), ("rare", "散煤"),
    ("common", "发展"), ("common", "建设"), ("common", "经济"), ("common", "人民"),
    ("common", "中国特色社会主义"), ("common", "安全生产 事故"), ("common", "改革 发展 稳定"),
    ("multi", "大气污染防治 攻坚"), ("multi", "乡村振兴 产业"), ("multi", "高质量发展 制造业"),
    ("multi", "城乡结合部 改造"),
    ("phrase", '"社会消费品零售总额"'), ("phrase", '"一般公共预算收入"'), ("phrase", '"生态文明建设"'),
    ("year", "疫情防控 year:2022"), ("year", "就业 year:2020"), ("year", "改革 year:[2010 TO 2015]"),
]


def time_queries(run, repeat: int) -> dict[str, list[float]]:
    """Milliseconds of ``run(query)`` per kind of the mix: one warm-up pass, then ``repeat`` timed passes."""
    for _, q in QUERY_MIX:  # warm up
        run(q)
    times: dict[str, list[float]] = {}
    for _ in range(repeat):
        for kind, q in QUERY_MIX:
            start = time.perf_counter()
            run(q)
            times.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
    return times


def machine() -> str:
    from importlib.metadata import version

    return (f"{date.today()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
            f"whoosh-reloaded {version('whoosh-reloaded')} · jieba {version('jieba')}")


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def text_size(paths) -> int:
    return sum(f.stat().st_size for p in paths for f in Path(p).rglob("*")
               if f.is_file() and f.suffix in (".txt", ".md", ".html", ".htm"))


def median_wall(cmd: list[str], runs: int, env=None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def evaluate_module():
    """../shared/eval/evaluate.py as a module (for its marker normalisation)."""
    spec = importlib.util.spec_from_file_location("evaluate", SHARED / "eval" / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def erqi_command() -> str:
    return str(Path(sys.executable).parent / "erqi-search")


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux /proc)."""
    out, stack = [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                stack.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    return out


def pss_mib(pid: int) -> float:
    """Proportional set size of one process in MiB: pages shared with other
    processes (forked workers and their parent) count once in the sum."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemorySampler:
    """Samples the memory of this process and its children while a build runs:
    the peak of the summed PSS of the whole tree, and the peak RSS of any one."""

    def __init__(self, every: float = 0.25):
        import threading

        self.every = every
        self.peak_pss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_pss = max(self.peak_pss, sum(pss_mib(p) for p in process_tree(os.getpid())))
            self._stop.wait(self.every)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def sphinx_cluster(*args) -> str:
    """Run scripts/sphinx-cluster; its last line of output (``up`` prints the engine URL)."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "sphinx-cluster"), *map(str, args)],
                         capture_output=True, text=True, timeout=300, check=True).stdout.strip()
    return out.splitlines()[-1] if out else ""
