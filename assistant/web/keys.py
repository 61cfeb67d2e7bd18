"""The API key in the browser: the field it is typed in, the rule it is checked by, and how the chat's
upload gets its pass. The same rule as the JSON API's writing actions (`guard.Access`)."""

from assistant.pipeline import Assistant
from assistant.web.guard import Guard, client_host

WRITE_REFUSED = (
    "Adding articles and running evaluations need the API key (or a browser on the server's machine "
    "when no keys are set)."
)
KEY_PROMPT = "Type the API key to add articles."
# Gradio stores an upload before any handler runs, so the browser first trades the typed key for the
# upload pass (an HttpOnly cookie holding an HMAC of the key), then the upload area is shown.
UPLOAD_PASS_JS = """async (key) => {
  if (key && key.trim()) {
    const here = window.location.href.split(/[?#]/)[0].replace(/[^/]*$/, "");
    await fetch(here + "api/upload-pass", {method: "POST", headers: {Authorization: "Bearer " + key.trim()}});
  }
  return key;
}"""


def key_box(assistant: Assistant):
    """A field for the API key, shown when keys are configured (without keys, this machine only)."""
    import gradio as gr

    return gr.Textbox(
        label="API key (needed to change the index or run evaluations)",
        type="password",
        max_lines=1,
        visible=bool(assistant.settings.keys),
    )


def may_write(guard: Guard, request, key: str) -> bool:
    """A key (header or field), or this machine when no keys are set."""
    authorization = request.headers.get("authorization") if request else None
    if key and key.strip():
        authorization = f"Bearer {key.strip()}"
    return guard.access.allows_write(authorization, client_host(request))
