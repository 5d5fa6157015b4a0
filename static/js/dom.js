// Building DOM nodes without HTML strings. Everything user-supplied becomes a text node,
// so a chirp that contains markup is shown as that markup, never run or rendered.

/**
 * `el('p', { className: 'x', dataset: { id: '1' } }, 'text', child)`: an element with the
 * given properties (set as DOM properties, not attributes) and children (strings become
 * text nodes).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('aria') || key === 'role') node.setAttribute(toAttribute(key), value);
    else node[key] = value;
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

function toAttribute(key) {
  return key === 'role' ? key : key.replace(/^aria/, 'aria-').toLowerCase();
}

/** Shows or hides an element with the `hidden` attribute (no inline styles: see the CSP). */
export function show(node, visible = true) {
  node.hidden = !visible;
}

/** Sets a message in a live region (an empty string clears it). */
export function say(node, message) {
  node.textContent = message;
}
