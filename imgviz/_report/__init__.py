"""Parts of :class:`imgviz.report.Report`: data (``_summarize``), text safety (``_safe``), HTML (``_html``)."""
