"""Built-in reports over alerts (overview, by citizen, statistics, communications log,
verification) and their exports (CSV, XLSX, PDF), registered like any plugin."""
