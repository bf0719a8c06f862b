/**
 * The UI's script, plain browser JavaScript kept as a string (no build step, no framework). It
 * builds every element with textContent, never innerHTML: flows carry data from anywhere.
 * Written without template literals, so that it can sit inside this one.
 */
export const APP_JS = String.raw`
"use strict";
(function () {
  var ROW = 22;
  // The list is paged from the store: the newest PAGE first, older ones when scrolled to the top;
  // at most KEEP rows are held here (the oldest are let go and paged in again when needed).
  var PAGE = 500;
  var KEEP = 20000;
  var $ = function (id) { return document.getElementById(id); };
  var state = {
    flows: [], index: new Map(), selected: null, filter: "", source: null,
    loading: false, queued: [], stats: null, detailsFor: null,
    total: 0, more: false, cursor: null, loadingOlder: false, generation: 0
  };

  function h(tag, attrs) {
    var el = document.createElement(tag);
    for (var k in (attrs || {})) {
      if (k === "text") el.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return el;
  }

  function api(path, options) {
    options = options || {};
    var init = { method: options.method || "GET", headers: {}, credentials: "same-origin" };
    if (options.json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    return fetch(path, init).then(function (res) {
      if (res.status === 401) {
        showBanner("Not logged in: open the address mitm printed at startup (it ends in ?token=...).");
      }
      return res;
    });
  }
  function apiJson(path, options) {
    return api(path, options).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body && body.error ? body.error : "HTTP " + res.status);
        return body;
      });
    });
  }
  function showBanner(text) {
    var b = $("banner");
    b.textContent = text;
    b.hidden = !text;
  }
  function showError(id, text) {
    var e = $(id);
    e.textContent = text || "";
    e.hidden = !text;
  }

  // ---- formatting
  function size(n) {
    if (n === null || n === undefined) return "";
    if (n < 1024) return n + " B";
    if (n < 1048576) return (n / 1024).toFixed(1) + " kB";
    return (n / 1048576).toFixed(1) + " MB";
  }
  function shortType(t) {
    if (!t) return "";
    var m = /^[^\/;]+\/(?:[^;+]*\+)?([^;]+)/.exec(t);
    return m ? m[1].replace("x-", "") : t;
  }
  function time(ms) { return ms === null || ms === undefined ? "" : ms + " ms"; }
  function clock(ts) { return ts ? new Date(ts).toISOString().replace("T", " ").replace("Z", "") : "-"; }

  // ---- the flow list (virtualised: only the rows in view are in the DOM)
  function reindex() {
    state.index = new Map();
    for (var i = 0; i < state.flows.length; i++) state.index.set(state.flows[i].id, i);
  }
  function upsert(f) {
    var i = state.index.get(f.id);
    if (i === undefined) { state.index.set(f.id, state.flows.length); state.flows.push(f); state.total++; }
    else state.flows[i] = f;
  }
  function trim() {
    if (state.flows.length <= KEEP) return;
    var vp = $("viewport");
    var cut = state.flows.length - KEEP;
    state.flows = state.flows.slice(cut);
    state.more = true;
    state.cursor = state.flows[0].id;
    reindex();
    vp.scrollTop = Math.max(0, vp.scrollTop - cut * ROW);
  }
  function removeIds(ids) {
    if (!ids.length) return;
    var gone = new Set(ids);
    var before = state.flows.length;
    state.flows = state.flows.filter(function (f) { return !gone.has(f.id); });
    state.total = Math.max(0, state.total - (before - state.flows.length));
    reindex();
    if (state.selected && gone.has(state.selected)) select(null);
  }

  var renderQueued = false;
  function render() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(function () { renderQueued = false; draw(); });
  }
  function draw() {
    var vp = $("viewport");
    $("spacer").style.height = (state.flows.length * ROW) + "px";
    var first = Math.max(0, Math.floor(vp.scrollTop / ROW) - 5);
    var last = Math.min(state.flows.length, first + Math.ceil(vp.clientHeight / ROW) + 10);
    var rows = $("rows");
    rows.style.top = (first * ROW) + "px";
    rows.replaceChildren();
    for (var i = first; i < last; i++) rows.appendChild(rowFor(state.flows[i]));
    drawStats();
    if (state.more && vp.scrollTop < ROW * 50) loadOlder();
  }
  function rowFor(f) {
    var res = f.response;
    var cls = "row";
    if (f.id === state.selected) cls += " selected";
    if (f.intercepted) cls += " paused";
    if (f.error) cls += " failed";
    if (f.isReplay) cls += " replay";
    var status = f.intercepted ? "paused" : res ? String(res.status) : f.error ? "error" : "...";
    var bytes = res ? res.bodySize : null;
    return h("div", { "class": cls, "data-id": f.id, onclick: function () { select(f.id); } },
      h("span", { "class": "method", text: f.request.method }),
      h("span", { "class": "host", text: f.request.host }),
      h("span", { "class": "path", text: f.request.path, title: f.request.url }),
      h("span", { "class": "status", text: status, title: f.error || "" }),
      h("span", { text: shortType(res && res.contentType) }),
      h("span", { text: size(bytes) }),
      h("span", { text: time(f.duration) }));
  }
  function drawStats() {
    var s = state.stats;
    if (!s) return;
    var parts = [(state.filter ? state.total + " shown of " : "") + s.count + " flows"];
    if (state.flows.length < (state.filter ? state.total : s.count)) parts.push(state.flows.length + " loaded");
    if (s.dropped) parts.push(s.dropped + " dropped (flow_store_max_bytes)");
    if (s.paused) parts.push(s.paused + " paused");
    $("stats").textContent = parts.join(" \u00b7 ");
  }
  function atBottom() {
    var vp = $("viewport");
    return vp.scrollTop + vp.clientHeight >= vp.scrollHeight - ROW;
  }

  // ---- loading and live updates
  function applyEvent(ev) {
    if (ev.clear) { state.flows = []; state.total = 0; state.more = false; reindex(); select(null); }
    var follow = atBottom();
    removeIds(ev.remove);
    for (var i = 0; i < ev.upsert.length; i++) upsert(ev.upsert[i]);
    trim();
    state.stats = ev.stats;
    render();
    if (follow) requestAnimationFrame(function () { $("viewport").scrollTop = 1e9; });
    if (state.selected && ev.upsert.some(function (f) { return f.id === state.selected; })) {
      refreshDetails();
    }
  }
  function load(filter) {
    var q = filter ? "?filter=" + encodeURIComponent(filter) : "";
    var generation = ++state.generation;
    return api("/api/flows?limit=" + PAGE + (filter ? "&filter=" + encodeURIComponent(filter) : "")).then(function (res) {
      return res.json().then(function (body) {
        if (generation !== state.generation) return;
        if (res.status === 400) { showError("filter-error", body.error); return; }
        if (!res.ok) return;
        showError("filter-error", "");
        state.filter = filter;
        $("har").href = "/api/flows.har" + q;
        if (state.source) state.source.close();
        state.flows = body.flows;
        state.stats = body;
        state.total = body.total;
        state.more = body.more;
        state.cursor = body.cursor;
        reindex();
        if (state.selected && !state.index.has(state.selected)) select(null);
        render();
        listen(q);
      });
    });
  }
  /** The page before the oldest row held, put on top without moving what is in view. */
  function loadOlder() {
    if (state.loadingOlder || !state.more || !state.cursor) return;
    state.loadingOlder = true;
    var generation = state.generation;
    var q = "?limit=" + PAGE + "&before=" + encodeURIComponent(state.cursor) +
      (state.filter ? "&filter=" + encodeURIComponent(state.filter) : "");
    apiJson("/api/flows" + q).then(function (body) {
      state.loadingOlder = false;
      if (generation !== state.generation) return;
      var older = body.flows.filter(function (f) { return !state.index.has(f.id); });
      state.flows = older.concat(state.flows);
      state.more = body.more;
      state.cursor = body.cursor;
      reindex();
      $("spacer").style.height = (state.flows.length * ROW) + "px";
      $("viewport").scrollTop += older.length * ROW;
      render();
    }).catch(function () { state.loadingOlder = false; });
  }
  function listen(q) {
    var source = new EventSource("/api/events" + q);
    state.source = source;
    source.addEventListener("flows", function (e) { applyEvent(JSON.parse(e.data)); });
    source.addEventListener("hello", function (e) {
      state.stats = JSON.parse(e.data);
      showBanner("");
      syncIntercept();
      drawStats();
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) showBanner("Lost the connection to mitm.");
    };
  }

  // ---- details
  function select(id) {
    state.selected = id;
    render();
    if (id === null) { $("details").hidden = true; state.detailsFor = null; return; }
    var i = state.index.get(id);
    if (i !== undefined) scrollIntoView(i);
    refreshDetails();
  }
  function scrollIntoView(i) {
    var vp = $("viewport");
    var top = i * ROW;
    if (top < vp.scrollTop) vp.scrollTop = top;
    else if (top + ROW > vp.scrollTop + vp.clientHeight) vp.scrollTop = top + ROW - vp.clientHeight;
  }
  function move(delta) {
    if (!state.flows.length) return;
    var i = state.selected === null ? -1 : state.index.get(state.selected);
    if (i === undefined) i = -1;
    var next = Math.max(0, Math.min(state.flows.length - 1, i + delta));
    select(state.flows[next].id);
  }
  function refreshDetails() {
    var id = state.selected;
    var pane = $("details");
    // An open editor is not replaced under the user's hands.
    if (state.detailsFor === id && pane.querySelector(".editor")) return;
    apiJson("/api/flows/" + encodeURIComponent(id) + "?body_limit=0").then(function (flow) {
      if (state.selected !== id) return;
      state.detailsFor = id;
      pane.replaceChildren(detailsFor(flow));
      pane.hidden = false;
    }).catch(function (e) {
      pane.replaceChildren(h("p", { "class": "error", text: e.message }));
      pane.hidden = false;
    });
  }
  function headerTable(pairs) {
    var t = h("table");
    for (var i = 0; i < pairs.length; i++) t.appendChild(h("tr", null, h("td", { text: pairs[i][0] }), h("td", { text: pairs[i][1] })));
    return t;
  }
  function detailsFor(flow) {
    var req = flow.request, res = flow.response;
    var base = "/api/flows/" + encodeURIComponent(flow.id);
    var box = h("div");
    var actions = h("div", { "class": "actions" },
      h("button", { type: "button", id: "replay", text: "Replay", onclick: function () {
        apiJson(base + "/replay", { method: "POST" }).then(function (f) { upsert(f); render(); select(f.id); })
          .catch(function (e) { alert(e.message); });
      } }),
      h("button", { type: "button", id: "delete", text: "Delete", onclick: function () {
        api(base, { method: "DELETE" }).then(function () { removeIds([flow.id]); render(); });
      } }));
    if (flow.intercepted) {
      box.appendChild(h("p", { "class": "paused-note", text: "Paused at its " + flow.intercepted + "." }));
      actions.appendChild(h("button", { type: "button", id: "resume", text: "Resume", onclick: function () { resume(flow, null); } }));
      actions.appendChild(h("button", { type: "button", id: "edit", text: "Edit", onclick: function () { box.replaceChildren(editor(flow)); } }));
      actions.appendChild(h("button", { type: "button", id: "kill", text: "Kill", onclick: function () {
        api(base + "/kill", { method: "POST" });
      } }));
    }
    box.appendChild(actions);
    box.appendChild(h("h2", { text: "Request" }));
    box.appendChild(h("pre", { "class": "line", text: req.method + " " + req.url + " " + req.httpVersion }));
    box.appendChild(headerTable(req.headers));
    box.appendChild(bodyView(base + "/request/body", req));
    box.appendChild(h("h2", { text: "Response" }));
    if (res) {
      box.appendChild(h("pre", { "class": "line", text: res.httpVersion + " " + res.status + " " + res.reason }));
      box.appendChild(headerTable(res.headers));
      box.appendChild(bodyView(base + "/response/body", res));
    } else box.appendChild(h("p", { "class": "muted", text: flow.error ? "none" : "not yet" }));
    if (flow.error) box.appendChild(h("p", { "class": "error", text: "Error: " + flow.error.message }));
    box.appendChild(h("h2", { text: "Timing" }));
    var end = res ? res.timestampEnd : flow.error ? flow.error.timestamp : null;
    box.appendChild(headerTable([
      ["request start", clock(req.timestampStart)],
      ["request end", clock(req.timestampEnd)],
      ["response start", clock(res && res.timestampStart)],
      ["response end", clock(res && res.timestampEnd)],
      ["duration", end ? (end - req.timestampStart) + " ms" : "-"],
      ["client", flow.client.address + ":" + flow.client.port],
      ["server", flow.server ? flow.server.address + ":" + flow.server.port : "-"]
    ]));
    return box;
  }
  function headerValue(pairs, name) {
    for (var i = 0; i < pairs.length; i++) if (pairs[i][0].toLowerCase() === name) return pairs[i][1];
    return "";
  }
  function bodyView(url, message) {
    var holder = h("div", { "class": "body" });
    if (message.streamed) { holder.appendChild(h("p", { "class": "muted", text: "Body not kept (" + size(message.bodySize) + ", streamed)." })); return holder; }
    if (!message.bodySize) { holder.appendChild(h("p", { "class": "muted", text: "No body." })); return holder; }
    var type = headerValue(message.headers, "content-type").toLowerCase();
    if (/^image\//.test(type)) {
      holder.appendChild(h("img", { "class": "preview", alt: "image preview", src: url + "?decode=1" }));
      return holder;
    }
    fetch(url + "?decode=1", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.arrayBuffer() : fetch(url, { credentials: "same-origin" }).then(function (raw) { return raw.arrayBuffer(); });
    }).then(function (buf) {
      holder.appendChild(renderBytes(new Uint8Array(buf), type));
    });
    return holder;
  }
  function renderBytes(bytes, type) {
    var text = null;
    try { text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); } catch (e) { text = null; }
    if (text !== null && /json/.test(type)) {
      try { return h("pre", { "class": "json", text: JSON.stringify(JSON.parse(text), null, 2) }); } catch (e) { /* shown as text */ }
    }
    if (text !== null && !/[\x00-\x08\x0e-\x1f]/.test(text)) return h("pre", { "class": "text", text: text });
    return h("pre", { "class": "hex", text: hexdump(bytes.subarray(0, 4096)) + (bytes.length > 4096 ? "\n... " + size(bytes.length) + " in all" : "") });
  }
  function hexdump(bytes) {
    var lines = [];
    for (var off = 0; off < bytes.length; off += 16) {
      var hex = "", ascii = "";
      for (var i = off; i < off + 16; i++) {
        if (i < bytes.length) {
          hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16) + " ";
          ascii += bytes[i] >= 32 && bytes[i] < 127 ? String.fromCharCode(bytes[i]) : ".";
        } else hex += "   ";
      }
      lines.push(("0000000" + off.toString(16)).slice(-8) + "  " + hex + " " + ascii);
    }
    return lines.join("\n");
  }

  // ---- interception
  function resume(flow, edits) {
    apiJson("/api/flows/" + encodeURIComponent(flow.id) + "/resume", { method: "POST", json: edits || {} })
      .then(function () { state.detailsFor = null; refreshDetails(); })
      .catch(function (e) { showError("intercept-error", e.message); });
  }
  function headersText(pairs) {
    return pairs.map(function (p) { return p[0] + ": " + p[1]; }).join("\n");
  }
  function parseHeaders(text) {
    return text.split("\n").filter(function (l) { return l.trim(); }).map(function (l) {
      var i = l.indexOf(":");
      return i < 0 ? [l.trim(), ""] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    });
  }
  function editor(flow) {
    var atRequest = flow.intercepted === "request";
    var msg = atRequest ? flow.request : flow.response;
    var first = h("input", { id: "edit-first", value: atRequest ? msg.method + " " + msg.url : msg.status + " " + msg.reason });
    var headers = h("textarea", { id: "edit-headers" });
    headers.value = headersText(msg.headers);
    var body = h("textarea", { id: "edit-body" });
    var path = "/api/flows/" + encodeURIComponent(flow.id) + "/" + flow.intercepted + "/body?decode=1";
    if (msg.bodySize) api(path).then(function (r) { return r.text(); }).then(function (t) { body.value = t; });
    var send = function () {
      var line = first.value.trim();
      var sp = line.indexOf(" ");
      var edit = { headers: parseHeaders(headers.value), body: body.value };
      if (atRequest) { edit.method = line.slice(0, sp); edit.url = line.slice(sp + 1).trim(); }
      else { edit.status = Number(line.slice(0, sp < 0 ? line.length : sp)); edit.reason = sp < 0 ? "" : line.slice(sp + 1); }
      state.detailsFor = null;
      resume(flow, atRequest ? { request: edit } : { response: edit });
    };
    return h("div", { "class": "editor" },
      h("h2", { text: "Edit the " + flow.intercepted + " before it goes on" }),
      h("label", { text: atRequest ? "Method and URL" : "Status and reason" }), first,
      h("label", { text: "Headers (one per line, Name: value)" }), headers,
      h("label", { text: "Body (text)" }), body,
      h("div", { "class": "actions" },
        h("button", { type: "button", id: "send-edit", text: "Resume with changes", onclick: send }),
        h("button", { type: "button", text: "Cancel", onclick: function () { state.detailsFor = null; refreshDetails(); } })));
  }
  function syncIntercept() {
    var input = $("intercept");
    if (document.activeElement !== input && state.stats) input.value = state.stats.intercept;
  }
  function setIntercept() {
    apiJson("/api/intercept", { method: "PUT", json: { filter: $("intercept").value } })
      .then(function () { showError("intercept-error", ""); })
      .catch(function (e) { showError("intercept-error", e.message); });
  }

  // ---- wiring
  var filterTimer = null;
  $("filter").addEventListener("input", function () {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function () { load($("filter").value.trim()); }, 250);
  });
  $("intercept").addEventListener("keydown", function (e) { if (e.key === "Enter") setIntercept(); });
  $("intercept").addEventListener("change", setIntercept);
  $("clear").addEventListener("click", function () { api("/api/clear", { method: "POST" }); });
  $("viewport").addEventListener("scroll", render);
  window.addEventListener("resize", render);
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA")) return;
    if (e.key === "j" || e.key === "ArrowDown") { move(1); e.preventDefault(); }
    else if (e.key === "k" || e.key === "ArrowUp") { move(-1); e.preventDefault(); }
    else if (e.key === "Escape") select(null);
  });
  load("");
})();
`;
