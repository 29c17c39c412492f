(function () {
  var query = new URLSearchParams(window.location.search);
  if (query.has("tz")) { return; }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  var select = document.getElementById("tz");
  if (!zone || !select || select.getAttribute("data-shown") === zone) { return; }
  query.set("tz", zone);
  window.location.replace("?" + query.toString());
})();
