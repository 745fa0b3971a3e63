"""The report's page skeleton and style. ``$name`` fields are filled by ``_html`` (string.Template)."""

from string import Template

# Everything the page needs is inside it. The policy lets only scripts carrying this render's
# nonce run (so markup that slipped into a label could not run an inline handler), and allows
# no network at all: the file opens offline and tells nobody it was opened.
CSP = ("default-src 'none'; script-src 'nonce-$nonce'; style-src 'unsafe-inline'; img-src data: blob:; "
       "font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'")

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="$csp">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="imgviz $version">
<title>$title</title>
</head>
<body class="imgviz-page">
$body
</body>
</html>
""")

STYLE = """
.imgviz-report { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: #1f2933; line-height: 1.45; max-width: 1180px; margin: 0 auto; padding: 8px 20px 40px;
  overflow-wrap: break-word; }
.imgviz-report * { box-sizing: border-box; }
.imgviz-report h1 { font-size: 1.6em; margin: 0.4em 0 0.1em; }
.imgviz-report h2 { font-size: 1.25em; margin: 1.8em 0 0.3em; border-bottom: 1px solid #d9e2ec; padding-bottom: 4px; }
.imgviz-report h3 { font-size: 1.0em; margin: 1.2em 0 0.3em; }
.imgviz-report .iv-sub { color: #52606d; margin: 0 0 1em; }
.imgviz-report .iv-incomplete { background: #fff3c4; border: 2px solid #b44d12; color: #3e2723; padding: .6em .8em;
  margin: 0 0 1em; overflow-wrap: anywhere; }
.imgviz-report .iv-explain { color: #3e4c59; margin: 0.3em 0 0.8em; max-width: 60em; }
.imgviz-report .iv-note { color: #7b8794; font-size: 0.88em; margin: 0.3em 0; }
.imgviz-report .iv-toc { font-size: 0.92em; margin: 0.6em 0 1em; padding: 0; }
.imgviz-report .iv-toc li { display: inline-block; margin: 0 1.1em 0.2em 0; }
.imgviz-report a { color: #2f6fb0; }
.imgviz-report code { font-family: ui-monospace, Menlo, Consolas, monospace; background: #f0f4f8; padding: 0 3px;
  border-radius: 3px; font-size: 0.92em; }
.imgviz-report dl.iv-facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0.5em 0; }
.imgviz-report dl.iv-facts dt { font-weight: 600; color: #3e4c59; }
.imgviz-report dl.iv-facts dd { margin: 0; min-width: 0; }
.imgviz-report .iv-table-wrap { overflow-x: auto; margin: 0.4em 0 0.8em; max-width: 100%; }
.imgviz-report table.iv-table { border-collapse: collapse; font-size: 0.86em; min-width: 50%; }
.imgviz-report table.iv-table th { text-align: left; background: #f0f4f8; border-bottom: 2px solid #bcccdc;
  padding: 5px 9px; white-space: nowrap; position: sticky; top: 0; }
.imgviz-report table.iv-table td { border-bottom: 1px solid #e4e7eb; padding: 4px 9px; vertical-align: top; }
.imgviz-report table.iv-table td.iv-num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
/* code wraps at spaces; a word longer than the cell breaks only where it must */
.imgviz-report table.iv-table td.iv-code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 0.95em; white-space: pre-wrap; overflow-wrap: break-word; word-break: normal; min-width: 14em;
  max-width: 46em; }
.imgviz-report table.iv-grid td.iv-code { min-width: 8em; }
.imgviz-report table.iv-grid td.iv-empty { background: #fafbfc; }
.imgviz-report table.iv-table td.iv-id { font-family: ui-monospace, Menlo, Consolas, monospace; color: #52606d; }
.imgviz-report table.iv-table tr.iv-rest td { color: #52606d; font-style: italic; }
.imgviz-report details { margin: 0.3em 0; }
.imgviz-report details.iv-fold { border: 1px solid #e4e7eb; border-radius: 6px; padding: 4px 10px; margin: 0.5em 0; }
.imgviz-report details.iv-fold[open] { padding-bottom: 8px; }
.imgviz-report summary { cursor: pointer; font-weight: 600; padding: 3px 0; }
.imgviz-report summary .iv-count { font-weight: normal; color: #7b8794; }
.imgviz-report .iv-figure { width: 100%; max-width: 100%; min-height: 200px; margin: 0.4em 0; overflow: hidden; }
.imgviz-report footer { margin-top: 3em; color: #7b8794; font-size: 0.85em; }
/* a phone: one column; each table row becomes a card of "column: value" lines, so nothing is wider
   than the screen and code wraps at spaces inside the card */
@media (max-width: 640px) {
  .imgviz-report { padding: 6px 10px 30px; font-size: 15px; }
  .imgviz-report h1 { font-size: 1.35em; }
  .imgviz-report dl.iv-facts { grid-template-columns: 1fr; gap: 0 0; }
  .imgviz-report dl.iv-facts dd { margin: 0 0 0.5em; }
  .imgviz-report .iv-table-wrap { overflow-x: visible; }
  .imgviz-report table.iv-table, .imgviz-report table.iv-table tbody, .imgviz-report table.iv-table tr,
  .imgviz-report table.iv-table td { display: block; width: 100%; min-width: 0; max-width: 100%; }
  .imgviz-report table.iv-table thead { display: none; }
  .imgviz-report table.iv-table tr { border: 1px solid #d9e2ec; border-radius: 6px; margin: 0 0 8px; padding: 4px 8px; }
  .imgviz-report table.iv-table td { border: 0; padding: 1px 0; text-align: left; white-space: normal; }
  .imgviz-report table.iv-table td.iv-num { text-align: left; }
  .imgviz-report table.iv-table td::before { content: attr(data-label) ": "; font-family: system-ui, sans-serif;
    font-weight: 600; font-style: normal; color: #52606d; }
  .imgviz-report table.iv-table td.iv-code { white-space: pre-wrap; overflow-wrap: anywhere; min-width: 0; }
  .imgviz-report table.iv-table td.iv-empty { display: none; }
}
"""

# Draws every figure from its JSON block once plotly.js is there; `Plotly` is the global plotly.js sets.
# On a narrow screen it first fits the figure to it: titles re-wrapped at spaces for the width (the top
# margin grows with them), legends moved below the plot, numbers in heatmap cells left to the hover.
RENDER = r"""
(function () {
  function wrap(text, width) {
    var words = text.split(' '), lines = [], line = '';
    for (var i = 0; i < words.length; i++) {
      var w = words[i];
      if (!w) { continue; }
      if (line && (line + ' ' + w).replace(/&[a-z#0-9]+;/gi, 'x').length > width) { lines.push(line); line = w; }
      else { line = line ? line + ' ' + w : w; }
    }
    if (line) { lines.push(line); }
    return lines;
  }
  function stackColumns(layout) {
    // a figure of two side-by-side panels (x/y and x2/y2) becomes two panels one above the other
    var x1 = layout.xaxis, x2 = layout.xaxis2, y1 = layout.yaxis, y2 = layout.yaxis2;
    if (!x1 || !x2 || !y1 || !y2 || layout.xaxis3 || !x1.domain || !x2.domain) { return; }
    if (x1.domain[1] > x2.domain[0] + 0.001) { return; }
    var mid1 = (x1.domain[0] + x1.domain[1]) / 2, mid2 = (x2.domain[0] + x2.domain[1]) / 2;
    x1.domain = [0, 1]; x2.domain = [0, 1]; x1.anchor = 'y'; x2.anchor = 'y2'; y2.anchor = 'x2';
    y1.domain = [0.58, 1]; y2.domain = [0, 0.40]; y2.showticklabels = true;
    (layout.annotations || []).forEach(function (a) {
      if (a.xref !== 'paper' || a.yref !== 'paper' || a.showarrow !== false) { return; }
      if (Math.abs(a.x - mid1) < 0.01) { a.y = 1; } else if (Math.abs(a.x - mid2) < 0.01) { a.y = 0.40; } else { return; }
      a.yanchor = 'bottom';
    });
    layout.height = Math.round((layout.height || 450) * 1.8);
  }
  function shortTicks(spec, layout) {
    // long category names (workshop/web-ping:staging) leave a phone no room for the plot: keep the
    // part after the last '/' on the axis; the hover keeps the whole name
    ['y', 'y2', 'x', 'x2'].forEach(function (ax) {
      var name = ax.charAt(0) + 'axis' + ax.slice(1), axis = layout[name];
      if (!axis) { return; }
      var cats = [];
      (spec.data || []).forEach(function (d) {
        var own = (ax.charAt(0) === 'y' ? (d.yaxis || 'y') : (d.xaxis || 'x')) === ax;
        var vals = ax.charAt(0) === 'y' ? d.y : d.x;
        if (own && vals && typeof vals[0] === 'string' && d.type !== 'icicle' && d.type !== 'sunburst') {
          for (var i = 0; i < vals.length; i++) { if (cats.indexOf(vals[i]) < 0) { cats.push(vals[i]); } }
        }
      });
      var long = cats.filter(function (c) { return c.length > 18 && c.indexOf('/') >= 0; });
      if (!long.length || axis.tickvals) { return; }
      axis.tickmode = 'array'; axis.tickvals = cats;
      axis.ticktext = cats.map(function (c) { return c.length > 18 ? c.slice(c.lastIndexOf('/') + 1) : c; });
    });
  }
  function fit(spec, width) {
    var layout = spec.layout || {};
    if (width >= 760) { return; }
    var t = layout.title && layout.title.text;
    if (t) {
      var parts = t.split('<br>'), main = [], sub = [];
      for (var i = 0; i < parts.length; i++) {
        var m = /^<sup>([\s\S]*)<\/sup>$/.exec(parts[i]);
        if (m) { sub.push(m[1]); } else { main.push(parts[i]); }
      }
      var lines = wrap(main.join(" "), Math.max(20, Math.floor((width - 30) / 10)));
      var subs = wrap(sub.join(" "), Math.max(28, Math.floor((width - 30) / 7.2)));
      layout.title.text = lines.concat(subs.map(function (s) { return '<sup>' + s + '</sup>'; })).join('<br>');
      var top = 48 + 24 * lines.length + 17 * subs.length;
      layout.margin = layout.margin || {};
      var old = layout.margin.t || 80;
      if (top > old) { layout.height = (layout.height || 450) + (top - old); layout.margin.t = top; }
    }
    stackColumns(layout);
    if (layout.xaxis2 && layout.xaxis && layout.xaxis.title) {
      // two panels one above the other: the upper axis title would meet the lower panel's title;
      // its ticks carry the unit
      layout.xaxis.title = {text: ''};
    }
    if (width < 560) { shortTicks(spec, layout); }
    Object.keys(layout).forEach(function (k) {
      var axis = layout[k];
      if (!/^[xy]axis[0-9]*$/.test(k) || !axis || !axis.title || typeof axis.title.text !== 'string') { return; }
      axis.title.text = axis.title.text.replace(/, 1 [KMGT]?B = [0-9,]+ bytes/, '');
    });
    (layout.annotations || []).forEach(function (a) {
      // subplot titles: right-aligned on the plot (the names on the left take the rest), wrapped to fit
      if (typeof a.text !== 'string' || a.xref !== 'paper' || a.yref !== 'paper' || a.showarrow !== false) { return; }
      a.x = 1; a.xanchor = 'right'; a.align = 'right';
      var room = Math.max(16, Math.floor((width - 150) / 7.5));
      if (a.text.length > room) { a.text = wrap(a.text, room).join('<br>'); }
      a.font = Object.assign({}, a.font || {}, {size: 13});
    });
    if (layout.showlegend !== false) {
      var legend = layout.legend || {};
      if (legend.yref !== 'container') {
        layout.legend = {orientation: 'h', x: 0, xanchor: 'left', y: 0, yanchor: 'bottom', yref: 'container'};
        layout.margin = layout.margin || {};
        layout.margin.b = (layout.margin.b || 40) + 60;
        layout.height = (layout.height || 450) + 60;
      }
    }
    (spec.data || []).forEach(function (d) {
      if (d.type !== 'heatmap') { return; }
      if (d.x && width / d.x.length < 56) { d.texttemplate = ''; }
      d.colorbar = Object.assign({}, d.colorbar || {}, {orientation: 'h', x: 0, xanchor: 'left', y: -0.08,
                                                     yanchor: 'top', thickness: 12, len: 1});
      layout.xaxis = Object.assign({}, layout.xaxis || {}, {showticklabels: false});
      layout.margin = layout.margin || {};
      layout.margin.b = (layout.margin.b || 40) + 50;
    });
  }
  function draw() {
    var blocks = document.querySelectorAll('script[type="application/json"][data-imgviz-figure]');
    for (var i = 0; i < blocks.length; i++) {
      var el = document.getElementById(blocks[i].getAttribute('data-imgviz-figure'));
      if (!el || el.getAttribute('data-drawn')) { continue; }
      var spec = JSON.parse(blocks[i].textContent);
      fit(spec, el.clientWidth || window.innerWidth);
      el.setAttribute('data-drawn', '1');
      Plotly.newPlot(el, spec.data, spec.layout, {responsive: true, displaylogo: false});
    }
    var frame = window.frameElement;
    if (frame && frame.getAttribute('data-imgviz-frame')) {
      frame.style.height = (document.documentElement.scrollHeight + 24) + 'px';
    }
  }
  if (window.Plotly) { draw(); } else { window.addEventListener('load', draw); }
})();
"""
