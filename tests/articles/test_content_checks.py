"""An article goes to review, or is published, only without dead links, pictures without alt
text or placeholders; a draft is saved whatever it holds. Through the real admin."""

import pytest
from wagtail.models import WorkflowState
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from articles.models import ArticlePage
from tests.articles.factories import ArticlePageFactory, AuthorFactory, ImageFactory
from tests.articles.test_admin import (
    add_url,
    article_form,
    new_article_fields,
)

pytestmark = pytest.mark.django_db


def body(*blocks) -> dict:
    return nested_form_data({"body": streamfield(list(blocks))})


def paragraph(html: str):
    return ("paragraph", rich_text(html))


def image_block(image, alt_text: str = ""):
    return ("image", {"image": str(image.pk), "alt_text": alt_text, "caption": "", "credit": ""})


@pytest.fixture
def author(db):
    return AuthorFactory(name="Li Wei", slug="li-wei")


def post_article(client, section, author, *blocks, **fields):
    """Create an article in the admin with this body, pressing the button `fields` name."""
    form = article_form(client, add_url(section), **new_article_fields(author, **fields))
    form.update(body(*blocks))
    return client.post(add_url(section), form)


def refusal(response) -> list[str]:
    """The form's own errors, as the editor reads them above the form."""
    assert response.status_code == 200, "the article was not refused"
    return list(response.context["form"].non_field_errors())


def submit(**fields) -> dict:
    return {"action-submit": "Submit", **fields}


def publish(**fields) -> dict:
    return {"action-publish": "Publish", **fields}


def test_a_writer_cannot_submit_an_article_with_a_tk(writer_client, section, author):
    response = post_article(
        writer_client, section, author, paragraph("<p>Exports fell TK per cent.</p>"), **submit()
    )

    assert refusal(response) == [
        "Fix these before the article goes to review or is published:",
        "Placeholder “TK” left in the body (paragraph block 1).",
    ]
    assert not ArticlePage.objects.exists()
    assert not WorkflowState.objects.exists()


def test_a_writer_can_save_that_draft_all_the_same(writer_client, section, author):
    response = post_article(
        writer_client, section, author, paragraph("<p>Exports fell TK per cent.</p>")
    )

    assert response.status_code == 302
    assert ArticlePage.objects.get().live is False


def test_placeholders_in_the_standfirst_are_named(writer_client, section, author):
    response = post_article(
        writer_client,
        section,
        author,
        paragraph("<p>Procurement rules took effect in March.</p>"),
        **submit(dek="Lorem ipsum, and XXX more"),
    )

    assert refusal(response)[1:] == [
        "Placeholder “Lorem” left in the standfirst.",
        "Placeholder “XXX” left in the standfirst.",
    ]


def test_an_editor_cannot_publish_an_article_linking_a_draft(editor_client, section, author):
    draft = ArticlePageFactory(parent=section, title="Half-written", live=False)
    link = paragraph(f'<p>As <a linktype="page" id="{draft.pk}">we wrote</a>.</p>')

    response = post_article(editor_client, section, author, link, **publish())

    assert refusal(response)[1:] == ["The body links “Half-written”, which readers cannot open."]
    assert not ArticlePage.objects.filter(live=True, slug="export-controls-year-two").exists()


def test_a_link_to_a_live_article_is_fine(editor_client, section, author):
    live = ArticlePageFactory(parent=section, title="Written")
    link = paragraph(f'<p>As <a linktype="page" id="{live.pk}">we wrote</a>.</p>')

    response = post_article(editor_client, section, author, link, **publish())

    assert response.status_code == 302
    assert ArticlePage.objects.get(slug="export-controls-year-two").live


def test_a_picture_without_alt_text_is_refused(editor_client, section, author):
    image = ImageFactory(title="DSC_0042.jpg", description="")

    response = post_article(editor_client, section, author, image_block(image), **publish())

    assert refusal(response)[1:] == [
        "The picture in the body (image block 1) has no alt text (only “DSC_0042.jpg”, a file "
        "name). Describe the image “DSC_0042.jpg” in its Description field."
    ]


def test_alt_text_on_the_block_is_enough(editor_client, section, author):
    image = ImageFactory(title="DSC_0042.jpg", description="")
    block = image_block(image, alt_text="Containers stacked at the port of Ningbo")

    response = post_article(editor_client, section, author, block, **publish())

    assert response.status_code == 302
    assert ArticlePage.objects.get(slug="export-controls-year-two").live


def test_a_hero_image_without_alt_text_is_refused(editor_client, section, author):
    image = ImageFactory(title="hero_final_v2", description="")

    response = post_article(
        editor_client,
        section,
        author,
        paragraph("<p>Procurement rules took effect in March.</p>"),
        **publish(hero_image=str(image.pk)),
    )

    assert "The picture in the hero image has no alt text" in refusal(response)[1]
