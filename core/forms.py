from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "Please enter a correct username and password. Note that both fields may be "
            "case-sensitive."
        ),
        "inactive": _("This account is inactive."),
    }
