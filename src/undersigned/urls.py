from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django_otp.admin import OTPAdminSite

from undersigned.abuse import views as abuse
from undersigned.accounts import twofactor_views as twofactor
from undersigned.accounts import views as accounts
from undersigned.api import exports, open_data
from undersigned.api.views import api
from undersigned.ledger import views as ledger
from undersigned.ledger import witness_views as witnessed
from undersigned.moderation import paper_views as paper
from undersigned.moderation import submission_views as submissions
from undersigned.moderation import views as moderation
from undersigned.ops import views as ops
from undersigned.petitions import listing_views as listing
from undersigned.petitions import lookalike_views as lookalike
from undersigned.petitions import organiser_views as organiser
from undersigned.petitions import standards_views as standards
from undersigned.petitions import translation_views as translation
from undersigned.petitions import views as petitions
from undersigned.privacy import views as privacy
from undersigned.signing import views as signing
from undersigned.updates import views as updates

# The admin asks for the TOTP code beside the password, whatever REQUIRE_2FA
# says: only staff use it, and staff always need the second factor.
admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("", listing.home, name="home"),
    path("petitions/", listing.petitions, name="petitions"),
    path("petitions/lookalike.json", lookalike.lookalike_json, name="petition-lookalikes"),
    path("p/<slug:slug>/", petitions.petition, name="petition"),
    path("p/<slug:slug>/signatories/", petitions.signatories, name="signatories"),
    path("p/<slug:slug>/signatories.csv", exports.signatories_csv, name="signatories-csv"),
    path("p/<slug:slug>/signatories.json", exports.signatories_json, name="signatories-json"),
    path("p/<slug:slug>/sign/", signing.sign, name="sign"),
    path("p/<slug:slug>/signed/", signing.signed, name="signed"),
    path("support/<slug:slug>/<str:key>/", signing.support, name="support"),
    path("support/<slug:slug>/<str:key>/sent/", signing.supported, name="supported"),
    path("standards/", standards.standards, name="standards"),
    path("confirm/<str:token>/", signing.confirm, name="confirm"),
    path("withdraw/<str:token>/", signing.withdraw, name="withdraw"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/", accounts.account, name="account"),
    path("accounts/confirm/<str:token>/", accounts.confirm_address, name="confirm-address"),
    path("accounts/confirm-again/", accounts.send_confirmation, name="send-confirmation"),
    path("accounts/sign-out-everywhere/", accounts.sign_out_everywhere, name="sign-out-everywhere"),
    path("accounts/2fa/setup/", twofactor.setup, name="two-factor-setup"),
    path("accounts/2fa/verify/", twofactor.verify, name="two-factor-verify"),
    path("dashboard/", organiser.dashboard, name="dashboard"),
    path("dashboard/new/", organiser.new_petition, name="new-petition"),
    path("dashboard/<slug:slug>/", organiser.manage, name="manage"),
    path("dashboard/<slug:slug>/edit/", organiser.edit_draft, name="edit-draft"),
    path("dashboard/<slug:slug>/founders/", organiser.add_founder, name="add-founder"),
    path("dashboard/<slug:slug>/versions/", organiser.add_version, name="add-version"),
    path("dashboard/<slug:slug>/translations/", translation.add, name="add-translation"),
    path(
        "dashboard/<slug:slug>/addressee/",
        organiser.set_addressee_notice,
        name="set-addressee-notice",
    ),
    path("dashboard/<slug:slug>/<str:action>/", organiser.change_status, name="petition-status"),
    path("moderation/", moderation.queue, name="moderation-queue"),
    path("moderation/submissions/", submissions.queue, name="moderation-submissions"),
    path(
        "moderation/submissions/<slug:slug>/", submissions.review, name="moderation-submission"
    ),
    path("moderation/standards/", submissions.standards, name="moderation-standards"),
    path(
        "moderation/standards/new/", submissions.new_standard, name="moderation-standard-new"
    ),
    path(
        "moderation/standards/<slug:code>/",
        submissions.edit_standard,
        name="moderation-standard",
    ),
    path("moderation/<int:signature_id>/", moderation.review, name="moderation-review"),
    path(
        "moderation/custody/<slug:slug>.jsonl",
        moderation.custody_export,
        name="moderation-custody-export",
    ),
    path("moderation/paper/<slug:slug>/", paper.paper_entry, name="moderation-paper"),
    path("moderation/paper/<slug:slug>/sheet/", paper.paper_sheet, name="moderation-paper-sheet"),
    path("moderation/answers/", updates.answers, name="updates-answers"),
    path("moderation/answers/<slug:slug>/", updates.answer, name="updates-answer"),
    path(
        "moderation/answers/<slug:slug>/response/",
        updates.publish_response,
        name="updates-publish-response",
    ),
    path(
        "moderation/answers/<slug:slug>/outcome/",
        updates.publish_outcome,
        name="updates-publish-outcome",
    ),
    path("unsubscribe/<str:token>/", updates.unsubscribe, name="unsubscribe"),
    path("moderation/sources/", abuse.sources, name="abuse-sources"),
    path("moderation/sources/invalidate/", abuse.invalidate, name="abuse-invalidate"),
    path("moderation/bulk/<int:action_id>/undo/", abuse.revert, name="abuse-revert"),
    path("moderation/blocklist/", abuse.blocked, name="abuse-blocklist"),
    path("moderation/blocklist/add/", abuse.block, name="abuse-block"),
    path("moderation/blocklist/<int:entry_id>/remove/", abuse.unblock, name="abuse-unblock"),
    path("data/", open_data.data_page, name="open-data"),
    re_path(
        r"^data/p/(?P<slug>[-a-zA-Z0-9_]+)/signatures-per-hour\.(?P<suffix>csv|json)$",
        open_data.signatures_per_hour,
        name="open-data-hours",
    ),
    re_path(
        r"^data/p/(?P<slug>[-a-zA-Z0-9_]+)/signatures-per-region\.(?P<suffix>csv|json)$",
        open_data.signatures_per_region,
        name="open-data-regions",
    ),
    re_path(
        r"^data/petitions-latest\.(?P<suffix>csv|json)$",
        open_data.dump_latest,
        name="open-data-dump-latest",
    ),
    re_path(
        r"^data/petitions-(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})\.(?P<suffix>csv|json)$",
        open_data.dump_of_day,
        name="open-data-dump",
    ),
    path("log/", ledger.checkpoint_history, name="log"),
    path("log/checkpoint", witnessed.checkpoint, name="log-checkpoint"),
    path("log/policy", witnessed.policy, name="log-policy"),
    path("log/key", ledger.key, name="log-key"),
    re_path(r"^log/tile/(?P<path>[0-9a-z./x]{1,200})$", ledger.tile, name="log-tile"),
    path("log/proof/inclusion", ledger.inclusion_proof, name="log-inclusion"),
    path("log/proof/consistency", ledger.consistency_proof, name="log-consistency"),
    path("log/check-receipt/", ledger.check_receipt, name="log-check-receipt"),
    path("receipt/<str:receipt_key>/", ledger.receipt, name="receipt"),
    path("my-data/", privacy.ask, name="my-data"),
    path("my-data/<str:token>/", privacy.held, name="my-data-held"),
    path("receipt/<str:receipt_key>.json", ledger.receipt_json, name="receipt-json"),
    path(
        "receipt/<str:receipt_key>.tlog-proof", witnessed.receipt_proof, name="receipt-tlog-proof"
    ),
    # set_language: the header's language switch posts here.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("undersigned.sharing.urls")),  # badge, embed, preview image, QR code
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    # Also answered by ops.middleware before host checks; here so that reverse() works.
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
]

# Database errors raised outside a view still get the 503 outage page.
handler500 = "undersigned.core.middleware.server_error"
