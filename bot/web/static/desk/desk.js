// The coordinators' desk (see bot/web/desk.py). Every call carries Telegram's signed initData
// ("Authorization: tma ..."); the server checks it and the person's roles each time. Every
// text comes from the server in the person's language and is set with textContent, never as
// HTML; only the charts, drawn by the server as SVG, are parsed (as SVG, never run).
(function () {
  "use strict";
  var tg = window.Telegram && window.Telegram.WebApp;
  if (tg) { tg.ready(); tg.expand(); }
  var initData = (tg && tg.initData) || "";
  var unsafe = (tg && tg.initDataUnsafe && tg.initDataUnsafe.user) || {};
  var hint = unsafe.language_code || navigator.language || "en";  // only for a refusal's words
  var note = document.getElementById("note");
  var page = document.getElementById("page");
  var main = document.getElementById("main");
  var me = null;
  var T = {};

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function say(text) { note.textContent = text || ""; }

  function api(path, body) {
    var sep = path.indexOf("?") < 0 ? "?" : "&";
    var options = { headers: { "Authorization": "tma " + initData } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch("api/" + path + sep + "lang=" + encodeURIComponent(hint), options)
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            var error = new Error(data.message || T.failed || String(response.status));
            error.status = response.status;
            throw error;
          }
          return data;
        });
      });
  }

  function failed(error) {
    say(error.message || T.failed);
    document.body.dataset.error = String(error.status || "network");
  }

  function heading(text) {
    var h = el("h1", {}, text);
    page.appendChild(h);
    return h;
  }

  function done(name) {
    document.body.dataset.page = name;
    main.focus();
  }

  // -- Overview -------------------------------------------------------------------------------

  function hashQuery() {
    return new URLSearchParams(window.location.hash.split("?")[1] || "");
  }

  function groupPicker(name, query, onChange) {
    var group = el("select", { "aria-label": T.every_group, id: name + "-group" });
    group.appendChild(el("option", { value: "" }, T.every_group));
    me.groups.forEach(function (g) { group.appendChild(el("option", { value: String(g.id) }, g.name)); });
    group.value = query.get("group") || "";
    group.addEventListener("change", onChange);
    return group;
  }

  function overview() {
    var query = hashQuery();
    return api("overview?" + query.toString()).then(function (data) {
      page.textContent = "";
      heading(T.overview);
      page.appendChild(el("p", { "class": "hint", id: "counted" }, data.counted));
      if (me.groups.length > 1) {
        var filters = el("div", { "class": "filters" });
        var picker = groupPicker("overview", query, function () {
          window.location.hash = "overview" + (picker.value ? "?group=" + picker.value : "");
        });
        filters.appendChild(picker);
        page.appendChild(filters);
      }
      data.sections.forEach(function (section) {
        var box = el("section", { "class": "card", "data-figure": section.figure });
        box.appendChild(el("h2", {}, section.title));
        [section.chart, section.history].forEach(function (drawn, i) {
          if (!drawn) { return; }
          var svg = new DOMParser().parseFromString(drawn, "image/svg+xml").documentElement;
          if (svg && svg.nodeName === "svg") {
            if (i) { svg.setAttribute("class", "chart history"); }  // the days kept
            box.appendChild(document.importNode(svg, true));
          }
        });
        var scroll = el("div", { "class": "scroll" });
        var table = el("table");
        section.rows.forEach(function (row) {
          var tr = el("tr", {
            "data-figure": row.raw.figure, "data-key": row.raw.key,
            "data-month": row.raw.month, "data-count": String(row.raw.count)
          });
          var label = el("td");
          label.appendChild(el("bdi", {}, row.label));
          tr.appendChild(label);
          tr.appendChild(el("td", { "class": "count" }, row.count));
          table.appendChild(tr);
        });
        scroll.appendChild(table);
        box.appendChild(scroll);
        page.appendChild(box);
      });
      if (!data.sections.length) { page.appendChild(el("p", {}, T.nothing)); }
      done("overview");
    });
  }

  // -- Review ---------------------------------------------------------------------------------

  function act(button, path, body) {
    button.disabled = true;
    return api(path, body).then(function (data) {
      return review().then(function () { say(data.message); });
    }).catch(function (error) { button.disabled = false; failed(error); });
  }

  function reasonForm(box, post, outcome) {
    var old = box.querySelector("form");
    if (old) { old.remove(); }
    var form = el("form");
    var id = "reason-" + post.id;
    form.appendChild(el("label", { "for": id }, outcome === "changes" ? T.ask_changes : T.ask_reject));
    var text = el("textarea", { id: id, maxlength: "300", required: "" });
    form.appendChild(text);
    var send = el("button", { type: "submit", "data-send": outcome }, T.send);
    var cancel = el("button", { type: "button", "class": "quiet" }, T.cancel);
    cancel.addEventListener("click", function () { form.remove(); });
    form.appendChild(send);
    form.appendChild(cancel);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!text.value.trim()) { text.focus(); return; }
      act(send, "moderate", { activity: post.id, outcome: outcome, note: text.value });
    });
    box.appendChild(form);
    text.focus();
  }

  function postBox(post) {
    var box = el("section", { "class": "card", "data-activity": String(post.id) });
    var h = el("h2");
    h.appendChild(el("bdi", {}, post.title));
    box.appendChild(h);
    var group = el("p", { "class": "hint" });
    group.appendChild(el("bdi", {}, post.group));
    box.appendChild(group);
    box.appendChild(el("div", { "class": "text" }, post.text));
    var approve = el("button", { type: "button", "data-action": "approve" }, T.approve);
    approve.addEventListener("click", function () {
      act(approve, "moderate", { activity: post.id, outcome: "approve" });
    });
    box.appendChild(approve);
    ["changes", "reject"].forEach(function (outcome) {
      var b = el("button", { type: "button", "class": "quiet", "data-action": outcome }, T[outcome]);
      b.addEventListener("click", function () { reasonForm(box, post, outcome); });
      box.appendChild(b);
    });
    return box;
  }

  function concernBox(item) {
    var box = el("section", { "class": "card", "data-concern": String(item.id) });
    var h = el("h2");
    h.appendChild(el("bdi", {}, item.title));
    box.appendChild(h);
    var where = el("p", { "class": "hint" });
    where.appendChild(el("bdi", {}, item.group));
    where.appendChild(document.createTextNode(" · " + (item.hidden ? T.hidden : T.shown)));
    box.appendChild(where);
    var list = el("ul");
    item.reasons.forEach(function (line) { list.appendChild(el("li", {}, line)); });
    box.appendChild(list);
    var show = el("button", { type: "button", "data-action": "restored" }, item.buttons[0]);
    show.addEventListener("click", function () {
      act(show, "concern", { activity: item.id, outcome: "restored" });
    });
    var remove = el("button", { type: "button", "class": "quiet", "data-action": "remove" }, item.buttons[1]);
    remove.addEventListener("click", function () {  // asked once, as in the bot
      var ask = el("div", { role: "group" });
      ask.appendChild(el("p", {}, item.confirm));
      var yes = el("button", { type: "button", "data-action": "removed" }, T.remove_yes);
      yes.addEventListener("click", function () {
        act(yes, "concern", { activity: item.id, outcome: "removed" });
      });
      var no = el("button", { type: "button", "class": "quiet" }, T.cancel);
      no.addEventListener("click", function () { ask.remove(); remove.focus(); });
      ask.appendChild(yes);
      ask.appendChild(no);
      box.appendChild(ask);
      yes.focus();
    });
    box.appendChild(show);
    box.appendChild(remove);
    return box;
  }

  function review() {
    return api("review").then(function (data) {
      page.textContent = "";
      heading(T.review);
      page.appendChild(el("h2", {}, T.moderation));
      if (!data.posts.length) { page.appendChild(el("p", {}, T.nothing_waiting)); }
      data.posts.forEach(function (post) { page.appendChild(postBox(post)); });
      page.appendChild(el("h2", {}, T.concerns));
      if (!data.concerns.length) { page.appendChild(el("p", {}, T.no_concerns)); }
      data.concerns.forEach(function (item) { page.appendChild(concernBox(item)); });
      done("review");
    });
  }

  // -- Audit log ------------------------------------------------------------------------------

  function audit() {
    var query = hashQuery();
    return api("audit?" + query.toString()).then(function (data) {
      page.textContent = "";
      heading(T.audit);
      var filters = el("div", { "class": "filters" });
      var action = el("select", { "aria-label": T.everything, id: "audit-action" });
      action.appendChild(el("option", { value: "" }, T.everything));
      data.actions.forEach(function (kind) { action.appendChild(el("option", { value: kind.value }, kind.label)); });
      action.value = query.get("action") || "";
      var group = groupPicker("audit", query, filter);
      function filter() {
        var next = new URLSearchParams();
        if (action.value) { next.set("action", action.value); }
        if (group.value) { next.set("group", group.value); }
        window.location.hash = "audit?" + next.toString();
      }
      action.addEventListener("change", filter);
      filters.appendChild(action);
      filters.appendChild(group);
      page.appendChild(filters);
      var list = el("ul", { "class": "audit" });
      function add(entries) {
        entries.forEach(function (e) {
          var li = el("li", { "data-action": e.action, title: e.action });
          li.appendChild(el("time", { "class": "hint", datetime: e.at }, e.when));
          var who = e.actor !== null ? "#" + e.actor : "—";
          if (e.target !== null) { who += " → #" + e.target; }
          var words = [e.kind, who, e.group, e.detail];
          li.appendChild(el("bdi", {}, words.filter(Boolean).join(" · ")));
          list.appendChild(li);
        });
      }
      add(data.entries);
      page.appendChild(list);
      if (!data.entries.length) { page.appendChild(el("p", {}, T.nothing)); }
      if (data.more) {
        var more = el("button", { type: "button", "class": "quiet" }, T.more);
        var last = data.entries[data.entries.length - 1].id;
        more.addEventListener("click", function () {
          query.set("before", String(last));
          api("audit?" + query.toString()).then(function (next) {
            add(next.entries);
            if (next.entries.length) { last = next.entries[next.entries.length - 1].id; }
            if (!next.more) { more.remove(); }
          }).catch(failed);
        });
        page.appendChild(more);
      }
      done("audit");
    });
  }

  // A poster in one to three languages, drawn by the server as `sanctuary-bot poster` does
  // (a group's, on the Groups page; one activity's, on the Activities page): ``poster`` the
  // language choices, ``words`` the page's words (poster_languages, poster_button), ``path``
  // and ``params`` the API's; the PDF is downloaded as the CSV export is.
  function posterForm(poster, words, path, params) {
    var form = el("form", { id: "poster" });
    var set = el("fieldset", { "class": "field" });
    set.appendChild(el("legend", {}, words.poster_languages));
    var picks = [0, 1, 2].map(function (i) {
      var pick = el("select", { id: "poster-lang-" + i, "aria-label": words.poster_languages + " " + (i + 1) });
      if (i > 0) { pick.appendChild(el("option", { value: "" }, "—")); }
      poster.languages.forEach(function (l) {
        pick.appendChild(el("option", { value: l.code, lang: l.code.replace("_", "-") }, l.name));
      });
      pick.value = poster.chosen[i] || "";
      set.appendChild(pick);
      return pick;
    });
    form.appendChild(set);
    var go = el("button", { type: "submit", "data-action": "poster" }, words.poster_button);
    form.appendChild(go);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var codes = [];
      picks.forEach(function (p) { if (p.value && codes.indexOf(p.value) < 0) { codes.push(p.value); } });
      go.disabled = true;
      var q = new URLSearchParams(params);
      q.set("languages", codes.join(","));
      api(path + "?" + q.toString()).then(function (data) {
        go.disabled = false;
        var bytes = Uint8Array.from(atob(data.pdf), function (c) { return c.charCodeAt(0); });
        var link = el("a", { download: data.filename });
        link.href = URL.createObjectURL(new Blob([bytes], { type: "application/pdf" }));
        document.body.appendChild(link);
        link.click();
        link.remove();
      }).catch(function (error) { go.disabled = false; failed(error); });
    });
    return form;
  }

  // -- the shell ------------------------------------------------------------------------------

  var pages = { overview: overview, review: review, audit: audit };
  // Pages in their own scripts (activities.js) add themselves to ``pages`` with these helpers.
  window.Desk = {
    api: api, el: el, say: say, failed: failed, heading: heading, done: done, page: page,
    pages: pages, me: function () { return me; }, posterForm: posterForm
  };

  function route() {
    var name = (window.location.hash.slice(1).split("?")[0]) || "overview";
    if (!pages[name]) { name = "overview"; }
    document.querySelectorAll("nav a").forEach(function (a) {
      if (a.dataset.page === name) { a.setAttribute("aria-current", "page"); }
      else { a.removeAttribute("aria-current"); }
    });
    say(T.loading);
    delete document.body.dataset.page;
    pages[name]().then(function () { say(""); }).catch(failed);
  }

  api("me").then(function (data) {
    me = data;
    T = data.texts;
    document.documentElement.lang = T.lang;
    document.documentElement.dir = T.dir;
    document.title = T.title;
    document.querySelectorAll("nav a").forEach(function (a) { a.textContent = T[a.dataset.page]; });
    document.getElementById("tabs").hidden = false;
    document.body.dataset.user = String(data.user);
    window.addEventListener("hashchange", route);
    route();
  }).catch(failed);
}());
