"""Precision and recall of figure extraction on hand-labelled sentences.

    python bench/figures_eval.py [--sample tuning|tuning-2|fresh|...] [--verbose]
    python bench/figures_eval.py --second     # also: how far two readers agree
    python bench/figures_eval.py --draw SEED --stride N   # a new sample to label

The labelled sentences live in tests/fixtures/figures_labelled.jsonl, one
JSON object a line: ``sample`` ("tuning": seed 1, the sample the rules were
tuned on; "tuning-2": seed 2, drawn and labelled after a first freeze of the
code, measured, then tuned on too; "fresh": seed 3, drawn and labelled after
the code was frozen a second time and never tuned on; "fresh-2": seed 4,
stride 1, drawn from the same frozen code with the sentences already labelled
left out, and labelled by two readers who saw neither the code nor its
output; "fresh-3": seed 5, the same way, measured once after the rules
learnt from fresh and fresh-2 were frozen; "fresh-4" to
"fresh-56": seeds 6 to 58, each drawn leaving out the sentences of all the
others, labelled the same way and measured once before any rule was written
from them; no rule was written from fresh-53 to fresh-56, the last held-out
samples; docs/figures.md tells which code measured each), ``seed``,
``file``, ``year``, ``region``, ``sentence`` and ``figures``, the figures a
reader wrote down for the sentence (``indicator`` and the other names
``also`` accepted for it, ``value``, ``high``, ``unit``, ``kind``,
``period``, ``approx``). A sentence with no figure has ``figures: []``.
tests/fixtures/figures_second_reading.jsonl holds a second, independent
reading of fresh-4 and fresh-5 (``--second`` scores it against the first).

**The sampling rule** (:func:`draw`): the reports of
../shared/corpus/gov_reports in file-name order, every ``stride``-th one
starting at ``seed % stride``; each report cut into units at 。！？；and line
ends; the candidate units are those with a number in them (an Arabic digit
after NFKC, a run of two or more Chinese numeral characters, 百分之, 千分之,
倍 or 番); one candidate per report, chosen by ``random.Random(f"{seed}:{file}")``.

**When an extracted figure is right** (:func:`same`): it is counted once,
against one labelled figure of the same sentence, when

- the quantity is the same: value (and ``high`` for a range) times the
  magnitude in the unit (万, 亿, 万亿 ...) are equal and the rest of the unit
  is the same after NFKC (公里 = 千米, ％ = %), so 4.07亿吨 = 40700万吨;
- the kind is the same (level, growth, count);
- the indicator, normalised, equals the label's indicator or one of its
  ``also`` names. Normalised: NFKC, traditional -> simplified, lower case,
  punctuation, quotes, brackets and 的 dropped, a leading scope word
  (全国, 全省, 全市, 全区, 全县, 我国, 我省, 我市, 全社会 ...) dropped.

Precision = right / extracted, recall = right / labelled. Period and approx
are not part of "right"; the period agreement of the right figures is shown
beside.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from erqi_search.figures import Figure, extract_figures  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "gov_reports"
FIXTURE = ROOT / "tests" / "fixtures" / "figures_labelled.jsonl"
SECOND = ROOT / "tests" / "fixtures" / "figures_second_reading.jsonl"

_UNIT_SPLIT = re.compile(r"[。！？!?；;\n]")
CANDIDATE = re.compile(r"\d|[零〇一二两三四五六七八九十百千万亿]{2,}|百分之|千分之|倍|番")


def units(text: str):
    """The sampling units of a report: stretches between 。！？；and line ends."""
    for unit in _UNIT_SPLIT.split(text):
        unit = unit.strip(" \u3000\t")
        if unit:
            yield unit


def _metadata(corpus: Path) -> dict[str, dict]:
    path = corpus / "metadata.csv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def draw(seed: int, stride: int = 1, corpus: Path = CORPUS, exclude: frozenset = frozenset()) -> list[dict]:
    """The sample of ``seed``: one candidate unit from every ``stride``-th report.

    Units in ``exclude`` (the sentences already labelled) are not candidates,
    so a new sample holds no sentence an earlier one was tuned on.
    """
    meta = _metadata(corpus)
    files = sorted(corpus.glob("*.txt"))
    out = []
    for path in files[seed % stride :: stride]:
        candidates = [u for u in units(path.read_text(encoding="utf-8"))
                      if CANDIDATE.search(unicodedata.normalize("NFKC", u)) and u not in exclude]
        if not candidates:
            continue
        row = meta.get(path.name, {})
        year = row.get("year") or path.name[:4]
        out.append({"seed": seed, "file": path.name, "year": int(year) if year.isdigit() else None,
                    "region": row.get("region", ""),
                    "sentence": random.Random(f"{seed}:{path.name}").choice(candidates), "figures": []})
    return out


def load(path: Path = FIXTURE, sample: str | None = None) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [r for r in rows if sample is None or r["sample"] == sample]


# ------------------------------------------------------------------ comparing

_MAGNITUDES = (("万亿", 1e12), ("千亿", 1e11), ("百亿", 1e10), ("千万", 1e7), ("百万", 1e6), ("十万", 1e5),
               ("亿", 1e8), ("万", 1e4))
_BASE_SYNONYMS = {"千米": "公里", "百分点": "个百分点", "微克每立方米": "微克/立方米"}
_SCOPE = re.compile(r"^(?:全国|全省|全市|全区|全县|全州|全盟|全旗|我国|我省|我市|我区|我县|本省|本市|本区|本县|全社会)")


def quantity(value: float | None, unit: str) -> tuple[float | None, str]:
    """``(value in base units, base unit)``: ``quantity(4.07, "亿吨") == (407000000.0, "吨")``;
    the unit read after NFKC, as the names are (a reader's ％ is %)."""
    unit = unicodedata.normalize("NFKC", unit)
    for prefix, factor in _MAGNITUDES:
        if unit.startswith(prefix):
            base = unit[len(prefix):]
            return (None if value is None else value * factor), _BASE_SYNONYMS.get(base, base)
    return value, _BASE_SYNONYMS.get(unit, unit)


def norm_indicator(text: str) -> str:
    from erqi_search.analysis import normalize_text

    norm = re.sub(r"[\W_的]", "", normalize_text(text))
    return _SCOPE.sub("", norm)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def same_quantity(got: Figure, want: dict) -> bool:
    v1, u1 = quantity(got.value, got.unit)
    v2, u2 = quantity(want["value"], want["unit"])
    h1, _ = quantity(got.high, got.unit)
    h2, _ = quantity(want.get("high"), want["unit"])
    return u1 == u2 and _close(v1, v2) and _close(h1, h2)


def same(got: Figure, want: dict) -> bool:
    names = {norm_indicator(want["indicator"]), *(norm_indicator(a) for a in want.get("also", []))}
    return same_quantity(got, want) and got.kind == want["kind"] and norm_indicator(got.indicator) in names


@dataclass
class Score:
    labelled: int = 0
    extracted: int = 0
    right: int = 0
    period_right: int = 0
    quantity_right: int = 0  # value(s), unit and kind right, whatever the indicator
    misses: list = field(default_factory=list)  # (file, sentence, labelled figure, nearest extracted)
    wrong: list = field(default_factory=list)  # (file, sentence, extracted figure)

    @property
    def precision(self) -> float:
        return _ratio(self.right, self.extracted)

    @property
    def recall(self) -> float:
        return _ratio(self.right, self.labelled)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def evaluate(rows: list[dict], read=None) -> Score:
    """Score the figures ``read(row)`` gives (the extractor's by default) against the labels."""
    score = Score()
    for row in rows:
        got = read(row) if read else extract_figures(row["sentence"], year=row.get("year"))
        want = row["figures"]
        score.labelled += len(want)
        score.extracted += len(got)
        free = list(got)
        for w in want:
            hit = next((g for g in free if same(g, w)), None)
            if hit is None:
                near = next((g for g in free if same_quantity(g, w)), None)
                score.misses.append((row["file"], row["sentence"], w, near))
                continue
            free.remove(hit)
            score.right += 1
            score.period_right += hit.period == w.get("period", "")
        score.wrong.extend((row["file"], row["sentence"], g) for g in free)
        score.quantity_right += _paired(want, got)
    return score


@dataclass
class Asked:
    """What ``figures NAME`` gives on labelled sentences: ``found`` figures, of
    which ``true`` a reader accepts under NAME; ``meant`` figures a reader
    named NAME, of which ``got`` were found."""

    meant: int = 0
    found: int = 0
    true: int = 0
    got: int = 0

    @property
    def precision(self) -> float:
        return _ratio(self.true, self.found)

    @property
    def recall(self) -> float:
        return _ratio(self.got, self.meant)

    def add(self, other: "Asked") -> None:
        self.meant, self.found = self.meant + other.meant, self.found + other.found
        self.true, self.got = self.true + other.true, self.got + other.got


def _paired(labels: list[dict], figures: list[Figure]) -> int:
    """How many labels pair off with one extracted figure each (the same quantity and kind)."""
    free, n = list(figures), 0
    for x in labels:
        hit = next((y for y in free if same_quantity(y, x) and y.kind == x["kind"]), None)
        if hit is not None:
            free.remove(hit)
            n += 1
    return n


def asked(rows: list[dict], top: int = 30) -> tuple[list[tuple[str, Asked]], Asked]:
    """What a researcher asking ``erqi-search figures NAME`` gets from these
    sentences, for the ``top`` names readers wrote most often: the figures
    whose extracted name answers to NAME (:func:`~erqi_search.figures.asked_names`
    and :func:`~erqi_search.figures.matches`, as ``Index.figures`` asks)
    against those a reader named NAME (recall) or would accept under NAME, an
    ``also`` name (precision), paired by value, unit and kind.

    >>> row = {"file": "x", "year": 2017, "sentence": "全区地区生产总值完成253亿元，同比增长7.5%",
    ...        "figures": [{"indicator": "地区生产总值", "value": 253.0, "unit": "亿元", "kind": "level"},
    ...                    {"indicator": "地区生产总值", "value": 7.5, "unit": "%", "kind": "growth"}]}
    >>> [(name, a.meant, a.found, a.true, a.got) for name, a in asked([row])[0]]
    [('地区生产总值', 2, 2, 2, 2)]
    """
    from erqi_search.figures import asked_names, match_keys, matches

    named = Counter(match_keys(f["indicator"])[-1] for r in rows for f in r["figures"])
    asked_as = {}  # the forms a name is asked as -> the name (GDP's synonyms are asked once)
    for name, _ in named.most_common():
        if name and len(asked_as) < top:
            asked_as.setdefault(frozenset(asked_names(name)), name)
    extracted = [extract_figures(r["sentence"], year=r.get("year")) for r in rows]
    scores, pooled = [], Asked()
    for forms, name in asked_as.items():

        def answers(indicator: str, kind: str) -> bool:
            return any(matches(indicator, [form]) and must in (None, kind) for form, must in forms)

        score = Asked()
        for row, got in zip(rows, extracted):
            meant = [f for f in row["figures"] if answers(f["indicator"], f["kind"])]
            accepted = [f for f in row["figures"]
                        if any(answers(n, f["kind"]) for n in [f["indicator"], *f.get("also", [])])]
            found = [g for g in got if answers(g.indicator, g.kind)]
            score.add(Asked(len(meant), len(found), _paired(accepted, found), _paired(meant, found)))
        scores.append((name, score))
        pooled.add(score)
    return scores, pooled


def agreement(first: list[dict], second: list[dict]) -> Score:
    """How far a second reader's figures agree with the first reader's, scored
    as an extraction would be (the second reader's names as the extracted ones).

    >>> row = {"file": "x", "sentence": "钢三千九百万吨", "figures": [{"indicator": "钢", "value": 3900.0,
    ...        "high": None, "unit": "万吨", "kind": "level"}]}
    >>> agreement([row], [row]).precision
    1.0
    """
    labels = {r["sentence"]: r["figures"] for r in second}
    rows = [r for r in first if r["sentence"] in labels]
    return evaluate(rows, read=lambda row: [_as_figure(f) for f in labels[row["sentence"]]])


def _as_figure(label: dict) -> Figure:
    return Figure(indicator=label["indicator"], value=label["value"], unit=label["unit"], kind=label["kind"],
                  period=label.get("period", ""), text="", year=None, passage_id="", doc_id="",
                  approx=label.get("approx", ""), high=label.get("high"))


def _show(f) -> str:
    if isinstance(f, Figure):
        return f"{f.indicator} {f.amount()} {f.kind} [{f.period or '-'}]"
    high = f"-{f['high']:g}" if f.get("high") is not None else ""
    return f"{f['indicator']} {f['value']:g}{high}{f['unit']} {f['kind']} [{f.get('period') or '-'}]"


def report(name: str, score: Score, verbose: bool) -> None:
    print(f"{name}: {score.labelled} labelled, {score.extracted} extracted, {score.right} right  "
          f"precision {score.precision:.3f}  recall {score.recall:.3f}  "
          f"period agrees on {score.period_right}/{score.right}")
    q = score.quantity_right
    print(f"  (indicator aside: {q} with value, unit and kind right: precision {q / max(score.extracted, 1):.3f}  "
          f"recall {q / max(score.labelled, 1):.3f})")
    for file, sentence, want, near in score.misses:
        print(f"  missed  {_show(want)}" + (f"   (got {_show(near)})" if near else "") + f"   {file[:4]}")
        if verbose:
            print(f"          {sentence[:120]}")
    for file, sentence, got in score.wrong:
        print(f"  wrong   {_show(got)}   {file[:4]}")
        if verbose:
            print(f"          {sentence[:120]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    parser.add_argument("--sample", help="only this sample (tuning, tuning-2, fresh, fresh-2, fresh-3)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print the sentences of misses")
    parser.add_argument("--draw", type=int, metavar="SEED", help="print a new sample to label (JSON lines)")
    parser.add_argument("--stride", type=int, default=1, help="with --draw: every N-th report")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--asked", type=int, metavar="N",
                        help="what `figures NAME` finds for the N names readers wrote most often")
    parser.add_argument("--second", type=Path, nargs="?", const=SECOND, metavar="FILE",
                        help="also score a second reader's labels of the same sentences against the first's")
    args = parser.parse_args(argv)
    if args.draw is not None:
        labelled = frozenset(r["sentence"] for r in load(args.fixture)) if args.fixture.exists() else frozenset()
        for row in draw(args.draw, args.stride, args.corpus, labelled):
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if args.asked:
        scores, pooled = asked(load(args.fixture, args.sample), args.asked)
        for name, score in [*scores, ("all these names", pooled)]:
            print(f"{name}: {score.meant} so named, {score.found} found  "
                  f"precision {score.precision:.3f}  recall {score.recall:.3f}")
        return 0
    fixture = args.fixture.resolve()
    shown = fixture.relative_to(ROOT) if fixture.is_relative_to(ROOT) else fixture
    print(f"figures_eval {date.today()}  fixture {shown}")
    names = [args.sample] if args.sample else list(dict.fromkeys(r["sample"] for r in load(args.fixture)))
    for name in names:
        rows = load(args.fixture, name)
        if rows:
            report(f"{name} ({len(rows)} sentences)", evaluate(rows), args.verbose)
    if args.second:
        second = load(args.second)
        for name in dict.fromkeys(r["sample"] for r in second):
            rows = [r for r in second if r["sample"] == name]
            report(f"{name}, second reader against the first ({len(rows)} sentences)",
                   agreement(load(args.fixture, name), rows), args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
