"""The medical-safety layer: a reported reaction gets urgent care, a personal decision a clinician.

- `guard`: rules over two lexicons (data/safety/triggers.yml, concepts.yml), by red-flag
  concept and by the shape of a report;
- `classifier`: a text classifier of its own, trained on data/safety/corpus/;
- `decision`: the one decision per message, the most severe of rules, classifier and the NLU
  model, published in the parse data as `safety` and read by every later step.
"""

from bot.core.safety.decision import (
    INTENT_OF,
    PERSONAL_INTENT,
    SAFETY_INTENTS,
    URGENT_INTENT,
    SafetyVerdict,
    decide_safety,
)
from bot.core.safety.guard import (
    CONCEPTS_DIR,
    TRIGGERS_FILE,
    GuardResult,
    SafetyClass,
    SafetyGuard,
    default_guard,
)

__all__ = [
    "CONCEPTS_DIR",
    "INTENT_OF",
    "PERSONAL_INTENT",
    "SAFETY_INTENTS",
    "TRIGGERS_FILE",
    "URGENT_INTENT",
    "GuardResult",
    "SafetyClass",
    "SafetyGuard",
    "SafetyVerdict",
    "decide_safety",
    "default_guard",
]
