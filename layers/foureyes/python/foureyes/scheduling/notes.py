"""A reading aid for interview notes: an extractive summary (verbatim sentences, nothing invented),
a suggestion for a person to read, never a decision.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset("""the and for with that this was were are has have had but not you your our they them their
from into about very also just more most some such than then there these those which while will would could
should can did does done been being she her his him its it's over under very well what when where who why how
all any each few other own same too only both de het een van en""".split())


def summarise_notes(notes: Sequence[str], max_sentences: int = 3) -> tuple[str, ...]:
    """An extractive summary: the sentences whose words recur most across all notes, in their original
    order. Verbatim sentences only (nothing invented); a reading aid for a person, never a decision."""
    sentences = [s.strip() for note in notes for s in _SENTENCE.split(note) if len(s.strip()) > 3]
    if len(sentences) <= max_sentences:
        return tuple(sentences)
    words = [[w.lower() for w in _WORD.findall(s) if w.lower() not in _STOP] for s in sentences]
    freq = Counter(w for ws in words for w in set(ws))
    scores = [(sum(freq[w] for w in ws) / (len(ws) ** 0.5) if ws else 0.0, i) for i, ws in enumerate(words)]
    chosen = sorted(i for _, i in sorted(scores, key=lambda p: (-p[0], p[1]))[:max_sentences])
    return tuple(sentences[i] for i in chosen)
