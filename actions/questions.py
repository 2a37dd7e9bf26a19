"""The canonical question for each answer the bot can give.

Did-you-mean suggestions show these as buttons; a button sends its question as a visitor
message, so each question is also a training example of its intent (checked by tests).
"""

FAQ_QUESTIONS: dict[str, str] = {
    "faq/iso_certifies": "Does ISO issue certificates?",
    "faq/who_certifies": "Who issues ISO certificates?",
    "faq/what_is_iso": "What does ISO do?",
    "faq/conformity_assessment": "What is conformity assessment?",
    "faq/labs_and_bodies": "What do testing labs and certification bodies do?",
    "faq/national_bodies": "Do national standards bodies certify?",
    "faq/casco": "What is ISO/CASCO?",
    "faq/accreditation": "What is the difference between certification and accreditation?",
    "faq/mandatory": "Is certification mandatory?",
    "faq/verify_certificate": "How can I check a certificate is genuine?",
    "faq/iso_logo": "Can we use the ISO logo?",
    "faq/certification_body": "What is a certification body, and how do I choose one?",
    "faq/certification_cycle": "How long is a certificate valid?",
    "faq/certificate_transfer": "Can we transfer our certificate to another certification body?",
    "faq/compliant_vs_certified": "What is the difference between compliant and certified?",
    "faq/ce_marking": "What is CE marking?",
}

# Other intents worth suggesting, as (button title, payload).
INTENT_SUGGESTIONS: dict[str, tuple[str, str]] = {
    "ask_quote": ("How much does certification cost?", "How much does certification cost?"),
    "request_human": ("I'd like to talk to a person", "/request_human"),
    "help": ("What can I ask you?", "What can I ask you?"),
}
