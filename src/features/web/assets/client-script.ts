/**
 * The web app's one script, served at /assets/app.js: plain browser JavaScript, no framework. It
 * runs only the part for the page it is on (`<body data-page>`) and talks to the /v1 API with the
 * session cookie, exactly as any API client does. A string, so that edge bundles need no file
 * loader; String.raw keeps its backslashes, and it uses no template literals of its own.
 */
export const CLIENT_SCRIPT = `"use strict";
(function () {
  var SVG_NS = "http://www.w3.org/2000/svg";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (attrs[name] !== null && attrs[name] !== undefined) node.setAttribute(name, String(attrs[name]));
    });
    (children || []).forEach(function (child) { node.append(child); });
    return node;
  }

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, String(attrs[name])); });
    (children || []).forEach(function (child) { node.append(child); });
    return node;
  }

  function problemMessage(body, status) {
    if (body && body.detail) return body.detail;
    if (body && body.title) return body.title;
    return "The server answered " + status;
  }

  /** A JSON request to the API with the session cookie; rejects with the problem's detail. */
  async function api(method, url, body) {
    var init = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var res = await fetch(url, init);
    var data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (err) { data = null; }
    }
    if (!res.ok) throw new Error(problemMessage(data, res.status));
    return data;
  }

  function say(target, message, kind) {
    target.textContent = message;
    target.className = kind || "note";
    target.hidden = !message;
  }

  function debounce(fn, ms) {
    var timer = 0;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function number(form, name) {
    var field = form.elements.namedItem(name);
    if (!field || field.value === "") return undefined;
    return Number(field.value);
  }

  function checked(form, name) { return form.elements.namedItem(name).checked; }

  // ---- gallery: upload, delete, start a job ----

  function gallery() {
    var input = $("#upload-input");
    var zone = $("#drop-zone");
    var list = $("#uploads");

    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files);
      input.value = "";
      if (files.length > 0) upload(files);
    });
    zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("over");
      var files = Array.prototype.slice.call(event.dataTransfer.files);
      if (files.length > 0) upload(files);
    });

    function upload(files) {
      var rows = files.map(function (file) {
        var bar = el("progress", { max: 100, value: 0, "aria-label": "Upload of " + file.name });
        var msg = el("span", { class: "msg note", role: "status" }, ["Waiting"]);
        list.append(el("li", {}, [el("span", { class: "name" }, [file.name]), bar, msg]));
        return { file: file, bar: bar, msg: msg };
      });
      var form = new FormData();
      files.forEach(function (file) { form.append("file", file, file.name); });
      var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/v1/images");
      xhr.responseType = "json";
      // One request, its files one after the other: the bytes sent so far tell how far each is.
      xhr.upload.addEventListener("progress", function (event) {
        var sent = event.lengthComputable && event.total > 0 ? (event.loaded / event.total) * total : 0;
        var start = 0;
        rows.forEach(function (row) {
          var part = row.file.size > 0 ? Math.max(0, Math.min(1, (sent - start) / row.file.size)) : 1;
          row.bar.value = Math.round(part * 100);
          row.msg.textContent = part >= 1 ? "Sent, checking" : "Uploading " + Math.round(part * 100) + " %";
          start += row.file.size;
        });
      });
      xhr.addEventListener("load", function () {
        var body = xhr.response || {};
        var refused = {};
        (body.errors || []).forEach(function (problem) { refused[problem.index] = problem; });
        rows.forEach(function (row, index) {
          row.bar.value = 100;
          var problem = refused[index];
          if (problem) say(row.msg, problem.title + ": " + problem.detail, "msg error");
          else if (xhr.status >= 400) say(row.msg, problemMessage(body, xhr.status), "msg error");
          else say(row.msg, "Stored", "msg ok");
        });
        if (xhr.status === 201 || xhr.status === 207) refreshGallery();
      });
      xhr.addEventListener("error", function () {
        rows.forEach(function (row) { say(row.msg, "The upload did not reach the server", "msg error"); });
      });
      xhr.send(form);
    }

    async function refreshGallery() {
      var html = await (await fetch("/", { credentials: "same-origin" })).text();
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("#gallery");
      if (fresh) $("#gallery").replaceWith(document.adoptNode(fresh));
    }

    document.addEventListener("click", async function (event) {
      var button = event.target.closest("button[data-delete]");
      if (!button) return;
      if (!confirm("Delete " + button.dataset.name + "? This cannot be undone.")) return;
      button.disabled = true;
      try {
        await api("DELETE", "/v1/images/" + button.dataset.delete);
        button.closest(".card").remove();
      } catch (err) {
        button.disabled = false;
        alert(err.message);
      }
    });

    var jobForm = $("#job-form");
    jobForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      var message = $("#job-message");
      var ids = $$("input[name=image]:checked").map(function (box) { return box.value; });
      if (ids.length === 0) return say(message, "Choose at least one image (the boxes under the pictures)", "error");
      var task = JSON.parse(jobForm.elements.namedItem("task").value);
      try {
        var job = await api("POST", "/v1/jobs", { image_ids: ids, task: task });
        location.href = "/jobs/" + job.id;
      } catch (err) {
        say(message, err.message, "error");
      }
    });
  }

  // ---- one image: editor, histogram, palette, segmentation ----

  function imagePage() {
    var root = $("#image");
    var id = root.dataset.id;
    var editor = $("#editor");
    var preview = $("#preview");
    var previewNote = $("#preview-note");

    function editorSpec() {
      var spec = {
        width: number(editor, "width"), height: number(editor, "height"),
        fit: editor.elements.namedItem("fit").value,
        rotate: number(editor, "rotate") || 0,
        flip: checked(editor, "flip"), flop: checked(editor, "flop"), grayscale: checked(editor, "grayscale"),
        format: editor.elements.namedItem("format").value, quality: number(editor, "quality"),
        crop: null,
      };
      var cw = number(editor, "crop_width"), ch = number(editor, "crop_height");
      if (cw && ch) spec.crop = { left: number(editor, "crop_left") || 0, top: number(editor, "crop_top") || 0, width: cw, height: ch };
      return spec;
    }

    // The render URL shows everything but the crop, which only the transform takes.
    function renderUrl(spec) {
      var query = new URLSearchParams();
      if (spec.width) query.set("w", spec.width);
      if (spec.height) query.set("h", spec.height);
      if (spec.width || spec.height) query.set("fit", spec.fit);
      if (spec.rotate) query.set("rotate", spec.rotate);
      if (spec.flip) query.set("flip", "true");
      if (spec.flop) query.set("flop", "true");
      if (spec.grayscale) query.set("grayscale", "true");
      if (spec.format) query.set("format", spec.format);
      if (spec.quality) query.set("q", spec.quality);
      return "/v1/images/" + id + "/render?" + query.toString();
    }

    function transformBody(spec) {
      var operations = [];
      if (spec.crop) operations.push({ op: "crop", left: spec.crop.left, top: spec.crop.top, width: spec.crop.width, height: spec.crop.height });
      if (spec.rotate) operations.push({ op: "rotate", angle: spec.rotate });
      if (spec.flip) operations.push({ op: "flip" });
      if (spec.flop) operations.push({ op: "flop" });
      if (spec.width || spec.height) operations.push({ op: "resize", width: spec.width, height: spec.height, fit: spec.fit });
      if (spec.grayscale) operations.push({ op: "grayscale" });
      var body = { operations: operations };
      if (spec.format) body.format = spec.format;
      if (spec.quality) body.quality = spec.quality;
      return body;
    }

    function updatePreview() {
      if (!editor.checkValidity()) return say(previewNote, "Fix the highlighted field first", "error");
      var spec = editorSpec();
      say(previewNote, "Rendering…");
      preview.src = renderUrl(spec);
    }
    preview.addEventListener("load", function () {
      say(previewNote, "Preview: " + preview.naturalWidth + " × " + preview.naturalHeight + (editorSpec().crop ? " (the crop applies when saved)" : ""));
    });
    preview.addEventListener("error", function () { say(previewNote, "This preview could not be rendered", "error"); });
    editor.addEventListener("input", debounce(updatePreview, 300));
    editor.addEventListener("submit", async function (event) {
      event.preventDefault();
      var saved = $("#saved");
      var button = $("#save");
      button.disabled = true;
      say(saved, "Saving…");
      try {
        var image = await api("POST", "/v1/images/" + id + "/transform", transformBody(editorSpec()));
        saved.replaceChildren("Saved as a new image (" + image.width + " × " + image.height + "): ",
          el("a", { href: "/images/" + image.id, id: "saved-link" }, ["open it"]));
        saved.className = "ok";
      } catch (err) {
        say(saved, err.message, "error");
      } finally {
        button.disabled = false;
      }
    });

    var COLOURS = { r: "#d33", g: "#2a2", b: "#36c", y: "#555", h: "#c6c", s: "#e90", v: "#555", l: "#555", a: "#c36", lab_b: "#39c" };
    var space = $("#space");
    var chart = $("#histogram");
    async function drawHistogram() {
      chart.setAttribute("aria-busy", "true");
      try {
        var data = await api("GET", "/v1/images/" + id + "/histogram?bins=64&space=" + space.value);
        var width = 512, height = 180;
        var plot = svg("svg", { viewBox: "0 0 " + width + " " + (height + 20), role: "img", "aria-label": data.space + " histogram of " + data.pixels + " pixels" });
        plot.append(svg("rect", { x: 0, y: 0, width: width, height: height, fill: "#f7f8fa" }));
        data.channels.forEach(function (channel, index) {
          var peak = Math.max.apply(null, channel.counts) || 1;
          var step = width / channel.counts.length;
          var points = channel.counts.map(function (count, bin) {
            return (bin * step + step / 2).toFixed(1) + "," + (height - (count / peak) * (height - 6)).toFixed(1);
          });
          var colour = COLOURS[data.space === "lab" && channel.name === "b" ? "lab_b" : channel.name] || "#555";
          var line = svg("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 2, "stroke-linejoin": "round", "data-channel": channel.name });
          line.append(svg("title", {}, [channel.name + ": mean " + channel.mean.toFixed(2) + ", median " + channel.median.toFixed(2)]));
          plot.append(line);
          var legend = svg("text", { x: 8 + index * 70, y: height + 15, fill: colour, "font-size": 12, "font-family": "system-ui, sans-serif" }, [channel.name + " μ " + channel.mean.toFixed(1)]);
          plot.append(legend);
        });
        chart.replaceChildren(plot);
        chart.dataset.space = data.space;
      } catch (err) {
        chart.replaceChildren(el("p", { class: "error" }, [err.message]));
      } finally {
        chart.removeAttribute("aria-busy");
      }
    }
    space.addEventListener("change", drawHistogram);
    drawHistogram();

    async function drawPalette() {
      var target = $("#palette");
      try {
        var data = await api("GET", "/v1/images/" + id + "/palette?colors=8");
        target.replaceChildren.apply(target, data.colors.map(function (colour) {
          var chip = svg("svg", { viewBox: "0 0 64 40", role: "img", "aria-label": colour.hex }, [svg("rect", { width: 64, height: 40, fill: colour.hex })]);
          return el("div", { class: "swatch" }, [chip, colour.hex + " · " + Math.round(colour.share * 100) + " %"]);
        }));
      } catch (err) {
        target.replaceChildren(el("p", { class: "error" }, [err.message]));
      }
    }
    drawPalette();

    var segmentForm = $("#segment");
    var method = segmentForm.elements.namedItem("method");
    function showMethodFields() {
      $$("[data-for]", segmentForm).forEach(function (field) {
        field.hidden = field.dataset.for.split(" ").indexOf(method.value) < 0;
      });
    }
    method.addEventListener("change", showMethodFields);
    showMethodFields();
    segmentForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      var message = $("#segment-message");
      var result = $("#segmentation");
      var body = { method: method.value, invert: checked(segmentForm, "invert"), minArea: number(segmentForm, "minArea") || 0 };
      if (method.value === "threshold") body.threshold = number(segmentForm, "threshold");
      if (method.value === "multi-otsu") body.classes = number(segmentForm, "classes");
      if (method.value === "adaptive") body.blockSize = number(segmentForm, "blockSize");
      if (method.value === "region-growing") { body.tolerance = number(segmentForm, "tolerance"); delete body.invert; }
      say(message, "Segmenting…");
      try {
        var seg = await api("POST", "/v1/images/" + id + "/segmentations", body);
        say(message, seg.region_count + " regions (thresholds: " + (seg.thresholds.join(", ") || "none") + ")", "ok");
        var mask = "/v1/segmentations/" + seg.id + "/mask";
        $("#overlay").src = mask + "?kind=overlay";
        $("#cutout").src = mask + "?kind=cutout";
        $("#mask-link").href = mask + "?kind=binary";
        $("#regions").replaceChildren.apply($("#regions"), seg.regions.map(function (region) {
          var chip = svg("svg", { viewBox: "0 0 16 16", width: 16, height: 16, "aria-hidden": "true" }, [svg("rect", { width: 16, height: 16, rx: 3, fill: region.mean_colour.hex })]);
          var box = region.bbox;
          return el("tr", {}, [
            el("td", {}, [String(region.label)]),
            el("td", {}, [region.area.toLocaleString("en")]),
            el("td", {}, [box.left + ", " + box.top + " · " + box.width + " × " + box.height]),
            el("td", {}, [chip, " " + region.mean_colour.hex]),
          ]);
        }));
        result.hidden = false;
      } catch (err) {
        say(message, err.message, "error");
      }
    });
  }

  // ---- one job: live progress from its event stream ----

  function jobPage() {
    var root = $("#job");
    if (root.dataset.finished === "true") return;
    var bar = $("#job-progress");
    var percent = $("#job-percent");
    var status = $("#job-status");
    function showStatus(value) { status.textContent = value.replace("_", " "); status.className = "status " + value; }
    var events = new EventSource("/v1/jobs/" + root.dataset.id + "/events");
    events.addEventListener("progress", function (event) {
      var progress = JSON.parse(event.data);
      bar.value = progress.percent;
      percent.textContent = progress.percent + " %";
      showStatus(progress.status);
    });
    events.addEventListener("item", function (event) {
      var item = JSON.parse(event.data);
      var row = $("#item-" + item.position);
      if (!row) return;
      var cell = $(".item-status", row);
      cell.replaceChildren(el("span", { class: "status " + item.status }, [item.status]));
      if (item.error) cell.append(" " + item.error);
      var result = row.children[3];
      if (item.result_id && item.result_kind === "image") {
        result.replaceChildren(el("a", { href: "/images/" + item.result_id }, ["new image"]));
      } else if (item.result_kind) {
        result.replaceChildren(el("span", { class: "note" }, [item.result_kind]));
      }
    });
    events.addEventListener("done", function (event) {
      events.close();
      var done = JSON.parse(event.data);
      bar.value = done.percent;
      percent.textContent = done.percent + " %";
      showStatus(done.status);
      root.dataset.finished = "true";
      $("#results").hidden = false;
    });
  }

  // ---- settings: API keys, notifications ----

  function settingsPage() {
    var keyForm = $("#key-form");
    keyForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      var message = $("#key-message");
      try {
        var key = await api("POST", "/v1/api-keys", { name: keyForm.elements.namedItem("name").value });
        message.replaceChildren("Your new key, shown this once: ", el("code", { class: "key", id: "new-key" }, [key.key]));
        message.className = "ok";
        message.hidden = false;
        $("#keys").prepend(el("tr", {}, [
          el("td", {}, [key.name]), el("td", {}, [el("code", {}, [key.prefix + "…"])]),
          el("td", {}, [new Date(key.created_at).toLocaleString()]),
          el("td", {}, [el("button", { type: "button", class: "danger", "data-revoke": key.id, "data-name": key.name }, ["Revoke"])]),
        ]));
        keyForm.reset();
      } catch (err) {
        say(message, err.message, "error");
      }
    });
    document.addEventListener("click", async function (event) {
      var button = event.target.closest("button[data-revoke]");
      if (!button || !confirm("Revoke the key " + button.dataset.name + "? Scripts using it stop working.")) return;
      try {
        await api("DELETE", "/v1/api-keys/" + button.dataset.revoke);
        button.closest("tr").remove();
      } catch (err) {
        alert(err.message);
      }
    });
    var notifyForm = $("#notify-form");
    notifyForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      var message = $("#notify-message");
      try {
        var saved = await api("PATCH", "/v1/me/notifications", { email: notifyForm.elements.namedItem("email").value });
        say(message, "Saved: job emails " + saved.email, "ok");
      } catch (err) {
        say(message, err.message, "error");
      }
    });
  }

  var pages = { gallery: gallery, image: imagePage, job: jobPage, settings: settingsPage };
  var run = pages[document.body.dataset.page];
  if (run) run();
})();
`;
