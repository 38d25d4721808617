from django.urls import path

from subdivision import api, workflow

urlpatterns = [
    path("", api.plan_list, name="plan-list"),
    path("validate/", api.plan_validate, name="plan-validate"),
    path("<int:plan_id>/", api.plan_detail, name="plan-detail"),
    path("<int:plan_id>/features/", api.plan_features, name="plan-features"),
    path("<int:plan_id>/findings/", api.plan_findings, name="plan-findings"),
    path("<int:plan_id>/history/", api.plan_history, name="plan-history"),
    path("<int:plan_id>/versions/", api.plan_versions, name="plan-versions"),
    path("<int:plan_id>/versions/<int:number>/", api.plan_version, name="plan-version"),
    path("<int:plan_id>/versions/<int:number>/diff/", api.plan_version_diff, name="plan-version-diff"),
    path("<int:plan_id>/resubmit/", api.plan_resubmit, name="plan-resubmit"),
    path("<int:plan_id>/fix/", api.plan_fix, name="plan-fix"),
]
urlpatterns += [
    path(f"<int:plan_id>/{name}/", api.plan_act, {"action": name}, name=f"plan-{name}")
    for name, action in workflow.ACTIONS.items() if not action.needs_file
]
