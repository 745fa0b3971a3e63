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
  color: #1f2933; line-height: 1.45; max-width: 1180px; margin: 0 auto; padding: 8px 20px 40px; }
.imgviz-report h1 { font-size: 1.6em; margin: 0.4em 0 0.1em; }
.imgviz-report h2 { font-size: 1.25em; margin: 1.8em 0 0.3em; border-bottom: 1px solid #d9e2ec; padding-bottom: 4px; }
.imgviz-report h3 { font-size: 1.0em; margin: 1.2em 0 0.3em; }
.imgviz-report .iv-sub { color: #52606d; margin: 0 0 1em; }
.imgviz-report .iv-explain { color: #3e4c59; margin: 0.3em 0 0.8em; max-width: 60em; }
.imgviz-report .iv-note { color: #7b8794; font-size: 0.88em; margin: 0.3em 0; }
.imgviz-report .iv-toc { font-size: 0.92em; margin: 0.6em 0 1em; padding: 0; }
.imgviz-report .iv-toc li { display: inline; margin-right: 1.1em; }
.imgviz-report a { color: #2f6fb0; }
.imgviz-report code { font-family: ui-monospace, Menlo, Consolas, monospace; background: #f0f4f8; padding: 0 3px; border-radius: 3px; font-size: 0.92em; }
.imgviz-report dl.iv-facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0.5em 0; }
.imgviz-report dl.iv-facts dt { font-weight: 600; color: #3e4c59; }
.imgviz-report dl.iv-facts dd { margin: 0; }
.imgviz-report .iv-table-wrap { overflow-x: auto; margin: 0.4em 0 0.8em; }
.imgviz-report table.iv-table { border-collapse: collapse; font-size: 0.86em; min-width: 50%; }
.imgviz-report table.iv-table th { text-align: left; background: #f0f4f8; border-bottom: 2px solid #bcccdc;
  padding: 5px 9px; white-space: nowrap; position: sticky; top: 0; }
.imgviz-report table.iv-table td { border-bottom: 1px solid #e4e7eb; padding: 4px 9px; vertical-align: top; }
.imgviz-report table.iv-table td.iv-num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.imgviz-report table.iv-table td.iv-code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 0.95em; white-space: pre-wrap; overflow-wrap: anywhere; max-width: 46em; }
.imgviz-report table.iv-table td.iv-id { font-family: ui-monospace, Menlo, Consolas, monospace; color: #52606d; }
.imgviz-report table.iv-table tr.iv-rest td { color: #52606d; font-style: italic; }
.imgviz-report details { margin: 0.3em 0; }
.imgviz-report summary { cursor: pointer; font-weight: 600; }
.imgviz-report .iv-figure { width: 100%; min-height: 200px; }
.imgviz-report footer { margin-top: 3em; color: #7b8794; font-size: 0.85em; }
"""

# Draws every figure from its JSON block once plotly.js is there; `Plotly` is the global plotly.js sets.
RENDER = """
(function () {
  function draw() {
    var blocks = document.querySelectorAll('script[type="application/json"][data-imgviz-figure]');
    for (var i = 0; i < blocks.length; i++) {
      var el = document.getElementById(blocks[i].getAttribute('data-imgviz-figure'));
      if (!el || el.getAttribute('data-drawn')) { continue; }
      var spec = JSON.parse(blocks[i].textContent);
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
