"""Question constraints as pure logic: what a question pins down, and how a sentence in its passage
fares against it."""

import datetime as dt

import pytest

from assistant.answering.constraints import analyse, check, passage_context
from assistant.answering.names import as_written, mentions, named_things, subtitled

TODAY = dt.date(2026, 11, 28)


def context(text: str, title: str = "", published: str = ""):
    return passage_context(text, title, "", published)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who won the women's singles Wimbledon in 2019?", ["2019", "Wimbledon", "women's", "singles"]),
        ("What was Tesla's revenue in Q3 2019?", ["2019", "Q3", "Tesla"]),
        ("What was Tesla's revenue in the third quarter of 2019?", ["2019", "Q3", "Tesla"]),
        ("When does season 4 of The Crown premiere?", ["season 4", "Crown"]),
        ("When will the first season of The Blacklist premiere?", ["season 1", "Blacklist"]),
        (
            "Which movie won Best Picture at the 90th Academy Awards?",
            ["90th", "Best Picture", "Academy Awards"],
        ),
        ("Which actor won Best Actor at the 92nd Academy Awards?", ["92nd", "Best Actor", "Academy Awards"]),
        ("When was Pixel 5a announced?", ["Pixel 5a"]),
        ("What is the release date of Cyberpunk 2077?", ["Cyberpunk 2077"]),
        ('Who is the director of "Pretty Woman"?', ["Pretty Woman"]),
        ("Who is going instead?", []),
    ],
)
def test_questions_state_their_constraints(question, expected):
    assert analyse(question, TODAY).describe() == expected


def test_relative_time_resolves_against_the_day_asked():
    last_week = analyse("What happened in Port Vell last week?", TODAY).time
    assert (last_week.since, last_week.until) == ("2026-11-15", "2026-11-21")
    assert last_week.basis == "asked on 2026-11-28"
    this_week = analyse("What happened in Port Vell this week?", TODAY).time
    assert (this_week.since, this_week.until) == ("2026-11-22", "2026-11-28")
    this_year = analyse("Who won the Harlow Cup this year?", TODAY)
    assert this_year.years == (2026,)
    assert analyse("Who won the Harlow Cup last year?", TODAY).years == (2025,)


def test_a_passage_about_another_year_conflicts():
    asked = analyse("Who won Wimbledon in 2019?", TODAY)
    kerber = "Jul 14, 2018 ... Angelique Kerber beat Serena Williams to win Wimbledon."
    verdict = check(asked, kerber, context(kerber))
    assert verdict.conflicts == ["from 2018, not 2019"], "the snippet's dateline dates it"
    halep = "Simona Halep won the 2019 Wimbledon title."
    assert check(asked, halep, context(halep)).ok and check(asked, halep, context(halep)).matched == 1
    other = "Serena Williams won Wimbledon in 2016."
    assert check(asked, other, context(other)).conflicts == ["about 2016, not 2019"]


def test_a_year_read_in_the_passage_the_title_or_the_published_date():
    asked = analyse("Who won Wimbledon in 2019?", TODAY)
    sentence = "Halep beat Williams in the final."
    assert check(asked, sentence, context(sentence, title="Wimbledon 2019: Halep wins")).ok
    assert check(asked, sentence, context(sentence, published="2019-07-13")).matched > 0
    assert check(asked, sentence, context(sentence, published="2020-01-05")).unverified  # reported later
    undated = check(asked, sentence, context(sentence))
    assert undated.ok and undated.unverified == ["gives no year; the question asks about 2019"]


def test_quarters_and_seasons_must_agree():
    q3 = analyse("What was Tesla's revenue in Q3 2019?", TODAY)
    second = "Tesla reported revenue of $6.35 billion in the second quarter of 2019."
    assert check(q3, second, context(second)).conflicts == ["about Q2, not Q3"]
    third = "Revenue was $6.3 billion in the third quarter of 2019."
    assert check(q3, third, context(third)).ok
    season = analyse("When does season 4 of The Crown premiere?", TODAY)
    three = "Season 3 of The Crown premiered on November 17, 2019."
    assert check(season, three, context(three)).conflicts == ["about season 3, not season 4"]
    four = "The fourth season of The Crown arrives on November 15, 2020."
    assert check(season, four, context(four)).ok
    first = analyse("When will the first season of The Blacklist premiere?", TODAY)
    final = "The tenth and final season of The Blacklist premiered on February 26, 2023."
    assert check(first, final, context(final)).conflicts == ["about season 10, not season 1"]


def test_model_numbers_must_appear_with_their_name():
    text = "xenoblade chronicles: definitive edition was released on 2 august 2023"
    assert not mentions("Xenoblade Chronicles 2", text, set(text.replace(":", "").split()))
    text = "xenoblade chronicles 2 arrived on december 1, 2017"
    assert mentions("Xenoblade Chronicles 2", text, set(text.replace(",", "").split()))
    text = "the german foreign minister"
    assert mentions("Germany", text, set(text.split())), "an adjective names the country"


def test_a_sentence_about_another_title_of_the_series_conflicts():
    constraints = analyse("When was Xenoblade Chronicles 2 released?", TODAY)
    passage = context("Xenoblade Chronicles 2 arrived in 2017. Its soundtrack came out later.")
    other = "The tracks of Xenoblade Chronicles: Definitive Edition were released on 2 August 2023."
    assert check(constraints, other, passage).conflicts == [
        "about Xenoblade Chronicles: Definitive Edition, not Xenoblade Chronicles 2"
    ]
    assert check(constraints, "Xenoblade Chronicles 3 came out in 2022.", passage).conflicts
    assert not check(constraints, "Xenoblade Chronicles 2 arrived in 2017.", passage).conflicts
    # the series' name alone is most often the asked title, shortened
    splatoon = analyse("When was Splatoon 2 released?", TODAY)
    assert not check(splatoon, "Splatoon's sequel came out in July.", context("Splatoon 2 ...")).conflicts


@pytest.mark.parametrize(
    ("question", "sentence", "other"),
    [
        ("Who is the president of the NFL?", "JC Tretter leads the NFL Players Association.",
         "NFL Players Association"),
        ("Who heads Nintendo?", "Nintendo of America president Doug Bowser spoke.", "Nintendo of America"),
        ("Who leads FIFA?", "The FIFA Council met in Zurich.", "FIFA Council"),
        # the body itself: its company form, a role in it, a country's long name, a mention on its own
        ("Who is the CEO of Lego?", "Christiansen, CEO of the LEGO Group, spoke.", ""),
        ("Who leads NATO?", "NATO Secretary General Mark Rutte spoke.", ""),
        ("Who leads the United States?", "The President of the United States of America spoke.", ""),
        ("Who leads the NFL?", "Roger Goodell of the NFL met the NFL Players Association.", ""),
        ("Who is Marco Rubio?", "Marco Rubio of Florida spoke.", ""),
    ],
)  # fmt: skip
def test_a_body_named_after_the_asked_one_is_another_body(question, sentence, other):
    verdict = check(analyse(question, TODAY), sentence, context(sentence))
    wanted = [f"about {other}, not {analyse(question, TODAY).entities[0]}"] if other else []
    assert verdict.conflicts == wanted


def test_a_later_episode_does_not_date_a_season_premiere():
    premiere = analyse("What is the premiere date of The Walking Dead Season 11?", TODAY)
    listing = "Season 11, Episode 17: Releases Sunday, October 2, 2022."
    assert check(premiere, listing, context(listing)).conflicts == [
        "about episode 17, not the season's first"
    ]
    first = "Season 11, Episode 1 airs August 22, 2021; Episode 2 follows."
    assert not check(premiere, first, context(first)).conflicts
    plain = "The Walking Dead Season 11 premieres August 22, 2021."
    assert not check(premiere, plain, context(plain)).conflicts
    # asking about an episode, or not about the start, leaves episodes alone
    for question in ("When does Season 11, Episode 17 air?", "How many episodes has Season 11?"):
        assert not check(analyse(question, TODAY), listing, context(listing)).conflicts


def test_another_ordinal_of_the_same_name_conflicts():
    asked = analyse("Which actor won Best Actor at the 92nd Academy Awards Ceremony?", TODAY)
    later = "Anthony Hopkins upset Chadwick Boseman at the 93rd Academy Awards."
    assert check(asked, later, context(later)).conflicts == ["about the 93rd academy, not the 92nd"]
    for fine in ("Joaquin Phoenix won at the 92nd Academy Awards.", "The 21st Century Fox film won."):
        assert not check(asked, fine, context(fine)).conflicts


def test_named_things_skip_question_words_and_years():
    assert named_things("Who is the CEO of Lego in 2021?") == ["CEO of Lego"]
    assert named_things("What did the U.S. promise?") == ["U.S."]
    assert named_things("When was Splatoon 2 released?") == ["Splatoon 2"]
    assert named_things('<img onerror="window.x = 5"> How much do tours cost?') == [], "markup is no title"
    assert named_things("Some in Washington see it as an obstacle, don't they?") == ["Washington"], (
        "a capitalised first word is sentence case, not a name"
    )


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("What excuse did Washington's foreign ministry give?", "The U.S. said attending was unrealistic."),
        ("Who would broker talks between Moscow and the alliance?", "Talks between Russia and NATO."),
        ("Why not fly to Belgium?", "He stays away from the meeting in Brussels."),
        ("What did America promise?", "The US promised to handle it separately."),
        ("What did Britain say?", "The UK government said nothing."),
    ],
)
def test_a_country_is_named_by_its_capital_demonym_or_short_form(question, passage):
    verdict = check(analyse(question, TODAY), passage, context(passage))
    assert verdict.ok and not verdict.unmentioned and not verdict.off_subject


def test_other_countries_and_ordinary_words_do_not_stand_for_a_country():
    for question, passage in [
        ("What did Washington announce?", "Moscow announced new talks."),
        ("What did Washington announce?", "They told us about it in detail."),
        ("What did Italy decide?", "IT staff decided to stay."),
    ]:
        assert check(analyse(question, TODAY), passage, context(passage)).off_subject, passage


def test_country_names_come_from_the_country_data():
    from assistant.answering.places import country_of

    assert country_of("Washington") is country_of("U.S.") is country_of("America")
    assert country_of("German") is country_of("Berlin") is country_of("Germany")
    assert country_of("it") is None and country_of("IN") is None


def test_a_category_the_question_excludes_conflicts():
    constraints = analyse("Who won the men's singles U.S. Open in 2021?", TODAY)
    assert constraints.facets == ("men's", "singles")
    women = "Raducanu won the women's singles title at the 2021 US Open."
    assert check(constraints, women, context(women)).conflicts == ["about women's, not men's"]
    men = "Medvedev won the men's singles title at the 2021 US Open."
    assert check(constraints, men, context(men)).ok
    plain = "Medvedev won the final in straight sets."
    assert check(constraints, plain, context(plain, title="Men's final at the 2021 US Open")).ok
    assert check(constraints, plain, context(plain, title="Women's doubles final")).conflicts == [
        "about women's, not men's",
        "about doubles, not singles",
    ]


@pytest.mark.parametrize(
    ("name", "text", "named"),
    [
        ("Maxwell Award", "Joe Burrow won the Maxwell Award on Thursday.", True),
        ("Maxwell Award", "2019 CFDA Awards winners: Brandon Maxwell, Rick Owens take top honors.", False),
        ("British Open", "Thiem won the men's title at the 2020 US Open.", False),
        ("U.S. Open", "Medvedev won the 2021 US Open.", True),
        ("U.S. Open", "Tell us more. Open the door.", False),
        ("CEO of Facebook", "Facebook CEO Mark Zuckerberg testified.", True),
        ("Definite Edition", "Xenoblade Chronicles: Definitive Edition arrived in May.", True),
        ("Marco Rubio", "Meanwhile, Rubio has opted for talks at the White House.", True),
        ("Marco Rubio", "Meanwhile, Anna Rubio has opted for talks at the White House.", False),
        ("British Open", "Raducanu is the first qualifier of the Open Era to win.", False),
    ],
)
def test_a_name_of_several_words_is_mentioned_with_two_of_them_side_by_side(name, text, named):
    verdict = check(analyse(f"What about {name}?", TODAY), text, context(text))
    assert verdict.off_subject is not named


@pytest.mark.parametrize(
    ("question", "sentence", "conflict"),
    [
        ("Who is the president of the NFL?", "Las Vegas Raiders president Sandra Morgan backs the NFL.",
         "about the president of Las Vegas Raiders, not the president of NFL"),
        ("Who is the director of the Avatar movie?", "Titanic director James Cameron returns.",
         "about the director of Titanic, not the director of Avatar"),
        ("Who is the president of the NFL?", "NFL president Roger Goodell spoke.", ""),
        ("Who is the president of the NFL?", "The president of the National Football League spoke.", ""),
        ("Who is the CEO of Lego in 2021?", "Christiansen, CEO of the LEGO Group, spoke in 2021.", ""),
        ("Who is the president of the United States?", "U.S. President Joe Biden spoke.", ""),
        ("Who is the president of the NFL?", "The president spoke for the NFL.", ""),  # the office alone
        ("Who is the director of the Avatar movie?", "Canadian director James Cameron spoke.", ""),
        ("Who is the president of the FIFA?", "Sepp Blatter, the former president of FIFA, spoke.",
         "about a former president, not the president of FIFA"),
        ("Who is the CEO of Google in 2021?", "Ex-CEO Eric Schmidt and CEO Sundar Pichai met.", ""),
        ("Who was the president of FIFA in 2010?", "Sepp Blatter, the former president of FIFA, spoke.", ""),
        ("Who is the president of France?", "American President Joe Biden spoke.",
         "about the president of American, not the president of France"),
        ("Who is the president of the FIFA?", "Webb and Warner, presidents of CONCACAF, met in Zurich.",
         "about the president of CONCACAF, not the president of FIFA"),
        ("Who is the CEO of Meta?", "Metaverse Group CEO Ann Lee spoke.",
         "about the ceo of Metaverse Group, not the ceo of Meta"),
        ("Who is the president of the NFL?",
         "The Las Vegas Raiders hired Sandra Morgan as their new team president, a first in NFL history.",
         "about the president of Las Vegas Raiders, not the president of NFL"),
        ("Who is the president of the Raiders?",
         "The Las Vegas Raiders hired Sandra Morgan as their new team president.", ""),
        ("Who is the CEO of Lego?", "The company named Niels Christiansen as its CEO.", ""),
        ("Who is the president of the United States?", "Joe Biden is the president of the U.S.", ""),
        ("Who is the CEO of Lego in 2021?", "In 2021 Anne Lee is the CEO of The LEGO Foundation.",
         "about the ceo of LEGO Foundation, not the ceo of Lego"),
    ],
)  # fmt: skip
def test_an_office_of_another_body_conflicts(question, sentence, conflict):
    verdict = check(analyse(question, TODAY), sentence, context(sentence))
    assert verdict.conflicts == ([conflict] if conflict else [])


def test_a_name_typed_in_lower_case_is_read_as_the_passages_write_it():
    passages = (
        "A soundtrack used in Xenoblade Chronicles 2 came out later. Xenoblade Chronicles 2 "
        "Release Date: December 1. The release date was kept."
    )
    question = as_written("when was xenoblade chronicles 2 released? what is its release date?", passages)
    assert question == "when was Xenoblade Chronicles 2 released? what is its release date?"
    assert named_things(question) == ["Xenoblade Chronicles 2"]
    for headline in (
        "Splatoon 2 Release Date Confirmed. Nintendo set the Release Date, and the release date stands.",
        "Splatoon 2\nRelease Date: July 21. More to come.",
    ):
        assert as_written("what is the release date?", headline) == "what is the release date?", (
            "a headline's Title Case is no name"
        )


def test_a_titles_number_is_part_of_its_name_and_a_subtitle_names_another_work():
    assert named_things("What is the release date of Cyberpunk 2077?") == ["Cyberpunk 2077"]
    assert named_things("Who won Wimbledon 2019?") == ["Wimbledon"]
    assert (
        subtitled("Cyberpunk 2077", "Cyberpunk 2077: Phantom Liberty is out.")
        == "Cyberpunk 2077: Phantom Liberty"
    )
    assert subtitled("Cyberpunk 2077", "Cyberpunk 2077 got Cyberpunk 2077: Phantom Liberty.") == ""
    assert subtitled("Cyberpunk 2077", "Cyberpunk 2077: what we know") == ""
