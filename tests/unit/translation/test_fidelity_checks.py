"""The fidelity checks: each catches its failure with a plain reason and passes good answers.

The bad answers are the ones issue 17 saw the bundled model give (an example sentence, a
loop, one line for a paragraph, an invented year); the good ones are faithful translations.
"""

from __future__ import annotations

import pytest

from service.translation.backends.base import BatchRequest, Task
from service.translation.checks import Answer, Finding, Problem, findings
from service.translation.checks.names import names
from service.translation.checks.numbers import values
from service.translation.prompts import fewshot
from service.translation.sentences import count_sentences, split_sentences

pytestmark = pytest.mark.unit

CANDIDE = (
    "Il y avait en Westphalie, dans le château de monsieur le baron de Thunder-ten-tronckh, un "
    "jeune garçon à qui la nature avait donné les mœurs les plus douces. Sa physionomie "
    "annonçait son âme. Il avait le jugement assez droit, avec l'esprit le plus simple ; "
    "c'est, je crois, pour cette raison qu'on le nommait Candide. Les anciens domestiques de "
    "la maison soupçonnaient qu'il était fils de la sœur de monsieur le baron."
)
CANDIDE_EN = (
    "In the castle of Baron Thunder-ten-tronckh in Westphalia there lived a youth whom nature "
    "had endowed with the gentlest of manners. His countenance was the true index of his "
    "soul. He combined an honest mind with great simplicity of heart; and I believe it was "
    "for this reason that he was called Candide. The old servants of the house suspected him "
    "to have been the son of the Baron's sister."
)
HARVEST = "En 1783, la récolte fut mauvaise à Rouen, et le pain coûta vingt-trois sous la livre."
HARVEST_EN = "In 1783 the harvest was poor at Rouen, and bread cost twenty-three sous a pound."


def kinds(source: str, text: str, lang: str = "fr", **extra: object) -> list[str]:
    answer = Answer(source, text, lang, "en", **extra)  # type: ignore[arg-type]
    return [f.problem.value for f in findings(Task.TRANSLATE, answer)]


def first(source: str, text: str, lang: str = "fr", **extra: object) -> Finding:
    answer = Answer(source, text, lang, "en", **extra)  # type: ignore[arg-type]
    return findings(Task.TRANSLATE, answer)[0]


def test_faithful_translations_pass_every_check() -> None:
    assert kinds(CANDIDE, CANDIDE_EN) == []
    assert kinds(HARVEST, HARVEST_EN) == []
    # "Here is" opening a sentence is a translation, not a preface to one.
    cheese = "C'est là que l'on fait les pires fromages de Neufchâtel."
    assert kinds(cheese, "Here is where the worst cheeses of Neufchâtel are made.") == []


def test_one_line_for_a_paragraph_is_an_omission_with_the_sentence_count() -> None:
    finding = first(CANDIDE, "He said, that things cannot be otherwise, and he was Candide.")
    assert finding.problem is Problem.OMISSION
    assert "of the length expected" in finding.message
    medium = (
        "In the castle of Baron Thunder-ten-tronckh in Westphalia there lived a youth whom "
        "nature had endowed with the gentlest of manners, and who was called Candide, and the "
        "old servants of the house suspected that he was the son of the sister of the Baron"
    )
    assert first(CANDIDE, medium).message == "the source has 4 sentences, the translation 1"


def test_a_number_not_in_the_source_is_invented_and_one_lost_is_dropped() -> None:
    invented = first(HARVEST, "In 1788 the harvest was poor at Rouen, and bread cost 23 sous.")
    assert invented.problem is Problem.INVENTED_NUMBER
    assert invented.message == "1788 is not in the source"
    dropped = kinds(HARVEST, "The harvest was poor at Rouen, and bread cost twenty-three sous.")
    assert dropped == ["dropped_number"]
    # Numbers in words on either side count: vingt-trois is 23, and 1783 may stay digits.
    assert kinds(HARVEST, "In 1783 the harvest was poor at Rouen; bread cost 23 sous.") == []
    assert values("quatre-vingt-dix-neuf et dreiundzwanzig", "fr") >= {"99"}
    assert kinds("Anno MDCCLXXXIII messis mala fuit.", "In 1783 the harvest was bad.", "la") == []


def test_a_lost_name_is_flagged_but_declension_accents_and_exonyms_are_not() -> None:
    source = "Le lendemain, Zadig partit pour Babylone avec le seigneur Orcan et Sémire."
    lost = first(source, "The next day, he left for the city with the lord and his wife.")
    assert lost.problem is Problem.DROPPED_NAME
    assert "Zadig" in lost.message and "Orcan" in lost.message
    kept = "The next day Zadig left for Babylon with Lord Orcan and Semire."
    assert kinds(source, kept) == []
    german = "Er wohnte bei Herrn Goethe in Wien, mitten im Garten des Hauses."
    assert kinds(german, "He lived with Mr Goethe's family in Vienna, in the garden.", "de") == []
    # German capitalises every noun: only a word after a title is taken for a name.
    assert names(german, "de") == ["Goethe"]


def test_prompt_examples_and_the_sentence_before_never_pass_for_a_translation() -> None:
    request = BatchRequest("de", "en", [])
    echoes = fewshot.echoes(request)
    example = fewshot.FEW_SHOT["en"][0]
    source = "Ein Fuhrmann brachte die Säcke mit Korn vor das Tor der Mühle und wartete."
    echo = first(source, example, "de", echoes=echoes)
    assert echo.problem is Problem.PROMPT_ECHO
    assert echo.message.startswith("this is example sentence 1 of the prompt")
    before = ("Der Müller schlief.", "The miller was asleep and the whole house was quiet.")
    repeated = first(source, before[1], "de", previous=before)
    assert repeated.problem is Problem.PROMPT_ECHO
    assert "sentence before" in repeated.message
    good = "A carter brought the sacks of grain to the gate of the mill and waited."
    assert kinds(source, good, "de", echoes=echoes, previous=before) == []


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("I'm sorry, but I cannot translate this text.", "refusal"),
        ("As an AI language model I must decline to render this passage.", "refusal"),
        ("Sorry, that's beyond my current scope. Let's talk about something else.", "refusal"),
        (f"Here is the translation: {HARVEST_EN}", "commentary"),
        (f"{HARVEST_EN}\nNote: the sou was a small coin of the time.", "commentary"),
        (
            f"{HARVEST_EN} The people rioted. The king sent troops. Many died. It was a "
            "terrible year for everyone, and nobody forgot it for a long time afterwards.",
            "commentary",
        ),
    ],
)
def test_refusals_and_commentary_are_named(answer: str, kind: str) -> None:
    assert kind in kinds(HARVEST, answer)


@pytest.mark.parametrize(
    "loop",
    [
        "He said, he said, he said, he said, that things cannot be otherwise.",
        "She was a girl and she was a girl and the harvest was poor at Rouen in 1783.",
        "Since he had joy, since he had joy, since he had joy, the harvest was poor.",
    ],
)
def test_degenerate_repetition_is_a_loop(loop: str) -> None:
    source = "Comme il avait de la joie, il dit que la récolte fut mauvaise à Rouen en 1783."
    finding = first(source, loop)
    assert finding.problem is Problem.REPETITION
    assert "repeats in a loop" in finding.message


def test_repetition_that_the_source_has_too_is_no_loop() -> None:
    source = "Tout est au mieux, tout est au mieux dans le meilleur des mondes possibles."
    answer = "All is for the best, all is for the best in the best of all possible worlds."
    assert kinds(source, answer) == []


def test_sentences_split_at_ends_but_not_after_titles_initials_or_ordinals() -> None:
    text = "M. Homais parla. Il dit « Non ! » Puis J. W. Goethe vint, le 9. Juni."
    assert split_sentences(text, "fr") == [
        "M. Homais parla.",
        "Il dit « Non ! »",
        "Puis J. W. Goethe vint, le 9. Juni.",
    ]
    assert split_sentences("Am 9. Junius kam er. Dann ging er.", "de") == [
        "Am 9. Junius kam er.",
        "Dann ging er.",
    ]
    assert count_sentences(CANDIDE, "fr") == 4
