from django.urls import path

from subdivision import api

urlpatterns = [
    path("", api.plan_list, name="plan-list"),
    path("validate/", api.plan_validate, name="plan-validate"),
    path("<int:plan_id>/", api.plan_detail, name="plan-detail"),
    path("<int:plan_id>/features/", api.plan_features, name="plan-features"),
    path("<int:plan_id>/findings/", api.plan_findings, name="plan-findings"),
]
