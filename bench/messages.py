"""Visitor messages composed from templates, each text new in the run.

The every-text-new load measures the bot when no message repeats one it has seen, so its
parse cache (`NLU_CACHE_SIZE`) cannot help. Texts are composed from templates and slot
values written for the bench (standards, sectors, company sizes, countries, phrasings,
typos), never taken from the test sets. One `SentTexts` is shared by every generator of
a run: a text is issued once, to either bot.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# A composer draws one message text of a kind.
Composer = Callable[[random.Random], str]
MAX_TRIES = 100

FIRST_NAMES = (
    "Ana", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kwame",
    "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sanjay", "Tamar", "Uma",
    "Viktor", "Wanjiru", "Xavier", "Yusuf", "Zofia", "Amara", "Bruno", "Carmen", "Dev",
    "Elif", "Femi", "Giulia", "Hassan", "Ivana", "Jakub", "Keiko", "Luis", "Mei", "Nikhil",
)  # fmt: skip
LAST_NAMES = (
    "Pereira", "Okafor", "Martin", "Novak", "Schmidt", "Tanaka", "Rossi", "Khan", "Mensah",
    "García", "Kowalski", "Nguyen", "Haddad", "Olsen", "Dubois", "Sato", "Mwangi", "Costa",
    "Ivanova", "Fischer", "Patel", "Moreau", "Yilmaz", "Lindqvist", "Abdi", "Brennan",
    "Castillo", "Demir", "Eriksen", "Fontaine", "Gupta", "Horvat", "Ito", "Jansen", "Kariuki",
)  # fmt: skip
STANDARDS = (
    "9001", "14001", "45001", "27001", "22000", "50001", "13485", "27701", "22301", "37001",
    "20000-1", "41001", "28000", "39001", "55001", "21001", "9001:2015", "14001:2015",
)  # fmt: skip
SECTORS = (
    "construction", "software", "food processing", "furniture", "trucking", "cleaning",
    "medical device", "plastics", "printing", "catering", "IT services", "engineering",
    "textile", "recycling", "security", "chemical", "electrical contracting", "hotel",
    "aerospace parts", "call centre", "laboratory", "farming", "automotive parts", "bakery",
    "packaging", "staffing", "architecture", "dental", "solar installation", "shipping",
)  # fmt: skip
COUNTRIES = (
    "Kenya", "India", "South Africa", "Brazil", "Germany", "Poland", "Vietnam", "Mexico",
    "Nigeria", "Canada", "Australia", "the UAE", "the Philippines", "Turkey", "Egypt",
    "Malaysia", "Chile", "Ireland", "Portugal", "Ghana", "Pakistan", "Indonesia", "Spain",
    "Romania", "the UK", "the US", "Morocco", "Peru", "Thailand", "Sweden",
)  # fmt: skip
CITIES = (
    "Lisbon", "Nairobi", "Pune", "Lagos", "Leeds", "Gdańsk", "Porto", "Accra", "Austin",
    "Lyon", "Osaka", "Monterrey", "Durban", "Cebu", "Izmir", "Perth", "Cork", "Valencia",
    "Kraków", "Hamburg", "Toronto", "Da Nang", "Recife", "Casablanca", "Malmö", "Cusco",
)  # fmt: skip
ROLES = (
    "manager", "boss", "quality lead", "client", "auditor", "purchasing team", "director",
    "customer", "colleague", "board", "business partner", "HR team",
)  # fmt: skip
PRODUCTS = (
    "packaging", "website", "business cards", "delivery vans", "invoices", "brochures",
    "email signature", "trade show banner", "product labels", "letterhead", "uniforms",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "corp.example")


class SentTexts:
    """The texts issued in a run, so that none is issued twice.

    Texts that differ only in case, spacing or punctuation count as the same text.
    """

    def __init__(self, already_sent: Iterable[str] = ()) -> None:
        """Start with `already_sent` (e.g. the readiness probe) counted as sent."""
        self._keys = {self.key(text) for text in already_sent}

    @staticmethod
    def key(text: str) -> str:
        """The text's words and numbers in lower case."""
        return " ".join(re.findall(r"\w+", text.lower()))

    def __len__(self) -> int:
        """How many texts were issued."""
        return len(self._keys)

    def claim(self, compose: Composer, rng: random.Random) -> str:
        """A text from `compose` that was not issued before, now counted as issued."""
        for _ in range(MAX_TRIES):
            text = compose(rng)
            if self.key(text) not in self._keys:
                self._keys.add(self.key(text))
                return text
        raise RuntimeError(f"no new text after {MAX_TRIES} tries: the templates are too few")


@dataclass(frozen=True)
class Plan:
    """A kind of conversation: its share of visits and the kind of each turn."""

    name: str
    weight: float
    turns: tuple[str, ...]


class NewTextVisitors:
    """Conversations whose every text is new in the run (a `ConversationSource`)."""

    def __init__(
        self, plans: tuple[Plan, ...], composers: dict[str, Composer], sent: SentTexts
    ) -> None:
        """Visits drawn by plan weight, each turn composed by its kind, all texts in `sent`."""
        self.plans, self.composers, self.sent = plans, composers, sent

    def conversation(self, rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
        """The plan's name and its turns as (kind, text)."""
        plan = rng.choices(self.plans, weights=[p.weight for p in self.plans])[0]
        return plan.name, [
            (kind, self.sent.claim(self.composers[kind], rng)) for kind in plan.turns
        ]

    def __call__(self, rng: random.Random) -> list[str]:
        """The texts of one conversation."""
        return [text for _, text in self.conversation(rng)[1]]


def fill(rng: random.Random, template: str) -> str:
    """Replace each {slot} of `template` by a value drawn for it (see SLOTS)."""
    return re.sub(r"\{(\w+)\}", lambda match: SLOTS[match.group(1)](rng), template)


def typo(rng: random.Random, text: str) -> str:
    """A typo in one word of 4+ letters: two letters swapped, or one dropped, doubled, changed."""
    words = text.split(" ")
    spots = [i for i, word in enumerate(words) if len(word) >= 4 and word.isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    word, at = words[i], rng.randrange(len(words[i]) - 1)
    slip = rng.randrange(4)
    if slip == 0:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    elif slip == 1:
        word = word[:at] + word[at + 1 :]
    elif slip == 2:
        word = word[:at] + word[at] + word[at:]
    else:
        word = word[:at] + rng.choice(string.ascii_lowercase) + word[at + 1 :]
    words[i] = word
    return " ".join(words)


def composer(
    templates: tuple[str, ...],
    openings: tuple[str, ...] = ("",),
    endings: tuple[str, ...] = ("",),
    typo_share: float = 0.2,
    lower_share: float = 0.3,
) -> Composer:
    """A composer of opening + filled template + ending, some with a typo, some lower case."""

    def compose(rng: random.Random) -> str:
        text = fill(rng, rng.choice(openings) + rng.choice(templates) + rng.choice(endings))
        if rng.random() < typo_share:
            text = typo(rng, text)
        if rng.random() < lower_share:
            text = text.lower()
        return text[0].upper() + text[1:] if rng.random() < 0.5 else text

    return compose


def standard(rng: random.Random) -> str:
    """A standard as visitors write it: "ISO 9001", "iso9001", "ISO/IEC 27001", "45001"."""
    number = rng.choice(STANDARDS)
    prefix = rng.choice(("ISO ", "ISO ", "iso ", "ISO", "ISO-", ""))
    if number.startswith(("27", "20000")) and rng.random() < 0.4:
        prefix = "ISO/IEC "
    return prefix + number


def company_size(rng: random.Random) -> str:
    """How visitors size their company: "12-person", "small", "250-staff"."""
    if rng.random() < 0.3:
        return rng.choice(("small", "family-run", "mid-sized", "start-up", "growing", "large"))
    return f"{rng.randint(2, 900)}-{rng.choice(('person', 'staff', 'employee'))}"


def person_name(rng: random.Random) -> str:
    """A visitor's name, sometimes with a middle initial or a title."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    middle = f" {rng.choice(string.ascii_uppercase)}." if rng.random() < 0.5 else ""
    title = rng.choice(("", "", "", "", "Dr ", "Ms ", "Mr "))
    name = f"{title}{first}{middle} {last}"
    return name.lower() if rng.random() < 0.15 else name


def email(rng: random.Random) -> str:
    """An address at a reserved example domain."""
    first, last = rng.choice(FIRST_NAMES).lower(), rng.choice(LAST_NAMES).lower()
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}", first))
    return f"{local}{rng.randint(1, 9999)}@{rng.choice(EMAIL_DOMAINS)}"


DAYS = ("on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday",
        "at the weekend", "tomorrow", "tonight")  # fmt: skip
MONTHS = ("January", "March", "May", "June", "September", "October", "November", "December")
HOURS = ("9am", "10am", "11am", "noon", "1pm", "2pm", "3pm", "4pm")
THINGS = ("laptop", "phone", "router", "printer", "car", "bike", "washing machine", "tablet",
          "watch")  # fmt: skip
FOODS = ("lasagne", "pancakes", "curry", "banana bread", "paella", "ramen", "falafel",
         "risotto", "brownies")  # fmt: skip
ANIMALS = ("cat", "dog", "parrot", "hamster", "rabbit", "goat")
SPORTS = ("football", "cricket", "basketball", "rugby", "tennis")


def one_of(values: tuple[str, ...]) -> Composer:
    """A slot drawing one of `values`."""
    return lambda rng: rng.choice(values)


SLOTS: dict[str, Composer] = {
    "std": standard,
    "std2": standard,
    "size": company_size,
    "sector": one_of(SECTORS),
    "country": one_of(COUNTRIES),
    "city": one_of(CITIES),
    "city2": one_of(CITIES),
    "role": one_of(ROLES),
    "product": one_of(PRODUCTS),
    "first": one_of(FIRST_NAMES),
    "day": one_of(DAYS),
    "month": one_of(MONTHS),
    "hour": one_of(HOURS),
    "thing": one_of(THINGS),
    "food": one_of(FOODS),
    "animal": one_of(ANIMALS),
    "sport": one_of(SPORTS),
    "n": lambda rng: str(rng.randint(2, 900)),
    "nnn": lambda rng: f"{rng.randrange(1000):03d}",
    "sites": lambda rng: str(rng.randint(2, 14)),
}

QUESTION_ENDINGS = ("?", "?", "?", "", "??", " ?", "? thanks", "? thank you", " please")
QUESTION_OPENINGS = (
    "", "", "", "", "hi, ", "hello, ", "quick question: ", "one more thing, ", "also ",
    "ok, and ", "sorry to bother you, ", "hey, ", "good morning, ", "question - ",
)  # fmt: skip
CONTEXTS = (
    "", "", "", "we're a {size} {sector} company in {country}. ", "my {role} asked me: ",
    "I work for a {sector} firm in {city}, ", "writing from {country}: ",
)  # fmt: skip
FAQ_TEMPLATES = (
    # does ISO itself certify
    "does ISO itself issue the {std} certificate",
    "will we get our {std} certificate straight from ISO",
    "can ISO in Geneva certify our {sector} company directly",
    "is the {std} certificate signed by ISO or by someone else",
    # who certifies
    "in {country}, which bodies hand out {std} certificates",
    "which organisation certifies a {size} {sector} company to {std}",
    "who do we contact to get {std} certified",
    "who is allowed to audit us for {std}",
    # what ISO is
    "what is ISO exactly, my {role} keeps mentioning it",
    "is ISO run by governments or is it private",
    "what do the three letters ISO mean",
    "where is ISO based and who runs it",
    # conformity assessment
    "what does conformity assessment mean for a {sector} company",
    "is an audit for {std} a kind of conformity assessment",
    "what counts as conformity assessment, tests, inspections or audits",
    # labs and bodies
    "how is a test laboratory different from a certifier",
    "does an inspection body do the same job as a certification body",
    "can a calibration lab issue an {std} certificate",
    # national bodies
    "which organisation publishes the national standards of {country}",
    "who represents {country} in ISO",
    "where do I buy the {std} standard in {country}",
    "does {country} have its own member of ISO",
    # CASCO
    "what is CASCO and what does it do",
    "which ISO committee writes the rules for certification bodies",
    "who sets the standards that certification bodies themselves follow",
    # accreditation
    "accreditation vs certification, which one is which",
    "how do I know a certification body in {country} is accredited",
    "who accredits the companies that certify to {std}",
    "should our {std} certificate carry an accreditation mark",
    # mandatory
    "is {std} required by law for {sector} companies in {country}",
    "do we have to get {std} or is it voluntary",
    "a tender asks for {std}, is that a legal obligation",
    "is it compulsory for a {size} {sector} firm to be {std} certified",
    # verifying a certificate
    "our supplier says they hold {std}, how do we make sure that is real",
    "where do I type in a certificate number to see if it is valid",
    "a {sector} vendor sent us an {std} certificate, how do we verify it",
    "is there a database of valid {std} certificates",
    # the ISO logo
    "are we allowed to show the ISO emblem on our {product}",
    "after {std} certification may we print the ISO logo on our {product}",
    "is there a rule about mentioning {std} on our {product}",
)  # fmt: skip
OFF_TOPIC_TEMPLATES = (
    "what's the weather going to be like in {city} {day}",
    "can you recommend a good place for {food} in {city}",
    "how do I reset the password on my {thing}",
    "book me a flight from {city} to {city2} {day}",
    "how long should I bake {food} for",
    "who won the {sport} game in {city}",
    "tell me a joke about a {animal}",
    "convert {n} euros into dollars",
    "what is a good name for a {animal}",
    "my {thing} won't turn on, what should I do",
    "is {city} worth visiting in {month}",
    "how many calories are in a portion of {food}",
    "what time is it in {city} right now",
    "can you play some music for my {animal}",
    "how many people live in {city}",
    "remind me to call {first} {day}",
)  # fmt: skip
GREETINGS = ("hi", "hello", "hey", "good morning", "good afternoon", "good evening", "hiya",
             "hello there", "hi there", "greetings", "morning", "hey there")  # fmt: skip
GREET_TEMPLATES = tuple(
    f"{greeting}{rest}"
    for greeting in GREETINGS
    for rest in (
        ", {first} here", " from {city}", ", this is {first} from {city}",
        ", {first} from {country}",
        " from a {size} {sector} company", " everyone, {first} speaking", " from sunny {city}",
    )
)  # fmt: skip
THANK_TEMPLATES = (
    "thanks, that helps with our {std} plans",
    "thank you, I'll pass that on to my {role}",
    "cheers, that clears it up for our {sector} team",
    "great, thanks a lot, {first} will be pleased",
    "many thanks, very useful for a {size} company like ours",
    "thanks, I'll share this with the {role} in {city}",
    "perfect, thank you, that answers my {std} question",
    "thx, good to know for our office in {city}",
)  # fmt: skip
REQUEST_HUMAN_TEMPLATES = (
    "can I talk to someone from your team about {std} for our {sector} company",
    "I'd rather speak to a person about {std} in {country}",
    "please put me in touch with a consultant, we're a {size} {sector} firm",
    "is there a human I can ask about {std} for {n} employees",
    "could one of your people contact me about {std} and {std2}",
    "I need to speak with an advisor about getting {std} in {city}",
)  # fmt: skip
CONTACT_QUESTION_TEMPLATES = (
    "We have {n} staff: roughly how many months until we could hold {std}?",
    "We are a {n}-person {sector} company in {country} looking at {std}: what would it cost?",
    "Could you quote {std} and {std2} together for {n} staff across {sites} sites?",
    "When could you start a gap analysis for {std} at our {city} office ({n} people)?",
    "What would an {std} audit involve for a {sector} business with {n} employees?",
    "Do you help {sector} firms of {n} staff prepare for {std}, and how long does it take?",
)  # fmt: skip
CONSENT_TEMPLATES = (
    "yes, that's fine",
    "yes please, email is best",
    "yes, go ahead",
    "sure, you can contact me",
    "yes, I agree",
    "ok, yes",
    "yes, that works for me",
    "of course, yes",
)  # fmt: skip
CONSENT_ENDINGS = ("", " thanks", ", I'm around {day}", ", best after {hour} {day}",
                   ", or call me on +44 20 7946 0{nnn}", " - {first} from {city}")  # fmt: skip
MOOD_GREAT_TEMPLATES = (
    "I'm feeling great, my {thing} finally works",
    "really good, I just got back from {city}",
    "amazing, we won the {sport} match",
    "I feel fantastic, I made {food} for {first}",
    "super happy today, {first} is visiting from {country}",
    "wonderful, my {animal} learned a new trick",
    "pretty great, I'm off to {city} {day}",
)  # fmt: skip
MOOD_UNHAPPY_TEMPLATES = (
    "not great, my {thing} broke again",
    "I'm a bit sad, my trip to {city} was cancelled",
    "feeling down, my {animal} is ill",
    "pretty bad, I burnt the {food}",
    "I feel miserable, {first} moved to {country}",
    "awful day, I missed the {sport} game",
    "quite unhappy, it rained all weekend in {city}",
)  # fmt: skip
AFFIRM_TEMPLATES = ("yes, that helped", "yes it did, thanks", "yeah, a little", "indeed it did",
                    "yes, that cheered me up", "it did, yes")  # fmt: skip
DENY_TEMPLATES = ("no, not really", "no, it didn't", "nope, still sad", "not at all",
                  "no, sorry", "I don't think so")  # fmt: skip
SIGN_OFFS = ("", "", " {first}", ", see you {day}", " :)", " - greetings from {city}",
             " - {first} from {city}", ", {first} ({city})",
             ", cheers from {city}, {first}")  # fmt: skip
BOT_CHALLENGE_TEMPLATES = ("are you a bot", "am I talking to a human", "is a person typing this",
                           "is this an automated chat", "are you a machine")  # fmt: skip
GOODBYE_TEMPLATES = ("bye, see you {day}", "goodbye and have a nice evening",
                     "see you later", "bye bye", "talk to you {day}", "good night")  # fmt: skip

CERTIFICATION_PLANS = (
    Plan("faq visit", 0.6, ("greet", "faq", "faq", "thank")),
    Plan("off-topic then faq", 0.25, ("off_topic", "faq")),
    Plan("contact request", 0.15,
         ("request_human", "contact_name", "contact_email", "contact_question", "consent")),
)  # fmt: skip
CERTIFICATION_COMPOSERS: dict[str, Composer] = {
    "greet": composer(GREET_TEMPLATES, endings=("", "", "!", "."), typo_share=0.1),
    "faq": composer(FAQ_TEMPLATES, tuple(
        opening + context for opening in QUESTION_OPENINGS for context in CONTEXTS),
        QUESTION_ENDINGS),
    "thank": composer(THANK_TEMPLATES, endings=SIGN_OFFS, typo_share=0.1),
    "off_topic": composer(OFF_TOPIC_TEMPLATES, QUESTION_OPENINGS, QUESTION_ENDINGS),
    "request_human": composer(REQUEST_HUMAN_TEMPLATES, QUESTION_OPENINGS, QUESTION_ENDINGS),
    "contact_name": person_name,
    "contact_email": email,
    "contact_question": composer(CONTACT_QUESTION_TEMPLATES, typo_share=0.1, lower_share=0),
    "consent": composer(CONSENT_TEMPLATES, endings=CONSENT_ENDINGS, typo_share=0),
}  # fmt: skip
MOOD_PLANS = (
    Plan("happy path", 0.25, ("greet", "mood_great", "goodbye")),
    Plan("sad path, helped", 0.25, ("greet", "mood_unhappy", "affirm")),
    Plan("sad path, not helped", 0.25, ("greet", "mood_unhappy", "deny")),
    Plan("bot challenge", 0.25, ("bot_challenge", "goodbye")),
)
MOOD_COMPOSERS: dict[str, Composer] = {
    "greet": CERTIFICATION_COMPOSERS["greet"],
    "mood_great": composer(MOOD_GREAT_TEMPLATES, endings=SIGN_OFFS),
    "mood_unhappy": composer(MOOD_UNHAPPY_TEMPLATES, endings=SIGN_OFFS),
    "affirm": composer(AFFIRM_TEMPLATES, endings=SIGN_OFFS, typo_share=0),
    "deny": composer(DENY_TEMPLATES, endings=SIGN_OFFS, typo_share=0),
    "bot_challenge": composer(BOT_CHALLENGE_TEMPLATES, endings=tuple(
        "?" + ending.lstrip(",") for ending in SIGN_OFFS)),
    "goodbye": composer(GOODBYE_TEMPLATES, endings=SIGN_OFFS),
}  # fmt: skip


def certification_visitors(sent: SentTexts) -> NewTextVisitors:
    """Our visitors, every text new: FAQ visits, off-topic then FAQ, contact requests.

    The same mix of conversations as the repeated-text load (bench/bots.py).
    """
    return NewTextVisitors(CERTIFICATION_PLANS, CERTIFICATION_COMPOSERS, sent)


def mood_visitors(sent: SentTexts) -> NewTextVisitors:
    """The peer's visitors, every text new, along the `rasa init` bot's stories and rules."""
    return NewTextVisitors(MOOD_PLANS, MOOD_COMPOSERS, sent)
