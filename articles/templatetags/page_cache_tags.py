"""Parts of a page kept in the page cache until published content changes.

An article's body, share widgets, author boxes and further reading change only when something
is published, unpublished or edited that readers see, which is exactly when the page cache is
emptied (outlet.page_cache). Kept as rendered HTML, they cost nothing to readers whose request
bypasses the page cache (signed in, or with a session). A preview is always rendered afresh:
it shows edits that are not published.
"""

from django import template
from django.core.cache.utils import make_template_fragment_key

from outlet.page_cache import remember

register = template.Library()


class KeptNode(template.Node):
    def __init__(self, nodelist, name, vary_on):
        self.nodelist = nodelist
        self.name = name
        self.vary_on = vary_on

    def render(self, context):
        request = context.get("request")
        if request is None or getattr(request, "is_preview", False):
            return self.nodelist.render(context)
        # Django's own fragment key, as its {% cache %} tag builds it: a hash of what varies.
        key = make_template_fragment_key(
            self.name.resolve(context), [part.resolve(context) for part in self.vary_on]
        )
        return remember(key, lambda: self.nodelist.render(context))


@register.tag
def kept_until_publish(parser, token):
    """{% kept_until_publish "name" page.pk page.live_revision_id %}…{% endkept_until_publish %}:
    the enclosed HTML, rendered once per key until the page cache is emptied."""
    bits = token.split_contents()[1:]
    if not bits:
        raise template.TemplateSyntaxError("kept_until_publish needs a key, e.g. a name and pk.")
    nodelist = parser.parse(("endkept_until_publish",))
    parser.delete_first_token()
    name, *vary_on = (parser.compile_filter(bit) for bit in bits)
    return KeptNode(nodelist, name, vary_on)
