from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    """The one date widget of the portal: the browser's date picker, whose value must be ISO
    (yyyy-mm-dd) whatever the page's language (a dd/mm/yyyy value leaves it empty, and the form
    fails on its first submit); the browser shows it dd/mm/yyyy to a Vietnamese user."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def date_order_field(**kwargs):
    """The date-order choice of every import form (core.dateorder): day first unless the file
    shows otherwise, or said outright."""
    return forms.ChoiceField(
        label=_("Date order in the file"),
        choices=[
            ("", _("Day first (dd/mm/yyyy), unless the file shows otherwise")),
            ("dmy", _("day/month/year")),
            ("mdy", _("month/day/year")),
        ],
        required=False,
        **kwargs,
    )


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "Please enter a correct username and password. Note that both fields may be "
            "case-sensitive."
        ),
        "inactive": _("This account is inactive."),
    }


class ImportForm(forms.Form):
    """The upload of any import kind (core.imports): the file, a saved mapping, the date order
    and what to do when some rows are wrong."""

    file = forms.FileField(
        label=_("CSV or XLSX file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,.xlsm"}),
    )
    mapping = forms.ChoiceField(
        label=_("Column mapping"),
        required=False,
        help_text=_("A mapping your organisation saved for another system's files."),
    )
    date_order = date_order_field()
    mode = forms.ChoiceField(
        label=_("When some rows are wrong"),
        choices=[
            ("atomic", _("Import nothing (all or nothing)")),
            ("partial", _("Import the valid rows, list the others")),
        ],
        initial="atomic",
        required=False,
    )

    def __init__(self, *args, mappings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = [("", _("By the column names"))] + [
            (m.name, m.name) for m in mappings
        ]
        from core.web import bootstrap

        bootstrap(self)
