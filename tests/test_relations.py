"""The relations words can tell: a sentence answers "who won", "who bought", "who founded", "who
died", "when was it released" or "when was it announced" only if it states that relation in some
form."""

import pytest

from assistant.answering.relations import asked_relations, states


@pytest.mark.parametrize(
    ("question", "answers", "does_not"),
    [
        (
            "Who won the women's singles Wimbledon in 2019?",
            "Simona Halep beat Serena Williams 6-2, 6-2 in the final.",
            "Wimbledon 2019, women's singles: Serena Williams and Johanna Konta meet in the first round.",
        ),
        (
            "Who is the Heisman Trophy winner in 2012?",
            "Johnny Manziel was crowned at the ceremony in New York.",
            "The 2012 Heisman Trophy ceremony takes place in New York.",
        ),
        (
            "Who acquired WhatsApp?",
            "Facebook bought WhatsApp for $19 billion in 2014.",
            "WhatsApp was founded in 2009 by Jan Koum and Brian Acton.",
        ),
        (
            "Who founded OpenAI?",
            "OpenAI was co-founded by Sam Altman and Elon Musk.",
            "OpenAI is led by Sam Altman.",
        ),
        (
            "When was Breath of the Wild released?",
            "Breath of the Wild came out on the Switch on March 3, 2017.",
            "Breath of the Wild was officially announced in a Wii U Direct on January 23, 2013.",
        ),
        (
            "When was the Pixel 6 announced?",
            "Google officially revealed the Pixel 6 at its fall event on October 19, 2021.",
            "The Pixel 6 went on sale in stores on October 28, 2021.",
        ),
    ],
)
def test_a_sentence_must_state_the_asked_relation(question, answers, does_not):
    relations = asked_relations(question)
    assert relations
    assert states(relations, answers)
    assert not states(relations, does_not)


@pytest.mark.parametrize(
    "question",
    ["Where was the wreck found?", "What is the title of the report?", "Who is the CEO of Lego?"],
)
def test_other_questions_ask_no_relation_of_the_list(question):
    assert asked_relations(question) == ()
    assert states(asked_relations(question), "Any sentence at all.")


def test_an_outcome_still_to_come_is_not_stated_unless_asked():
    relations = asked_relations("Who is the Maxwell Award winner in 2019?")
    pending = "The winner of the 2019 Maxwell Award will be announced on December 12."
    assert not states(relations, pending, "Who is the Maxwell Award winner in 2019?")
    assert states(relations, pending, "Who will be the Maxwell Award winner in 2019?")


def test_a_runner_up_needs_the_losing_side_stated():
    relations = asked_relations("Who was the runner-up of the 2010 World Cup?")
    assert not states(relations, "World Cup 2010 winner - Spain.")
    assert states(relations, "Spain beat the Netherlands 1-0 in the 2010 World Cup final.")


@pytest.mark.parametrize(
    ("sentence", "stated"),
    [
        ("Results of the 2020 election, with the votes in each state, and who is winning the race.", False),
        ("FIFA Men's World Cup results and which countries have won.", False),
        ("Voters will decide who wins.", False),
        ("Joe Biden wins election to be the 46th US President.", True),
        ("Biden, who won the election, spoke in Delaware.", True),
        ("The player who won the title has retired.", True),
    ],
)
def test_an_indirect_question_names_the_outcome_without_stating_it(sentence, stated):
    relations = asked_relations("Who won the US Presidential Election 2020?")
    assert states(relations, sentence) is stated
