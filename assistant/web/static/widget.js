/* News assistant widget: one <script src=".../widget.js" async></script> adds a chat button that opens
   the assistant (/embed) in a panel. Options, as data- attributes on the script tag:
   data-title ("Ask the articles"), data-position ("right" | "left"), data-color (any CSS colour),
   data-open ("true" opens the panel on load).
   The panel closes with its close button or Escape (also while typing in the chat), gives the focus
   back to the button, and fills the screen on a phone. When the assistant does not allow this site
   to embed it (ASSISTANT_EMBED_ORIGINS), the panel says so instead of showing a broken frame. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__newsAssistantWidget) { return; }
  window.__newsAssistantWidget = true;
  var origin = new URL(script.src, document.baseURI).origin;
  var data = script.dataset;
  var title = data.title || "Ask the articles";
  var side = data.position === "left" ? "left" : "right";
  var color = data.color && window.CSS && CSS.supports("color", data.color) ? data.color : "#1f5fbf";

  var style = document.createElement("style");
  style.textContent =
    "#news-assistant-button{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;" +
    "padding:12px 18px;border:0;border-radius:24px;color:#fff;cursor:pointer;" +
    "font:600 15px system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    "#news-assistant-panel{position:fixed;bottom:76px;" + side + ":20px;z-index:2147483000;" +
    "width:min(420px,calc(100vw - 40px));height:min(640px,calc(100vh - 110px));display:none;" +
    "flex-direction:column;border-radius:12px;overflow:hidden;background:#fff;color:#1f1f1f;" +
    "box-shadow:0 8px 30px rgba(0,0,0,.3);font:15px/1.45 system-ui,sans-serif}" +
    "#news-assistant-panel.open{display:flex}" +
    "#news-assistant-panel .na-head{display:flex;align-items:center;justify-content:space-between;" +
    "padding:6px 8px 6px 14px;color:#fff;font-weight:600}" +
    "#news-assistant-panel .na-close{min-width:36px;min-height:36px;border:0;border-radius:6px;" +
    "background:transparent;color:#fff;font:600 22px/1 system-ui,sans-serif;cursor:pointer}" +
    "#news-assistant-panel .na-close:focus-visible{outline:2px solid #fff}" +
    "#news-assistant-panel iframe{flex:1;width:100%;border:0}" +
    "#news-assistant-panel .na-refused{padding:16px 18px}" +
    "#news-assistant-panel .na-refused code{background:#f1f1f1;padding:0 3px;border-radius:3px}" +
    "@media (max-width:600px){#news-assistant-panel{top:0;bottom:0;left:0;right:0;width:100vw;" +
    "height:100vh;height:100dvh;border-radius:0}" +
    "#news-assistant-panel.open~#news-assistant-button{display:none}}";

  var button = document.createElement("button");
  button.type = "button";
  button.id = "news-assistant-button";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "news-assistant-panel");
  button.textContent = title;
  button.style.background = color;

  var panel = document.createElement("div");
  panel.id = "news-assistant-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var head = document.createElement("div");
  head.className = "na-head";
  head.style.background = color;
  var heading = document.createElement("span");
  heading.textContent = title;
  var closer = document.createElement("button");
  closer.type = "button";
  closer.className = "na-close";
  closer.setAttribute("aria-label", "Close");
  closer.textContent = "\u00d7";
  head.appendChild(heading);
  head.appendChild(closer);
  panel.appendChild(head);

  var frame = null;
  var checked = null;

  function allowed() {
    // The assistant answers this page's cross-site request only when this site is one of its
    // ASSISTANT_EMBED_ORIGINS, the same list that lets it be framed here.
    if (!checked) {
      checked = location.origin === origin ? Promise.resolve(true) :
        fetch(origin + "/healthz", {mode: "cors", credentials: "omit"})
          .then(function () { return true; }, function () { return false; });
    }
    return checked;
  }

  function refuse() {
    var note = document.createElement("div");
    note.className = "na-refused";
    note.setAttribute("role", "alert");
    var site = document.createElement("code");
    site.textContent = location.origin;
    var server = document.createElement("code");
    server.textContent = origin;
    var setting = document.createElement("code");
    setting.textContent = "ASSISTANT_EMBED_ORIGINS";
    note.append("The assistant at ", server, " does not allow this site (", site,
      ") to show it, or cannot be reached. Its operator can allow it by adding ", site.cloneNode(true),
      " to ", setting, " on the assistant's server.");
    panel.appendChild(note);
  }

  function focusChat() {
    if (frame && frame.contentWindow) {
      frame.focus();
      frame.contentWindow.postMessage("news-assistant:focus", origin);
    }
  }

  function open() {
    panel.classList.add("open");
    button.setAttribute("aria-expanded", "true");
    closer.focus();
    allowed().then(function (ok) {
      if (frame || panel.querySelector(".na-refused")) { focusChat(); return; }
      if (!ok) { refuse(); return; }
      frame = document.createElement("iframe");
      frame.src = origin + "/embed/";
      frame.title = title;
      panel.appendChild(frame);
    });
  }

  function close() {
    if (!panel.classList.contains("open")) { return; }
    panel.classList.remove("open");
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  button.addEventListener("click", function () {
    if (panel.classList.contains("open")) { close(); } else { open(); }
  });
  closer.addEventListener("click", close);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { close(); }
  });
  window.addEventListener("message", function (event) {
    // from the chat (the embed page's head script): Escape pressed in it, or it is ready for the focus
    if (event.origin !== origin) { return; }
    if (event.data === "news-assistant:close") { close(); }
    if (event.data === "news-assistant:ready" && panel.classList.contains("open")) { focusChat(); }
  });

  function attach() {
    document.head.appendChild(style);
    document.body.appendChild(panel);
    document.body.appendChild(button);
    if (data.open === "true") { open(); }
  }
  if (document.body) { attach(); } else { document.addEventListener("DOMContentLoaded", attach); }
})();
