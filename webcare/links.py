"""One address per post: how the desk sees that two links point at the same thing.

The same article reaches the desk through a Google Alert (wrapped in a google.com/url redirect,
with tracking parameters), a news feed and an API. `canonical_url` undoes the wrapping and the
tracking so all three give one address, and intake derives the mention's id from it: the
second sighting is then the same mention, not a new one.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

# Redirectors that carry the real address in a query parameter.
_REDIRECTS = {
    ("www.google.com", "/url"): ("url", "q"),
    ("google.com", "/url"): ("url", "q"),
    ("news.google.com", "/url"): ("url", "q"),
    ("l.facebook.com", "/l.php"): ("u",),
    ("lm.facebook.com", "/l.php"): ("u",),
    ("out.reddit.com", "/"): ("url",),
    ("www.youtube.com", "/redirect"): ("q",),
}
# Query parameters that say who sent the reader, not what the page is.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_")
_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "igshid",
        "ved",
        "usg",
        "sa",
        "ust",
        "ref_src",
        "cmpid",
        "ocid",
        "si",
    }
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def unwrap(url: str) -> str:
    """The address a redirector link points at (Google Alerts, Facebook, Reddit), else `url`."""
    for _ in range(3):  # a redirect inside a redirect, at most a few deep
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        keys = _REDIRECTS.get((parts.hostname or "", parts.path))
        if keys is None:
            return url
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        target = next(
            (params[k] for k in keys if params.get(k, "").startswith(("http://", "https://"))), None
        )
        if target is None:
            return url
        url = unquote(target) if "%3A%2F%2F" in target.upper() else target
    return url


def canonical_url(url: str) -> str:
    """`url` unwrapped and without what varies between sightings of one page: the scheme's
    case, `www.`, a default port, tracking parameters, the fragment and a trailing slash.
    Returns "" for anything that is not an http(s) address."""
    url = unwrap(url.strip())
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower().removeprefix("www.")
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    path = parts.path.rstrip("/") or "/"
    # http and https are one page: the id must not change when a site moves to https.
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))
