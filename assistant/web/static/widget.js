/* News assistant widget: one <script src=".../widget.js" async></script> adds a chat button that opens
   the assistant (/embed) in a panel. Options, as data- attributes on the script tag:
   data-title ("Ask the articles"), data-position ("right" | "left"), data-color (any CSS colour),
   data-open ("true" opens the panel on load). */
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

  function place(el, bottom) {
    el.style.position = "fixed";
    el.style.bottom = bottom;
    el.style[side] = "20px";
    el.style.zIndex = "2147483000";
  }

  var button = document.createElement("button");
  button.type = "button";
  button.id = "news-assistant-button";
  button.setAttribute("aria-label", title);
  button.setAttribute("aria-expanded", "false");
  button.textContent = title;
  place(button, "20px");
  button.style.cssText += ";padding:12px 18px;border:0;border-radius:24px;color:#fff;cursor:pointer;" +
    "font:600 15px system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25)";
  button.style.background = color;

  var panel = document.createElement("div");
  panel.id = "news-assistant-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  place(panel, "76px");
  panel.style.cssText += ";width:min(420px,calc(100vw - 40px));height:min(640px,calc(100vh - 110px));" +
    "display:none;border-radius:12px;overflow:hidden;background:#fff;box-shadow:0 8px 30px rgba(0,0,0,.3)";

  var frame = null;
  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = origin + "/embed/";
      frame.title = title;
      frame.style.cssText = "width:100%;height:100%;border:0";
      panel.appendChild(frame);
    }
    panel.style.display = "block";
    button.setAttribute("aria-expanded", "true");
  }
  function close() {
    panel.style.display = "none";
    button.setAttribute("aria-expanded", "false");
  }
  button.addEventListener("click", function () {
    if (panel.style.display === "none") { open(); } else { close(); }
  });

  function attach() {
    document.body.appendChild(panel);
    document.body.appendChild(button);
    if (data.open === "true") { open(); }
  }
  if (document.body) { attach(); } else { document.addEventListener("DOMContentLoaded", attach); }
})();
