"""Embedding the chat in other pages: the code to paste, which sites may embed it, and the compact
chat's side of the widget (static/widget.js)."""

# the compact chat's part of the widget (static/widget.js): it tells the page around it when it is
# ready, Escape asks that page to close the panel, and the page may ask it to put the focus in the
# question box. (Gradio adds head scripts once the page runs, so the widget waits for "ready".)
EMBED_HEAD = """<script>
if (!window.__newsAssistantEmbed) {
  window.__newsAssistantEmbed = true;
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && window.parent !== window) {
      window.parent.postMessage("news-assistant:close", "*");
    }
  });
  window.addEventListener("message", function (event) {
    if (event.data !== "news-assistant:focus") { return; }
    var tries = 0;
    (function focusBox() {
      var box = document.querySelector("#question textarea");
      if (box) { box.focus(); } else if (tries++ < 100) { setTimeout(focusBox, 100); }
    })();
  });
  if (window.parent !== window) { window.parent.postMessage("news-assistant:ready", "*"); }
}
</script>"""


def embed_rule(origins: list[str]) -> str:
    """Which other sites may embed the chat, said where the embedding code is given."""
    allowed = ", ".join(f"`{o}`" for o in origins) if origins else "none yet"
    return (
        "Another site can show this chat only if its origin (such as `https://news.example`) is in "
        f"`ASSISTANT_EMBED_ORIGINS` on this server; now: {allowed}. Elsewhere the widget says so."
    )


def embed_snippets(base: str) -> str:
    return f"""<!-- 1. A floating chat button (options: data-title, data-position="left|right",
     data-color, data-open="true") -->
<script src="{base}/widget.js" data-title="Ask the articles" async></script>

<!-- 2. A plain iframe -->
<iframe src="{base}/embed/" title="News assistant" style="width:100%;height:640px;border:0"></iframe>

<!-- 3. Gradio's web component -->
<script type="module" src="https://gradio.s3-us-west-2.amazonaws.com/{_gradio_version()}/gradio.js"></script>
<gradio-app src="{base}/embed/"></gradio-app>"""


def _gradio_version() -> str:
    import gradio

    return gradio.__version__
