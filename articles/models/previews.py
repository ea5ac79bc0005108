"""Previews in the admin: framed by the admin's side panel, otherwise under the readers' policy."""

from csp.constants import SELF
from csp.decorators import csp_replace
from django.views.decorators.clickjacking import xframe_options_sameorigin


class FramedPreviewMixin:
    """Lets the admin show the page's preview in its side panel, and nobody else frame it.

    Readers' pages may be framed by no one (`frame-ancestors 'none'`, X-Frame-Options DENY).
    A preview is only ever served inside the admin, which frames it from the same origin, so
    only preview responses say 'self'. The rest of the policy stays as readers get it: a
    preview shows what the policy would block on the live page.
    """

    def preview_policy(self, mode_name: str) -> dict[str, list[str]]:
        """The Content-Security-Policy directives this preview mode replaces."""
        return {"frame-ancestors": [SELF]}

    def framed_for_admin(self, serve_preview):
        """`serve_preview` with the preview's policy: for pages that serve a mode of their own."""

        def serve(request, mode_name):
            view = csp_replace(self.preview_policy(mode_name))(serve_preview)
            return xframe_options_sameorigin(view)(request, mode_name)

        return serve

    def serve_preview(self, request, mode_name):
        return self.framed_for_admin(super().serve_preview)(request, mode_name)
