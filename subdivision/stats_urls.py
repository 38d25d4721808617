from django.urls import path

from subdivision import stats_api

urlpatterns = [
    path("plans/", stats_api.plan_stats, name="stats-plans"),
]
