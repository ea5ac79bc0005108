"""Media on S3-compatible object storage, against a real S3 API (moto's server on 127.0.0.1).

What an editor uploads and every rendition readers are shown live in the bucket, are fetched
from there by readers' browsers, and are found by any other web machine without being made
again; nothing lands on the web machine's own disk.
"""

import io
import json
import urllib.request
import uuid

import boto3
import pytest
from django.core.cache import caches
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.images.models import Rendition

from articles.models import ArticlePage
from outlet.settings.base import object_storage_options, object_storage_origins
from tests.articles.factories import AuthorFactory
from tests.articles.test_admin import add_url, article_form, assert_no_form_errors
from tests.reader import read

pytestmark = pytest.mark.django_db
REGION = "us-east-1"


@pytest.fixture(scope="module")
def s3_endpoint():
    """A real S3 API over HTTP, for this module's tests."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch, tmp_path):
    """An empty bucket of the test's own, made the site's media storage as base.py would."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "outlet-test",
        "AWS_SECRET_ACCESS_KEY": "outlet-test-secret",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
    }.items():
        monkeypatch.setenv(name, value)
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    s3.create_bucket(Bucket=name)
    # Readers fetch media anonymously: the bucket lets anyone read its objects, as README says.
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))

    options = object_storage_options(name, endpoint_url=s3_endpoint, region=REGION)
    settings.STORAGES = {**settings.STORAGES, "default": storage_settings(options)}
    settings.MEDIA_ROOT = tmp_path / "media"
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"]}
    directives["img-src"] = [*directives["img-src"], *object_storage_origins(options)]
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    return s3, name


def public_read_policy(bucket: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def storage_settings(options: dict) -> dict:
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def keys(s3, bucket: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def photo(name: str = "ningbo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (1280, 720), "steelblue").save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def upload_as_editor(client):
    """The image, uploaded through the admin's add form as an editor does."""
    response = client.post(
        reverse("wagtailimages:add"),
        {
            "title": "Port of Ningbo",
            "description": "Cranes over the container terminal at dusk",
            "file": photo(),
            "collection": "1",
            "tags": "",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    return get_image_model().objects.get(title="Port of Ningbo")


def publish_with_hero(client, section, image) -> ArticlePage:
    author = AuthorFactory(name="Li Wei", slug="li-wei")
    fields = {
        "title": "Cranes and tariffs",
        "slug": "cranes-and-tariffs",
        "dek": "What the port's quiet cranes say about the trade talks.",
        "article_authors-0-author": str(author.pk),
        "hero_image": str(image.pk),
        "action-publish": "Publish",
    }
    response = client.post(add_url(section), article_form(client, add_url(section), **fields))
    assert_no_form_errors(response)
    article = ArticlePage.objects.get(slug="cranes-and-tariffs")
    assert article.live
    return article


def hero_src(soup) -> str:
    img = soup.select_one("main img")
    assert img is not None, "the article shows no image"
    return img["src"]


@pytest.fixture
def editor_client(editor):
    client = Client()
    client.force_login(editor)
    return client


def test_an_uploaded_image_and_its_renditions_are_served_from_the_bucket(
    bucket, editor_client, section, settings, s3_endpoint
):
    s3, name = bucket
    image = upload_as_editor(editor_client)
    assert image.file.name in keys(s3, name)

    publish_with_hero(editor_client, section, image)
    response = Client().get("/analysis/cranes-and-tariffs/")
    soup = read(Client(), "/analysis/cranes-and-tariffs/")

    src = hero_src(soup)
    assert src.startswith(f"{s3_endpoint}/{name}/images/"), src
    assert "?" not in src, "public media needs no signed query string"
    with urllib.request.urlopen(src, timeout=10) as served:  # noqa: S310 - the test's own server
        assert served.headers["Content-Type"].startswith("image/")
        assert served.headers["Cache-Control"] == settings.MEDIA_CACHE_CONTROL
        assert PILImage.open(io.BytesIO(served.read())).size[0] > 0
    stored = keys(s3, name)
    assert src.removeprefix(f"{s3_endpoint}/{name}/") in stored
    assert image.file.name in stored
    # The CSP lets readers' browsers load the image from there.
    assert s3_endpoint in response["Content-Security-Policy"].split("img-src")[1].split(";")[0]
    assert not (settings.MEDIA_ROOT).exists(), "nothing is written on the web machine"


def test_another_web_machine_finds_the_renditions_without_making_them_again(
    bucket, editor_client, section, settings
):
    s3, name = bucket
    image = upload_as_editor(editor_client)
    publish_with_hero(editor_client, section, image)
    first = hero_src(read(Client(), "/analysis/cranes-and-tariffs/"))
    stored = keys(s3, name)
    renditions = Rendition.objects.count()

    # Another machine: its own storage instance and an empty page cache. (The suite keeps no
    # renditions cache, so every rendition is looked up in the database, as on a cold machine.)
    with override_settings(STORAGES={**settings.STORAGES}):
        assert default_storage.exists(image.file.name)
        caches["pages"].clear()
        again = hero_src(read(Client(), "/analysis/cranes-and-tariffs/"))

    assert again == first
    assert Rendition.objects.count() == renditions
    assert keys(s3, name) == stored


def test_a_custom_domain_serves_media_through_the_cdn(bucket, editor_client, settings):
    s3, name = bucket
    options = object_storage_options(
        name,
        endpoint_url=settings.STORAGES["default"]["OPTIONS"]["endpoint_url"],
        region=REGION,
        custom_domain="media.outlet.example",
    )
    settings.STORAGES = {**settings.STORAGES, "default": storage_settings(options)}

    image = upload_as_editor(editor_client)
    rendition = image.get_rendition("fill-640x360|format-jpeg")

    assert rendition.url.startswith("https://media.outlet.example/images/")
    assert rendition.file.name in keys(s3, name)
    assert object_storage_origins(options) == ["https://media.outlet.example"]
