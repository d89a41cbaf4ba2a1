"""The search box's small grammar, parsed here and translated by us for each database.

    words         every word must match (any form of it: "replies" finds "reply")
    "a phrase"    these words in this order
    -word, -"a phrase"   leave out posts that have it
    pre*          words starting with "pre" (at least 3 letters before the star)

Anything else is punctuation between words, as the tokenizers see it: `e-mail` is the
phrase "e mail". User text never reaches MATCH or to_tsquery as syntax: the terms are only
runs of letters and digits, quoted by us (FTS5) or passed as parameters (PostgreSQL). The
query's length and its number of terms are bounded, so a search does bounded work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.errors import Invalid

MAX_LENGTH = 200
MAX_TERMS = 8
MAX_PHRASE_WORDS = 8
MIN_PREFIX = 3

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'(-?)(?:"([^"]*)"|([^\s"]+))')

# PostgreSQL's English configuration drops these; dropping them here too keeps both modes
# answering alike (a search for "the" alone is refused, not different per database).
_STOP_WORDS = """
a about above after again against all am an and any are as at be because been before being
below between both but by can did do does doing don down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves
out over own s same she should so some such t than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where
which while who whom why will with you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool = False
    exclude: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    @property
    def include(self) -> list[Term]:
        return [t for t in self.terms if not t.exclude]

    @property
    def exclude(self) -> list[Term]:
        return [t for t in self.terms if t.exclude]

    def fts5(self) -> str:
        """The MATCH expression: every term quoted, so nothing in it is FTS5 syntax but ours."""
        def quoted(term: Term) -> str:
            return f'"{term.text}"' + (" *" if term.prefix else "")
        text = " AND ".join(quoted(t) for t in self.include)
        return text + "".join(f" NOT {quoted(t)}" for t in self.exclude)

    def tsquery(self) -> tuple[str, list[str]]:
        """A tsquery expression with {} placeholders for the terms, and their values."""
        parts: list[str] = []
        values: list[str] = []
        for term in (*self.include, *self.exclude):
            if term.prefix:
                # The prefix is letters and digits only (the grammar allows nothing else), so
                # it is a single tsquery lexeme; unstemmed, as FTS5 takes it, and never
                # dropped as a stop word ("the*" finds "theatre").
                sql = "to_tsquery('simple'::regconfig, {} || ':*')"
            elif len(term.words) > 1:
                sql = "phraseto_tsquery('english'::regconfig, {})"
            else:
                sql = "plainto_tsquery('english'::regconfig, {})"
            parts.append(f"!!{sql}" if term.exclude else sql)
            values.append(term.text)
        return "(" + " && ".join(parts) + ")", values


def _invalid(message: str) -> Invalid:
    return Invalid(f"q: {message}", [{"key": "q", "message": message}])


def parse(text: str) -> Query:
    """The query, or Invalid (422) saying what is wrong with it."""
    text = text.strip()
    if not text:
        raise _invalid("type a word to search for")
    if len(text) > MAX_LENGTH:
        raise _invalid(f"is longer than {MAX_LENGTH} characters")
    if text.count('"') % 2:
        raise _invalid('has an unclosed quote: close the phrase with "')
    terms: list[Term] = []
    for match in _TOKEN.finditer(text):
        exclude = match[1] == "-"
        phrase = match[2] is not None
        raw = match[2] if phrase else match[3]
        prefix = not phrase and raw.endswith("*") and len(_WORD.findall(raw)) == 1
        if prefix and len(_WORD.findall(raw)[0]) < MIN_PREFIX:
            raise _invalid(f"'{raw}': put at least {MIN_PREFIX} letters before the *")
        words = tuple(w.lower() for w in _WORD.findall(raw))
        if not words:
            continue
        if len(words) > MAX_PHRASE_WORDS:
            raise _invalid(f"a phrase may have at most {MAX_PHRASE_WORDS} words")
        if not prefix and all(w in STOP_WORDS for w in words):
            continue
        terms.append(Term(words=words, prefix=prefix, exclude=exclude))
    if len(terms) > MAX_TERMS:
        raise _invalid(f"has more than {MAX_TERMS} terms: leave some out")
    # Duplicates would match the same posts: keep the first of each.
    unique = tuple(dict.fromkeys(terms))
    if not any(not t.exclude for t in unique):
        if any(t.exclude for t in unique):
            raise _invalid("needs a word to find, not only words to leave out")
        raise _invalid("has only very common words: add a more specific one")
    return Query(terms=unique)
