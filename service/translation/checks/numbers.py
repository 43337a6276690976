"""Numbers, dates and years: none invented, none dropped.

Numbers are compared as digit strings (`1,000`, `1.000` and `1 000` are all `1000`). A
number written in words on one side ("vingt pas", "twenty paces") counts as present, so
only a figure that the other side has neither in digits nor in words is reported.
"""

from __future__ import annotations

import re

from service.translation.checks.base import Answer, Finding, Problem
from service.translation.checks.language import language_of

_DIGITS = re.compile(r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?!\d)|\d+")
_SEPARATORS = re.compile(r"[,.\u00a0\u202f ]")
_WORD = re.compile(r"[^\W\d_]+")
_ROMAN = re.compile(
    r"\b(?=[MDCLXVI])M{0,4}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})\b"
)
_ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}


def _table(text: str) -> dict[str, int]:
    return {word: int(value) for word, _, value in (e.partition("=") for e in text.split())}


# One to twenty, by language.
_UNITS = {
    "en": "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty",
    "fr": "un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze "
    "seize dix-sept dix-huit dix-neuf vingt",
    "de": "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn "
    "fünfzehn sechzehn siebzehn achtzehn neunzehn zwanzig",
    "es": "uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
    "dieciséis diecisiete dieciocho diecinueve veinte",
    "it": "uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici "
    "quattordici quindici sedici diciassette diciotto diciannove venti",
    "la": "unus duo tres quattuor quinque sex septem octo novem decem undecim duodecim "
    "tredecim quattuordecim quindecim sedecim septendecim duodeviginti undeviginti viginti",
    "nl": "een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien "
    "vijftien zestien zeventien achttien negentien twintig",
}
_ORDINALS = {
    "en": "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth",
}
# Tens, hundreds and other words that state a number, by language.
_LARGE: dict[str, dict[str, int]] = {
    "en": _table(
        "thirty=30 forty=40 fifty=50 sixty=60 seventy=70 eighty=80 ninety=90 hundred=100 "
        "thousand=1000 dozen=12 single=1 a=1 an=1"
    ),
    "fr": _table(
        "trente=30 quarante=40 cinquante=50 soixante=60 cent=100 cents=100 vingts=20 "
        "mille=1000 douzaine=12 une=1 premier=1 première=1 second=2 seconde=2"
    ),
    "de": _table(
        "dreißig=30 vierzig=40 fünfzig=50 sechzig=60 hundert=100 tausend=1000 dutzend=12 "
        "ein=1 eine=1 einen=1 einem=1 einer=1 eines=1 erste=1 ersten=1 zweite=2"
    ),
    "es": _table(
        "treinta=30 cuarenta=40 cincuenta=50 cien=100 ciento=100 mil=1000 un=1 una=1 "
        "primero=1 primera=1"
    ),
    "it": _table(
        "trenta=30 quaranta=40 cinquanta=50 cento=100 mille=1000 un=1 una=1 primo=1 prima=1"
    ),
    "la": _table("centum=100 mille=1000 primus=1 prima=1 primum=1"),
    "nl": _table("dertig=30 veertig=40 honderd=100 duizend=1000 eerste=1"),
}


def _vocabulary(lang: str) -> dict[str, int]:
    words: dict[str, int] = {}
    for table in (_UNITS, _ORDINALS):
        for value, word in enumerate(table.get(lang, "").split(), start=1):
            words[word] = value
    words.update(_LARGE.get(lang, {}))
    return words


_VOCABULARY = {lang: _vocabulary(lang) for lang in _UNITS}
NUMBER_WORDS = frozenset(word for words in _VOCABULARY.values() for word in words)


def figures(text: str) -> list[str]:
    """Every number written in digits, in order, thousands separators removed."""
    return [_SEPARATORS.sub("", m.group()).lstrip("0") or "0" for m in _DIGITS.finditer(text)]


def values(text: str, lang: str) -> set[str]:
    """Every number a text states, in digits or in words, as digit strings."""
    found = set(figures(text)) | {str(_roman(m)) for m in _ROMAN.findall(text) if m}
    vocabulary = _VOCABULARY.get(language_of(lang), {})
    folded = text.casefold()
    for word in _WORD.findall(folded):
        if word in vocabulary:
            found.add(str(vocabulary[word]))
        elif "und" in word:
            found.update(_compound(word.split("und"), vocabulary))
    for compound in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)+", folded):
        found.update(_compound(compound.replace("-et-", "-").split("-"), vocabulary))
    return found


def _compound(parts: list[str], vocabulary: dict[str, int]) -> set[str]:
    """The value of a number written in several words (vingt-trois, dreiundzwanzig,
    quatre-vingt-dix), or nothing when a part is no number word."""
    if len(parts) < 2 or not all(p in vocabulary for p in parts):
        return set()
    total = 0
    for part in parts:
        value = vocabulary[part]
        if value in (100, 1000):
            total = max(total, 1) * value
        elif value == 20 and total % 100 == 4:  # quatre-vingt
            total += 76
        else:
            total += value
    return {str(total)}


def _roman(numeral: str) -> int:
    total = 0
    for i, letter in enumerate(numeral):
        value = _ROMAN_VALUES[letter]
        following = _ROMAN_VALUES[numeral[i + 1]] if i + 1 < len(numeral) else 0
        total += -value if value < following else value
    return total


def invented(answer: Answer) -> Finding | None:
    """A figure in the translation that the source states neither in digits nor in words."""
    stated = values(answer.source, answer.source_lang)
    extra = [n for n in dict.fromkeys(figures(answer.text)) if n not in stated]
    if not extra:
        return None
    listed = _list(extra)
    verb = "is" if len(extra) == 1 else "are"
    return Finding(Problem.INVENTED_NUMBER, f"{listed} {verb} not in the source")


def dropped(answer: Answer) -> Finding | None:
    """A figure of the source that the translation states neither in digits nor in words."""
    stated = values(answer.text, answer.target_lang)
    missing = [n for n in dict.fromkeys(figures(answer.source)) if n not in stated]
    if not missing:
        return None
    verb = "is" if len(missing) == 1 else "are"
    return Finding(
        Problem.DROPPED_NUMBER,
        f"{_list(missing)} of the source {verb} missing from the translation",
    )


def _list(numbers: list[str]) -> str:
    shown = numbers[:4]
    text = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
    return text + (f" (and {len(numbers) - 4} more)" if len(numbers) > 4 else "")
