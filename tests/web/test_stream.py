"""``/stream``: HTTP ranges as browsers send them, validators, clips, what may be opened."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from fastapi.testclient import TestClient

from tests.web.catalog_data import MEDIA
from tests.web.conftest import WebEnv

EP1 = next(iter(MEDIA))


def _bytes(web: WebEnv) -> bytes:
    return (web.root / EP1).read_bytes()


def test_whole_file(web: WebEnv, client: TestClient) -> None:
    response = client.get(f"/stream/{web.ids.ep1}")
    data = _bytes(web)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")


def test_browser_style_ranges(web: WebEnv, client: TestClient) -> None:
    data = _bytes(web)
    total = len(data)
    url = f"/stream/{web.ids.ep1}"
    first = client.get(url, headers={"Range": "bytes=0-"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-{total - 1}/{total}"
    assert first.content == data
    middle = client.get(url, headers={"Range": "bytes=1000-1999"})
    assert middle.status_code == 206 and middle.content == data[1000:2000]
    assert middle.headers["content-length"] == "1000"
    open_ended = client.get(url, headers={"Range": f"bytes={total - 10}-"})
    assert open_ended.content == data[-10:]
    suffix = client.get(url, headers={"Range": "bytes=-500"})
    assert suffix.status_code == 206 and suffix.content == data[-500:]
    assert suffix.headers["content-range"] == f"bytes {total - 500}-{total - 1}/{total}"
    huge_suffix = client.get(url, headers={"Range": f"bytes=-{total * 2}"})
    assert huge_suffix.status_code == 206 and huge_suffix.content == data
    past_end_clamped = client.get(url, headers={"Range": f"bytes={total - 5}-{total + 1000}"})
    assert past_end_clamped.status_code == 206 and past_end_clamped.content == data[-5:]
    last_byte = client.get(url, headers={"Range": f"bytes={total - 1}-{total - 1}"})
    assert last_byte.content == data[-1:]


def test_unsatisfiable_ranges(web: WebEnv, client: TestClient) -> None:
    total = len(_bytes(web))
    url = f"/stream/{web.ids.ep1}"
    for header in (f"bytes={total}-", f"bytes={total + 100}-{total + 200}", "bytes=-0"):
        response = client.get(url, headers={"Range": header})
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{total}"


def test_ignored_ranges_give_whole_body(web: WebEnv, client: TestClient) -> None:
    total = len(_bytes(web))
    url = f"/stream/{web.ids.ep1}"
    for header in ("bytes=0-1,5-6", "items=0-5", "bytes=5-1", "bytes=abc", "bytes=--5"):
        response = client.head(url, headers={"Range": header})
        assert response.status_code == 200, header
        assert response.headers["content-length"] == str(total)


def test_if_range(web: WebEnv, client: TestClient) -> None:
    data = _bytes(web)
    url = f"/stream/{web.ids.ep1}"
    tag = client.head(url).headers["etag"]
    modified = client.head(url).headers["last-modified"]
    match = client.get(url, headers={"Range": "bytes=0-9", "If-Range": tag})
    assert match.status_code == 206 and match.content == data[:10]
    by_date = client.get(url, headers={"Range": "bytes=0-9", "If-Range": modified})
    assert by_date.status_code == 206
    mismatch = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert mismatch.status_code == 200 and mismatch.content == data
    old = format_datetime(datetime(2001, 1, 1, tzinfo=UTC), usegmt=True)
    old_date = client.get(url, headers={"Range": "bytes=0-9", "If-Range": old})
    assert old_date.status_code == 200
    weak = client.get(url, headers={"Range": "bytes=0-9", "If-Range": "W/" + tag})
    assert weak.status_code == 200


def test_if_none_match(web: WebEnv, client: TestClient) -> None:
    url = f"/stream/{web.ids.ep1}"
    tag = client.head(url).headers["etag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304


def test_head_has_no_body(web: WebEnv, client: TestClient) -> None:
    response = client.head(f"/stream/{web.ids.ep1}", headers={"Range": "bytes=0-99"})
    assert response.status_code == 206
    assert response.headers["content-length"] == "100"
    assert response.content == b""


def test_clip_streams_its_parent_file(web: WebEnv, client: TestClient) -> None:
    data = _bytes(web)
    clip = client.get(f"/stream/{web.ids.clip}", headers={"Range": "bytes=0-99"})
    assert clip.status_code == 206 and clip.content == data[:100]


def test_hidden_and_unknown_contents_are_not_streamed(web: WebEnv, client: TestClient) -> None:
    assert client.get(f"/stream/{web.ids.hidden}").status_code == 404
    assert client.get("/stream/0123456789abcdef").status_code == 404
    # an episode whose file row was deleted is not streamed either
    conn = web.conn()
    conn.execute("UPDATE files SET status = 'deleted' WHERE id = ?", (web.ids.file_ep1,))
    conn.close()
    assert client.get(f"/stream/{web.ids.ep1}").status_code == 404


def test_file_gone_from_source(web: WebEnv, client: TestClient, tmp_path: object) -> None:
    conn = web.conn()
    conn.execute("UPDATE files SET path = 'gone/away.mp4' WHERE id = ?", (web.ids.file_ep1,))
    conn.close()
    assert client.get(f"/stream/{web.ids.ep1}").status_code == 404


def test_file_of_another_source_is_not_opened(web: WebEnv, client: TestClient) -> None:
    conn = web.conn()
    conn.execute("UPDATE files SET source = '/etc' WHERE id = ?", (web.ids.file_ep1,))
    conn.close()
    assert client.get(f"/stream/{web.ids.ep1}").status_code == 404
