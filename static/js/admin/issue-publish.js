// An issue's Publish asks first, in a dialog, how many subscribers the issue goes to and when
// (see newsletters/publishing.py). Sending goes on only from the dialog's button, which submits
// the form with the number agreed to, and with "send anyway" when the pre-send checks warned;
// without this script the server asks on a page instead.

function askBeforeSending(button) {
  const dialog = document.getElementById(button.dataset.issueSendDialog);
  const { form } = button;
  const recipients = button.dataset.issueSendRecipients;
  const title = (form.elements.namedItem('title')?.value || '').trim() || 'this issue';
  const goLiveAt = (form.elements.namedItem('go_live_at')?.value || '').trim();
  const later = goLiveAt && new Date(goLiveAt.replace(' ', 'T')) > new Date();
  const when = later ? `at ${goLiveAt}` : 'now';
  dialog.querySelector('[data-issue-send-question]').textContent =
    `Send “${title}” to ${button.dataset.issueSendAudience} ${when}?`;
  const send = dialog.querySelector('[data-issue-send-confirm]');
  if (dialog.querySelector('[data-presend-errors]')) {
    // The saved draft has errors: publishing without agreeing saves the form and checks it
    // again, and the server refuses, or asks, as what it finds requires.
    send.textContent = 'Save and check again';
    send.disabled = false;
    send.onclick = () => {
      dialog.dispatchEvent(new CustomEvent('w-dialog:hide'));
      form.requestSubmit(button);
    };
    dialog.dispatchEvent(new CustomEvent('w-dialog:show'));
    return;
  }
  send.textContent = later ? `Schedule: send at ${goLiveAt}` : `Publish and send to ${recipients}`;
  // With warnings from the pre-send checks, "Send" waits for "Send anyway" to be ticked.
  const anyway = dialog.querySelector('[data-issue-send-anyway]');
  send.disabled = Boolean(anyway && !anyway.checked);
  if (anyway) anyway.onchange = () => { send.disabled = !anyway.checked; };
  send.onclick = () => {
    const agreed = document.createElement('input');
    Object.assign(agreed, { type: 'hidden', name: 'confirm_send', value: recipients });
    form.append(agreed);
    if (anyway?.checked) {
      const accepted = document.createElement('input');
      Object.assign(accepted, { type: 'hidden', name: anyway.dataset.issueSendAnyway, value: anyway.value });
      form.append(accepted);
    }
    dialog.dispatchEvent(new CustomEvent('w-dialog:hide'));
    form.requestSubmit(button);
  };
  dialog.dispatchEvent(new CustomEvent('w-dialog:show'));
}

// Captured before the button's own listeners, so that "Publishing…" does not start yet.
document.addEventListener(
  'click',
  (event) => {
    const button = event.target.closest('button[data-issue-send-dialog]');
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    askBeforeSending(button);
  },
  true,
);
