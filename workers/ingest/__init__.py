"""Document ingestion: bytes of an uploaded file → sections of text with metadata → chunks → vectors.

``extract.py`` picks the reader by file type (``text.py``, ``html.py``, ``pdf.py``, ``docx.py``) and
refuses what cannot be read with an :class:`~workers.ingest.errors.IngestError` whose message tells the
operator what to do; ``split.py`` cuts sections into overlapping chunks that keep their page or heading;
``pipeline.py`` runs the whole thing for one ``v_voice_documents`` row and swaps its chunks atomically.
"""
