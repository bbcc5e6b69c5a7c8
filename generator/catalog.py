"""Reference data for the simulation: devices, places, people, pages, intents, phones.

Each user agent carries the labels the pipeline should derive from it: ``device_type`` is
what the truth counts; ``browser``/``os`` are the families ua-parser reports (a test checks
them), so the enrichment code can be tested against this table.
"""

from __future__ import annotations

from typing import NamedTuple


class UserAgent(NamedTuple):
    ua: str
    device_type: str  # mobile / desktop / tablet
    browser: str  # ua-parser user_agent.family
    os: str  # ua-parser os.family
    weight: float


USER_AGENTS: tuple[UserAgent, ...] = (
    UserAgent(
        "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.144 Mobile Safari/537.36",
        "mobile", "Chrome Mobile", "Android", 16,
    ),
    UserAgent(
        "Mozilla/5.0 (Linux; Android 12; TECNO KG5k) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/119.0.6045.163 Mobile Safari/537.36",
        "mobile", "Chrome Mobile", "Android", 14,
    ),
    UserAgent(
        "Mozilla/5.0 (Linux; Android 11; Infinix X6511) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/118.0.5993.111 Mobile Safari/537.36",
        "mobile", "Chrome Mobile", "Android", 10,
    ),
    UserAgent(
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A325F) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        "mobile", "Samsung Internet", "Android", 6,
    ),
    UserAgent(
        "Opera/9.80 (Android; Opera Mini/7.5.54678/191.227; U; en) Presto/2.12.423 Version/12.16",
        "mobile", "Opera Mini", "Android", 4,
    ),
    UserAgent(
        "Mozilla/5.0 (Linux; Android 10; itel A571W) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.144 Mobile Safari/537.36 OPR/79.1.4195.76694",
        "mobile", "Opera Mobile", "Android", 3,
    ),
    UserAgent(
        "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i;Android; rv:48.0) "
        "Gecko/48.0 Firefox/48.0 KAIOS/2.5",
        "mobile", "Firefox Mobile", "KaiOS", 1,
    ),
    UserAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "mobile", "Mobile Safari", "iOS", 6,
    ),
    UserAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
        "mobile", "Chrome Mobile iOS", "iOS", 2,
    ),
    UserAgent(
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/16.6 Mobile/15E148 Safari/604.1",
        "tablet", "Mobile Safari", "iOS", 1.5,
    ),
    UserAgent(
        "Mozilla/5.0 (Linux; Android 11; SM-T505) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.144 Safari/537.36",
        "tablet", "Chrome", "Android", 1.5,
    ),
    UserAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "desktop", "Chrome", "Windows", 17,
    ),
    UserAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        "desktop", "Edge", "Windows", 5,
    ),
    UserAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "desktop", "Firefox", "Windows", 3,
    ),
    UserAgent(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.1 Safari/605.1.15",
        "desktop", "Safari", "Mac OS X", 3,
    ),
    UserAgent(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "desktop", "Chrome", "Mac OS X", 2,
    ),
    UserAgent(
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "desktop", "Firefox", "Ubuntu", 1,
    ),
    UserAgent(
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "desktop", "Chrome", "Chrome OS", 0.5,
    ),
)  # fmt: skip

# Devices whose app sends explicit context.deviceType/browser/os: these win over the UA.
# The foldable's UA says "Mobile" but the app reports a tablet, so "explicit wins" matters.
EXPLICIT_DEVICES: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "Mozilla/5.0 (Linux; Android 13; SM-A145F Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36",
        {"deviceType": "mobile", "browser": "KRA App", "os": "Android"},
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-F946B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.144 Mobile Safari/537.36",
        {"deviceType": "tablet", "browser": "KRA App", "os": "Android"},
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148",
        {"deviceType": "mobile", "browser": "KRA App", "os": "iOS"},
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        {"deviceType": "desktop", "browser": "Kiosk", "os": "Windows"},
    ),
)

# (country, city or None, locale, weight). Mostly Kenya; diaspora and neighbours.
PLACES: tuple[tuple[str, str | None, str, float], ...] = (
    ("KE", "Nairobi", "en-KE", 48),
    ("KE", "Nairobi", "sw-KE", 6),
    ("KE", "Mombasa", "en-KE", 9),
    ("KE", "Kisumu", "en-KE", 6),
    ("KE", "Nakuru", "en-KE", 6),
    ("KE", "Eldoret", "en-KE", 5),
    ("KE", "Thika", "en-KE", 3),
    ("KE", "Machakos", "sw-KE", 2),
    ("KE", "Nyeri", "en-KE", 2),
    ("KE", "Kakamega", "sw-KE", 1.5),
    ("KE", "Malindi", "sw-KE", 1),
    ("KE", None, "en-KE", 2.5),
    ("UG", "Kampala", "en-UG", 1.5),
    ("TZ", "Dar es Salaam", "sw-TZ", 1.5),
    ("TZ", "Arusha", "sw-TZ", 0.5),
    ("RW", "Kigali", "en-RW", 0.5),
    ("GB", "London", "en-GB", 1),
    ("US", "Minneapolis", "en-US", 0.5),
    ("US", "Dallas", "en-US", 0.5),
    ("AE", "Dubai", "en-AE", 1),
    ("DE", "Berlin", "de-DE", 0.3),
    ("IN", "Mumbai", "en-IN", 0.2),
)

FIRST_NAMES = (
    "Wanjiru", "Achieng", "Kamau", "Otieno", "Mwangi", "Njeri", "Wambui", "Kiprono",
    "Chebet", "Akinyi", "Odhiambo", "Mutua", "Nduta", "Hassan", "Amina", "Fatuma", "Juma",
    "Baraka", "Imani", "Zawadi", "Wanjikũ", "Kipchumba", "Nyokabi", "Omondi", "Jeptoo",
    "Mohamed", "Grace", "Brian", "Faith", "Kevin", "Mercy", "Dennis", "Esther", "Njoki",
)  # fmt: skip
LAST_NAMES = (
    "Kamau", "Otieno", "Mwangi", "Wanjiku", "Ochieng", "Kiptoo", "Mutiso", "Njoroge",
    "Odhiambo", "Chepkoech", "Abdi", "Ali", "Wafula", "Barasa", "Kariuki", "Nyaga",
    "Muthoni", "Onyango", "Koech", "Ndungu", "Wekesa", "Lagat", "Mohamud", "Ng'ang'a",
)  # fmt: skip
# A few names with emoji or non-Latin script, for the unicode edge cases.
UNICODE_NAMES = (
    "Nyambura 🌸",
    "Wanjikũ Ng'ang'a",
    "Amani ✨ Otieno",
    "Zuhura Saïd",
    "Ἀλέξης Mwangi",
)
EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "kra.example")

# path -> title. Swahili titles and an emoji exercise unicode handling.
PAGE_TITLES: dict[str, str] = {
    "/": "Karibu — iTax Portal 👋",
    "/login": "Log in to iTax",
    "/help": "Help centre",
    "/help/faq": "Maswali yanayoulizwa mara kwa mara",
    "/help/contact": "Contact us",
    "/help/deadlines": "Filing deadlines",
    "/pin/register": "Register for a KRA PIN",
    "/tcc/apply": "Apply for a Tax Compliance Certificate",
    "/payments": "Make a payment",
    "/mri/start": "Monthly Rental Income — start",
    "/mri/details": "Rental income details",
    "/mri/review": "Review your MRI return",
    "/mri/submit": "Submit MRI return",
    "/mri/confirmation": "MRI return filed ✅",
    "/tot/start": "Turnover Tax — start",
    "/tot/details": "Turnover details",
    "/tot/payment": "Pay Turnover Tax",
    "/tot/submit": "Submit TOT return",
    "/tot/confirmation": "TOT return filed ✅",
    "/nil/start": "Wasilisha ritani ya NIL",
    "/nil/obligation": "Chagua wajibu wa kodi",
    "/nil/submit": "Submit NIL return",
    "/nil/confirmation": "Ritani ya NIL imewasilishwa ✅",
}
HELP_PAGES = ("/help", "/help/faq", "/help/contact", "/help/deadlines")
OTHER_PAGES = ("/pin/register", "/tcc/apply", "/payments")

REFERRERS: tuple[tuple[str | None, float], ...] = (
    (None, 30),
    ("", 8),
    ("https://www.google.com/", 35),
    ("https://www.facebook.com/", 7),
    ("https://t.co/", 3),
    ("https://wa.me/", 6),
    ("https://www.kra.go.ke/", 8),
    ("android-app://com.google.android.gm/", 3),
)

CLICK_ELEMENTS = (
    "button#continue", "button#continue", "button#continue", "a.nav-help", "button#save-draft",
    "a#download-guide", "button#back", "input#pin",
)  # fmt: skip
APP_ERRORS: tuple[tuple[str, str], ...] = (
    ("ValidationError", "KRA PIN format is invalid"),
    ("ValidationError", "Tarehe ya mwisho si sahihi"),
    ("NetworkError", "Failed to fetch /api/returns"),
    ("TimeoutError", "Request timed out after 30000 ms"),
    ("TypeError", "Cannot read properties of undefined (reading 'obligation')"),
)
SEARCH_TERMS = ("nil return", "pin", "penalty", "tcc", "withholding", "kodi ya nyumba", "tot")

# WhatsApp intents: (intent, journey or None, serviceName, how often the bot alone resolves)
INTENTS: tuple[tuple[str, str | None, str, float, float], ...] = (
    ("nil_return", "NIL", "Returns Filing", 0.55, 22),
    ("mri_filing", "MRI", "Rental Income", 0.35, 12),
    ("tot_filing", "TOT", "Turnover Tax", 0.35, 11),
    ("pin_registration", None, "PIN Services", 0.45, 12),
    ("password_reset", None, "iTax Access", 0.65, 13),
    ("tcc_application", None, "Compliance Certificates", 0.4, 8),
    ("payment_status", None, "Payments", 0.4, 9),
    ("penalty_waiver", None, "Payments", 0.15, 5),
    ("agent_request", None, "General Enquiries", 0.0, 5),
    ("greeting", None, "General Enquiries", 0.5, 3),
)
INTENT_NAMES = tuple(intent[0] for intent in INTENTS)
HANDOFF_REASONS = ("low_confidence", "user_requested", "complex_query", "complaint")
CLASSIFIER_MODELS = (("intent-clf-v3", 0.7), ("intent-clf-v4", 0.3))
GENERATION_MODELS = (("llama-3.1-8b-instruct", 0.6), ("gpt-4o-mini", 0.4))
AI_ERROR_TYPES = ("timeout", "rate_limited", "model_unavailable", "invalid_response")
AGENTS = tuple(f"agent-{number:02d}" for number in range(1, 9))
CAMPAIGNS = (
    "cmp-nil-deadline-reminder",
    "cmp-tot-monthly-reminder",
    "cmp-mri-deadline-reminder",
    "cmp-tcc-renewal",
)

# Phone number spaces: (calling code + fixed national prefix, digits after it, weight).
# Every number drawn is unique in a run (a bijection of a counter), and valid for
# phonenumbers (a test checks a sample).
PHONE_SPACES: tuple[tuple[str, int, float], ...] = (
    ("+2547", 8, 70),  # Kenya, Safaricom/Airtel 07xx
    ("+25411", 7, 10),  # Kenya, 011x
    ("+254100", 6, 3),  # Kenya, 0100
    ("+254101", 6, 2),  # Kenya, 0101
    ("+2557", 8, 3.5),  # Tanzania
    ("+25677", 7, 2),  # Uganda (MTN)
    ("+25670", 7, 1.5),  # Uganda (Airtel)
    ("+25078", 7, 2),  # Rwanda
    ("+2519", 8, 2),  # Ethiopia
    ("+4475", 8, 1.5),  # United Kingdom
    ("+97150", 7, 1),  # United Arab Emirates
    ("+12025", 6, 0.7),  # United States (Washington DC)
    ("+9198", 8, 0.8),  # India
)

# Calling code -> ISO 3166 alpha-2 country, for every space above (METRICS.md "Country").
# Calling codes are prefix-free, so at most one matches a number.
CALLING_CODES: dict[str, str] = {
    "+1": "US",
    "+44": "GB",
    "+91": "IN",
    "+250": "RW",
    "+251": "ET",
    "+254": "KE",
    "+255": "TZ",
    "+256": "UG",
    "+971": "AE",
}

# Ranges inside those codes that phonenumbers (and so the pipeline) puts in another region:
# Jersey and Isle of Man mobiles among the +4475 numbers (1 % of them each).
REGION_RANGES: dict[str, str] = {"+447509": "JE", "+447524": "IM"}


def country_of_phone(phone: str) -> str:
    """The ISO 3166 alpha-2 region phonenumbers gives an E.164 number of PHONE_SPACES."""
    for prefix, region in REGION_RANGES.items():
        if phone.startswith(prefix):
            return region
    for length in (2, 3, 4):
        country = CALLING_CODES.get(phone[:length])
        if country is not None:
            return country
    raise ValueError(f"{phone} has no calling code of PHONE_SPACES")
