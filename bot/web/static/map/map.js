// The map Mini App: the results page's pins, numbered as in the list (see bot/web/map.py).
// Every text is set with textContent, never as HTML.
(function () {
  "use strict";
  var tg = window.Telegram && window.Telegram.WebApp;
  if (tg) { tg.ready(); tg.expand(); }
  var query = new URLSearchParams(window.location.search);
  var note = document.getElementById("note");

  function say(text) { note.textContent = text; note.hidden = false; }

  function popup(pin, data) {
    var card = document.createElement("div");
    card.className = "card";
    card.dir = data.dir;
    var title = document.createElement("b");
    title.textContent = pin.number + ". ";
    var name = document.createElement("bdi");  // a title in another script keeps its order
    name.textContent = pin.title;
    title.appendChild(name);
    card.appendChild(title);
    pin.lines.forEach(function (line) {
      var div = document.createElement("div");
      div.textContent = line;
      card.appendChild(div);
    });
    if (tg && tg.initData) {  // only inside Telegram can the card be sent to the chat
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = data.texts.open;
      button.addEventListener("click", function () {
        button.disabled = true;
        fetch("api/open", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ init_data: tg.initData, card: pin.card })
        }).then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          tg.close();
        }).catch(function () {
          button.disabled = false;
          var failed = document.createElement("div");
          failed.className = "failed";
          failed.textContent = data.texts.failed;
          card.appendChild(failed);
        });
      });
      card.appendChild(button);
    }
    return card;
  }

  function show(data) {
    document.documentElement.lang = data.lang;
    document.documentElement.dir = data.dir;
    document.title = data.texts.title;
    var map = L.map("map", { maxZoom: data.tiles.max_zoom });
    // OpenStreetMap's tile policy: no prefetching beyond what is on screen, its attribution.
    L.tileLayer(data.tiles.url, {
      maxZoom: data.tiles.max_zoom,
      attribution: data.tiles.attribution,
      keepBuffer: 0,
      updateWhenIdle: true,
      referrerPolicy: "strict-origin-when-cross-origin"
    }).addTo(map);
    if (!data.pins.length) {
      map.setView([54.5, -3], 5);
      say(data.texts.none);
      return;
    }
    var points = data.pins.map(function (pin) { return [pin.lat, pin.lon]; });
    map.fitBounds(points, { padding: [40, 40], maxZoom: 16 });  // a view before any marker
    data.pins.forEach(function (pin) {
      var face = document.createElement("div");
      face.className = "pin";
      var number = document.createElement("span");
      number.textContent = pin.number;
      face.appendChild(number);
      var marker = L.marker([pin.lat, pin.lon], {
        icon: L.divIcon({ className: "", html: face, iconSize: [30, 30], iconAnchor: [15, 34],
                          popupAnchor: [0, -34] }),
        title: pin.number + ". " + pin.title,
        alt: pin.number + ". " + pin.title
      }).addTo(map);
      marker.bindPopup(function () { return popup(pin, data); });
      marker.getElement().setAttribute("data-number", pin.number);
    });
    document.body.setAttribute("data-pins", String(data.pins.length));
  }

  fetch("api/results?" + query.toString())
    .then(function (response) { return response.json(); })
    .then(show)
    .catch(function (error) { say("…"); console.error(String(error)); });
}());
