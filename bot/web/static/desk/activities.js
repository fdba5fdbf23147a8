// The desk's Activities page (see bot/web/desk_activities.py): a table with filters, one
// activity's card with edit (one part at a time, checked by the bot's own rules), pause or
// resume, cancel one date, and its poster; CSV import (checked first: every problem listed by
// row, nothing saved until confirmed) and export. Every text comes from the server and is set
// as text.
(function () {
  "use strict";
  var D = window.Desk;
  if (!D) { return; }
  var el = D.el;
  var A = {};  // this page's words
  var C = {};  // the choices of its filters and forms

  function query() {
    return new URLSearchParams(window.location.hash.split("?")[1] || "");
  }

  function labelled(id, text, control) {
    var box = el("div", { "class": "field" });
    box.appendChild(el("label", { "for": id }, text));
    control.id = id;
    box.appendChild(control);
    return box;
  }

  function select(options, value, first) {
    var s = el("select");
    if (first !== undefined) { s.appendChild(el("option", { value: "" }, first)); }
    options.forEach(function (o) { s.appendChild(el("option", { value: String(o.value) }, o.label)); });
    if (value !== undefined && value !== null) { s.value = String(value); }
    return s;
  }

  function checks(name, legend, options, chosen) {
    var box = el("fieldset", { "data-name": name });
    box.appendChild(el("legend", {}, legend));
    options.forEach(function (o) {
      var label = el("label", { "class": "check" });
      var input = el("input", { type: "checkbox", value: String(o.value) });
      input.checked = chosen.map(String).indexOf(String(o.value)) >= 0;
      label.appendChild(input);
      label.appendChild(el("bdi", {}, o.label));
      box.appendChild(label);
    });
    return box;
  }

  function checked(box, numbers) {
    var found = [];
    box.querySelectorAll("input:checked").forEach(function (i) {
      found.push(numbers ? Number(i.value) : i.value);
    });
    return found;
  }

  function text(name, value, long) {
    var input = long ? el("textarea", { name: name }) : el("input", { type: "text", name: name });
    input.value = value || "";
    return input;
  }

  // -- one part of the activity, as a form ----------------------------------------------------

  function fields(section, form, box) {
    var get;
    if (["title", "description", "cost", "contact"].indexOf(section) >= 0) {
      var input = text(section, form[section], section === "description");
      box.appendChild(labelled("edit-" + section, labelOf(C.sections, section), input));
      get = function () { var v = {}; v[section] = input.value; return v; };
    } else if (section === "category") {
      var category = select(C.categories, form.category);
      box.appendChild(labelled("edit-category", labelOf(C.sections, section), category));
      get = function () { return { category: category.value }; };
    } else if (section === "languages" || section === "needs") {
      var many = checks(section, labelOf(C.sections, section), C[section], form[section]);
      box.appendChild(many);
      get = function () { var v = {}; v[section] = checked(many, false); return v; };
    } else if (section === "where") {
      var address = text("address", form.address);
      var venue = text("venue", form.venue);
      box.appendChild(labelled("edit-address", A.address, address));
      box.appendChild(labelled("edit-venue", A.venue, venue));
      get = function () { return { address: address.value, venue: venue.value }; };
    } else {
      get = when(form, box);
    }
    return get;
  }

  function when(form, box) {
    var repeat = select(C.kinds, form.repeat);
    var days = checks("days", A.days, C.weekdays, form.days);
    var nth = select(C.nths, form.nth);
    var weekday = select(C.weekdays, form.weekday);
    var date = text("date", form.date);
    var time = text("time", form.time);
    var until = text("until", form.until);
    var skips = text("skips", form.skips);
    var monthly = el("div");
    monthly.appendChild(labelled("edit-nth", A.nth, nth));
    monthly.appendChild(labelled("edit-weekday", A.weekday, weekday));
    var series = el("div");
    series.appendChild(labelled("edit-until", A.until, until));
    series.appendChild(labelled("edit-skips", A.skips, skips));
    box.appendChild(labelled("edit-repeat", A.repeat, repeat));
    box.appendChild(days);
    box.appendChild(monthly);
    box.appendChild(labelled("edit-date", A.date, date));
    box.appendChild(labelled("edit-time", A.time, time));
    box.appendChild(series);
    function shown() {
      days.hidden = ["weekly", "fortnightly"].indexOf(repeat.value) < 0;
      monthly.hidden = repeat.value !== "monthly";
      series.hidden = repeat.value === "once";
    }
    repeat.addEventListener("change", shown);
    shown();
    return function () {
      return {
        repeat: repeat.value, days: checked(days, true), nth: Number(nth.value),
        weekday: Number(weekday.value), date: date.value, time: time.value,
        until: until.value, skips: skips.value
      };
    };
  }

  function labelOf(options, value) {
    var found = options.filter(function (o) { return String(o.value) === String(value); })[0];
    return found ? found.label : value;
  }

  function editForm(item, detail) {
    var old = detail.querySelector("form");
    if (old) { old.remove(); }
    var form = el("form", { "class": "edit" });
    var part = select(C.sections, "title");
    form.appendChild(labelled("edit-section", A.which_part, part));
    var box = el("div");
    form.appendChild(box);
    var get;
    function draw() {
      box.textContent = "";
      get = fields(part.value, item.form, box);
    }
    part.addEventListener("change", draw);
    draw();
    var save = el("button", { type: "submit", "data-action": "save" }, A.save);
    var cancel = el("button", { type: "button", "class": "quiet" }, A.cancel);
    cancel.addEventListener("click", function () { form.remove(); });
    form.appendChild(save);
    form.appendChild(cancel);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      save.disabled = true;
      D.api("activity/edit", { activity: item.id, section: part.value, values: get() })
        .then(function (data) { return reload(item.id, data.message); })
        .catch(function (error) { save.disabled = false; D.failed(error); });
    });
    detail.appendChild(form);
    part.focus();
  }

  function act(button, path, body) {
    button.disabled = true;
    return D.api(path, body).then(function (data) { return reload(body.activity, data.message); })
      .catch(function (error) { button.disabled = false; D.failed(error); });
  }

  function datesForm(item, detail) {
    var old = detail.querySelector("form");
    if (old) { old.remove(); }
    var form = el("form", { "class": "dates" });
    if (!item.dates.length) {
      form.appendChild(el("p", {}, A.no_dates));
    } else {
      var pick = select(item.dates.map(function (d) { return { value: d.start, label: d.label }; }));
      form.appendChild(labelled("cancel-date", A.which_date, pick));
      var go = el("button", { type: "submit", "data-action": "cancel-date" }, A.cancel_date);
      form.appendChild(go);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        act(go, "activity/cancel-date", { activity: item.id, start: pick.value });
      });
    }
    var no = el("button", { type: "button", "class": "quiet" }, A.cancel);
    no.addEventListener("click", function () { form.remove(); });
    form.appendChild(no);
    detail.appendChild(form);
    (form.querySelector("select") || no).focus();
  }

  function showDetail(id) {
    return D.api("activity?id=" + encodeURIComponent(id)).then(function (item) {
      var detail = document.getElementById("activity-detail");
      detail.textContent = "";
      detail.hidden = false;
      detail.dataset.activity = String(item.id);
      var h = el("h2", { tabindex: "-1" });
      h.appendChild(el("bdi", {}, item.title));
      detail.appendChild(h);
      var where = el("p", { "class": "hint" });
      where.appendChild(el("bdi", {}, item.group));
      where.appendChild(document.createTextNode(" · " + labelOf(C.statuses, item.status)));
      detail.appendChild(where);
      detail.appendChild(el("div", { "class": "text card-text" }, item.card));
      if (item.live) {
        var edit = el("button", { type: "button", "data-action": "edit" }, A.edit);
        edit.addEventListener("click", function () { editForm(item, detail); });
        detail.appendChild(edit);
        if (item.pause || item.resume) {
          var paused = !!item.pause;
          var toggle = el("button", { type: "button", "class": "quiet",
            "data-action": paused ? "pause" : "resume" }, paused ? A.pause : A.resume);
          toggle.addEventListener("click", function () {
            act(toggle, "activity/pause", { activity: item.id, paused: paused });
          });
          detail.appendChild(toggle);
        }
        if (item.repeats) {
          var dates = el("button", { type: "button", "class": "quiet", "data-action": "dates" }, A.cancel_date);
          dates.addEventListener("click", function () { datesForm(item, detail); });
          detail.appendChild(dates);
        }
      }
      if (item.poster) {  // a poster of this activity, with the QR code of its link in the bot
        var box = el("section", { "data-section": "poster" });
        box.appendChild(el("h3", {}, A.poster));
        box.appendChild(D.posterForm(item.poster, A, "activity/poster", { activity: String(item.id) }));
        detail.appendChild(box);
      }
      h.focus();
    });
  }

  function reload(id, message) {
    return table().then(function () { return showDetail(id); }).then(function () { D.say(message); });
  }

  // -- CSV ------------------------------------------------------------------------------------

  function csvTools() {
    var box = el("section", { "class": "card", id: "csv" });
    var exp = el("button", { type: "button", "class": "quiet", "data-action": "export" }, A["export"]);
    exp.addEventListener("click", function () {
      D.api("activities/export").then(function (data) {
        var link = el("a", { download: data.filename });
        link.href = URL.createObjectURL(new Blob([data.csv], { type: "text/csv" }));
        document.body.appendChild(link);
        link.click();
        link.remove();
      }).catch(D.failed);
    });
    box.appendChild(exp);
    var form = el("form", { "class": "import" });
    var file = el("input", { type: "file", accept: ".csv,text/csv", required: "" });
    form.appendChild(labelled("import-file", A["import"], file));
    var check = el("button", { type: "submit", "data-action": "check" }, A.check);
    form.appendChild(check);
    var result = el("div", { id: "import-result", role: "status" });
    form.appendChild(result);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!file.files.length) { file.focus(); return; }
      file.files[0].text().then(function (csv) {
        check.disabled = true;
        return D.api("activities/import", { csv: csv }).then(function (data) {
          check.disabled = false;
          result.textContent = "";
          if (!data.ok) {
            result.appendChild(el("p", {}, A.import_errors));
            var list = el("ul", { "class": "errors" });
            data.errors.forEach(function (e) {
              list.appendChild(el("li", { "data-row": String(e.row), "data-column": e.column }, e.text));
            });
            result.appendChild(list);
            return;
          }
          result.appendChild(el("p", {}, data.message));
          var yes = el("button", { type: "button", "data-action": "confirm" }, A.confirm);
          yes.addEventListener("click", function () {
            yes.disabled = true;
            D.api("activities/import", { csv: csv, confirm: true }).then(function (done) {
              return table().then(function () { D.say(done.message); });
            }).catch(function (error) { yes.disabled = false; D.failed(error); });
          });
          result.appendChild(yes);
          yes.focus();
        });
      }).catch(function (error) { check.disabled = false; D.failed(error); });
    });
    box.appendChild(form);
    return box;
  }

  // -- the table ------------------------------------------------------------------------------

  function filters(q) {
    var box = el("div", { "class": "filters" });
    var me = D.me();
    var group = select(me.groups.map(function (g) { return { value: g.id, label: g.name }; }),
      q.get("group"), A.every_group);
    var status = select(C.statuses, q.get("status"), A.everything);
    var missing = select(C.missing, q.get("missing"), A.any_language);
    var stale = el("input", { type: "checkbox", id: "filter-stale" });
    stale.checked = q.get("stale") === "1";
    box.appendChild(labelled("filter-group", A.group, group));
    box.appendChild(labelled("filter-status", A.status, status));
    box.appendChild(labelled("filter-missing", A.missing, missing));
    var staleLabel = el("label", { "class": "check" });
    staleLabel.appendChild(stale);
    staleLabel.appendChild(document.createTextNode(A.stale));
    box.appendChild(staleLabel);
    function filter() {
      var next = new URLSearchParams();
      if (group.value) { next.set("group", group.value); }
      if (status.value) { next.set("status", status.value); }
      if (missing.value) { next.set("missing", missing.value); }
      if (stale.checked) { next.set("stale", "1"); }
      window.location.hash = "activities?" + next.toString();
    }
    [group, status, missing, stale].forEach(function (c) { c.addEventListener("change", filter); });
    return box;
  }

  function rowsInto(body, rows) {
    rows.forEach(function (r) {
      var tr = el("tr", { "data-activity": String(r.id), "data-status": r.status });
      var name = el("td");
      var open = el("button", { type: "button", "class": "link" });
      open.appendChild(el("bdi", {}, r.title));
      open.addEventListener("click", function () { showDetail(r.id).catch(D.failed); });
      name.appendChild(open);
      var group = el("div", { "class": "hint" });
      group.appendChild(el("bdi", {}, r.group));
      name.appendChild(group);
      tr.appendChild(name);
      tr.appendChild(el("td", {}, r.status_label));
      if (C.missing.length) { tr.appendChild(el("td", { "class": "hint" }, r.missing.join(" "))); }
      body.appendChild(tr);
    });
  }

  function table() {
    var q = query();
    return D.api("activities?" + q.toString()).then(function (data) {
      var list = document.getElementById("activity-rows");
      list.textContent = "";
      rowsInto(list, data.rows);
      var more = document.getElementById("activity-more");
      more.hidden = data.next === null;
      more.dataset.next = data.next === null ? "" : String(data.next);
      document.getElementById("activity-none").hidden = data.rows.length > 0;
    });
  }

  D.pages.activities = function () {
    var q = query();
    return D.api("activities?" + q.toString()).then(function (data) {
      A = data.texts;
      C = data.choices;
      var page = D.page;
      page.textContent = "";
      D.heading(A.activities);
      page.appendChild(filters(q));
      var detail = el("section", { "class": "card", id: "activity-detail", hidden: "" });
      page.appendChild(detail);
      var scroll = el("div", { "class": "scroll" });
      var grid = el("table", { "class": "activities" });
      var head = el("tr");
      var names = [labelOf(C.sections, "title"), A.status];
      if (C.missing.length) { names.push(A.missing); }  // only when people read other languages
      names.forEach(function (name) {
        head.appendChild(el("th", { scope: "col" }, name));
      });
      var thead = el("thead");
      thead.appendChild(head);
      grid.appendChild(thead);
      var body = el("tbody", { id: "activity-rows" });
      grid.appendChild(body);
      scroll.appendChild(grid);
      page.appendChild(scroll);
      rowsInto(body, data.rows);
      var none = el("p", { id: "activity-none" }, A.nothing);
      none.hidden = data.rows.length > 0;
      page.appendChild(none);
      var more = el("button", { type: "button", "class": "quiet", id: "activity-more" }, A.more);
      more.hidden = data.next === null;
      more.dataset.next = data.next === null ? "" : String(data.next);
      more.addEventListener("click", function () {
        var next = query();
        next.set("offset", more.dataset.next);
        D.api("activities?" + next.toString()).then(function (page2) {
          rowsInto(body, page2.rows);
          more.hidden = page2.next === null;
          more.dataset.next = page2.next === null ? "" : String(page2.next);
        }).catch(D.failed);
      });
      page.appendChild(more);
      page.appendChild(csvTools());
      D.done("activities");
    });
  };
}());
