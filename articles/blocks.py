"""The blocks an article body is made of: one story block, plain-noun children."""

import uuid

from django.utils.functional import cached_property
from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.coreutils import resolve_model_string
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Page

from articles.promotion import promoter

RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul", "superscript", "subscript"]


class PrefetchingImageChooserBlock(ImageChooserBlock):
    """Fetches every image of a body, with its renditions, in two queries however many there are."""

    def bulk_to_python(self, values):
        ids = [value for value in values if value is not None]
        images = self.model_class.objects.prefetch_renditions().in_bulk(ids)
        return [images.get(value) for value in values]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=200)
    level = blocks.ChoiceBlock(
        choices=[("h2", "Section heading"), ("h3", "Subheading")], default="h2"
    )

    class Meta:
        icon = "title"
        template = "articles/blocks/heading.html"
        description = "A heading that divides the article into sections"
        preview_value = {"text": "What the new rules change", "level": "h2"}


class ImageFigureBlock(blocks.StructBlock):
    image = PrefetchingImageChooserBlock()
    alt_text = blocks.CharBlock(
        required=False,
        max_length=255,
        help_text="Describe the image for readers who cannot see it. "
        "Leave empty to use the image's own description.",
    )
    caption = blocks.CharBlock(required=False, max_length=300)
    credit = blocks.CharBlock(required=False, max_length=120)

    class Meta:
        icon = "image"
        template = "articles/blocks/image.html"
        description = "An image with caption and credit"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "openquote"
        template = "articles/blocks/quote.html"
        description = "A pull quote with its source"
        preview_value = {
            "text": "Tariffs are a tax that both sides pretend the other one pays.",
            "attribution": "A trade lawyer in Geneva",
        }


class KeyTakeawaysBlock(blocks.StructBlock):
    title = blocks.CharBlock(default="Key takeaways", max_length=80)
    items = blocks.ListBlock(blocks.CharBlock(max_length=300), min_num=1)

    class Meta:
        icon = "list-ul"
        template = "articles/blocks/key_takeaways.html"
        description = "A boxed list of the article's main points"
        preview_value = {
            "title": "Key takeaways",
            "items": [
                "Export controls tightened twice this year",
                "Enforcement lags the rules",
            ],
        }


class SourceBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=400)
    url = blocks.URLBlock(required=False)


class SourcesBlock(blocks.StructBlock):
    title = blocks.CharBlock(default="Sources", max_length=80)
    items = blocks.ListBlock(SourceBlock(), min_num=1)

    class Meta:
        icon = "doc-full"
        template = "articles/blocks/sources.html"
        description = "Numbered footnotes and sources, shown at the end of the article"
        preview_value = {
            "title": "Sources",
            "items": [
                {
                    "text": "Customs statistics, monthly release",
                    "url": "https://example.org/",
                }
            ],
        }


class PromotedPageChooserBlock(blocks.PageChooserBlock):
    """A chooser for the page type the promotion seam names (see articles.promotion)."""

    @cached_property
    def target_models(self):
        current = promoter()
        return [resolve_model_string(current.chooser_page_type)] if current else [Page]


class SignupBlock(blocks.StructBlock):
    """A working signup form inside an article, from whatever promotes itself on articles
    (see articles.promotion): the newsletter chosen here, or the one the article promotes."""

    newsletter = PromotedPageChooserBlock(
        required=False,
        help_text="Leave empty to promote the article's own newsletter (its series', or the "
        "default one).",
    )

    class Meta:
        icon = "mail"
        template = "articles/blocks/newsletter_signup.html"
        description = "A subscribe form for a newsletter"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        # Blocks are rendered without their stream id: give each form field a unique one.
        context["form_id"] = f"signup-{uuid.uuid4().hex[:8]}"
        return context


class ArticleStoryBlock(blocks.StreamBlock):
    heading = HeadingBlock(group="Text")
    paragraph = blocks.RichTextBlock(
        features=RICH_TEXT_FEATURES,
        icon="pilcrow",
        template="articles/blocks/paragraph.html",
        description="Body text",
        preview_value="<p>Beijing's new procurement rules took effect in March.</p>",
        group="Text",
    )
    quote = QuoteBlock(group="Text")
    key_takeaways = KeyTakeawaysBlock(group="Text")
    image = ImageFigureBlock(group="Media")
    embed = EmbedBlock(
        icon="media",
        template="articles/blocks/embed.html",
        description="A video or post embedded from its URL",
        group="Media",
    )
    table = TableBlock(
        icon="table",
        template="articles/blocks/table.html",
        description="A table of figures with an optional caption",
        group="Data",
    )
    sources = SourcesBlock(group="Data")
    newsletter_signup = SignupBlock(group="Media")
