from django import forms

from connectors import kinds
from connectors.models import Membership


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True, label="Organization name")


class AddConnectionForm(forms.Form):
    kind = forms.ChoiceField(widget=forms.RadioSelect)
    name = forms.CharField(
        max_length=100, required=False, strip=True, help_text="Optional; defaults to the kind's name."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind.key, kind.label) for kind in kinds.all_kinds()]


class RenameConnectionForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
