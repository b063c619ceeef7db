"""The channel vocabulary: where a mention was posted.

Every source names the channel of what it fetched; the norm (2-4-8) is looked up by channel.
"""

from __future__ import annotations

CHANNELS: tuple[str, ...] = (
    "x",
    "facebook",
    "instagram",
    "linkedin",
    "mastodon",
    "bluesky",
    "youtube",
    "reddit",
    "email",
    "news",
    "web",
    "other",
)

# Names people write that mean one of ours.
ALIASES: dict[str, str] = {
    "twitter": "x",
    "tweet": "x",
    "fb": "facebook",
    "mast": "mastodon",
    "bsky": "bluesky",
    "yt": "youtube",
    "li": "linkedin",
    "ig": "instagram",
    "e-mail": "email",
    "mail": "email",
    "rss": "news",
    "blog": "web",
}

# Short labels for a narrow stream row (max 4 cells).
SHORT: dict[str, str] = {
    "x": "X",
    "facebook": "FB",
    "instagram": "IG",
    "linkedin": "LI",
    "mastodon": "MAST",
    "bluesky": "BSKY",
    "youtube": "YT",
    "reddit": "RDT",
    "email": "MAIL",
    "news": "NEWS",
    "web": "WEB",
    "other": "?",
}


def normalize_channel(name: str) -> str:
    """The canonical channel for `name`; raises ValueError for an unknown one."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in CHANNELS:
        raise ValueError(f"unknown channel {name!r} (known: {', '.join(CHANNELS)}; twitter is an alias of x)")
    return key
