"""URLs of the wfs service (filled in by its issue-9 part)."""

urlpatterns: list = []
