from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm, UsernameField
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods


class LoginView(auth_views.LoginView):
    """Django's log-in page, named after this site.

    Without the sites framework Django's view puts the request's host into
    `site_name`, and a view's context outranks the context processor's, so the
    page would be titled "127.0.0.1" or whatever host the visitor typed.
    """

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["site_name"] = settings.SITE_NAME
        return context


class SignupForm(UserCreationForm[User]):
    class Meta:
        model = User
        fields = ("username", "email")
        field_classes = {"username": UsernameField}


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.ALLOW_SIGNUP:
        raise Http404("sign-up is closed on this site")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("dashboard")
    return render(
        request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200
    )
