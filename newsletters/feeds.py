"""RSS and Atom feeds of a newsletter's published issues."""

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed

from articles.feeds import KeptUntilPublish
from newsletters.models import IssuePage

FEED_SIZE = 30


class IssueRssFeed(KeptUntilPublish, Feed):
    def __init__(self, newsletter):
        self.newsletter = newsletter

    def __call__(self, request, *args, **kwargs):
        self.request = request
        return super().__call__(request, *args, **kwargs)

    def title(self):
        return self.newsletter.title

    def link(self):
        return self.newsletter.get_url(request=self.request)

    def description(self):
        return self.newsletter.description

    def items(self):
        issues = IssuePage.objects.live().public().child_of(self.newsletter)
        return issues.order_by("-first_published_at")[:FEED_SIZE]

    def item_title(self, issue):
        return issue.subject

    def item_description(self, issue):
        return issue.preheader or issue.subject

    def item_link(self, issue):
        return issue.get_url(request=self.request)

    def item_pubdate(self, issue):
        return issue.first_published_at

    def item_updateddate(self, issue):
        return issue.last_published_at


class IssueAtomFeed(IssueRssFeed):
    feed_type = Atom1Feed

    def subtitle(self):
        return self.description()
