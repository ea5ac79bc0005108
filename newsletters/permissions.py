"""Only Editors (and superusers) touch newsletters: writers never see subscribers or issues."""

from wagtail.models import PagePermissionTester

MANAGE_PERMISSION = "newsletters.change_subscriber"


def can_manage_newsletters(user) -> bool:
    return user.is_active and user.has_perm(MANAGE_PERMISSION)


class NewsletterPagePermissionTester(PagePermissionTester):
    """Page permissions granted on the whole tree stop at newsletter pages for non-managers."""

    def __init__(self, user, page):
        super().__init__(user, page)
        if not can_manage_newsletters(user):
            self.permissions = set()


class NewsletterPermissionsMixin:
    def permissions_for_user(self, user):
        return NewsletterPagePermissionTester(user, self)
