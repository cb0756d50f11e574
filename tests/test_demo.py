"""The demo archive for ``archive-analyzer run`` without a source."""

from __future__ import annotations

from pathlib import Path

from archive_analyzer import demo


def test_demo_archive_is_made_once_in_the_poker_layout(tmp_path: Path) -> None:
    root = demo.ensure_demo_archive(tmp_path / "demo")
    made = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    expected = (
        {item.path for item in demo.DEMO_FILES}
        | set(demo.JUNK)
        | set(demo.SIDECARS)
        | set(demo.COPIES)
    )
    assert made == expected
    assert "PAD/PAD S12/PAD S12 EP05.mp4" in made
    assert any("복사본" in p for p in made)
    for copy, original in demo.COPIES.items():  # byte-identical copies for the duplicates
        assert (root / copy).read_bytes() == (root / original).read_bytes()
    contents = [(root / item.path).read_bytes() for item in demo.DEMO_FILES]
    assert len(set(contents)) == len(contents)  # no accidental duplicates
    assert all((root / item.path).stat().st_size > 1000 for item in demo.DEMO_FILES)
    stamp = (root / "PAD/PAD S12/PAD S12 EP05.mp4").stat().st_mtime_ns
    assert demo.ensure_demo_archive(tmp_path / "demo") == root  # cached: not made again
    assert (root / "PAD/PAD S12/PAD S12 EP05.mp4").stat().st_mtime_ns == stamp
