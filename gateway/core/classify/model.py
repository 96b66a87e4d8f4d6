"""The values the classifier returns: sensitive spans, risk signals and the redacted text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """A sensitive span of the message: ``text[start:end]`` is of ``type``.

    ``rule`` names the detector and the check that fired, so a caseworker or auditor can
    see why a span was hidden; ``confidence`` is that rule's calibrated belief (0..1).
    """

    start: int
    end: int
    type: str
    rule: str
    confidence: float


@dataclass(frozen=True)
class Risk:
    """A signal that the message needs the duty desk now; ``start:end`` is the evidence.

    ``rule`` names the phrase or frame that fired (or ``model.<type>`` when only the
    trained model did); ``why`` lists the model features that weighed most.
    """

    type: str
    rule: str
    confidence: float
    start: int
    end: int
    why: tuple[str, ...] = ()


@dataclass(frozen=True)
class Classification:
    """Everything the pipeline needs from one message: what to hide and whether it is urgent."""

    entities: tuple[Entity, ...]
    risks: tuple[Risk, ...]
    redacted: str

    @property
    def urgent(self) -> bool:
        """True when any risk signal fired; a risk only ever raises priority."""
        return bool(self.risks)

    @property
    def labels(self) -> list[str]:
        """Sorted distinct entity and risk types, for the message's classification column."""
        return sorted({e.type for e in self.entities} | {r.type for r in self.risks})
