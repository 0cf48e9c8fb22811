// Write a number: send the pad (or an image file) to POST /predict, show the number read,
// a box around each digit, and each digit's probabilities.
"use strict";

// MNIST strokes are about a tenth of a digit's height, and a digit written on the
// pad spans about 70% of its height: a brush 7% of the pad's height.
const BRUSH = 0.07;

const $ = (id) => document.getElementById(id);
const pad = $("pad");
const ctx = pad.getContext("2d");
const photo = $("photo");
const boxes = $("boxes");
const upload = $("upload");
const explainToggle = $("explain-toggle");

let strokes = [];   // each a list of [x, y] points, in units of the pad's width and height (0 to 1)
let drawing = null; // the stroke under way: {pointerId, points}
let epoch = 0;      // bumped by Clear, an upload or a new drawing: answers to older requests are dropped
let next = null;    // the request to send once the one in flight is answered (only the latest counts)
let inFlight = false;
let lastRequest = null; // what the answer shown was asked for (asked again with ?explain=1 by the toggle)
let answer = null;  // the answer shown
let selected = 0;   // the digit whose probabilities are shown

// ---------------------------------------------------------------- the pad

function resize() {
  // Canvas pixels = CSS pixels x devicePixelRatio, so strokes stay sharp on high-DPI screens.
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(pad.clientWidth * ratio), height = Math.round(pad.clientHeight * ratio);
  if (width > 0 && (pad.width !== width || pad.height !== height)) {
    pad.width = width;
    pad.height = height;
    render();
  }
}

function render() {
  const {width, height} = pad;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = ctx.strokeStyle = "#000";
  ctx.lineWidth = BRUSH * height;
  ctx.lineCap = ctx.lineJoin = "round";
  for (const points of strokes) {
    const [x0, y0] = points[0];
    ctx.beginPath();
    if (points.length === 1) { // a tap: a dot
      ctx.arc(x0 * width, y0 * height, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.moveTo(x0 * width, y0 * height);
    for (const [x, y] of points.slice(1)) ctx.lineTo(x * width, y * height);
    ctx.stroke();
  }
}

function point(event) {
  // From CSS pixels (the event) to units of the pad's width and height, inside its border.
  const rect = pad.getBoundingClientRect();
  return [(event.clientX - rect.left - pad.clientLeft) / pad.clientWidth,
          (event.clientY - rect.top - pad.clientTop) / pad.clientHeight];
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 || drawing) return; // the main button, or a pen or finger touching; one stroke at a time
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  if (strokes.length === 0) { // a new drawing: an uploaded file's answer no longer applies
    epoch++;
    upload.value = "";
  }
  drawing = {pointerId: event.pointerId, points: [point(event)]};
  strokes.push(drawing.points);
  render();
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing) return hover(event);
  if (event.pointerId !== drawing.pointerId) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of events.length ? events : [event]) drawing.points.push(point(e));
  render();
  ask(drawingRequest); // update while drawing, at most one request in flight
});

function endStroke(event) {
  if (!drawing || event.pointerId !== drawing.pointerId) return;
  drawing = null;
  ask(drawingRequest);
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

function hover(event) {
  // A mouse over a digit's box on the pad shows that digit (the pad's boxes let the pointer through, to draw).
  if (!answer || !answer.digits.length) return;
  const [x, y] = point(event);
  const [width, height] = answer.size;
  const i = answer.digits.findIndex(({box: [l, t, r, b]}) =>
    x * width >= l && x * width <= r && y * height >= t && y * height <= b);
  if (i >= 0) select(i);
}

function showPad() {
  photo.hidden = true;
  if (photo.src) URL.revokeObjectURL(photo.src);
  photo.removeAttribute("src");
  pad.hidden = false;
  $("stage").classList.remove("photo");
}

function clear() {
  epoch++;
  next = null;
  strokes = [];
  drawing = null;
  lastRequest = null;
  upload.value = "";
  showPad();
  render();
  showEmpty();
}
$("clear").addEventListener("click", clear);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") clear();
});

upload.addEventListener("change", () => {
  const file = upload.files[0];
  if (!file) return;
  epoch++;
  next = null;
  strokes = [];
  render();
  showEmpty("");
  // The file itself, in place of the pad (the browser turns it upright by its EXIF, as the server does).
  photo.src = URL.createObjectURL(file);
  photo.hidden = false;
  pad.hidden = true;
  $("stage").classList.add("photo");
  // Any file goes as an image file: the server, like predict_image.py, decides by its content.
  const type = file.type.startsWith("image/") ? file.type : "application/octet-stream";
  ask(async () => ({body: file, type, from: file.name}));
});
photo.addEventListener("error", () => { // a file the browser cannot show (the server may still read it)
  if (!photo.getAttribute("src")) return;
  showPad();
  boxes.replaceChildren(); // boxes on nothing they belong to
});

explainToggle.addEventListener("change", () => {
  if (explainToggle.checked && lastRequest && answer && !answer.explain) ask(lastRequest);
  showExplain();
});

// ---------------------------------------------------------------- asking the server

async function drawingRequest() {
  const blob = await new Promise((resolve) => pad.toBlob(resolve, "image/png"));
  return {body: blob, type: "image/png", from: ""};
}

function ask(makeRequest) {
  next = {makeRequest, epoch};
  document.body.dataset.state = "busy"; // the tests wait for "idle"
  if (!inFlight) sendAll();
}

async function sendAll() {
  inFlight = true;
  while (next) {
    const {makeRequest, epoch: askedIn} = next;
    next = null;
    const request = await makeRequest();
    const reply = await predict(request.body, request.type, explainToggle.checked);
    if (askedIn === epoch) {
      lastRequest = async () => request;
      show(reply, request.from);
    }
  }
  inFlight = false;
  document.body.dataset.state = "idle";
}

async function predict(body, type, explain) {
  let response;
  try {
    response = await fetch(explain ? "predict?explain=1" : "predict",
                           {method: "POST", headers: {"Content-Type": type}, body});
  } catch (err) {
    return {error: `the server did not answer (${err.message})`};
  }
  try {
    const reply = await response.json();
    return response.ok ? reply : {error: reply.error || `the server answered ${response.status}`};
  } catch (err) {
    return {error: `the server answered ${response.status} ${response.statusText}, not JSON`};
  }
}

// ---------------------------------------------------------------- showing the answer

for (let d = 0; d < 10; d++) {
  const li = document.createElement("li");
  li.dataset.digit = d;
  li.innerHTML = `<span class="label">${d}</span><span class="track"><span class="bar"></span></span>` +
                 `<span class="value"></span>`;
  $("bars").append(li);
}

function percent(p) {
  return `${(100 * p).toFixed(1)}%`;
}

function showBars(probabilities) {
  const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  $("bars").querySelectorAll("li").forEach((li, d) => {
    const p = probabilities ? probabilities[d] : null;
    li.classList.toggle("best", d === best);
    li.querySelector(".bar").style.width = p === null ? "0%" : percent(p);
    li.querySelector(".value").textContent = p === null ? "" : percent(p);
    if (p === null) delete li.dataset.probability;
    else li.dataset.probability = p;
  });
}

function showEmpty(text = "write a number", problem = "") {
  answer = null;
  $("message").textContent = text;
  $("message").hidden = !!problem;
  $("error").textContent = problem;
  $("error").hidden = !problem;
  $("answer").hidden = true;
  $("number").textContent = "";
  $("source").textContent = "";
  $("digits").replaceChildren();
  boxes.replaceChildren();
  $("which").textContent = "";
  showBars(null);
  showExplain();
}

function show(reply, from) {
  if (reply.error) {
    // The server names the request; the user knows the file by its name.
    const problem = reply.error.replace(/^POST \/predict: /, "");
    showEmpty("", from ? `${from}: ${problem}` : problem);
    return;
  }
  showEmpty("");
  answer = reply;
  $("message").hidden = true;
  $("answer").hidden = false;
  $("number").textContent = reply.number === "" ? "no digit" : reply.number;
  $("number").classList.toggle("none", reply.number === "");
  $("source").textContent = from ? `from ${from}` : "";
  const [width, height] = reply.size;
  const framed = from ? !photo.hidden : true; // the boxes go on the image read, when it is shown
  reply.digits.forEach((d, i) => {
    const shown = d.digit === null ? "?" : String(d.digit);
    const li = document.createElement("li");
    li.tabIndex = 0;
    li.innerHTML = `<img alt="" width="56" height="56"><span class="digit"></span>`;
    li.querySelector("img").src = reply.inputs[i];
    li.querySelector(".digit").textContent = shown;
    li.title = `${shown}: ${percent(d.probability)}`;
    for (const type of ["pointerenter", "click", "focus"]) li.addEventListener(type, () => select(i));
    $("digits").append(li);
    const [l, t, r, b] = d.box;
    const box = document.createElement("div");
    box.className = "box";
    box.style.left = `${100 * l / width}%`;
    box.style.top = `${100 * t / height}%`;
    box.style.width = `${100 * (r - l) / width}%`;
    box.style.height = `${100 * (b - t) / height}%`;
    box.addEventListener("pointerenter", () => select(i));
    box.addEventListener("click", () => select(i));
    if (framed) boxes.append(box);
  });
  boxes.classList.toggle("on-photo", !photo.hidden);
  select(Math.min(selected, reply.digits.length - 1));
}

function select(i) {
  selected = Math.max(i, 0);
  if (!answer || !answer.digits.length) return showExplain();
  const d = answer.digits[selected];
  [...$("digits").children].forEach((li, j) => li.classList.toggle("selected", j === selected));
  [...boxes.children].forEach((box, j) => box.classList.toggle("selected", j === selected));
  const n = answer.digits.length;
  $("which").textContent = (n > 1 ? `digit ${selected + 1} of ${n}: ` : "") +
    (d.digit === null ? `unsure (most likely ${d.probabilities.indexOf(Math.max(...d.probabilities))})`
                      : `${d.digit} at ${percent(d.probability)}`);
  showBars(d.probabilities);
  showExplain();
}

function showExplain() {
  // The pixels behind the selected digit's answer, over its 28x28 input; its first layer's feature maps.
  const explained = explainToggle.checked && answer && answer.explain && answer.digits.length > 0;
  $("explain").hidden = !explained;
  if (!explained) return;
  const {saliency, feature_maps: maps} = answer.explain[selected];
  $("seen").src = answer.inputs[selected];
  $("saliency").src = saliency;
  const [h, w, n] = maps.shape;
  const member = maps.members > 1 ? ` of the first of the ensemble's ${maps.members} models` : "";
  $("maps-caption").textContent = `layer ${maps.layer}${member}: ${n} maps of ${w}x${h}, one per filter; ` +
    "white where the filter responds most strongly (one scale for all)";
  $("maps").replaceChildren(...maps.maps.map((url, k) => {
    const img = document.createElement("img");
    img.src = url;
    img.width = img.height = 2 * w;
    img.alt = `feature map ${k + 1}`;
    return img;
  }));
}

// Which model reads what is written here: the server says (GET /model).
fetch("model").then((r) => r.json()).then((about) => {
  $("model").textContent = `read by ${about.model}`;
}).catch(() => {});

new ResizeObserver(resize).observe(pad);
window.addEventListener("resize", resize); // devicePixelRatio changes with the browser's zoom
resize();
showEmpty();
