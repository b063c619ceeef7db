"""Collecting in the desk: one process collects, other desks attach and see what it stores."""

from __future__ import annotations

import asyncio
import time

from sources.poller import Poller
from sources.registry import build_sources
from store import Store
from tui.app import WebcareApp
from webcare.intake import Intake

DEMO = '[[sources]]\ntype = "demo"\nname = "demo"\nrate = "1/s"\nbacklog = 5\n'


def desk(config, clock=None) -> WebcareApp:
    store = Store(config.data_dir)
    sources = build_sources(config)
    intake = Intake(config)

    def make_poller(on_new):
        return Poller(sources, intake, store, on_new=on_new)

    kwargs = {"clock": clock} if clock else {}
    return WebcareApp(config, store, make_poller=make_poller, **kwargs)


async def wait_until(predicate, timeout: float) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_one_desk_collects_the_other_attaches_and_sees_arrivals(make_config):
    config = make_config(DEMO)
    first = desk(config)
    async with first.run_test(size=(80, 24)):
        await wait_until(lambda: first.queue.total >= 5, 10)
        assert first.collection.collecting
        second = desk(config)
        async with second.run_test(size=(80, 24)):
            assert not second.collection.collecting  # the first desk holds the collector lease
            assert second.queue.total >= 5
            target = first.queue.total + 2
            # new demo mentions (1/s) stored by the first desk show on the second within 2 s
            await wait_until(lambda: first.queue.total >= target, 10)
            ids = {m.id for m in first.queue}
            seen = await wait_until(lambda: ids <= {m.id for m in second.queue}, 2.5)
            assert seen <= 2.5
            # the second desk's header shows the collector's health (sources ok)
            await wait_until(lambda: "demo" in second.collection.health.get("sources", {}), 3)


async def test_poller_health_reaches_an_attached_desk(make_config):
    config = make_config(DEMO)
    store = Store(config.data_dir)
    poller = Poller(build_sources(config), Intake(config), store)
    await poller.poll_once()
    attached = WebcareApp(config, Store(config.data_dir), make_poller=None)
    async with attached.run_test(size=(80, 24)):
        assert attached.collection.health["sources"]["demo"]["state"] == "ok"
        assert attached.queue.total == 5


async def test_an_attached_desk_takes_over_when_the_collector_stops(make_config, monkeypatch):
    import tui.collection

    monkeypatch.setattr(tui.collection, "LEASE_RETRY", 0.3)
    config = make_config(DEMO)
    first = desk(config)
    async with first.run_test(size=(80, 24)):
        await wait_until(lambda: first.collection.collecting, 5)
        second = desk(config)
        async with second.run_test(size=(80, 24)):
            assert not second.collection.collecting
            first.store.release_collector_lease()  # as when the collecting desk quits
            first.workers.cancel_group(first, "poller")
            await wait_until(lambda: second.collection.collecting, 3)
            before = second.queue.total
            await wait_until(lambda: second.queue.total > before, 5)
