"""Few-shot completion prompts for base models (the bundled Gemma 3 270M among them).

A base model continues text: it is shown parallel example sentences and then the text, and
writes the translation up to the end of the line. The header and the examples are the same
in every call, so llama.cpp (and any server with a prompt cache) evaluates them once; only
the glossary lines, the sentence before and its translation, and the text itself follow.

The examples are sentences of the kind the documents hold (a name, a date, a reply, a
place), most with a name or a figure of its own: a careless model that hands one back
is caught by the echo, invented-number and dropped-name checks.
"""

from __future__ import annotations

from service.languages import language_name, parse_tag
from service.translation.backends.base import BatchRequest, Task

# The same four sentences in every language, so that any pair can be shown. Four measured
# better than three (the old ones) or six with the bundled model (bench/results).
FEW_SHOT: dict[str, tuple[str, ...]] = {
    "en": (
        "Towards evening the old miller, whose name was Anselm Vernet, went down to the river "
        "with his two sons.",
        "The letter of the 9th of June 1764 reached the abbey only in September, when the roads"
        " were dry again.",
        "She answered that she would rather remain poor all her life than marry a man whom she "
        "did not love.",
        "Our house stands at the end of the village, between the church and the brook; behind "
        "it lies a small garden.",
    ),
    "fr": (
        "Vers le soir, le vieux meunier, qui s'appelait Anselme Vernet, descendit à la rivière "
        "avec ses deux fils.",
        "La lettre du 9 juin 1764 ne parvint à l'abbaye qu'en septembre, quand les chemins "
        "furent de nouveau secs.",
        "Elle répondit qu'elle aimerait mieux rester pauvre toute sa vie que d'épouser un homme"
        " qu'elle n'aimait pas.",
        "Notre maison est au bout du village, entre l'église et le ruisseau ; derrière elle "
        "s'étend un petit jardin.",
    ),
    "de": (
        "Gegen Abend ging der alte Müller, der Anselm Vernet hieß, mit seinen beiden Söhnen zum"
        " Fluß hinab.",
        "Der Brief vom 9. Junius 1764 erreichte die Abtei erst im September, als die Wege "
        "wieder trocken waren.",
        "Sie antwortete, sie wolle lieber ihr Leben lang arm bleiben, als einen Mann heiraten, "
        "den sie nicht liebe.",
        "Unser Haus steht am Ende des Dorfes, zwischen der Kirche und dem Bache; dahinter liegt"
        " ein kleiner Garten.",
    ),
    "la": (
        "Sub vesperam senex molitor, cui nomen erat Anselmus Vernet, cum duobus filiis ad "
        "flumen descendit.",
        "Epistula diei 9 Iunii 1764 non ante Septembrem ad abbatiam pervenit, cum viae iterum "
        "siccae essent.",
        "Respondit se malle per totam vitam pauperem manere quam viro nubere quem non amaret.",
        "Domus nostra in extremo vico stat, inter ecclesiam et rivum; post eam iacet hortulus.",
    ),
    "es": (
        "Al caer la tarde, el viejo molinero, que se llamaba Anselmo Vernet, bajó al río con "
        "sus dos hijos.",
        "La carta del 9 de junio de 1764 no llegó a la abadía hasta septiembre, cuando los "
        "caminos volvieron a estar secos.",
        "Respondió que preferiría quedarse pobre toda su vida antes que casarse con un hombre "
        "al que no amaba.",
        "Nuestra casa está al final del pueblo, entre la iglesia y el arroyo; detrás de ella "
        "hay un pequeño jardín.",
    ),
    "it": (
        "Verso sera il vecchio mugnaio, che si chiamava Anselmo Vernet, scese al fiume con i "
        "suoi due figli.",
        "La lettera del 9 giugno 1764 giunse all'abbazia soltanto in settembre, quando le "
        "strade furono di nuovo asciutte.",
        "Rispose che avrebbe preferito restare povera tutta la vita piuttosto che sposare un "
        "uomo che non amava.",
        "La nostra casa sta in fondo al villaggio, tra la chiesa e il ruscello; dietro di essa "
        "si trova un piccolo giardino.",
    ),
    "nl": (
        "Tegen de avond ging de oude molenaar, die Anselm Vernet heette, met zijn twee zonen "
        "naar de rivier.",
        "De brief van 9 juni 1764 bereikte de abdij pas in september, toen de wegen weer droog "
        "waren.",
        "Zij antwoordde dat zij liever haar leven lang arm wilde blijven dan te trouwen met een"
        " man die zij niet liefhad.",
        "Ons huis staat aan het einde van het dorp, tussen de kerk en de beek; daarachter ligt "
        "een kleine tuin.",
    ),
}


def examples(source_lang: str, target_lang: str) -> list[tuple[str, str]]:
    """The example pairs for a language pair, or none where either side has no examples."""
    source, target = parse_tag(source_lang).language, parse_tag(target_lang).language
    if source not in FEW_SHOT or target not in FEW_SHOT or source == target:
        return []
    return list(zip(FEW_SHOT[source], FEW_SHOT[target], strict=True))


def prefix(request: BatchRequest) -> str:
    """The part of the prompt every call of a language pair shares: header and examples."""
    source, target = language_name(request.source_lang), language_name(request.target_lang)
    lines = [f"Translate {source} to {target}.", ""]
    for original, translated in examples(request.source_lang, request.target_lang):
        lines += [f"{source}: {original}", f"{target}: {translated}", ""]
    return "\n".join(lines) + "\n"


def completion_prompt(request: BatchRequest, text: str) -> str:
    """The few-shot prompt for one text, ending where the model writes its answer."""
    if request.task is Task.CORRECT:
        return _correction(language_name(request.source_lang), text)
    source, target = language_name(request.source_lang), language_name(request.target_lang)
    lines: list[str] = []
    for hint in request.glossary:
        lines += [f"{source}: {hint.term}", f"{target}: {hint.translation}", ""]
    if request.previous is not None:
        before, translated = request.previous
        lines += [f"{source}: {_line(before)}", f"{target}: {_line(translated)}", ""]
    lines += [f"{source}: {_line(text)}", f"{target}:"]
    return prefix(request) + "\n".join(lines)


def echoes(request: BatchRequest) -> tuple[tuple[str, str], ...]:
    """The prompt's own texts, which must never come back as a translation: each example,
    in both languages, with what to call it."""
    found: list[tuple[str, str]] = []
    for n, (original, translated) in enumerate(
        examples(request.source_lang, request.target_lang), start=1
    ):
        found += [(f"example sentence {n} of the prompt", t) for t in (translated, original)]
    return tuple(found)


def _line(text: str) -> str:
    return " ".join(text.split())


def _correction(source: str, text: str) -> str:
    return "\n".join(
        [
            f"Correct the OCR errors in this {source} text; keep the old spelling.",
            "",
            f"OCR: {_line(text)}",
            "Corrected:",
        ]
    )
