"""Text as search and place names match it: case, accents and the letters that carry their own marks folded."""

import unicodedata

# Letters that keep their mark through Unicode's decomposition (Łódź, Ağrı, Đà Nẵng, Tromsø), and typographic
# quotes and dashes (North Ossetia–Alania): typed without them, as people type.
PLAIN = str.maketrans({"ł": "l", "ı": "i", "đ": "d", "ħ": "h", "ø": "o", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d",
                       "ŀ": "l", "ŧ": "t", "ƒ": "f", "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"',
                       "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-"})


def fold(text):
    """Fold text for matching: NFKC, case folded, accents stripped ("Café" -> "cafe", "Łódź" -> "lodz")."""
    if not isinstance(text, str):
        return ""
    if text.isascii():
        return text.lower()  # the same result for ASCII
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(PLAIN)
    return unicodedata.normalize("NFC", plain)
