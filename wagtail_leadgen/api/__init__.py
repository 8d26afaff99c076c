"""The headless JSON API: what a visitor can do on the server-rendered pages,
for a decoupled front end. Mount ``wagtail_leadgen.api.app.api.urls``."""
