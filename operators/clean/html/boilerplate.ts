// What counts as navigation, headers and footers: by tag, ARIA role, or a class/id token naming them
// (DocBook's navheader/navfooter, Sphinx's sphinxsidebar and related). Whole tokens only:
// "wy-body-for-nav" on a <body> must not hide the page. Shared by the DOM paths and the fast scanner.

export const NAV_TAGS = new Set(['nav', 'header', 'footer', 'aside', 'form']);
/** never boilerplate, whatever their classes say */
export const NEVER_SKIP = new Set(['html', 'body', 'main', 'article']);
export const NAV_ROLES = /^(navigation|banner|contentinfo|menu|menubar|search|complementary)$/;
export const NAV_TOKENS =
  /^(nav|navbar|navigation|navheader|navfooter|nav-?menu|menu|menubar|sidebar|sphinxsidebar|breadcrumbs?|toc|footer|header|site-header|site-footer|skip-?links?|cookie-?(banner|notice|consent)|related)$/i;

/** True when a class or id attribute value has a token naming navigation. */
export function namesNavigation(names: string): boolean {
  let i = 0;
  const n = names.length;
  while (i < n) {
    while (i < n && names.charCodeAt(i) <= 32) i++;
    let j = i;
    while (j < n && names.charCodeAt(j) > 32) j++;
    if (j > i && NAV_TOKENS.test(names.slice(i, j))) return true;
    i = j;
  }
  return false;
}

/** role attribute: 'main' keeps an element whatever else it says; a navigation role drops it. */
export const roleVerdict = (role: string | null): 'main' | 'nav' | null =>
  role === null ? null : role === 'main' ? 'main' : NAV_ROLES.test(role.trim().toLowerCase()) ? 'nav' : null;

/** An inline style that hides the element (display:none or visibility:hidden). */
export function hiddenByStyle(style: string): boolean {
  const s = style.toLowerCase();
  return /display\s*:\s*none|visibility\s*:\s*hidden/.test(s);
}
