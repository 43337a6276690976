"""Sentence mode: a segment translated one sentence at a time, then joined in order.

Small models (the bundled Gemma 3 270M, 1–3B chat models) lose their way in a long
paragraph: they stop after a line, loop, or hand back an example. Asked for one sentence,
with the sentence before and its translation as context (so pronouns and names carry
over), they stay on it. Each sentence's answer is checked at once and retried once in a
stricter way (another seed, the stricter note) when a check fails; the joined text is
checked again as a whole. The segment stays the unit of alignment, storage and review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from service.translation import checks
from service.translation.backends.base import BatchRequest, TranslationBackend
from service.translation.checks import Answer, Finding, Problem
from service.translation.chunking import SegmentText
from service.translation.glossary import occurring
from service.translation.sentences import split_sentences
from service.translation.work import Outcome, Spec, Unit

# A sentence longer than this is asked for clause by clause.
LONG_SENTENCE = 110
# A clause shorter than this stays with its neighbour: alone it has too little to go on.
SHORT_CLAUSE = 25
# Where a long sentence is cut: at the space after a comma, semicolon, colon or dash (and
# after a quotation mark that closes there).
_CLAUSE_END = re.compile(r"(?:(?<=[,;:—])|(?<=[,;:—][\"'»”’)]))\s+")


def prompt_pieces(text: str, lang: str) -> list[str]:
    """What sentence mode asks for one by one: sentences, long ones cut into clauses at
    commas, semicolons, colons and dashes (a small model translates a clause of 40–110
    characters far better than a period of 300)."""
    pieces: list[str] = []
    for sentence in split_sentences(text, lang):
        if len(sentence) <= LONG_SENTENCE:
            pieces.append(sentence)
            continue
        clauses = [c.strip() for c in _CLAUSE_END.split(sentence)]
        pieces.extend(_join_short([c for c in clauses if c]))
    return pieces


def _join_short(clauses: list[str]) -> list[str]:
    joined: list[str] = []
    for clause in clauses:
        if joined and (len(joined[-1]) < SHORT_CLAUSE or len(clause) < SHORT_CLAUSE):
            joined[-1] = f"{joined[-1]} {clause}"
        else:
            joined.append(clause)
    return joined


def translate(units: list[Unit], backend: TranslationBackend, spec: Spec) -> list[Outcome]:
    """Every unit sentence by sentence; the last sentence of one is context for the next."""
    outcomes: list[Outcome] = []
    previous: tuple[str, str] | None = None
    for unit in units:
        outcome, previous = translate_unit(unit, backend, spec, previous)
        outcomes.append(outcome)
    return outcomes


@dataclass
class _Said:
    """One piece's answer: its text or why there is none, and what the checks found."""

    text: str | None
    error: str | None
    cost: Outcome
    findings: list[Finding] = field(default_factory=list)

    def rank(self) -> tuple[int, int]:
        """Lower is better: an answer before none, usable before unusable, fewer doubts."""
        if self.text is None:
            return (2, 0)
        unusable = any(f.problem in checks.UNUSABLE for f in self.findings)
        return (1 if unusable else 0, len(self.findings))


def translate_unit(
    unit: Unit,
    backend: TranslationBackend,
    spec: Spec,
    previous: tuple[str, str] | None = None,
    strict: str | None = None,
) -> tuple[Outcome, tuple[str, str] | None]:
    """One segment sentence by sentence, each checked and, when flagged, retried once.

    With `strict` (the reason a whole-segment answer was flagged) this is itself the
    retry: every sentence carries the stricter note and no sentence is asked again.
    """
    outcome = Outcome(unit.segment_id)
    pieces = prompt_pieces(unit.text, spec.source_lang) or [unit.text]
    texts: list[str] = []
    residual: list[tuple[int, Finding]] = []
    echoes: tuple[tuple[str, str], ...] = ()
    for i, piece in enumerate(pieces):
        said, echoes = _said(unit, piece, i == 0, previous, backend, spec, outcome, strict)
        if said.text is None:
            outcome.error = _numbered(i, len(pieces), said.error or "no answer")
            return outcome, previous
        texts.append(said.text)
        residual += [(i, f) for f in said.findings]
        previous = (piece, said.text)
    if len(pieces) > 1:
        outcome.fallback(f"sentence by sentence ({len(pieces)} requests)")
    _conclude(outcome, unit, spec, " ".join(texts), echoes, residual, len(pieces))
    return outcome, previous


def _said(
    unit: Unit,
    piece: str,
    first: bool,
    previous: tuple[str, str] | None,
    backend: TranslationBackend,
    spec: Spec,
    outcome: Outcome,
    strict: str | None,
) -> tuple[_Said, tuple[tuple[str, str], ...]]:
    said, echoes = _ask(unit, piece, first, previous, backend, spec, strict)
    _charge(outcome, said.cost)
    if strict is None and said.findings:
        # Asked again without the sentence before: a model that echoed it, or took it for
        # the answer and said too little, is led back to the sentence alone.
        reason = said.findings[0].message
        again, _ = _ask(unit, piece, first, previous, backend, spec, reason, context=False)
        _charge(outcome, again.cost)
        outcome.fallback("strict retry of a flagged sentence")
        if again.rank() < said.rank():
            said = again
    return said, echoes


def _ask(
    unit: Unit,
    piece: str,
    first: bool,
    previous: tuple[str, str] | None,
    backend: TranslationBackend,
    spec: Spec,
    strict: str | None,
    context: bool = True,
) -> tuple[_Said, tuple[tuple[str, str], ...]]:
    request = BatchRequest(
        source_lang=spec.source_lang,
        target_lang=spec.target_lang,
        segments=[SegmentText(1, piece)],
        task=spec.task,
        context=unit.context[-3:] if first else (),
        glossary=occurring(unit.glossary, piece),
        period=spec.period,
        genre=spec.genre,
        strict=strict,
        route=spec.route + unit.segment_id,
        previous=previous if context else None,
        attempt=0 if strict is None else 1,
    )
    result = backend.translate(request)
    cost = Outcome(unit.segment_id, attempts=result.attempts.get(1, 1))
    cost.host, cost.digest = result.host, result.digest
    done = result.translations.get(1)
    if done is None:
        error = result.failures.get(1) or "The model returned nothing for this text."
        return _Said(None, error, cost), result.echoes
    cost.add_cost(done.tokens_in, done.tokens_out, done.duration_ms, done.generation_ms)
    answer = Answer(
        piece, done.text, spec.source_lang, spec.target_lang, result.echoes, previous, spec.known
    )
    found = checks.findings(spec.task, answer)
    return _Said(done.text, None, cost, found), result.echoes


def _charge(outcome: Outcome, cost: Outcome) -> None:
    outcome.attempts += cost.attempts
    outcome.host, outcome.digest = cost.host or outcome.host, cost.digest or outcome.digest
    outcome.add_cost_of(cost)


def _conclude(
    outcome: Outcome,
    unit: Unit,
    spec: Spec,
    text: str,
    echoes: tuple[tuple[str, str], ...],
    residual: list[tuple[int, Finding]],
    count: int,
) -> None:
    """Check the joined text as a whole; keep what the sentences' checks still found."""
    answer = Answer(unit.text, text, spec.source_lang, spec.target_lang, echoes, None, spec.known)
    found = checks.findings(spec.task, answer)
    if any(f.problem in checks.UNUSABLE for f in found):
        outcome.error = f"{found[0].message}, also sentence by sentence"
        outcome.flags.append(found[0].flag())
        return
    outcome.text = text
    kinds = {f.problem for f in found}
    for i, finding in residual:
        problem = finding.problem
        if problem in checks.UNUSABLE:
            problem = Problem.PARTLY_UNTRANSLATED
        if problem not in kinds:
            kinds.add(problem)
            found.append(Finding(problem, _numbered(i, count, finding.message)))
    outcome.flags.extend(f.flag() for f in found)


def _numbered(i: int, count: int, message: str) -> str:
    return message if count == 1 else f"sentence {i + 1} of {count}: {message}"
