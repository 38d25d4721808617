"""URLs of the tiles service (filled in by its issue-9 part)."""

urlpatterns: list = []
