/* Partnership Badges registry embed, served at /embed.js. Dependency-free.
 *
 *   <div data-partnership-registry data-country="France" data-limit="10" data-theme="dark"></div>
 *   <script src="https://badges.example.org/embed.js" async></script>
 *
 * Fetches {service}/registry.json (the service is where this script came from) and renders
 * the list inside a Shadow DOM, so the page's styles and ours never mix. Every piece of data
 * is inserted with textContent or as a checked http(s) link; never as markup.
 */
(function () {
  'use strict';

  var me = document.currentScript;
  var src = me && me.src;
  if (!src) {
    var scripts = document.getElementsByTagName('script');
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/embed\.js(?:[?#]|$)/.test(scripts[i].src)) { src = scripts[i].src; break; }
    }
  }
  if (!src) { return; }
  var service = new URL('.', src);

  var CSS = [
    ':host { all: initial; display: block; contain: content; }',
    '.box { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;',
    '  color: #1b2227; background: #ffffff; border: 1px solid #c9d3d8; border-radius: 6px; padding: 1rem; }',
    '.dark { color: #e8eef0; background: #14191c; border-color: #3a454b; }',
    'h2 { font-size: 1.125rem; margin: 0 0 0.5rem; }',
    'ul { list-style: none; margin: 0; padding: 0; }',
    'li { padding: 0.5rem 0; border-top: 1px solid #c9d3d8; }',
    '.dark li { border-color: #3a454b; }',
    'p { margin: 0; }',
    'a { color: #0b5c6b; font-weight: 600; }',
    '.dark a { color: #8fd3e0; }',
    'a:focus-visible { outline: 3px solid #b25e00; outline-offset: 2px; }',
    '.meta { color: #4a5560; font-size: 0.875rem; }',
    '.dark .meta { color: #b8c4c9; }',
    '.more { margin-top: 0.75rem; }',
    '.more a { font-weight: 400; }',
    '.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }'
  ].join('\n');

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text != null) { node.textContent = String(text); }
    return node;
  }

  /* Only absolute http(s) URLs become links. */
  function safeUrl(value) {
    try {
      var u = new URL(String(value));
      return (u.protocol === 'https:' || u.protocol === 'http:') ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(href, text, hidden) {
    var a = el('a', null, text);
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener';
    if (hidden) { a.appendChild(el('span', 'sr', hidden)); }
    return a;
  }

  function day(iso) {
    var d = new Date(String(iso));
    if (isNaN(d.getTime())) { return ''; }
    return d.toLocaleDateString('en-GB', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });
  }

  function styles(root) {
    if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function') {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        root.adoptedStyleSheets = [sheet];
        return;
      } catch (e) { /* fall back to a <style> element */ }
    }
    root.appendChild(el('style', null, CSS));
  }

  function render(host) {
    if (host.getAttribute('data-partnership-registry-ready') !== null) { return; }
    host.setAttribute('data-partnership-registry-ready', '');
    var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    styles(root);

    var limit = parseInt(host.getAttribute('data-limit') || '20', 10);
    if (!(limit >= 1)) { limit = 20; }
    if (limit > 100) { limit = 100; }
    var country = (host.getAttribute('data-country') || '').trim();
    var dark = host.getAttribute('data-theme') === 'dark';

    var box = el('section', dark ? 'box dark' : 'box');
    var id = 'pr-title';
    var title = el('h2', null, 'Partnership certified people');
    title.id = id;
    box.setAttribute('aria-labelledby', id);
    box.appendChild(title);
    var status = el('p', 'meta', 'Loading…');
    status.setAttribute('role', 'status');
    box.appendChild(status);
    root.appendChild(box);

    var url = new URL('registry.json', service);
    url.searchParams.set('limit', String(limit));
    if (country) { url.searchParams.set('country', country); }

    // Always revalidate (a 304 when unchanged): a revoked person must not linger in a cache.
    fetch(url.href, { mode: 'cors', credentials: 'omit', cache: 'no-cache' })
      .then(function (res) {
        if (!res.ok) { throw new Error('HTTP ' + res.status); }
        return res.json();
      })
      .then(function (data) {
        var items = (data && Array.isArray(data.items)) ? data.items : [];
        if (items.length === 0) {
          status.textContent = 'No one is listed yet.';
          return;
        }
        status.textContent = '';
        status.removeAttribute('role');
        var list = el('ul');
        items.forEach(function (item) {
          var li = el('li');
          var name = el('p');
          var badge = safeUrl(item.badge_url);
          if (badge) {
            name.appendChild(link(badge, item.name, ', Partnership Certified badge (opens in a new tab)'));
          } else {
            name.textContent = String(item.name);
          }
          li.appendChild(name);
          var place = [item.city, item.country].filter(function (v) { return typeof v === 'string' && v; }).join(', ');
          if (place) { li.appendChild(el('p', 'meta', place)); }
          var closed = Number(item.partnerships_closed) || 0;
          li.appendChild(el('p', 'meta', 'Certified since ' + day(item.certified_since) + ' · ' +
            closed + (closed === 1 ? ' partnership closed' : ' partnerships closed')));
          var profile = safeUrl(item.profile_url);
          if (profile) {
            var p = el('p', 'meta');
            p.appendChild(link(profile, 'Profile', ' of ' + String(item.name) + ' (opens in a new tab)'));
            li.appendChild(p);
          }
          list.appendChild(li);
        });
        box.insertBefore(list, status);
        var more = el('p', 'more');
        var all = new URL('registry', service);
        if (country) { all.searchParams.set('country', country); }
        more.appendChild(link(all.href, 'See everyone in the registry', ' (opens in a new tab)'));
        box.appendChild(more);
      })
      .catch(function () {
        status.textContent = 'The registry could not be loaded.';
      });
  }

  function start() {
    var hosts = document.querySelectorAll('[data-partnership-registry]');
    for (var i = 0; i < hosts.length; i++) { render(hosts[i]); }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
