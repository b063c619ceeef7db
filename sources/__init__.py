"""Where mentions come from: one module per channel, each turning what it fetches into
webcare Mentions; `sources.poller` runs them all concurrently."""
