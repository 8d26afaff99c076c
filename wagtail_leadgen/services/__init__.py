"""Plain functions used alike by views, the API, commands and tasks."""
