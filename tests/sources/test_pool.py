"""SourcePool: one open source per (thread, spec), dropped when it reports the share gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_analyzer.errors import SourceUnavailable
from archive_analyzer.sources import Source, SourcePool, open_source


class _Counting:
    """An opener that records every source it opens and how often each is closed."""

    def __init__(self) -> None:
        self.opened: list[Source] = []
        self.closes: dict[int, int] = {}

    def __call__(self, spec: str) -> Source:
        source = open_source(spec)
        real_close = source.close
        self.opened.append(source)

        def close() -> None:
            self.closes[id(source)] = self.closes.get(id(source), 0) + 1
            real_close()

        source.close = close  # type: ignore[method-assign]
        return source


def test_source_pool_drops_an_unavailable_source(tmp_path: Path) -> None:
    (tmp_path / "share").mkdir()
    opener = _Counting()
    pool = SourcePool(opener)
    spec = str(tmp_path / "share")
    with pytest.raises(SourceUnavailable), pool.use(spec):
        raise SourceUnavailable("share went away")
    assert len(pool) == 0 and opener.closes == {id(opener.opened[0]): 1}
    with pool.use(spec) as again:
        assert again is opener.opened[1]
    pool.close()
