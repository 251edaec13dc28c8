"""User journeys shared by the HTML and JSON faces; no HTTP here."""
