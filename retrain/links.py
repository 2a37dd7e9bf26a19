r"""Links in answers: found wherever a client could make one, allowed only to listed domains.

The widget links `[label](https://...)` only; other clients linkify bare URLs or render HTML,
so all three are found: Markdown links, bare URLs (`https://...`, `www....`, `host.tld/path`)
and HTML `href`/`src` attributes, plus fields that are URLs themselves (`image`, `url`, ...).
A link is allowed when it is absolute `https:`, `http:` or `mailto:` and its host is a listed
domain or a subdomain of one (`example.com` allows `www.example.com`, never
`evil-example.com` or `example.com.evil.net`). The host is read the way browsers read it
(any number of `/` or `\` after the scheme, percent-escapes decoded); links a browser could
read differently (a backslash, `user@` before the host, a non-ASCII host) are refused.
`javascript:`, `vbscript:` and `data:` URLs are refused anywhere in a text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

SCHEMES = ("https", "http", "mailto")
URL_FIELDS = {"image", "url", "attachment", "src", "href", "link"}
# The widget's Markdown link (widget/src/widget.js INLINE), and a looser one for other renderers.
MARKDOWN = re.compile(r"\[([^\]\n]+)\]\(((?:[^\s()]|\([^\s()]*\))+)\)")
LOOSE_MARKDOWN = re.compile(r"\]\(\s*<?([^\s)>]+)")
END = r"[^\s<>\"'`)\]]*"
BARE = re.compile(
    r"(?<![\w@.+-])(?:[a-z][a-z0-9+.-]*://" + END + r"|mailto:" + END + r"|www\." + END
    + r"|(?:[a-z0-9-]+\.)+[a-z]{2,63}/" + END + ")",
    re.IGNORECASE,
)  # fmt: skip
ATTRIBUTE = re.compile(
    r"\b(?:href|src|action|formaction|xlink:href|srcset)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))",
    re.IGNORECASE,
)
SCRIPT_URL = re.compile(r"(?:java|vb)\s*script\s*:|\bdata:[^\s,]*,", re.IGNORECASE)
SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):(.*)", re.IGNORECASE | re.DOTALL)
HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
TRAILING = ".,;:!?"


@dataclass(frozen=True)
class Link:
    """A link found in a text: where it points and the label the reader sees (if any)."""

    target: str
    label: str | None  # the Markdown label, or the address as written for a bare URL
    kind: str  # markdown, url, html or field


def find_links(text: str) -> list[Link]:
    """Every link a client could make from `text`, in order, each target once."""
    found: list[Link] = []
    spans = []
    for match in MARKDOWN.finditer(text):
        found.append(Link(match.group(2), match.group(1), "markdown"))
        spans.append(match.span())
    for match in LOOSE_MARKDOWN.finditer(text):
        if not any(start <= match.start() < end for start, end in spans):
            found.append(Link(match.group(1), None, "markdown"))
    for match in ATTRIBUTE.finditer(text):
        value = next(g for g in match.groups() if g is not None)
        found.append(Link(value, None, "html"))
    for match in BARE.finditer(text):
        written = target = match.group().rstrip(TRAILING)
        if not SCHEME.match(target) or target.lower().startswith("www."):
            target = "http://" + target
        found.append(Link(target, written, "url"))
    seen: set[str] = set()
    unique = []
    for link in found:
        if link.target not in seen:
            seen.add(link.target)
            unique.append(link)
    return unique


def host_of(target: str) -> tuple[str, str]:
    """(scheme, host) of an absolute link as a browser reads it; ValueError saying why not."""
    cleaned = re.sub(r"[\t\n\r]", "", target.strip("".join(map(chr, range(33)))))
    match = SCHEME.fullmatch(cleaned)
    if not match:
        raise ValueError("not an absolute link (write https://...)")
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme not in SCHEMES:
        raise ValueError(f"{scheme}: links are not allowed (only https:, http: and mailto:)")
    if scheme == "mailto":
        address = unquote(re.split(r"[?#]", rest, maxsplit=1)[0])
        if address.count("@") != 1 or "," in address:
            raise ValueError("a mailto: link must hold exactly one address")
        host = address.rsplit("@", 1)[1]
    else:
        if "\\" in rest:
            raise ValueError("a backslash in a link (browsers read it as '/')")
        authority = re.split(r"[/?#]", rest.lstrip("/"), maxsplit=1)[0]
        if "@" in authority:
            raise ValueError("a user name or '@' before the host")
        host = re.sub(r":\d*$", "", authority)
    host = unquote(host).lower().rstrip(".")
    if not host.isascii():
        raise ValueError(f"the host {host!r} is not ASCII (look-alike letters?)")
    if not HOST.fullmatch(host):
        raise ValueError(f"the host {host!r} cannot be read as a domain name")
    return scheme, host


def allowed_host(host: str, domains: Iterable[str]) -> bool:
    """True when `host` is one of `domains` or a subdomain of one."""
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def link_problem(link: Link, domains: tuple[str, ...]) -> str | None:
    """Why a link is refused, or None."""
    shown = link.target if len(link.target) <= 80 else link.target[:77] + "..."
    try:
        _, host = host_of(link.target)
    except ValueError as error:
        return f"the link {shown!r} is refused: {error}"
    if allowed_host(host, domains):
        return None
    listed = ", ".join(domains) or "none"
    return (
        f"the link {shown!r} goes to {host}, which is not an allowed domain "
        f"(ANSWER_LINK_DOMAINS: {listed})"
    )


def text_problems(text: str, domains: tuple[str, ...]) -> list[str]:
    """Why an answer text's links are refused (empty when they are all allowed)."""
    problems = []
    if script := SCRIPT_URL.search(text):
        problems.append(f"{script.group()!r} URLs are refused")
    for link in find_links(text):
        if problem := link_problem(link, domains):
            problems.append(problem)
    return problems


def strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside a response variant, with the name of the field holding it."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from strings(item, str(name))
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, key)


def variant_links(variant: Any) -> list[Link]:
    """The links of one response variant: in its texts and its URL fields."""
    links = []
    for key, value in strings(variant):
        if key.lower() in URL_FIELDS:
            links.append(Link(value, None, "field"))
        else:
            links += find_links(value)
    return links


def response_problems(responses: dict[str, Any], domains: tuple[str, ...]) -> list[str]:
    """Why a model's answers are refused: `utter_...: <problem>` per refused link."""
    problems: list[str] = []
    for name in sorted(responses):
        for variant in responses[name] or []:
            for key, value in strings(variant):
                found: Sequence[str | None]
                if key.lower() in URL_FIELDS:
                    found = [link_problem(Link(value, None, "field"), domains)]
                else:
                    found = text_problems(value, domains)
                problems += [f"{name}: {p}" for p in found if p and f"{name}: {p}" not in problems]
    return problems


@functools.lru_cache(maxsize=8)
def _domains_in(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    with open(path, encoding="utf-8") as file:
        domain = yaml.safe_load(file) or {}
    hosts: set[str] = set()
    for variants in (domain.get("responses") or {}).values():
        for variant in variants or []:
            for link in variant_links(variant):
                try:
                    hosts.add(host_of(link.target)[1])
                except ValueError:
                    continue
    return tuple(sorted(hosts))


def domains_used(domain_file: Path) -> tuple[str, ...]:
    """The link hosts of a domain file's responses (the default of ANSWER_LINK_DOMAINS)."""
    if not domain_file.exists():
        return ()
    stat = domain_file.stat()
    return _domains_in(str(domain_file), stat.st_mtime_ns, stat.st_size)


def allowed_domains(settings: Any) -> tuple[str, ...]:
    """ANSWER_LINK_DOMAINS, or by default the hosts the project's domain.yml links to."""
    if settings.answer_link_domains is not None:
        return tuple(settings.answer_link_domains)
    return domains_used(settings.project / "domain.yml")
