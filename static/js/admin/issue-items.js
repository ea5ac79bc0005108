// The issue editor heads each of its articles with the article's title (see IssueItemsPanel);
// this keeps the heading right when the editor picks another article, before they save.
const ARTICLE_INPUT = /^items-\d+-article$/;

document.addEventListener('change', (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !ARTICLE_INPUT.test(input.name)) return;
  const item = input.closest('[data-inline-panel-child]');
  const heading = item && item.querySelector('[data-issue-item-title]');
  // The chooser writes the chosen page's title beside the input in the same task.
  requestAnimationFrame(() => {
    const chosen = item && item.querySelector('[data-chooser-title]');
    const title = chosen && chosen.textContent.trim();
    if (heading && title) heading.textContent = title;
  });
});
