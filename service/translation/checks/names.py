"""Proper names of the source that the translation lost.

A name is a capitalised word inside a sentence that is no function word, number or title
(and, where the language's dictionary is at hand, one it does not know); in German, where
every noun is capitalised, only a word after a title (`Herr`, `Graf`) counts, so common
nouns stay out. A name is found again in the
translation despite declension (`Goethes`, `Goethe`), accents (`Boissière`, `Boissiere`)
and small spelling shifts (`Normandie`, `Normandy`), or as a usual exonym (`Wien`, `Vienna`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from rapidfuzz import fuzz

from service.translation.checks.base import Answer, Finding, Problem
from service.translation.checks.language import STOPWORDS, language_of
from service.translation.checks.numbers import NUMBER_WORDS

# Whether a lower-case word is in the source language's dictionary.
KnownWord = Callable[[str], bool]

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|[.!?;:»«\"“”„]")
_SENTENCE_END = frozenset('.!?;:«»"“”„')
_ROMAN = re.compile(r"^[MDCLXVI]+$")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _pairs(text: str) -> dict[str, tuple[str, ...]]:
    """`name=form/form` entries as a dictionary."""
    return {n: tuple(f.split("/")) for n, _, f in (e.partition("=") for e in text.split())}


# Titles, forms of address and words capitalised by convention: never names on their own.
TITLES = _words(
    """
    monsieur madame mademoiselle messieurs mesdames monseigneur sire seigneur dieu roi
    reine prince princesse duc duchesse comte comtesse marquis marquise baron baronne
    abbé père mère saint sainte sieur dame maître docteur état église herr frau fräulein
    herrn gott könig königin fürst fürstin graf gräfin herzog herzogin kaiser kaiserin
    doktor sankt vater mutter freiherr ritter meister don doña señor señora dios rey
    reina santo santa padre fray signor signora signore dio re regina santo padre
    mijnheer heer mevrouw god koning deus rex dominus domina sanctus sancta i chapter
    chapitre kapitel capitulo capitolo caput livre buch mons monsr monseig mr mrs mme
    mlle mgr st ste hr dr
    """
)
# Words after which a German capitalised word is a name, not a noun.
_GERMAN_NAME_MARKERS = _words(
    """
    herr herrn frau fräulein graf grafen gräfin fürst fürsten könig königs herzog
    herzogs kaiser kaisers doktor sankt st baron freiherr ritter
    """
)
_ELISION = re.compile(r"^(?:[ldjmnst]|qu|dell|all|dall|nell|sull)['’]", re.IGNORECASE)
# Usual exonyms: the source's name (lower case) and its English forms.
EXONYMS: dict[str, tuple[str, ...]] = _pairs(
    """
    wien=vienna münchen=munich köln=cologne venedig=venice genf=geneva mailand=milan
    rom=rome neapel=naples florenz=florence prag=prague braunschweig=brunswick
    hannover=hanover böhmen=bohemia sachsen=saxony bayern=bavaria preußen=prussia
    österreich=austria deutschland=germany frankreich=france england=england
    spanien=spain schweiz=switzerland londres=london allemagne=germany
    angleterre=england espagne=spain italie=italy suisse=switzerland écosse=scotland
    irlande=ireland hollande=holland flandres=flanders flandre=flanders
    bourgogne=burgundy bretagne=brittany gênes=genoa venise=venice lisbonne=lisbon
    babylone=babylon égypte=egypt jean=john jacques=james guillaume=william pierre=peter
    henri=henry louis=lewis wilhelm=william friedrich=frederick
    karl=charles heinrich=henry johann=john ludwig=louis/lewis marie=mary jésus=jesus
    christus=christ londra=london parigi=paris firenze=florence venezia=venice roma=rome
    sevilla=seville parisiis=paris lutetia=paris londinium=london
    """
)
_FUZZY_MIN = 80


def names(text: str, lang: str, known: KnownWord | None = None) -> list[str]:
    """The proper names a text holds, in order, each once.

    `known` tells whether a lower-case word is in the language's dictionary. Where one is at
    hand, only words it does not know, or that follow a title, count: hands and presses of
    the time capitalise nouns ("les Seigneurs"), and a name in the dictionary is better
    missed than a noun taken for a name. German capitalises every noun, so there only a
    word after a title (`Herr`, `Graf`) is taken for a name.
    """
    language = language_of(lang)
    tokens = [_ELISION.sub("", t) for t in _TOKEN.findall(text)]
    found: dict[str, bool] = {}
    for i, token in enumerate(tokens):
        before = tokens[i - 1].casefold() if i > 0 else "."
        if _capitalised_word(token, before):
            found.setdefault(token, before in _GERMAN_NAME_MARKERS or before in TITLES)
    if language == "de":
        return [t for t, titled in found.items() if titled]
    if known is not None:
        return [t for t, titled in found.items() if titled or not known(t.casefold())]
    return list(found)


def _capitalised_word(token: str, before: str) -> bool:
    if len(token) < 3 or not token[0].isupper() or _ROMAN.match(token):
        return False
    folded = token.casefold()
    if folded in TITLES or folded in NUMBER_WORDS:
        return False
    if any(folded in words for words in STOPWORDS.values()):
        return False
    return before not in _SENTENCE_END


def dropped(answer: Answer) -> Finding | None:
    """Names of the source that the translation has in no recognisable form."""
    wanted = names(answer.source, answer.source_lang, answer.known)
    if not wanted:
        return None
    words = [_fold(_ELISION.sub("", w)) for w in _TOKEN.findall(answer.text) if w[0].isalpha()]
    missing = [n for n in wanted if not _present(n, words)]
    if not missing or len(missing) * 3 < len(wanted):
        return None
    shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
    verb = "is" if len(missing) == 1 else "are"
    return Finding(Problem.DROPPED_NAME, f"{shown} of the source {verb} not in the translation")


def _present(name: str, words: list[str]) -> bool:
    folded = _fold(name)
    forms = (folded, *(_fold(e) for e in EXONYMS.get(name.casefold(), ())))
    return any(_same(form, word) for form in forms for word in words)


def _same(name: str, word: str) -> bool:
    if name == word:
        return True
    stem = max(4, min(len(name), len(word)) - 2)
    if len(word) >= 4 and name[:stem] == word[:stem]:
        return True
    return len(word) >= 4 and fuzz.ratio(name, word) >= _FUZZY_MIN


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
