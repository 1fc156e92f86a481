"""Streaming XML for coverage reports, safe against hostile documents.

Coverage XML can be large (a million ``<line>`` elements) and comes from outside, so it is
parsed with expat as a stream — memory stays flat — and with every entity trick refused:
a DOCTYPE may name an external DTD (Cobertura and JaCoCo files do) but it is never fetched,
and a document with an internal DTD subset or any entity declaration is rejected before an
entity could be expanded. Errors name the file, line and column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from xml.parsers import expat

from covtool.errors import InputError
from covtool.records import ProfileSource

StartHandler = Callable[[str, dict[str, str]], None]
EndHandler = Callable[[str], None]
READ_BYTES = 1 << 20


class XmlStream:
    """One document being parsed; handlers may call ``where()`` and ``fail()``."""

    def __init__(self, name: str, start: StartHandler, end: EndHandler | None = None) -> None:
        self.name = name
        self._parser = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser.StartDoctypeDeclHandler = self._doctype
        self._parser.EntityDeclHandler = self._entity
        self._parser.StartElementHandler = start
        if end is not None:
            self._parser.EndElementHandler = end

    def where(self) -> str:
        """``NAME:LINE:COLUMN`` of the current position, for messages."""
        return (
            f"{self.name}:{self._parser.CurrentLineNumber}:{self._parser.CurrentColumnNumber + 1}"
        )

    def fail(self, message: str) -> InputError:
        """An ``InputError`` at the current position (for handlers to raise)."""
        return InputError(self.where(), message)

    def _doctype(
        self, name: str, system_id: str | None, public_id: str | None, internal: int
    ) -> None:
        if internal:
            raise self.fail("DTD with declarations inside the document: refused, never expanded")

    def _entity(self, name: str, *_: object) -> None:
        raise self.fail(f"entity declaration {name!r}: refused, never expanded")

    def route_text(self, handler: Callable[[str], None] | None) -> None:
        """Send character data to ``handler`` from now on (None: nowhere).

        Coverage XML needs text in few elements (Cobertura's ``<source>``), so a reader
        routes it only there: the white space around a million others never reaches Python.
        """
        self._parser.CharacterDataHandler = handler

    def feed(self, source: ProfileSource) -> None:
        """Parse a coverage file: streamed from disk, or from its bytes for a pipe or stdin."""
        if source.path.is_file() and source.name != "-":
            self.feed_file(source.path)
        else:
            self.feed_bytes(source.read())

    def feed_file(self, path: Path) -> None:
        """Parse the whole file, a megabyte at a time."""
        with path.open("rb") as stream:
            self._parse_pieces(iter(lambda: stream.read(READ_BYTES), b""))

    def feed_bytes(self, data: bytes) -> None:
        """Parse a whole document held in memory."""
        self._parse_pieces([data])

    def _parse_pieces(self, pieces: Iterable[bytes]) -> None:
        try:
            for piece in pieces:
                self._parser.Parse(piece, False)
            self._parser.Parse(b"", True)
        except expat.ExpatError as error:
            where = f"{self.name}:{error.lineno}:{error.offset + 1}"
            raise InputError(where, f"malformed XML: {expat.ErrorString(error.code)}") from None
