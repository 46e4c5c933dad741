"""The qualitative strand: participants, coded segments (CSV, XLSX or REFI-QDA), the tables that
integrate them with the bibliometric indicators (codebook, theme matrices, quotes, joint display,
summaries of findings)."""
