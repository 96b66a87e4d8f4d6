"""Benchmark the classifier against its labelled corpus and two peer tools.

Prints, for the chosen part of the corpus (``--part test`` by default; tune on
``--part train`` only): precision, recall and F2 per entity type and per language (a
prediction matches a gold span of the same type with IoU >= 0.9), character-level
redaction recall, risk recall and precision per language, the must-catch list, and
messages per second. scrubadub and Presidio (pattern recognizers, NoOpNlpEngine) run in
the same process on the same messages when installed; speed ratios are ours / theirs.

    .venv/bin/python bench/classify.py [--part test|train|all] [--min-batch 5000]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus.generate import Message, build_corpus
from gateway.core.classify import classify

Span = tuple[int, int, str]
Detector = Callable[[Message], list[Span]]

CHECKSUMMED = (
    "NO_FNR",
    "DK_CPR",
    "SE_PNR",
    "FI_HETU",
    "GB_NINO",
    "GB_NHS",
    "US_SSN",
    "IBAN",
    "BANK_ACCOUNT",
    "PAYMENT_CARD",
)


def ours(message: Message) -> list[Span]:
    result = classify(message.text, known_names=message.names)
    return [(e.start, e.end, e.type) for e in result.entities]


def _iou(a: Span, b: Span) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0


class Tally:
    """True positives, false positives and false negatives for one slice."""

    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0

    def add(self, tp: int, fp: int, fn: int) -> None:
        self.tp += tp
        self.fp += fp
        self.fn += fn

    def figures(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f2 = 5 * p * r / (4 * p + r) if p + r else 0.0
        return p, r, f2


def score_entities(
    messages: Sequence[Message], predictions: Sequence[list[Span]], types: set[str] | None = None
) -> tuple[dict[str, Tally], dict[str, Tally], float]:
    """Per-type and per-language tallies, and character-level redaction recall."""
    by_type: dict[str, Tally] = defaultdict(Tally)
    by_lang: dict[str, Tally] = defaultdict(Tally)
    covered = total = 0
    for message, predicted in zip(messages, predictions, strict=True):
        gold: list[Span] = [(g[0], g[1], g[2]) for g in message.entities]
        if types is not None:
            predicted = [p for p in predicted if p[2] in types]
        matched_pred: set[int] = set()
        for g in gold:
            hit = next(
                (
                    i
                    for i, p in enumerate(predicted)
                    if i not in matched_pred and p[2] == g[2] and _iou(p, g) >= 0.9
                ),
                None,
            )
            if hit is None:
                by_type[g[2]].add(0, 0, 1)
                by_lang[message.language].add(0, 0, 1)
            else:
                matched_pred.add(hit)
                by_type[g[2]].add(1, 0, 0)
                by_lang[message.language].add(1, 0, 0)
            mask = [False] * (g[1] - g[0])
            for p in predicted:
                for c in range(max(p[0], g[0]), min(p[1], g[1])):
                    mask[c - g[0]] = True
            covered += sum(mask)
            total += len(mask)
        for i, p in enumerate(predicted):
            if i not in matched_pred:
                by_type[p[2]].add(0, 1, 0)
                by_lang[message.language].add(0, 1, 0)
    return by_type, by_lang, covered / total if total else 1.0


def _table(title: str, tallies: dict[str, Tally], keys: Sequence[str]) -> None:
    print(f"\n{title}")
    print(f"  {'':<15} {'n':>5} {'P':>6} {'R':>6} {'F2':>6}")
    for key in keys:
        t = tallies.get(key, Tally())
        p, r, f2 = t.figures()
        print(f"  {key:<15} {t.tp + t.fn:>5} {p:6.3f} {r:6.3f} {f2:6.3f}")


def risk_report(messages: Sequence[Message]) -> list[str]:
    """Risk recall and precision per language (message level, any risk), and misses."""
    per_lang: dict[str, Tally] = defaultdict(Tally)
    per_type: dict[str, Tally] = defaultdict(Tally)
    misses: list[str] = []
    for m in messages:
        result = classify(m.text, known_names=m.names)
        predicted = {r.type for r in result.risks}
        gold = set(m.risks)
        per_lang[m.language].add(
            int(bool(gold) and bool(predicted)),
            int(bool(predicted) and not gold),
            int(bool(gold) and not predicted),
        )
        for t in gold | predicted:
            per_type[t].add(
                int(t in gold and t in predicted),
                int(t in predicted and t not in gold),
                int(t in gold and t not in predicted),
            )
        if m.must_catch and not gold <= predicted:
            misses.append(f"{m.id}: {m.text!r} expected {sorted(gold)} got {sorted(predicted)}")
    print("\nRisk (message level: any risk), per language")
    print(f"  {'':<8} {'n':>5} {'P':>6} {'R':>6}")
    for lang in sorted(per_lang):
        p, r, _ = per_lang[lang].figures()
        print(f"  {lang:<8} {per_lang[lang].tp + per_lang[lang].fn:>5} {p:6.3f} {r:6.3f}")
    print("Risk per type")
    for t in sorted(per_type):
        p, r, _ = per_type[t].figures()
        print(f"  {t:<15} {per_type[t].tp + per_type[t].fn:>5} {p:6.3f} {r:6.3f}")
    return misses


def timed(detector: Detector, batch: Sequence[Message]) -> float:
    start = time.perf_counter()
    for message in batch:
        detector(message)
    return len(batch) / (time.perf_counter() - start)


def scrubadub_detector() -> Detector | None:
    try:
        import scrubadub
    except ImportError:
        print("scrubadub: not installed; peer figures skipped")
        return None
    scrubber = scrubadub.Scrubber()
    mapping = {"email": "EMAIL", "phone": "PHONE", "credit_card": "PAYMENT_CARD", "social_security_number": "US_SSN",
               "national_insurance_number": "GB_NINO", "postalcode": "POSTAL_ADDRESS", "address": "POSTAL_ADDRESS"}  # fmt: skip

    def detect(message: Message) -> list[Span]:
        return [
            (f.beg, f.end, mapping.get(f.type, f.type.upper()))
            for f in scrubber.iter_filth(message.text)
        ]

    detect(build_corpus()[0])  # warm up (tldextract loads its suffix list once)
    return detect


def presidio_detector() -> Detector | None:
    try:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError:
        print("presidio-analyzer: not installed; peer figures skipped")
        return None
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers()
    registry.remove_recognizer("SpacyRecognizer")  # needs a spaCy model; pattern recognizers only
    engine = AnalyzerEngine(
        nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "noop"}]),
        registry=registry,
        supported_languages=["en"],
    )
    mapping = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "PAYMENT_CARD", "IBAN_CODE": "IBAN",
               "US_SSN": "US_SSN", "UK_NHS": "GB_NHS", "UK_NINO": "GB_NINO", "US_BANK_NUMBER": "BANK_ACCOUNT"}  # fmt: skip

    def detect(message: Message) -> list[Span]:
        return [
            (r.start, r.end, mapping.get(r.entity_type, r.entity_type))
            for r in engine.analyze(message.text, language="en")
        ]

    detect(build_corpus()[0])
    return detect


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("test", "train", "all"), default="test")
    parser.add_argument("--min-batch", type=int, default=5000, help="messages per timing run")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # peers log network fallbacks; not part of the figures
    os.environ.setdefault("TLDEXTRACT_CACHE", "/tmp/tldextract-cache")

    corpus = build_corpus()
    messages = [m for m in corpus if args.part == "all" or m.split == args.part]
    langs = sorted({m.language for m in messages})
    types = sorted({g[2] for m in messages for g in m.entities})
    print(f"corpus: {len(corpus)} messages ({sum(m.split == 'train' for m in corpus)} train, "
          f"{sum(m.split == 'test' for m in corpus)} test); scoring part={args.part}: {len(messages)} messages, "
          f"{sum(len(m.entities) for m in messages)} gold spans, {sum(bool(m.risks) for m in messages)} risk messages")  # fmt: skip

    detectors: dict[str, Detector] = {"ours": ours}
    if not args.no_peers:
        for name, factory in (("scrubadub", scrubadub_detector), ("presidio", presidio_detector)):
            try:
                detector = factory()
            except Exception as exc:  # a peer that cannot run offline is reported, not fatal
                print(f"{name}: could not run ({type(exc).__name__}: {exc}); peer figures skipped")
                detector = None
            if detector is not None:
                detectors[name] = detector

    f2_by_type: dict[str, dict[str, float]] = defaultdict(dict)
    for name, detect in detectors.items():
        predictions = [detect(m) for m in messages]
        by_type, by_lang, char_recall = score_entities(messages, predictions, set(types))
        print(f"\n=== {name} ===")
        _table("Entities per type (IoU >= 0.9, same type)", by_type, types)
        _table("Entities per language (all types)", by_lang, langs)
        overall = Tally()
        for tally in by_type.values():
            overall.add(tally.tp, tally.fp, tally.fn)
        p, r, f2 = overall.figures()
        print(
            f"  overall          P={p:.3f} R={r:.3f} F2={f2:.3f}; character-level redaction recall {char_recall:.4f}"
        )
        for type_ in types:
            f2_by_type[type_][name] = by_type.get(type_, Tally()).figures()[2]

    misses = risk_report(messages)
    must = [m for m in corpus if m.must_catch]
    misses_all = [m for m in risk_report_silent(must)]
    print(f"\nMust-catch: {len(must)} severe messages (both parts); misses: {len(misses_all)}")
    for line in sorted(set(misses) | set(misses_all)):
        print("  MISS " + line)

    batch = list(messages)
    while len(batch) < args.min_batch:
        batch.extend(messages)
    speeds = {name: timed(detect, batch) for name, detect in detectors.items()}
    print(f"\nSpeed on {len(batch)} messages (after set-up):")
    for name, speed in speeds.items():
        print(f"  {name:<10} {speed:10.0f} messages/s")
    for peer in ("scrubadub", "presidio"):
        if peer in speeds:
            print(f"  ours/{peer} = {speeds['ours'] / speeds[peer]:.1f}x")
    print("\nF2 per type vs best peer")
    for type_ in types:
        peers = {k: val for k, val in f2_by_type[type_].items() if k != "ours"}
        best = max(peers.values(), default=0.0)
        print(f"  {type_:<15} ours {f2_by_type[type_]['ours']:.3f}  best peer {best:.3f}")
    return 0


def risk_report_silent(messages: Sequence[Message]) -> list[str]:
    """Must-catch misses without printing tables."""
    out = []
    for m in messages:
        predicted = {r.type for r in classify(m.text, known_names=m.names).risks}
        if not set(m.risks) <= predicted:
            out.append(f"{m.id}: {m.text!r} expected {sorted(m.risks)} got {sorted(predicted)}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
