"""Web visitors: tax filers walking the MRI/TOT/NIL journeys, browsing help, logging in.

The unit of simulation is one visit (= one session). Margins keep the METRICS.md session
rules unambiguous: a person's visits are at least an hour apart, events of a visit
without a sessionId are less than 10 minutes apart and a visit lasts at most a few hours,
so sessionising sessionless events per user_key (30 min gap, 24 h cap) gives back
exactly the visits simulated. Events of a visit with a sessionId may pause longer
(a tab left open), which the sessionId rule must not split.
"""

from __future__ import annotations

import random
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from generator import catalog
from generator.clock import MINUTE, NAIROBI_OFFSET_MINUTES, TimestampFormatter, lognormal_ms
from generator.ids import IdFactory
from generator.journeys import JOURNEY_PAGES, JOURNEYS, steps_reached
from generator.records import Ev, Recorder
from generator.truth import count_value, whole_seconds

if TYPE_CHECKING:
    from generator.whatsapp import Contact

PERSON_POOL_MAX = 40_000
RETURN_GAP = 60 * MINUTE  # minimum time between two visits of one person
MAX_EVENT_GAP = 10 * MINUTE  # between consecutive events of a visit (idle pauses aside)
SESSIONLESS_SHARE = 0.12  # visits from the legacy SDK that sends no sessionId
ODD_OFFSETS = (345, -210, 60, 330, -300)  # +05:45, -03:30, +01:00, +05:30, -05:00
NEAR_LIMIT_STACK_BYTES = 60_000


class Device:
    __slots__ = ("anon_id", "context", "device_type", "linked", "pending")

    def __init__(self, anon_id: str, context: dict[str, Any], device_type: str) -> None:
        self.anon_id = anon_id
        self.context = context  # shared by every event from this device (never copied)
        self.device_type = device_type
        self.linked = False  # an accepted identify linked anon_id to the person's userId
        self.pending = 0  # sessions of this device not (yet) identified


class Person:
    __slots__ = (
        "user_id",
        "traits",
        "devices",
        "identified_once",
        "busy_until",
        "phone",
        "contact",
    )

    def __init__(self, user_id: str | None, traits: dict[str, Any] | None) -> None:
        self.user_id = user_id  # None: no account, never identifies
        self.traits = traits
        self.devices: list[Device] = []
        self.identified_once = False
        self.busy_until = 0
        self.phone: str | None = traits.get("phone") if traits else None
        self.contact: Contact | None = None  # their WhatsApp contact, once they write


def _weighted(items: tuple[Any, ...], weights: list[float]) -> tuple[list[Any], list[float]]:
    return list(items), list(accumulate(weights))


class WebSimulator:
    """Simulates visits and records them with their truth."""

    def __init__(
        self,
        rng: random.Random,
        ids: IdFactory,
        recorder: Recorder,
        formatter: TimestampFormatter,
        cutoff: int,
    ) -> None:
        self.rng = rng
        self.ids = ids
        self.recorder = recorder
        self.fmt = formatter.format
        self.cutoff = cutoff
        self.people: list[Person] = []
        # People with a phone in their traits, for cross-channel WhatsApp contacts.
        self.phone_people: list[Person] = []
        self.visits = 0
        web = recorder.truth.web
        web.funnel_sessions = {journey: [0] * len(steps) for journey, steps in JOURNEYS.items()}
        self._ua, self._ua_cum = _weighted(
            catalog.USER_AGENTS, [ua.weight for ua in catalog.USER_AGENTS]
        )
        self._places, self._places_cum = _weighted(
            catalog.PLACES, [place[3] for place in catalog.PLACES]
        )
        self._refs, self._refs_cum = _weighted(
            catalog.REFERRERS, [ref[1] for ref in catalog.REFERRERS]
        )

    # ----------------------------------------------------------------- people
    def _new_device(self) -> Device:
        rng = self.rng
        country, city, locale, _weight = rng.choices(self._places, cum_weights=self._places_cum)[0]
        context: dict[str, Any] = {}
        roll = rng.random()
        if roll < 0.05:
            ua, explicit = rng.choice(catalog.EXPLICIT_DEVICES)
            context["userAgent"] = ua
            context.update(explicit)
            device_type = explicit["deviceType"]
        elif roll < 0.055:
            device_type = "unknown"  # a client that sends no user agent at all
        else:
            agent = rng.choices(self._ua, cum_weights=self._ua_cum)[0]
            context["userAgent"] = agent.ua
            device_type = agent.device_type
        context["country"] = country
        if city is not None:
            context["city"] = city
        if rng.random() < 0.7:
            context["locale"] = locale
        return Device(self.ids.unique("a-"), context, device_type)

    def _new_person(self) -> Person:
        rng = self.rng
        if rng.random() < 0.45:
            first = rng.choice(catalog.FIRST_NAMES)
            last = rng.choice(catalog.LAST_NAMES)
            name = f"{first} {last}"
            if rng.random() < 0.01:
                name = rng.choice(catalog.UNICODE_NAMES)
            user_id = self.ids.unique("u-")
            local = f"{first}.{last}".lower().replace("'", "").replace("ũ", "u")
            traits: dict[str, Any] = {
                "email": f"{local}{rng.randrange(1, 999)}@{rng.choice(catalog.EMAIL_DOMAINS)}",
                "name": name,
            }
            if rng.random() < 0.8:
                traits["phone"] = self.ids.phone(*_kenyan_space(rng))
            person = Person(user_id, traits)
        else:
            person = Person(None, None)
        person.devices.append(self._new_device())
        if len(self.people) < PERSON_POOL_MAX:
            self.people.append(person)
        else:
            self.people[rng.randrange(PERSON_POOL_MAX)] = person
        if person.phone is not None:
            if len(self.phone_people) < PERSON_POOL_MAX:
                self.phone_people.append(person)
            else:
                self.phone_people[rng.randrange(PERSON_POOL_MAX)] = person
        return person

    def _pick_person(self, start: int) -> Person:
        rng = self.rng
        if self.people and rng.random() < 0.35:
            person = self.people[rng.randrange(len(self.people))]
            if person.busy_until + RETURN_GAP <= start:
                return person
        return self._new_person()

    # ----------------------------------------------------------------- visits
    def visit(self, start: int) -> None:
        """Simulate and record one visit starting at ``start`` (ms)."""
        rng = self.rng
        edge = self.visits == 0  # the first visit carries every valid edge case
        self.visits += 1
        if edge:
            person = self._edge_person()
            device = person.devices[0]
        else:
            person = self._pick_person(start)
            if len(person.devices) < 3 and person.user_id and rng.random() < 0.15:
                person.devices.append(self._new_device())
            device = person.devices[0] if rng.random() < 0.8 else rng.choice(person.devices)
        visit = _Visit(self, person, device, start, edge)
        events = visit.build()
        self._commit(person, device, events, visit.sessionless)

    def _edge_person(self) -> Person:
        person = Person(
            self.ids.unique("u-"),
            {
                "email": "nyambura.wanjiku@kra.example",
                "phone": self.ids.phone(*_kenyan_space(self.rng)),
                "name": catalog.UNICODE_NAMES[0],
            },
        )
        person.devices.append(self._new_device())
        self.people.append(person)
        self.phone_people.append(person)
        return person

    def _commit(self, person: Person, device: Device, events: list[Ev], sessionless: bool) -> None:
        cutoff = self.cutoff
        if events[-1].ts > cutoff:
            events = [ev for ev in events if ev.ts <= cutoff]
            if not events:
                return
        person.busy_until = max(person.busy_until, events[-1].ts)
        web = self.recorder.truth.web
        web.sessions += 1
        duration = max(ev.ts for ev in events) - min(ev.ts for ev in events)
        count_value(web.session_duration_counts, whole_seconds(duration))
        web.session_duration_ms_sum += duration
        if sessionless:
            web.sessionless_sessions += 1
        page_views = 0
        converted: set[str] = set()
        only_views = True
        has_user = False
        identify = False
        for ev in events:
            doc = ev.doc
            name = doc["name"]
            if name == "page_view":
                page_views += 1
            elif name == "session.converted":
                converted.add(doc["properties"]["journey"])
                only_views = False
            elif name == "identify":
                identify = True
                only_views = False
            elif name != "session.start":
                only_views = False
            if doc.get("userId"):
                has_user = True
        web.page_views += page_views
        if converted:
            web.converted_sessions += 1
            for journey in converted:
                web.converted_by_journey[journey] += 1
        elif page_views == 1 and only_views:
            web.bounces += 1
        if identify and not device.linked:
            device.linked = True
            web.sessions_identified += device.pending
            device.pending = 0
        if has_user or device.linked:
            web.sessions_identified += 1
        else:
            device.pending += 1
        web.sessions_by_device_type[device.device_type] += 1
        path_events = [
            (ev.ts, ev.doc["name"], ev.doc.get("properties", {}).get("path"))
            for ev in events
            if ev.doc["name"] in ("page_view", "session.converted")
        ]
        for journey, steps in JOURNEYS.items():
            reached = steps_reached(path_events, steps)
            counts = web.funnel_sessions[journey]
            for index in range(reached):
                counts[index] += 1
        self.recorder.record(events)


def _kenyan_space(rng: random.Random) -> tuple[str, int]:
    return ("+2547", 8) if rng.random() < 0.85 else ("+25411", 7)


class _Visit:
    """Builds the events of one visit, advancing its own clock."""

    def __init__(self, sim: WebSimulator, person: Person, device: Device, start: int, edge: bool):
        rng = sim.rng
        self.sim = sim
        self.rng = rng
        self.person = person
        self.device = device
        self.t = start
        self.edge = edge
        self.events: list[Ev] = []
        self.sessionless = not edge and rng.random() < SESSIONLESS_SHARE
        self.session_id = None if self.sessionless else sim.ids.unique("s-")
        self.null_session = self.sessionless and rng.random() < 0.5  # "sessionId": null
        self.explicit_channel = rng.random() < 0.03
        self.idle_pause = not self.sessionless and rng.random() < 0.02
        self.user_id: str | None = None
        self.plan_identify = False
        if person.user_id is not None:
            if person.identified_once and rng.random() < 0.6:
                self.user_id = person.user_id  # logged in from the start
            elif not device.linked and rng.random() < (0.35 if person.identified_once else 0.55):
                self.plan_identify = True
        if edge:
            self.user_id = None
            self.plan_identify = True

    # --------------------------------------------------------------- emitters
    def _stamp(self) -> str:
        roll = self.rng.random()
        if self.edge and len(self.events) in (1, 2, 3):
            return self.sim.fmt(self.t, ODD_OFFSETS[len(self.events) - 1])
        if roll < 0.89:
            return self.sim.fmt(self.t, NAIROBI_OFFSET_MINUTES)
        if roll < 0.99:
            return self.sim.fmt(self.t, None)
        return self.sim.fmt(self.t, self.rng.choice(ODD_OFFSETS))

    def emit(
        self,
        name: str,
        properties: dict[str, Any] | None,
        traits: dict[str, Any] | None = None,
    ) -> None:
        doc: dict[str, Any] = {
            "eventId": self.sim.ids.event_id(),
            "name": name,
            "timestamp": self._stamp(),
        }
        if self.explicit_channel:
            doc["channel"] = "web"
        if self.sessionless:
            if self.user_id is not None:
                doc["userId"] = self.user_id
            doc["anonymousId"] = self.device.anon_id
            if self.null_session:
                doc["sessionId"] = None
        else:
            doc["userId"] = self.user_id
            doc["anonymousId"] = self.device.anon_id
            doc["sessionId"] = self.session_id
        if properties is not None:
            doc["properties"] = properties
        doc["context"] = self.device.context
        if traits is not None:
            doc["traits"] = traits
        self.events.append(Ev(self.t, doc, "web"))

    def advance(self, median_ms: int = 20_000) -> None:
        self.t += lognormal_ms(self.rng, median_ms, 0.9, 300, MAX_EVENT_GAP)

    def page(self, path: str, referrer: str | None = None) -> None:
        title = catalog.PAGE_TITLES.get(path, "iTax")
        self.emit("page_view", {"path": path, "title": title, "referrer": referrer})

    def click(self, element: str, path: str) -> None:
        self.emit("click", {"element": element, "path": path})

    def referrer(self) -> str | None:
        sim = self.sim
        return self.rng.choices(sim._refs, cum_weights=sim._refs_cum)[0][0]

    def identify(self) -> None:
        person = self.person
        assert person.user_id is not None and person.traits is not None
        self.user_id = person.user_id
        self.emit("identify", None, person.traits)
        person.identified_once = True
        self.plan_identify = False

    def login(self) -> None:
        self.advance()
        self.page("/login", None)
        self.advance(30_000)
        self.click("button#login", "/login")
        self.t += self.rng.randrange(300, 2500)
        self.identify()

    def maybe_idle(self) -> None:
        if self.idle_pause:
            self.idle_pause = False
            self.t += self.rng.randrange(35 * MINUTE, 120 * MINUTE)  # only with a sessionId

    def app_error(self, path: str) -> None:
        rng = self.rng
        error_type, message = rng.choice(catalog.APP_ERRORS)
        properties: dict[str, Any] = {"errorType": error_type, "message": message, "path": path}
        if self.edge or rng.random() < 0.0005:
            frame = (
                "    at submitReturn (https://itax.kra.example/static/js/main.9f3c1.js:1:24873)\n"
            )
            properties["stack"] = (frame * (NEAR_LIMIT_STACK_BYTES // len(frame) + 1))[
                :NEAR_LIMIT_STACK_BYTES
            ]
        self.emit("app_error", properties)

    # ------------------------------------------------------------------ flows
    def build(self) -> list[Ev]:
        rng = self.rng
        if not self.sessionless:
            self.emit("session.start", None)
            self.t += rng.randrange(50, 800)
        roll = rng.random()
        if self.edge:
            self.edge_visit()
        elif roll < 0.22:
            self.bounce()
        elif roll < 0.82:
            self.journey(rng.choices(("MRI", "TOT", "NIL"), (0.3, 0.25, 0.45))[0])
        else:
            self.browse()
        return self.events

    def bounce(self) -> None:
        rng = self.rng
        options = ("/", "/nil/start", "/help/deadlines", "/mri/start", "/tot/start", "/help")
        self.page(rng.choice(options), self.referrer())

    def browse(self) -> None:
        rng = self.rng
        entry = rng.choice(("/", "/help", "/help/faq", "/payments"))
        self.page(entry, self.referrer())
        if self.plan_identify and rng.random() < 0.5:
            self.login()
        for _ in range(rng.randrange(1, 5)):
            self.advance()
            roll = rng.random()
            if roll < 0.25:
                term = rng.choice(catalog.SEARCH_TERMS)
                self.emit("search", {"query": term, "path": entry, "results": rng.randrange(0, 40)})
                self.advance(8_000)
            elif roll < 0.45:
                self.click(rng.choice(catalog.CLICK_ELEMENTS), entry)
                self.advance(4_000)
            self.maybe_idle()
            entry = rng.choice(catalog.HELP_PAGES + catalog.OTHER_PAGES)
            self.page(entry)
        if rng.random() < 0.1:
            self.advance()
            self.emit("document.download", {"document": "filing-guide.pdf", "path": entry})

    def journey(self, journey: str) -> None:
        rng = self.rng
        pages = JOURNEY_PAGES[journey]
        entry_roll = rng.random()
        if entry_roll < 0.45:
            self.page("/", self.referrer())
            self.advance()
        elif entry_roll < 0.57:
            self.page("/login", self.referrer())
            self.advance()
            if self.plan_identify:
                self.click("button#login", "/login")
                self.t += rng.randrange(300, 2500)
                self.identify()
                self.advance()
        elif entry_roll < 0.65:
            # Bookmarked a later step: it comes before step 1, so it must not count.
            self.page(pages[rng.randrange(1, len(pages) - 1)], self.referrer())
            self.advance()
        if self.plan_identify and rng.random() < 0.7:
            self.login()
            self.advance()
        self.page(pages[0], self.referrer() if entry_roll >= 0.65 else None)
        step = 0
        last_step = len(pages) - 2  # the submit page; the last page is the confirmation
        while True:
            self.advance(45_000)
            self.maybe_idle()
            path = pages[step]
            if rng.random() < 0.7:
                self.click("button#continue", path)
                self.advance(2_000)
            if step in (1, 2) and rng.random() < 0.06:
                self.app_error(path)
                self.advance(10_000)
                if rng.random() < 0.4:
                    return  # gave up after the error
            if rng.random() > (0.80, 0.78, 0.85, 0.9, 0.9)[step]:
                if rng.random() < 0.3:
                    self.page(rng.choice(catalog.HELP_PAGES))
                return  # dropped off
            if step > 0 and rng.random() < 0.05:
                self.page(pages[step - 1])  # back button, then forward again
                self.advance()
            if step == last_step:
                break
            step += 1
            self.page(pages[step])
        self.page(pages[-1])
        self.t += rng.randrange(100, 1500)
        goal = "payment_made" if journey == "TOT" and rng.random() < 0.5 else "return_filed"
        converted = {"journey": journey, "goal": goal, "path": pages[-1]}
        self.emit("session.converted", converted)
        if rng.random() < 0.02:  # a double-fired conversion: the session still counts once
            self.t += rng.randrange(100, 3000)
            self.emit("session.converted", converted)
        if rng.random() < 0.3:
            self.advance()
            self.emit("document.download", {"document": "acknowledgement.pdf", "path": pages[-1]})
        if rng.random() < 0.15:
            self.advance()
            self.page("/")

    def edge_visit(self) -> None:
        """Valid edge cases: odd offsets, unicode, a property near the size limit,
        explicit nulls and an explicit channel."""
        self.explicit_channel = True
        self.page("/", "")
        self.advance()
        self.login()
        self.advance()
        self.page("/nil/start")
        self.advance()
        self.page("/nil/obligation")
        self.advance()
        self.app_error("/nil/obligation")
        self.advance()
        self.emit(
            "search", {"query": "ritani ya kodi 🇰🇪", "path": "/nil/obligation", "results": None}
        )
