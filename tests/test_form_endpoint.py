"""The form endpoint (``/leadgen/forms/<id>/``) finds its page in the process
cache, yet never posts to a page it must no longer take posts for: a view
restriction, an unpublished page and a page of another site are enforced on
the very next post."""

from __future__ import annotations

import pytest
from django.urls import reverse
from wagtail.models import PageViewRestriction, Site

from wagtail_leadgen.models import Submission
from wagtail_leadgen.models.freshness import form_cache

from .factories import make_landing_page, page_model
from .helpers import form_data

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"HTTP_ORIGIN": "http://testserver"}


def endpoint_post(client, page, email: str, **headers):
    data = form_data(client, page, email=email)
    url = reverse("wagtail_leadgen:form_submit", args=[page.pk])
    return client.post(url, data, **{**SAME_ORIGIN, **headers})


@pytest.fixture
def landing():
    return make_landing_page()


def test_the_page_is_found_in_the_cache_after_the_first_post(
    client, landing, django_assert_num_queries
):
    assert endpoint_post(client, landing, "ann@example.com").status_code == 303
    url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
    # A GET goes back to the page: the stamp only, the page is cached.
    with django_assert_num_queries(1):
        assert client.get(url, **SAME_ORIGIN).status_code == 302


def test_a_password_added_is_enforced_on_the_next_post(client, landing):
    data = form_data(client, landing, email="bo@example.com")
    assert endpoint_post(client, landing, "ann@example.com").status_code == 303
    assert len(form_cache)
    PageViewRestriction.objects.create(
        page=landing, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    assert len(form_cache) == 0  # the stamp changed
    url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
    response = client.post(url, data, **SAME_ORIGIN)
    assert response.status_code == 200  # Wagtail's password form
    assert "password" in response.content.decode().lower()
    assert Submission.objects.count() == 1


def test_a_password_on_a_parent_is_enforced_on_the_next_post(client):
    parent = make_landing_page()
    child = make_landing_page(parent=parent)
    assert endpoint_post(client, child, "ann@example.com").status_code == 303
    PageViewRestriction.objects.create(
        page=parent, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    response = client.post(
        reverse("wagtail_leadgen:form_submit", args=[child.pk]),
        {"email": "bo@example.com"},
        **SAME_ORIGIN,
    )
    assert response.status_code == 200
    assert "password" in response.content.decode().lower()
    assert Submission.objects.count() == 1


def test_a_removed_restriction_lets_posts_through_again(client, landing):
    restriction = PageViewRestriction.objects.create(
        page=landing, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    data = {"email": "ann@example.com"}
    url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
    assert client.post(url, data, **SAME_ORIGIN).status_code == 200
    restriction.delete()
    assert endpoint_post(client, landing, "ann@example.com").status_code == 303


def test_an_unpublished_page_is_gone_on_the_next_post(client, landing):
    data = form_data(client, landing, email="bo@example.com")
    assert endpoint_post(client, landing, "ann@example.com").status_code == 303
    landing.unpublish()
    url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
    assert client.post(url, data, **SAME_ORIGIN).status_code == 404
    assert Submission.objects.count() == 1


def test_a_deleted_page_is_gone_on_the_next_post(client, landing):
    data = form_data(client, landing, email="bo@example.com")
    assert endpoint_post(client, landing, "ann@example.com").status_code == 303
    url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
    page_model().objects.get(pk=landing.pk).delete()
    assert client.post(url, data, **SAME_ORIGIN).status_code == 404


@pytest.fixture
def other_site_page():
    """A landing page of a second site on the same server."""
    root = (
        page_model()
        .get_first_root_node()
        .add_child(instance=page_model()(title="Other home", slug="other-home"))
    )
    Site.objects.create(hostname="other.example", port=80, root_page=root)
    return make_landing_page(parent=root)


def test_a_page_of_another_site_is_not_posted_to_from_this_one(
    client, landing, other_site_page
):
    data = form_data(client, landing, email="ann@example.com")
    url = reverse("wagtail_leadgen:form_submit", args=[other_site_page.pk])
    assert client.post(url, data, **SAME_ORIGIN).status_code == 404
    # From its own site it is.
    response = client.post(
        url,
        data,
        HTTP_HOST="other.example",
        HTTP_ORIGIN="http://other.example",
    )
    assert response.status_code != 404
    # And this site's page is not posted to from the other one.
    url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
    response = client.post(
        url, data, HTTP_HOST="other.example", HTTP_ORIGIN="http://other.example"
    )
    assert response.status_code == 404
    assert not Submission.objects.filter(lead__email="ann@example.com").exists()


def test_a_new_site_takes_the_pages_under_it_at_once(client, landing):
    assert endpoint_post(client, landing, "ann@example.com").status_code == 303
    Site.objects.update(is_default_site=False)  # no signal: like another process
    site = Site.objects.get()
    site.hostname = "www.example.com"
    site.save()  # the stamp changes: testserver now has no site
    url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
    assert (
        client.post(url, {"email": "bo@example.com"}, **SAME_ORIGIN).status_code == 404
    )
