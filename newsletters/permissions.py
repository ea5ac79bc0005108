"""Who manages newsletters: a permission of its own, granted to Editors by a migration.

Newsletter pages themselves are guarded by Wagtail's page permissions: Editors hold them on
the whole tree, Writers only on the sections, so Writers never reach a newsletter page.
"""

MANAGE_NEWSLETTERS = "newsletters.manage_newsletters"


def can_manage_newsletters(user) -> bool:
    return user.is_active and user.has_perm(MANAGE_NEWSLETTERS)
