"""First pass at making a template translatable: wrap its visible text in ``{% trans %}``.

    python tools/i18n_wrap.py templates/authtuna/sso/*.html   # rewrites the files in place

Text between tags (with the ``{{ values }}`` inside it) becomes one ``{% trans %}`` block,
sentence-like string literals in expressions (``submit("Sign in")``, ``label="…"``) become
``_("…")``, and ``title``/``placeholder``/``aria-label``/``alt`` attributes get ``_()``. It is
a first pass: read the diff, then run ``make i18n`` and translate the new entries; the test
``tests/i18n/test_templates_translatable.py`` names whatever is still bare.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
LETTER = re.compile(r"[A-Za-z]")
ATTRS = ("title", "placeholder", "aria-label", "alt", "data-label")
STRING = re.compile(r"""(?<![=!]=\s)(?<!\bin\s)(?<![\w.])("([^"\\\n]*)"|'([^'\\\n]*)')""")


def sentence_like(text: str) -> bool:
    """A literal a person reads: letters, and a space or a capital first letter."""
    text = text.strip()
    if not LETTER.search(text) or text.startswith(("at-", "authtuna", "/", "#", "http")):
        return False
    if re.fullmatch(r"([A-Z][a-z]+){2,}", text):
        return False
    if re.fullmatch(r"[\w.\-:/]+", text) and not text[:1].isupper():
        return False
    if re.fullmatch(r"[A-Z_]+|[a-z]+(_[a-z]+)+", text):
        return False
    return " " in text or text[:1].isupper()


def wrap_literals(expr: str) -> str:
    """``"Sign in"`` inside a Jinja expression becomes ``_("Sign in")``."""
    def repl(m: re.Match[str]) -> str:
        body = m.group(2) if m.group(2) is not None else m.group(3)
        start = m.start()
        before = expr[:start].rstrip()
        if before.endswith(("_(", "==", "!=", " in", "trans")) or before.endswith("import"):
            return m.group(1)
        return f"_({m.group(1)})" if sentence_like(body) else m.group(1)
    return STRING.sub(repl, expr)


def var_name(expr: str, used: dict[str, str]) -> str:
    core = expr.split("|")[0].strip()
    base = re.sub(r"\W+", "_", core.split(".")[-1].split("(")[0]).strip("_") or "value"
    if not base[0].isalpha():
        base = "v_" + base
    name, i = base, 2
    while name in used and used[name] != expr:
        name, i = f"{base}{i}", i + 1
    used[name] = expr
    return name


def wrap_run(run: str) -> str:
    """One text run (text and ``{{ values }}``) as a trans block, if it has words."""
    literal = JINJA.sub("", run)
    if not LETTER.search(literal):
        return re.sub(r"\{\{.*?\}\}", lambda j: "{{" + wrap_literals(j.group(0)[2:-2]) + "}}",
                      run, flags=re.S)
    lead = run[: len(run) - len(run.lstrip())]
    trail = run[len(run.rstrip()):]
    body = run.strip()
    used: dict[str, str] = {}
    assigns: list[str] = []

    def var(m: re.Match[str]) -> str:
        expr = m.group(0)[2:-2].strip().strip("-").strip()
        if re.fullmatch(r"[A-Za-z_]\w*", expr):
            used[expr] = expr
            return "{{ " + expr + " }}"
        name = var_name(expr, used)
        assign = f"{name}={wrap_literals(expr)}"
        if assign not in assigns:
            assigns.append(assign)
        return "{{ " + name + " }}"

    body = re.sub(r"\{\{.*?\}\}", var, body, flags=re.S)
    opts = ", ".join(assigns)
    trimmed = " trimmed" if "\n" in body else ""
    head = "{% trans" + trimmed + (" " + opts if opts else "") + " %}"
    return f"{lead}{head}{body}{{% endtrans %}}{trail}"


def convert(source: str, text_only: bool) -> str:
    out: list[str] = []
    i, n = 0, len(source)
    run_start = 0
    in_tag = False
    trans_depth = 0

    def flush(end: int) -> None:
        run = source[run_start:end]
        if trans_depth or not run:
            out.append(run)
            return
        if text_only:
            parts = re.split(r"(\n\s*\n)", run)
            out.append("".join(p if k % 2 else wrap_run(p) for k, p in enumerate(parts)))
        else:
            out.append(wrap_run(run))

    while i < n:
        m = JINJA.match(source, i)
        if m and (in_tag or m.group(0).startswith("{{")):
            i = m.end()
            continue
        if m:
            if not in_tag:
                flush(i)
            token = m.group(0)
            if token.startswith(("{{", "{%")):
                if re.match(r"\{%-?\s*(trans|pluralize)\b", token):
                    trans_depth += 1 if "trans" in token[:10] else 0
                elif re.match(r"\{%-?\s*endtrans\b", token):
                    trans_depth -= 1
                if not re.match(r"\{%-?\s*(raw|trans|endtrans)\b", token):
                    token = token[:2] + wrap_literals(token[2:-2]) + token[-2:]
            out.append(token)
            i = m.end()
            if not in_tag:
                run_start = i
            continue
        ch = source[i]
        if not text_only and not in_tag and ch == "<":
            flush(i)
            in_tag = True
            tag_start = i
            i += 1
            continue
        if in_tag and ch == ">":
            in_tag = False
            tag = source[tag_start:i + 1]
            out_tag = JINJA.sub(lambda j: j.group(0)[:2] + wrap_literals(j.group(0)[2:-2])
                                + j.group(0)[-2:], tag)
            for attr in ATTRS:
                out_tag = re.sub(
                    rf'(\s{attr}=")([^"{{]*[A-Za-z][^"{{]*)(")',
                    lambda a: a.group(1) + '{{ _("' + a.group(2) + '") }}' + a.group(3), out_tag)
            out.append(out_tag)
            i += 1
            run_start = i
            continue
        i += 1  # tag text is appended whole when the tag closes
    if in_tag:
        out.append(source[tag_start:])
    else:
        flush(n)
    return "".join(out)


def main(paths: list[str]) -> int:
    for name in paths:
        path = Path(name)
        text_only = path.suffix == ".txt"
        path.write_text(convert(path.read_text(), text_only))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
