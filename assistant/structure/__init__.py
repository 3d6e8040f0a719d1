"""Second stage of ``parse``: the structure of a document, detected from its text.

``numbering`` (the table of numbering styles, chosen per document), ``tree`` (paragraphs and the
tree of numbered units), ``departments`` (lead and co-operating units in every written form),
``cover`` (文号, issuer, dates, validity: all optional), ``fields`` (amounts, percents, deadlines),
``corrections`` (reviewed OCR fixes) and ``document`` (items, sections and labels).
"""

from .corrections import Correction, load_corrections
from .document import build_document

__all__ = ["Correction", "build_document", "load_corrections"]
