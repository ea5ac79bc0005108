// Outlet's only script: progressive enhancement of the share widget.
//
// Every share link is a plain link built on the server, so the widget works with JavaScript
// off. When the browser can do more, this module reveals two extra buttons:
//   [data-share-copy]   copies the article's URL (Clipboard API)
//   [data-share-native] opens the system share sheet (Web Share API)
// and lets Escape, or a click elsewhere, close the WeChat QR code that opens over the page.
// Loaded as <script type="module">: deferred, strict, and allowed by `script-src 'self'`.

const STATUS_CLEAR_MS = 5000;
const clearTimers = new WeakMap();

function announce(widget, message) {
  const status = widget.querySelector("[data-share-status]");
  if (!status) return;
  // Empty the live region first so the same message is announced again on a second click.
  status.textContent = "";
  window.clearTimeout(clearTimers.get(status));
  window.setTimeout(() => {
    status.textContent = message;
    clearTimers.set(
      status,
      window.setTimeout(() => {
        status.textContent = "";
      }, STATUS_CLEAR_MS),
    );
  }, 50);
}

// When writing to the clipboard is refused (permissions, an embedded browser), show the URL in
// a selected read-only field so the reader can copy it by hand.
function showUrlField(widget, url) {
  let field = widget.querySelector(".share__url");
  if (!field) {
    field = document.createElement("input");
    field.type = "text";
    field.readOnly = true;
    field.className = "share__url";
    field.setAttribute("aria-label", "Link to this article");
    const status = widget.querySelector("[data-share-status]");
    widget.insertBefore(field, status);
  }
  field.value = url;
  field.focus();
  field.select();
}

function enhanceCopy(widget, url) {
  const button = widget.querySelector("[data-share-copy]");
  if (!button || !navigator.clipboard || !navigator.clipboard.writeText) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(url);
      announce(widget, "Link copied");
    } catch (error) {
      showUrlField(widget, url);
      announce(widget, "Copy the selected link");
    }
  });
}

function enhanceNative(widget, url, title) {
  const button = widget.querySelector("[data-share-native]");
  if (!button || typeof navigator.share !== "function") return;
  const data = { title, url };
  if (typeof navigator.canShare === "function" && !navigator.canShare(data)) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.share(data);
    } catch (error) {
      // AbortError means the reader closed the share sheet: nothing went wrong.
      if (error && error.name !== "AbortError") {
        announce(widget, "Sharing is not available here; use one of the links instead");
      }
    }
  });
}

// The QR code is a <details> that opens over what follows: close it as a popup would close.
function enhanceQr(widget) {
  const details = widget.querySelector("details");
  if (!details) return;
  details.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && details.open) {
      details.open = false;
      details.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (details.open && !details.contains(event.target)) details.open = false;
  });
}

function enhanceShare(widget) {
  const url = widget.dataset.shareUrl || window.location.href;
  const title = widget.dataset.shareTitle || document.title;
  enhanceCopy(widget, url);
  enhanceNative(widget, url, title);
  enhanceQr(widget);
}

document.querySelectorAll("[data-share]").forEach(enhanceShare);
