"""One question per FAQ topic (and other intents) with the answer it gets."""

from __future__ import annotations

TOPICS = [
    ("can ISO certify my company?", "utter_faq/iso_certifies"),
    ("who actually issues the certificates then", "utter_faq/who_certifies"),
    ("what is ISO exactly", "utter_faq/what_is_iso"),
    ("what does conformity assessment mean", "utter_faq/conformity_assessment"),
    ("can a testing laboratory check my product against an ISO standard",
     "utter_faq/labs_and_bodies"),
    ("do national standards bodies certify companies", "utter_faq/national_bodies"),
    ("what is CASCO", "utter_faq/casco"),
    ("what's the difference between accreditation and certification",
     "utter_faq/accreditation"),
    ("is certification required by law", "utter_faq/mandatory"),
    ("how do I know if a supplier's certificate is fake", "utter_faq/verify_certificate"),
    ("can we put the ISO logo on our website", "utter_faq/iso_logo"),
    ("what exactly is a certification body", "utter_faq/certification_body"),
    ("how many years does a certificate stay valid", "utter_faq/certification_cycle"),
    ("can we move our certificate to a different registrar",
     "utter_faq/certificate_transfer"),
    ("is being compliant the same as being certified", "utter_faq/compliant_vs_certified"),
    ("what does the CE mark mean", "utter_faq/ce_marking"),
    ("how much does certification cost", "utter_ask_quote"),
    ("do you run training courses for internal auditors?", "utter_ask_quote"),
    ("thanks a lot", "utter_you_are_welcome"),
    ("what can I ask you?", "utter_help"),
    ("are you a bot?", "utter_iamabot"),
    ("bye", "utter_goodbye"),
    ("what's the weather like in Paris tomorrow", "utter_out_of_scope"),
    ("how do I burn an ISO file to a USB stick", "utter_out_of_scope"),
    ("what ISO setting should I use for night photos", "utter_out_of_scope"),
]  # fmt: skip
