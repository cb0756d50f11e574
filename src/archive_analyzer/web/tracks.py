"""Audio and subtitle tracks as the player offers them (pure: values in, values out).

Audio: every audio stream becomes an option, except runs of mono tracks, which are paired
(see ``audio_options``; the rule is in docs/playback.md). Languages are normalised to two
letters where known (``kor`` -> ``ko``); an untagged file named ``... (KOR+ENG).ts`` takes
its languages from the name, the archive's naming for two-commentary broadcasts.

Subtitles: embedded text streams (WebVTT-convertible codecs) and sidecar files next to the
video (``NAME.srt``, ``NAME.ko.srt``, ``NAME.en.vtt``; the language is the part between the
video's stem and the extension).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# ISO 639-2 (B and T) and common names -> ISO 639-1
_LANGUAGES = {
    "ko": "ko",
    "kor": "ko",
    "korean": "ko",
    "en": "en",
    "eng": "en",
    "english": "en",
    "ja": "ja",
    "jpn": "ja",
    "zh": "zh",
    "chi": "zh",
    "zho": "zh",
    "es": "es",
    "spa": "es",
    "fr": "fr",
    "fre": "fr",
    "fra": "fr",
    "de": "de",
    "ger": "de",
    "deu": "de",
    "ru": "ru",
    "rus": "ru",
    "pt": "pt",
    "por": "pt",
    "it": "it",
    "ita": "it",
    "vi": "vi",
    "vie": "vi",
    "th": "th",
    "tha": "th",
}
LANGUAGE_NAMES = {
    "en": {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese"},
    "ko": {"ko": "한국어", "en": "영어", "ja": "일본어", "zh": "중국어"},
}
_NAME_LANGUAGES = re.compile(r"\(([A-Za-z]{2,3}(?:\s*\+\s*[A-Za-z]{2,3})+)\)")

# Subtitle codecs ffmpeg turns into WebVTT text; bitmap ones (DVB, PGS, VobSub) cannot be.
TEXT_SUBTITLES = frozenset(
    {"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text", "dvb_teletext", "eia_608"}
)
SIDECAR_EXTS = {"srt": "srt", "vtt": "vtt", "ass": "ass", "ssa": "ass"}


def language(code: str | None) -> str | None:
    """Two letters where known, else the lower-cased code; None for none/undetermined."""
    if not code:
        return None
    key = code.strip().lower()
    if key in ("", "und", "mis", "mul", "zxx", "none"):
        return None
    return _LANGUAGES.get(key, key if re.fullmatch(r"[a-z]{2,3}", key) else None)


def language_name(code: str | None, ui: str) -> str | None:
    if code is None:
        return None
    return LANGUAGE_NAMES.get(ui, LANGUAGE_NAMES["en"]).get(code, code.upper())


def name_languages(file_name: str) -> list[str]:
    """Languages a file name lists in order, ``(KOR+ENG)`` -> ``["ko", "en"]`` (else [])."""
    match = _NAME_LANGUAGES.search(file_name)
    if match is None:
        return []
    found = [language(part.strip()) for part in match.group(1).split("+")]
    return [code for code in found if code is not None] if all(found) else []


@dataclass(frozen=True, slots=True)
class AudioStream:
    """One probed audio stream (``media_info.audio``)."""

    codec: str | None
    channels: int | None
    language: str | None


@dataclass(frozen=True, slots=True)
class AudioOption:
    """What the player offers: one or two (a paired mono) source streams, as ``0:a:N``."""

    index: int
    streams: tuple[int, ...]
    language: str | None
    codec: str | None
    channels: int

    def title(self, ui: str) -> str:
        """``Korean``, ``한국어 (1+2)``, ``Track 2``... in the UI language."""
        label = language_name(self.language, ui)
        numbers = "+".join(str(s + 1) for s in self.streams)
        if label is None:
            word = "트랙" if ui == "ko" else "Track"
            return f"{word} {numbers}"
        return f"{label} ({numbers})" if len(self.streams) > 1 else label


def audio_options(streams: Sequence[AudioStream], file_name: str = "") -> list[AudioOption]:
    """The audio options of a file.

    Rule for mono tracks (MXF masters carry 2-8 of them): a mono track followed by another
    mono track of the same language (or both untagged) makes one stereo option (left = the
    first, right = the second): tracks 1+2, 3+4... A mono track with a language of its own
    (language-per-track recordings) is its own option, played on both speakers. Any other
    stream is one option. Untagged streams of a file named ``... (KOR+ENG)`` take the
    languages from the name, in order, when the counts match.
    """
    tagged = [language(s.language) for s in streams]
    options: list[AudioOption] = []
    i = 0
    while i < len(streams):
        s = streams[i]
        mono = s.channels == 1
        if mono and i + 1 < len(streams):
            n = streams[i + 1]
            if n.channels == 1 and n.codec == s.codec and tagged[i] == tagged[i + 1]:
                options.append(AudioOption(len(options), (i, i + 1), tagged[i], s.codec, 2))
                i += 2
                continue
        channels = min(s.channels or 2, 2)
        options.append(AudioOption(len(options), (i,), tagged[i], s.codec, channels))
        i += 1
    named = name_languages(file_name)
    if named and len(named) == len(options) and not any(o.language for o in options):
        options = [
            AudioOption(o.index, o.streams, code, o.codec, o.channels)
            for o, code in zip(options, named, strict=True)
        ]
    return options


def default_audio(options: Sequence[AudioOption], preferred: Sequence[str | None]) -> int:
    """The option to start with: the first language of ``preferred`` (the user's remembered
    choice, then the UI language) that an option has, else the first option."""
    for code in preferred:
        if code is None:
            continue
        for option in options:
            if option.language == code:
                return option.index
    return 0


@dataclass(frozen=True, slots=True)
class SidecarName:
    """A sidecar subtitle file's name parsed against its video's."""

    language: str | None
    format: str  # srt | vtt | ass


def sidecar(video_name: str, candidate: str) -> SidecarName | None:
    """``candidate`` parsed as a sidecar of ``video_name`` (both base names), or None.

    ``Day 1.srt``, ``Day 1.ko.srt``, ``Day 1.kor.srt``, ``Day 1.en.vtt`` belong to ``Day 1.ts``.
    """
    stem = video_name.rsplit(".", 1)[0]
    if not candidate.startswith(stem + "."):
        return None
    middle, _, ext = candidate[len(stem) + 1 :].rpartition(".")
    fmt = SIDECAR_EXTS.get(ext.lower())
    if fmt is None:
        return None
    if not middle:
        return SidecarName(None, fmt)
    code = language(middle)
    return None if code is None else SidecarName(code, fmt)


@dataclass(frozen=True, slots=True)
class SubtitleTrack:
    """One subtitle track the player offers: an embedded stream (``index``, as ``0:s:N``) or
    a sidecar file (``file``, its catalog file id, and ``name``)."""

    key: str  # "s<index>" or "f<file id>" (the URL's last part)
    language: str | None
    format: str  # the source format: subrip, ass, mov_text, srt, vtt...
    index: int | None = None
    file: str | None = None
    name: str | None = None

    def label(self, ui: str) -> str:
        lang = language_name(self.language, ui)
        if self.file is not None:
            return lang or (self.name or "")
        number = (self.index or 0) + 1
        return lang or (f"자막 {number}" if ui == "ko" else f"Subtitles {number}")


def embedded_subtitles(subtitles: Sequence[tuple[str | None, str | None]]) -> list[SubtitleTrack]:
    """Text subtitle streams of ``(codec, language)`` in stream order (bitmap ones skipped)."""
    return [
        SubtitleTrack(f"s{i}", language(lang), codec or "", index=i)
        for i, (codec, lang) in enumerate(subtitles)
        if codec in TEXT_SUBTITLES
    ]
