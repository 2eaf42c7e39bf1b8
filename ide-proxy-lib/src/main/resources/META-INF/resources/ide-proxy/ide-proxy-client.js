/*
 * ide-proxy-client.js: opens a workspace's IDE in a new tab from a click in the portal, without
 * tripping the browser's popup blocker. No dependencies; works as a classic script
 * (window.IdeProxyClient) and as a CommonJS module. Documented in docs/portal.md.
 *
 * A tab opened after an asynchronous step (the mint) is blocked, so the tab is opened first,
 * synchronously, while the click is being handled; it shows a placeholder until the mint answers,
 * then goes to the bootstrap link, or is closed when the mint refuses.
 *
 *   button.addEventListener('click', function () {
 *     IdeProxyClient.open('42', { base: '/portal' }).catch(function (e) { status.textContent = e.message; });
 *   });
 *
 * Licensed under the Apache License 2.0.
 */
(function (root, factory) {
  'use strict';
  var api = factory();
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.IdeProxyClient = api;
  }
}(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  var MESSAGES = {
    'popup-blocked': 'The browser blocked the IDE tab (popup blocked): allow pop-ups for this site, or click again.',
    'unauthenticated': 'Sign in to the portal again, then open the IDE.',
    'forbidden': 'You may not open this workspace.',
    'not-found': 'There is no such workspace.',
    'unavailable': 'The IDE service is unavailable; try again shortly.',
    'network': 'The IDE service could not be reached.'
  };
  var BY_STATUS = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not-found', 429: 'rate-limited', 503: 'unavailable' };

  /** An Error with a code (see MESSAGES), the mint's HTTP status (0 when there was none) and the proxy's own message. */
  function failure(code, status, detail, retryAfter) {
    var message = MESSAGES[code];
    if (code === 'rate-limited') {
      message = 'Too many attempts; try again in ' + (retryAfter || 'a few') + ' s.';
    } else if (code === 'failed') {
      message = status ? 'The IDE could not be opened (HTTP ' + status + ').' : 'The IDE could not be opened.';
    }
    var error = new Error(message);
    error.name = 'IdeProxyError';
    error.code = code;
    error.status = status;
    error.detail = detail || '';
    return error;
  }

  function placeholder(tab, text) {
    try {
      var doc = tab.document;
      doc.title = text;
      var p = doc.createElement('p');
      p.textContent = text;
      p.style.font = '16px system-ui, sans-serif';
      p.style.margin = '2em';
      (doc.body || doc.documentElement).appendChild(p);
    } catch (ignored) {
      // Not scriptable: the tab stays blank until it navigates.
    }
  }

  function headersOf(option) {
    var value = typeof option === 'function' ? option() : option;
    return Promise.resolve(value || {});
  }

  function detailOf(response) {
    return response.text().then(function (text) {
      try {
        var body = JSON.parse(text);
        return body && typeof body.message === 'string' ? body.message : '';
      } catch (notJson) {
        return '';
      }
    }, function () { return ''; });
  }

  /**
   * Opens workspace `workspaceId`'s IDE in a new tab. Call it while a click (or key press) is being
   * handled. Resolves with the tab (a Window) once it is on its way to the IDE; rejects with an
   * IdeProxyError (code, status, detail) after closing the tab.
   *
   * options: base (context path of ide-proxy on this origin, default ''), mintUrl (a URL or a
   * function of the id), proxyOrigin (what a relative bootstrapUrl is relative to; default the mint
   * URL's origin), headers (an object, or a function answering one or a Promise of one),
   * credentials (fetch's, default 'same-origin'), placeholder (default 'Opening IDE…'), onError.
   */
  function open(workspaceId, options) {
    options = options || {};
    var report = function (error) {
      if (typeof options.onError === 'function') {
        try { options.onError(error); } catch (ignored) { /* the Promise still rejects */ }
      }
      return Promise.reject(error);
    };
    // Synchronously, before anything asynchronous: this is what the popup blocker allows.
    var tab = window.open('', '_blank');
    if (!tab) {
      return report(failure('popup-blocked', 0));
    }
    placeholder(tab, options.placeholder || 'Opening IDE\u2026');
    var close = function (error) {
      try { tab.close(); } catch (ignored) { /* already gone */ }
      return report(error);
    };

    var id = encodeURIComponent(String(workspaceId));
    var mint;
    try {
      mint = new URL(typeof options.mintUrl === 'function' ? options.mintUrl(workspaceId)
          : options.mintUrl || (options.base || '') + '/api/dev/' + id + '/ide-token', window.location.href);
    } catch (badUrl) {
      return close(failure('failed', 0, String(badUrl && badUrl.message)));
    }
    return headersOf(options.headers).then(function (headers) {
      return fetch(mint.href, {
        method: 'POST',
        headers: headers,
        credentials: options.credentials || 'same-origin',
        cache: 'no-store',
        redirect: 'error'
      });
    }).then(function (response) {
      if (!response.ok) {
        var code = BY_STATUS[response.status] || 'failed';
        return detailOf(response).then(function (detail) {
          throw failure(code, response.status, detail, response.headers.get('Retry-After'));
        });
      }
      return response.json().then(function (body) {
        if (!body || typeof body.bootstrapUrl !== 'string') {
          throw failure('failed', response.status, 'the answer has no bootstrapUrl');
        }
        // Relative to the proxy's origin in path mode; absolute in host mode.
        var target = new URL(body.bootstrapUrl, options.proxyOrigin || mint.origin);
        try { tab.opener = null; } catch (ignored) { /* some browsers refuse; the IDE is still a new tab */ }
        tab.location.replace(target.href);
        return tab;
      });
    }, function (error) {
      throw error && error.name === 'IdeProxyError' ? error : failure('network', 0, String(error && error.message));
    }).catch(function (error) {
      return close(error && error.name === 'IdeProxyError' ? error : failure('failed', 0, String(error && error.message)));
    });
  }

  return { open: open, messages: MESSAGES };
}));
