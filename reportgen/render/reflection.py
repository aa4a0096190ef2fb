"""The reflection as a reviewer reads it: the student's answers under their questions.

The seed (`templates/reflection.md.j2`, written once into docs/runs/<run-id>/reflexion.md) talks to
the student: an intro ("write your answers here"), hints made of the run's numbers, a comment.
None of that is published: the run page shows each question with what the student wrote under
it, and an unanswered question reads as unanswered. A hint is known by its sentence in the
strings table, whatever numbers it quoted, so a seed written from older results is still a seed.

`answered` counts the questions with an answer, for the page's checklist and the course's table.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass

from reportgen.render.strings import STRINGS_DIR, strings

ANSWER_WORDS = 3  # an answer is at least this many words the seed did not have
QUESTION_NUMBER = re.compile(r"^\s*\*\*(\d+)\.")
COMMENT = re.compile(r"<!--.*?-->", re.S)
BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Reflection:
    """The published reflection and how many of its questions have an answer."""

    text: str  # Markdown: the questions, the student's words, "unanswered" where there are none
    answered: int
    questions: int

    @property
    def complete(self) -> bool:
        return self.questions > 0 and self.answered == self.questions


def questions(language: str, practice: bool) -> list[str]:
    """The seed's questions: the practice's five, or those for a notebook of one's own."""
    words = strings(language)["page"]
    return list(words["reflection_questions" if practice else "reflection_questions_notebook"])


@functools.cache
def _hint_patterns() -> tuple[re.Pattern, ...]:
    """The seed's sentences to the student, each as a pattern whatever numbers it quoted, in every
    language (a run's language may change after its seed was written): the intros (in italics)
    and the hints made of the run's numbers (as list items)."""
    found = []
    for language in sorted(path.stem for path in STRINGS_DIR.glob("*.yaml")):  # one file per language
        words = strings(language)
        intros = [words["page"]["reflection_intro"], words["page"]["reflection_intro_notebook"]]
        hints = [text for text in words["verdicts"]["reflection"].values() if isinstance(text, str)]
        found += [re.compile(rf"^_?{_template(text)}_?$") for text in intros]
        found += [re.compile(rf"^(?:[-*]\s+)?{_template(text)}$") for text in hints]
    return tuple(found)


def _template(text: str) -> str:
    """A strings-table sentence as a regular expression: each {field} matches any text, and so does
    a literal without letters (a separator such as "; " between two numbers, which older wordings
    wrote otherwise)."""
    parts = []
    for literal, field, _spec, _conversion in string.Formatter().parse(text):
        parts.append(re.escape(literal) if any(c.isalpha() for c in literal) else ".*?")
        if field is not None:
            parts.append(".+?")
    return "".join(parts)


def _is_seed(line: str, seed_lines: set[str]) -> bool:
    stripped = line.strip()
    return stripped in seed_lines or any(p.match(stripped) for p in _hint_patterns())


def _starts(lines: list[str], asked: list[str]) -> list[int | None]:
    """Where each question starts: found by its text, or by its number ('**3.') where the student edited it."""
    starts = []
    for number, question in enumerate(asked, start=1):
        position = next((i for i, line in enumerate(lines) if line.strip() == question.strip()), None)
        if position is None:
            position = next((i for i, line in enumerate(lines) if (m := QUESTION_NUMBER.match(line))
                             and int(m.group(1)) == number), None)
        starts.append(position)
    return starts


def published(seed: str, written: str, asked: list[str], language: str) -> Reflection:
    """The reflection to publish from the student's file (`written`, the seed until they edit it)."""
    seed_lines = {line.strip() for line in seed.splitlines() if line.strip()} - {q.strip() for q in asked}
    lines = [line for line in COMMENT.sub("", written).splitlines() if not _is_seed(line, seed_lines)]
    starts = _starts(lines, asked)
    found = sorted(p for p in starts if p is not None)
    unanswered = strings(language)["page"]["reflection_unanswered"]
    out, count = [], 0
    for i, line in enumerate(lines):
        out.append(line)
        if i in found:
            end = next((p for p in found if p > i), len(lines))
            if len(" ".join(lines[i + 1:end]).split()) >= ANSWER_WORDS:
                count += 1
            else:
                out += ["", f"_{unanswered}_"]
    text = BLANK_LINES.sub("\n\n", "\n".join(out)).strip() + "\n"
    return Reflection(text, count, len(asked))


def answered(seed: str, written: str, asked: list[str], language: str = "es") -> tuple[int, int]:
    """How many of the questions have an answer: words under the question that the seed did not
    put there (its intro and hints do not count)."""
    found = published(seed, written, asked, language)
    return found.answered, found.questions
