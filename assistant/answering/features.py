"""Candidates and their evidence, question + parsed passage sentences -> one feature row per candidate.

A candidate is a span of a passage sentence that could be the answer: for a typed question ("who",
"when", "how much", "which city") an entity of an accepted type that the question does not already
name; for any other question, the sentence itself. Each candidate is described by the same signals
(FEATURES): meaning and word overlap of its sentence with the question, whether its own clause
holds the question's verb, focus and content words, whether a noun the question qualifies ("the
junior race") is qualified otherwise there ("the senior race"), answer type, years and period,
named things of the question in the sentence and passage, agreement across articles, rank, position,
and, for a question about a current value, whether its article is the newest. `reader.py` weighs them
with the fitted model.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.answering.grounding import Sentence, terms
from assistant.answering.question import Question, grammatical_role
from assistant.answering.timeline import published_day, years_in
from assistant.library.parsing import DATELINE

FEATURES = (
    "semantic",  # cosine of sentence and question
    "semantic_gap",  # how far below the closest sentence's cosine
    "clause_semantic",  # cosine of the candidate's clause and the question
    "lexical",  # IDF-weighted share of the question's words in the sentence
    "clause",  # share of the question's content lemmas in the candidate's clause
    "verb",  # the clause's verb is one of the question's (1), or the sentence holds one (0.5)
    "focus",  # the noun asked about stands in the candidate's clause
    "qualifier_conflict",  # a noun the question qualifies is qualified otherwise there (how alike)
    "qualifier_match",  # share of the question's qualifying words in the candidate's clause
    "nearness",  # 1 / (1 + words between the candidate and the nearest question word / 5)
    "focus_path",  # 1 / (1 + steps in the parse tree to the noun asked about), 0 when absent
    "verb_path",  # 1 / (1 + steps in the parse tree to one of the question's verbs), 0 when absent
    "role",  # the candidate plays the role the question asks about (1), another (-1), or unknown (0)
    "descriptor",  # how alike the words describing the candidate ("race director X") and the asked ones
    "specific",  # share of a date's parts given (day, month, year); 1 for an amount with its unit
    "old_value",  # the value a change started from ("from $5 to $6": $5)
    "type_preferred",  # the entity type the question prefers ("who": a person)
    "type_accepted",  # a type it accepts
    "names_sentence",  # share of the question's named things the sentence mentions
    "names_passage",  # share its passage (with title) mentions
    "year_match",  # an asked year in the sentence or title (1), or the article's year (0.5)
    "year_conflict",  # the sentence or title names years, none of them asked
    "article_year_conflict",  # the article is dated outside the asked years (and the next)
    "agreement",  # log(1 + other articles giving the same candidate)
    "rank",  # 1 / (1 + the passage's retrieval rank)
    "lead",  # among an article's first two sentences
    "newest",  # a question about a current value, answered by the newest article holding candidates
    "out_of_period",  # the question names a period and the article is dated outside it
    "sentence_answer",  # the question wants a sentence, not a typed span
    "snippet",  # the passage is a short search snippet, not an article's text
)
SNIPPET_WORDS = 80  # a passage shorter than this is a snippet
_CLAUSE_DEPS = frozenset("advcl conj ccomp relcl parataxis acl xcomp".split())
_NUMERIC = frozenset("CARDINAL QUANTITY MONEY PERCENT".split())
NAMED_TYPES = frozenset("person organisation place thing".split())
_MONTHS = frozenset("jan feb mar apr may jun jul aug sep oct nov dec".split())


@dataclass
class Candidate:
    sentence: int  # index into the sentences
    text: str  # the span, or the whole sentence for a sentence answer
    start: int  # offsets in the sentence
    end: int
    label: str  # entity label, or "SENTENCE"
    features: list[float]

    @property
    def key(self) -> str:
        return " ".join(re.findall(r"\w+", self.text.lower()))


def candidates(
    question: Question,
    sentences: list[Sentence],
    docs: list,
    similarity: np.ndarray,
    passages_meta: list[dict],
    query: str,
    alike: Callable[[str, str], float],
    closeness: Callable[[list[str]], np.ndarray],
) -> list[Candidate]:
    """Every candidate answer of the sentences, each with its FEATURES row. `alike` tells how alike
    two words are; `closeness` gives the cosine of each text and the question."""
    if not sentences:
        return []
    top = float(similarity.max())
    clauses: list[str] = []
    lexical = _lexical(question, query, sentences)
    found: list[Candidate] = []
    passage_names = [
        _share(question.names, f"{m.get('title', '')} {m.get('_text', '')}") for m in passages_meta
    ]
    for index, (sentence, doc) in enumerate(zip(sentences, docs, strict=True)):
        if sentence.text.rstrip().rstrip("…. ").endswith("?"):
            continue  # a question (a headline, a snippet of a FAQ) answers nothing
        meta = passages_meta[sentence.passage]
        common = _sentence_signals(question, sentence, doc, meta)
        common["semantic"] = float(similarity[index])
        common["semantic_gap"] = float(similarity[index]) - top
        common["lexical"] = lexical[index]
        common["names_passage"] = passage_names[sentence.passage]
        common["rank"] = 1 / (1 + sentence.passage)
        common["snippet"] = float(len(meta.get("_text", "").split()) < SNIPPET_WORDS)
        for start, end, label, tokens in _spans(question, doc):
            row = dict(common)
            row.update(_span_signals(question, doc, tokens, label, alike))
            found.append(
                Candidate(index, doc.text[start:end], start, end, label, [row.get(f, 0.0) for f in FEATURES])
            )
            clauses.append(_clause_text(tokens, label, doc))
    _clause_closeness(found, clauses, closeness)
    _agreement(found, sentences, passages_meta)
    if question.current:
        _newest(found, sentences, passages_meta)
    return found


def _spans(question: Question, doc):
    """(start, end, label, tokens) of each candidate span of a parsed sentence."""
    if not question.typed:
        yield 0, len(doc.text), "SENTENCE", list(doc)
        return
    taken = set()
    dateline = DATELINE.match(doc.text)
    for ent in doc.ents:
        if ent.label_ not in question.labels or _named_in_question(ent.text, question):
            continue
        if dateline and ent.start_char < dateline.end():
            continue  # a search snippet's own date dates the page, not what it reports
        taken.update(range(ent.start, ent.end))
        start = ent.start_char
        if ent.label_ == "MONEY" and ent.start > 0 and doc[ent.start - 1].is_currency:
            start = doc[ent.start - 1].idx  # "$" left outside the amount
        yield start, ent.end_char, ent.label_, list(ent)
    if question.answer_type in NAMED_TYPES:  # a name the recogniser missed: a run of proper nouns
        run: list = []
        for token in [*doc, None]:
            if token is not None and token.pos_ == "PROPN" and token.i not in taken:
                run.append(token)
                continue
            if run and not _named_in_question(doc.text[run[0].idx : run[-1].idx + len(run[-1])], question):
                yield run[0].idx, run[-1].idx + len(run[-1]), "PROPN", run
            run = []
    if question.answer_type == "number":
        for token in doc:
            if token.like_num and token.i not in taken and not _named_in_question(token.text, question):
                yield token.idx, token.idx + len(token.text), "CARDINAL", [token]


def _named_in_question(text: str, question: Question) -> bool:
    """Does the question itself name the candidate (all its words), or name it in part ("Jane Roe"
    when the question says "Roe")? What the question names is not its answer."""
    words = [w for w in re.findall(r"\w+", text) if w.lower() not in ("the", "of", "and")]
    if words and all(w.lower() in question.words for w in words):
        return True
    return any(w[0].isupper() and len(w) > 2 and w.lower() in question.words for w in words)


def _sentence_signals(question: Question, sentence: Sentence, doc, meta: dict) -> dict[str, float]:
    text = sentence.text
    title = meta.get("title", "")
    asked = set(question.years)
    stated = set()
    for ent in doc.ents:
        if ent.label_ == "DATE":
            stated.update(years_in(ent.text, question.asked_on))
    titled = set(years_in(title, question.asked_on))
    published = published_day(meta.get("published", ""))
    signals = {
        "names_sentence": _share(question.names, text),
        "lead": float(meta.get("chunk_index", 0) == 0 and sentence.start - meta.get("start_char", 0) < 300),
        "sentence_answer": float(not question.typed),
    }
    if asked:
        if (stated | titled) & asked:
            signals["year_match"] = 1.0
        elif published and published.year in asked:
            signals["year_match"] = 0.5
        if (stated | titled) and not (stated | titled) & asked:
            signals["year_conflict"] = 1.0
        if published and not ({published.year, published.year - 1} & asked) and not (stated | titled) & asked:
            signals["article_year_conflict"] = 1.0
    if question.period and published and not question.period.since <= published <= question.period.until:
        signals["out_of_period"] = 1.0
    return signals


def _span_signals(question: Question, doc, tokens: list, label: str, alike) -> dict[str, float]:
    clause = _clause(tokens[0]) if label != "SENTENCE" else list(doc)
    clause_lemmas = {t.lemma_.lower() for t in clause}
    clause_words = {t.lower_ for t in clause}
    sentence_lemmas = {t.lemma_.lower() for t in doc}
    head = _verb_of(tokens[0])
    verb = 0.0
    if head is not None and head.lemma_.lower() in question.verbs:
        verb = 1.0
    elif question.verbs & sentence_lemmas:
        verb = 0.5
    wanted = question.lemmas - {question.focus} if question.focus else question.lemmas
    asked_qualifiers = set().union(*question.qualifiers.values()) if question.qualifiers else set()
    signals = {
        "clause": len(wanted & clause_lemmas) / len(wanted) if wanted else 0.0,
        "verb": verb,
        "focus": float(bool(question.focus) and question.focus in clause_lemmas),
        "qualifier_conflict": _qualified_otherwise(question, clause, alike),
        "qualifier_match": len(asked_qualifiers & clause_words) / len(asked_qualifiers)
        if asked_qualifiers
        else 0.0,
        "type_preferred": float(bool(question.labels) and label == question.labels[0]),
        "type_accepted": float(label in question.labels or label == "SENTENCE"),
    }
    if label != "SENTENCE":
        indices = [t.i for t in doc if t.lemma_.lower() in wanted]
        if indices:
            gap = min(abs(i - t.i) for i in indices for t in tokens)
            signals["nearness"] = 1 / (1 + gap / 5)
        if question.counted and label in _NUMERIC:
            signals["focus"] = float(question.counted in {t.lemma_.lower() for t in clause})
        root = _root(tokens)
        focus = [t for t in doc if t.lemma_.lower() == question.focus] if question.focus else []
        if focus:
            signals["focus_path"] = 1 / (1 + min(_tree_distance(root, t) for t in focus))
        verbs = [t for t in doc if t.lemma_.lower() in question.verbs]
        if verbs:
            signals["verb_path"] = 1 / (1 + min(_tree_distance(root, t) for t in verbs))
        if question.role:
            signals["role"] = 1.0 if grammatical_role(root) == question.role else -1.0
        asked = [w for w in (question.focus, *question.verbs) if w]
        described = _descriptors(root, tokens)
        if asked and described:
            signals["descriptor"] = max(alike(a, d) for a in asked for d in described)
        signals["specific"] = _specific(tokens, label)
        before = doc[tokens[0].i - 1] if tokens[0].i > 0 else None
        signals["old_value"] = float(before is not None and before.lower_ == "from")
    else:
        signals["nearness"] = signals["clause"]
        signals["focus_path"] = signals["focus"]
        signals["verb_path"] = float(bool(question.verbs & sentence_lemmas))
    return signals


def _clause_text(tokens: list, label: str, doc) -> str:
    if label == "SENTENCE":
        return doc.text
    clause = sorted(_clause(tokens[0]), key=lambda t: t.i)
    return "".join(t.text_with_ws for t in clause).strip()


def _clause_closeness(found: list[Candidate], clauses: list[str], closeness) -> None:
    column = FEATURES.index("clause_semantic")
    distinct = list(dict.fromkeys(clauses))
    cosine = dict(zip(distinct, closeness(distinct), strict=True)) if distinct else {}
    for candidate, clause in zip(found, clauses, strict=True):
        candidate.features[column] = float(cosine[clause])


def _descriptors(root, tokens: list) -> set[str]:
    """The nouns that say what the candidate is: a title before it ("race *director* X"), an
    apposition ("X, the club's *president*"), what a verb names it as ("named X as its *president*"),
    and what a copula says it is ("X is the *director*")."""
    inside = {t.i for t in tokens}
    found = {t for t in root.children if t.dep_ in ("appos", "compound") and t.i not in inside}
    if root.dep_ in ("appos", "compound", "poss"):
        found.add(root.head)
    verb = root.head
    if root.dep_ in ("dobj", "nsubjpass", "nsubj", "attr"):
        for child in verb.children:
            if child.dep_ == "prep" and child.lower_ == "as":
                found.update(g for g in child.children if g.dep_ == "pobj")
            if child.dep_ in ("attr", "nsubj") and child.i != root.i and verb.lemma_ == "be":
                found.add(child)
    words = set()
    for t in found:
        words.update(c.lemma_.lower() for c in t.subtree if c.pos_ == "NOUN" and c.i not in inside)
    return words


def _root(tokens: list):
    """The word of a span whose head lies outside it."""
    inside = {t.i for t in tokens}
    return next((t for t in tokens if t.head.i not in inside or t.head.i == t.i), tokens[0])


def _tree_distance(a, b) -> int:
    """Steps between two words in the parse tree."""
    up = {a.i: 0}
    depth, t = 0, a
    while t.head.i != t.i:
        t, depth = t.head, depth + 1
        up[t.i] = depth
    steps, t = 0, b
    while t.i not in up and t.head.i != t.i:
        t, steps = t.head, steps + 1
    return steps + up.get(t.i, depth + 1)


def _specific(tokens: list, label: str) -> float:
    """How fully a date is given (day, month, year), or an amount (with its currency or unit)."""
    if label == "DATE":
        words = [t.lower_.rstrip(".") for t in tokens]
        month = any(w[:3] in _MONTHS for w in words)
        year = any(t.like_num and len(t.text) == 4 for t in tokens)
        day = any(t.like_num and len(t.text.rstrip("stndrh")) <= 2 for t in tokens)
        return (month + year + day) / 3
    if label in ("MONEY", "QUANTITY", "PERCENT"):
        return 1.0
    return 0.0


def _verb_of(token):
    while token.pos_ not in ("VERB", "AUX") and token.head.i != token.i:
        token = token.head
    return token if token.pos_ in ("VERB", "AUX") else None


def _clause(token) -> list:
    """The tokens of the clause a token stands in: its verb's subtree, less the subordinate and
    coordinated clauses that do not hold the token."""
    verb = _verb_of(token)
    if verb is None:
        return list(token.doc)
    removed: set[int] = set()
    for child in verb.children:
        if child.dep_ in _CLAUSE_DEPS and child.pos_ in ("VERB", "AUX"):
            subtree = {t.i for t in child.subtree}
            if token.i not in subtree:
                removed |= subtree
    return [t for t in verb.subtree if t.i not in removed]


def _qualified_otherwise(question: Question, clause: list, alike) -> float:
    """When the clause qualifies its nouns by other words than the question's only ("the senior race"
    for "the junior title"): how alike the words are (alternatives of one kind are alike; "major" and
    "European" are not). 0 when it shares one of the question's."""
    asked = set().union(*question.qualifiers.values()) if question.qualifiers else set()
    own = {t.lower_ for t in clause if t.dep_ in ("amod", "poss", "compound", "nmod") and t.is_alpha}
    if not asked or not own or own & asked:
        return 0.0
    return max(alike(a, b) for a in asked for b in own)


def _share(names: tuple[str, ...], text: str) -> float:
    if not names:
        return 1.0
    lowered = text.lower()
    return sum(any(w in lowered for w in re.findall(r"\w{3,}", n.lower())) for n in names) / len(names)


def _lexical(question: Question, query: str, sentences: list[Sentence]) -> list[float]:
    """IDF-weighted share of the question's terms each sentence holds (IDF over these sentences)."""
    found = [set(terms(s.text)) for s in sentences]
    frequency = Counter(t for f in found for t in f)
    own = set(terms(question.text))
    weights = {
        t: math.log((len(sentences) + 1) / (frequency[t] + 0.5)) * (2 if t in own else 1)
        for t in own | set(terms(query))
    }
    total = sum(weights.values()) or 1.0
    return [sum(w for t, w in weights.items() if t in f) / total for f in found]


def _agreement(found: list[Candidate], sentences: list[Sentence], meta: list[dict]) -> None:
    articles: dict[str, set[str]] = defaultdict(set)
    for c in found:
        articles[c.key].add(meta[sentences[c.sentence].passage].get("doc_id", ""))
    column = FEATURES.index("agreement")
    for c in found:
        if c.label != "SENTENCE":
            c.features[column] = math.log1p(len(articles[c.key]) - 1)


def _newest(found: list[Candidate], sentences: list[Sentence], meta: list[dict]) -> None:
    days = {
        c.sentence: published_day(meta[sentences[c.sentence].passage].get("published", "")) for c in found
    }
    dated = [d for d in days.values() if d]
    if len(set(dated)) < 2:
        return
    newest = max(dated)
    column = FEATURES.index("newest")
    for c in found:
        c.features[column] = float(days[c.sentence] == newest)
