import re


def csrf_token(response) -> str:
    """The CSRF token of the first form on a page."""
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert m, "no csrf_token on the page"
    return m.group(1)
