"""Gated downloads: only through a valid, expiring, use-limited link bound to a submission."""

import pytest
from django.core.signing import TimestampSigner
from django.test import override_settings
from django.urls import reverse

from wagtail_leadgen.models import DownloadGrant
from wagtail_leadgen.services.downloads import revoke_downloads
from wagtail_leadgen.tokens import DOWNLOAD_SALT, make_form_token

from .factories import PDF_BYTES, make_document, make_ebook_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def download_url(post_form):
    page = make_ebook_page()
    response = post_form(page, email="ann@example.com")
    token = response["Location"].split("download=", 1)[1]
    return reverse("wagtail_leadgen:download", args=[token])


def test_a_valid_link_returns_the_real_file_as_a_private_attachment(
    client, download_url
):
    response = client.get(download_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Disposition"] == 'attachment; filename="the-guide.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_token_holds_no_personal_data(download_url):
    token = download_url.rstrip("/").rsplit("/", 1)[1]
    assert "ann" not in token.lower()
    grant = DownloadGrant.objects.get()
    assert token.split(":")[0] == grant.key.hex


def test_a_tampered_link_is_refused_with_a_way_back(client, download_url):
    response = client.get(download_url[:-3] + "xx/")
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert b'href="/"' in response.content


def test_a_token_made_for_another_purpose_is_refused(client):
    page = make_ebook_page()
    form_token = make_form_token(page.pk, {})
    response = client.get(reverse("wagtail_leadgen:download", args=[form_token]))
    assert response.status_code == 400


def test_an_expired_link_is_refused_with_410(client, download_url):
    with override_settings(WAGTAIL_LEADGEN={"DOWNLOAD_LINK_MAX_AGE": -1}):
        response = client.get(download_url)
    assert response.status_code == 410
    assert b"expired" in response.content


def test_a_link_works_a_limited_number_of_times(client, download_url):
    grant = DownloadGrant.objects.get()
    for _ in range(grant.max_uses):
        assert client.get(download_url).status_code == 200
    response = client.get(download_url)
    assert response.status_code == 410


def test_head_does_not_spend_a_use(client, download_url):
    response = client.head(download_url)
    assert response.status_code == 200
    assert DownloadGrant.objects.get().uses == 0
    client.get(download_url)
    assert DownloadGrant.objects.get().uses == 1


def test_post_is_not_allowed(client, download_url):
    assert client.post(download_url).status_code == 405


def test_revoking_a_submission_s_downloads_stops_the_link(client, download_url):
    revoke_downloads(DownloadGrant.objects.get().submission)
    assert client.get(download_url).status_code == 410


def test_erasing_the_submission_stops_the_link(client, download_url):
    DownloadGrant.objects.get().submission.delete()
    assert client.get(download_url).status_code == 410


def test_a_signed_key_of_the_wrong_shape_is_refused(client):
    token = TimestampSigner(salt=DOWNLOAD_SALT).sign("not-a-grant-key")
    response = client.get(reverse("wagtail_leadgen:download", args=[token]))
    assert response.status_code == 400


def test_the_raw_document_url_never_appears_in_offer_or_thank_you_pages(
    client, post_form
):
    page = make_ebook_page()
    document_url = page.document.url
    assert document_url not in client.get(page.url).content.decode()
    response = post_form(page, email="ann@example.com")
    thank_you = client.get(response["Location"]).content.decode()
    assert document_url not in thank_you
    assert page.document.file.name not in thank_you


def test_wagtail_s_own_document_url_refuses_anonymous_visitors(client):
    page = make_ebook_page()
    response = client.get(page.document.url)
    assert response.status_code in (302, 403, 404)
    assert response.get("Content-Disposition") is None


def test_a_gated_document_stays_private_even_if_its_collection_loses_privacy(client):
    document = make_document(restricted=False)
    page = make_ebook_page(document=make_document())
    type(page).objects.filter(pk=page.pk).update(document=document)
    response = client.get(document.url)
    assert response.status_code == 404


def test_an_expired_link_leads_back_to_the_offer_to_ask_again(client, post_form):
    page = make_ebook_page()
    response = post_form(page, email="ann@example.com")
    token = response["Location"].split("download=", 1)[1]
    with override_settings(WAGTAIL_LEADGEN={"DOWNLOAD_LINK_MAX_AGE": -1}):
        response = client.get(reverse("wagtail_leadgen:download", args=[token]))
    assert response.status_code == 410
    assert f'href="{page.url}"'.encode() in response.content
    assert response["X-Robots-Tag"] == "noindex, nofollow"
