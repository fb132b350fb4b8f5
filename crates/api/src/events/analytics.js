/* Sightline's browser snippet (served at /v1/analytics.js).
 *
 * analytics.load(writeKey, {host}) then track/page/identify/group/alias/
 * reset, as Segment's analytics.js names them. Calls made before this file
 * loaded (the stub in docs/events-intake.md queues them as arrays) are
 * replayed. Messages wait in a queue flushed to {host}/v1/batch every
 * second, at 20 messages, and when the page is hidden (sendBeacon, which
 * survives the page closing). The body is sent as text/plain so no CORS
 * preflight is needed; the write key travels in the body. The anonymous id
 * and the user id live in localStorage.
 */
(function (w) {
  "use strict";
  var prior = w.analytics;
  var ANON = "sl_anonymous_id", USER = "sl_user_id", TRAITS = "sl_user_traits";
  var cfg = { writeKey: "", host: "", flushAt: 20, flushInterval: 1000 };
  var queue = [], timer = null, loaded = false, waiting = [];

  function store(k, v) {
    try {
      if (v === undefined) return w.localStorage.getItem(k);
      if (v === null) w.localStorage.removeItem(k); else w.localStorage.setItem(k, v);
    } catch (e) { /* storage off: ids last as long as the page */ }
    return v;
  }
  var memory = {};
  function get(k) { var v = store(k); return v === null || v === undefined ? memory[k] || null : v; }
  function set(k, v) { memory[k] = v; store(k, v === undefined ? null : v); }

  function uuid() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID();
    var b = new Uint8Array(16);
    (w.crypto || { getRandomValues: function (a) { for (var i = 0; i < a.length; i++) a[i] = Math.random() * 256; return a; } }).getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function anonymousId() {
    var id = get(ANON);
    if (!id) { id = uuid(); set(ANON, id); }
    return id;
  }

  function context() {
    var l = w.location, d = w.document;
    return {
      library: { name: "sightline.js", version: "1" },
      page: { path: l.pathname, url: l.href, search: l.search, title: d.title, referrer: d.referrer },
      userAgent: w.navigator.userAgent,
      locale: w.navigator.language,
      timezone: (w.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone) || undefined
    };
  }

  function enqueue(msg) {
    if (!loaded) { waiting.push(msg); return; }
    msg.messageId = uuid();
    msg.timestamp = msg.timestamp || new Date().toISOString();
    msg.anonymousId = anonymousId();
    var uid = get(USER);
    if (uid && !msg.userId) msg.userId = uid;
    msg.context = Object.assign(context(), msg.context || {});
    queue.push(msg);
    if (queue.length >= cfg.flushAt) flush();
    else if (!timer) timer = setTimeout(flush, cfg.flushInterval);
  }

  /* Sends what is queued; resolves when the server answered (fetch) or the
   * browser took it (sendBeacon). */
  function flush(beacon) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!queue.length) return Promise.resolve(true);
    var batch = queue.splice(0, queue.length);
    var body = JSON.stringify({ batch: batch, writeKey: cfg.writeKey, sentAt: new Date().toISOString() });
    var url = cfg.host + "/v1/batch";
    if (beacon === true && w.navigator.sendBeacon) {
      return Promise.resolve(w.navigator.sendBeacon(url, new Blob([body], { type: "text/plain" })));
    }
    return w.fetch(url, { method: "POST", body: body, keepalive: body.length < 60000, headers: { "Content-Type": "text/plain" } })
      .then(function (r) { return r.ok; })
      .catch(function () { queue = batch.concat(queue); return false; });
  }

  function props(p) { return p && typeof p === "object" ? p : {}; }

  var api = {
    load: function (writeKey, opts) {
      opts = opts || {};
      cfg.writeKey = writeKey;
      cfg.host = (opts.host || "").replace(/\/+$/, "");
      if (opts.flushAt) cfg.flushAt = opts.flushAt;
      if (opts.flushInterval) cfg.flushInterval = opts.flushInterval;
      loaded = true;
      var w0 = waiting; waiting = [];
      w0.forEach(enqueue);
    },
    track: function (event, properties) {
      enqueue({ type: "track", event: event, properties: props(properties) });
    },
    page: function (name, properties) {
      if (typeof name === "object") { properties = name; name = undefined; }
      var p = Object.assign({ path: w.location.pathname, url: w.location.href, title: w.document.title, referrer: w.document.referrer }, props(properties));
      enqueue({ type: "page", name: name || "", properties: p });
    },
    identify: function (userId, traits) {
      if (typeof userId === "object") { traits = userId; userId = undefined; }
      if (userId) set(USER, String(userId));
      var t = Object.assign(JSON.parse(get(TRAITS) || "{}"), props(traits));
      set(TRAITS, JSON.stringify(t));
      enqueue({ type: "identify", userId: userId ? String(userId) : undefined, traits: t });
    },
    group: function (groupId, traits) {
      enqueue({ type: "group", groupId: String(groupId), traits: props(traits) });
    },
    alias: function (userId, previousId) {
      enqueue({ type: "alias", userId: String(userId), previousId: String(previousId || get(USER) || anonymousId()) });
    },
    reset: function () { set(USER); set(TRAITS); set(ANON); },
    user: function () { return { id: get(USER), anonymousId: anonymousId() }; },
    flush: flush
  };

  w.addEventListener("pagehide", function () { flush(true); });
  w.document.addEventListener("visibilitychange", function () {
    if (w.document.visibilityState === "hidden") flush(true);
  });

  w.analytics = api;
  /* Replay the stub's queued calls: [["load", key, opts], ["track", ...]]. */
  if (Array.isArray(prior)) {
    prior.forEach(function (call) {
      if (call && api[call[0]]) api[call[0]].apply(api, call.slice(1));
    });
  }
})(window);
