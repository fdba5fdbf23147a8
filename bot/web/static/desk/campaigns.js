// The desk's Campaigns page (see bot/web/desk_campaigns.py): the latest calls with their results,
// pause, resume and cancel; a call composed with the English and one translation side by side,
// checked by the bot's own rules, a preview in each language as supporters will see it, who it
// reaches, when it goes, and sending it. Every text comes from the server and is set as text.
(function () {
  "use strict";
  var D = window.Desk;
  if (!D) { return; }
  var el = D.el;
  var C = {};  // this page's words

  function query() {
    return new URLSearchParams(window.location.hash.split("?")[1] || "");
  }

  function field(id, label, control) {
    var box = el("div", { "class": "field" });
    box.appendChild(el("label", { "for": id }, label));
    control.id = id;
    box.appendChild(control);
    return box;
  }

  function problemOf(form) {
    var p = form.querySelector(".problem");
    if (!p) { p = el("p", { "class": "problem", role: "alert" }); form.appendChild(p); }
    return p;
  }

  // Send one change; on a problem say it next to the form, else show the call again.
  function save(form, button, body) {
    button.disabled = true;
    problemOf(form).textContent = "";
    return D.api("campaign/edit", body).then(function (data) {
      button.disabled = false;
      if (!data.ok) { problemOf(form).textContent = data.problem; return; }
      draw(data.call);
      D.say(data.message);
    }).catch(function (error) { button.disabled = false; D.failed(error); });
  }

  function act(button, id, action) {
    button.disabled = true;
    return D.api("campaign/act", { campaign: id, action: action }).then(function (data) {
      if (!data.ok) { button.disabled = false; D.say(data.problem); return; }
      var again = action === "discard" || !query().get("call") ? list() : open(id);
      return again.then(function () {
        D.say(data.message);
      });
    }).catch(function (error) { button.disabled = false; D.failed(error); });
  }

  function textBox(prefix, call, title, body, dir, language) {
    var form = el("form", { "class": "side", "data-language": language, dir: dir });
    var t = el("input", { dir: dir, autocomplete: "off" });
    t.value = title;
    var b = el("textarea", { dir: dir, rows: "8" });
    b.value = body;
    form.appendChild(field(prefix + "-title", C.title, t));
    form.appendChild(field(prefix + "-body", C.text, b));
    var go = el("button", { type: "submit", "data-action": "save-" + language }, C.save);
    form.appendChild(go);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (language === "en") {
        // title then text, each checked as the bot checks it
        D.api("campaign/edit", { campaign: call.id, part: "title", value: t.value }).then(function (data) {
          if (!data.ok) { problemOf(form).textContent = data.problem; return; }
          save(form, go, { campaign: call.id, part: "body", value: b.value });
        }).catch(D.failed);
      } else {
        save(form, go, { campaign: call.id, part: "translation", language: language, title: t.value, body: b.value });
      }
    });
    if (!call.editable) { form.querySelectorAll("input, textarea, button").forEach(function (n) { n.disabled = true; }); }
    return form;
  }

  function preview(call, code) {
    var p = call.previews[code];
    var box = el("div", { "class": "preview", "data-preview": code });
    box.appendChild(el("p", { "class": "hint" }, C.preview_intro));
    var language = call.languages.filter(function (l) { return l.code === code; })[0];
    var message = el("div", { "class": "message text", dir: language ? language.dir : "ltr" }, p.text);
    box.appendChild(message);
    p.buttons.forEach(function (row) {
      var r = el("div", { "class": "keys" });
      row.forEach(function (label) { r.appendChild(el("span", { "class": "key" }, label)); });
      box.appendChild(r);
    });
    return box;
  }

  function draw(call) {
    C = call.texts;
    var q = query();
    var language = q.get("language") || (call.languages[0] && call.languages[0].code);
    D.page.textContent = "";
    D.heading(C.campaigns);
    var back = el("a", { href: "#campaigns" }, "⬅ " + C.campaigns);
    D.page.appendChild(back);
    var head = el("h2", { id: "call", "data-call": String(call.id), "data-state": call.state });
    head.appendChild(el("bdi", {}, "#" + call.id + " " + call.title));
    head.appendChild(document.createTextNode(" · " + call.state_label));
    D.page.appendChild(head);

    // the English and one translation, side by side (stacked on a phone)
    var pick = el("select", { id: "call-language" });
    call.languages.forEach(function (l) {
      var mark = call.translations[l.code] ? "✅ " : "";
      pick.appendChild(el("option", { value: l.code }, mark + l.name));
    });
    pick.value = language;
    pick.addEventListener("change", function () {
      // the language shown already: no new page, which would drop what was typed meanwhile
      if (pick.value === language) { return; }
      window.location.hash = "campaigns?call=" + call.id + "&language=" + pick.value;
    });
    D.page.appendChild(field("call-language", C.translations, pick));
    var sides = el("div", { "class": "sides" });
    var en = el("section", { "class": "card" });
    en.appendChild(el("h2", {}, C.english));
    en.appendChild(textBox("en", call, call.title, call.body, "ltr", "en"));
    en.appendChild(preview(call, "en"));
    var other = el("section", { "class": "card" });
    var chosen = call.languages.filter(function (l) { return l.code === language; })[0];
    other.appendChild(el("h2", {}, C.translation + " · " + (chosen ? chosen.name : language)));
    var tr = call.translations[language] || { title: "", body: "" };
    other.appendChild(textBox("tr", call, tr.title, tr.body, chosen ? chosen.dir : "ltr", language));
    other.appendChild(preview(call, language));
    sides.appendChild(en);
    sides.appendChild(other);
    D.page.appendChild(sides);

    // the action link
    var urlForm = el("form", { "class": "card" });
    var url = el("input", { dir: "ltr", type: "url", autocomplete: "off" });
    url.value = call.url;
    urlForm.appendChild(field("call-url", C.url, url));
    var urlGo = el("button", { type: "submit", "data-action": "save-url" }, C.save);
    urlForm.appendChild(urlGo);
    urlForm.noValidate = true;
    urlForm.addEventListener("submit", function (event) {
      event.preventDefault();
      save(urlForm, urlGo, { campaign: call.id, part: "url", value: url.value });
    });
    if (!call.editable) { url.disabled = true; urlGo.disabled = true; }
    D.page.appendChild(urlForm);

    // who it goes to and when (before it is sent only)
    var who = el("form", { "class": "card", id: "call-audience" });
    var topics = el("fieldset");
    topics.appendChild(el("legend", {}, C.topics));
    call.topics.forEach(function (t) {
      var label = el("label", { "class": "check" });
      var box = el("input", { type: "checkbox", value: t.code, name: "topic" });
      box.checked = t.on;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + t.label));
      topics.appendChild(label);
    });
    who.appendChild(topics);
    var area = el("select");
    call.areas.forEach(function (a) { area.appendChild(el("option", { value: a.code }, a.label)); });
    area.value = call.area;
    who.appendChild(field("call-area", C.area, area));
    var place = el("input", { autocomplete: "off" });
    place.value = call.place;
    var placeField = field("call-place", C.place, place);
    who.appendChild(placeField);
    function placeShown() { placeField.hidden = area.value !== "near"; }
    area.addEventListener("change", placeShown);
    placeShown();
    var when = el("select");
    when.appendChild(el("option", { value: "now" }, C.send_now));
    when.appendChild(el("option", { value: "at" }, C.at));
    when.value = call.send_at ? "at" : "now";
    who.appendChild(field("call-when", C.when, when));
    var at = el("input", { dir: "ltr", autocomplete: "off", placeholder: call.when_example });
    var atField = field("call-at", call.when_example, at);
    who.appendChild(atField);
    function atShown() { atField.hidden = when.value !== "at"; }
    when.addEventListener("change", atShown);
    atShown();
    var whoGo = el("button", { type: "submit", "data-action": "save-audience" }, C.save);
    who.appendChild(whoGo);
    who.addEventListener("submit", function (event) {
      event.preventDefault();
      var codes = [];
      topics.querySelectorAll("input:checked").forEach(function (b) { codes.push(b.value); });
      var id = call.id;
      var steps = [
        { campaign: id, part: "topics", value: codes },
        area.value === "near" ? { campaign: id, part: "area", value: "near", place: place.value }
          : { campaign: id, part: "area", value: area.value }
      ];
      if (when.value === "now") { steps.push({ campaign: id, part: "when", value: "" }); }
      else if (at.value.trim()) { steps.push({ campaign: id, part: "when", value: at.value }); }
      var last = steps.pop();
      steps.reduce(function (done, body) {
        return done.then(function (ok) {
          if (!ok) { return false; }
          return D.api("campaign/edit", body).then(function (data) {
            if (!data.ok) { problemOf(who).textContent = data.problem; }
            return data.ok;
          });
        });
      }, Promise.resolve(true)).then(function (ok) {
        if (ok) { save(who, whoGo, last); }
      }).catch(D.failed);
    });
    if (!call.before_launch) { who.querySelectorAll("input, select, button").forEach(function (n) { n.disabled = true; }); }
    D.page.appendChild(who);

    // sending, and what can be done once it is sent
    var go = el("section", { "class": "card", id: "call-send" });
    go.appendChild(el("p", { "class": "text", id: "call-confirm" }, call.confirm));
    if (call.state === "draft") {
      var send = el("button", { type: "button", "data-action": "send" }, C.yes_send);
      send.addEventListener("click", function () { act(send, call.id, "send"); });
      go.appendChild(send);
      var discard = el("button", { type: "button", "class": "quiet", "data-action": "discard" }, C.discard);
      discard.addEventListener("click", function () { act(discard, call.id, "discard"); });
      go.appendChild(discard);
    }
    actions(go, call);
    D.page.appendChild(go);
    D.done("campaigns");
  }

  function actions(box, call) {
    call.actions.forEach(function (a) {
      var b = el("button", { type: "button", "class": a.action === "cancel" ? "quiet" : "", "data-action": a.action },
        a.label);
      b.addEventListener("click", function () { act(b, call.id, a.action); });
      box.appendChild(b);
    });
  }

  function open(id) {
    return D.api("campaign?id=" + encodeURIComponent(id)).then(draw);
  }

  function list() {
    return D.api("campaigns").then(function (data) {
      C = data.texts;
      D.page.textContent = "";
      D.heading(C.campaigns);
      var make = el("button", { type: "button", "data-action": "new" }, data.draft ? C.open + " · #" + data.draft : C["new"]);
      make.addEventListener("click", function () {
        make.disabled = true;
        D.api("campaign/new", {}).then(function (made) {
          window.location.hash = "campaigns?call=" + made.id;
        }).catch(function (error) { make.disabled = false; D.failed(error); });
      });
      D.page.appendChild(make);
      if (!data.calls.length) { D.page.appendChild(el("p", {}, data.empty)); }
      data.calls.forEach(function (c) {
        var box = el("section", { "class": "card", "data-call": String(c.id), "data-state": c.state });
        var h = el("h2");
        var a = el("a", { href: "#campaigns?call=" + c.id });
        a.appendChild(el("bdi", {}, "#" + c.id + " " + (c.title || "—")));
        h.appendChild(a);
        box.appendChild(h);
        box.appendChild(el("p", { "class": "hint" }, c.state_label));
        box.appendChild(el("p", { "class": "results" }, c.results));
        if (c.time_left) { box.appendChild(el("p", { "class": "hint" }, c.time_left)); }
        actions(box, { id: c.id, actions: c.actions });
        D.page.appendChild(box);
      });
      D.done("campaigns");
    });
  }

  D.pages.campaigns = function () {
    var id = query().get("call");
    return id ? open(id) : list();
  };
}());
