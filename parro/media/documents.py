"""PDF files: rewritten by pikepdf without their document information and XMP metadata.

Word processors and scanners write who made a PDF, with what and when into its
document information dictionary (Author, Creator, Producer, dates) and into
XMP metadata streams, on the document and on pages, images and fonts; some add
their own private data (PieceInfo). All of that is removed and the file is
written anew (with a new file identifier made from its content). The pages
themselves are not changed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask_babel import lazy_gettext as _l

from .errors import UploadError

log = logging.getLogger(__name__)

HIDDEN = ("/Metadata", "/PieceInfo")


def clean(stream, target: Path) -> None:
    """Write the PDF in `stream` to `target` without metadata; UploadError if it is no PDF."""
    import pikepdf  # here: 7 MB that only an uploaded PDF needs (README, Performance)

    stream.seek(0)
    try:
        with pikepdf.open(stream) as pdf:
            if "/Info" in pdf.trailer:
                del pdf.trailer.Info
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    for key in HIDDEN:
                        if key in obj:
                            del obj[key]
            pdf.save(target, fix_metadata_version=False, deterministic_id=True)
    except pikepdf.PasswordError:
        raise UploadError(_l("dit PDF-bestand is met een wachtwoord beveiligd; voeg het toe "
                             "zonder wachtwoord.")) from None
    except (pikepdf.PdfError, ValueError, RecursionError) as exc:
        log.info("a PDF was refused: %s", exc)
        target.unlink(missing_ok=True)
        raise UploadError(_l("dit is geen geldig PDF-bestand, of het is beschadigd.")) from None
