"""The container parsers of the ``smart`` strategy, by the name ``sniff`` gives a container
(``sniff.KINDS``; tests/probe/test_parsers_property.py checks the two agree).

A static table: every parser module is imported with this one, so a parser that fails to
import fails the program (and CI) at once instead of quietly sending its files to
libavformat.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from archive_analyzer.probe import asf, avi, mkv, mp4, mxf, ts
from archive_analyzer.probe.facts import Facts, Reader

Parse = Callable[[Reader], Facts]

PARSERS: Mapping[str, Parse] = MappingProxyType(
    {
        "mp4": mp4.parse,
        "mkv": mkv.parse,
        "ts": ts.parse,
        "mxf": mxf.parse,
        "avi": avi.parse,
        "asf": asf.parse,
    }
)
