"""The tearsheet: `page.tearsheet_html` builds one self-contained interactive page (plotly)
from a `documents.tearsheet.Tearsheet`; `tables` holds its HTML tables (light to import)."""
