"""Documents in, clean de-duplicated chunks out (Qt-free, torch-free).

`ingest(paths)` is the one entry point; readers, cleaning, de-duplication and
chunking are separate modules so each can be tested and tuned alone.
"""

from core.documents.ingest import (
    SUPPORTED_SUFFIXES,
    Chunk,
    DocumentRecord,
    IngestResult,
    ingest,
    require_text,
)
from core.documents.readers import left_out_notice

__all__ = ["SUPPORTED_SUFFIXES", "Chunk", "DocumentRecord", "IngestResult", "ingest", "left_out_notice", "require_text"]
