// Wagtail's autosave posts the editor's form in the background. On a new page its first save
// creates the page and only then points the form at the page's edit URL; a "Save draft" or
// "Publish" pressed meanwhile would post to the create URL again and make a second page (or
// meet "slug already in use"). So a submit waits for the autosave in flight, then goes on to
// wherever the form points by then; and once the editor submits, autosave stands down.
const form = document.querySelector('form[data-edit-form]');
let inFlight = null;
let settle = () => {};
let submitting = false;

function saveStarted(event) {
  if (submitting) {
    event.preventDefault();
    return;
  }
  inFlight = new Promise((resolve) => {
    settle = resolve;
  });
  // Another listener may still cancel this save; then nothing is in flight.
  queueMicrotask(() => event.defaultPrevented && saveEnded());
}

function saveEnded() {
  inFlight = null;
  settle();
}

function submitLater(event) {
  if (event.target !== form || !inFlight) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  const { submitter } = event;
  inFlight.then(() => {
    const button = submitter && submitter.isConnected && submitter.form === form;
    form.requestSubmit(button ? submitter : null);
  });
}

if (form) {
  form.addEventListener('w-autosave:save', saveStarted);
  ['success', 'error', 'deactivated'].forEach((outcome) =>
    form.addEventListener(`w-autosave:${outcome}`, saveEnded),
  );
  // First in line (capture on the document): before Wagtail's own submit handling.
  document.addEventListener('submit', submitLater, true);
  // Last in line: a submit that nobody cancelled is leaving the page.
  window.addEventListener('submit', (event) => {
    if (event.target === form && !event.defaultPrevented) submitting = true;
  });
}
