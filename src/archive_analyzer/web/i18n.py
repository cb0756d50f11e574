"""Korean and English UI text: message catalogs and language negotiation.

The language is the ``lang`` cookie (set by the switch) if present, else the best of
``Accept-Language``, else English. Unknown keys fall back to English, then to the key itself.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("en", "ko")
DEFAULT = "en"
COOKIE = "lang"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "app_name": "Archive",
        "login": "Log in",
        "logout": "Log out",
        "username": "Username",
        "password": "Password",
        "new_password": "New password",
        "repeat_password": "Repeat the new password",
        "change_password": "Change password",
        "must_change_password": "Please choose a new password before you continue.",
        "password_changed": "Password changed.",
        "passwords_differ": "The two passwords differ.",
        "login_failed": "Wrong username or password.",
        "login_throttled": "Too many failed logins. Try again in a few minutes.",
        "csrf_failed": "The form expired. Please try again.",
        "home": "Home",
        "search": "Search",
        "search_placeholder": "Titles, players, series… (e.g. 네그레아누, ㄴㄱㄹㅇㄴ, Main Event)",
        "recently_added": "Recently added",
        "continue_watching": "Continue watching",
        "brands": "Brands",
        "series": "Series",
        "episodes": "Episodes",
        "episode": "Episode",
        "clip": "Clip",
        "clips": "Hands / clips",
        "no_clips": "No clips.",
        "day": "Day",
        "part": "Part",
        "season": "Season",
        "year": "Year",
        "duration": "Duration",
        "resolution": "Resolution",
        "players": "Players",
        "tags": "Tags",
        "play": "Play",
        "resume_at": "Resume at",
        "from_start": "Play from start",
        "technical": "Technical metadata",
        "versions": "Versions",
        "version_file": "File",
        "version_format": "Format",
        "version_state": "Fixity",
        "version_plays": "Plays here",
        "version_own": "this content’s file",
        "version_identical": "identical copy",
        "version_same_programme": "same programme, other encoding",
        "version_copy_folder": "in a copy folder",
        "split_version": "Split off",
        "split_done": "The version was split off: it is its own content again.",
        "split_failed": "Could not split the version off",
        "fixity_ok": "verified",
        "fixity_mismatch": "bytes changed (fixity failure)",
        "fixity_sampled": "not fully hashed yet",
        "fixity_none": "not hashed yet",
        "copy_identical": "This copy is identical to its original.",
        "copy_same_programme": (
            "This copy is the same programme as its original, in another encoding."
        ),
        "copy_differs": "This file is in a copy folder but differs from its original.",
        "copy_unverified": "This file is in a copy folder; its bytes are not compared yet.",
        "copy_no_original": "This file is in a copy folder; no original was found.",
        "fixity_title": "Fixity and duplicates",
        "fixity_failures": "Fixity failures",
        "fixity_failures_none": "No fixity failures.",
        "fixity_failures_note": (
            "Same size and modification time, different bytes. Recorded, never overwritten."
        ),
        "chunk": "Chunk",
        "bytes": "Bytes",
        "media_time": "Media time",
        "detected": "Detected",
        "expected_hash": "Expected",
        "actual_hash": "Found",
        "duplicates": "Duplicates",
        "duplicates_none": "No duplicates found.",
        "reclaimable": "Reclaimable",
        "reclaimable_total": "Reclaimable in total",
        "nothing_deleted": (
            "Nothing is ever deleted by the program: these lists are for people to decide."
        ),
        "kind": "Kind",
        "files": "Files",
        "evidence": "Evidence",
        "candidate": "candidate (size and sampled hash)",
        "identical": "identical",
        "same_programme": "same programme",
        "differing_copies": "Copies that differ from their original",
        "differing_copies_none": "No differing copies.",
        "original": "Original",
        "hashing": "Hashing",
        "file": "File",
        "size": "Size",
        "container": "Container",
        "video": "Video",
        "audio": "Audio",
        "bitrate": "Bit rate",
        "frame_rate": "Frame rate",
        "not_playable": "This file's format cannot play in the browser.",
        "results": "results",
        "no_results": "Nothing found.",
        "all_brands": "All brands",
        "all_years": "All years",
        "all_players": "All players",
        "filter": "Filter",
        "previous": "Previous",
        "next": "Next",
        "page": "Page",
        "parent_episode": "Full episode",
        "not_found": "Not found.",
        "api_docs": "API",
        "language": "Language",
        "account": "Account",
        "timecode": "Timecode",
        "watch": "Watch",
        "empty_catalog": "The catalog is empty.",
        "fact_event_name": "Event",
        "fact_buy_in": "Buy-in",
        "fact_highlight_score": "Highlight",
        "fact_winner": "Winner",
        "fact_pot_size_bb": "Pot (BB)",
        "fact_is_all_in": "All-in",
        "fact_is_showdown": "Showdown",
        "fact_board": "Board",
        "fact_versions": "Versions",
        "reprobe_queued": "Re-probe queued: the list shows the new result once a probe worker "
        "has read the file.",
    },
    "ko": {
        "app_name": "아카이브",
        "login": "로그인",
        "logout": "로그아웃",
        "username": "사용자 이름",
        "password": "비밀번호",
        "new_password": "새 비밀번호",
        "repeat_password": "새 비밀번호 확인",
        "change_password": "비밀번호 변경",
        "must_change_password": "계속하기 전에 새 비밀번호를 정해 주세요.",
        "password_changed": "비밀번호를 변경했습니다.",
        "passwords_differ": "두 비밀번호가 다릅니다.",
        "login_failed": "사용자 이름 또는 비밀번호가 틀렸습니다.",
        "login_throttled": "로그인 실패가 너무 많습니다. 몇 분 뒤에 다시 시도하세요.",
        "csrf_failed": "양식이 만료되었습니다. 다시 시도하세요.",
        "home": "홈",
        "search": "검색",
        "search_placeholder": "제목, 선수, 시리즈… (예: 네그레아누, ㄴㄱㄹㅇㄴ, Main Event)",
        "recently_added": "최근 추가됨",
        "continue_watching": "이어서 보기",
        "brands": "브랜드",
        "series": "시리즈",
        "episodes": "에피소드",
        "episode": "에피소드",
        "clip": "클립",
        "clips": "핸드 / 클립",
        "no_clips": "클립이 없습니다.",
        "day": "데이",
        "part": "파트",
        "season": "시즌",
        "year": "연도",
        "duration": "길이",
        "resolution": "해상도",
        "players": "선수",
        "tags": "태그",
        "play": "재생",
        "resume_at": "이어서 재생",
        "from_start": "처음부터 재생",
        "technical": "기술 정보",
        "versions": "버전",
        "version_file": "파일",
        "version_format": "형식",
        "version_state": "무결성",
        "version_plays": "재생 파일",
        "version_own": "이 콘텐츠의 파일",
        "version_identical": "동일한 사본",
        "version_same_programme": "같은 프로그램, 다른 인코딩",
        "version_copy_folder": "사본 폴더에 있음",
        "split_version": "분리",
        "split_done": "버전을 분리했습니다. 이제 별도의 콘텐츠입니다.",
        "split_failed": "버전을 분리하지 못했습니다",
        "fixity_ok": "검증됨",
        "fixity_mismatch": "내용이 바뀜 (무결성 오류)",
        "fixity_sampled": "아직 전체 해시 없음",
        "fixity_none": "아직 해시 없음",
        "copy_identical": "이 사본은 원본과 동일합니다.",
        "copy_same_programme": "이 사본은 원본과 같은 프로그램이며 인코딩만 다릅니다.",
        "copy_differs": "사본 폴더에 있지만 원본과 내용이 다릅니다.",
        "copy_unverified": "사본 폴더에 있는 파일입니다. 아직 내용을 비교하지 않았습니다.",
        "copy_no_original": "사본 폴더에 있는 파일입니다. 원본을 찾지 못했습니다.",
        "fixity_title": "무결성과 중복",
        "fixity_failures": "무결성 오류",
        "fixity_failures_none": "무결성 오류가 없습니다.",
        "fixity_failures_note": (
            "크기와 수정 시각은 같은데 내용이 다릅니다. 기록은 지워지거나 덮어써지지 않습니다."
        ),
        "chunk": "청크",
        "bytes": "바이트",
        "media_time": "영상 시간",
        "detected": "발견 시각",
        "expected_hash": "기대값",
        "actual_hash": "실제값",
        "duplicates": "중복",
        "duplicates_none": "중복이 없습니다.",
        "reclaimable": "확보 가능",
        "reclaimable_total": "확보 가능한 전체 용량",
        "nothing_deleted": "프로그램은 아무것도 삭제하지 않습니다. 목록을 보고 사람이 결정합니다.",
        "kind": "종류",
        "files": "파일",
        "evidence": "근거",
        "candidate": "후보 (크기와 샘플 해시)",
        "identical": "동일",
        "same_programme": "같은 프로그램",
        "differing_copies": "원본과 다른 사본",
        "differing_copies_none": "원본과 다른 사본이 없습니다.",
        "original": "원본",
        "hashing": "해시",
        "file": "파일",
        "size": "크기",
        "container": "컨테이너",
        "video": "비디오",
        "audio": "오디오",
        "bitrate": "비트레이트",
        "frame_rate": "프레임 속도",
        "not_playable": "이 파일 형식은 브라우저에서 재생할 수 없습니다.",
        "results": "건",
        "no_results": "검색 결과가 없습니다.",
        "all_brands": "모든 브랜드",
        "all_years": "모든 연도",
        "all_players": "모든 선수",
        "filter": "필터",
        "previous": "이전",
        "next": "다음",
        "page": "페이지",
        "parent_episode": "전체 에피소드",
        "not_found": "찾을 수 없습니다.",
        "api_docs": "API",
        "language": "언어",
        "account": "계정",
        "timecode": "타임코드",
        "watch": "보기",
        "empty_catalog": "카탈로그가 비어 있습니다.",
        "fact_event_name": "이벤트",
        "fact_buy_in": "바이인",
        "fact_highlight_score": "하이라이트",
        "fact_winner": "승자",
        "fact_pot_size_bb": "팟 (BB)",
        "fact_is_all_in": "올인",
        "fact_is_showdown": "쇼다운",
        "fact_board": "보드",
        "fact_versions": "버전",
        "reprobe_queued": "다시 검사하도록 요청했습니다. 프로브 작업자가 파일을 읽으면 목록에 새 "
        "결과가 나타납니다.",
    },
}


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The UI language: the cookie's if supported, else the best ``Accept-Language`` match."""
    if cookie in LANGUAGES:
        return cookie
    best = (0.0, DEFAULT)
    order = 0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        order += 1
        # earlier entries win ties
        if quality > best[0] or (quality == best[0] and order == 1):
            best = (quality, primary)
    return best[1]


def translator(lang: str) -> Callable[[str], str]:
    """A ``t(key)`` function for ``lang``."""
    table = MESSAGES.get(lang, MESSAGES[DEFAULT])
    fallback = MESSAGES[DEFAULT]

    def t(key: str) -> str:
        return table.get(key) or fallback.get(key) or key

    return t
