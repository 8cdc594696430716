"""What an inbound text says: an opt-out, an opt-in, a request for help, a wish to stop in
other words, or just a reply.

Keywords are those the FCC's revocation rule and the major carriers' defaults name, in English
and Spanish, in any case, alone or followed by other words ("Stop. Thank you"); an opt-in
(START, UNSTOP, YES) only alone. A keyword must
open the message: "don't stop texting me" is not an opt-out, though the phrases below may read
it as a wish to stop, which only pauses texts until a person confirms.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    MAYBE_STOP = "maybe_stop"
    REPLY = "reply"


OPT_OUT_KEYWORDS = (
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT",
    "OPT-OUT", "REMOVE",
    # Spanish
    "ALTO", "PARAR", "BAJA", "CANCELAR",
)  # fmt: skip
OPT_IN_KEYWORDS = ("START", "UNSTOP", "YES")
HELP_KEYWORDS = ("HELP", "INFO", "AYUDA")

# Phrases that read as "stop texting me" without a keyword, matched on the folded text (lower
# case, accents removed, punctuation as spaces).
STOP_PHRASES = (
    r"\b(do ?n ?t|do not|dont|never|no longer|quit|stop) (text|message|contact|call|sms)\w*",
    r"\bwrong (number|person)\b",
    r"\bnot (interested|me)\b",
    r"\b(leave me alone|take me off|remove me|unsubscribe me|lose my number)\b",
    r"\bno (more|mas) (texts?|messages?|mensajes?|sms)\b",
    r"\b(no me (escriba\w*|envie\w*|mande\w*|contacte\w*|llame\w*))\b",
    r"\bnumero equivocado\b",
    r"\bno (estoy )?interesad[oa]\b",
    r"\b(dejen?|deja) de (escribir|enviar|mandar)\w*",
)
_STOP_PHRASES = re.compile("|".join(STOP_PHRASES))


def _keyword_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so OPT OUT wins over OPT...; the keyword ends at a non-letter or the end.
    alternatives = sorted((re.escape(w).replace(r"\ ", r"[\s_-]*") for w in words), key=len)
    return re.compile(rf"(?:{'|'.join(reversed(alternatives))})(?![a-z0-9])", re.IGNORECASE)


_OPT_OUT = _keyword_pattern(OPT_OUT_KEYWORDS)
_OPT_IN = _keyword_pattern(OPT_IN_KEYWORDS)
_HELP = _keyword_pattern(HELP_KEYWORDS)
# What may stand before the keyword: spaces, quotes, punctuation, emoji.
_LEADING = re.compile(r"^[\W_]*", re.UNICODE)


def fold(text: str) -> str:
    """Lower case, without accents, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w']+", " ", plain).replace("'", "").split())


def classify(body: str) -> Intent:
    """What the text asks for."""
    start = _LEADING.sub("", unicodedata.normalize("NFKC", body))
    if _OPT_OUT.match(start):
        return Intent.OPT_OUT
    # Opting back in takes the keyword alone: "yes, what time?" answers a question.
    if _OPT_IN.fullmatch(start.rstrip(" .!\n\t")):
        return Intent.OPT_IN
    if _HELP.match(start):
        return Intent.HELP
    if _STOP_PHRASES.search(fold(body)):
        return Intent.MAYBE_STOP
    return Intent.REPLY
