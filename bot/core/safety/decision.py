"""One safety decision per message, made once (in the NLU pipeline) and read everywhere.

Rules (bot/core/safety/guard.py), the trained classifier (bot/core/safety/classifier.py) and the NLU
model's own intent each may escalate; the decision takes the most severe of them. Urgent
beats personal, personal beats any information answer, and nothing downgrades.

The verdict travels with the message as `safety` in Rasa's parse data (see
`SafetyVerdict.as_dict`), so the action server, the Rasa server's own reply when the action
server is down, audits and `make review` all read the same decision instead of recomputing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from bot.core.safety.classifier import SafetyTextClassifier
from bot.core.safety.guard import SafetyClass, SafetyGuard

URGENT_INTENT = "report_adverse_reaction"
PERSONAL_INTENT = "personal_medical_question"
SAFETY_INTENTS = (PERSONAL_INTENT, URGENT_INTENT)
INTENT_OF = {SafetyClass.URGENT: URGENT_INTENT, SafetyClass.PERSONAL: PERSONAL_INTENT}
_SEVERITY = {None: 0, SafetyClass.PERSONAL: 1, SafetyClass.URGENT: 2}
_FROM_INTENT = {URGENT_INTENT: SafetyClass.URGENT, PERSONAL_INTENT: SafetyClass.PERSONAL}


@dataclass(frozen=True)
class SafetyVerdict:
    """What the safety layer decided about one message, and why."""

    verdict: Optional[SafetyClass]
    by: Tuple[str, ...] = ()  # "rules", "classifier", "model": who escalated
    matched: Tuple[str, ...] = ()
    concepts: Tuple[str, ...] = ()
    rule: str = ""
    scores: Mapping[str, float] = field(default_factory=dict)
    mentions_health: bool = False

    @property
    def intent(self) -> Optional[str]:
        return INTENT_OF.get(self.verdict) if self.verdict else None

    def as_dict(self) -> Dict[str, Any]:
        return {
            "verdict": self.verdict.value if self.verdict else None,
            "by": list(self.by),
            "matched": list(self.matched),
            "concepts": list(self.concepts),
            "rule": self.rule,
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "mentions_health": self.mentions_health,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> Optional["SafetyVerdict"]:
        """The verdict published in parse data, or None when there is none (a button press)."""
        if not isinstance(raw, dict) or "verdict" not in raw:
            return None
        verdict = raw.get("verdict")
        return cls(
            verdict=SafetyClass(verdict) if verdict in ("urgent", "personal") else None,
            by=tuple(raw.get("by") or ()),
            matched=tuple(raw.get("matched") or ()),
            concepts=tuple(raw.get("concepts") or ()),
            rule=str(raw.get("rule") or ""),
            scores=dict(raw.get("scores") or {}),
            mentions_health=bool(raw.get("mentions_health")),
        )


def decide_safety(
    text: str,
    guard: SafetyGuard,
    classifier: Optional[SafetyTextClassifier] = None,
    model_intent: Optional[str] = None,
) -> SafetyVerdict:
    """The most severe of the rules', the classifiers' and the NLU model's verdicts.

    The NLU model's safety intent is the one vote the rules can overrule, and only on an
    explicit reading: signs named only to deny them ("no swelling, no fever, when do results
    show?"), or curiosity said outright ("why do clinics ask if you're pregnant?", "just
    curious"). Its intent model learns topics, not negation; the rules and the two safety
    classifiers decide such messages.
    """
    reading = guard.read(text)
    rules = guard.decide(reading)
    scores = classifier.scores(text) if classifier is not None else {}
    learned = classifier.verdict_of(scores) if classifier is not None else None
    model = _FROM_INTENT.get(model_intent or "")
    if model is not None and (reading.denial or reading.curious or reading.has["personal_general"]):
        model = None
    votes = {"rules": rules.safety_class, "classifier": learned, "model": model}
    verdict = max(votes.values(), key=lambda v: _SEVERITY[v])
    by = (
        tuple(name for name, vote in votes.items() if vote is not None and vote == verdict) if verdict else ()
    )
    return SafetyVerdict(
        verdict=verdict,
        by=by,
        matched=rules.matched,
        concepts=rules.concepts,
        rule=rules.rule,
        scores=scores,
        mentions_health=rules.mentions_health or verdict is not None,
    )
