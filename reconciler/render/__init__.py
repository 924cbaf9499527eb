"""Views of a plan: text like ``terraform plan``, versioned JSON, Markdown for a pull request.

Pure functions from a ``Plan`` (and the safety refusals, if any) to strings. They never print,
never read the clock or the environment, and never show a secret: a sensitive field is shown as
``(sensitive)``, or with the first characters of its keyed fingerprints when it changed.
"""

from reconciler.render.json import FORMAT_VERSION, plan_document, render_json
from reconciler.render.markdown import COMMENT_LIMIT, render_markdown
from reconciler.render.text import render_text

__all__ = [
    "COMMENT_LIMIT",
    "FORMAT_VERSION",
    "plan_document",
    "render_json",
    "render_markdown",
    "render_text",
]
