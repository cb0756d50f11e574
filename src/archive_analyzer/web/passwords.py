"""The password rules: at least ``MIN_LENGTH`` characters and a zxcvbn strength estimate.

zxcvbn (Dropbox's estimator, the maintained Python port on PyPI) scores a password 0-4 from
the guesses an attacker needs, knowing dictionaries, keyboard patterns, dates, l33t and the
words given as context: the user name and the app's own words (a password made of
"archive" + the user name is guessed early). A score of at least ``MIN_SCORE`` (3: "safely
unguessable", about 10^8 guesses and more) is required. The same rules apply to the web form
and to ``users add`` / ``users passwd``.
"""

from __future__ import annotations

from dataclasses import dataclass

from zxcvbn import zxcvbn

from archive_analyzer.errors import AuthError

MIN_LENGTH = 10
MIN_SCORE = 3
MAX_LENGTH = 256  # argon2 takes anything; zxcvbn's cost grows with length
# Words of this app that a guesser would try first (the user name is added per account).
APP_WORDS = (
    "archive",
    "analyzer",
    "archive-analyzer",
    "archiveanalyzer",
    "admin",
    "viewer",
    "editor",
    "poker",
    "wsop",
    "hcl",
    "pad",
    "nas",
    "video",
    "아카이브",
)

# zxcvbn's feedback sentences (English only) -> message keys in web/i18n.py.
FEEDBACK_KEYS = {
    "Use a few words, avoid common phrases.": "pw_use_words",
    "No need for symbols, digits, or uppercase letters.": "pw_no_need_symbols",
    "Add another word or two. Uncommon words are better.": "pw_add_word",
    "Straight rows of keys are easy to guess.": "pw_rows",
    "Short keyboard patterns are easy to guess.": "pw_short_pattern",
    "Use a longer keyboard pattern with more turns.": "pw_longer_pattern",
    'Repeats like "aaa" are easy to guess.': "pw_repeats_aaa",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "pw_repeats_abc",
    "Avoid repeated words and characters.": "pw_avoid_repeats",
    'Sequences like "abc" or "6543" are easy to guess.': "pw_sequences",
    "Avoid sequences.": "pw_avoid_sequences",
    "Recent years are easy to guess.": "pw_recent_years",
    "Avoid recent years.": "pw_avoid_recent_years",
    "Avoid years that are associated with you.": "pw_avoid_your_years",
    "Dates are often easy to guess.": "pw_dates",
    "Avoid dates and years that are associated with you.": "pw_avoid_your_dates",
    "This is a top-10 common password.": "pw_top10",
    "This is a top-100 common password.": "pw_top100",
    "This is a very common password.": "pw_very_common",
    "This is similar to a commonly used password.": "pw_similar_common",
    "A word by itself is easy to guess.": "pw_single_word",
    "Names and surnames by themselves are easy to guess.": "pw_names_alone",
    "Common names and surnames are easy to guess.": "pw_common_names",
    "Capitalization doesn't help very much.": "pw_capitalization",
    "All-uppercase is almost as easy to guess as all-lowercase.": "pw_all_upper",
    "Reversed words aren't much harder to guess.": "pw_reversed",
    "Predictable substitutions like '@' instead of 'a' don't help very much.": "pw_substitutions",
}


class WeakPassword(AuthError):
    """A password the rules refuse; ``key`` and ``hints`` name the messages for the web form."""

    def __init__(self, message: str, key: str, hints: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.key = key
        self.hints = hints


@dataclass(frozen=True, slots=True)
class Verdict:
    score: int
    warning: str
    suggestions: tuple[str, ...]


def estimate(password: str, username: str = "") -> Verdict:
    """zxcvbn's score and feedback for ``password`` with the user name and app words as context."""
    context = [*APP_WORDS, username] if username else list(APP_WORDS)
    result = zxcvbn(password[:MAX_LENGTH], user_inputs=context)
    feedback = result.get("feedback") or {}
    return Verdict(
        int(result["score"]),
        str(feedback.get("warning") or ""),
        tuple(str(s) for s in feedback.get("suggestions") or ()),
    )


def check(password: str, username: str = "") -> str:
    """``password`` when the rules accept it, else ``WeakPassword`` with a one-line reason."""
    if not password.strip():
        # twelve spaces pass a length rule but are no secret (and read as "no password")
        raise WeakPassword("password must not be empty or only whitespace", "pw_blank")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password must have at least {MIN_LENGTH} characters", "pw_too_short")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"password must have at most {MAX_LENGTH} characters", "pw_too_long")
    if username and username.casefold() in password.casefold():
        raise WeakPassword("password must not contain the user name", "pw_has_username")
    verdict = estimate(password, username)
    if verdict.score < MIN_SCORE:
        said = [verdict.warning, *verdict.suggestions]
        reason = " ".join(s for s in said if s) or "add another word or two"
        hints = tuple(FEEDBACK_KEYS[s] for s in said if s in FEEDBACK_KEYS)
        raise WeakPassword(f"password is too easy to guess: {reason}", "pw_weak", hints)
    return password
