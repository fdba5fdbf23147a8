// The desk's Groups and people page (see bot/web/desk_groups.py): a group's contacts (checked
// by the importer's rules), its safeguarding contact, its admins and volunteers, a one-time
// invite (link and QR code), and giving or taking away roles. Every text comes from the server
// and is set as text; only the QR code, drawn by the server as SVG, is parsed (as SVG).
(function () {
  "use strict";
  var D = window.Desk;
  if (!D) { return; }
  var el = D.el;
  var G = {};  // this page's words

  function query() {
    return new URLSearchParams(window.location.hash.split("?")[1] || "");
  }

  function section(name, title) {
    var box = el("section", { "class": "card", "data-section": name });
    box.appendChild(el("h2", {}, title));
    D.page.appendChild(box);
    return box;
  }

  function change(button, path, body) {
    button.disabled = true;
    return D.api(path, body).then(function (data) {
      if (data.ok === false && data.problems) { button.disabled = false; return data; }
      return groups().then(function () { D.say(data.message); return data; });
    }).catch(function (error) { button.disabled = false; D.failed(error); });
  }

  function contactsForm(group) {
    var box = section("contacts", G.contacts);
    var form = el("form", { id: "contacts" });
    var inputs = {};
    ["email", "website", "phone", "telegram"].forEach(function (name) {
      var id = "contact-" + name;
      var field = el("div", { "class": "field" });
      field.appendChild(el("label", { "for": id }, G[name]));
      var input = el("input", {
        id: id, name: name, dir: "ltr", autocomplete: "off",
        type: name === "email" ? "email" : name === "website" ? "url" : name === "phone" ? "tel" : "text"
      });
      input.value = group.contacts[name];
      field.appendChild(input);
      field.appendChild(el("p", { "class": "problem", "data-problem": name, role: "alert" }));
      inputs[name] = input;
      form.appendChild(field);
    });
    var save = el("button", { type: "submit", "data-action": "contacts" }, G.save);
    form.appendChild(save);
    form.noValidate = true;  // the server checks, with the importer's rules and words
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { group: group.id };
      Object.keys(inputs).forEach(function (name) { body[name] = inputs[name].value; });
      form.querySelectorAll(".problem").forEach(function (p) { p.textContent = ""; });
      change(save, "group/contacts", body).then(function (data) {
        if (!data || data.ok !== false) { return; }
        var first = null;
        Object.keys(data.problems).forEach(function (name) {
          form.querySelector("[data-problem=" + name + "]").textContent = data.problems[name];
          inputs[name].setAttribute("aria-invalid", "true");
          first = first || inputs[name];
        });
        if (first) { first.focus(); }
      });
    });
    box.appendChild(form);
  }

  function member(group, m) {
    var li = el("li", { "data-user": String(m.user), "data-role": m.role });
    var who = el("p");
    who.appendChild(el("bdi", {}, m.name));
    who.appendChild(document.createTextNode(" · " + G[m.role]));
    li.appendChild(who);
    function button(action, text, path, body, quiet) {
      var b = el("button", { type: "button", "data-action": action }, text);
      if (quiet) { b.className = "quiet"; }
      b.addEventListener("click", function () { change(b, path, body); });
      li.appendChild(b);
    }
    var role = { group: group.id, user: m.user };
    if (m.role === "volunteer") {
      button("make-admin", G.make_admin, "role", Object.assign({ action: "grant", role: "admin" }, role));
    } else {
      button("not-admin", G.not_admin, "role", Object.assign({ action: "revoke", role: "admin" }, role), true);
    }
    if (!group.safeguarding || group.safeguarding.user !== m.user) {
      button("make-contact", G.make_contact, "group/safeguarding", role, true);
    }
    if (m.role === "volunteer") {
      button("remove", G.remove, "role", Object.assign({ action: "revoke", role: "volunteer" }, role), true);
    }
    return li;
  }

  function inviteBox(group) {
    var box = section("invite", G.invite);
    var go = el("button", { type: "button", "data-action": "invite" }, G.invite);
    var shown = el("div", { id: "invite" });
    go.addEventListener("click", function () {
      go.disabled = true;
      D.api("group/invite", { group: group.id }).then(function (data) {
        go.disabled = false;
        shown.textContent = "";
        shown.appendChild(el("p", { "class": "text" }, data.message));
        var a = el("a", { href: data.link, dir: "ltr", id: "invite-link" }, data.link);
        shown.appendChild(a);
        var svg = new DOMParser().parseFromString(data.qr, "image/svg+xml").documentElement;
        if (svg && svg.nodeName === "svg") {
          var node = document.importNode(svg, true);
          node.setAttribute("class", "qr");
          node.setAttribute("role", "img");
          node.setAttribute("aria-label", data.link);
          shown.appendChild(node);
        }
        a.focus();
      }).catch(function (error) { go.disabled = false; D.failed(error); });
    });
    box.appendChild(go);
    box.appendChild(shown);
  }

  // A poster of the group's coming activities in one to three languages (the server draws the
  // PDF as `sanctuary-bot poster` does).
  function posterBox(group, poster) {
    var box = section("poster", G.poster);
    box.appendChild(D.posterForm(poster, G, "group/poster", { group: String(group.id) }));
  }

  function giveForm(group, coordinator) {
    var box = section("give", G.give);
    var form = el("form", { id: "give" });
    var user = el("input", { id: "give-user", inputmode: "numeric", dir: "ltr", autocomplete: "off" });
    var userField = el("div", { "class": "field" });
    userField.appendChild(el("label", { "for": "give-user" }, G.user_id));
    userField.appendChild(user);
    form.appendChild(userField);
    var role = el("select", { id: "give-role" });
    role.appendChild(el("option", { value: "admin" }, G.admin));
    if (coordinator) { role.appendChild(el("option", { value: "coordinator" }, G.coordinator)); }
    var roleField = el("div", { "class": "field" });
    roleField.appendChild(el("label", { "for": "give-role" }, G.role));
    roleField.appendChild(role);
    form.appendChild(roleField);
    var go = el("button", { type: "submit", "data-action": "give" }, G.give_button);
    form.appendChild(go);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var id = Number(user.value.trim());
      if (!/^[0-9]+$/.test(user.value.trim()) || !id) { user.focus(); return; }
      change(go, "role", { action: "grant", role: role.value, group: group.id, user: id });
    });
    box.appendChild(form);
  }

  function groups() {
    var q = query();
    return D.api("groups?" + q.toString()).then(function (data) {
      G = data.texts;
      var group = data.group;
      var me = D.me();
      D.page.textContent = "";
      D.heading(G.groups);
      if (me.groups.length > 1) {
        var filters = el("div", { "class": "filters" });
        var pick = el("select", { "aria-label": G.groups, id: "groups-group" });
        me.groups.forEach(function (g) { pick.appendChild(el("option", { value: String(g.id) }, g.name)); });
        pick.value = String(group.id);
        pick.addEventListener("change", function () { window.location.hash = "groups?group=" + pick.value; });
        filters.appendChild(pick);
        D.page.appendChild(filters);
      }
      var name = el("h2", { id: "group-name", "data-group": String(group.id) });
      name.appendChild(el("bdi", {}, group.name));
      D.page.appendChild(name);
      contactsForm(group);
      var safe = section("safeguarding", G.safeguarding);
      var now = el("p", { id: "safeguarding" });
      now.appendChild(el("bdi", {}, group.safeguarding ? group.safeguarding.name : G.nobody));
      safe.appendChild(now);
      var team = section("team", G.team);
      var list = el("ul", { "class": "people" });
      group.team.forEach(function (m) { list.appendChild(member(group, m)); });
      team.appendChild(list);
      if (!group.team.some(function (m) { return m.role === "volunteer"; })) {
        team.appendChild(el("p", { "class": "hint" }, G.no_team));
      }
      inviteBox(group);
      if (data.poster) { posterBox(group, data.poster); }  // only where the poster extra is installed
      giveForm(group, data.coordinator);
      if (data.coordinators) {
        var coords = section("coordinators", G.coordinators);
        var cl = el("ul", { "class": "people" });
        data.coordinators.forEach(function (c) {
          var li = el("li", { "data-user": String(c.user), "data-role": "coordinator" });
          var who = el("p");
          who.appendChild(el("bdi", {}, c.name));
          li.appendChild(who);
          var b = el("button", { type: "button", "class": "quiet", "data-action": "not-coordinator" }, G.take_away);
          b.addEventListener("click", function () {
            change(b, "role", { action: "revoke", role: "coordinator", user: c.user });
          });
          li.appendChild(b);
          cl.appendChild(li);
        });
        coords.appendChild(cl);
      }
      D.done("groups");
    });
  }

  D.pages.groups = groups;
}());
