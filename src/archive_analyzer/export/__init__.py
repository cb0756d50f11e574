"""Exports for the edit suite: clips cut from the originals (``clip``) and edit lists of hands
(``edit_lists``: EDL, FCP 7 XML, OTIO, CSV) over a selection of contents (``selection``)."""
