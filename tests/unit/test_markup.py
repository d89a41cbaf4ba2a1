from html.parser import HTMLParser

import pytest

from server.markup import MAX_MENTIONS, mentions, render

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(1)">x</a>',
    "![x](javascript:alert(1))",
    '<svg/onload=alert(1)>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '[x](https://ok.example "t\\" onmouseover=\\"alert(1))',
    "<details open ontoggle=alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]


class ElementCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = ElementCollector()
    parser.feed(html)
    return parser.elements


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_rendered_markdown_never_carries_script(payload: str) -> None:
    """Dangerous input may survive as visible text, never as markup a browser would run."""
    for tag, attrs in elements(render(payload)):
        assert tag not in {"script", "iframe", "svg", "style", "details", "object", "embed"}, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (payload, tag, name)
            if name in ("href", "src"):
                assert value.split(":")[0].lower() in ("https", "http", "mailto") or ":" not in value, value


def test_script_tags_become_visible_text() -> None:
    html = render("<script>alert(1)</script>")
    assert elements(html) == [("p", {})]
    assert "&lt;script&gt;" in html


def test_ordinary_markdown_survives() -> None:
    html = render("# Title\n\n**bold** _it_ `code` [link](https://example.com)\n\n- a\n- b")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<code>code</code>" in html
    assert '<a href="https://example.com" rel="nofollow ugc noopener">link</a>' in html
    assert "<li>a</li>" in html


def test_mentions_link_to_profiles_outside_code_and_links() -> None:
    text = ("Thanks @ana_b, and @Bob! `@code` [ask @carl](https://example.com) ![@dee](x.png) "
            "mail me@erin.com\n\n```\n@fence\n```\n\n> as @Gus said\n\n@no @this_handle_is_far_"
            "too_long_to_be_one")
    html = render(text)
    linked = [attrs["href"] for tag, attrs in elements(html) if attrs.get("href", "").startswith("#")]
    assert linked == ["#/u/ana_b", "#/u/Bob", "#/u/Gus"]
    assert mentions(text) == ["ana_b", "bob", "gus"]


def test_a_quote_keeps_its_markdown() -> None:
    html = render("> **@ana** wrote:\n> grind *finer*\n\nI agree")
    assert html.startswith("<blockquote>\n<p><strong><a href=\"#/u/ana\"")
    assert "<em>finer</em></p>\n</blockquote>\n<p>I agree</p>" in html


def test_mentions_are_counted_once_and_capped() -> None:
    text = " ".join(f"@user{i} @USER{i}" for i in range(15))
    assert mentions(text) == [f"user{i}" for i in range(MAX_MENTIONS)]
