"""The reflection as published (reportgen/render/reflection.py): the student's answers under their
questions, none of the seed's words to the student, an unanswered question said to be unanswered."""

from __future__ import annotations

from reportgen.render.reflection import answered, published, questions
from reportgen.render.strings import strings

ASKED = ["**1. Uno.** ¿Qué?", "**2. Dos.** ¿Cómo?"]


def seed(hint: str) -> str:
    intro = strings("es")["page"]["reflection_intro"]
    return f"<!-- un comentario -->\n_{intro}_\n\n{ASKED[0]}\n\n- {hint}\n\n{ASKED[1]}\n"


def hint(difference: str) -> str:
    return strings("es")["verdicts"]["reflection"]["gap"].format(difference=difference)


def test_the_seed_publishes_its_questions_as_unanswered():
    found = published(seed(hint("+1,0 pp")), seed(hint("+1,0 pp")), ASKED, "es")
    assert (found.answered, found.questions, found.complete) == (0, 2, False)
    assert found.text == f"{ASKED[0]}\n\n_Sin responder._\n\n{ASKED[1]}\n\n_Sin responder._\n"


def test_a_hint_from_older_numbers_is_still_the_seeds_and_not_an_answer():
    written = seed(hint("−6,0 pp"))  # seeded when the results read otherwise
    found = published(seed(hint("+1,0 pp")), written, ASKED, "es")
    assert found.answered == 0 and "sobreajuste" not in found.text


def test_a_hint_in_an_older_wording_of_its_numbers_is_still_the_seeds():
    older = strings("es")["verdicts"]["reflection"]["perturbed"].format(difference="+5,7 pp", low="2,0 pp", high="9,5 pp")
    older = older.replace("2,0 pp; 9,5 pp", "2,0 pp, 9,5 pp")  # the interval's separator as seeds once wrote it
    assert "2,0 pp, 9,5 pp" in older
    found = published(seed(hint("+1,0 pp")), seed(older), ASKED, "es")
    assert found.answered == 0 and "augmentations" not in found.text


def test_answers_are_kept_and_counted():
    written = seed(hint("+1,0 pp")).replace("¿Cómo?\n", "¿Cómo?\n\nCon tres semillas más lo sabría.\n")
    found = published(seed(hint("+1,0 pp")), written, ASKED, "es")
    assert found.answered == 1 and "Con tres semillas más lo sabría." in found.text
    assert found.text.count("_Sin responder._") == 1 and "Escribí aquí" not in found.text
    assert answered(seed(hint("+1,0 pp")), written, ASKED) == (1, 2)


def test_a_spanish_seed_on_an_english_page_is_still_a_seed():
    asked = questions("en", practice=True)
    written = "\n\n".join([f"_{strings('es')['page']['reflection_intro']}_", *questions("es", practice=True)])
    found = published("", written, asked, "en")
    assert found.answered == 0 and found.text.count("_Unanswered._") == len(asked)
    assert "Escribí" not in found.text
