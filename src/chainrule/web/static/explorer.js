// chainrule explorer: draws the explainer's JSON report and steps through it.
// Vanilla JS, no dependencies. The graph is laid out here in layers (inputs on the left),
// so the page works from a file:// URL as well as from `chainrule serve`.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const STATIC = document.body.dataset.mode === "static";
  const embedded = JSON.parse($("embedded").textContent);
  const state = { report: null, steps: null, sweep: "forward", done: 0, timer: null,
                  direction: null, busy: false };

  // --- numbers, as the CLI writes them (15 significant digits) ----------------------
  function fmt(v, digits) {
    if (v === null || v === undefined) return "—";
    if (Array.isArray(v)) return "[" + v.map((x) => fmt(x, digits || 6)).join(", ") + "]";
    if (!isFinite(v)) return String(v);
    if (v === 0) return "0";
    let text = Number(v).toPrecision(digits || 15);
    if (text.includes("e")) {
      let [m, e] = text.split("e");
      if (m.includes(".")) m = m.replace(/0+$/, "").replace(/\.$/, "");
      const sign = e[0] === "-" ? "-" : "+";
      e = e.replace(/^[+-]/, "");
      return m + "e" + sign + e.padStart(2, "0");
    }
    if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
    return text;
  }
  const factor = (v) => { const t = fmt(v); return t.startsWith("-") ? "(" + t + ")" : t; };
  const BAR = "\u0304", DOT = "\u0307";
  const mark = (name, reverse) => name[0] + (reverse ? BAR : DOT) + name.slice(1);
  const OPS = { multiply: "×", add: "+", subtract: "−", divide: "÷", negative: "−", power: "^",
                square: "²", reciprocal: "1/·" };

  function el(tag, attrs, text, parent) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function html(tag, text, parent, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    if (parent) parent.appendChild(node);
    return node;
  }

  // --- the sweep being stepped -----------------------------------------------------
  function rows() {
    const r = state.report;
    if (state.sweep === "forward") return r.trace;
    if (state.sweep === "reverse") return r.reverse;
    return r.forward[state.direction] || [];
  }
  const byName = () => Object.fromEntries(state.report.trace.map((v) => [v.variable, v]));

  // --- the graph: a box per variable, the op inside, the name outside ---------------
  const BOX_W = 132, BOX_H = 58, COL = 190, ROW = 96, PAD = 30;
  function layout(trace) {
    const level = {}, position = {};
    for (const v of trace) {
      const known = v.operands.filter((o) => o in level);  // constants are not in the trace
      level[v.variable] = v.op === "input" ? 0 : 1 + Math.max(-1, ...known.map((o) => level[o]));
    }
    const columns = [];
    trace.forEach((v, i) => { (columns[level[v.variable]] ||= []).push(v.variable); position[v.variable] = i; });
    // Order each column by where its operands sit (one barycentre pass), to untangle edges.
    const rowOf = {};
    columns.forEach((names, c) => {
      if (c > 0) {
        const ops = byName();
        const centre = (n) => {
          const o = ops[n].operands.filter((x) => x in rowOf);
          return o.length ? o.reduce((s, x) => s + rowOf[x], 0) / o.length : 0;
        };
        names.sort((a, b) => centre(a) - centre(b) || position[a] - position[b]);
      }
      names.forEach((n, r) => { rowOf[n] = r; });
    });
    const tallest = Math.max(...columns.map((c) => c.length));
    const at = {};
    columns.forEach((names, c) => {
      const offset = (tallest - names.length) * ROW / 2;
      names.forEach((n, r) => { at[n] = { x: PAD + c * COL, y: PAD + 14 + offset + r * ROW }; });
    });
    return { at, level, columns, width: 2 * PAD + (columns.length - 1) * COL + BOX_W, height: 2 * PAD + 14 + tallest * ROW - (ROW - BOX_H) };
  }

  // An edge that skips columns runs through the gaps between their boxes, not behind them.
  function edgePath(x1, y1, x2, y2, from, to, columns, at) {
    const points = [[x1, y1]];
    for (let c = from + 1; c < to; c++) {
      const boxes = columns[c].map((n) => at[n].y);
      const gaps = [Math.min(...boxes) - 22, ...boxes.map((y) => y + BOX_H + (ROW - BOX_H) / 2)];
      const x = at[columns[c][0]].x, wanted = y1 + (y2 - y1) * (x - x1) / (x2 - x1);
      const y = gaps.reduce((best, g) => (Math.abs(g - wanted) < Math.abs(best - wanted) ? g : best));
      points.push([x - 12, y], [x + BOX_W + 12, y]);
    }
    points.push([x2, y2]);
    let d = `M${x1},${y1}`;
    for (let k = 1; k < points.length; k++) {
      const [px, py] = points[k - 1], [qx, qy] = points[k], mid = (px + qx) / 2;
      d += py === qy ? ` L${qx},${qy}` : ` C${mid},${py} ${mid},${qy} ${qx},${qy}`;
    }
    return d;
  }

  function drawGraph() {
    const svg = $("graph");
    svg.replaceChildren();
    const trace = state.report.trace;
    const { at, level, columns, width, height } = layout(trace);
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    el("defs", {}, null, svg).innerHTML =
      '<marker id="arrow" markerUnits="userSpaceOnUse" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a8"/></marker>';
    const edges = el("g", {}, null, svg), nodes = el("g", {}, null, svg);
    for (const v of trace) {
      v.operands.forEach((o, k) => {
        const a = at[o], b = at[v.variable];
        const spread = v.operands.length > 1 ? (k - (v.operands.length - 1) / 2) * 18 : 0;
        const x2 = b.x, y2 = b.y + BOX_H / 2 + spread;
        if (!a) {  // a constant operand: its value, written at the end of a short stub
          el("path", { class: "edge", d: `M${x2 - 34},${y2} L${x2},${y2}`, "marker-end": "url(#arrow)" }, null, edges);
          el("text", { class: "const", x: x2 - 38, y: y2 + 4, "text-anchor": "end" }, o, edges);
          if (v.operands.length > 1) el("text", { class: "order", x: x2 - 12, y: y2 - 4 }, String(k + 1), edges);
          return;
        }
        const x1 = a.x + BOX_W, y1 = a.y + BOX_H / 2;
        el("path", { class: "edge", d: edgePath(x1, y1, x2, y2, level[o], level[v.variable], columns, at),
                     "marker-end": "url(#arrow)", "data-from": o, "data-to": v.variable }, null, edges);
        if (v.operands.length > 1) {
          el("text", { class: "order", x: x2 - 12, y: y2 - 4 }, String(k + 1), edges);
        }
      });
    }
    for (const v of trace) {
      const p = at[v.variable];
      const g = el("g", { class: "node" + (v.op === "input" ? " input" : ""), "data-variable": v.variable,
                          transform: `translate(${p.x},${p.y})` }, null, nodes);
      el("title", {}, `${v.variable} = ${v.formula}`, g);
      el("text", { class: "name", x: BOX_W / 2, y: -6 }, v.variable, g);
      el("rect", { width: BOX_W, height: BOX_H }, null, g);
      el("text", { class: "op", x: BOX_W / 2, y: 17 }, v.op === "input" ? "input" : (OPS[v.op] || v.op), g);
      el("text", { class: "val", x: BOX_W / 2, y: 34 }, "", g);
      el("text", { class: "adj", x: BOX_W / 2, y: 50 }, "", g);
    }
  }

  // --- what each step shows ---------------------------------------------------------
  function chainText(row, reverse) {
    const out = state.report.output;
    if (!row.terms.length) {
      if (reverse) return [`${mark(row.variable, true)} = 1 (seed: d${out}/d${out} = 1)`, ""];
      return [`${mark(row.variable, false)} = ${row.value === 1 ? "1 (the chosen direction)" : "0 (held fixed)"}`, ""];
    }
    const symbols = row.terms.map((t) => {
      const partial = t.partial + (t.partial_formula ? ` [= ${t.partial_formula}]` : "");
      return reverse ? `${mark(t.with, true)}·${partial}` : `${partial}·${mark(t.with, false)}`;
    });
    const numbers = row.terms.map((t) => t.partial_value === null ? fmt(t.value)
      : reverse ? `${factor(t.value / t.partial_value)}·${factor(t.partial_value)}`
                : `${factor(t.partial_value)}·${factor(t.value / t.partial_value)}`);
    return [`${mark(row.variable, reverse)} = ${symbols.join(" + ")}`,
            `= ${numbers.join(" + ")} = ${fmt(row.value)}`];
  }

  function render() {
    const r = state.report, list = rows(), n = list.length;
    const reverse = state.sweep === "reverse", forward = state.sweep === "forward";
    const current = state.done > 0 ? list[state.done - 1] : null;
    const shownValues = new Set(forward ? list.slice(0, state.done).map((v) => v.variable)
                                        : r.trace.map((v) => v.variable));
    const second = {};
    if (!forward) list.slice(0, state.done).forEach((row) => { second[row.variable] = row.value; });
    const values = Object.fromEntries(r.trace.map((v) => [v.variable, v.value]));
    for (const g of $("graph").querySelectorAll(".node")) {
      const name = g.dataset.variable;
      g.classList.toggle("current", !!current && current.variable === name);
      g.classList.toggle("done", !forward && name in second || forward && shownValues.has(name));
      g.querySelector(".val").textContent = shownValues.has(name) ? "= " + fmt(values[name], 6) : "";
      const adj = g.querySelector(".adj");
      adj.classList.toggle("tangent", state.sweep === "tangent");
      adj.textContent = name in second ? `${mark(name, reverse)} = ${fmt(second[name], 6)}` : "";
    }
    for (const path of $("graph").querySelectorAll(".edge")) {
      let active = false;
      if (current && forward) active = path.dataset.to === current.variable;
      if (current && !forward) {
        const partners = current.terms.map((t) => t.with);
        active = reverse ? path.dataset.from === current.variable && partners.includes(path.dataset.to)
                         : path.dataset.to === current.variable && partners.includes(path.dataset.from);
      }
      path.classList.toggle("active", active);
    }
    // The trace table: values appear as the forward pass reaches them.
    for (const tr of $("trace-table").tBodies[0].rows) {
      const name = tr.dataset.variable;
      tr.classList.toggle("current", forward && !!current && current.variable === name);
      tr.classList.toggle("pending", !shownValues.has(name));
      tr.cells[2].textContent = shownValues.has(name) ? fmt(values[name]) : "…";
    }
    // The sweep table: the rows done so far.
    const body = $("sweep-table").tBodies[0];
    body.replaceChildren();
    const sweepRows = forward ? r.reverse : list;
    const sweepReverse = forward || reverse;
    $("sweep-title").textContent = sweepReverse ? "Reverse pass: adjoints, output first"
      : `Forward mode: tangents in direction ${state.direction} (${mark(state.direction, false)} = 1)`;
    $("sweep-head").textContent = sweepReverse ? "adjoint" : "tangent";
    sweepRows.forEach((row, i) => {
      const tr = html("tr", null, body);
      tr.dataset.variable = row.variable;
      const reached = !forward && i < state.done;
      const [symbols, numbers] = chainText(row, sweepReverse);
      html("td", mark(row.variable, sweepReverse), tr);
      html("td", symbols.replace(/^[^=]*= /, ""), tr);
      html("td", reached ? numbers.replace(/^= /, "").replace(/ = [^=]*$/, "") : "", tr);
      html("td", reached ? fmt(row.value) : "…", tr, "value");
      tr.classList.toggle("current", !forward && i === state.done - 1);
      tr.classList.toggle("pending", !reached);
    });
    // The chain rule for this step, in symbols and in numbers.
    if (!current) {
      $("chain-formula").textContent = forward ? "Press step to evaluate the trace, one variable at a time."
        : reverse ? `Press step to start the reverse sweep at the output, ${mark(r.trace[r.trace.length - 1].variable, true)} = 1.`
        : `Press step to walk the tangents in direction ${state.direction}.`;
      $("chain-numbers").textContent = "";
    } else if (forward) {
      const known = r.trace.find((v) => v.variable === current.variable);
      $("chain-formula").textContent = `${current.variable} = ${known.formula}`;
      $("chain-numbers").textContent = "= " + fmt(current.value);
    } else {
      const [symbols, numbers] = chainText(current, reverse);
      $("chain-formula").textContent = symbols;
      $("chain-numbers").textContent = numbers;
    }
    $("chain").dataset.variable = current ? current.variable : "";
    const what = forward ? "forward pass" : reverse ? "reverse pass" : "forward mode";
    $("step-status").textContent = `${what}: step ${state.done} of ${n}`;
  }

  function go(k) {
    state.done = Math.max(0, Math.min(rows().length, k));
    render();
  }
  function stopPlay() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    $("play").textContent = "play";
  }

  // --- filling the page from a report -----------------------------------------------
  function show(report, steps) {
    stopPlay();
    state.report = report;
    state.steps = steps;
    const inputs = report.trace.filter((v) => v.op === "input").map((v) => v.variable);
    state.direction = inputs.includes(state.direction) ? state.direction : inputs[0];
    $("expr").value = report.function;
    const point = $("point");
    point.replaceChildren();
    for (const name of inputs) {
      const label = html("label", `${name} = `, point);
      const input = html("input", null, label);
      input.id = "var-" + name;
      input.dataset.variable = name;
      input.type = "number";
      input.step = "any";
      input.value = report.point[name];
    }
    $("direction").replaceChildren(...inputs.map((n) => { const o = html("option", n); o.value = n; return o; }));
    $("direction").value = state.direction;
    const y = report.output;
    $("summary").textContent = `${y} = ${fmt(report.value)}   ` +
      inputs.map((n) => `d${y}/d${n} = ${fmt(report.gradient[n])}`).join("   ");
    const body = $("trace-table").tBodies[0];
    body.replaceChildren();
    for (const v of report.trace) {
      const tr = html("tr", null, body);
      tr.dataset.variable = v.variable;
      html("td", v.variable, tr);
      html("td", v.op === "input" ? "input" : v.formula, tr);
      html("td", "", tr, "value");
    }
    drawCrossCheck(report);
    drawSteps(steps);
    drawGraph();
    go(state.sweep === "forward" ? 0 : 0);
  }

  function drawCrossCheck(report) {
    const table = $("crosscheck"), names = Object.keys(report.point), y = report.output;
    table.tHead.replaceChildren();
    const head = html("tr", null, table.tHead);
    for (const h of ["method", ...names.map((n) => `d${y}/d${n}`), "rel. error vs reverse", "cost"]) html("th", h, head);
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const row of report.cross_check) {
      const tr = html("tr", null, body);
      html("td", row.method, tr);
      for (const n of names) html("td", fmt(row.gradient[n]), tr);
      html("td", row.max_rel_error === null ? "—" : Number(row.max_rel_error).toExponential(2), tr);
      html("td", row.evaluations + (row.note ? "; " + row.note : ""), tr);
    }
    const derivatives = Object.entries(report.derivatives || {});
    $("derivatives").textContent = derivatives.map(([n, d]) => `symbolic d${y}/d${n} = ${d}`).join("\n");
  }

  function drawSteps(data) {
    const svg = $("steps-plot");
    svg.replaceChildren();
    if (!data) { el("text", { x: 20, y: 40 }, "The step-size plot needs the server (chainrule serve).", svg); return; }
    const L = 58, R = 440, T = 16, B = 240;
    const lx = data.steps.map(Math.log10);
    const all = Object.values(data.errors).flat().filter((e) => e > 0).map(Math.log10);
    const ylo = Math.floor(Math.min(...all)), yhi = Math.ceil(Math.max(...all, 0));
    const xlo = Math.min(...lx), xhi = Math.max(...lx);
    const X = (v) => L + (xhi - v) / (xhi - xlo) * (R - L);      // large h on the left
    const Y = (v) => B - (v - ylo) / (yhi - ylo) * (B - T);
    el("rect", { x: L, y: T, width: R - L, height: B - T, fill: "none", stroke: "#c7cedb" }, null, svg);
    for (let e = Math.ceil(xlo); e <= xhi; e += 3) {
      el("text", { x: X(e), y: B + 14, "text-anchor": "middle" }, `1e${e}`, svg);
    }
    for (let e = ylo; e <= yhi; e += Math.max(1, Math.ceil((yhi - ylo) / 6))) {
      el("line", { x1: L, x2: R, y1: Y(e), y2: Y(e), stroke: "#eef1f7" }, null, svg);
      el("text", { x: L - 4, y: Y(e) + 4, "text-anchor": "end" }, `1e${e}`, svg);
    }
    el("text", { x: (L + R) / 2, y: B + 30, "text-anchor": "middle" }, "relative step h (large → small)", svg);
    el("text", { x: 12, y: (T + B) / 2, transform: `rotate(-90 12 ${(T + B) / 2})`, "text-anchor": "middle" }, "relative error", svg);
    const colours = { forward: "#2a6fdb", central: "#c2410c", "complex-step": "#15803d" };
    Object.entries(data.errors).forEach(([scheme, errors], k) => {
      const points = errors.map((e, i) => `${X(lx[i])},${Y(Math.log10(e))}`).join(" ");
      const line = el("polyline", { points, fill: "none", stroke: colours[scheme], "stroke-width": 2 }, null, svg);
      el("title", {}, scheme, line);
      errors.forEach((e, i) => {
        const dot = el("circle", { cx: X(lx[i]), cy: Y(Math.log10(e)), r: 3, fill: colours[scheme] }, null, svg);
        el("title", {}, `${scheme}: h = ${data.steps[i].toExponential(0)}, error = ${e.toExponential(2)}`, dot);
      });
      const [h, err] = data.best[scheme];
      el("text", { x: R - 6, y: T + 16 + 16 * k, "text-anchor": "end", fill: colours[scheme] },
         `${scheme}: best h = ${h.toExponential(0)} (error ${err.toExponential(1)})`, svg);
    });
  }

  // --- talking to the server ----------------------------------------------------------
  function showError(message, column, text) {
    const box = $("error");
    box.hidden = false;
    box.replaceChildren();
    box.dataset.column = column || "";
    html("div", column ? `${message} (column ${column})` : message, box);
    if (column && text !== undefined) {
      html("pre", `${text}\n${" ".repeat(column - 1)}^`, box);
      const input = $("expr");
      input.focus();
      input.setSelectionRange(column - 1, Math.min(column, text.length));
    }
  }
  async function post(path, body) {
    const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" },
                                         body: JSON.stringify(body) });
    const data = await response.json();
    if (!response.ok) { const e = new Error(data.error); e.column = data.column; throw e; }
    return data;
  }
  async function explainTyped(event) {
    event.preventDefault();
    const expression = $("expr").value;
    const point = {};
    for (const input of $("point").querySelectorAll("input")) point[input.dataset.variable] = Number(input.value);
    if (STATIC) {
      const same = expression === state.report.function &&
        Object.entries(point).every(([k, v]) => v === state.report.point[k]);
      if (!same) showError("This static page holds only " + state.report.function + " at its exported point; other expressions and points need the server (chainrule serve).");
      return;
    }
    $("error").hidden = true;
    document.body.classList.add("busy");
    try {
      const report = await post("api/explain", { expression, point });
      show(report, null);
      post("api/steps", { expression, point: report.point }).then((s) => { state.steps = s; drawSteps(s); }, () => drawSteps(null));
    } catch (error) {
      showError(error.message, error.column, expression);
    } finally {
      document.body.classList.remove("busy");
    }
  }

  // --- exports -------------------------------------------------------------------------
  function tables() {
    const r = state.report, y = r.output;
    const trace = r.trace.map((v) => [v.variable, v.op === "input" ? "input" : v.formula, fmt(v.value)]);
    const sweep = r.reverse.map((row) => { const [s, n] = chainText(row, true);
      return [mark(row.variable, true), s.replace(/^[^=]*= /, ""), n.replace(/^= /, "").replace(/ = [^=]*$/, ""), fmt(row.value)]; });
    return [[`Evaluation trace of ${y} = ${r.function}`, ["variable", "formula", "value"], trace],
            ["Reverse pass: adjoints, output first", ["adjoint", "chain rule", "numbers", "value"], sweep]];
  }
  function markdown() {
    return tables().map(([title, head, body]) => [`### ${title}`, "", `| ${head.join(" | ")} |`,
      "|" + "---|".repeat(head.length), ...body.map((row) => `| ${row.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`)].join("\n")).join("\n\n") + "\n";
  }
  function latex() {
    const tex = (s) => {
      if (s === "" ) return "";
      if (s === "input") return "\\text{input}";
      const seed = s.startsWith("1 (seed");
      const math = (seed ? "1" : s).replace(/\*\*/g, "^").replace(/([a-z])\u0304(\d*)/g, "\\bar{$1}_{$2}")
        .replace(/∂/g, "\\partial ").replace(/[·*]/g, "\\cdot ").replace(/\b([a-z]{2,})\(/g, "\\operatorname{$1}(")
        .replace(/\b([a-z])(\d+)/g, "$1_{$2}").replace(/_\{\}/g, "");
      return `$${math}$` + (seed ? " (seed)" : "");
    };
    return tables().map(([title, head, body]) => ["% " + title, `\\begin{tabular}{${"l".repeat(head.length)}}`, "\\hline",
      head.join(" & ") + " \\\\", "\\hline", ...body.map((row) => row.map(tex).join(" & ") + " \\\\"),
      "\\hline", "\\end{tabular}"].join("\n")).join("\n\n") + "\n";
  }
  function exportText(text, filename, type) {
    const area = $("export-text");
    area.hidden = false;
    area.value = text;
    download(new Blob([text], { type }), filename);
  }
  function download(blob, filename) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
  function graphSvgText() {
    const clone = $("graph").cloneNode(true);
    const style = document.createElementNS(SVG, "style");
    style.textContent = [...document.styleSheets[0].cssRules].map((r) => r.cssText)
      .filter((t) => t.startsWith("#graph") || t.startsWith(":root")).join("\n");
    clone.insertBefore(style, clone.firstChild);
    return new XMLSerializer().serializeToString(clone);
  }
  function exportPng() {
    const svg = $("graph"), image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = svg.width.baseVal.value * 2;
      canvas.height = svg.height.baseVal.value * 2;
      const context = canvas.getContext("2d");
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      canvas.toBlob((blob) => download(blob, "graph.png"));
    };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(graphSvgText());
  }

  // --- the 2-2-1 network: computed here, so the sliders answer at once ------------------
  const net = { W: [[0.5, -0.3], [0.8, 0.2]], b1: [0.1, -0.1], A: [[1.2, -0.7]], b2: [0.05],
                x: [1, 0], y: [1], activation: "sigmoid", stage: 0 };
  const SLIDERS = [["w11", ["W", 0, 0]], ["w12", ["W", 0, 1]], ["w21", ["W", 1, 0]], ["w22", ["W", 1, 1]],
    ["b11", ["b1", 0]], ["b12", ["b1", 1]], ["a11", ["A", 0, 0]], ["a21", ["A", 0, 1]], ["b21", ["b2", 0]],
    ["x1", ["x", 0]], ["x2", ["x", 1]], ["y1", ["y", 0]]];
  const ACT = {
    sigmoid: [(t) => 1 / (1 + Math.exp(-t)), (t, h) => h * (1 - h), "σ"],
    tanh: [Math.tanh, (t, h) => 1 - h * h, "tanh"],
    relu: [(t) => Math.max(t, 0), (t) => (t > 0 ? 1 : 0), "relu"],
  };
  function getPath(path) { return path.length === 3 ? net[path[0]][path[1]][path[2]] : net[path[0]][path[1]]; }
  function setPath(path, v) { if (path.length === 3) net[path[0]][path[1]][path[2]] = v; else net[path[0]][path[1]] = v; }

  function networkPass() {
    const [act, dact] = ACT[net.activation];
    const { W, b1, A, b2, x, y } = net;
    const t = [0, 1].map((j) => W[0][j] * x[0] + W[1][j] * x[1] + b1[j]);
    const h = t.map(act);
    const o = A[0][0] * h[0] + A[0][1] * h[1] + b2[0];
    const L = (o - y[0]) ** 2;
    const dL_do = 2 * (o - y[0]);
    const dL_dh = [0, 1].map((j) => dL_do * A[0][j]);
    const dL_dt = [0, 1].map((j) => dL_dh[j] * dact(t[j], h[j]));
    return { t, h, o, L, dL_do, dL_dh, dL_dt };
  }
  const STAGES = ["press step: the forward pass first", "forward: hidden layer t, h", "forward: output o and loss L",
    "backprop: output layer (dL/do, dL/da, dL/db2)", "backprop: hidden layer (dL/dh, dL/dt)",
    "backprop: first layer (dL/dw, dL/db1)"];
  function drawNetwork() {
    const p = networkPass(), s = ACT[net.activation][2], stage = net.stage;
    $("net-loss").textContent = fmt(p.L);
    $("net-stage").textContent = `stage ${stage} of 5: ${STAGES[stage]}`;
    $("net-scalar").textContent = [`t1 = w11·x1 + w21·x2 + b11`, `t2 = w12·x1 + w22·x2 + b12`,
      `h1 = ${s}(t1)`, `h2 = ${s}(t2)`, `o1 = a11·h1 + a21·h2 + b21`, `L = (o1 − y1)²`].join("\n");
    $("net-vector").textContent = [`t = Wᵀx + b1`, `h = ${s}(t)`, `o1 = Ah + b21`, `o1 = A ${s}(Wᵀx + b1) + b21`,
      `shapes: x 2, W 2 × 2, b1 2, t and h 2, A 1 × 2, b21 1, o1 1`].join("\n");
    const rowsShown = [
      [1, "t1", "w11·x1 + w21·x2 + b11", p.t[0]], [1, "t2", "w12·x1 + w22·x2 + b12", p.t[1]],
      [1, "h1", `${s}(t1)`, p.h[0]], [1, "h2", `${s}(t2)`, p.h[1]],
      [2, "o1", "a11·h1 + a21·h2 + b21", p.o], [2, "L", "(o1 − y1)²", p.L],
      [3, "dL/do1", "2(o1 − y1)", p.dL_do], [3, "dL/da11", "dL/do1 · h1", p.dL_do * p.h[0]],
      [3, "dL/da21", "dL/do1 · h2", p.dL_do * p.h[1]], [3, "dL/db21", "dL/do1", p.dL_do],
      [4, "dL/dh1", "dL/do1 · a11", p.dL_dh[0]], [4, "dL/dh2", "dL/do1 · a21", p.dL_dh[1]],
      [4, "dL/dt1", `dL/dh1 · ${s}′(t1)`, p.dL_dt[0]], [4, "dL/dt2", `dL/dh2 · ${s}′(t2)`, p.dL_dt[1]],
      [5, "dL/dw11", "dL/dt1 · x1", p.dL_dt[0] * net.x[0]], [5, "dL/dw21", "dL/dt1 · x2", p.dL_dt[0] * net.x[1]],
      [5, "dL/dw12", "dL/dt2 · x1", p.dL_dt[1] * net.x[0]], [5, "dL/dw22", "dL/dt2 · x2", p.dL_dt[1] * net.x[1]],
      [5, "dL/db11", "dL/dt1", p.dL_dt[0]], [5, "dL/db12", "dL/dt2", p.dL_dt[1]],
    ];
    const body = $("net-grads").tBodies[0];
    body.replaceChildren();
    for (const [k, name, rule, value] of rowsShown) {
      const tr = html("tr", null, body);
      tr.dataset.quantity = name;
      tr.classList.toggle("current", k === stage);
      html("td", name, tr);
      html("td", rule, tr);
      html("td", fmt(value), tr, "value");
    }
    const svg = $("net-graph");
    svg.replaceChildren();
    const pos = { x1: [60, 90], x2: [60, 220], h1: [260, 90], h2: [260, 220], o1: [450, 155] };
    const link = (a, b, label, value, grad, k) => {
      const [x1, y1] = pos[a], [x2, y2] = pos[b];
      el("line", { x1, y1, x2, y2 }, null, svg);
      const along = label === "w12" ? 0.28 : label === "w21" ? 0.72 : 0.45;  // the two that cross
      const mx = x1 + (x2 - x1) * along, my = y1 + (y2 - y1) * along - 8;
      el("text", { x: mx, y: my }, `${label} = ${fmt(value, 3)}`, svg);
      if (stage >= k) el("text", { x: mx, y: my + 13, fill: "#c2410c" }, `∂L = ${fmt(grad, 3)}`, svg);
    };
    for (const i of [0, 1]) for (const j of [0, 1]) {
      link(`x${i + 1}`, `h${j + 1}`, `w${i + 1}${j + 1}`, net.W[i][j], p.dL_dt[j] * net.x[i], 5);
    }
    for (const j of [0, 1]) link(`h${j + 1}`, "o1", `a${j + 1}1`, net.A[0][j], p.dL_do * p.h[j], 3);
    const unit = (name, lines, active) => {
      const [cx, cy] = pos[name], g = el("g", { class: "unit" + (active ? " active" : "") }, null, svg);
      el("circle", { cx, cy, r: 34 }, null, g);
      lines.forEach((line, k) => el("text", { x: cx, y: cy - 6 + 14 * k }, line, g));
    };
    unit("x1", ["x1", fmt(net.x[0], 3)], false);
    unit("x2", ["x2", fmt(net.x[1], 3)], false);
    for (const j of [0, 1]) unit(`h${j + 1}`, [`h${j + 1}`, stage >= 1 ? fmt(p.h[j], 4) : ""], stage === 1 || stage === 4);
    unit("o1", ["o1", stage >= 2 ? fmt(p.o, 4) : ""], stage === 2 || stage === 3);
    scheduleServerCheck();
  }
  let checkTimer = null;
  function scheduleServerCheck() {
    if (STATIC) { $("net-check").textContent = "The numbers above are computed in this page."; return; }
    clearTimeout(checkTimer);
    checkTimer = setTimeout(async () => {
      try {
        const report = await post("api/explain-net", { weights: { W: net.W, b1: net.b1, A: net.A, b2: net.b2 },
                                                      x: net.x, y: net.y, activation: net.activation });
        const here = networkPass().L, there = report.value;
        const agree = Math.abs(here - there) <= 1e-12 * Math.max(1, Math.abs(there));
        $("net-check").textContent = `Checked by the explainer (POST /api/explain-net): L = ${fmt(there)}` +
          (agree ? " (agrees)." : " (DISAGREES with this page!)");
      } catch (error) { $("net-check").textContent = "Server check failed: " + error.message; }
    }, 250);
  }
  function buildSliders() {
    const box = $("net-sliders");
    for (const [name, path] of SLIDERS) {
      const label = html("label", name, box);
      const input = html("input", null, box);
      input.type = "range"; input.min = -3; input.max = 3; input.step = 0.05; input.id = "slider-" + name;
      input.value = getPath(path);
      label.htmlFor = input.id;
      const out = html("output", fmt(getPath(path), 3), box);
      input.addEventListener("input", () => { setPath(path, Number(input.value)); out.textContent = fmt(Number(input.value), 3); drawNetwork(); });
    }
    $("net-activation").addEventListener("change", (e) => { net.activation = e.target.value; drawNetwork(); });
    $("net-step").addEventListener("click", () => { net.stage = Math.min(5, net.stage + 1); drawNetwork(); });
    $("net-back").addEventListener("click", () => { net.stage = Math.max(0, net.stage - 1); drawNetwork(); });
  }

  // --- wiring ----------------------------------------------------------------------------
  $("expr-form").addEventListener("submit", explainTyped);
  $("step").addEventListener("click", () => { stopPlay(); go(state.done + 1); });
  $("back").addEventListener("click", () => { stopPlay(); go(state.done - 1); });
  $("reset").addEventListener("click", () => { stopPlay(); go(0); });
  $("end").addEventListener("click", () => { stopPlay(); go(rows().length); });
  $("play").addEventListener("click", () => {
    if (state.timer) { stopPlay(); return; }
    if (state.done >= rows().length) go(0);
    $("play").textContent = "pause";
    state.timer = setInterval(() => { if (state.done >= rows().length) stopPlay(); else go(state.done + 1); }, 700);
  });
  for (const radio of document.querySelectorAll("input[name=sweep]")) {
    radio.addEventListener("change", () => { stopPlay(); state.sweep = radio.value; go(0); });
  }
  $("direction").addEventListener("change", (e) => {
    state.direction = e.target.value;
    document.querySelector("input[name=sweep][value=tangent]").checked = true;
    state.sweep = "tangent";
    go(0);
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT" || e.target.tagName === "TEXTAREA") return;
    const keys = { ArrowRight: "step", ArrowLeft: "back", Home: "reset", End: "end", " ": "play" };
    if (keys[e.key]) { e.preventDefault(); $(keys[e.key]).click(); }
  });
  $("export-md").addEventListener("click", () => exportText(markdown(), "chainrule-tables.md", "text/markdown"));
  $("export-latex").addEventListener("click", () => exportText(latex(), "chainrule-tables.tex", "text/x-tex"));
  $("export-svg").addEventListener("click", () => download(new Blob([graphSvgText()], { type: "image/svg+xml" }), "graph.svg"));
  $("export-png").addEventListener("click", exportPng);
  $("static-note").hidden = !STATIC;

  show(embedded.report, embedded.steps);
  buildSliders();
  drawNetwork();
  document.body.dataset.ready = "true";
})();
