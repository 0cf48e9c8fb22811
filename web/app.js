// Draw a digit: send the pad (or an image file) to POST /predict, show the answer.
"use strict";

// MNIST strokes are about a tenth of a digit's height, and a digit drawn on the
// pad spans about 70% of it: a brush 7% of the pad's side.
const BRUSH = 0.07;

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const message = document.getElementById("message");
const error = document.getElementById("error");
const answerLine = document.getElementById("answer");
const digit = document.getElementById("digit");
const source = document.getElementById("source");
const bars = document.getElementById("bars");
const seen = document.getElementById("seen");
const seenFigure = document.getElementById("seen-figure");
const upload = document.getElementById("upload");

let strokes = [];   // each a list of [x, y] points, in units of the pad's side (0 to 1)
let drawing = null; // the stroke under way: {pointerId, points}
let epoch = 0;      // bumped by Clear, an upload or a new drawing: answers to older requests are dropped
let next = null;    // the request to send once the one in flight is answered (only the latest counts)
let inFlight = false;

// ---------------------------------------------------------------- the pad

function resize() {
  // Canvas pixels = CSS pixels x devicePixelRatio, so strokes stay sharp on high-DPI screens.
  const side = Math.round(pad.clientWidth * (window.devicePixelRatio || 1));
  if (side > 0 && pad.width !== side) {
    pad.width = pad.height = side;
    render();
  }
}

function render() {
  const side = pad.width;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, side, side);
  ctx.fillStyle = ctx.strokeStyle = "#000";
  ctx.lineWidth = BRUSH * side;
  ctx.lineCap = ctx.lineJoin = "round";
  for (const points of strokes) {
    const [x0, y0] = points[0];
    ctx.beginPath();
    if (points.length === 1) { // a tap: a dot
      ctx.arc(x0 * side, y0 * side, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.moveTo(x0 * side, y0 * side);
    for (const [x, y] of points.slice(1)) ctx.lineTo(x * side, y * side);
    ctx.stroke();
  }
}

function point(event) {
  // From CSS pixels (the event) to units of the pad's side, inside its border.
  const rect = pad.getBoundingClientRect();
  return [(event.clientX - rect.left - pad.clientLeft) / pad.clientWidth,
          (event.clientY - rect.top - pad.clientTop) / pad.clientHeight];
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 || drawing) return; // the main button, or a pen or finger touching; one stroke at a time
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  if (strokes.length === 0) epoch++; // a new drawing: an uploaded file's answer no longer applies
  drawing = {pointerId: event.pointerId, points: [point(event)]};
  strokes.push(drawing.points);
  render();
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing || event.pointerId !== drawing.pointerId) return;
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

function clear() {
  epoch++;
  next = null;
  strokes = [];
  drawing = null;
  upload.value = "";
  render();
  showEmpty();
}
document.getElementById("clear").addEventListener("click", clear);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") clear();
});

upload.addEventListener("change", () => {
  const file = upload.files[0];
  if (!file) return;
  clear();
  // Any file goes as an image file: the server, like predict_image.py, decides by its content.
  const type = file.type.startsWith("image/") ? file.type : "application/octet-stream";
  ask(async () => ({body: file, type, from: file.name}));
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
    const answer = await predict(request.body, request.type);
    if (askedIn === epoch) show(answer, request.from);
  }
  inFlight = false;
  document.body.dataset.state = "idle";
}

async function predict(body, type) {
  let response;
  try {
    response = await fetch("predict", {method: "POST", headers: {"Content-Type": type}, body});
  } catch (err) {
    return {error: `the server did not answer (${err.message})`};
  }
  try {
    const answer = await response.json();
    return response.ok ? answer : {error: answer.error || `the server answered ${response.status}`};
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
  bars.append(li);
}

function showBars(probabilities) {
  const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  bars.querySelectorAll("li").forEach((li, d) => {
    const p = probabilities ? probabilities[d] : null;
    li.classList.toggle("best", d === best);
    li.querySelector(".bar").style.width = p === null ? "0%" : `${(100 * p).toFixed(1)}%`;
    li.querySelector(".value").textContent = p === null ? "" : `${(100 * p).toFixed(1)}%`;
    if (p === null) delete li.dataset.probability;
    else li.dataset.probability = p;
  });
}

function showEmpty(text = "draw a digit", problem = "") {
  message.textContent = text;
  message.hidden = !text;
  error.textContent = problem;
  error.hidden = !problem;
  answerLine.hidden = true;
  digit.textContent = "";
  source.textContent = "";
  showBars(null);
  seenFigure.hidden = true;
  seen.removeAttribute("src");
}

function show(answer, from) {
  if (answer.error) {
    // The server names the request; the user knows the file by its name.
    const problem = answer.error.replace(/^POST \/predict: /, "");
    showEmpty("", from ? `${from}: ${problem}` : problem);
    return;
  }
  showEmpty("");
  answerLine.hidden = false;
  digit.textContent = answer.digit;
  source.textContent = from ? `from ${from}` : "";
  showBars(answer.probabilities);
  seen.src = answer.input;
  seenFigure.hidden = false;
}

new ResizeObserver(resize).observe(pad);
window.addEventListener("resize", resize); // devicePixelRatio changes with the browser's zoom
resize();
showEmpty();
