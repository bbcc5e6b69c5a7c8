"""The generation run: simulate hour by hour, deliver in stream order, report the truth."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

from generator import catalog
from generator.clock import (
    DAY,
    HOUR,
    MINUTE,
    TimestampFormatter,
    day_start_ms,
    hourly_rate,
    iso_utc,
    local_parts,
    poisson,
)
from generator.config import GeneratorConfig
from generator.delivery import Deliverer, GeneratedEntry
from generator.ids import IdFactory
from generator.malformed import MalformedFactory
from generator.records import Recorder
from generator.truth import Truth
from generator.web import WebSimulator
from generator.whatsapp import WhatsAppSimulator

# Volumes at scale 1.0 (about 120k stream entries per week in total).
WEB_VISITS_PER_WEEK = 11_500
CONVERSATIONS_PER_WEEK = 2_300
CAMPAIGN_RECIPIENTS = 40  # per campaign; campaigns go out on weekday mornings/afternoons
CAMPAIGN_HOURS = (10, 15)  # local hours a campaign may start
CAMPAIGN_PROBABILITY = 0.35  # per eligible hour
FINAL_OPEN_CONVERSATIONS = 2  # at least this many conversations are open at the end


class Generation:
    """An iterable over the stream entries of one run, in delivery order.

    Iterating runs the simulation (streaming, hour by hour); after a full iteration
    :attr:`truth` holds what was generated. Iterating again regenerates the same bytes.
    """

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.first_day: datetime.date = config.first_day()
        self._truth: Truth | None = None

    @property
    def truth(self) -> Truth:
        """The truth of the last complete iteration."""
        if self._truth is None:
            raise RuntimeError(
                "the truth is known only after the generation was iterated to the end: "
                "consume every entry first (e.g. for entry in generation: ...)"
            )
        return self._truth

    def __iter__(self) -> Iterator[GeneratedEntry]:
        return self._run()

    def _run(self) -> Iterator[GeneratedEntry]:
        config = self.config
        seed = config.seed

        def rng(name: str) -> random.Random:
            return random.Random(f"analytics-generator/{seed}/{name}")

        formatter = TimestampFormatter()
        start = day_start_ms(self.first_day)
        end = start + config.days * DAY
        cutoff = end - MINUTE  # the last event, and the WhatsApp watermark, are exactly here
        malformed = MalformedFactory(
            rng("malformed"), IdFactory(rng("malformed-ids")).event_id, formatter
        )
        deliverer = Deliverer(
            rng("delivery"),
            malformed,
            duplicate_share=config.duplicate_share,
            late_share=config.late_share,
            malformed_share=config.malformed_share,
        )
        recorder = Recorder(deliverer, formatter)
        ids = IdFactory(rng("ids"))
        web = WebSimulator(rng("web"), ids, recorder, formatter, cutoff)
        whatsapp = WhatsAppSimulator(rng("whatsapp"), ids, recorder, formatter, cutoff, web)
        arrivals = rng("arrivals")
        campaigns = rng("campaigns")
        web_per_week = WEB_VISITS_PER_WEEK * config.scale
        conversations_per_week = CONVERSATIONS_PER_WEEK * config.scale

        for hour in range(config.days * 24):
            hour_start = start + hour * HOUR
            hour_end = hour_start + HOUR
            units: list[tuple[int, int]] = []
            count = poisson(arrivals, hourly_rate(hour_start, web_per_week, "web"))
            units.extend((hour_start + arrivals.randrange(HOUR), 0) for _ in range(count))
            count = poisson(arrivals, hourly_rate(hour_start, conversations_per_week, "whatsapp"))
            units.extend((hour_start + arrivals.randrange(HOUR), 1) for _ in range(count))
            local_hour, weekday, _day = local_parts(hour_start)
            if (
                weekday < 5
                and local_hour in CAMPAIGN_HOURS
                and campaigns.random() < CAMPAIGN_PROBABILITY
            ):
                units.append((hour_start + campaigns.randrange(20 * MINUTE), 2))
            units.sort()
            for unit_start, kind in units:
                if unit_start > cutoff:
                    continue
                if kind == 0:
                    web.visit(unit_start)
                elif kind == 1:
                    whatsapp.conversation(unit_start)
                else:
                    recipients = max(1, poisson(campaigns, CAMPAIGN_RECIPIENTS * config.scale))
                    campaign_id = campaigns.choice(catalog.CAMPAIGNS)
                    whatsapp.campaign(unit_start, campaign_id, recipients)
            if hour_end >= end:
                extra = min(20, poisson(arrivals, 1.5 * config.scale))
                whatsapp.final_units(FINAL_OPEN_CONVERSATIONS + extra)
            yield from deliverer.flush(hour_end)
        yield from deliverer.drain()
        self._truth = _finish(config, self.first_day, start, end, recorder, deliverer)


def _finish(
    config: GeneratorConfig,
    first_day: datetime.date,
    start: int,
    end: int,
    recorder: Recorder,
    deliverer: Deliverer,
) -> Truth:
    truth = recorder.truth
    truth.config = {
        "days": config.days,
        "seed": config.seed,
        "start": first_day.isoformat(),
        "scale": config.scale,
        "duplicate_share": config.duplicate_share,
        "late_share": config.late_share,
        "malformed_share": config.malformed_share,
    }
    truth.period_start = iso_utc(start)
    truth.period_end = iso_utc(end)
    truth.entries_pushed = deliverer.entries
    truth.duplicate_deliveries = deliverer.duplicates
    truth.late_events = deliverer.late
    truth.rejected_by_reason = dict(deliverer.rejected_by_reason)
    truth.rejected_entries = sum(deliverer.rejected_by_reason.values())
    truth.events_by_name = dict(sorted(recorder.events_by_name.items()))
    truth.first_event_at = None if recorder.first_ts is None else iso_utc(recorder.first_ts)
    truth.last_event_at = None if recorder.last_ts is None else iso_utc(recorder.last_ts)
    truth.web.identified_users = len(recorder.user_ids)
    truth.web.app_errors = recorder.events_by_name.get("app_error", 0)
    truth.whatsapp.contacts = len(recorder.contacts)
    contacts_by_country: dict[str, int] = {}
    for contact in recorder.contacts:
        country = catalog.country_of_phone(contact)
        contacts_by_country[country] = contacts_by_country.get(country, 0) + 1
    truth.whatsapp.contacts_by_country = contacts_by_country
    truth.whatsapp.cross_channel_users = len(recorder.contacts & recorder.identify_phones)
    if recorder.whatsapp_last_ts is not None:
        truth.whatsapp.watermark = iso_utc(recorder.whatsapp_last_ts)
    _sort_keys(truth)
    if recorder.whatsapp_last_ts != end - MINUTE:
        raise AssertionError("the WhatsApp watermark is not where the margins assumed it")
    if truth.accepted_events + truth.duplicate_deliveries + truth.rejected_entries != (
        truth.entries_pushed
    ):
        raise AssertionError("entry counts do not add up")
    return truth


def _sort_keys(truth: Truth) -> None:
    """Dicts keyed by values found in the data (countries, agents, models...) in key order,
    so that ``to_dict()`` does not depend on the order things happened in."""
    for section, names in (
        (truth.web, ("session_duration_counts",)),
        (
            truth.whatsapp,
            (
                "contacts_by_country",
                "messages_by_country",
                "kra",
                "agents",
                "resolved_by_service",
                "wait_second_counts",
            ),
        ),
        (
            truth.ai,
            (
                "classifications_by_model",
                "generations_by_model",
                "errors_by_model",
                "errors_by_type",
                "latency_buckets",
                "latency_ms_sum",
                "latency_counts",
                "intents",
            ),
        ),
    ):
        for name in names:
            setattr(section, name, dict(sorted(getattr(section, name).items())))


def generate(config: GeneratorConfig) -> Generation:
    """The stream entries for ``config``, in delivery order; ``.truth`` after iterating."""
    return Generation(config)
