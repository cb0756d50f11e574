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
        "time": "Time",
        "source_timecode": "Source timecode",
        "hands": "Hands",
        "mark_hand": "Mark a hand",
        "mark_in": "Set the in point",
        "mark_out": "Set the out point",
        "in": "In",
        "out": "Out",
        "frame_back": "One frame back",
        "frame_forward": "One frame forward",
        "hand_title": "Title",
        "player_search": "Type a name, 한글 or 초성…",
        "save_hand": "Save hand",
        "cancel": "Cancel",
        "hand_saved": "Hand saved.",
        "hand_deleted": "Hand deleted.",
        "edit": "Edit",
        "delete": "Delete",
        "confirm_delete": "Delete this hand?",
        "open_clip": "Open",
        "saving": "Saving…",
        "download_clip": "Download clip",
        "download_clip_exact": "Download exact clip (re-encode)",
        "download_original": "Download original",
        "edit_list": "Edit list",
        "export_queued": "Waiting for an export slot…",
        "export_running": "Cutting the clip…",
        "export_done": "Clip ready.",
        "export_failed": "Export failed:",
        "export_got": "Got",
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
        "time": "시간",
        "source_timecode": "소스 타임코드",
        "hands": "핸드",
        "mark_hand": "핸드 표시",
        "mark_in": "시작점 지정",
        "mark_out": "끝점 지정",
        "in": "시작",
        "out": "끝",
        "frame_back": "한 프레임 뒤로",
        "frame_forward": "한 프레임 앞으로",
        "hand_title": "제목",
        "player_search": "이름, 한글 또는 초성 입력…",
        "save_hand": "핸드 저장",
        "cancel": "취소",
        "hand_saved": "핸드를 저장했습니다.",
        "hand_deleted": "핸드를 삭제했습니다.",
        "edit": "수정",
        "delete": "삭제",
        "confirm_delete": "이 핸드를 삭제할까요?",
        "open_clip": "열기",
        "saving": "저장 중…",
        "download_clip": "클립 다운로드",
        "download_clip_exact": "정확한 클립 다운로드 (재인코딩)",
        "download_original": "원본 다운로드",
        "edit_list": "편집 목록",
        "export_queued": "내보내기 대기 중…",
        "export_running": "클립을 자르는 중…",
        "export_done": "클립 준비 완료.",
        "export_failed": "내보내기 실패:",
        "export_got": "실제 구간",
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
