"""URLs of the ogc service (filled in by its issue-9 part)."""

urlpatterns: list = []
