"""Watched words: words and phrases moderators block, hold for approval, flag, or replace,
wherever members write (titles, posts, profiles, and later contest captions).

An entry is literal words with `*` wildcards, never a user's regular expression: nothing a
moderator writes is compiled or executed. The entries are indexed here into one matcher that
compares a text word by word, ignoring case; its cost is linear in the text by construction
(see "compiling"), and the list and each entry have a size cap.

Each process keeps the compiled matcher and the list's version number; every change bumps the
version in the change's own transaction, so a process notices a change made by another one
at its next screening (one short read) and compiles again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec

from server import clock, db, events, outbox, staff_log
from server.auth import Actor
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.tables import WatchedWord

ACTIONS = ("block", "hold", "flag", "replace")
# Strongest first: a text that matches several entries gets the strongest one's action.
_STRENGTH = {action: rank for rank, action in enumerate(ACTIONS)}

MAX_ENTRIES = 1000
MAX_PATTERN_LENGTH = 100
MAX_REPLACEMENT_LENGTH = 100
# A pattern needs this many letters or digits besides `*`; a word with `*` needs a run of
# MIN_LITERAL_RUN of them in a row: "a*" or "*" alone would match nearly everything.
MIN_PATTERN_LETTERS = 2
MIN_LITERAL_RUN = 3
MAX_WORDS = 6
MAX_TEST_TEXT = 50_000

Pattern = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PATTERN_LENGTH * 2,
                                      description="a word or phrase; `*` stands for any letters "
                                                  "inside a word")]
Action = Annotated[str, msgspec.Meta(pattern=r"^(block|hold|flag|replace)$",
                                     description="block, hold, flag or replace")]
Replacement = Annotated[str, msgspec.Meta(max_length=MAX_REPLACEMENT_LENGTH)]


# --- schemas -------------------------------------------------------------------------------


class WatchedWordIn(msgspec.Struct, forbid_unknown_fields=True):
    pattern: Pattern
    action: Action
    # What a "replace" entry puts in place of each match; only "replace" entries have one.
    replacement: Replacement = ""


class WatchedWordPatch(msgspec.Struct, forbid_unknown_fields=True):
    pattern: Pattern | None = None
    action: Action | None = None
    replacement: Replacement | None = None


class WatchedWordOut(msgspec.Struct):
    id: int
    pattern: str
    action: str
    replacement: str
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ScreenIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=MAX_TEST_TEXT)]


class ScreenOut(msgspec.Struct):
    # The strongest action that matched, or null when nothing did.
    action: str | None
    # What matched, as written in the text, strongest action first.
    matches: list[str]
    # The text with every "replace" entry's matches replaced.
    text: str


# --- compiling -----------------------------------------------------------------------------
# Texts and patterns are compared word by word: a word is a run of letters, digits or `_`,
# compared case-folded, and whatever separates words (spaces, punctuation) is ignored, so
# "buy now" also matches "Buy-now!". A pattern word with `*` is found through an index of
# the three-letter runs its literal part must contain, and checked by a left-to-right scan:
# screening is linear in the text for any list a moderator could write.

_WORD = re.compile(r"\w+")
_PATTERN_WORD = re.compile(r"[\w*]+")


def normalize(pattern: str) -> str:
    """The form an entry is stored and compared in: case-folded words with single spaces
    between them, no run of `*`. Raises Invalid, saying why, for a pattern that is too broad
    or too big."""
    words = [re.sub(r"\*+", "*", w) for w in _PATTERN_WORD.findall(pattern.casefold())]
    text = " ".join(words)
    if not words:
        raise Invalid("the pattern has no letters or digits")
    if len(text) > MAX_PATTERN_LENGTH:
        raise Invalid(f"the pattern is {len(text)} characters long; the most is "
                      f"{MAX_PATTERN_LENGTH}")
    if len(words) > MAX_WORDS:
        raise Invalid(f"a pattern has at most {MAX_WORDS} words")
    if sum(len(word.replace("*", "")) for word in words) < MIN_PATTERN_LETTERS:
        raise Invalid(f"'{text}' is too broad: a pattern needs at least {MIN_PATTERN_LETTERS} "
                      "letters or digits besides `*`")
    for word in words:
        if "*" in word and len(_anchor(word)) < MIN_LITERAL_RUN:
            raise Invalid(f"'{word}' is too broad: a word with `*` needs {MIN_LITERAL_RUN} "
                          "letters or digits in a row besides `*` (like 'spam*')")
    return text


def _anchor(word: str) -> str:
    """The longest literal run of a pattern word: every word it matches contains it."""
    return max(word.split("*"), key=len)


def _glob(word: str, token: str) -> bool:
    """Whether the case-folded token matches the pattern word (`*`: any run of word
    characters, perhaps none). Greedy leftmost scan: each literal part is found once."""
    parts = word.split("*")
    if len(parts) == 1:
        return word == token
    first, last = parts[0], parts[-1]
    if len(token) < len(first) + len(last) or not token.startswith(first) \
            or not token.endswith(last):
        return False
    at, stop = len(first), len(token) - len(last)
    for part in parts[1:-1]:
        found = token.find(part, at, stop)
        if found < 0:
            return False
        at = found + len(part)
    return True


def _trigrams(text: str) -> set[str]:
    return {text[i:i + MIN_LITERAL_RUN] for i in range(len(text) - MIN_LITERAL_RUN + 1)}


@dataclass(frozen=True)
class Entry:
    id: int
    pattern: str
    action: str
    replacement: str

    @property
    def words(self) -> list[str]:
        return self.pattern.split(" ")


@dataclass(frozen=True)
class Verdict:
    """What screening a text found."""

    # The strongest action that matched (block > hold > flag > replace), or None.
    action: str | None = None
    # The matched text as written, strongest action first, each once.
    matches: tuple[str, ...] = ()
    # The text with every "replace" entry's matches replaced (the input when none matched).
    text: str = ""

    @property
    def word(self) -> str:
        """The first (strongest) match, for messages."""
        return self.matches[0] if self.matches else ""


@dataclass
class Matcher:
    """Entries indexed by their first word: a literal one by the word itself, one with `*` by
    the first three letters of its longest literal run."""

    by_word: dict[str, list[Entry]] = field(default_factory=dict)
    by_trigram: dict[str, list[Entry]] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: Sequence[Entry]) -> Matcher:
        matcher = cls()
        for entry in entries:
            first = entry.words[0]
            if "*" in first:
                matcher.by_trigram.setdefault(_anchor(first)[:MIN_LITERAL_RUN], []).append(entry)
            else:
                matcher.by_word.setdefault(first, []).append(entry)
        return matcher

    def _starting(self, token: str) -> list[Entry]:
        """The entries whose first word matches this token."""
        found = list(self.by_word.get(token, ()))
        if self.by_trigram:
            for trigram in _trigrams(token):
                found += [e for e in self.by_trigram.get(trigram, ()) if _glob(e.words[0], token)]
        return found

    def screen(self, text: str) -> Verdict:
        if not self.by_word and not self.by_trigram:
            return Verdict(text=text)
        spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        tokens = [text[start:end].casefold() for start, end in spans]
        starting: dict[str, list[Entry]] = {}
        found: list[tuple[int, str]] = []
        pieces: list[str] = []
        at = 0
        i = 0
        while i < len(tokens):
            if tokens[i] not in starting:
                starting[tokens[i]] = self._starting(tokens[i])
            replaced: tuple[int, Entry] | None = None
            for entry in starting[tokens[i]]:
                words = entry.words
                end = i + len(words)
                if end > len(tokens) or not all(
                        _glob(word, tokens[i + k]) for k, word in enumerate(words[1:], 1)):
                    continue
                found.append((_STRENGTH[entry.action], _shown(text[spans[i][0]:spans[end - 1][1]])))
                if entry.action == "replace" and (replaced is None or end > replaced[0]):
                    replaced = (end, entry)
            if replaced is None:
                i += 1
                continue
            end, entry = replaced
            pieces += [text[at:spans[i][0]], entry.replacement]
            at = spans[end - 1][1]
            i = end
        if not found:
            return Verdict(text=text)
        pieces.append(text[at:])
        found.sort(key=lambda item: item[0])
        matches = tuple(dict.fromkeys(shown for _, shown in found))
        return Verdict(action=ACTIONS[found[0][0]], matches=matches, text="".join(pieces))


def _shown(matched: str) -> str:
    text = _SPACES.sub(" ", matched)
    return text if len(text) <= 40 else text[:39] + "…"


_SPACES = re.compile(r"\s+")


# --- the process's matcher -----------------------------------------------------------------

@dataclass
class _Compiled:
    """This process's matcher and the list version it was built from."""

    version: int | None = None
    matcher: Matcher = field(default_factory=Matcher)


_compiled = _Compiled()


async def _version() -> int:
    rows = await db.fetch_small("SELECT version FROM watched_word_list WHERE id = 1")
    return int(rows[0]["version"]) if rows else 0


async def _bump() -> None:
    """Inside the change's transaction, first: every process compiles again at its next
    screening, and on PostgreSQL concurrent changes queue on the row (the count cap holds)."""
    await db.fetch("INSERT INTO watched_word_list (id, version) VALUES (1, 1) "
                   "ON CONFLICT (id) DO UPDATE SET version = watched_word_list.version + 1")


async def matcher() -> Matcher:
    """The current list's matcher. Two requests that find it stale both build it: building
    is cheap, and the version read first keeps the result at least that new."""
    version = await _version()
    if _compiled.version != version:
        rows = await WatchedWord.select(WatchedWord.id, WatchedWord.pattern, WatchedWord.action,
                                        WatchedWord.replacement).order_by(WatchedWord.id)
        entries = [Entry(r["id"], r["pattern"], r["action"], r["replacement"]) for r in rows]
        _compiled.matcher, _compiled.version = Matcher.build(entries), version
    return _compiled.matcher


async def screen(text: str) -> Verdict:
    """The strongest action the watched words take on this text, what matched, and the text
    with replacements made."""
    return (await matcher()).screen(text)


def refusal(verdict: Verdict, what: str) -> Invalid:
    """The 422 for a blocked text: "your post contains 'x', which is not allowed here"."""
    return Invalid(f"your {what} contains '{verdict.word}', which is not allowed here")


async def screen_profile(member_id: int, texts: dict[str, str]) -> dict[str, str]:
    """Inside the profile change's unit of work: the texts (by what they are: "display
    name", "bio") with replacements made. A blocked word is a 422 naming it; "hold" and
    "flag" both flag the profile for review (profiles have no approval step)."""
    screened: dict[str, str] = {}
    flagged: list[str] = []
    for what, text in texts.items():
        verdict = await screen(text)
        if verdict.action == "block":
            raise refusal(verdict, what)
        if verdict.action in ("hold", "flag"):
            flagged.append(f"watched word '{verdict.word}' in the {what}")
        screened[what] = verdict.text
    if flagged:
        await outbox.emit(events.ContentAutoFlagged(
            target_type="profile", target_id=member_id, author_id=member_id,
            reason="; ".join(flagged)))
    return screened


# --- managing the list ---------------------------------------------------------------------


def _may_manage(actor: Actor) -> None:
    actor.member()
    if not actor.is_moderator:
        raise Forbidden("only moderators and admins manage watched words")


def _out(row: dict[str, Any]) -> WatchedWordOut:
    return WatchedWordOut(id=row["id"], pattern=row["pattern"], action=row["action"],
                          replacement=row["replacement"], created_by_id=row["created_by"],
                          created_at=row["created_at"], updated_at=row["updated_at"])


def _summary(row: dict[str, Any]) -> dict[str, str]:
    return {"pattern": row["pattern"], "action": row["action"],
            "replacement": row["replacement"]}


def _checked(pattern: str, action: str, replacement: str) -> tuple[str, str]:
    normal = normalize(pattern)
    replacement = replacement.strip()
    if action == "replace" and not replacement:
        raise Invalid("a 'replace' entry needs the replacement text")
    if action != "replace" and replacement:
        raise Invalid(f"only 'replace' entries have a replacement; this one is '{action}'")
    return normal, replacement


async def _row(entry_id: int) -> dict[str, Any]:
    rows = await WatchedWord.select().where(WatchedWord.id == entry_id)
    if not rows:
        raise NotFound(f"watched word {entry_id} does not exist")
    return rows[0]


async def list_words(actor: Actor) -> list[WatchedWordOut]:
    _may_manage(actor)
    rows = await WatchedWord.select().order_by(WatchedWord.pattern)
    return [_out(r) for r in rows]


def _taken(exc: Exception, pattern: str | None) -> None:
    if db.is_unique_violation(exc) and pattern is not None:
        raise Conflict(f"'{normalize(pattern)}' is on the list already") from None


async def create_word(actor: Actor, data: WatchedWordIn) -> WatchedWordOut:
    _may_manage(actor)
    pattern, replacement = _checked(data.pattern, data.action, data.replacement)
    now = clock.now()
    try:
        async with db.transaction():
            await _bump()
            count = await WatchedWord.count()
            if count >= MAX_ENTRIES:
                raise Invalid(f"the list holds at most {MAX_ENTRIES} entries; remove some first")
            rows = await WatchedWord.insert(WatchedWord(
                pattern=pattern, action=data.action, replacement=replacement,
                created_by=actor.member_id, created_at=now, updated_at=now,
            )).returning(WatchedWord.id)
            row = await _row(int(rows[0]["id"]))
            await staff_log.record(actor, "watched_word.create", "watched_word", row["id"],
                                   f"watched word '{pattern}'", after=_summary(row))
    except Exception as exc:
        _taken(exc, pattern)
        raise
    return _out(row)


async def update_word(actor: Actor, entry_id: int, data: WatchedWordPatch) -> WatchedWordOut:
    _may_manage(actor)
    try:
        async with db.transaction():
            before = await _row(entry_id)
            action = data.action if data.action is not None else before["action"]
            replacement = data.replacement if data.replacement is not None else (
                before["replacement"] if action == "replace" else "")
            pattern, replacement = _checked(
                data.pattern if data.pattern is not None else before["pattern"],
                action, replacement)
            after = {"pattern": pattern, "action": action, "replacement": replacement}
            if after == _summary(before):
                return _out(before)
            await WatchedWord.update({
                WatchedWord.pattern: pattern, WatchedWord.action: action,
                WatchedWord.replacement: replacement, WatchedWord.updated_at: clock.now(),
            }).where(WatchedWord.id == entry_id)
            await _bump()
            await staff_log.record(actor, "watched_word.update", "watched_word", entry_id,
                                   f"watched word '{pattern}'", before=_summary(before),
                                   after=after)
            row = await _row(entry_id)
    except Exception as exc:
        _taken(exc, data.pattern)
        raise
    return _out(row)


async def delete_word(actor: Actor, entry_id: int) -> None:
    _may_manage(actor)
    async with db.transaction():
        before = await _row(entry_id)
        deleted = await WatchedWord.delete().where(WatchedWord.id == entry_id).returning(
            WatchedWord.id)
        if not deleted:
            raise NotFound(f"watched word {entry_id} does not exist")
        await _bump()
        await staff_log.record(actor, "watched_word.delete", "watched_word", entry_id,
                               f"watched word '{before['pattern']}'", before=_summary(before))


async def try_text(actor: Actor, text: str) -> ScreenOut:
    """What the current list would do to a text; nothing is stored."""
    _may_manage(actor)
    verdict = await screen(text)
    return ScreenOut(action=verdict.action, matches=list(verdict.matches), text=verdict.text)
