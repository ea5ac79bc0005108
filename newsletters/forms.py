"""Forms: the public subscribe form, the preference centre, and the issue editor's form."""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from wagtail.admin.forms import WagtailAdminPageForm

MAX_EMAIL_LENGTH = 254


def clean_address(value: str) -> str:
    """Refuse what cannot be a single deliverable address before Django's own checks."""
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in value):
        raise ValidationError("That address contains characters an address cannot have.")
    return value.strip()


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=MAX_EMAIL_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.com"}),
    )
    newsletters = forms.TypedMultipleChoiceField(coerce=int, widget=forms.MultipleHiddenInput)
    # Left empty by people; filled in by bots that fill in every field.
    website = forms.CharField(required=False, label="Leave this empty")
    source = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)

    def __init__(self, *args, newsletters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["newsletters"].choices = [(n.pk, n.title) for n in newsletters]

    def clean_email(self):
        return clean_address(self.cleaned_data["email"])

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class PreferencesForm(forms.Form):
    newsletters = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Send me",
    )

    def __init__(self, *args, newsletters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["newsletters"].choices = [(n.pk, n.title) for n in newsletters]


class IssuePageForm(WagtailAdminPageForm):
    """Refuses to publish (or submit) an issue that links an article readers cannot open."""

    def clean(self):
        cleaned = super().clean()
        if self.is_deferred_validation:  # saving a draft: anything goes
            return cleaned
        from articles.models import ArticlePage

        items = self.formsets.get("items")
        if items is None or not items.is_valid():
            return cleaned  # the formset reports its own errors
        chosen = [
            form.cleaned_data["article"]
            for form in items.forms
            if form.cleaned_data.get("article") and not form.cleaned_data.get("DELETE")
        ]
        live = set(
            ArticlePage.objects.live()
            .public()
            .filter(pk__in=[a.pk for a in chosen])
            .values_list("pk", flat=True)
        )
        dead = [article.title for article in chosen if article.pk not in live]
        if dead:
            raise ValidationError(
                "This issue links articles that are not published: "
                + "; ".join(f"“{title}”" for title in dead)
                + ". Publish them or remove them from the issue first."
            )
        return cleaned
