"""Forms: the public subscribe form, the preference centre, and the issue editor's form."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import DELETION_FIELD_NAME
from wagtail.admin.forms import WagtailAdminModelForm

from articles.forms import PageForm
from articles.models import ArticlePage
from newsletters.addresses import MAX_LENGTH, canonical_email
from newsletters.numbering import issue_number, issue_slug


class AddressField(forms.CharField):
    """An email address a person types, cleaned to its canonical form (see addresses)."""

    widget = forms.EmailInput

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_LENGTH)
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return canonical_email(value) if value else value


class SubscribeForm(forms.Form):
    email = AddressField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.com"}),
    )
    newsletters = forms.TypedMultipleChoiceField(coerce=int, widget=forms.MultipleHiddenInput)
    # Left empty by people; filled in by bots that fill in every field.
    website = forms.CharField(required=False, label="Leave this empty")
    source = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)

    def __init__(self, *args, newsletters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["newsletters"].choices = [(n.pk, n.title) for n in newsletters]

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
        # Each label is the newsletter itself (it prints as its title), so that the preference
        # centre can show what each one is beside its box.
        self.fields["newsletters"].choices = [(n.pk, n) for n in newsletters]


class IssuePageForm(PageForm):
    """Numbers the issue's address, and refuses to publish (or submit) an issue that links an
    article readers cannot open."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False  # an empty one is filled in: see clean_slug
            self.fields["slug"].help_text += " Leave it empty for the issue's number (no-5)."

    def clean_slug(self):
        slug = self.cleaned_data.get("slug")
        if slug or self.parent_page is None:
            return slug
        # Emptied while drafting: an issue is addressed by its number, not by its title.
        newsletter = self.parent_page.specific
        number = issue_number("", self.data.get("title", "")) or newsletter.next_issue_number()
        return issue_slug(number)

    def clean(self):
        cleaned = super().clean()
        if self.is_deferred_validation:  # saving a draft: anything goes
            return cleaned
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


class IssueItemForm(WagtailAdminModelForm):
    """An article row the editor has added but not filled in yet is dropped, not an error.

    "Add article" adds a row with no article; until one was chosen, every autosave meanwhile
    failed ("there are validation errors"). A new row with neither article nor blurb is now
    deleted from the formset, as if the editor had removed it.
    """

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("article") and not cleaned.get("blurb"):
            cleaned[DELETION_FIELD_NAME] = True
        return cleaned
