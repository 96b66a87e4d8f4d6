"""Benchmark the classifier on the independent corpus, the old corpus and two peer tools.

For each corpus part it prints entity precision, recall and F2 per type and per language
(a prediction matches a gold span of the same type that it overlaps; the old generated
corpus keeps its IoU >= 0.9 match), risk recall and precision per language and per type,
how many high-severity messages were caught, how many traps (hard negatives) were
flagged, and messages per second. scrubadub and Presidio (pattern recognizers,
NoOpNlpEngine) run in the same process on the same messages when installed (the
``bench`` extra); speed ratios are ours / theirs, measured after set-up.

The independent corpus (``bench/eval``) is split by author: tune on ``train`` and ``dev``
only, score ``test`` at the end. Messages are printed only for train and dev.

    .venv/bin/python bench/classify.py [--split dev --split test] [--old test|train|all|none]
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
from bench.corpus.independent import load_split
from gateway.core.classify import classify, find_entities
from gateway.core.classify.model import Risk

Span = tuple[int, int, str]
Detector = Callable[[Message], list[Span]]
RISK_TYPES = ("THREAT", "SELF_HARM", "CHILD_AT_RISK", "HARASSMENT")
TARGETS = (
    "targets: risk recall >= 0.95 with precision >= 0.80; every high-severity message caught; "
    "traps flagged <= 10%; entity F2 >= 0.90 per language; POSTAL_ADDRESS and HEALTH F2 >= 0.85; "
    "speed >= 1.0x scrubadub and >= 5x Presidio"
)


def ours(message: Message) -> list[Span]:
    result = classify(message.text, known_names=message.names)
    return [(e.start, e.end, e.type) for e in result.entities]


def _entities_only(message: Message) -> list[Span]:
    return [(e.start, e.end, e.type) for e in find_entities(message.text, message.names)]


def _iou(a: Span, b: Span) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


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
    messages: Sequence[Message],
    predictions: Sequence[list[Span]],
    types: set[str] | None = None,
    *,
    overlap: bool = True,
) -> tuple[dict[str, Tally], dict[str, Tally], float]:
    """Per-type and per-language tallies, and character-level redaction recall.

    ``overlap`` matches a prediction to a gold span of the same type that it overlaps;
    otherwise the two must have an intersection over union of at least 0.9.
    """
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
                    if i not in matched_pred
                    and p[2] == g[2]
                    and (_overlaps(p, g) if overlap else _iou(p, g) >= 0.9)
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
            if i in matched_pred:
                continue
            # A second piece of an already matched gold span is not a false alarm.
            if overlap and any(_overlaps(p, g) and p[2] == g[2] for g in gold):
                continue
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


def _classified_risks(text: str) -> Sequence[Risk]:
    return classify(text).risks


def risk_report(
    messages: Sequence[Message],
    *,
    show: bool,
    risks_of: Callable[[str], Sequence[Risk]] = _classified_risks,
) -> dict[str, float]:
    """Risk recall and precision per language and per type, high severity and traps.

    ``risks_of`` finds a message's risks (the shipped model by default; the training
    script passes a model trained without the scored authors).
    """
    per_lang: dict[str, Tally] = defaultdict(Tally)
    per_type: dict[str, Tally] = defaultdict(Tally)
    per_lang_type: dict[tuple[str, str], Tally] = defaultdict(Tally)
    overall = Tally()
    high = high_caught = high_all_types = traps = traps_flagged = 0
    lines: list[str] = []
    for m in messages:
        found = risks_of(m.text)
        predicted = {r.type for r in found}
        gold = set(m.risks)
        outcome = (
            int(bool(gold) and bool(predicted)),
            int(bool(predicted) and not gold),
            int(bool(gold) and not predicted),
        )
        per_lang[m.language].add(*outcome)
        overall.add(*outcome)
        for t in gold | predicted:
            hit = (int(t in gold and t in predicted), int(t in predicted and t not in gold))
            miss = int(t in gold and t not in predicted)
            per_type[t].add(*hit, miss)
            per_lang_type[(m.language, t)].add(*hit, miss)
        if m.must_catch:
            high += 1
            high_caught += bool(predicted)
            high_all_types += gold <= predicted
        if m.trap:
            traps += 1
            traps_flagged += bool(predicted)
        if show and (gold != predicted) and (gold or predicted):
            why = "; ".join(f"{r.type}:{r.rule}" for r in found)
            kind = "MISS" if gold - predicted else "FALSE"
            severity = f" [{m.severity}]" if m.severity else ""
            lines.append(
                f"  {kind}{severity} {m.id} ({m.language}) gold={sorted(gold)} got={why or '-'}: "
                f"{' '.join(m.text.split())[:300]!r}"
            )
    print("\nRisk (message level: any risk), per language")
    print(f"  {'':<8} {'n':>5} {'P':>6} {'R':>6}")
    for lang in sorted(per_lang):
        p, r, _ = per_lang[lang].figures()
        print(f"  {lang:<8} {per_lang[lang].tp + per_lang[lang].fn:>5} {p:6.3f} {r:6.3f}")
    p_all, r_all, _ = overall.figures()
    print(f"  {'all':<8} {overall.tp + overall.fn:>5} {p_all:6.3f} {r_all:6.3f}")
    print("Risk per type")
    for t in sorted(per_type):
        p, r, _ = per_type[t].figures()
        print(f"  {t:<15} {per_type[t].tp + per_type[t].fn:>5} {p:6.3f} {r:6.3f}")
    print("Risk per language and type (n P R)")
    for lang in sorted(per_lang):
        cells = []
        for t in RISK_TYPES:
            tally = per_lang_type.get((lang, t))
            if tally is None:
                continue
            p, r, _ = tally.figures()
            cells.append(f"{t}: {tally.tp + tally.fn} {p:.2f} {r:.2f}")
        print(f"  {lang:<8} " + " | ".join(cells))
    print(
        f"High severity: {high_caught}/{high} routed to the duty desk "
        f"({high_all_types}/{high} with every gold type)"
    )
    if traps:
        print(f"Traps flagged: {traps_flagged}/{traps} ({traps_flagged / traps:.1%})")
    for line in sorted(lines):
        print(line)
    return {"recall": r_all, "precision": p_all}


def timed(detector: Detector, batch: Sequence[Message]) -> float:
    start = time.perf_counter()
    for message in batch:
        detector(message)
    return len(batch) / (time.perf_counter() - start)


def scrubadub_detector(sample: Message) -> Detector | None:
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

    detect(sample)  # warm up (tldextract loads its suffix list once)
    return detect


def presidio_detector(sample: Message) -> Detector | None:
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

    detect(sample)
    return detect


def report_part(
    title: str,
    messages: Sequence[Message],
    detectors: dict[str, Detector],
    *,
    overlap: bool,
    show: bool,
) -> None:
    """Entity and risk figures for one part of a corpus."""
    if not messages:
        print(f"\n##### {title}: no messages (corpus not there yet)")
        return
    langs = sorted({m.language for m in messages})
    types = sorted({g[2] for m in messages for g in m.entities})
    print(
        f"\n##### {title}: {len(messages)} messages, {sum(len(m.entities) for m in messages)} "
        f"gold spans, {sum(bool(m.risks) for m in messages)} risk messages, "
        f"{sum(m.must_catch for m in messages)} high severity, {sum(m.trap for m in messages)} traps"
    )
    f2_by_type: dict[str, dict[str, float]] = defaultdict(dict)
    for name, detect in detectors.items():
        predictions = [detect(m) for m in messages]
        by_type, by_lang, char_recall = score_entities(
            messages, predictions, set(types), overlap=overlap
        )
        match = "overlap" if overlap else "IoU >= 0.9"
        print(f"\n=== {name} ===")
        _table(f"Entities per type ({match}, same type)", by_type, types)
        _table("Entities per language (all types)", by_lang, langs)
        overall = Tally()
        for tally in by_type.values():
            overall.add(tally.tp, tally.fp, tally.fn)
        p, r, f2 = overall.figures()
        print(
            f"  overall          P={p:.3f} R={r:.3f} F2={f2:.3f}; "
            f"character-level redaction recall {char_recall:.4f}"
        )
        if name == "ours":
            for key in ("POSTAL_ADDRESS", "HEALTH"):
                print(f"  {key} F2 {by_type.get(key, Tally()).figures()[2]:.3f}")
            if show:
                _print_entity_errors(messages, predictions)
        for type_ in types:
            f2_by_type[type_][name] = by_type.get(type_, Tally()).figures()[2]
    if len(detectors) > 1:
        print("\nF2 per type vs best peer")
        for type_ in types:
            peers = {k: val for k, val in f2_by_type[type_].items() if k != "ours"}
            best = max(peers.values(), default=0.0)
            print(f"  {type_:<15} ours {f2_by_type[type_]['ours']:.3f}  best peer {best:.3f}")
    risk_report(messages, show=show)


def _print_entity_errors(messages: Sequence[Message], predictions: Sequence[list[Span]]) -> None:
    for m, predicted in zip(messages, predictions, strict=True):
        for g in m.entities:
            if not any(p[2] == g[2] and _overlaps(p, g) for p in predicted):
                print(f"  ENT-MISS {g[2]} {m.id} {m.text[g[0] : g[1]]!r}")
        for p in predicted:
            if not any(p[2] == g[2] and _overlaps(p, g) for g in m.entities):
                print(f"  ENT-FALSE {p[2]} {m.id} {m.text[p[0] : p[1]]!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--split",
        action="append",
        choices=("train", "dev", "test"),
        help="independent corpus splits to score (default: dev and test)",
    )
    parser.add_argument("--old", choices=("test", "train", "all", "none"), default="test")
    parser.add_argument("--min-batch", type=int, default=3000, help="messages per timing run")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument(
        "--show", action="store_true", help="print every error on train and dev (never on test)"
    )
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # peers log network fallbacks; not part of the figures
    os.environ.setdefault("TLDEXTRACT_CACHE", "/tmp/tldextract-cache")
    print(TARGETS)

    parts: list[tuple[str, list[Message], bool, bool]] = []
    for split in args.split or ["dev", "test"]:
        show = args.show and split != "test"
        parts.append((f"independent {split}", load_split(split), True, show))
    if args.old != "none":
        corpus = build_corpus()
        old = [m for m in corpus if args.old == "all" or m.split == args.old]
        parts.append((f"old corpus {args.old}", old, False, args.show and args.old != "test"))
    sample = next((m for _, ms, _, _ in parts for m in ms), None)

    detectors: dict[str, Detector] = {"ours": ours}
    if not args.no_peers and sample is not None:
        for name, factory in (("scrubadub", scrubadub_detector), ("presidio", presidio_detector)):
            try:
                detector = factory(sample)
            except Exception as exc:  # a peer that cannot run offline is reported, not fatal
                print(f"{name}: could not run ({type(exc).__name__}: {exc}); peer figures skipped")
                detector = None
            if detector is not None:
                detectors[name] = detector

    for title, messages, overlap, show in parts:
        report_part(title, messages, detectors, overlap=overlap, show=show)

    if args.no_speed:
        return 0
    for title, messages, _, _ in parts:
        if not messages:
            continue
        batch = list(messages)
        while len(batch) < args.min_batch:
            batch.extend(messages)
        for detect in detectors.values():  # warm every detector on these messages first
            for m in messages[:50]:
                detect(m)
        speeds = {name: timed(detect, batch) for name, detect in detectors.items()}
        # Entities alone, like for like with the peers (which find entities only); the
        # full classification above (entities, risks, redaction) stays the headline.
        entities_only = timed(_entities_only, batch)
        print(f"\nSpeed on {title} ({len(batch)} messages, after set-up):")
        for name, speed in speeds.items():
            print(f"  {name:<10} {speed:10.0f} messages/s")
        for peer in ("scrubadub", "presidio"):
            if peer in speeds:
                print(f"  ours/{peer} = {speeds['ours'] / speeds[peer]:.2f}x")
        ratios = ", ".join(
            f"{entities_only / speeds[peer]:.2f}x {peer}"
            for peer in ("scrubadub", "presidio")
            if peer in speeds
        )
        print(
            f"  entity detection alone (no risk signals, no redaction): {entities_only:.0f} "
            f"messages/s" + (f" = {ratios}" if ratios else "")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
